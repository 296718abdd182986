/*
 * check_policy.c: the policy language (every error class with its
 * position, includes, defaults, groups), golden dumps of the shipped
 * policies, and real sandboxes: each policy is installed in a forked child
 * and must let the intended programs run and kill the forbidden calls.
 *
 * Golden files: tests/golden/policy-<name>.txt hold nf_policy_dump() of
 * policies/<name>.policy on x86_64.  After a deliberate policy change,
 * regenerate them with
 *	NF_GOLDEN_UPDATE=1 top_srcdir=/path/to/source tests/unit/check_policy
 * and review the diff.
 */
#include "autoconf.h"

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/wait.h>

#include <linux/netlink.h>
#include <linux/seccomp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nf_check.h"
#include "policy.h"
#include "proto.h"
#include "step.h"
#include "util.h"

#ifndef NF_TOP_SRCDIR
#define NF_TOP_SRCDIR "."
#endif

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL && *s != '\0' ? s : NF_TOP_SRCDIR;
}

static char *
policydir(void)
{
	return nf_xprintf("%s/policies", srcdir());
}

/* Parse text; return the error list joined by newlines ("" if none). */
static char *
parse_errs(const char *text, const char *dir, struct nf_policy **pp)
{
	struct nf_errs		 errs;
	struct nf_policy	*p;
	struct nf_buf		 b;
	size_t			 i;

	nf_errs_init(&errs);
	p = nf_policy_parse(text, strlen(text), "t.policy", dir, &errs);
	nf_buf_init(&b);
	for (i = 0; i < errs.n; i++)
		nf_buf_printf(&b, "%s\n", errs.msgs[i]);
	nf_errs_free(&errs);
	if (pp != NULL)
		*pp = p;
	else
		nf_policy_free(p);
	if (p != NULL && b.len > 0)
		ck_abort_msg("policy returned despite errors: %s", b.data);
	return nf_buf_steal(&b);
}

/* Exactly one error, which starts with want. */
static void
expect_err(const char *text, const char *want)
{
	char	*e;

	e = parse_errs(text, NULL, NULL);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0,
	    "want \"%s...\", got \"%s\"", want, e);
	ck_assert_msg(strchr(e, '\n') == e + strlen(e) - 1,
	    "want one error, got \"%s\"", e);
	free(e);
}

static char *
dump_text(const struct nf_policy *p)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = open_memstream(&s, &len));
	nf_policy_dump(p, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return s;
}

START_TEST(test_minimal_dump)
{
	struct nf_policy	*p;
	char			*e, *d;

	e = parse_errs("# c\n\tdefault errno EACCES # trailing\n"
	    "allow write read\nkill ptrace\nerrno ENOSYS clone3\n"
	    "errno EACCES acct\n", NULL, &p);
	ck_assert_str_eq(e, "");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(nf_policy_name(p), "t");
	d = dump_text(p);
	ck_assert_str_eq(d, "# policy t\n"
	    "# arch x86_64 (any other architecture, and x32: kill)\n"
	    "default errno EACCES\n"
	    "allow read\nallow write\nerrno EACCES acct\n"
	    "errno ENOSYS clone3\nkill ptrace\n");
	free(d);
	free(e);
	nf_policy_free(p);
}
END_TEST

START_TEST(test_trap_and_log_defaults)
{
	static const char *const defs[] = { "trap", "log" };
	struct nf_policy	*p;
	char			*text, *e, *d, *want;

	text = nf_xprintf("default %s\nallow read\n", defs[_i]);
	e = parse_errs(text, NULL, &p);
	ck_assert_str_eq(e, "");
	d = dump_text(p);
	want = nf_xprintf("\ndefault %s\nallow read\n", defs[_i]);
	ck_assert_msg(strstr(d, want) != NULL, "got %s", d);
	free(want);
	free(d);
	free(e);
	free(text);
	nf_policy_free(p);
}
END_TEST

START_TEST(test_groups_and_defines)
{
	struct nf_policy	*p;
	char			*e, *d;

	/* mmap2 and _llseek exist only on 32-bit arches: skipped. */
	e = parse_errs("default kill\ndefine @mine getpid @process-exit\n"
	    "define @more @mine gettid\nallow @more mmap2 _llseek\n"
	    "allow getpid\n", NULL, &p);
	ck_assert_str_eq(e, "");
	d = dump_text(p);
	ck_assert_str_eq(d, "# policy t\n"
	    "# arch x86_64 (any other architecture, and x32: kill)\n"
	    "default kill\n"
	    "allow exit\nallow exit_group\nallow getpid\nallow gettid\n");
	free(d);
	free(e);
	nf_policy_free(p);
}
END_TEST

START_TEST(test_every_builtin_group)
{
	struct nf_policy	*p;
	char			*e, *d;

	/* Every member of every group must be a name libseccomp knows. */
	e = parse_errs("default kill\n"
	    "allow @basic-io @memory @memory-misc @memlock @pkey @signal\n"
	    "allow @signal-send @process-exit @time @timer @poll @file-read\n"
	    "allow @file-write @network-client @network-server @dns @threads\n"
	    "allow @process @ids @resources @ipc @aio @sandbox\n"
	    "errno EPERM @obsolete\n"
	    "kill @ptrace @mount @bpf @kexec @module @namespace @reboot @swap\n"
	    "kill @keyring @clock-set @raw-io\n", NULL, &p);
	ck_assert_str_eq(e, "");
	d = dump_text(p);
	ck_assert_ptr_nonnull(strstr(d, "\nallow getdents64\n"));
	ck_assert_ptr_nonnull(strstr(d, "\nerrno EPERM uselib\n"));
	ck_assert_ptr_nonnull(strstr(d, "\nkill unshare\n"));
	ck_assert_ptr_null(strstr(d, "mmap2"));
	free(d);
	free(e);
	nf_policy_free(p);
}
END_TEST

START_TEST(test_error_positions)
{
	expect_err("default kill\nallow read opne\n",
	    "t.policy:2:12: unknown syscall \"opne\"");
	expect_err("default kill\n  allow @nope\n",
	    "t.policy:2:9: unknown group \"@nope\"");
	expect_err("default kill\npermit read\n",
	    "t.policy:2:1: unknown directive \"permit\"");
	expect_err("default kill\nerrno EFOO read\n",
	    "t.policy:2:7: unknown errno name \"EFOO\"");
	expect_err("default errno EBAR\n",
	    "t.policy:1:15: unknown errno name \"EBAR\"");
	expect_err("default deny\n", "t.policy:1:9: bad default \"deny\"");
	expect_err("default allow\n", "t.policy:1:9: bad default \"allow\"");
	expect_err("default kill extra\n",
	    "t.policy:1:14: unexpected \"extra\"");
	expect_err("default kill\ndefault kill\n",
	    "t.policy:2:1: second \"default\" line; the first is at line 1");
	expect_err("allow read\n", "t.policy: no \"default\" line");
	expect_err("default kill\nallow\n",
	    "t.policy:2:1: \"allow\" needs at least one syscall");
	expect_err("default kill\nerrno EPERM\n",
	    "t.policy:2:1: \"errno\" needs at least one syscall");
	expect_err("default kill\nallow read\u00e9\n",
	    "t.policy:2:11: unexpected byte 0xc3");
	expect_err("default kill\ninclude base\n",
	    "t.policy:2:9: cannot include \"base\"");
	expect_err("default kill\ninclude ../etc/x\n",
	    "t.policy:2:9: bad policy name \"../etc/x\"");
	expect_err("default kill\ninclude a b\n",
	    "t.policy:2:1: \"include\" takes exactly one policy name");
	expect_err("default kill\ndefine @memory read\n",
	    "t.policy:2:8: \"@memory\" is a built-in group");
	expect_err("default kill\ndefine mine read\n",
	    "t.policy:2:8: bad group name \"mine\"");
	expect_err("default kill\ndefine @a read\ndefine @a write\n",
	    "t.policy:3:8: group \"@a\" is already defined at t.policy:2:8");
	expect_err("default kill\ndefine @a\n",
	    "t.policy:2:1: \"define\" needs a @name");
}
END_TEST

START_TEST(test_contradictions)
{
	expect_err("default errno EPERM\nallow read write\nkill write\n",
	    "t.policy:3:6: cannot kill \"write\": \"write\" is already allow "
	    "at t.policy:2:12; a syscall gets exactly one action");
	expect_err("default kill\nerrno EPERM acct\nerrno EACCES acct\n",
	    "t.policy:3:14: cannot errno EACCES \"acct\": \"acct\" is "
	    "already errno EPERM at t.policy:2:13");
	/*
	 * A whole group clashing is one error, not one per syscall (in
	 * syscall number order).
	 */
	expect_err("default kill\nallow @process\nkill @signal-send\n",
	    "t.policy:3:6: cannot kill \"@signal-send\": \"kill\" is "
	    "already allow at t.policy:2:7, \"rt_sigqueueinfo\" is already "
	    "allow at t.policy:2:7, \"tkill\" is already allow at "
	    "t.policy:2:7 (and more)");
	/* Repeating the same action is fine. */
	expect_err("default kill\nallow read\nallow read @basic-io\n"
	    "kill\n", "t.policy:4:1: \"kill\" needs");
}
END_TEST

/* Rules with arguments: syntax, positions, clashes, the dump. */
START_TEST(test_argument_rules)
{
	struct nf_policy	*p;
	char			*e, *d;

	expect_err("default kill\nallow socket(AF_NOPE)\n",
	    "t.policy:2:14: bad argument \"AF_NOPE\"; write *, a number");
	expect_err("default kill\nallow socket(*,,1)\n",
	    "t.policy:2:16: bad argument \"\"");
	expect_err("default kill\nallow socket(4294967296)\n",
	    "t.policy:2:14: bad argument \"4294967296\"");
	expect_err("default kill\nallow sockt(1)\n",
	    "t.policy:2:7: unknown syscall \"sockt\"");
	expect_err("default kill\nallow socket(AF_INET\n",
	    "t.policy:2:7: bad rule \"socket(AF_INET\"; write name(ARG,...)");
	expect_err("default kill\nallow (1)\n",
	    "t.policy:2:7: bad rule \"(1)\"");
	expect_err("default kill\nallow socket(*,*)\n",
	    "t.policy:2:7: \"socket(*,*)\" has no argument to compare");
	expect_err("default kill\nallow socket(1,2,3,4,5,6,7)\n",
	    "t.policy:2:26: a syscall has at most 6 arguments");
	expect_err("default kill\ndefine @s socket(AF_INET)\n",
	    "t.policy:2:11: \"socket(AF_INET)\": a syscall with arguments "
	    "is a rule of its own");
	/* One action for the rules with arguments of one syscall. */
	expect_err("default kill\ndeny socket(AF_PACKET)\n"
	    "allow socket(*,SOCK_STREAM)\n",
	    "t.policy:3:7: cannot allow \"socket(*,SOCK_STREAM)\": socket "
	    "with arguments is already deny at t.policy:2:6");
	/* ...which may differ from the plain rule: they are its exception. */
	expect_err("default errno EPERM\nallow socket\n"
	    "deny socket(AF_PACKET)\nkill socket(16,0x3,6)\n",
	    "t.policy:4:6: cannot kill \"socket(16,0x3,6)\": socket with "
	    "arguments is already deny at t.policy:3:6; the rules with "
	    "arguments of one syscall share one action\n");
	e = parse_errs("default errno EPERM\nallow socket ioctl\n"
	    "deny socket(AF_PACKET) socket(*,SOCK_RAW) socket(AF_PACKET)\n"
	    "deny socket(16,0x3,6)\n"
	    "allow ioctl(*,SECCOMP_IOCTL_NOTIF_RECV)\n", NULL, &p);
	ck_assert_str_eq(e, "");
	free(e);
	ck_assert(nf_policy_has_deny(p));
	d = dump_text(p);
	ck_assert_msg(strstr(d, "default errno EPERM\nallow ioctl\n"
	    "allow socket\nallow ioctl(*,SECCOMP_IOCTL_NOTIF_RECV)\n"
	    "deny socket(*,SOCK_RAW)\ndeny socket(AF_NETLINK,3,NETLINK_XFRM)\n"
	    "deny socket(AF_PACKET)\n") != NULL, "dump:\n%s",
	    d);
	free(d);
	nf_policy_free(p);
}
END_TEST

START_TEST(test_every_error_reported)
{
	char	*e, *p;
	int	 n = 0;

	e = parse_errs("default kill\nallow opne\nfoo\nallow @x\n", NULL,
	    NULL);
	for (p = e; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_nonnull(strstr(e, "t.policy:2:7:"));
	ck_assert_ptr_nonnull(strstr(e, "t.policy:3:1:"));
	ck_assert_ptr_nonnull(strstr(e, "t.policy:4:7:"));
	free(e);
}
END_TEST

/* A scratch directory of policy files. */
static char tmpdir[64];

static void
put(const char *name, const char *text)
{
	char	*path;
	FILE	*fp;

	path = nf_xprintf("%s/%s.policy", tmpdir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

static void
mkscratch(void)
{
	strcpy(tmpdir, "/tmp/nf-policy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Remove the scratch directory (flat: files only). */
static void
rmscratch(void)
{
	DIR		*d;
	struct dirent	*de;
	char		*path;

	ck_assert_ptr_nonnull(d = opendir(tmpdir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = nf_xprintf("%s/%s", tmpdir, de->d_name);
		ck_assert_int_eq(unlink(path), 0);
		free(path);
	}
	closedir(d);
	ck_assert_int_eq(rmdir(tmpdir), 0);
}

static char *
load_errs(const char *name, struct nf_policy **pp)
{
	struct nf_errs		 errs;
	struct nf_policy	*p;
	struct nf_buf		 b;
	size_t			 i;

	nf_errs_init(&errs);
	p = nf_policy_load(tmpdir, name, &errs);
	nf_buf_init(&b);
	for (i = 0; i < errs.n; i++)
		nf_buf_printf(&b, "%s\n", errs.msgs[i]);
	nf_errs_free(&errs);
	ck_assert(p == NULL || b.len == 0);
	if (pp != NULL)
		*pp = p;
	else
		nf_policy_free(p);
	return nf_buf_steal(&b);
}

START_TEST(test_include_cycle)
{
	char	*e, *want;

	mkscratch();
	put("a", "default kill\ninclude b\n");
	put("b", "# b\ninclude c\n");
	put("c", "allow read\n  include a\n");
	e = load_errs("a", NULL);
	want = nf_xprintf("%s/c.policy:2:11: include cycle: a -> b -> c -> "
	    "a", tmpdir);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "got %s", e);
	free(want);
	free(e);
	/* Including oneself is a cycle too. */
	put("self", "default kill\ninclude self\n");
	e = load_errs("self", NULL);
	ck_assert_ptr_nonnull(strstr(e, "include cycle: self -> self"));
	free(e);
	rmscratch();
}
END_TEST

START_TEST(test_include_depth)
{
	char	 name[16], text[64], *e;
	int	 i;

	mkscratch();
	/* p0 includes p1 ... includes p9: nine levels of include. */
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		if (i < 9)
			snprintf(text, sizeof(text), "default kill\n"
			    "include p%d\n", i + 1);
		else
			snprintf(text, sizeof(text), "allow read\n");
		put(name, text);
	}
	e = load_errs("p0", NULL);
	ck_assert_ptr_nonnull(strstr(e, "p8.policy:2:9: includes nested "
	    "deeper than 8"));
	free(e);
	/* Eight levels are fine. */
	e = load_errs("p1", NULL);
	ck_assert_str_eq(e, "");
	free(e);
	rmscratch();
}
END_TEST

START_TEST(test_include_defaults_and_groups)
{
	struct nf_policy	*p;
	char			*e, *d, *want;

	mkscratch();
	put("lib", "default kill\ndefine @io read write\nallow @io\n");
	put("lib2", "default errno EPERM\nallow getpid\n");
	put("nodef", "allow close\n");
	/* An included default applies when the includer sets none. */
	put("inherit", "include nodef\ninclude lib\nallow @io close\n");
	e = load_errs("inherit", &p);
	ck_assert_str_eq(e, "");
	d = dump_text(p);
	ck_assert_str_eq(d, "# policy inherit\n"
	    "# arch x86_64 (any other architecture, and x32: kill)\n"
	    "default kill\n"
	    "allow close\nallow read\nallow write\n");
	free(d);
	free(e);
	nf_policy_free(p);
	/* The includer's own default wins, wherever its line is. */
	put("own", "include lib\ndefault errno EACCES\n");
	e = load_errs("own", &p);
	ck_assert_str_eq(e, "");
	d = dump_text(p);
	ck_assert_ptr_nonnull(strstr(d, "default errno EACCES\n"));
	free(d);
	free(e);
	nf_policy_free(p);
	/* Includes that disagree need a default in the includer. */
	put("split", "include lib\ninclude lib2\n");
	e = load_errs("split", NULL);
	want = nf_xprintf("%s/split.policy: included policies have different "
	    "default actions (kill from %s/lib.policy, errno EPERM from "
	    "%s/lib2.policy)", tmpdir, tmpdir, tmpdir);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "got %s", e);
	free(want);
	free(e);
	/*
	 * Two files defining the same group.  The second has a line of many
	 * words, so the token array is reallocated while it is parsed.
	 */
	put("lib3", "define @io read write readv writev pread64 pwrite64 "
	    "preadv pwritev preadv2 pwritev2 lseek close dup dup2 dup3 "
	    "getpid gettid\n");
	put("twice", "default kill\n  include lib\n\tinclude lib3\n");
	e = load_errs("twice", NULL);
	want = nf_xprintf("%s/twice.policy:3:10: group \"@io\" from "
	    "%s/lib3.policy:1:8 is already defined at %s/lib.policy:2:8",
	    tmpdir, tmpdir, tmpdir);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "got %s", e);
	free(want);
	free(e);
	put("split2", "include lib\ninclude lib2\ndefault kill\n");
	e = load_errs("split2", NULL);
	ck_assert_str_eq(e, "");
	free(e);
	/* A rule of the includer contradicting an included one. */
	put("clash", "include lib\nkill write\n");
	e = load_errs("clash", NULL);
	want = nf_xprintf("%s/clash.policy:2:6: cannot kill \"write\": "
	    "\"write\" is already allow at %s/lib.policy:3:7", tmpdir, tmpdir);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "got %s", e);
	free(want);
	free(e);
	/* Diamonds are fine; a missing file is reported where included. */
	put("diamond", "include inherit\ninclude lib\n");
	e = load_errs("diamond", NULL);
	ck_assert_str_eq(e, "");
	free(e);
	put("missing", "default kill\n\ninclude nothere\n");
	e = load_errs("missing", NULL);
	want = nf_xprintf("%s/missing.policy:3:9: cannot include \"nothere\": "
	    "%s/nothere.policy: No such file", tmpdir, tmpdir);
	ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "got %s", e);
	free(want);
	free(e);
	/* A group defined in an include is not visible before it. */
	put("early", "default kill\nallow @io\ninclude lib\n");
	e = load_errs("early", NULL);
	ck_assert_ptr_nonnull(strstr(e, "early.policy:2:7: unknown group "
	    "\"@io\""));
	free(e);
	e = load_errs("../etc/passwd", NULL);
	ck_assert_str_eq(e, "bad policy name \"../etc/passwd\"; expected "
	    "[A-Za-z0-9_-]+\n");
	free(e);
	e = load_errs("nosuch", NULL);
	ck_assert_ptr_nonnull(strstr(e, "nosuch.policy: cannot read policy"));
	free(e);
	rmscratch();
}
END_TEST

static void
golden(const char *name)
{
	struct nf_errs		 errs;
	struct nf_policy	*p, *again;
	char			*dir, *path, *d, *d2, *want;
	size_t			 i;
	FILE			*fp;
	long			 len;

	dir = policydir();
	nf_errs_init(&errs);
	p = nf_policy_load(dir, name, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	ck_assert_msg(p != NULL, "%s.policy does not compile", name);
	nf_errs_free(&errs);
	d = dump_text(p);
	path = nf_xprintf("%s/tests/golden/policy-%s.txt", srcdir(), name);
	if (getenv("NF_GOLDEN_UPDATE") != NULL) {
		ck_assert_ptr_nonnull(fp = fopen(path, "w"));
		ck_assert_int_ge(fputs(d, fp), 0);
		ck_assert_int_eq(fclose(fp), 0);
	}
	ck_assert_msg((fp = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	ck_assert_int_ge(len = ftell(fp), 0);
	rewind(fp);
	want = nf_xcalloc(1, (size_t)len + 1);
	ck_assert_uint_eq(fread(want, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	ck_assert_msg(strcmp(d, want) == 0, "%s differs from the dump of "
	    "%s.policy:\n%s", path, name, d);
	/* The dump is a policy that compiles to the same rules. */
	free(path);
	path = nf_xprintf("%s.policy", name);
	nf_errs_init(&errs);
	again = nf_policy_parse(d, strlen(d), path, NULL, &errs);
	ck_assert_msg(again != NULL, "dump of %s does not parse: %s", name,
	    errs.n ? errs.msgs[0] : "?");
	nf_errs_free(&errs);
	d2 = dump_text(again);
	ck_assert_str_eq(d2, d);
	free(d2);
	nf_policy_free(again);
	free(want);
	free(path);
	free(d);
	free(dir);
	nf_policy_free(p);
}

START_TEST(test_golden)
{
	static const char *const names[] = { "base", "relay", "sql", "exec",
	    "http" };

	golden(names[_i]);
}
END_TEST

static struct nf_policy *
shipped(const char *name)
{
	struct nf_errs		 errs;
	struct nf_policy	*p;
	char			*dir;

	dir = policydir();
	nf_errs_init(&errs);
	p = nf_policy_load(dir, name, &errs);
	ck_assert_msg(p != NULL, "%s.policy: %s", name,
	    errs.n ? errs.msgs[0] : "?");
	nf_errs_free(&errs);
	free(dir);
	return p;
}

/*
 * Run fn in a child under policy; fn's return is the exit status.  The
 * child's stdout goes to out (if not NULL).  Returns the wait status.
 */
static int
sandboxed(const char *policy, int (*fn)(void), char *out, size_t outlen)
{
	struct nf_policy	*p;
	pid_t			 pid;
	ssize_t			 n;
	size_t			 got = 0;
	int			 fds[2], status;

	p = shipped(policy);
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == -1)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(120);
		if (nf_policy_install(p) == -1)
			_exit(121);
		_exit(fn());
	}
	close(fds[1]);
	while (out != NULL && got + 1 < outlen &&
	    (n = read(fds[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	if (out != NULL)
		out[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	nf_policy_free(p);
	return status;
}

static void
assert_exit(int status, int code)
{
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == code,
	    "want exit %d, got %s %d", code,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void
assert_sigsys(int status)
{
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "want SIGSYS, got %s %d", WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static int
do_write(void)
{
	return write(STDOUT_FILENO, "ok\n", 3) == 3 ? 0 : 1;
}

static int
do_getppid(void)
{
	(void)getppid();
	return 0;
}

static int
do_x32_getpid(void)
{
	/* x32 ABI: same AUDIT_ARCH as x86_64, numbers with bit 30 set. */
	(void)syscall(0x40000000 | SYS_getpid);
	return 0;
}

START_TEST(test_base_sandbox)
{
	char	out[64];

	assert_exit(sandboxed("base", do_write, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "ok\n");
	assert_sigsys(sandboxed("base", do_getppid, NULL, 0));
	assert_sigsys(sandboxed("base", do_x32_getpid, NULL, 0));
	/* relay adds process control but still no fork. */
	assert_exit(sandboxed("relay", do_write, out, sizeof(out)), 0);
	assert_sigsys(sandboxed("relay", do_getppid, NULL, 0));
}
END_TEST

static int
exec_sh(void)
{
	execl("/bin/sh", "sh", "-c", "set -e; echo hi; ls / >/dev/null; "
	    "/bin/true; d=$(mktemp -d); echo x > $d/f; cat $d/f >/dev/null; "
	    "rm -r $d; echo done", (char *)NULL);
	return 126;
}

static int
exec_python(void)
{
	execl("/usr/bin/python3", "python3", "-c", "import os, threading, "
	    "subprocess, socket, tempfile\n"
	    "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
	    "r = subprocess.run(['/bin/echo', 'sub'], capture_output=True)\n"
	    "s = socket.socket(); s.close()\n"
	    "with tempfile.TemporaryFile() as f: f.write(b'x')\n"
	    "print(1, r.stdout.decode().strip())", (char *)NULL);
	return 126;
}

START_TEST(test_exec_runs_programs)
{
	char	out[256];

	assert_exit(sandboxed("exec", exec_sh, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "hi\ndone\n");
	if (access("/usr/bin/python3", X_OK) == -1)
		ck_abort_msg("/usr/bin/python3 missing: cannot check exec");
	assert_exit(sandboxed("exec", exec_python, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1 sub\n");
}
END_TEST

static int
do_ptrace(void)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 0;
}

static int
do_unshare(void)
{
	(void)unshare(CLONE_NEWUSER);
	return 0;
}

static int
do_mount(void)
{
	/* A target that does not exist: harmless should the filter fail. */
	(void)mount("none", "/nonexistent/nomaflow-test", "tmpfs", 0, NULL);
	return 0;
}

static int
do_bpf(void)
{
	(void)syscall(SYS_bpf, 0, NULL, 0);
	return 0;
}

/* Not listed in exec.policy: the default, EPERM, not a kill. */
static int
do_personality(void)
{
	errno = 0;
	if (personality(0xffffffff) == -1 && errno == EPERM)
		return 0;
	return 1;
}

static int
exec_python_unshare(void)
{
	/* A program doing a forbidden call after exec dies too. */
	execl("/usr/bin/python3", "python3", "-c", "import ctypes\n"
	    "ctypes.CDLL(None, use_errno=True).unshare(0x10000000)\n"
	    "print('escaped')", (char *)NULL);
	return 126;
}

START_TEST(test_exec_kills_forbidden)
{
	char	out[64];

	assert_sigsys(sandboxed("exec", do_ptrace, NULL, 0));
	assert_sigsys(sandboxed("exec", do_unshare, NULL, 0));
	assert_sigsys(sandboxed("exec", do_mount, NULL, 0));
	assert_sigsys(sandboxed("exec", do_bpf, NULL, 0));
	assert_sigsys(sandboxed("exec", do_x32_getpid, NULL, 0));
	assert_exit(sandboxed("exec", do_personality, NULL, 0), 0);
	assert_sigsys(sandboxed("exec", exec_python_unshare, out, sizeof(out)));
	ck_assert_str_eq(out, "");
}
END_TEST

/* What the http step does besides libcurl itself: see test_http_sandbox. */
static int	httpport;

static void *
http_thread(void *arg)
{
	struct addrinfo	hints, *res = NULL;

	/* getaddrinfo() in a thread, as curl's threaded resolver does. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", "80", &hints, &res) != 0)
		return &httpport;
	freeaddrinfo(res);
	return arg;
}

static int
do_http_client(void)
{
	struct sockaddr_in	sin;
	pthread_t		t;
	void			*r;
	int			s;

	if (pthread_create(&t, NULL, http_thread, NULL) != 0 ||
	    pthread_join(t, &r) != 0 || r != NULL)
		return 2;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 3;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)httpport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return 4;
	if (write(s, "GET / HTTP/1.0\r\n\r\n", 18) != 18)
		return 5;
	close(s);
	return 0;
}

static int
do_http_listen(void)
{
	int	s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 3;
	(void)listen(s, 1);
	return 0;
}

START_TEST(test_http_sandbox)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			l;

	ck_assert_int_ne(l = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	httpport = ntohs(sin.sin_port);
	/* A client with a resolver thread works... */
	assert_exit(sandboxed("http", do_http_client, NULL, 0), 0);
	close(l);
	/* ...a server does not, and neither does running a program. */
	assert_sigsys(sandboxed("http", do_http_listen, NULL, 0));
	assert_sigsys(sandboxed("http", exec_sh, NULL, 0));
	assert_sigsys(sandboxed("http", do_ptrace, NULL, 0));
}
END_TEST

static char sqlpath[PATH_MAX];
static int sqlwant;		/* rows expected after the insert */

static int
do_sqlite(void)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 rc, n = -1;

	if (sqlite3_open_v2(sqlpath, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		return 2;
	rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
	    "CREATE TABLE IF NOT EXISTS t(x);"
	    "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"
	    "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return 3;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st,
	    NULL) != SQLITE_OK)
		return 4;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_close(db) != SQLITE_OK)
		return 5;
	return n == sqlwant ? 0 : 6;
}

START_TEST(test_sql_sandbox)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		*mode = NULL;

	mkscratch();
	snprintf(sqlpath, sizeof(sqlpath), "%s/db.sqlite", tmpdir);
	/* sqlite3_initialize() is left to the sandboxed child on purpose. */
	sqlwant = 2;
	assert_exit(sandboxed("sql", do_sqlite, NULL, 0), 0);
	/* The file really is a WAL database with the two rows. */
	ck_assert_int_eq(sqlite3_open(sqlpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	mode = nf_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	ck_assert_str_eq(mode, "wal");
	free(mode);
	sqlite3_close(db);
	/* A second run on the existing WAL database. */
	sqlwant = 4;
	assert_exit(sandboxed("sql", do_sqlite, NULL, 0), 0);
	rmscratch();
}
END_TEST

static int
exec_true(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return 126;
}

static int
do_sql_listen(void)
{
	int	fd;

	/* A PostgreSQL cancel request may connect; nothing may listen. */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 3;
	(void)listen(fd, 1);
	return 4;
}

/* A sql step (SQLite or libpq) can neither run a program nor serve. */
START_TEST(test_sql_no_exec)
{
	assert_sigsys(sandboxed("sql", exec_true, NULL, 0));
	assert_sigsys(sandboxed("sql", do_sql_listen, NULL, 0));
}
END_TEST

/* The deny matrix (deny.policy), as a worker's own policy sees it. */
static int
do_packet(void)
{
	(void)socket(AF_PACKET, SOCK_RAW, 0);
	return 0;
}

static int
do_packet_hiword(void)
{
	/* The kernel reads an int: the high word must not slip past. */
	(void)syscall(SYS_socket, (1ULL << 32) | AF_PACKET, SOCK_RAW, 0);
	return 0;
}

static int
do_raw(void)
{
	(void)socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	return 0;
}

static int
do_netlink_xfrm(void)
{
	(void)socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM);
	return 0;
}

static int
do_io_uring(void)
{
	(void)syscall(SYS_io_uring_setup, 1, NULL);
	return 0;
}

static int
do_perf(void)
{
	(void)syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	return 0;
}

static int
do_userfaultfd(void)
{
	(void)syscall(SYS_userfaultfd, 0);
	return 0;
}

static int
do_keyctl(void)
{
	(void)syscall(SYS_keyctl, 0, -1, 0);
	return 0;
}

static int
do_add_key(void)
{
	(void)syscall(SYS_add_key, "user", "nomaflow-test", "x", 1, -2);
	return 0;
}

static int
do_process_vm_readv(void)
{
	(void)syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0);
	return 0;
}

static int
do_kexec(void)
{
	(void)syscall(SYS_kexec_load, 0, 0, NULL, 0);
	return 0;
}

static int
do_init_module(void)
{
	(void)syscall(SYS_init_module, NULL, 0, "");
	return 0;
}

static int
do_inet(void)
{
	int	fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 3;
	close(fd);
	return 0;
}

static int
do_tcgets(void)
{
	struct termios	t;

	(void)ioctl(STDIN_FILENO, TCGETS, &t);
	return 0;
}

static int
do_notif_recv(void)
{
	struct seccomp_notif	n;

	/* Not a listener: the call fails, but it is let through. */
	memset(&n, 0, sizeof(n));
	return ioctl(STDIN_FILENO, SECCOMP_IOCTL_NOTIF_RECV, &n) == -1 ? 0 :
	    1;
}

/*
 * sql, http and relay are the worker's own policies: nobody listens, so
 * every call of the deny matrix kills the worker (SIGSYS), sockets it may
 * otherwise open included.
 */
START_TEST(test_workers_deny_matrix)
{
	static const char *const pols[] = { "sql", "http", "relay" };
	static int (*const fns[])(void) = { do_packet, do_packet_hiword,
	    do_raw, do_netlink_xfrm, do_io_uring, do_perf, do_userfaultfd,
	    do_keyctl, do_add_key, do_process_vm_readv, do_kexec,
	    do_init_module, do_ptrace, do_bpf, do_mount, do_unshare };
	size_t	i;

	for (i = 0; i < NF_NELEM(fns); i++)
		assert_sigsys(sandboxed(pols[_i], fns[i], NULL, 0));
	if (_i < 2)	/* sql and http may still open a TCP socket */
		assert_exit(sandboxed(pols[_i], do_inet, NULL, 0), 0);
	if (_i == 2) {	/* relay reads the listener and nothing else */
		assert_exit(sandboxed("relay", do_notif_recv, NULL, 0), 0);
		assert_sigsys(sandboxed("relay", do_tcgets, NULL, 0));
	}
}
END_TEST

/*
 * A worker's own policy with its SIGSYS handler (worker/sandbox.c): a
 * deny rule traps, the handler sends one STEP_RESULT frame that the
 * supervisor's decoder accepts, naming the call and its arguments, and the
 * process still dies by SIGSYS.  A call the policy kills (not "deny")
 * sends nothing: no handler sees a kill.  fd 3 is the worker's socket.
 */
static int
trapped(const char *policy, int (*fn)(void), char *what, size_t whatlen)
{
	struct nf_policy	*p;
	struct nf_val		*msg;
	const struct nf_val	*a;
	enum nf_msg_type	 type;
	uint64_t		 args[6] = { 0 };
	int64_t			 nr;
	uint8_t			 buf[512];
	char			 err[256], e[64];
	ssize_t			 n;
	size_t			 got = 0, i;
	int			 sv[2], status;
	pid_t			 pid;

	p = shipped(policy);
	ck_assert(nf_policy_has_deny(p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == -1)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], NF_WORKER_FD) == -1)
			_exit(120);
		if (nf_sandbox_install(p, e, sizeof(e)) == -1)
			_exit(121);
		_exit(fn());
	}
	close(sv[1]);
	while (got < sizeof(buf) &&
	    (n = read(sv[0], buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	close(sv[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	assert_sigsys(status);
	nf_policy_free(p);
	*what = '\0';
	if (got == 0)
		return 0;
	ck_assert_uint_ge(got, 4);
	ck_assert_uint_eq(((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	    (size_t)buf[2] << 8 | buf[3]) + 4, got);
	ck_assert_msg(nf_msg_decode(NF_DIR_FROM_WORKER, buf + 4, got - 4,
	    &type, &msg, err, sizeof(err)) == 0, "decode: %s", err);
	ck_assert_int_eq(type, NF_MSG_STEP_RESULT);
	ck_assert_str_eq(nf_val_get_str(msg, "reason"), "sandbox");
	ck_assert(nf_val_get_int(msg, "syscall", &nr));
	ck_assert_ptr_nonnull(a = nf_val_get(msg, "syscall_args"));
	ck_assert_int_eq(a->type, NF_V_ARR);
	ck_assert_uint_eq(a->u.a.n, 6);
	for (i = 0; i < 6; i++)
		args[i] = (uint64_t)a->u.a.items[i]->u.i;
	nf_policy_describe((int)nr, args, what, whatlen);
	nf_val_free(msg);
	return 1;
}

START_TEST(test_workers_deny_trap_names)
{
	static const char *const pols[] = { "sql", "http", "relay" };
	char	what[128];

	ck_assert(trapped(pols[_i], do_ptrace, what, sizeof(what)));
	ck_assert_str_eq(what, "ptrace");
	ck_assert(trapped(pols[_i], do_packet, what, sizeof(what)));
	ck_assert_str_eq(what, "socket(AF_PACKET, SOCK_RAW)");
	ck_assert(trapped(pols[_i], do_mount, what, sizeof(what)));
	ck_assert_str_eq(what, "mount");
	if (_i == 2)	/* relay: ioctl(TCGETS) is a plain kill, not a deny */
		ck_assert(!trapped("relay", do_tcgets, what, sizeof(what)));
}
END_TEST

/*
 * exec.policy installed as a worker's child does: a deny rule stops the
 * call and notifies the listener, which learns the call and its
 * arguments; an allowed socket goes through.
 */
static pid_t
listened(struct nf_policy *p, int (*fn)(void), int *lfd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	}		 u;
	char		 c = 0;
	int		 sv[2], fd = -1;
	pid_t		 pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == -1)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		if (nf_policy_install_listen(p, &fd) == -1 || fd == -1)
			_exit(121);
		memset(&msg, 0, sizeof(msg));
		memset(&u, 0, sizeof(u));
		iov.iov_base = &c;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		if (sendmsg(sv[1], &msg, 0) != 1)
			_exit(122);
		close(fd);
		close(sv[1]);
		_exit(fn());
	}
	close(sv[1]);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	ck_assert_int_eq(recvmsg(sv[0], &msg, 0), 1);
	ck_assert_ptr_nonnull(cm = CMSG_FIRSTHDR(&msg));
	memcpy(lfd, CMSG_DATA(cm), sizeof(int));
	close(sv[0]);
	return pid;
}

START_TEST(test_exec_deny_notifies)
{
	struct nf_policy	*p;
	struct seccomp_notif	 n;
	struct pollfd		 pfd;
	uint64_t		 args[6];
	char			 what[128];
	int			 lfd, status;
	pid_t			 pid;

	p = shipped("exec");
	ck_assert(nf_policy_has_deny(p));
	pid = listened(p, do_raw, &lfd);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	memset(&n, 0, sizeof(n));
	ck_assert_int_eq(ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &n), 0);
	ck_assert_int_eq(n.pid, pid);
	ck_assert_int_eq(n.data.nr, SYS_socket);
	memcpy(args, n.data.args, sizeof(args));
	nf_policy_describe(n.data.nr, args, what, sizeof(what));
	ck_assert_str_eq(what, "socket(AF_INET, SOCK_RAW)");
	/* The call stays stopped until the listener ends it. */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(lfd);

	pid = listened(p, do_inet, &lfd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	assert_exit(status, 0);
	close(lfd);

	nf_policy_describe(SYS_ptrace, args, what, sizeof(what));
	ck_assert_str_eq(what, "ptrace");
	nf_policy_free(p);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("policy");
	tc = tcase_create("parse");
	tcase_add_test(tc, test_minimal_dump);
	tcase_add_loop_test(tc, test_trap_and_log_defaults, 0, 2);
	tcase_add_test(tc, test_groups_and_defines);
	tcase_add_test(tc, test_every_builtin_group);
	tcase_add_test(tc, test_error_positions);
	tcase_add_test(tc, test_contradictions);
	tcase_add_test(tc, test_argument_rules);
	tcase_add_test(tc, test_every_error_reported);
	suite_add_tcase(s, tc);
	tc = tcase_create("include");
	tcase_add_test(tc, test_include_cycle);
	tcase_add_test(tc, test_include_depth);
	tcase_add_test(tc, test_include_defaults_and_groups);
	suite_add_tcase(s, tc);
	tc = tcase_create("golden");
	tcase_add_loop_test(tc, test_golden, 0, 5);
	suite_add_tcase(s, tc);
	tc = tcase_create("sandbox");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_base_sandbox);
	tcase_add_test(tc, test_exec_runs_programs);
	tcase_add_test(tc, test_exec_kills_forbidden);
	tcase_add_test(tc, test_sql_sandbox);
	tcase_add_test(tc, test_sql_no_exec);
	tcase_add_test(tc, test_http_sandbox);
	tcase_add_loop_test(tc, test_workers_deny_matrix, 0, 3);
	tcase_add_loop_test(tc, test_workers_deny_trap_names, 0, 3);
	tcase_add_test(tc, test_exec_deny_notifies);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(policy_suite)
