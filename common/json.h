/*
 * json.h: JSON text <-> nf_val (common/json.c, the only module that
 * includes jansson.h).  Used by the supervisor (stored outputs and params),
 * nfctl (--json), templates (a value rendered as text) and the workers (the
 * http step's bodies, the python runner's channel).
 *
 * Readers are strict RFC 8259 (UTF-8, no trailing text) and bounded in
 * nesting; errors say where: "line 3 column 7: ...".
 */
#ifndef NF_JSON_H
#define NF_JSON_H

#include <stddef.h>

#include "util.h"
#include "val.h"

/* Nesting limit of nf_json_read (what nf_json_write can produce reads back). */
#define NF_JSON_MAX_DEPTH	64

/*
 * Call once before a sandbox: jansson seeds its hash function from
 * /dev/urandom the first time an object is made, and a sandboxed worker
 * cannot open it.
 */
void		 nf_json_init(void);

/*
 * Text from outside (an HTTP response).  At most max_depth levels of
 * arrays/objects and max_values values in all, object keys counted as
 * values (as a frame's decoder counts them), so that the tree fits one
 * frame.  A key repeated in an object: the last one wins, as in most
 * readers.  NULL with a message in err on a syntax error or a limit.
 */
struct nf_val	*nf_json_parse(const char *text, size_t len, int max_depth,
		    size_t max_values, char *err, size_t errlen);

/*
 * Text we or our python runner wrote (stored outputs, the runner's
 * records): at most NF_JSON_MAX_DEPTH levels, and a key repeated in an
 * object is an error.  NULL with a message in err.
 */
struct nf_val	*nf_json_read(const char *text, size_t len, char *err,
		    size_t errlen);

/*
 * Compact JSON text of v into b, for a peer that must get exactly v (the
 * http step's body).  Binary values, non-finite floats and text that is
 * not UTF-8 cannot be sent: -1 with a message in err naming the path below
 * name ("body.a[2]").
 */
int		 nf_json_encode(const struct nf_val *v, const char *name,
		    struct nf_buf *b, char *err, size_t errlen);

/*
 * JSON text of v for people and for storage; never fails.  Binary is
 * written as a base64 string, non-finite floats as null, bytes that are not
 * UTF-8 as U+FFFD.  indent < 0: compact; else pretty-printed with that many
 * spaces (at most 31).
 */
void		 nf_json_write(const struct nf_val *, struct nf_buf *,
		    int indent);
char		*nf_json_text(const struct nf_val *, int indent);

#endif
