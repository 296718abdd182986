/*
 * check_acl.c: unit tests of supervisor/acl.c: the grant grammar (every
 * verb, targets, globs, the errors and their offsets), loading [[role]],
 * [[user]] and [[group]] from TOML (errors with file:line:col, unknown
 * keys and roles, duplicates), and the check: globs, tags, implied view,
 * admin, group bindings, and the built-in admin of root and the daemon's
 * user that a [[user]] entry replaces.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nf_check.h"
#include "acl.h"
#include "toml.h"
#include "util.h"

/* Parse a grant that must be valid. */
static struct nf_acl_grant
grant(const char *s)
{
	struct nf_acl_grant	 g;
	char			 err[256];
	size_t			 pos;

	ck_assert_msg(nf_acl_grant_parse(s, &g, err, sizeof(err), &pos) == 0,
	    "%s: %s", s, err);
	return g;
}

/* A grant that must be refused; returns the offset, checks the message. */
static size_t
bad_grant(const char *s, const char *msg)
{
	struct nf_acl_grant	 g;
	char			 err[256];
	size_t			 pos;

	ck_assert_msg(nf_acl_grant_parse(s, &g, err, sizeof(err), &pos) == -1,
	    "%s: accepted", s);
	ck_assert_msg(strstr(err, msg) != NULL, "%s: [%s] lacks [%s]", s, err,
	    msg);
	return pos;
}

START_TEST(grant_grammar)
{
	struct nf_acl_grant	g;

	g = grant("run job:nightly-*");
	ck_assert_int_eq(g.verb, NF_ACL_RUN);
	ck_assert_int_eq(g.kind, NF_ACL_JOB);
	ck_assert_str_eq(g.pattern, "nightly-*");
	nf_acl_grant_free(&g);
	g = grant("  view \t tag:finance team  ");
	ck_assert_int_eq(g.verb, NF_ACL_VIEW);
	ck_assert_int_eq(g.kind, NF_ACL_TAG);
	ck_assert_str_eq(g.pattern, "finance team");
	nf_acl_grant_free(&g);
	g = grant("reload");
	ck_assert_int_eq(g.verb, NF_ACL_RELOAD);
	ck_assert_int_eq(g.kind, NF_ACL_DAEMON);
	ck_assert_ptr_null(g.pattern);
	g = grant("admin");
	ck_assert_int_eq(g.verb, NF_ACL_ADMIN);
	g = grant("secrets");
	ck_assert_int_eq(g.verb, NF_ACL_SECRETS);
	g = grant("audit");
	ck_assert_int_eq(g.verb, NF_ACL_AUDIT);
	g = grant("cancel job:[ab]?x");
	nf_acl_grant_free(&g);
	g = grant("replay job:x");
	nf_acl_grant_free(&g);
	g = grant("enable job:*");
	nf_acl_grant_free(&g);
}
END_TEST

START_TEST(grant_errors)
{
	ck_assert_uint_eq(bad_grant("", "empty grant"), 0);
	ck_assert_uint_eq(bad_grant("   ", "empty grant"), 0);
	ck_assert_uint_eq(bad_grant("  launch job:x",
	    "unknown verb \"launch\""), 2);
	ck_assert_uint_eq(bad_grant("Run job:x", "unknown verb"), 0);
	ck_assert_uint_eq(bad_grant("averyveryverylongverbname", "unknown "
	    "verb"), 0);
	ck_assert_uint_eq(bad_grant("reload job:x", "takes no target"), 7);
	ck_assert_uint_eq(bad_grant("admin tag:a", "takes no target"), 6);
	ck_assert_uint_eq(bad_grant("run", "needs a target"), 3);
	ck_assert_uint_eq(bad_grant("view  ", "needs a target"), 4);
	ck_assert_uint_eq(bad_grant("run daemon", "unknown target \"daemon\""),
	    4);
	ck_assert_uint_eq(bad_grant("run *", "unknown target"), 4);
	ck_assert_uint_eq(bad_grant("run job:", "empty pattern"), 8);
	ck_assert_uint_eq(bad_grant("view tag:", "empty pattern"), 9);
	ck_assert_uint_eq(bad_grant("run job:a.b", "can never match"), 9);
	ck_assert_uint_eq(bad_grant("run job:a b", "can never match"), 9);
	ck_assert_uint_eq(bad_grant("view tag:a b\x01", "control character"),
	    12);
}
END_TEST

/* Load a nomaflow.toml text; errors into errs. */
static struct nf_acl *
load(const char *text, struct nf_errs *errs)
{
	struct nf_toml_value	*root;
	struct nf_acl		*acl;
	char			 err[512];

	nf_errs_init(errs);
	root = nf_toml_parse(text, strlen(text), "n.toml", err, sizeof(err));
	ck_assert_msg(root != NULL, "%s", err);
	acl = nf_acl_load(root, "n.toml", errs);
	nf_toml_free(root);
	ck_assert_ptr_nonnull(acl);
	return acl;
}

static struct nf_acl *
load_ok(const char *text)
{
	struct nf_errs	 errs;
	struct nf_acl	*acl;

	acl = load(text, &errs);
	ck_assert_msg(errs.n == 0, "unexpected: %s", errs.n ? errs.msgs[0] :
	    "");
	nf_errs_free(&errs);
	return acl;
}

/* Loading text must report exactly the messages of want (in order). */
static void
load_bad(const char *text, const char *const *want, size_t nwant)
{
	struct nf_errs	 errs;
	struct nf_acl	*acl;
	size_t		 i;

	acl = load(text, &errs);
	for (i = 0; i < errs.n && i < nwant; i++)
		ck_assert_msg(strstr(errs.msgs[i], want[i]) != NULL,
		    "error %zu: [%s] lacks [%s]", i, errs.msgs[i], want[i]);
	ck_assert_msg(errs.n == nwant, "%zu errors, want %zu (first: %s)",
	    errs.n, nwant, errs.n ? errs.msgs[0] : "");
	nf_errs_free(&errs);
	nf_acl_free(acl);
}

static const char conf[] =
    "[[user]]\n"
    "name = \"alice\"\n"
    "roles = [\"runner\"]\n"
    "\n"
    "[[role]]\n"
    "name = \"runner\"\n"
    "grants = [\"run job:nightly-*\", \"cancel job:nightly-*\"]\n"
    "\n"
    "[[role]]\n"
    "name = \"finance\"\n"
    "description = \"reads the books\"\n"
    "grants = [\"view tag:fin*\"]\n"
    "\n"
    "[[role]]\n"
    "name = \"ops\"\n"
    "grants = [\"reload\", \"enable job:report\", \"audit\"]\n"
    "\n"
    "[[role]]\n"
    "name = \"boss\"\n"
    "grants = [\"admin\"]\n"
    "\n"
    "[[role]]\n"
    "name = \"nothing\"\n"
    "grants = []\n"
    "\n"
    "[[group]]\n"
    "name = \"accounting\"\n"
    "roles = [\"finance\"]\n"
    "\n"
    "[[group]]\n"
    "name = \"sre\"\n"
    "roles = [\"ops\", \"finance\"]\n"
    "\n"
    "[[user]]\n"
    "name = \"carol\"\n"
    "roles = [\"boss\"]\n"
    "\n"
    "[[user]]\n"
    "name = \"root\"\n"
    "roles = [\"nothing\"]\n";

static char *fin[] = { "finance", "monthly" };
static char *hr[] = { "hr" };

START_TEST(load_and_check)
{
	struct nf_acl		*acl = load_ok(conf);
	const char		*g_acc[] = { "staff", "accounting" };
	const char		*g_sre[] = { "sre" };
	struct nf_acl_ident	 alice = { "alice", 1001, NULL, 0, 0 };
	struct nf_acl_ident	 dave = { "dave", 1004, g_acc, 2, 0 };
	struct nf_acl_ident	 erin = { "erin", 1005, g_sre, 1, 0 };
	struct nf_acl_ident	 carol = { "carol", -1, NULL, 0, 0 };
	struct nf_acl_ident	 nobody = { NULL, 4242, NULL, 0, 0 };

	/* Globs on job ids; run implies view; nothing else. */
	ck_assert(nf_acl_allowed(acl, &alice, NF_ACL_RUN, "nightly-a", NULL,
	    0));
	ck_assert(nf_acl_allowed(acl, &alice, NF_ACL_CANCEL, "nightly-b", fin,
	    2));
	ck_assert(nf_acl_allowed(acl, &alice, NF_ACL_VIEW, "nightly-a", NULL,
	    0));
	ck_assert(!nf_acl_allowed(acl, &alice, NF_ACL_RUN, "nightly", NULL,
	    0));
	ck_assert(!nf_acl_allowed(acl, &alice, NF_ACL_RUN, "report", fin, 2));
	ck_assert(!nf_acl_allowed(acl, &alice, NF_ACL_ENABLE, "nightly-a",
	    NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &alice, NF_ACL_RELOAD, NULL, NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &alice, NF_ACL_VIEW, NULL, NULL, 0));

	/* Tags (glob), through a group; view does not imply run. */
	ck_assert(nf_acl_allowed(acl, &dave, NF_ACL_VIEW, "report", fin, 2));
	ck_assert(!nf_acl_allowed(acl, &dave, NF_ACL_VIEW, "payroll", hr, 1));
	ck_assert(!nf_acl_allowed(acl, &dave, NF_ACL_RUN, "report", fin, 2));
	/* A job that is gone has no tags: tag grants cannot match it. */
	ck_assert(!nf_acl_allowed(acl, &dave, NF_ACL_VIEW, "report", NULL, 0));

	/* Daemon verbs; enable on one job implies its view. */
	ck_assert(nf_acl_allowed(acl, &erin, NF_ACL_RELOAD, NULL, NULL, 0));
	ck_assert(nf_acl_allowed(acl, &erin, NF_ACL_AUDIT, NULL, NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &erin, NF_ACL_SECRETS, NULL, NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &erin, NF_ACL_ADMIN, NULL, NULL, 0));
	ck_assert(nf_acl_allowed(acl, &erin, NF_ACL_ENABLE, "report", NULL,
	    0));
	ck_assert(nf_acl_allowed(acl, &erin, NF_ACL_VIEW, "report", NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &erin, NF_ACL_ENABLE, "report2", NULL,
	    0));

	/* admin is everything, for a web account too. */
	ck_assert(nf_acl_allowed(acl, &carol, NF_ACL_SECRETS, NULL, NULL, 0));
	ck_assert(nf_acl_allowed(acl, &carol, NF_ACL_RUN, "anything", NULL,
	    0));
	ck_assert(nf_acl_allowed(acl, &carol, NF_ACL_ADMIN, NULL, NULL, 0));

	/* No binding: nothing. */
	ck_assert(!nf_acl_allowed(acl, &nobody, NF_ACL_VIEW, "nightly-a", NULL,
	    0));
	ck_assert(!nf_acl_bound(acl, &nobody));
	ck_assert(nf_acl_bound(acl, &alice));
	ck_assert(nf_acl_bound(acl, &dave));	/* through a group */
	ck_assert(!nf_acl_bound(NULL, &alice));
	nf_acl_free(acl);
}
END_TEST

START_TEST(builtin_admin)
{
	struct nf_acl		*acl = load_ok(conf), *empty;
	struct nf_acl_ident	 root = { "root", 0, NULL, 0, 1 };
	struct nf_acl_ident	 daemon = { "nomaflow", 998, NULL, 0, 1 };
	struct nf_acl_ident	 other = { "nomaflow", 998, NULL, 0, 0 };
	struct nf_buf		 b;

	/* The daemon's user is admin: no [[user]] names it. */
	ck_assert(nf_acl_allowed(acl, &daemon, NF_ACL_ADMIN, NULL, NULL, 0));
	ck_assert(nf_acl_allowed(acl, &daemon, NF_ACL_RUN, "x", NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &other, NF_ACL_RUN, "x", NULL, 0));
	/* root's [[user]] entry replaces its built-in admin. */
	ck_assert(!nf_acl_allowed(acl, &root, NF_ACL_RELOAD, NULL, NULL, 0));
	ck_assert(!nf_acl_allowed(acl, &root, NF_ACL_VIEW, "x", NULL, 0));
	/* No configuration at all, or no tables: built-in admins only. */
	ck_assert(nf_acl_allowed(NULL, &root, NF_ACL_RELOAD, NULL, NULL, 0));
	ck_assert(!nf_acl_allowed(NULL, &other, NF_ACL_VIEW, "x", NULL, 0));
	empty = load_ok("a = 1\n");
	ck_assert(nf_acl_allowed(empty, &root, NF_ACL_SECRETS, NULL, NULL, 0));
	ck_assert(!nf_acl_allowed(empty, &other, NF_ACL_VIEW, "x", NULL, 0));

	nf_buf_init(&b);
	nf_acl_roles(acl, &daemon, &b);
	ck_assert_str_eq(b.data, "admin (built in)");
	nf_buf_reset(&b);
	nf_acl_roles(acl, &root, &b);
	ck_assert_str_eq(b.data, "nothing");
	nf_buf_free(&b);
	nf_acl_free(empty);
	nf_acl_free(acl);
}
END_TEST

START_TEST(roles_text)
{
	struct nf_acl		*acl = load_ok(conf);
	const char		*g[] = { "sre", "accounting", "none" };
	struct nf_acl_ident	 who = { "alice", 1001, g, 3, 0 };
	struct nf_buf		 b;
	char			 t[64];

	nf_buf_init(&b);
	nf_acl_roles(acl, &who, &b);
	ck_assert_str_eq(b.data, "runner, ops, finance, finance");
	nf_buf_free(&b);
	nf_acl_ident_text(&who, t, sizeof(t));
	ck_assert_str_eq(t, "user alice (uid 1001)");
	who.user = NULL;
	nf_acl_ident_text(&who, t, sizeof(t));
	ck_assert_str_eq(t, "uid 1001");
	who.user = "bob";
	who.uid = -1;
	nf_acl_ident_text(&who, t, sizeof(t));
	ck_assert_str_eq(t, "account bob");
	nf_acl_free(acl);
}
END_TEST

START_TEST(load_errors)
{
	static const char *const e1[] = {
		"n.toml:4:1: unknown key \"colour\" in [[role]]",
		"n.toml:3:25: unknown verb \"launch\"",
		"n.toml:3:42: grant \"reload job:x\": reload applies",
		"n.toml:7:8: duplicate role \"r\"",
		"n.toml:11:8: role name \"b a d\" must be",
		"n.toml:24:1: [[role]] without a name",
		"n.toml:14:15: unknown role \"nope\"",
		"n.toml:22:8: duplicate [[user]] \"u\"",
		"n.toml:15:1: [[group]] without a name",
		"n.toml:18:1: unknown key \"uid\" in [[group]]",
	};
	static const char *const e2[] = {
		"n.toml:1:8: role must be an array of tables",
		"n.toml:2:8: user must be an array of tables",
		"n.toml:3:10: group must be an array of tables (write "
		    "[[group]] headers); this element is an integer",
	};
	static const char *const e3[] = {
		"n.toml:3:10: grants must be an array of strings, not a string",
		"n.toml:6:11: a grant must be a string, not an integer",
		"n.toml:9:1: [[role]] q without grants",
		"n.toml:7:1: [[user]] x without roles",
		"n.toml:11:1: [[user]] y without roles",
		"n.toml:15:8: [[user]] name must not be empty",
		"n.toml:14:9: roles must be an array of role names, not a "
		    "string",
	};

	load_bad(
	    "[[role]]\n"				/* 1 */
	    "name = \"r\"\n"
	    "grants = [\"run job:x\", \"launch\", \"reload job:x\"]\n"
	    "colour = \"red\"\n"
	    "[[role]]\n"				/* 5 */
	    "grants = []\n"
	    "name = \"r\"\n"
	    "\n"
	    "[[role]]\n"
	    "grants = []\n"				/* 10 */
	    "name = \"b a d\"\n"
	    "[[user]]\n"
	    "name = \"u\"\n"
	    "roles = [\"r\", \"nope\"]\n"
	    "[[group]]\n"				/* 15 */
	    "roles = [\"r\"]\n"
	    "[[group]]\n"
	    "uid = 5\n"
	    "name = \"g\"\n"
	    "roles = []\n"				/* 20 */
	    "[[user]]\n"
	    "name = \"u\"\n"
	    "roles = []\n"
	    "[[role]]\n"
	    "grants = []\n",				/* 25 */
	    e1, NF_NELEM(e1));
	load_bad("role = \"x\"\nuser = { a = 1 }\ngroup = [1]\n", e2,
	    NF_NELEM(e2));
	load_bad(
	    "[[role]]\n"
	    "name = \"a\"\n"
	    "grants = \"run job:x\"\n"
	    "[[role]]\n"
	    "name = \"b\"\n"
	    "grants = [1]\n"
	    "[[user]]\n"
	    "name = \"x\"\n"
	    "[[role]]\n"
	    "name = \"q\"\n"
	    "[[user]]\n"
	    "name = \"y\"\n"
	    "[[user]]\n"
	    "roles = \"b\"\n"
	    "name = \"\"\n",
	    e3, NF_NELEM(e3));
}
END_TEST

START_TEST(dump_round_trip)
{
	struct nf_acl	*acl = load_ok(conf), *again;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*f;

	f = open_memstream(&text, &len);
	nf_acl_dump(acl, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "grants = [\"run job:nightly-*\", "
	    "\"cancel job:nightly-*\"]"));
	ck_assert_ptr_nonnull(strstr(text, "description = \"reads the "
	    "books\""));
	/* The dump is itself a valid role table. */
	again = load_ok(text);
	nf_acl_free(again);
	free(text);
	nf_acl_free(acl);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc = tcase_create("acl");

	tcase_add_test(tc, grant_grammar);
	tcase_add_test(tc, grant_errors);
	tcase_add_test(tc, load_and_check);
	tcase_add_test(tc, builtin_admin);
	tcase_add_test(tc, roles_text);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, dump_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(acl_suite)
