/*
 * fmt.c: how nfctl shows things.  Runs in nfctl only.
 *
 * Owns the human rendering of the daemon's answers (tables sized to the
 * terminal, local times, durations, log lines, step outputs), the --json
 * output and nfctl's error messages.
 *
 * Invariant: text that came over the wire (descriptions, errors, log
 * lines) is printed through text_clean(), with control characters
 * neutralised, so a job's output cannot drive the operator's terminal.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "json.h"
#include "proto.h"
#include "util.h"
#include "val.h"

/* Messages. */

void
errmsg(const char *fmt, ...)
{
	va_list	ap;

	/* Flush first so the error lands after what was already printed. */
	fflush(stdout);
	fputs("nfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Output helpers. */

/* Count display columns of UTF-8 text: one per code point. */
static size_t
text_width(const char *s)
{
	size_t	w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Copy of s cut to at most w columns, with "..." when cut. */
static char *
text_cut(const char *s, size_t w)
{
	const char	*p;
	size_t		 n = 0;

	if (text_width(s) <= w)
		return nf_xstrdup(s);
	if (w < 4)
		w = 4;
	for (p = s; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80) {
			if (n == w - 3)
				break;
			n++;
		}
	}
	return nf_xprintf("%.*s...", (int)(p - s), s);
}

/*
 * Text from the wire, made safe for a terminal: control characters become
 * '?', so an ESC in a job's description or output cannot reach the
 * terminal.  CLEAN_ONELINE also turns line breaks and tabs into spaces (a
 * table cell); CLEAN_LINE keeps tabs (a log line); CLEAN_BLOCK keeps tabs
 * and newlines (a step's text output).
 */
char *
text_clean(const char *s, enum clean mode)
{
	char	*r, *p;

	r = nf_xstrdup(s);
	for (p = r; *p != '\0'; p++) {
		unsigned char c = *p;

		if (c == '\t' && mode != CLEAN_ONELINE)
			continue;
		if (c == '\n' && mode == CLEAN_BLOCK)
			continue;
		if ((c == '\n' || c == '\r' || c == '\t') &&
		    mode == CLEAN_ONELINE)
			*p = ' ';
		else if (c < 0x20 || c == 0x7f)
			*p = '?';
	}
	return r;
}

void
fmt_time(int64_t ms, char *buf, size_t len)
{
	nf_fmt_time_local(ms, buf, len);
}

/* "HH:MM:SS.mmm" local. */
static void
fmt_clock_ms(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "??:??:??.???");
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(ms % 1000));
}

/* "HH:MM:SS" local. */
void
fmt_clock(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);

	if (localtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "??:??:??");
	else
		strftime(buf, len, "%H:%M:%S", &tm);
}

/* Whole seconds from config ("timeout_seconds"): 30s, 5m, 1h30m. */
void
fmt_seconds(int64_t s, char *buf, size_t len)
{
	if (s % 3600 == 0 && s >= 3600)
		snprintf(buf, len, "%" PRId64 "h", s / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
		    (s % 3600) / 60);
	else if (s % 60 == 0 && s >= 60)
		snprintf(buf, len, "%" PRId64 "m", s / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

const char *
vstr(const struct nf_val *m, const char *k, const char *dflt)
{
	const char	*s;

	s = m != NULL ? nf_val_get_str(m, k) : NULL;
	return s != NULL && *s != '\0' ? s : dflt;
}

int
vint(const struct nf_val *m, const char *k, int64_t *out)
{
	return m != NULL && nf_val_get_int(m, k, out);
}

const struct nf_val *
vget(const struct nf_val *m, const char *k, enum nf_val_type t)
{
	const struct nf_val	*v;

	if (m == NULL || m->type != NF_V_MAP)
		return NULL;
	v = nf_val_get(m, k);
	return v != NULL && v->type == t ? v : NULL;
}

/* Any value as one line of text (caller frees). */
char *
val_text(const struct nf_val *v)
{
	char	*j, *r;

	if (v == NULL)
		return nf_xstrdup("-");
	switch (v->type) {
	case NF_V_NIL:
		return nf_xstrdup("-");
	case NF_V_BOOL:
		return nf_xstrdup(v->u.b ? "yes" : "no");
	case NF_V_INT:
		return nf_xprintf("%" PRId64, v->u.i);
	case NF_V_FLOAT:
		return nf_xprintf("%g", v->u.f);
	case NF_V_STR:
		return text_clean(v->u.s.p, CLEAN_ONELINE);
	default:
		j = nf_json_text(v, -1);
		r = text_clean(j, CLEAN_ONELINE);
		free(j);
		return r;
	}
}

/* Key ms-time as local text, or "-". */
char *
time_text(const struct nf_val *m, const char *k, int seconds)
{
	char	buf[64];
	int64_t	t;

	if (!vint(m, k, &t))
		return nf_xstrdup("-");
	fmt_time(seconds ? t * 1000 : t, buf, sizeof(buf));
	return nf_xstrdup(buf);
}

/* Duration between two ms keys; a missing end means "until now". */
char *
span_text(const struct nf_val *m, const char *from, const char *to)
{
	char	buf[32];
	int64_t	a, b;

	if (!vint(m, from, &a))
		return nf_xstrdup("-");
	if (!vint(m, to, &b))
		b = nf_now_ms();
	nf_fmt_duration(b - a, buf, sizeof(buf));
	return nf_xstrdup(buf);
}

/* "a, b, c" from an array of strings (or any values). */
char *
list_text(const struct nf_val *arr)
{
	struct nf_buf	 b;
	char		*s;
	size_t		 i;

	if (arr == NULL || arr->type != NF_V_ARR || arr->u.a.n == 0)
		return nf_xstrdup("-");
	nf_buf_init(&b);
	for (i = 0; i < arr->u.a.n; i++) {
		s = val_text(arr->u.a.items[i]);
		if (i > 0)
			nf_buf_adds(&b, ", ");
		nf_buf_adds(&b, s);
		free(s);
	}
	return nf_buf_steal(&b);
}

/* Tables. */

void
table_init(struct table *t, const char **head, size_t ncol,
    const char *align, int flex)
{
	memset(t, 0, sizeof(*t));
	t->head = head;
	t->ncol = ncol;
	t->align = align;
	t->flex = flex;
}

/* Append a row; takes ownership of the ncol strings. */
void
table_row(struct table *t, char **cells)
{
	size_t	i;

	if (t->nrow == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->cell = nf_xreallocarray(t->cell, t->cap,
		    t->ncol * sizeof(char *));
	}
	for (i = 0; i < t->ncol; i++) {
		t->cell[t->nrow * t->ncol + i] = text_clean(cells[i],
		    CLEAN_ONELINE);
		free(cells[i]);
	}
	t->nrow++;
}

void
table_free(struct table *t)
{
	size_t	i;

	for (i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
}

static void
put_padded(struct nf_buf *b, const char *s, size_t w, int right)
{
	size_t	n = text_width(s);

	if (right)
		for (; n < w; n++)
			nf_buf_addc(b, ' ');
	nf_buf_adds(b, s);
	if (!right)
		for (; n < w; n++)
			nf_buf_addc(b, ' ');
}

/* Print one table line without trailing blanks (empty last cells). */
static void
put_line(struct nf_buf *b)
{
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->len--;
	fwrite(b->data, 1, b->len, stdout);
	putchar('\n');
	nf_buf_reset(b);
}

/*
 * Columns as wide as their widest cell, two spaces apart, the last one
 * unpadded.  The flex column (a description or an error) is cut so the
 * line fits the terminal, or to NFCTL_FLEX_PIPE columns into a pipe.
 */
void
table_print(struct table *t, const struct ctx *x, const char *indent)
{
	struct nf_buf	 b;
	size_t		*w, i, r, used, room;
	char		*cut;

	w = nf_xcalloc(t->ncol, sizeof(*w));
	for (i = 0; i < t->ncol; i++)
		w[i] = text_width(t->head[i]);
	for (r = 0; r < t->nrow; r++)
		for (i = 0; i < t->ncol; i++)
			if (text_width(t->cell[r * t->ncol + i]) > w[i])
				w[i] = text_width(t->cell[r * t->ncol + i]);
	if (t->flex >= 0) {
		room = NFCTL_FLEX_PIPE;
		if (x->tty && x->cols > 0) {
			used = strlen(indent);
			for (i = 0; i < t->ncol; i++)
				if ((int)i != t->flex)
					used += w[i] + 2;
			room = (size_t)x->cols > used + NFCTL_FLEX_MIN ?
			    (size_t)x->cols - used : NFCTL_FLEX_MIN;
		}
		if (w[t->flex] > room) {
			for (r = 0; r < t->nrow; r++) {
				cut = text_cut(t->cell[r * t->ncol + t->flex],
				    room);
				free(t->cell[r * t->ncol + t->flex]);
				t->cell[r * t->ncol + t->flex] = cut;
			}
			w[t->flex] = room;
		}
	}
	nf_buf_init(&b);
	nf_buf_adds(&b, indent);
	for (i = 0; i < t->ncol; i++) {
		if (i > 0)
			nf_buf_adds(&b, "  ");
		put_padded(&b, t->head[i], w[i], t->align[i] == 'r');
	}
	put_line(&b);
	for (r = 0; r < t->nrow; r++) {
		nf_buf_adds(&b, indent);
		for (i = 0; i < t->ncol; i++) {
			if (i > 0)
				nf_buf_adds(&b, "  ");
			put_padded(&b, t->cell[r * t->ncol + i], w[i],
			    t->align[i] == 'r');
		}
		put_line(&b);
	}
	nf_buf_free(&b);
	free(w);
}

/* "  label:  value" lines of the detail views. */
void
field(const char *label, const char *fmt, ...)
{
	struct nf_buf	 b;
	va_list		 ap;
	char		*s;

	nf_buf_init(&b);
	va_start(ap, fmt);
	nf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	s = text_clean(b.data, CLEAN_ONELINE);
	printf("  %-12s %s\n", label, s);
	free(s);
	nf_buf_free(&b);
}

void
print_json(const struct nf_val *v, int indent)
{
	struct nf_buf	b;
	struct nf_val	*nil = NULL;

	if (v == NULL)
		v = nil = nf_val_nil();
	nf_buf_init(&b);
	nf_json_write(v, &b, indent);
	fwrite(b.data, 1, b.len, stdout);
	putchar('\n');
	nf_buf_free(&b);
	nf_val_free(nil);
}

/*
 * Print one log line: "HH:MM:SS.mmm step[attempt] stream: line".  Lines
 * of stderr, and error-level lines, are marked: the stream name is in
 * capitals ("STDERR:"), bold red on a terminal, so they stand out in a
 * pager and survive grep.  A worker's own warnings carry their level.
 */
void
print_log_line(const struct ctx *x, const struct nf_val *l)
{
	const char	*stream, *level;
	struct nf_buf	 b;
	char		 ts[32], *line, *p;
	int64_t		 t, attempt;
	int		 err;

	if (l == NULL || l->type != NF_V_MAP)
		return;
	if (vint(l, "ts", &t))
		fmt_clock_ms(t, ts, sizeof(ts));
	else
		snprintf(ts, sizeof(ts), "%12s", "-");
	stream = vstr(l, "stream", "-");
	level = vstr(l, "level", NULL);
	err = strcmp(stream, "stderr") == 0 ||
	    (level != NULL && strcmp(level, "error") == 0);
	nf_buf_init(&b);
	/* Run-level lines (the supervisor's own) have no step. */
	nf_buf_printf(&b, "%s ", ts);
	if (vstr(l, "step", NULL) != NULL) {
		nf_buf_adds(&b, vstr(l, "step", "-"));
		if (vint(l, "attempt", &attempt))
			nf_buf_printf(&b, "[%" PRId64 "]", attempt);
		nf_buf_addc(&b, ' ');
	}
	line = text_clean(b.data, CLEAN_ONELINE);
	fputs(line, stdout);
	free(line);

	nf_buf_reset(&b);
	nf_buf_printf(&b, "%s:", stream);
	if (err)
		for (p = b.data; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = *p - 'a' + 'A';
	line = text_clean(b.data, CLEAN_ONELINE);
	if (err && x->tty)
		printf("\033[1;31m%s\033[0m ", line);
	else
		printf("%s ", line);
	free(line);
	nf_buf_free(&b);

	/* Worker lines and python logging records carry a level. */
	if (level != NULL && strcmp(level, "info") != 0) {
		line = text_clean(level, CLEAN_ONELINE);
		printf("%s: ", line);
		free(line);
	}
	line = text_clean(vstr(l, "line", ""), CLEAN_LINE);
	printf("%s\n", line);
	free(line);
}

/* A "state" event: "HH:MM:SS.mmm run #17 state: running (step load)". */
void
print_state_event(int64_t run_id, const struct nf_val *data)
{
	const struct nf_val	*pr;
	struct nf_buf	 b;
	char		 ts[32], *s;
	int64_t		 n, rate, ms;

	fmt_clock_ms(nf_now_ms(), ts, sizeof(ts));
	nf_buf_init(&b);
	if (data != NULL && data->type == NF_V_MAP &&
	    vstr(data, "state", NULL) != NULL) {
		nf_buf_printf(&b, "run #%" PRId64 " state: %s", run_id,
		    vstr(data, "state", ""));
		if (vstr(data, "step", NULL) != NULL)
			nf_buf_printf(&b, " (step %s)", vstr(data, "step", ""));
		pr = nf_val_get(data, "progress");
		/* sql_copy: "progress: 250000 rows, 180000 rows/s, 1.4 s". */
		if (nf_val_get_int(pr, "rows", &n)) {
			nf_buf_printf(&b, " progress: %" PRId64 " rows", n);
			if (nf_val_get_int(pr, "rate", &rate))
				nf_buf_printf(&b, ", %" PRId64 " rows/s", rate);
			if (nf_val_get_int(pr, "elapsed_ms", &ms))
				nf_buf_printf(&b, ", %.1f s",
				    (double)ms / 1000.);
		}
	} else {
		s = val_text(data);
		nf_buf_printf(&b, "run #%" PRId64 ": %s", run_id, s);
		free(s);
	}
	s = text_clean(b.data, CLEAN_ONELINE);
	printf("%s %s\n", ts, s);
	free(s);
	nf_buf_free(&b);
}

const char *
signame(int64_t sig)
{
	static const struct {
		int		 sig;
		const char	*name;
	} sigs[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" },
		{ SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
		{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
		{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" },
		{ SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },
		{ SIGTERM, "SIGTERM" }, { SIGXCPU, "SIGXCPU" },
		{ SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};
	size_t	i;

	for (i = 0; i < NF_NELEM(sigs); i++)
		if (sigs[i].sig == sig)
			return sigs[i].name;
	return NULL;
}

/* An output that is an array of maps: rows, shown as a table. */
static int
output_is_rows(const struct nf_val *o)
{
	size_t	i;

	if (o->type != NF_V_ARR || o->u.a.n == 0)
		return 0;
	for (i = 0; i < o->u.a.n; i++)
		if (o->u.a.items[i]->type != NF_V_MAP)
			return 0;
	return o->u.a.items[0]->u.m.n > 0;
}

void
print_output(const struct ctx *x, const struct nf_val *o)
{
	const struct nf_val	*first, *row, *cell;
	struct table		 t;
	char			**head, **cells, *s, *p, *nl;
	size_t			 i, k, n;

	if (o->type == NF_V_STR) {
		s = text_clean(o->u.s.p, CLEAN_BLOCK);
		for (p = s; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			if (nl == NULL) {
				printf("  %s\n", p);
				break;
			}
			printf("  %.*s\n", (int)(nl - p), p);
		}
		free(s);
		return;
	}
	if (!output_is_rows(o)) {
		s = nf_json_text(o, 2);
		p = text_clean(s, CLEAN_BLOCK);
		/* Indent the JSON by two to sit under its heading. */
		printf("  ");
		for (i = 0; p[i] != '\0'; i++) {
			putchar(p[i]);
			if (p[i] == '\n')
				printf("  ");
		}
		putchar('\n');
		free(p);
		free(s);
		return;
	}
	/* Columns are the first row's keys; a row lacking one shows "-". */
	first = o->u.a.items[0];
	head = nf_xcalloc(first->u.m.n, sizeof(*head));
	for (k = 0; k < first->u.m.n; k++)
		head[k] = text_clean(first->u.m.kv[k].key, CLEAN_ONELINE);
	/* Numbers right-aligned, by the first row's types. */
	s = nf_xcalloc(first->u.m.n + 1, 1);
	for (k = 0; k < first->u.m.n; k++) {
		cell = first->u.m.kv[k].val;
		s[k] = cell->type == NF_V_INT || cell->type == NF_V_FLOAT ?
		    'r' : 'l';
	}
	table_init(&t, (const char **)head, first->u.m.n, s, -1);
	n = o->u.a.n < NFCTL_OUTPUT_ROWS ? o->u.a.n : NFCTL_OUTPUT_ROWS;
	for (i = 0; i < n; i++) {
		row = o->u.a.items[i];
		cells = nf_xcalloc(first->u.m.n, sizeof(*cells));
		for (k = 0; k < first->u.m.n; k++) {
			cells[k] = val_text(nf_val_get(row,
			    first->u.m.kv[k].key));
			if (text_width(cells[k]) > NFCTL_FLEX_PIPE) {
				p = text_cut(cells[k], NFCTL_FLEX_PIPE);
				free(cells[k]);
				cells[k] = p;
			}
		}
		table_row(&t, cells);
		free(cells);
	}
	table_print(&t, x, "  ");
	if (o->u.a.n > n)
		printf("  ... %zu more rows (nfctl --json run show shows "
		    "them all)\n", o->u.a.n - n);
	table_free(&t);
	free(s);
	for (k = 0; k < first->u.m.n; k++)
		free(head[k]);
	free(head);
}
