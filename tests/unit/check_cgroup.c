/*
 * check_cgroup.c: unit tests of supervisor/cgroup.c's parsing: the
 * cgroup2 line of /proc/self/cgroup (hybrid and unified hosts), mountinfo
 * lines (optional fields, octal escapes, other file systems, malformed
 * ones) and the directory of a cgroup under the cgroup2 mount, also when
 * the mount shows a subtree only (a container).
 */
#include "autoconf.h"

#include <string.h>

#include "nf_check.h"
#include "cgroup.h"

START_TEST(self_line)
{
	char	out[256];

	/* A hybrid host: v1 hierarchies, then the v2 line. */
	ck_assert_int_eq(nf_cgroup_parse_self(
	    "9:name=systemd:/\n8:pids:/\n4:memory:/x/y\n0::/\n", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	/* Unified, no trailing newline. */
	ck_assert_int_eq(nf_cgroup_parse_self(
	    "0::/system.slice/nomaflowd.service", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/system.slice/nomaflowd.service");
	/* A v1 line whose controller list is empty is not the v2 one. */
	ck_assert_int_eq(nf_cgroup_parse_self("1:name=systemd:/a\n", out,
	    sizeof(out)), -1);
	/* v1 only. */
	ck_assert_int_eq(nf_cgroup_parse_self("3:cpu:/\n2:pids:/\n", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(nf_cgroup_parse_self("", out, sizeof(out)), -1);
	/* Too long for out. */
	ck_assert_int_eq(nf_cgroup_parse_self("0::/abcdefgh\n", out, 5), -1);
}
END_TEST

START_TEST(mountinfo_line)
{
	char	mnt[256], root[256];

	ck_assert_int_eq(nf_cgroup_parse_mountinfo(
	    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 "
	    "cgroup2 rw", mnt, sizeof(mnt), root, sizeof(root)), 1);
	ck_assert_str_eq(mnt, "/sys/fs/cgroup/unified");
	ck_assert_str_eq(root, "/");
	/* Optional fields before the separator. */
	ck_assert_int_eq(nf_cgroup_parse_mountinfo(
	    "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 master:2 - "
	    "cgroup2 cgroup2 rw,nsdelegate", mnt, sizeof(mnt), root,
	    sizeof(root)), 1);
	ck_assert_str_eq(mnt, "/sys/fs/cgroup");
	/* A v1 hierarchy is cgroup, not cgroup2. */
	ck_assert_int_eq(nf_cgroup_parse_mountinfo(
	    "38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids",
	    mnt, sizeof(mnt), root, sizeof(root)), 0);
	/* Octal escapes: a space in the mount point. */
	ck_assert_int_eq(nf_cgroup_parse_mountinfo(
	    "50 1 0:40 /sub /mnt/my\\040cg rw - cgroup2 none rw", mnt,
	    sizeof(mnt), root, sizeof(root)), 1);
	ck_assert_str_eq(mnt, "/mnt/my cg");
	ck_assert_str_eq(root, "/sub");
	/* Malformed: no separator, too few fields. */
	ck_assert_int_eq(nf_cgroup_parse_mountinfo(
	    "40 30 0:37 / /sys/fs/cgroup rw cgroup2 cgroup2 rw", mnt,
	    sizeof(mnt), root, sizeof(root)), -1);
	ck_assert_int_eq(nf_cgroup_parse_mountinfo("40 30", mnt,
	    sizeof(mnt), root, sizeof(root)), -1);
	ck_assert_int_eq(nf_cgroup_parse_mountinfo("", mnt, sizeof(mnt),
	    root, sizeof(root)), -1);
}
END_TEST

static const char hybrid[] =
    "22 1 8:1 / / rw,relatime - ext4 /dev/vda rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

START_TEST(resolve)
{
	char	out[256];

	ck_assert_int_eq(nf_cgroup_resolve(hybrid, "/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/unified");
	ck_assert_int_eq(nf_cgroup_resolve(hybrid,
	    "/system.slice/nomaflowd.service", out, sizeof(out)), 0);
	ck_assert_str_eq(out,
	    "/sys/fs/cgroup/unified/system.slice/nomaflowd.service");
	/* No cgroup2 mount. */
	ck_assert_int_eq(nf_cgroup_resolve(
	    "38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n",
	    "/", out, sizeof(out)), -1);
	/* A mount showing a subtree: only paths inside it, made relative. */
	ck_assert_int_eq(nf_cgroup_resolve(
	    "50 1 0:40 /ctr /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
	    "/ctr/app", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/app");
	ck_assert_int_eq(nf_cgroup_resolve(
	    "50 1 0:40 /ctr /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
	    "/ctr", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup");
	ck_assert_int_eq(nf_cgroup_resolve(
	    "50 1 0:40 /ctr /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
	    "/ctrl/app", out, sizeof(out)), -1);
	/* Too long for out. */
	ck_assert_int_eq(nf_cgroup_resolve(hybrid, "/abc", out, 10), -1);
}
END_TEST

static Suite *
cgroup_suite(void)
{
	Suite	*s = suite_create("cgroup");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, self_line);
	tcase_add_test(tc, mountinfo_line);
	tcase_add_test(tc, resolve);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(cgroup_suite)
