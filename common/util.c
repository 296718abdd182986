/*
 * util.c: checked allocation, byte buffers, error lists, time and string
 * helpers.  Linked into every process; no global state.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *
nf_xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		nf_fatal("malloc %zu bytes", n);
	return p;
}

void *
nf_xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		nf_fatal("calloc %zu x %zu bytes", n, sz);
	return p;
}

void *
nf_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		nf_fatal("realloc %zu bytes", n);
	return p;
}

void *
nf_xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		nf_fatalx("reallocarray: %zu x %zu overflows", n, sz);
	return nf_xrealloc(p, n * sz);
}

char *
nf_xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		nf_fatal("strdup");
	return p;
}

char *
nf_xstrndup(const char *s, size_t n)
{
	char	*p;

	p = nf_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
nf_xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		nf_fatal("asprintf");
	return n;
}

char *
nf_xprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		nf_fatal("asprintf");
	va_end(ap);
	return s;
}

void
nf_buf_init(struct nf_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
nf_buf_free(struct nf_buf *b)
{
	free(b->data);
	nf_buf_init(b);
}

void
nf_buf_reserve(struct nf_buf *b, size_t extra)
{
	size_t	need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		nf_fatalx("buffer size overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = nf_xrealloc(b->data, cap);
	b->cap = cap;
}

void
nf_buf_add(struct nf_buf *b, const void *p, size_t n)
{
	nf_buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
nf_buf_addc(struct nf_buf *b, int c)
{
	char	ch = (char)c;

	nf_buf_add(b, &ch, 1);
}

void
nf_buf_adds(struct nf_buf *b, const char *s)
{
	nf_buf_add(b, s, strlen(s));
}

void
nf_buf_add_utf8(struct nf_buf *b, uint32_t cp)
{
	if (cp < 0x80)
		nf_buf_addc(b, (int)cp);
	else if (cp < 0x800) {
		nf_buf_addc(b, (int)(0xc0 | (cp >> 6)));
		nf_buf_addc(b, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		nf_buf_addc(b, (int)(0xe0 | (cp >> 12)));
		nf_buf_addc(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
		nf_buf_addc(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		nf_buf_addc(b, (int)(0xf0 | (cp >> 18)));
		nf_buf_addc(b, (int)(0x80 | ((cp >> 12) & 0x3f)));
		nf_buf_addc(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
		nf_buf_addc(b, (int)(0x80 | (cp & 0x3f)));
	}
}

void
nf_buf_vprintf(struct nf_buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		nf_fatalx("vsnprintf failed");
	nf_buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
nf_buf_printf(struct nf_buf *b, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	nf_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
nf_buf_consume(struct nf_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		if (b->data != NULL)
			b->data[0] = '\0';
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void
nf_buf_reset(struct nf_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
nf_buf_steal(struct nf_buf *b)
{
	char	*p;

	if (b->data == NULL)
		return nf_xstrdup("");
	p = b->data;
	nf_buf_init(b);
	return p;
}

void
nf_errs_init(struct nf_errs *e)
{
	e->msgs = NULL;
	e->n = e->cap = 0;
}

void
nf_errs_free(struct nf_errs *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	nf_errs_init(e);
}

static void
errs_push(struct nf_errs *e, char *msg)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->msgs = nf_xreallocarray(e->msgs, e->cap, sizeof(*e->msgs));
	}
	e->msgs[e->n++] = msg;
}

void
nf_errs_vadd(struct nf_errs *e, const char *file, int line, int col,
    const char *fmt, va_list ap)
{
	struct nf_buf	b;

	nf_buf_init(&b);
	if (file != NULL) {
		nf_buf_adds(&b, file);
		if (line > 0) {
			nf_buf_printf(&b, ":%d", line);
			if (col > 0)
				nf_buf_printf(&b, ":%d", col);
		}
		nf_buf_adds(&b, ": ");
	}
	nf_buf_vprintf(&b, fmt, ap);
	errs_push(e, nf_buf_steal(&b));
}

void
nf_errs_add(struct nf_errs *e, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	nf_errs_vadd(e, file, line, col, fmt, ap);
	va_end(ap);
}

void
nf_errs_print(const struct nf_errs *e, FILE *fp)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		fprintf(fp, "%s\n", e->msgs[i]);
}

void
nf_errs_move(struct nf_errs *dst, struct nf_errs *src)
{
	size_t	i;

	for (i = 0; i < src->n; i++)
		errs_push(dst, src->msgs[i]);
	free(src->msgs);
	nf_errs_init(src);
}

int64_t
nf_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		nf_fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
nf_mono_ms(void)
{
	return nf_mono_us() / 1000;
}

int64_t
nf_mono_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		nf_fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *
nf_fmt_time_utc(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t;
	int64_t		frac;

	t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	frac = ms - (int64_t)t * 1000;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
	return buf;
}

const char *
nf_fmt_time_local(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t;

	t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

int
nf_parse_time(const char *s, int64_t *ms)
{
	struct tm	 tm;
	const char	*end;
	long long	 v;
	char		*ep;
	time_t		 t;
	int		 utc = 0;

	if (*s == '-' || *s == '+') {
		errno = 0;
		v = strtoll(s + 1, &ep, 10);
		if (ep == s + 1 || errno != 0 || v < 0 || v > 100000000)
			return -1;
		switch (*ep) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		case 'w': v *= 7 * 86400; break;
		default: return -1;
		}
		if (ep[1] != '\0')
			return -1;
		*ms = nf_now_ms() + (*s == '-' ? -v : v) * 1000;
		return 0;
	}
	if (strspn(s, "0123456789") == strlen(s) && *s != '\0') {
		if (nf_parse_int(s, 0, INT64_MAX / 1000, &v) == -1)
			return -1;
		*ms = v * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *e2;

		if ((e2 = strptime(end + 1, "%H:%M:%S", &tm)) == NULL &&
		    (e2 = strptime(end + 1, "%H:%M", &tm)) == NULL)
			return -1;
		end = e2;
	}
	if (*end == 'Z') {
		utc = 1;
		end++;
	}
	if (*end != '\0')
		return -1;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

int
nf_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The one UTF-8 decoder: every check of UTF-8 text (frames, TOML files,
 * JSON, the worker's sanitiser) goes through here, so they all agree on
 * what is valid: shortest form only, no surrogates, nothing above U+10FFFF.
 */
size_t
nf_utf8_decode(const char *s, size_t n, uint32_t *cpp)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 k, len;
	uint32_t		 cp, min;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		len = 1; cp = p[0]; min = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		len = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4; cp = p[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cpp != NULL)
		*cpp = cp;
	return len;
}

int
nf_utf8_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, len;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((len = nf_utf8_decode(s + i, n - i, NULL)) == 0)
			return 0;
		i += len;
	}
	return 1;
}

int
nf_valid_ident(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

int
nf_parse_int(const char *s, long long min, long long max, long long *out)
{
	char		*ep;
	long long	 v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &ep, 10);
	if (*ep != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
nf_set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
nf_set_cloexec(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int
nf_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 120ms, 1.2s, 42s, 3m04s, 2h05m, 3d04h: nfctl and the web pages. */
void
nf_fmt_duration(int64_t ms, char *buf, size_t len)
{
	int64_t	s;

	if (ms < 0)
		ms = 0;
	s = (ms + 500) / 1000;
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else if (ms < 10000)
		snprintf(buf, len, "%" PRId64 ".%" PRId64 "s", ms / 1000,
		    (ms % 1000) / 100);
	else if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
		    (s % 3600) / 60);
	else
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400,
		    (s % 86400) / 3600);
}
