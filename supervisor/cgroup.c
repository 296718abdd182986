/*
 * cgroup.c: each step attempt in a cgroup v2 of its own (see cgroup.h).
 * Runs in nomaflowd.  The only module that touches the cgroup filesystem.
 *
 * At start the daemon finds its own cgroup (the "0::" line of
 * /proc/self/cgroup, under the cgroup2 mount of /proc/self/mountinfo) and
 * creates there "nomaflow-steps.<hash of the state directory>": one per
 * daemon, so that test daemons sharing a cgroup never meet, and a daemon
 * restarted on the same state finds what a killed predecessor left, kills
 * it and removes it.  Under systemd that is the unit's cgroup, which is
 * ours to write with Delegate=yes.  When none of this is writable it says
 * so once and every other call is a no-op: the worker's subreaper sweep
 * (worker/child.c) contains steps, as it does anyway as a second line.
 *
 * Per attempt: run-R-s-I-a-K, with memory.max and pids.max when those
 * controllers can be enabled; spawn.c moves the worker in right after
 * posix_spawn returns.  That is before the worker has started anything:
 * it creates the step's process only after STEP_START, which the
 * supervisor sends after the worker's HELLO, so everything the step ever
 * forks is born inside.  When the worker is reaped the cgroup is killed
 * (cgroup.kill, or every pid of cgroup.procs before Linux 5.14) and
 * removed once cgroup.events says "populated 0".  Usually it already is
 * (the sweep ran): then removal is immediate; otherwise a 20 ms timer
 * polls the pending ones, for at most 10 s each.
 *
 * Invariants: the event loop never waits on cgroupfs, only a few small
 * reads and writes per attempt; a cgroup is removed only when empty, and
 * every cgroup we create is either live (its worker not yet reaped),
 * pending or removed.
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "util.h"

#define CG_POLL		0.02	/* s between looks at pending ones */
#define CG_GIVE_UP	10.0	/* s a killed cgroup may stay populated */

#define LIM_MEMORY	1
#define LIM_PIDS	2

struct nf_cgroup {
	char			*name;
	int			 dfd;		/* its directory */
	ev_tstamp		 since;		/* released at */
	struct nf_cgroup	*next;		/* pending list */
};

static struct {
	struct ev_loop		*loop;
	int			 enabled;
	int			 basefd;
	char			*base;		/* the steps' cgroup */
	int			 limits;	/* LIM_* */
	int			 has_kill;	/* cgroup.kill exists */
	struct nf_cgroup	*pending;
	ev_timer		 timer;
} cg = { .basefd = -1 };

/* ---------------------------------------------------------------- parsing */

int
nf_cgroup_parse_self(const char *text, char *out, size_t outlen)
{
	const char	*p = text, *e;
	size_t		 n;

	while (*p != '\0') {
		e = strchr(p, '\n');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n > 3 && strncmp(p, "0::", 3) == 0 && p[3] == '/') {
			if (n - 3 >= outlen)
				return -1;
			memcpy(out, p + 3, n - 3);
			out[n - 3] = '\0';
			return 0;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	return -1;
}

/* The next space-separated field of *p, octal escapes (\040) decoded. */
static int
field(const char **p, char *out, size_t outlen)
{
	const char	*s = *p;
	size_t		 n = 0;

	while (*s == ' ')
		s++;
	if (*s == '\0' || *s == '\n')
		return -1;
	while (*s != '\0' && *s != ' ' && *s != '\n') {
		if (n + 1 >= outlen)
			return -1;
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			out[n++] = (char)((s[1] - '0') << 6 |
			    (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else
			out[n++] = *s++;
	}
	out[n] = '\0';
	*p = s;
	return 0;
}

int
nf_cgroup_parse_mountinfo(const char *line, char *mnt, size_t mntlen,
    char *root, size_t rootlen)
{
	const char	*p = line;
	char		 f[256];
	int		 i;

	/* id parent major:minor root mountpoint options [optional...] - */
	for (i = 0; i < 3; i++)
		if (field(&p, f, sizeof(f)) == -1)
			return -1;
	if (field(&p, root, rootlen) == -1 || field(&p, mnt, mntlen) == -1 ||
	    field(&p, f, sizeof(f)) == -1)
		return -1;
	do {
		if (field(&p, f, sizeof(f)) == -1)
			return -1;
	} while (strcmp(f, "-") != 0);
	if (field(&p, f, sizeof(f)) == -1)
		return -1;
	return strcmp(f, "cgroup2") == 0;
}

int
nf_cgroup_resolve(const char *mountinfo, const char *cgpath, char *out,
    size_t outlen)
{
	const char	*p = mountinfo, *rest;
	char		 line[4096], mnt[1024], root[1024];
	size_t		 n, rl;
	int		 w;

	for (; *p != '\0'; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		if (nf_cgroup_parse_mountinfo(line, mnt, sizeof(mnt), root,
		    sizeof(root)) != 1)
			continue;
		/* The mount shows the hierarchy from root down. */
		rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(cgpath, root, rl) != 0 ||
		    (cgpath[rl] != '/' && cgpath[rl] != '\0'))
			continue;
		rest = cgpath + rl;
		if (strcmp(rest, "/") == 0)
			rest = "";
		w = snprintf(out, outlen, "%s%s", mnt, rest);
		return w < 0 || (size_t)w >= outlen ? -1 : 0;
	}
	return -1;
}

/* ------------------------------------------------------------ cgroupfs io */

static int
write_at(int dfd, const char *file, const char *s)
{
	size_t	n = strlen(s);
	int	fd, e;

	if ((fd = openat(dfd, file, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, s, n) != (ssize_t)n) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static ssize_t
read_at(int dfd, const char *file, char *buf, size_t len)
{
	ssize_t	n;
	int	fd, e;

	if ((fd = openat(dfd, file, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	errno = e;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static int
read_file(const char *path, char *buf, size_t len)
{
	size_t	n = 0;
	ssize_t	r;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return 0;
}

/* Whether a space-separated list (cgroup.controllers) names word. */
static int
has_word(const char *list, const char *word)
{
	size_t	n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return 1;
	return 0;
}

/* 1 populated, 0 empty, -1 cannot tell. */
static int
populated(int dfd)
{
	char		 buf[256];
	const char	*p;

	if (read_at(dfd, "cgroup.events", buf, sizeof(buf)) == -1 ||
	    (p = strstr(buf, "populated ")) == NULL)
		return -1;
	return p[10] == '1';
}

/* Every process in the cgroup and below it. */
static void
kill_all(int dfd)
{
	char		 buf[8192], *p, *e;
	long		 pid;

	if (cg.has_kill && write_at(dfd, "cgroup.kill", "1") == 0)
		return;
	/* Before 5.14: what is listed now; the poll repeats it. */
	if (read_at(dfd, "cgroup.procs", buf, sizeof(buf)) == -1)
		return;
	for (p = buf; *p != '\0'; p = e) {
		pid = strtol(p, &e, 10);
		if (e == p)
			break;
		if (pid > 1)
			(void)kill((pid_t)pid, SIGKILL);
	}
}

/* rmdir a cgroup and any a step made under it, deepest first. */
static int
remove_tree(int parentfd, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if (unlinkat(parentfd, name, AT_REMOVEDIR) == 0)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -1;
	if ((fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			(void)remove_tree(dirfd(d), de->d_name);
	closedir(d);
	return unlinkat(parentfd, name, AT_REMOVEDIR);
}

static void
cg_free(struct nf_cgroup *c)
{
	if (c->dfd != -1)
		close(c->dfd);
	free(c->name);
	free(c);
}

/* Removed (and freed) if empty: 1; still populated: 0. */
static int
try_remove(struct nf_cgroup *c)
{
	int	pop = populated(c->dfd);

	if (pop == 1)
		return 0;
	close(c->dfd);
	c->dfd = -1;
	if (remove_tree(cg.basefd, c->name) == -1 && errno != ENOENT)
		nf_warn("cgroups: removing %s/%s", cg.base, c->name);
	cg_free(c);
	return 1;
}

static void
poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nf_cgroup	**pp, *c;
	ev_tstamp		  now = ev_now(loop);

	for (pp = &cg.pending; (c = *pp) != NULL; ) {
		if (!cg.has_kill)
			kill_all(c->dfd);
		if (populated(c->dfd) == 1 && now - c->since < CG_GIVE_UP) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		if (populated(c->dfd) == 1) {
			nf_warnx("cgroups: %s/%s still has processes %.0f s "
			    "after it was killed (stuck in the kernel?); left "
			    "for the next start to remove", cg.base, c->name,
			    CG_GIVE_UP);
			cg_free(c);
		} else
			(void)try_remove(c);
	}
	if (cg.pending == NULL)
		ev_timer_stop(loop, t);
}

static void
add_pending(struct nf_cgroup *c)
{
	c->since = cg.loop != NULL ? ev_now(cg.loop) : 0.;
	c->next = cg.pending;
	cg.pending = c;
	if (cg.loop != NULL && !ev_is_active(&cg.timer))
		ev_timer_again(cg.loop, &cg.timer);
}

/* ------------------------------------------------------------------ start */

/* Kill and queue for removal what a previous daemon left in the base. */
static void
sweep_leftovers(void)
{
	struct nf_cgroup	*c;
	struct dirent		*de;
	DIR			*d;
	int			 fd, n = 0;

	if ((fd = dup(cg.basefd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		c = nf_xcalloc(1, sizeof(*c));
		c->name = nf_xstrdup(de->d_name);
		if ((c->dfd = openat(cg.basefd, c->name, O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) == -1) {
			cg_free(c);
			continue;
		}
		kill_all(c->dfd);
		n++;
		if (!try_remove(c))
			add_pending(c);
	}
	closedir(d);
	if (n > 0)
		nf_info("cgroups: %d step cgroup%s left by a previous "
		    "nomaflowd killed and removed", n, n == 1 ? "" : "s");
}

/*
 * Enable the memory and pids controllers for the attempts, where the
 * hierarchy has them.  Our own cgroup may not enable controllers while it
 * holds processes (unless it is the root): the daemon then moves itself
 * into a leaf "supervisor" first, as systemd's delegation expects.
 */
static void
enable_limits(int ownfd, int own_is_root)
{
	static const char	*const names[] = { "memory", "pids" };
	char			 have[512], sub[512], plus[32];
	int			 i, fd, moved = 0;

	if (read_at(ownfd, "cgroup.controllers", have, sizeof(have)) == -1)
		return;
	for (i = 0; i < 2; i++) {
		if (!has_word(have, names[i]))
			continue;
		if (read_at(ownfd, "cgroup.subtree_control", sub,
		    sizeof(sub)) == -1)
			return;
		snprintf(plus, sizeof(plus), "+%s", names[i]);
		if (!has_word(sub, names[i]) &&
		    write_at(ownfd, "cgroup.subtree_control", plus) == -1) {
			if (errno != EBUSY || own_is_root || moved)
				continue;
			if ((mkdirat(ownfd, "supervisor", 0755) == -1 &&
			    errno != EEXIST) ||
			    (fd = openat(ownfd, "supervisor", O_RDONLY |
			    O_DIRECTORY | O_CLOEXEC)) == -1)
				continue;
			moved = write_at(fd, "cgroup.procs", "0") == 0;
			close(fd);
			if (!moved || write_at(ownfd, "cgroup.subtree_control",
			    plus) == -1)
				continue;
			nf_info("cgroups: nomaflowd moved itself into "
			    "supervisor/ of its cgroup to enable %s for "
			    "steps", names[i]);
		}
		(void)write_at(cg.basefd, "cgroup.subtree_control", plus);
	}
	if (read_at(cg.basefd, "cgroup.subtree_control", sub,
	    sizeof(sub)) == -1)
		return;
	if (has_word(sub, "memory"))
		cg.limits |= LIM_MEMORY;
	if (has_word(sub, "pids"))
		cg.limits |= LIM_PIDS;
}

static void
unavailable(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
unavailable(const char *fmt, ...)
{
	char	why[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nf_info("cgroups: not available (%s); the worker's subreaper sweep "
	    "contains steps", why);
}

void
nf_cgroup_init(struct ev_loop *loop, const char *key)
{
	static char		 self[4096], mounts[65536];
	char			 own[1024], dir[2048], name[64];
	const unsigned char	*k;
	uint32_t		 h = 2166136261u;	/* FNV-1a 32 */
	int			 ownfd;

	cg.loop = loop;
	ev_timer_init(&cg.timer, poll_cb, 0., CG_POLL);
	if (read_file("/proc/self/cgroup", self, sizeof(self)) == -1 ||
	    read_file("/proc/self/mountinfo", mounts, sizeof(mounts)) == -1) {
		unavailable("reading /proc/self: %s", strerror(errno));
		return;
	}
	if (nf_cgroup_parse_self(self, own, sizeof(own)) == -1) {
		unavailable("no cgroup v2 line (0::) in /proc/self/cgroup");
		return;
	}
	if (nf_cgroup_resolve(mounts, own, dir, sizeof(dir)) == -1) {
		unavailable("no cgroup2 mount holds %s", own);
		return;
	}
	if ((ownfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		unavailable("%s: %s", dir, strerror(errno));
		return;
	}
	for (k = (const unsigned char *)key; *k != '\0'; k++)
		h = (h ^ *k) * 16777619u;
	snprintf(name, sizeof(name), "nomaflow-steps.%08x", h);
	if ((mkdirat(ownfd, name, 0755) == -1 && errno != EEXIST) ||
	    (cg.basefd = openat(ownfd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		unavailable("cannot create %s/%s: %s; under systemd, "
		    "Delegate=yes gives nomaflowd its cgroup", dir, name,
		    strerror(errno));
		close(ownfd);
		return;
	}
	cg.base = nf_xprintf("%s/%s", dir, name);
	cg.has_kill = faccessat(cg.basefd, "cgroup.kill", F_OK, 0) == 0;
	cg.enabled = 1;
	sweep_leftovers();
	enable_limits(ownfd, strcmp(own, "/") == 0);
	close(ownfd);
	nf_info("cgroups: each step attempt in a cgroup of its own under %s",
	    cg.base);
	if (cg.limits != (LIM_MEMORY | LIM_PIDS))
		nf_info("cgroups: no %s%s%s controller for %s: steps are "
		    "bounded by rlimits only",
		    cg.limits & LIM_MEMORY ? "" : "memory",
		    cg.limits == 0 ? " or " : "",
		    cg.limits & LIM_PIDS ? "" : "pids", cg.base);
}

void
nf_cgroup_shutdown(void)
{
	struct nf_cgroup	*c;
	int			 i;

	if (!cg.enabled)
		return;
	if (cg.loop != NULL)
		ev_timer_stop(cg.loop, &cg.timer);
	/* The loop is over: waiting a little here delays nothing. */
	while ((c = cg.pending) != NULL) {
		cg.pending = c->next;
		for (i = 0; i < 100 && populated(c->dfd) == 1; i++) {
			kill_all(c->dfd);
			usleep(10000);
		}
		if (!try_remove(c)) {
			nf_warnx("cgroups: %s/%s still has processes; left "
			    "for the next start to remove", cg.base, c->name);
			cg_free(c);
		}
	}
	close(cg.basefd);
	cg.basefd = -1;
	if (rmdir(cg.base) == -1 && errno != EBUSY && errno != ENOTEMPTY &&
	    errno != ENOENT)
		nf_warn("cgroups: removing %s", cg.base);
	free(cg.base);
	cg.base = NULL;
	cg.enabled = 0;
}

int
nf_cgroup_enabled(void)
{
	return cg.enabled;
}

/* ------------------------------------------------------------ per attempt */

struct nf_cgroup *
nf_cgroup_create(const char *name)
{
	struct nf_cgroup	*c;
	char			 v[32];

	if (!cg.enabled)
		return NULL;
	if (mkdirat(cg.basefd, name, 0755) == -1) {
		nf_warn("cgroups: creating %s/%s (the step runs without; "
		    "the worker's sweep contains it)", cg.base, name);
		return NULL;
	}
	c = nf_xcalloc(1, sizeof(*c));
	c->name = nf_xstrdup(name);
	if ((c->dfd = openat(cg.basefd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		nf_warn("cgroups: opening %s/%s", cg.base, name);
		(void)unlinkat(cg.basefd, name, AT_REMOVEDIR);
		cg_free(c);
		return NULL;
	}
	if (cg.limits & LIM_MEMORY) {
		snprintf(v, sizeof(v), "%llu",
		    (unsigned long long)NF_CGROUP_MEMORY_MAX);
		if (write_at(c->dfd, "memory.max", v) == -1)
			nf_warn("cgroups: %s/%s/memory.max", cg.base, name);
	}
	if (cg.limits & LIM_PIDS) {
		snprintf(v, sizeof(v), "%d", NF_CGROUP_PIDS_MAX);
		if (write_at(c->dfd, "pids.max", v) == -1)
			nf_warn("cgroups: %s/%s/pids.max", cg.base, name);
	}
	return c;
}

int
nf_cgroup_enter(struct nf_cgroup *c, pid_t pid)
{
	char	v[32];

	snprintf(v, sizeof(v), "%d", (int)pid);
	if (write_at(c->dfd, "cgroup.procs", v) == -1) {
		nf_warn("cgroups: moving worker %d into %s/%s (the worker's "
		    "sweep alone contains the step)", (int)pid, cg.base,
		    c->name);
		return -1;
	}
	return 0;
}

void
nf_cgroup_release(struct nf_cgroup *c)
{
	if (c == NULL)
		return;
	/* The common case: the worker's sweep left it empty. */
	if (try_remove(c))
		return;
	kill_all(c->dfd);
	if (try_remove(c))
		return;
	add_pending(c);
}
