/*
 * log.c: logging for every Nomaflow process.  Messages go to stderr (the
 * journal when run by systemd, which reads the "<N>" level prefixes) or to
 * syslog(3).  Runs in nomaflowd, nomaflow-worker and nfctl.
 *
 * Invariant: no allocation on the fatal paths (they may be reached because
 * allocation failed).
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char	*log_ident = "nomaflow";
static int		 log_syslog;
static int		 log_journal;	/* stderr is journald's stream */
static enum nf_log_level log_level = NF_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
nf_log_init(const char *ident, int to_syslog)
{
	log_ident = ident;
	log_syslog = to_syslog;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
nf_log_set_level(enum nf_log_level l)
{
	log_level = l;
}

enum nf_log_level
nf_log_get_level(void)
{
	return log_level;
}

int
nf_log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
nf_log_level_name(enum nf_log_level l)
{
	if ((unsigned)l >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[l];
}

static void
vlog(enum nf_log_level l, const char *errstr, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char	 msg[2048], line[2048 + 128];
	size_t	 len;
	int	 n;

	if (l > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errstr != NULL && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", errstr);
	if (log_syslog)
		syslog(prio[l], "%s", msg);
	else {
		/*
		 * sd-daemon(3) level prefixes: journald strips them.  One
		 * write per line (dprintf sets up a stream at every call, a
		 * cost the scheduler's bursts noticed), whole or cut short.
		 */
		n = snprintf(line, sizeof(line), "%s%s: %s\n", log_journal ?
		    (l == NF_LOG_ERROR ? "<3>" : l == NF_LOG_WARN ? "<4>" :
		    l == NF_LOG_INFO ? "<6>" : "<7>") : "", log_ident, msg);
		if (n < 0)
			return;
		len = (size_t)n;
		if (len >= sizeof(line)) {
			len = sizeof(line) - 1;
			line[len - 1] = '\n';
		}
		(void)!write(STDERR_FILENO, line, len);
	}
}

static void
logx(enum nf_log_level l, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(l, NULL, fmt, ap);
	va_end(ap);
}

void
nf_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(NF_LOG_WARN, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
nf_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(NF_LOG_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
nf_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(NF_LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
nf_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(NF_LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
nf_fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(NF_LOG_ERROR, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
nf_fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(NF_LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
nf_panic(const char *fmt, ...)
{
	va_list	ap;
	char	buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logx(NF_LOG_ERROR, "panic (this is a bug): %s", buf);
	abort();
}
