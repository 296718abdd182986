/*
 * toml.c: the TOML 1.0 parser behind nomaflow.toml and the jobs.d files.
 * Runs wherever configuration is read: nomaflowd (start and reload), nfctl
 * and "nomaflowd -n"; it is also a fuzz target, so it must survive any
 * input.
 *
 * Invariants:
 *  - The whole document is checked to be UTF-8 without a bare CR before
 *    parsing starts, so the lexer only sees valid code points and may treat
 *    every CR as the first half of a CRLF.
 *  - Every node is allocated as a struct tnode whose first member is the
 *    public struct nf_toml_value: the parser keeps its bookkeeping (how a
 *    table was defined, capacity of arrays) next to the value without
 *    changing the public tree, and free() of either view is the same.
 *    nf_toml_get() uses the key index kept there, so it must only be given
 *    tables that this parser built (the only way to get one).
 *  - No node is deeper than TOML_MAX_DEPTH below the root, so the parser's
 *    recursion, nf_toml_free() and any caller walking the tree are bounded
 *    whatever the input.
 *  - On error nothing is returned: the partial tree is freed and err holds
 *    the first error as "file:line:col: message".  No global state.
 *
 * Lines and columns are 1-based; columns count characters, not bytes.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toml.h"
#include "tz.h"
#include "util.h"

#define TOML_MAX_DEPTH	128
/* Configuration files are small; a bigger file is a mistake. */
#define TOML_MAX_FILE	(16 * 1024 * 1024)

/* tnode flags */
#define TF_HEADER	0x01	/* defined by [header] or [[header]] */
#define TF_FROZEN	0x02	/* inline table or inside one: immutable */
#define TF_AOT		0x04	/* array created by [[header]] */

/* Below this many keys a linear scan is as fast as hashing. */
#define TAB_INDEX_MIN	16

struct tnode {
	struct nf_toml_value	 v;	/* first: the public view */
	size_t			 cap;	/* of arr.items or tab.kv */
	int			 flags;
	/*
	 * Section (1 + number of headers seen before it) whose dotted keys
	 * created or extended this table; 0 if none.  Dotted keys may only
	 * extend a table within the section that started it.
	 */
	unsigned		 dsec;
	int			 depth;	/* root is 0 */
	/*
	 * Tables with many keys get an open-addressing index into u.tab.kv
	 * (slot holds position + 1, 0 is empty; load at most one half) so
	 * that a file with many keys cannot make loading quadratic.
	 */
	size_t			*idx;
	size_t			 idxcap;	/* a power of two, or 0 */
};

struct keypart {
	char	*s;
	size_t	 len;
	int	 line, col;
};

struct key {
	struct keypart	*parts;
	size_t		 n, cap;
};

struct parser {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 line, col;	/* of buf[pos] */
	const char	*file;
	char		*err;
	size_t		 errlen;
	int		 failed;
	unsigned	 section;
	struct tnode	*root;
	struct tnode	*cur;	/* table that key/values go into */
};

static int	parse_value(struct parser *, int, struct tnode **);
static int	parse_keyval(struct parser *, struct tnode *);

/* Errors */

static int __attribute__((format(printf, 4, 0)))
verr_at(struct parser *p, int line, int col, const char *fmt, va_list ap)
{
	char	msg[768];

	if (p->failed)
		return -1;
	p->failed = 1;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->file, line, col,
		    msg);
	return -1;
}

static int __attribute__((format(printf, 4, 5)))
err_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	verr_at(p, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at the current position. */
static int __attribute__((format(printf, 2, 3)))
err_here(struct parser *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	verr_at(p, p->line, p->col, fmt, ap);
	va_end(ap);
	return -1;
}

/* Lexer primitives */

static int
peekc(const struct parser *p, size_t off)
{
	if (off >= p->len - p->pos)
		return -1;
	return (unsigned char)p->buf[p->pos + off];
}

static void
adv(struct parser *p)
{
	unsigned char	c;

	c = (unsigned char)p->buf[p->pos++];
	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else if ((c & 0xc0) != 0x80)
		p->col++;
}

static void
advn(struct parser *p, size_t n)
{
	while (n-- > 0)
		adv(p);
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    is_digit(c) || c == '_' || c == '-';
}

/* Control characters are banned everywhere except tab. */
static int
is_ctrl(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* A newline starts here (CR is always followed by LF, see utf8_check). */
static int
at_nl(const struct parser *p)
{
	int	c = peekc(p, 0);

	return c == '\n' || c == '\r';
}

static void
skip_nl(struct parser *p)
{
	if (peekc(p, 0) == '\r')
		adv(p);
	adv(p);
}

static void
skip_ws(struct parser *p)
{
	int	c;

	while ((c = peekc(p, 0)) == ' ' || c == '\t')
		adv(p);
}

/* Describe the character at the current position for a message. */
static const char *
desc_here(const struct parser *p, char *buf, size_t len)
{
	int	c = peekc(p, 0);

	if (c == -1)
		snprintf(buf, len, "end of file");
	else if (c == '\n' || c == '\r')
		snprintf(buf, len, "end of line");
	else if (c == '\'')
		snprintf(buf, len, "\"'\"");
	else if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else if (c == ' ')
		snprintf(buf, len, "a space");
	else if (c < 0x80)
		snprintf(buf, len, "control character U+%04X", (unsigned)c);
	else
		snprintf(buf, len, "a non-ASCII character");
	return buf;
}

static int
skip_comment(struct parser *p)
{
	int	c;

	adv(p);		/* '#' */
	while ((c = peekc(p, 0)) != -1 && !at_nl(p)) {
		if (is_ctrl(c))
			return err_here(p, "control character U+%04X in a "
			    "comment; delete it (only tab is allowed)",
			    (unsigned)c);
		adv(p);
	}
	return 0;
}

/* Whitespace, comments and newlines: what may separate array elements. */
static int
skip_wscnl(struct parser *p)
{
	int	c;

	for (;;) {
		skip_ws(p);
		c = peekc(p, 0);
		if (c == '#') {
			if (skip_comment(p) == -1)
				return -1;
		} else if (c == '\n' || c == '\r')
			skip_nl(p);
		else
			return 0;
	}
}

/*
 * Check the whole document: valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF) and no CR outside a CRLF.
 */
static int
utf8_check(struct parser *p)
{
	const unsigned char	*s = (const unsigned char *)p->buf;
	size_t			 i = 0, n;
	uint32_t		 cp;
	int			 line = 1, col = 1;

	while (i < p->len) {
		if ((n = nf_utf8_decode(p->buf + i, p->len - i, &cp)) == 0)
			return err_at(p, line, col, "invalid UTF-8 (byte "
			    "0x%02X); the file must be saved as UTF-8", s[i]);
		if (cp == '\r' && (i + 1 >= p->len || s[i + 1] != '\n'))
			return err_at(p, line, col, "carriage return not "
			    "followed by a line feed; TOML lines end with LF "
			    "or CRLF");
		if (cp == '\n') {
			line++;
			col = 1;
		} else
			col++;
		i += n;
	}
	return 0;
}

/* Nodes */

static struct tnode *
node_new(struct parser *p, enum nf_toml_type type, int depth, int line,
    int col)
{
	struct tnode	*n;

	if ((type == NF_TOML_ARRAY || type == NF_TOML_TABLE) &&
	    depth > TOML_MAX_DEPTH) {
		err_at(p, line, col, "tables and arrays are nested more than "
		    "%d levels deep", TOML_MAX_DEPTH);
		return NULL;
	}
	n = nf_xcalloc(1, sizeof(*n));
	n->v.type = type;
	n->v.line = line;
	n->v.col = col;
	n->depth = depth;
	return n;
}

static struct tnode *
tn(struct nf_toml_value *v)
{
	/* The public value is the first member of its tnode. */
	return (struct tnode *)(void *)v;
}

static size_t
key_hash(const char *key, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;	/* FNV-1a */
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static struct nf_toml_kv *
tab_find(const struct nf_toml_value *v, const char *key, size_t len)
{
	const struct tnode	*t = (const struct tnode *)(const void *)v;
	struct nf_toml_kv	*kv;
	size_t			 i, mask;

	if (t->idx == NULL) {
		for (i = 0; i < v->u.tab.n; i++) {
			kv = &v->u.tab.kv[i];
			if (kv->keylen == len && memcmp(kv->key, key, len) == 0)
				return kv;
		}
		return NULL;
	}
	mask = t->idxcap - 1;
	for (i = key_hash(key, len) & mask; t->idx[i] != 0;
	    i = (i + 1) & mask) {
		kv = &v->u.tab.kv[t->idx[i] - 1];
		if (kv->keylen == len && memcmp(kv->key, key, len) == 0)
			return kv;
	}
	return NULL;
}

static void
tab_index_one(struct tnode *t, size_t pos)
{
	const struct nf_toml_kv	*kv = &t->v.u.tab.kv[pos];
	size_t			 i, mask = t->idxcap - 1;

	for (i = key_hash(kv->key, kv->keylen) & mask; t->idx[i] != 0;
	    i = (i + 1) & mask)
		;
	t->idx[i] = pos + 1;
}

/* Add key (taking its string) -> val to table t. */
static void
tab_add(struct tnode *t, struct keypart *kp, struct tnode *val)
{
	struct nf_toml_kv	*kv;
	size_t			 i, n;

	if (t->v.u.tab.n == t->cap) {
		t->cap = t->cap == 0 ? 8 : t->cap * 2;
		t->v.u.tab.kv = nf_xreallocarray(t->v.u.tab.kv, t->cap,
		    sizeof(*t->v.u.tab.kv));
	}
	kv = &t->v.u.tab.kv[t->v.u.tab.n++];
	kv->key = kp->s;
	kv->keylen = kp->len;
	kv->line = kp->line;
	kv->col = kp->col;
	kv->val = &val->v;
	kp->s = NULL;

	n = t->v.u.tab.n;
	if (n < TAB_INDEX_MIN)
		return;
	if (t->idxcap >= 2 * n) {
		tab_index_one(t, n - 1);
		return;
	}
	free(t->idx);
	t->idxcap = t->idxcap == 0 ? 4 * TAB_INDEX_MIN : t->idxcap * 2;
	t->idx = nf_xcalloc(t->idxcap, sizeof(*t->idx));
	for (i = 0; i < n; i++)
		tab_index_one(t, i);
}

static void
arr_push(struct tnode *a, struct tnode *val)
{
	if (a->v.u.arr.n == a->cap) {
		a->cap = a->cap == 0 ? 8 : a->cap * 2;
		a->v.u.arr.items = nf_xreallocarray(a->v.u.arr.items, a->cap,
		    sizeof(*a->v.u.arr.items));
	}
	a->v.u.arr.items[a->v.u.arr.n++] = &val->v;
}

/* Mark an inline table and the tables its dotted keys made immutable. */
static void
freeze(struct tnode *t)
{
	struct tnode	*child;
	size_t		 i;

	t->flags |= TF_FROZEN;
	for (i = 0; i < t->v.u.tab.n; i++) {
		child = tn(t->v.u.tab.kv[i].val);
		/* A frozen child is a nested inline table: done already. */
		if (child->v.type == NF_TOML_TABLE &&
		    !(child->flags & TF_FROZEN))
			freeze(child);
	}
}

static const char *
type_article(enum nf_toml_type t)
{
	switch (t) {
	case NF_TOML_INTEGER:
	case NF_TOML_DATETIME:
	case NF_TOML_ARRAY:
		return "an";
	default:
		return "a";
	}
}

/* Keys */

static void
key_free(struct key *k)
{
	size_t	i;

	for (i = 0; i < k->n; i++)
		free(k->parts[i].s);
	free(k->parts);
	k->parts = NULL;
	k->n = k->cap = 0;
}

/* Print parts [0, n) of a key as it would be written, for messages. */
static const char *
key_fmt(char *out, size_t outlen, const struct key *k, size_t n)
{
	struct nf_buf	 b;
	size_t		 i, j;
	unsigned char	 c;
	int		 bare;

	nf_buf_init(&b);
	for (i = 0; i < n; i++) {
		const struct keypart *kp = &k->parts[i];

		if (i > 0)
			nf_buf_addc(&b, '.');
		bare = kp->len > 0;
		for (j = 0; j < kp->len; j++)
			if (!is_bare((unsigned char)kp->s[j]))
				bare = 0;
		if (bare) {
			nf_buf_add(&b, kp->s, kp->len);
			continue;
		}
		nf_buf_addc(&b, '"');
		for (j = 0; j < kp->len; j++) {
			c = (unsigned char)kp->s[j];
			if (c == '"' || c == '\\')
				nf_buf_printf(&b, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				nf_buf_printf(&b, "\\u%04X", c);
			else
				nf_buf_addc(&b, c);
		}
		nf_buf_addc(&b, '"');
	}
	if (b.len >= outlen && outlen > 4)
		snprintf(out, outlen, "%.*s...", (int)(outlen - 4), b.data);
	else
		snprintf(out, outlen, "%s", b.data != NULL ? b.data : "");
	nf_buf_free(&b);
	return out;
}

/* Strings */

/* At a backslash in a basic string: decode one escape into b. */
static int
parse_escape(struct parser *p, struct nf_buf *b)
{
	int		line = p->line, col = p->col, c, h, i, n;
	uint32_t	cp;
	char		what[48];

	adv(p);
	c = peekc(p, 0);
	switch (c) {
	case 'b':
		nf_buf_addc(b, '\b');
		break;
	case 't':
		nf_buf_addc(b, '\t');
		break;
	case 'n':
		nf_buf_addc(b, '\n');
		break;
	case 'f':
		nf_buf_addc(b, '\f');
		break;
	case 'r':
		nf_buf_addc(b, '\r');
		break;
	case '"':
		nf_buf_addc(b, '"');
		break;
	case '\\':
		nf_buf_addc(b, '\\');
		break;
	case 'u':
	case 'U':
		n = c == 'u' ? 4 : 8;
		adv(p);
		cp = 0;
		for (i = 0; i < n; i++) {
			if ((h = nf_hexval(peekc(p, 0))) == -1)
				return err_at(p, line, col, "invalid escape: "
				    "\\%c must be followed by exactly %d hex "
				    "digits", c, n);
			cp = cp * 16 + (uint32_t)h;
			adv(p);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return err_at(p, line, col, "invalid escape \\%c%0*X: "
			    "not a Unicode scalar value (surrogates and values "
			    "above 10FFFF are not allowed)", c, n, cp);
		nf_buf_add_utf8(b, cp);
		return 0;
	case -1:
		return err_at(p, line, col, "unterminated string: file ends "
		    "after a backslash");
	default:
		if (c > 0x20 && c < 0x7f)
			snprintf(what, sizeof(what), "\\%c", c);
		else if (c == ' ')
			snprintf(what, sizeof(what), "'\\' + space");
		else if (c == '\t')
			snprintf(what, sizeof(what), "'\\' + tab");
		else if (c < 0x80)
			snprintf(what, sizeof(what), "'\\' + U+%04X",
			    (unsigned)c);
		else
			snprintf(what, sizeof(what), "'\\' + non-ASCII "
			    "character");
		return err_at(p, line, col, "invalid escape sequence %s; write "
		    "\\\\ for a backslash (valid escapes: \\b \\t \\n \\f "
		    "\\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)", what);
	}
	adv(p);
	return 0;
}

/*
 * Count the run of quote characters q at the current position (at most 6
 * matter: a run longer than 5 cannot close a multi-line string).
 */
static size_t
quote_run(const struct parser *p, int q)
{
	size_t	n = 0;

	while (n < 6 && peekc(p, n) == q)
		n++;
	return n;
}

/*
 * A string of any of the four kinds at the current position, decoded into
 * b.  Multi-line strings drop a newline right after the opening quotes and
 * store every newline as LF, so a file edited on Windows gives the same
 * values.
 */
static int
parse_string(struct parser *p, struct nf_buf *b)
{
	int	line = p->line, col = p->col, q, ml, c, sl, sc;
	size_t	n;

	q = peekc(p, 0);
	ml = quote_run(p, q) >= 3;
	advn(p, ml ? 3 : 1);
	if (ml && at_nl(p))
		skip_nl(p);
	for (;;) {
		c = peekc(p, 0);
		if (c == -1) {
			if (ml)
				return err_at(p, line, col, "unterminated "
				    "multi-line string: no closing %c%c%c",
				    q, q, q);
			return err_at(p, line, col, "unterminated string: no "
			    "closing %c", q);
		}
		if (c == q) {
			if (!ml) {
				adv(p);
				return 0;
			}
			n = quote_run(p, q);
			if (n < 3) {
				nf_buf_add(b, q == '"' ? "\"\"" : "''", n);
				advn(p, n);
				continue;
			}
			if (n > 5)
				return err_here(p, "too many %c characters in "
				    "a row: at most two may precede the "
				    "closing %c%c%c", q, q, q, q);
			nf_buf_add(b, q == '"' ? "\"\"" : "''", n - 3);
			advn(p, n);
			return 0;
		}
		if (c == '\n' || c == '\r') {
			if (!ml)
				return err_at(p, line, col, "unterminated "
				    "string: a %c...%c string must end on the "
				    "line where it starts (use %c%c%c for "
				    "multi-line text)", q, q, q, q, q);
			nf_buf_addc(b, '\n');
			skip_nl(p);
			continue;
		}
		if (c == '\\' && q == '"') {
			c = peekc(p, 1);
			if (ml && (c == ' ' || c == '\t' || c == '\n' ||
			    c == '\r')) {
				/* Line-ending backslash: trim to next text. */
				sl = p->line;
				sc = p->col;
				adv(p);
				skip_ws(p);
				if (!at_nl(p))
					return err_at(p, sl, sc, "invalid "
					    "escape: a backslash followed by "
					    "whitespace must end its line");
				while ((c = peekc(p, 0)) == ' ' || c == '\t' ||
				    c == '\n' || c == '\r')
					adv(p);
				continue;
			}
			if (parse_escape(p, b) == -1)
				return -1;
			continue;
		}
		if (is_ctrl(c))
			return err_here(p, "control character U+%04X in a "
			    "string; write it as the escape \\u%04X in a "
			    "\"...\" string", (unsigned)c, (unsigned)c);
		nf_buf_addc(b, c);
		adv(p);
	}
}

static int
parse_key(struct parser *p, struct key *k)
{
	struct keypart	 kp;
	struct nf_buf	 b;
	size_t		 start;
	int		 c;
	char		 d[48];

	for (;;) {
		skip_ws(p);
		kp.line = p->line;
		kp.col = p->col;
		c = peekc(p, 0);
		if (c == '"' || c == '\'') {
			if (quote_run(p, c) >= 3)
				return err_here(p, "a multi-line string cannot "
				    "be used as a key");
			nf_buf_init(&b);
			if (parse_string(p, &b) == -1) {
				nf_buf_free(&b);
				return -1;
			}
			kp.len = b.len;
			kp.s = nf_buf_steal(&b);
		} else if (is_bare(c)) {
			start = p->pos;
			while (is_bare(peekc(p, 0)))
				adv(p);
			kp.len = p->pos - start;
			kp.s = nf_xstrndup(p->buf + start, kp.len);
		} else
			return err_here(p, "expected a key, found %s (keys are "
			    "A-Za-z0-9_- or quoted)", desc_here(p, d,
			    sizeof(d)));
		if (k->n == TOML_MAX_DEPTH) {
			free(kp.s);
			return err_at(p, kp.line, kp.col, "key has more than "
			    "%d dotted parts", TOML_MAX_DEPTH);
		}
		if (k->n == k->cap) {
			k->cap = k->cap == 0 ? 4 : k->cap * 2;
			k->parts = nf_xreallocarray(k->parts, k->cap,
			    sizeof(*k->parts));
		}
		k->parts[k->n++] = kp;
		skip_ws(p);
		if (peekc(p, 0) != '.')
			return 0;
		adv(p);
	}
}

/* Numbers, booleans, dates and times */

/* The character after a scalar value must end it. */
static int
check_value_end(struct parser *p, int line, int col)
{
	int	c = peekc(p, 0);
	char	d[48];

	if (c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '#' || c == ',' || c == ']' || c == '}')
		return 0;
	return err_at(p, line, col, "invalid value: it is followed by %s "
	    "(strings must be quoted)", desc_here(p, d, sizeof(d)));
}

static int
digit_of(int c, int base)
{
	int	v;

	if (base == 16)
		return nf_hexval(c);
	if (c < '0' || c > '9')
		return -1;
	v = c - '0';
	return v < base ? v : -1;
}

/*
 * Digits of base from tok[*j], underscores only between two digits.
 * Returns -1 if there is no digit at *j.
 */
static int
scan_digits(const char *tok, size_t n, size_t *j, int base)
{
	size_t	i = *j;

	if (i >= n || digit_of((unsigned char)tok[i], base) == -1)
		return -1;
	i++;
	for (;;) {
		if (i < n && digit_of((unsigned char)tok[i], base) != -1)
			i++;
		else if (i + 1 < n && tok[i] == '_' &&
		    digit_of((unsigned char)tok[i + 1], base) != -1)
			i += 2;
		else
			break;
	}
	*j = i;
	return 0;
}

static int
is_numchar(int c)
{
	return is_bare(c) || c == '+' || c == '.';
}

static int
parse_number(struct parser *p, struct tnode **out)
{
	const char	*tok, *rest;
	size_t		 start, n, rn, i, j;
	int		 line = p->line, col = p->col, neg = 0, sign = 0;
	int		 base = 10, isfloat = 0, d;
	uint64_t	 v = 0, lim;
	char		*clean, *end;
	double		 f;
	struct tnode	*node;

	start = p->pos;
	while (is_numchar(peekc(p, 0)))
		adv(p);
	tok = p->buf + start;
	n = p->pos - start;
	if (tok[0] == '+' || tok[0] == '-') {
		sign = 1;
		neg = tok[0] == '-';
	}
	rest = tok + sign;
	rn = n - sign;
	if (rn == 3 && (memcmp(rest, "inf", 3) == 0 ||
	    memcmp(rest, "nan", 3) == 0)) {
		f = rest[0] == 'i' ? INFINITY : NAN;
		node = node_new(p, NF_TOML_FLOAT, 0, line, col);
		node->v.u.f = neg ? -f : f;
		goto done;
	}
	if (rn >= 2 && rest[0] == '0' &&
	    (rest[1] == 'x' || rest[1] == 'o' || rest[1] == 'b')) {
		base = rest[1] == 'x' ? 16 : rest[1] == 'o' ? 8 : 2;
		if (sign)
			return err_at(p, line, col, "invalid integer %.*s: "
			    "hexadecimal, octal and binary integers cannot "
			    "have a sign", (int)n, tok);
		j = 2;
		if (scan_digits(rest, rn, &j, base) == -1 || j != rn)
			goto bad;
		i = 2;
	} else {
		j = sign;
		if (scan_digits(tok, n, &j, 10) == -1)
			goto bad;
		if (tok[sign] == '0' && j > (size_t)sign + 1)
			return err_at(p, line, col, "invalid number %.*s: "
			    "leading zeros are not allowed", (int)n, tok);
		if (j < n && tok[j] == '.') {
			j++;
			if (scan_digits(tok, n, &j, 10) == -1)
				goto bad;
			isfloat = 1;
		}
		if (j < n && (tok[j] == 'e' || tok[j] == 'E')) {
			j++;
			if (j < n && (tok[j] == '+' || tok[j] == '-'))
				j++;
			if (scan_digits(tok, n, &j, 10) == -1)
				goto bad;
			isfloat = 1;
		}
		if (j != n)
			goto bad;
		i = 0;
		rest = tok + sign;
		rn = n - sign;
	}
	if (isfloat) {
		/* strtod() wants the C locale's '.', which is all we use. */
		clean = nf_xmalloc(n + 1);
		for (i = j = 0; i < n; i++)
			if (tok[i] != '_')
				clean[j++] = tok[i];
		clean[j] = '\0';
		errno = 0;
		f = strtod(clean, &end);
		if (*end != '\0' || (errno == ERANGE && isinf(f))) {
			free(clean);
			return err_at(p, line, col, "float %.*s is out of "
			    "range", (int)n, tok);
		}
		free(clean);
		node = node_new(p, NF_TOML_FLOAT, 0, line, col);
		node->v.u.f = f;
		goto done;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < rn; i++) {
		if (rest[i] == '_')
			continue;
		d = digit_of((unsigned char)rest[i], base);
		if (v > (lim - (uint64_t)d) / (uint64_t)base)
			return err_at(p, line, col, "integer %.*s is out of "
			    "range (64-bit signed integers only)", (int)n, tok);
		v = v * (uint64_t)base + (uint64_t)d;
	}
	node = node_new(p, NF_TOML_INTEGER, 0, line, col);
	if (neg)
		node->v.u.i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)v;
	else
		node->v.u.i = (int64_t)v;
done:
	if (check_value_end(p, line, col) == -1) {
		free(node);
		return -1;
	}
	*out = node;
	return 0;
bad:
	if (memchr(tok, '_', n) != NULL)
		return err_at(p, line, col, "invalid number %.*s (underscores "
		    "must sit between two digits)", (int)n, tok);
	return err_at(p, line, col, "invalid value %.*s: not a number, "
	    "date or boolean (strings must be quoted)", (int)n, tok);
}

/* Read exactly n decimal digits. */
static int
read_digits(struct parser *p, int n, int *out)
{
	int	i, c;

	*out = 0;
	for (i = 0; i < n; i++) {
		c = peekc(p, 0);
		if (!is_digit(c))
			return -1;
		*out = *out * 10 + (c - '0');
		adv(p);
	}
	return 0;
}

static int
expect_char(struct parser *p, int want)
{
	if (peekc(p, 0) != want)
		return -1;
	adv(p);
	return 0;
}

static int
parse_date(struct parser *p, struct nf_toml_datetime *dt, int line, int col)
{
	int	mdays;

	if (read_digits(p, 4, &dt->year) == -1 || expect_char(p, '-') == -1 ||
	    read_digits(p, 2, &dt->month) == -1 || expect_char(p, '-') == -1 ||
	    read_digits(p, 2, &dt->day) == -1)
		return err_at(p, line, col, "invalid date: expected "
		    "YYYY-MM-DD");
	if (dt->month < 1 || dt->month > 12)
		return err_at(p, line, col, "invalid date %04d-%02d-%02d: "
		    "month must be 01 to 12", dt->year, dt->month, dt->day);
	mdays = nf_tz_days_in_month(dt->year, dt->month);
	if (dt->day < 1 || dt->day > mdays)
		return err_at(p, line, col, "invalid date %04d-%02d-%02d: "
		    "day must be 01 to %02d in that month", dt->year,
		    dt->month, dt->day, mdays);
	return 0;
}

static int
parse_time(struct parser *p, struct nf_toml_datetime *dt, int line, int col)
{
	int	c, ndig = 0;

	if (read_digits(p, 2, &dt->hour) == -1 || expect_char(p, ':') == -1 ||
	    read_digits(p, 2, &dt->minute) == -1 ||
	    expect_char(p, ':') == -1 ||
	    read_digits(p, 2, &dt->second) == -1)
		return err_at(p, line, col, "invalid time: expected HH:MM:SS "
		    "(seconds are required)");
	if (peekc(p, 0) == '.') {
		adv(p);
		while (is_digit(c = peekc(p, 0))) {
			/* Keep nanoseconds; finer digits are dropped. */
			if (ndig < 9) {
				dt->nanosecond = dt->nanosecond * 10 + c - '0';
				ndig++;
			}
			adv(p);
			if (ndig == 9)
				while (is_digit(peekc(p, 0)))
					adv(p);
		}
		if (ndig == 0)
			return err_at(p, line, col, "invalid time: expected "
			    "digits after the decimal point");
		for (; ndig < 9; ndig++)
			dt->nanosecond *= 10;
	}
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return err_at(p, line, col, "invalid time %02d:%02d:%02d: hour "
		    "must be 00-23, minute 00-59, second 00-60", dt->hour,
		    dt->minute, dt->second);
	return 0;
}

/* A date, date-time or time: the kind is decided by what is written. */
static int
parse_datetime(struct parser *p, int time_only, struct tnode **out)
{
	struct nf_toml_datetime	 dt;
	enum nf_toml_type	 type;
	struct tnode		*node;
	int			 line = p->line, col = p->col, c, oh, om;

	memset(&dt, 0, sizeof(dt));
	if (time_only) {
		if (parse_time(p, &dt, line, col) == -1)
			return -1;
		type = NF_TOML_TIME_LOCAL;
		goto done;
	}
	if (parse_date(p, &dt, line, col) == -1)
		return -1;
	c = peekc(p, 0);
	if (c != 'T' && c != 't' && !(c == ' ' && is_digit(peekc(p, 1)))) {
		type = NF_TOML_DATE_LOCAL;
		goto done;
	}
	adv(p);
	if (parse_time(p, &dt, line, col) == -1)
		return -1;
	type = NF_TOML_DATETIME_LOCAL;
	c = peekc(p, 0);
	if (c == 'Z' || c == 'z') {
		adv(p);
		dt.has_offset = dt.offset_z = 1;
		type = NF_TOML_DATETIME;
	} else if (c == '+' || c == '-') {
		adv(p);
		if (read_digits(p, 2, &oh) == -1 ||
		    expect_char(p, ':') == -1 || read_digits(p, 2, &om) == -1)
			return err_at(p, line, col, "invalid time offset: "
			    "expected Z or +HH:MM / -HH:MM");
		if (oh > 23 || om > 59)
			return err_at(p, line, col, "invalid time offset "
			    "%c%02d:%02d: hours must be 00-23 and minutes "
			    "00-59", c, oh, om);
		dt.has_offset = 1;
		dt.offset_minutes = (c == '-' ? -1 : 1) * (oh * 60 + om);
		type = NF_TOML_DATETIME;
	}
done:
	if (check_value_end(p, line, col) == -1)
		return -1;
	node = node_new(p, type, 0, line, col);
	node->v.u.dt = dt;
	*out = node;
	return 0;
}

static int
all_digits(const struct parser *p, size_t off, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!is_digit(peekc(p, off + i)))
			return 0;
	return 1;
}

/* Arrays and inline tables */

static int
parse_array(struct parser *p, int depth, struct tnode **out)
{
	struct tnode	*arr, *v;
	int		 line = p->line, col = p->col, c;
	char		 d[48];

	if ((arr = node_new(p, NF_TOML_ARRAY, depth, line, col)) == NULL)
		return -1;
	adv(p);
	for (;;) {
		if (skip_wscnl(p) == -1)
			goto fail;
		if (peekc(p, 0) == ']')
			break;
		if (peekc(p, 0) == -1) {
			err_at(p, line, col, "unterminated array: no closing "
			    "']'");
			goto fail;
		}
		if (parse_value(p, depth + 1, &v) == -1)
			goto fail;
		arr_push(arr, v);
		if (skip_wscnl(p) == -1)
			goto fail;
		c = peekc(p, 0);
		if (c == ',') {
			adv(p);
			continue;
		}
		if (c == ']')
			break;
		if (c == -1)
			err_at(p, line, col, "unterminated array: no closing "
			    "']'");
		else
			err_here(p, "expected ',' or ']' in the array opened "
			    "at %d:%d, found %s", line, col,
			    desc_here(p, d, sizeof(d)));
		goto fail;
	}
	adv(p);
	*out = arr;
	return 0;
fail:
	nf_toml_free(&arr->v);
	return -1;
}

static int
parse_inline(struct parser *p, int depth, struct tnode **out)
{
	struct tnode	*tab;
	int		 line = p->line, col = p->col, c;
	char		 d[48];

	if ((tab = node_new(p, NF_TOML_TABLE, depth, line, col)) == NULL)
		return -1;
	adv(p);
	skip_ws(p);
	if (peekc(p, 0) == '}')
		goto end;
	for (;;) {
		skip_ws(p);
		if (at_nl(p)) {
			err_here(p, "newline inside an inline table; TOML 1.0 "
			    "inline tables must be on one line (use a "
			    "[table] section for long tables)");
			goto fail;
		}
		if (parse_keyval(p, tab) == -1)
			goto fail;
		skip_ws(p);
		c = peekc(p, 0);
		if (c == ',') {
			adv(p);
			skip_ws(p);
			if (peekc(p, 0) == '}') {
				err_here(p, "trailing comma in an inline table "
				    "is not allowed");
				goto fail;
			}
			continue;
		}
		if (c == '}')
			break;
		if (c == -1)
			err_at(p, line, col, "unterminated inline table: no "
			    "closing '}'");
		else if (c == '\n' || c == '\r')
			err_here(p, "newline inside an inline table; TOML 1.0 "
			    "inline tables must be on one line (use a "
			    "[table] section for long tables)");
		else
			err_here(p, "expected ',' or '}' in the inline table "
			    "opened at %d:%d, found %s", line, col,
			    desc_here(p, d, sizeof(d)));
		goto fail;
	}
end:
	adv(p);
	freeze(tab);
	*out = tab;
	return 0;
fail:
	nf_toml_free(&tab->v);
	return -1;
}

static int
parse_value(struct parser *p, int depth, struct tnode **out)
{
	struct nf_buf	 b;
	struct tnode	*node;
	int		 line = p->line, col = p->col, c;
	char		 d[48];

	c = peekc(p, 0);
	switch (c) {
	case '"':
	case '\'':
		nf_buf_init(&b);
		if (parse_string(p, &b) == -1) {
			nf_buf_free(&b);
			return -1;
		}
		node = node_new(p, NF_TOML_STRING, depth, line, col);
		node->v.u.str.len = b.len;
		node->v.u.str.s = nf_buf_steal(&b);
		*out = node;
		return 0;
	case '[':
		return parse_array(p, depth, out);
	case '{':
		return parse_inline(p, depth, out);
	case 't':
	case 'f':
		if ((c == 't' && p->len - p->pos >= 4 &&
		    memcmp(p->buf + p->pos, "true", 4) == 0) ||
		    (c == 'f' && p->len - p->pos >= 5 &&
		    memcmp(p->buf + p->pos, "false", 5) == 0)) {
			advn(p, c == 't' ? 4 : 5);
			if (check_value_end(p, line, col) == -1)
				return -1;
			node = node_new(p, NF_TOML_BOOL, depth, line, col);
			node->v.u.b = c == 't';
			*out = node;
			return 0;
		}
		break;
	case -1:
	case '\n':
	case '\r':
		return err_here(p, "missing value (found %s)",
		    desc_here(p, d, sizeof(d)));
	default:
		if (all_digits(p, 0, 4) && peekc(p, 4) == '-')
			return parse_datetime(p, 0, out);
		if (all_digits(p, 0, 2) && peekc(p, 2) == ':')
			return parse_datetime(p, 1, out);
		if (is_digit(c) || c == '+' || c == '-' || c == 'i' ||
		    c == 'n')
			return parse_number(p, out);
		break;
	}
	return err_here(p, "invalid value starting with %s (strings must be "
	    "quoted)", desc_here(p, d, sizeof(d)));
}

/* Key/value pairs and headers */

static int
parse_keyval(struct parser *p, struct tnode *t)
{
	struct key		 k = { NULL, 0, 0 };
	struct nf_toml_kv	*kv;
	struct tnode		*child, *val;
	struct keypart		*kp;
	size_t			 i;
	char			 ks[256], ps[256], d[48];

	if (parse_key(p, &k) == -1)
		goto fail;
	if (peekc(p, 0) != '=') {
		err_here(p, "expected '=' after key %s, found %s",
		    key_fmt(ks, sizeof(ks), &k, k.n), desc_here(p, d,
		    sizeof(d)));
		goto fail;
	}
	adv(p);
	skip_ws(p);
	/* Walk (or create) the tables named by the dotted prefix. */
	for (i = 0; i + 1 < k.n; i++) {
		kp = &k.parts[i];
		kv = tab_find(&t->v, kp->s, kp->len);
		if (kv == NULL) {
			child = node_new(p, NF_TOML_TABLE, t->depth + 1,
			    kp->line, kp->col);
			if (child == NULL)
				goto fail;
			child->dsec = p->section;
			tab_add(t, kp, child);
			t = child;
			continue;
		}
		child = tn(kv->val);
		key_fmt(ps, sizeof(ps), &k, i + 1);
		if (child->v.type != NF_TOML_TABLE) {
			err_at(p, kp->line, kp->col, "key %s already holds %s "
			    "%s (defined at %d:%d); it cannot also be a table",
			    ps, type_article(child->v.type),
			    nf_toml_type_name(child->v.type), kv->line,
			    kv->col);
			goto fail;
		}
		if (child->flags & TF_FROZEN) {
			err_at(p, kp->line, kp->col, "cannot add key %s: "
			    "inline table %s (defined at %d:%d) is complete; "
			    "put every key inside its braces",
			    key_fmt(ks, sizeof(ks), &k, k.n), ps, kv->line,
			    kv->col);
			goto fail;
		}
		if ((child->flags & TF_HEADER) ||
		    (child->dsec != 0 && child->dsec != p->section)) {
			err_at(p, kp->line, kp->col, "cannot add key %s with "
			    "a dotted key: table %s was defined at %d:%d; add "
			    "the key there", key_fmt(ks, sizeof(ks), &k, k.n),
			    ps, child->v.line, child->v.col);
			goto fail;
		}
		child->dsec = p->section;
		t = child;
	}
	kp = &k.parts[k.n - 1];
	if ((kv = tab_find(&t->v, kp->s, kp->len)) != NULL) {
		err_at(p, kp->line, kp->col, "duplicate key %s (first defined "
		    "at %d:%d)", key_fmt(ks, sizeof(ks), &k, k.n), kv->line,
		    kv->col);
		goto fail;
	}
	if (parse_value(p, t->depth + 1, &val) == -1)
		goto fail;
	tab_add(t, kp, val);
	key_free(&k);
	return 0;
fail:
	key_free(&k);
	return -1;
}

static int
parse_header(struct parser *p)
{
	struct key		 k = { NULL, 0, 0 };
	struct nf_toml_kv	*kv;
	struct tnode		*t, *child, *elem;
	struct keypart		*kp;
	int			 line = p->line, col = p->col, aot = 0;
	size_t			 i;
	char			 ks[256], ps[256], d[48];

	adv(p);
	if (peekc(p, 0) == '[') {
		aot = 1;
		adv(p);
	}
	if (parse_key(p, &k) == -1)
		goto fail;
	if (peekc(p, 0) != ']' || (aot && peekc(p, 1) != ']')) {
		if (peekc(p, 0) == ']')
			adv(p);
		err_here(p, "expected '%s' to close the %s header, found %s",
		    aot ? "]]" : "]", aot ? "array-of-tables" : "table",
		    desc_here(p, d, sizeof(d)));
		goto fail;
	}
	advn(p, aot ? 2 : 1);
	key_fmt(ks, sizeof(ks), &k, k.n);

	t = p->root;
	for (i = 0; i + 1 < k.n; i++) {
		kp = &k.parts[i];
		kv = tab_find(&t->v, kp->s, kp->len);
		if (kv == NULL) {
			child = node_new(p, NF_TOML_TABLE, t->depth + 1,
			    kp->line, kp->col);
			if (child == NULL)
				goto fail;
			tab_add(t, kp, child);
			t = child;
			continue;
		}
		child = tn(kv->val);
		key_fmt(ps, sizeof(ps), &k, i + 1);
		if (child->v.type == NF_TOML_TABLE &&
		    !(child->flags & TF_FROZEN)) {
			t = child;
			continue;
		}
		if (child->v.type == NF_TOML_ARRAY &&
		    (child->flags & TF_AOT)) {
			/* [a.b] after [[a]] extends the last [[a]]. */
			t = tn(child->v.u.arr.items[child->v.u.arr.n - 1]);
			continue;
		}
		if (child->v.type == NF_TOML_TABLE)
			err_at(p, kp->line, kp->col, "cannot define [%s]: %s "
			    "is an inline table (defined at %d:%d), which "
			    "cannot be extended", ks, ps, kv->line, kv->col);
		else
			err_at(p, kp->line, kp->col, "cannot define [%s]: key "
			    "%s already holds %s %s (defined at %d:%d)", ks, ps,
			    type_article(child->v.type),
			    nf_toml_type_name(child->v.type), kv->line,
			    kv->col);
		goto fail;
	}
	kp = &k.parts[k.n - 1];
	kv = tab_find(&t->v, kp->s, kp->len);
	if (!aot) {
		if (kv == NULL) {
			child = node_new(p, NF_TOML_TABLE, t->depth + 1, line,
			    col);
			if (child == NULL)
				goto fail;
			tab_add(t, kp, child);
		} else {
			child = tn(kv->val);
			if (child->v.type == NF_TOML_ARRAY &&
			    (child->flags & TF_AOT)) {
				err_at(p, line, col, "[%s] conflicts with the "
				    "array of tables [[%s]] defined at %d:%d",
				    ks, ks, kv->line, kv->col);
				goto fail;
			}
			if (child->v.type != NF_TOML_TABLE) {
				err_at(p, line, col, "cannot define table "
				    "[%s]: key %s already holds %s %s (defined "
				    "at %d:%d)", ks, ks,
				    type_article(child->v.type),
				    nf_toml_type_name(child->v.type), kv->line,
				    kv->col);
				goto fail;
			}
			if (child->flags & TF_FROZEN) {
				err_at(p, line, col, "cannot define table "
				    "[%s]: it is an inline table defined at "
				    "%d:%d", ks, kv->line, kv->col);
				goto fail;
			}
			if (child->flags & TF_HEADER) {
				err_at(p, line, col, "table [%s] is defined "
				    "twice (first at %d:%d); merge the two "
				    "sections", ks, child->v.line,
				    child->v.col);
				goto fail;
			}
			if (child->dsec != 0) {
				err_at(p, line, col, "table [%s] was already "
				    "defined by dotted keys at %d:%d; move "
				    "those keys into this section", ks,
				    kv->line, kv->col);
				goto fail;
			}
			child->v.line = line;
			child->v.col = col;
		}
		child->flags |= TF_HEADER;
		p->cur = child;
	} else {
		if (kv == NULL) {
			child = node_new(p, NF_TOML_ARRAY, t->depth + 1,
			    kp->line, kp->col);
			if (child == NULL)
				goto fail;
			child->flags |= TF_AOT;
			tab_add(t, kp, child);
		} else {
			child = tn(kv->val);
			if (child->v.type == NF_TOML_TABLE) {
				err_at(p, line, col, "[[%s]] conflicts with "
				    "the table [%s] defined at %d:%d", ks, ks,
				    child->v.line, child->v.col);
				goto fail;
			}
			if (child->v.type != NF_TOML_ARRAY ||
			    !(child->flags & TF_AOT)) {
				err_at(p, line, col, "cannot append to [[%s]]: "
				    "key %s already holds %s %s (defined at "
				    "%d:%d), not an array of tables", ks, ks,
				    type_article(child->v.type),
				    nf_toml_type_name(child->v.type), kv->line,
				    kv->col);
				goto fail;
			}
		}
		elem = node_new(p, NF_TOML_TABLE, child->depth + 1, line, col);
		if (elem == NULL)
			goto fail;
		elem->flags |= TF_HEADER;
		arr_push(child, elem);
		p->cur = elem;
	}
	p->section++;
	key_free(&k);
	return 0;
fail:
	key_free(&k);
	return -1;
}

static int
parse_document(struct parser *p)
{
	const char	*what;
	int		 c;
	char		 d[48];

	for (;;) {
		skip_ws(p);
		c = peekc(p, 0);
		if (c == -1)
			return 0;
		if (c == '\n' || c == '\r') {
			skip_nl(p);
			continue;
		}
		if (c == '#') {
			if (skip_comment(p) == -1)
				return -1;
			continue;
		}
		if (c == '[') {
			what = "table header";
			if (parse_header(p) == -1)
				return -1;
		} else {
			what = "value (one key = value per line)";
			if (parse_keyval(p, p->cur) == -1)
				return -1;
		}
		skip_ws(p);
		if (peekc(p, 0) == '#' && skip_comment(p) == -1)
			return -1;
		if (peekc(p, 0) != -1 && !at_nl(p))
			return err_here(p, "expected the end of the line after "
			    "the %s, found %s", what,
			    desc_here(p, d, sizeof(d)));
	}
}

struct nf_toml_value *
nf_toml_parse(const char *buf, size_t len, const char *filename, char *err,
    size_t errlen)
{
	struct parser	p;

	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.line = p.col = 1;
	p.file = filename != NULL ? filename : "<input>";
	p.err = err;
	p.errlen = errlen;
	p.section = 1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (utf8_check(&p) == -1)
		return NULL;
	/* A byte order mark is tolerated at the very start only. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	p.root = node_new(&p, NF_TOML_TABLE, 0, 1, 1);
	p.root->flags |= TF_HEADER;
	p.cur = p.root;
	if (parse_document(&p) == -1) {
		nf_toml_free(&p.root->v);
		return NULL;
	}
	return &p.root->v;
}

struct nf_toml_value *
nf_toml_parse_file(const char *path, char *err, size_t errlen)
{
	struct nf_toml_value	*v;
	struct stat		 st;
	char			*buf;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd, saved;

	if (err == NULL)
		errlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "%s: cannot stat: %s", path,
		    strerror(saved));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if (st.st_size > TOML_MAX_FILE) {
		close(fd);
		snprintf(err, errlen, "%s: file too large (%lld bytes, at most "
		    "%d)", path, (long long)st.st_size, TOML_MAX_FILE);
		return NULL;
	}
	/* Read until EOF: the file may grow while we read it. */
	buf = nf_xmalloc((size_t)st.st_size + 1);
	for (;;) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			free(buf);
			snprintf(err, errlen, "%s: read error: %s", path,
			    strerror(saved));
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == (size_t)st.st_size + 1) {
			close(fd);
			free(buf);
			snprintf(err, errlen, "%s: file changed while being "
			    "read; try again", path);
			return NULL;
		}
	}
	close(fd);
	v = nf_toml_parse(buf, len, path, err, errlen);
	free(buf);
	return v;
}

void
nf_toml_free(struct nf_toml_value *v)
{
	size_t	i;

	if (v == NULL)
		return;
	switch (v->type) {
	case NF_TOML_STRING:
		free(v->u.str.s);
		break;
	case NF_TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			nf_toml_free(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case NF_TOML_TABLE:
		for (i = 0; i < v->u.tab.n; i++) {
			free(v->u.tab.kv[i].key);
			nf_toml_free(v->u.tab.kv[i].val);
		}
		free(v->u.tab.kv);
		free(tn(v)->idx);
		break;
	default:
		break;
	}
	free(tn(v));
}

const struct nf_toml_kv *
nf_toml_get_kv(const struct nf_toml_value *tab, const char *key)
{
	if (tab == NULL || tab->type != NF_TOML_TABLE || key == NULL)
		return NULL;
	return tab_find(tab, key, strlen(key));
}

const struct nf_toml_value *
nf_toml_get(const struct nf_toml_value *tab, const char *key)
{
	const struct nf_toml_kv	*kv;

	if ((kv = nf_toml_get_kv(tab, key)) == NULL)
		return NULL;
	return kv->val;
}

const char *
nf_toml_type_name(enum nf_toml_type t)
{
	switch (t) {
	case NF_TOML_STRING:
		return "string";
	case NF_TOML_INTEGER:
		return "integer";
	case NF_TOML_FLOAT:
		return "float";
	case NF_TOML_BOOL:
		return "boolean";
	case NF_TOML_DATETIME:
		return "offset date-time";
	case NF_TOML_DATETIME_LOCAL:
		return "local date-time";
	case NF_TOML_DATE_LOCAL:
		return "local date";
	case NF_TOML_TIME_LOCAL:
		return "local time";
	case NF_TOML_ARRAY:
		return "array";
	case NF_TOML_TABLE:
		return "table";
	}
	return "unknown";
}
