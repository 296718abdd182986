/*
 * ctl.h: what the three files of nfctl share: the options, the connection
 * and the context a command runs with (main.c), the connection calls
 * (conn.c) and the renderers (fmt.c).  nfctl only; nothing here is seen by
 * another program.
 */
#ifndef NF_CTL_H
#define NF_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "util.h"
#include "val.h"

#ifndef NF_RUNSTATEDIR
#define NF_RUNSTATEDIR	"/run/nomaflow"
#endif

#define NFCTL_SOCKET_ENV	"NOMAFLOW_SOCKET"
#define NFCTL_SOCKET_NAME	"nomaflowd.sock"
/*
 * How long to wait for the handshake or a response.  A daemon that accepts
 * but never answers is hung; the operator is better served by exit 69 than
 * by a terminal that never comes back.  Follow streams wait forever: a
 * step may be silent for hours.
 */
#define NFCTL_TIMEOUT_MS	60000
#define NFCTL_MAXPOS		4
/* Width of a truncated column when stdout is not a terminal. */
#define NFCTL_FLEX_PIPE		60
#define NFCTL_FLEX_MIN		16
/* Rows of a step output shown as a table before "N more rows". */
#define NFCTL_OUTPUT_ROWS	50

/* The parsed command line (main.c). */
struct opts {
	const char	*socket;
	int		 json, help, version, follow, force, dry_run;
	const char	*tag, *search, *job, *state, *since, *limit, *count;
	const char	*preset, *tz, *from, *user, *before;
	struct nf_val	*params;	/* map str->str from -p, or NULL */
	unsigned	 seen;		/* OPTB() of every option given */
	char		*pos[NFCTL_MAXPOS];
	int		 npos;
};

/* The one connection to the control socket (conn.c). */
struct conn {
	int			 fd;
	const char		*path;
	struct nf_msg_reader	 rd;
	int64_t			 next_id;
};

/* What a command runs with. */
struct ctx {
	struct opts	*o;
	struct conn	*c;
	char		**args;		/* positionals after the command */
	int		 tty;		/* stdout is a terminal */
	int		 cols;		/* terminal width, 0 if unknown */
};

/* fmt.c: messages, text made safe for a terminal, times, tables, JSON. */

/* "nfctl: <message>" on stderr, after flushing stdout. */
void	errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How much layout text_clean() keeps (see fmt.c). */
enum clean {
	CLEAN_ONELINE,
	CLEAN_LINE,
	CLEAN_BLOCK,
};
char	*text_clean(const char *s, enum clean mode);

void	fmt_time(int64_t ms, char *buf, size_t len);
void	fmt_clock(int64_t ms, char *buf, size_t len);
void	fmt_seconds(int64_t s, char *buf, size_t len);

/* Fields of a response map; a missing map or key gives dflt / 0 / NULL. */
const char		*vstr(const struct nf_val *m, const char *k,
			    const char *dflt);
int			 vint(const struct nf_val *m, const char *k,
			    int64_t *out);
const struct nf_val	*vget(const struct nf_val *m, const char *k,
			    enum nf_val_type t);
/* Values as one line of text (caller frees). */
char	*val_text(const struct nf_val *v);
char	*time_text(const struct nf_val *m, const char *k, int seconds);
char	*span_text(const struct nf_val *m, const char *from, const char *to);
char	*list_text(const struct nf_val *arr);

struct table {
	size_t		  ncol;
	const char	**head;
	const char	 *align;	/* 'l' or 'r' per column */
	int		  flex;		/* column cut to fit, -1 none */
	char		**cell;		/* nrow * ncol, owned */
	size_t		  nrow, cap;
};
void	table_init(struct table *t, const char **head, size_t ncol,
	    const char *align, int flex);
void	table_row(struct table *t, char **cells);
void	table_print(struct table *t, const struct ctx *x, const char *indent);
void	table_free(struct table *t);

/* "  label:  value" lines of the detail views. */
void	field(const char *label, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	print_json(const struct nf_val *v, int indent);
void	print_log_line(const struct ctx *x, const struct nf_val *l);
void	print_state_event(int64_t run_id, const struct nf_val *data);
void	print_output(const struct ctx *x, const struct nf_val *o);
const char	*signame(int64_t sig);

/* conn.c: connect, HELLO, request/response, the follow stream. */
void	conn_init(struct conn *c, const char *path);
void	conn_close(struct conn *c);
int	request(struct ctx *x, const char *cmd, struct nf_val *args,
	    struct nf_val **data, int64_t *idp);
int	expect(const struct nf_val *data, enum nf_val_type t,
	    const char *cmd);
int	follow(struct ctx *x, int64_t run_id);

#endif
