/*
 * json.h: JSON text <-> nf_val for the worker's steps (worker/json.c, the
 * worker's only user of jansson).
 *
 * Parsing is for text from outside (an HTTP response): it is bounded in
 * nesting and in the number of values, so that what comes out always fits
 * in one OUTPUT frame's decoder limits (common/proto.h).
 */
#ifndef NF_JSON_H
#define NF_JSON_H

#include <stddef.h>

#include "util.h"
#include "val.h"

/*
 * Call once before the sandbox: jansson seeds its hash function from
 * /dev/urandom the first time an object is made.
 */
void		 nf_json_init(void);

/*
 * Parse one JSON document (any value at the top).  At most max_depth
 * levels of arrays/objects and max_values values in all, object keys
 * counted as values (as a frame's decoder counts them).  NULL with a
 * message in err ("line 3 column 7: ...") on a syntax error or a limit.
 */
struct nf_val	*nf_json_parse(const char *text, size_t len, int max_depth,
		    size_t max_values, char *err, size_t errlen);

/*
 * Compact JSON text of v into b.  Binary values and non-finite floats
 * cannot be sent: -1 with a message in err naming the path below name
 * ("body.a[2]").
 */
int		 nf_json_encode(const struct nf_val *v, const char *name,
		    struct nf_buf *b, char *err, size_t errlen);

#endif
