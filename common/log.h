/*
 * log.h: the logging and fatal paths shared by nomaflowd, nomaflow-worker
 * and nfctl.
 *
 *   nf_warn   errno-style warning (appends strerror(errno))
 *   nf_warnx  warning without errno
 *   nf_info, nf_debug
 *   nf_fatal  the environment failed (cannot open, cannot allocate): exit 1
 *   nf_panic  our own invariant is broken: a bug; abort() for a core
 */
#ifndef NF_LOG_H
#define NF_LOG_H

#include <stdarg.h>

enum nf_log_level {
	NF_LOG_ERROR = 0,
	NF_LOG_WARN,
	NF_LOG_INFO,
	NF_LOG_DEBUG,
};

/* ident is "nomaflowd", "nomaflow-worker", ...; to_syslog selects syslog(3). */
void	nf_log_init(const char *ident, int to_syslog);
void	nf_log_set_level(enum nf_log_level);
enum nf_log_level nf_log_get_level(void);
/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int	nf_log_level_parse(const char *);
const char *nf_log_level_name(enum nf_log_level);

void	nf_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	nf_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	nf_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	nf_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	nf_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	nf_fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	nf_panic(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
