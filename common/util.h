/*
 * util.h: small helpers shared by every process: checked allocation,
 * a growable byte buffer, an error list for "report every error" paths,
 * time, and string checks.
 */
#ifndef NF_UTIL_H
#define NF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NF_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocation failure is an environment failure: nf_fatal(). */
void	*nf_xmalloc(size_t);
void	*nf_xcalloc(size_t, size_t);
void	*nf_xrealloc(void *, size_t);
void	*nf_xreallocarray(void *, size_t, size_t);
char	*nf_xstrdup(const char *);
char	*nf_xstrndup(const char *, size_t);
int	 nf_xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*nf_xprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer; data is always NUL-terminated for convenience. */
struct nf_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 nf_buf_init(struct nf_buf *);
void	 nf_buf_free(struct nf_buf *);
void	 nf_buf_reserve(struct nf_buf *, size_t);
void	 nf_buf_add(struct nf_buf *, const void *, size_t);
void	 nf_buf_addc(struct nf_buf *, int);
void	 nf_buf_adds(struct nf_buf *, const char *);
/* Code point cp (at most 0x10ffff, not a surrogate) as UTF-8. */
void	 nf_buf_add_utf8(struct nf_buf *, uint32_t cp);
void	 nf_buf_printf(struct nf_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 nf_buf_vprintf(struct nf_buf *, const char *, va_list);
/* Drop the first n bytes. */
void	 nf_buf_consume(struct nf_buf *, size_t);
void	 nf_buf_reset(struct nf_buf *);
/* Hand the data over to the caller (NUL-terminated), leaving b empty. */
char	*nf_buf_steal(struct nf_buf *);

/*
 * Error list: every parser/validator appends here so that "nomaflowd -n"
 * can print every error, not just the first one.  Each entry is already
 * formatted as "file:line:col: message" (or "file: message" when no
 * position applies).
 */
struct nf_errs {
	char	**msgs;
	size_t	  n;
	size_t	  cap;
};
void	 nf_errs_init(struct nf_errs *);
void	 nf_errs_free(struct nf_errs *);
/* line/col are 1-based; 0 means "unknown" and is omitted from the text. */
void	 nf_errs_add(struct nf_errs *, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void	 nf_errs_vadd(struct nf_errs *, const char *file, int line, int col,
	    const char *fmt, va_list);
void	 nf_errs_print(const struct nf_errs *, FILE *);
/* Move every entry of src to the end of dst. */
void	 nf_errs_move(struct nf_errs *dst, struct nf_errs *src);

/* Time. */
void	 nf_fmt_duration(int64_t ms, char *buf, size_t len);
int64_t	 nf_now_ms(void);	/* CLOCK_REALTIME, milliseconds since epoch */
int64_t	 nf_mono_ms(void);	/* CLOCK_MONOTONIC, milliseconds */
int64_t	 nf_mono_us(void);	/* CLOCK_MONOTONIC, microseconds */
/* "2026-11-29T04:19:48.123Z" into buf (>= 32 bytes). */
const char *nf_fmt_time_utc(int64_t ms, char *buf, size_t len);
/* Local time "2026-11-29 05:19:48" into buf (>= 32 bytes). */
const char *nf_fmt_time_local(int64_t ms, char *buf, size_t len);
/*
 * Parse a user-given time: "2026-11-29", "2026-11-29 04:19[:48]",
 * "2026-11-29T04:19:48Z", a unix epoch in seconds, or a relative "-2h",
 * "-30m", "-7d".  Returns 0 and the epoch in ms, or -1.
 */
int	 nf_parse_time(const char *, int64_t *ms);

/* Strings. */
/*
 * Decode the UTF-8 sequence at the start of s (n bytes available): its
 * length (1-4) with the code point in *cp (cp may be NULL), or 0 when s
 * does not start with a valid sequence (or n is 0).  Overlong forms,
 * surrogates and code points above U+10FFFF are invalid.
 */
size_t	 nf_utf8_decode(const char *s, size_t n, uint32_t *cp);
int	 nf_utf8_valid(const char *, size_t);
/* Value of hex digit c, or -1. */
int	 nf_hexval(int c);
/* [A-Za-z0-9_-]+ */
int	 nf_valid_ident(const char *);
/* Parse a decimal integer in [min,max]; 0 ok, -1 error. */
int	 nf_parse_int(const char *, long long min, long long max, long long *);

/* fds. */
int	 nf_set_nonblock(int);
int	 nf_set_cloexec(int);
/* write all or fail (-1, errno set); retries EINTR. */
int	 nf_write_all(int, const void *, size_t);

#endif
