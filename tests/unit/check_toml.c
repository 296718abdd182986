/*
 * check_toml.c: unit tests of the TOML parser (supervisor/toml.c): decoded
 * values of every type, the positions that config errors quote, the
 * wording and position of parse errors, the redefinition rules, the depth
 * limit, and inputs that once crashed the fuzz target.  The full official
 * suite runs separately (tests/toml-test.sh).
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nf_check.h"
#include "toml.h"
#include "util.h"

static char	errbuf[1024];

static struct nf_toml_value *
parse(const char *s)
{
	return nf_toml_parse(s, strlen(s), "t.toml", errbuf, sizeof(errbuf));
}

static struct nf_toml_value *
parse_ok(const char *s)
{
	struct nf_toml_value	*v;

	v = parse(s);
	ck_assert_msg(v != NULL, "parse failed: %s", errbuf);
	return v;
}

/* The input must be rejected with exactly this error text. */
static void
expect_err(const char *s, const char *want)
{
	struct nf_toml_value	*v;

	v = parse(s);
	ck_assert_msg(v == NULL, "accepted: %s", s);
	ck_assert_str_eq(errbuf, want);
}

/* The input must be rejected at line:col, with want in the message. */
static void
expect_err_at(const char *s, size_t len, int line, int col, const char *want)
{
	struct nf_toml_value	*v;
	char			 prefix[64];

	v = nf_toml_parse(s, len, "t.toml", errbuf, sizeof(errbuf));
	ck_assert_msg(v == NULL, "accepted input");
	snprintf(prefix, sizeof(prefix), "t.toml:%d:%d: ", line, col);
	ck_assert_msg(strncmp(errbuf, prefix, strlen(prefix)) == 0,
	    "error \"%s\" is not at %s", errbuf, prefix);
	ck_assert_msg(strstr(errbuf, want) != NULL, "error \"%s\" lacks \"%s\"",
	    errbuf, want);
}

static const struct nf_toml_value *
get(const struct nf_toml_value *t, const char *k, enum nf_toml_type type)
{
	const struct nf_toml_value	*v;

	v = nf_toml_get(t, k);
	ck_assert_msg(v != NULL, "key %s missing", k);
	ck_assert_msg(v->type == type, "key %s is a %s, expected %s", k,
	    nf_toml_type_name(v->type), nf_toml_type_name(type));
	return v;
}

START_TEST(test_scalars)
{
	struct nf_toml_value		*r;
	const struct nf_toml_value	*v;

	r = parse_ok(
	    "s = \"a\\tb\\u00e9\\U0001F600\\\\\"\n"
	    "lit = 'C:\\path'\n"
	    "i = -9_223_372_036_854_775_808\n"
	    "imax = 9223372036854775807\n"
	    "hex = 0xDEAD_beef\n"
	    "oct = 0o755\n"
	    "bin = 0b1010\n"
	    "f = 6.626e-34\n"
	    "f2 = -1_000.5\n"
	    "pinf = +inf\n"
	    "ninf = -inf\n"
	    "nan = nan\n"
	    "t = true\n"
	    "fa = false\n");
	v = get(r, "s", NF_TOML_STRING);
	ck_assert_str_eq(v->u.str.s, "a\tb\xc3\xa9\xf0\x9f\x98\x80\\");
	ck_assert_uint_eq(v->u.str.len, 10);
	ck_assert_str_eq(get(r, "lit", NF_TOML_STRING)->u.str.s, "C:\\path");
	ck_assert(get(r, "i", NF_TOML_INTEGER)->u.i == INT64_MIN);
	ck_assert(get(r, "imax", NF_TOML_INTEGER)->u.i == INT64_MAX);
	ck_assert_int_eq(get(r, "hex", NF_TOML_INTEGER)->u.i, 0xdeadbeef);
	ck_assert_int_eq(get(r, "oct", NF_TOML_INTEGER)->u.i, 0755);
	ck_assert_int_eq(get(r, "bin", NF_TOML_INTEGER)->u.i, 10);
	ck_assert(get(r, "f", NF_TOML_FLOAT)->u.f == 6.626e-34);
	ck_assert(get(r, "f2", NF_TOML_FLOAT)->u.f == -1000.5);
	ck_assert(isinf(get(r, "pinf", NF_TOML_FLOAT)->u.f));
	ck_assert(get(r, "pinf", NF_TOML_FLOAT)->u.f > 0);
	ck_assert(get(r, "ninf", NF_TOML_FLOAT)->u.f < 0);
	ck_assert(isnan(get(r, "nan", NF_TOML_FLOAT)->u.f));
	ck_assert_int_eq(get(r, "t", NF_TOML_BOOL)->u.b, 1);
	ck_assert_int_eq(get(r, "fa", NF_TOML_BOOL)->u.b, 0);
	nf_toml_free(r);
}
END_TEST

START_TEST(test_datetimes)
{
	struct nf_toml_value		*r;
	const struct nf_toml_value	*v;

	r = parse_ok(
	    "odt = 1979-05-27T07:32:00.999999999123-07:30\n"
	    "z = 1979-05-27 07:32:00z\n"
	    "ldt = 2024-02-29t23:59:60.5\n"
	    "ld = 2000-02-29\n"
	    "lt = 00:00:00.000001\n");
	v = get(r, "odt", NF_TOML_DATETIME);
	ck_assert_int_eq(v->u.dt.year, 1979);
	ck_assert_int_eq(v->u.dt.month, 5);
	ck_assert_int_eq(v->u.dt.day, 27);
	ck_assert_int_eq(v->u.dt.hour, 7);
	ck_assert_int_eq(v->u.dt.minute, 32);
	ck_assert_int_eq(v->u.dt.nanosecond, 999999999);
	ck_assert_int_eq(v->u.dt.has_offset, 1);
	ck_assert_int_eq(v->u.dt.offset_minutes, -450);
	ck_assert_int_eq(v->u.dt.offset_z, 0);
	v = get(r, "z", NF_TOML_DATETIME);
	ck_assert_int_eq(v->u.dt.offset_z, 1);
	ck_assert_int_eq(v->u.dt.offset_minutes, 0);
	v = get(r, "ldt", NF_TOML_DATETIME_LOCAL);
	ck_assert_int_eq(v->u.dt.second, 60);
	ck_assert_int_eq(v->u.dt.nanosecond, 500000000);
	ck_assert_int_eq(v->u.dt.has_offset, 0);
	v = get(r, "ld", NF_TOML_DATE_LOCAL);
	ck_assert_int_eq(v->u.dt.day, 29);
	v = get(r, "lt", NF_TOML_TIME_LOCAL);
	ck_assert_int_eq(v->u.dt.nanosecond, 1000);
	nf_toml_free(r);

	expect_err("d = 2023-02-29\n", "t.toml:1:5: invalid date 2023-02-29: "
	    "day must be 01 to 28 in that month");
	expect_err("d = 1900-02-29\n", "t.toml:1:5: invalid date 1900-02-29: "
	    "day must be 01 to 28 in that month");
	expect_err("d = 2023-04-31\n", "t.toml:1:5: invalid date 2023-04-31: "
	    "day must be 01 to 30 in that month");
	expect_err("t = 24:00:00\n", "t.toml:1:5: invalid time 24:00:00: "
	    "hour must be 00-23, minute 00-59, second 00-60");
	expect_err("t = 07:32\n", "t.toml:1:5: invalid time: expected "
	    "HH:MM:SS (seconds are required)");
	expect_err("t = 1979-05-27T07:32:00+24:00\n", "t.toml:1:5: invalid "
	    "time offset +24:00: hours must be 00-23 and minutes 00-59");
}
END_TEST

START_TEST(test_strings)
{
	struct nf_toml_value	*r;

	r = parse_ok(
	    "ml = \"\"\"\nline1\r\n  \\\n   line2 \\\"\"\"\"\"\n"
	    "mll = '''\n'one' ''two'' '''\n"
	    "q = \"\"\"\"\"\"\"\n");
	/* Leading newline dropped, CRLF stored as LF, backslash trims. */
	ck_assert_str_eq(get(r, "ml", NF_TOML_STRING)->u.str.s,
	    "line1\n  line2 \"\"");
	ck_assert_str_eq(get(r, "mll", NF_TOML_STRING)->u.str.s,
	    "'one' ''two'' ");
	ck_assert_str_eq(get(r, "q", NF_TOML_STRING)->u.str.s, "\"");
	nf_toml_free(r);

	expect_err("s = \"\\x41\"\n", "t.toml:1:6: invalid escape sequence "
	    "\\x; write \\\\ for a backslash (valid escapes: \\b \\t \\n \\f "
	    "\\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)");
	expect_err("s = \"\\uD800\"\n", "t.toml:1:6: invalid escape \\uD800: "
	    "not a Unicode scalar value (surrogates and values above 10FFFF "
	    "are not allowed)");
	expect_err("s = \"\\U00110000\"\n", "t.toml:1:6: invalid escape "
	    "\\U00110000: not a Unicode scalar value (surrogates and values "
	    "above 10FFFF are not allowed)");
	expect_err("s = \"\\u12\"\n", "t.toml:1:6: invalid escape: \\u must "
	    "be followed by exactly 4 hex digits");
	expect_err("s = \"abc\nx = 1\n", "t.toml:1:5: unterminated string: "
	    "a \"...\" string must end on the line where it starts (use \"\"\" "
	    "for multi-line text)");
	expect_err("s = '''abc\n", "t.toml:1:5: unterminated multi-line "
	    "string: no closing '''");
	expect_err("s = \"\"\"a \\ b\"\"\"\n", "t.toml:1:10: invalid escape: a "
	    "backslash followed by whitespace must end its line");
	expect_err("s = \"a\tb\x01\"\n", "t.toml:1:9: control character "
	    "U+0001 in a string; write it as the escape \\u0001 in a \"...\" "
	    "string");
}
END_TEST

START_TEST(test_embedded_nul)
{
	struct nf_toml_value		*r;
	const struct nf_toml_value	*v;
	const struct nf_toml_kv		*kv = NULL;
	size_t				 i;

	r = parse_ok("\"a\\u0000b\" = \"x\\u0000y\"\na = 1\n");
	ck_assert_uint_eq(r->u.tab.n, 2);
	for (i = 0; i < r->u.tab.n; i++)
		if (r->u.tab.kv[i].keylen == 3)
			kv = &r->u.tab.kv[i];
	ck_assert_ptr_nonnull(kv);
	ck_assert(memcmp(kv->key, "a\0b", 4) == 0);
	v = kv->val;
	ck_assert_int_eq(v->type, NF_TOML_STRING);
	ck_assert_uint_eq(v->u.str.len, 3);
	ck_assert(memcmp(v->u.str.s, "x\0y", 4) == 0);
	/* A C-string lookup of "a" finds the plain key, not "a\0b". */
	ck_assert_int_eq(get(r, "a", NF_TOML_INTEGER)->u.i, 1);
	nf_toml_free(r);

	/* Keys that differ only after a NUL are different keys... */
	r = parse_ok("\"k\\u0000a\" = 1\n\"k\\u0000b\" = 2\n");
	ck_assert_uint_eq(r->u.tab.n, 2);
	nf_toml_free(r);
	/* ...and the same key twice is a duplicate, shown escaped. */
	expect_err("\"k\\u0000\" = 1\n\"k\\u0000\" = 2\n", "t.toml:2:1: "
	    "duplicate key \"k\\u0000\" (first defined at 1:1)");
	/* A raw NUL byte is not allowed anywhere. */
	expect_err_at("s = \"a\0b\"\n", 10, 1, 7, "control character U+0000");
}
END_TEST

START_TEST(test_positions)
{
	struct nf_toml_value		*r;
	const struct nf_toml_value	*srv, *v;
	const struct nf_toml_kv		*kv;

	r = parse_ok(
	    "# comment\n"
	    "title = \"x\"\n"
	    "\n"
	    "[server]\n"
	    "  port   =   8080\n"
	    "  \"h\u00e9\" = 'a'   # non-ASCII key: columns count characters\n"
	    "  list = [ 1,\n"
	    "    { x = 2 } ]\n");
	kv = nf_toml_get_kv(r, "title");
	ck_assert_int_eq(kv->line, 2);
	ck_assert_int_eq(kv->col, 1);
	ck_assert_int_eq(kv->val->line, 2);
	ck_assert_int_eq(kv->val->col, 9);
	srv = get(r, "server", NF_TOML_TABLE);
	ck_assert_int_eq(srv->line, 4);
	ck_assert_int_eq(srv->col, 1);
	kv = nf_toml_get_kv(srv, "port");
	ck_assert_int_eq(kv->line, 5);
	ck_assert_int_eq(kv->col, 3);
	ck_assert_int_eq(kv->val->line, 5);
	ck_assert_int_eq(kv->val->col, 14);
	kv = nf_toml_get_kv(srv, "h\xc3\xa9");
	ck_assert_ptr_nonnull(kv);
	ck_assert_int_eq(kv->val->col, 10);
	v = get(srv, "list", NF_TOML_ARRAY);
	ck_assert_int_eq(v->line, 7);
	ck_assert_int_eq(v->col, 10);
	ck_assert_uint_eq(v->u.arr.n, 2);
	ck_assert_int_eq(v->u.arr.items[0]->col, 12);
	ck_assert_int_eq(v->u.arr.items[1]->line, 8);
	ck_assert_int_eq(v->u.arr.items[1]->col, 5);
	kv = nf_toml_get_kv(v->u.arr.items[1], "x");
	ck_assert_int_eq(kv->line, 8);
	ck_assert_int_eq(kv->col, 7);
	ck_assert_int_eq(kv->val->col, 11);
	ck_assert_ptr_null(nf_toml_get(srv, "nope"));
	ck_assert_ptr_null(nf_toml_get(kv->val, "x"));	/* not a table */
	nf_toml_free(r);

	/* CRLF files count lines the same way. */
	r = parse_ok("a = 1\r\n\r\nb = 2\r\n");
	ck_assert_int_eq(nf_toml_get_kv(r, "b")->line, 3);
	ck_assert_int_eq(nf_toml_get_kv(r, "b")->val->col, 5);
	nf_toml_free(r);
}
END_TEST

START_TEST(test_tables)
{
	struct nf_toml_value		*r;
	const struct nf_toml_value	*jobs, *steps, *t, *v;

	r = parse_ok(
	    "[[jobs]]\n"
	    "id = \"a\"\n"
	    "retry.max = 3\n"
	    "retry.delay = \"5s\"\n"
	    "[[jobs.steps]]\n"
	    "type = \"sql\"\n"
	    "[[jobs.steps]]\n"
	    "type = \"exec\"\n"
	    "[jobs.notify]\n"
	    "on = [\"failed\"]\n"
	    "[[jobs]]\n"
	    "id = \"b\"\n"
	    "[x.y.z]\n"
	    "[x]\n"
	    "k = 1\n"
	    "[fruit]\n"
	    "apple.color = \"red\"\n"
	    "[fruit.apple.texture]\n"
	    "smooth = true\n");
	jobs = get(r, "jobs", NF_TOML_ARRAY);
	ck_assert_uint_eq(jobs->u.arr.n, 2);
	t = jobs->u.arr.items[0];
	ck_assert_int_eq(t->type, NF_TOML_TABLE);
	ck_assert_str_eq(get(t, "id", NF_TOML_STRING)->u.str.s, "a");
	v = get(t, "retry", NF_TOML_TABLE);
	ck_assert_int_eq(get(v, "max", NF_TOML_INTEGER)->u.i, 3);
	steps = get(t, "steps", NF_TOML_ARRAY);
	ck_assert_uint_eq(steps->u.arr.n, 2);
	ck_assert_str_eq(get(steps->u.arr.items[1], "type",
	    NF_TOML_STRING)->u.str.s, "exec");
	v = get(get(t, "notify", NF_TOML_TABLE), "on", NF_TOML_ARRAY);
	ck_assert_uint_eq(v->u.arr.n, 1);
	t = jobs->u.arr.items[1];
	ck_assert_str_eq(get(t, "id", NF_TOML_STRING)->u.str.s, "b");
	ck_assert_ptr_null(nf_toml_get(t, "steps"));
	t = get(r, "x", NF_TOML_TABLE);
	ck_assert_int_eq(get(t, "k", NF_TOML_INTEGER)->u.i, 1);
	get(get(t, "y", NF_TOML_TABLE), "z", NF_TOML_TABLE);
	t = get(get(r, "fruit", NF_TOML_TABLE), "apple", NF_TOML_TABLE);
	ck_assert_str_eq(get(t, "color", NF_TOML_STRING)->u.str.s, "red");
	get(get(t, "texture", NF_TOML_TABLE), "smooth", NF_TOML_BOOL);
	/* Insertion order is kept. */
	ck_assert_str_eq(r->u.tab.kv[0].key, "jobs");
	ck_assert_str_eq(r->u.tab.kv[1].key, "x");
	nf_toml_free(r);

	/* Mixed-type arrays are fine in TOML 1.0. */
	r = parse_ok("a = [1, 'two', 3.0, [4], {five = 5}, 1979-05-27]\n");
	ck_assert_uint_eq(get(r, "a", NF_TOML_ARRAY)->u.arr.n, 6);
	nf_toml_free(r);
}
END_TEST

START_TEST(test_duplicates)
{
	expect_err("port = 1\nhost = \"h\"\nport = 2\n",
	    "t.toml:3:1: duplicate key port (first defined at 1:1)");
	expect_err("[a]\nx = 1\n[b]\n[a]\n", "t.toml:4:1: table [a] is "
	    "defined twice (first at 1:1); merge the two sections");
	expect_err("a.b = 1\na.b = 2\n", "t.toml:2:3: duplicate key a.b "
	    "(first defined at 1:3)");
	expect_err("a = 1\na.b = 2\n", "t.toml:2:1: key a already holds an "
	    "integer (defined at 1:1); it cannot also be a table");
	expect_err("t = {x = 1}\nt.y = 2\n", "t.toml:2:1: cannot add key t.y: "
	    "inline table t (defined at 1:1) is complete; put every key "
	    "inside its braces");
	expect_err("t = {x = 1}\n[t.sub]\n", "t.toml:2:2: cannot define "
	    "[t.sub]: t is an inline table (defined at 1:1), which cannot be "
	    "extended");
	expect_err("a = [1]\n[[a]]\n", "t.toml:2:1: cannot append to [[a]]: "
	    "key a already holds an array (defined at 1:1), not an array of "
	    "tables");
	expect_err("[[a]]\n[a]\n", "t.toml:2:1: [a] conflicts with the array "
	    "of tables [[a]] defined at 1:3");
	expect_err("[a]\n[[a]]\n", "t.toml:2:1: [[a]] conflicts with the "
	    "table [a] defined at 1:1");
	expect_err("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", "t.toml:4:3: cannot "
	    "add key b.c.t with a dotted key: table b.c was defined at 1:1; "
	    "add the key there");
	expect_err("[fruit]\napple.color = 'red'\n[fruit.apple]\n",
	    "t.toml:3:1: table [fruit.apple] was already defined by dotted "
	    "keys at 2:1; move those keys into this section");
	expect_err("a = {b = 1, b = 2}\n", "t.toml:1:13: duplicate key b "
	    "(first defined at 1:6)");
	expect_err("a = {b = 1,}\n", "t.toml:1:12: trailing comma in an inline "
	    "table is not allowed");
	expect_err("a = {b = 1,\nc = 2}\n", "t.toml:1:12: newline inside an "
	    "inline table; TOML 1.0 inline tables must be on one line (use a "
	    "[table] section for long tables)");
}
END_TEST

START_TEST(test_errors)
{
	struct nf_toml_value	*r;

	expect_err("a = 1 b = 2\n", "t.toml:1:7: expected the end of the line "
	    "after the value (one key = value per line), found 'b'");
	expect_err("x\n", "t.toml:1:2: expected '=' after key x, found end "
	    "of line");
	expect_err("name = nomaflow\n", "t.toml:1:8: invalid value nomaflow: "
	    "not a number, date or boolean (strings must be quoted)");
	expect_err("name = 'a' 'b'\n", "t.toml:1:12: expected the end of the "
	    "line after the value (one key = value per line), found \"'\"");
	expect_err("a = \n", "t.toml:1:5: missing value (found end of line)");
	expect_err("n = 9223372036854775808\n", "t.toml:1:5: integer "
	    "9223372036854775808 is out of range (64-bit signed integers "
	    "only)");
	expect_err("n = -9223372036854775809\n", "t.toml:1:5: integer "
	    "-9223372036854775809 is out of range (64-bit signed integers "
	    "only)");
	expect_err("n = 0x8000000000000000\n", "t.toml:1:5: integer "
	    "0x8000000000000000 is out of range (64-bit signed integers "
	    "only)");
	expect_err("n = 1__0\n", "t.toml:1:5: invalid number 1__0 "
	    "(underscores must sit between two digits)");
	expect_err("n = 012\n", "t.toml:1:5: invalid number 012: leading "
	    "zeros are not allowed");
	expect_err("n = -0x1\n", "t.toml:1:5: invalid integer -0x1: "
	    "hexadecimal, octal and binary integers cannot have a sign");
	expect_err("f = 1e400\n", "t.toml:1:5: float 1e400 is out of range");
	expect_err("f = 1.\n", "t.toml:1:5: invalid value 1.: not a number, "
	    "date or boolean (strings must be quoted)");
	expect_err("a = [1, 2\n", "t.toml:1:5: unterminated array: no "
	    "closing ']'");
	expect_err("a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in the "
	    "array opened at 1:5, found '2'");
	expect_err("[a\n", "t.toml:1:3: expected ']' to close the table "
	    "header, found end of line");
	expect_err("[[a]\n", "t.toml:1:5: expected ']]' to close the "
	    "array-of-tables header, found end of line");
	expect_err("a = 1 # \x7f\n", "t.toml:1:9: control character U+007F "
	    "in a comment; delete it (only tab is allowed)");
	expect_err("a = 1\rb = 2\n", "t.toml:1:6: carriage return not "
	    "followed by a line feed; TOML lines end with LF or CRLF");
	expect_err("a = \"\xc3\xa9\"\nb = \"\xc3\x28\"\n", "t.toml:2:6: "
	    "invalid UTF-8 (byte 0xC3); the file must be saved as UTF-8");
	expect_err("a = \"\xed\xa0\x80\"\n", "t.toml:1:6: invalid UTF-8 (byte "
	    "0xED); the file must be saved as UTF-8");
	expect_err("a = \"\xc0\xaf\"\n", "t.toml:1:6: invalid UTF-8 (byte "
	    "0xC0); the file must be saved as UTF-8");
	expect_err("\"\"\"k\"\"\" = 1\n", "t.toml:1:1: a multi-line string "
	    "cannot be used as a key");

	/* A BOM is accepted at the start only. */
	r = parse_ok("\xef\xbb\xbf" "a = 1\n");
	ck_assert_int_eq(nf_toml_get_kv(r, "a")->col, 1);
	nf_toml_free(r);
	expect_err("a = 1\n\xef\xbb\xbf" "b = 1\n", "t.toml:2:1: expected a "
	    "key, found a non-ASCII character (keys are A-Za-z0-9_- or "
	    "quoted)");

	/* No buffer for the error is fine; the input need not end in NUL. */
	ck_assert_ptr_null(nf_toml_parse("a =", 3, "x", NULL, 0));
	r = nf_toml_parse("a = 12345", 6, "x", NULL, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(get(r, "a", NF_TOML_INTEGER)->u.i, 12);
	nf_toml_free(r);
	r = nf_toml_parse(NULL, 0, "x", errbuf, sizeof(errbuf));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->u.tab.n, 0);
	nf_toml_free(r);
}
END_TEST

START_TEST(test_big_table)
{
	struct nf_toml_value		*r;
	const struct nf_toml_kv		*kv;
	struct nf_buf			 b;
	char				 key[32];
	int				 i;

	nf_buf_init(&b);
	for (i = 0; i < 5000; i++)
		nf_buf_printf(&b, "k%d = %d\n", i, i);
	r = parse_ok(b.data);
	ck_assert_uint_eq(r->u.tab.n, 5000);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		kv = nf_toml_get_kv(r, key);
		ck_assert_ptr_nonnull(kv);
		ck_assert_int_eq(kv->line, i + 1);
		ck_assert_int_eq(kv->val->u.i, i);
	}
	ck_assert_ptr_null(nf_toml_get(r, "k5000"));
	nf_toml_free(r);
	/* Duplicates are still found once the table is indexed. */
	nf_buf_adds(&b, "k4321 = 0\n");
	ck_assert_ptr_null(parse(b.data));
	ck_assert_str_eq(errbuf, "t.toml:5001:1: duplicate key k4321 (first "
	    "defined at 4322:1)");
	nf_buf_free(&b);
}
END_TEST

static char *
nested(const char *open, const char *close, int n, const char *prefix)
{
	struct nf_buf	b;
	int		i;

	nf_buf_init(&b);
	nf_buf_adds(&b, prefix);
	for (i = 0; i < n; i++)
		nf_buf_adds(&b, open);
	for (i = 0; i < n; i++)
		nf_buf_adds(&b, close);
	nf_buf_adds(&b, "\n");
	return nf_buf_steal(&b);
}

START_TEST(test_depth_limit)
{
	struct nf_toml_value	*r;
	char			*s;

	/* 128 levels below the root are fine, 129 are not. */
	s = nested("[", "]", 128, "a = ");
	r = parse_ok(s);
	nf_toml_free(r);
	free(s);
	s = nested("[", "]", 129, "a = ");
	expect_err(s, "t.toml:1:133: tables and arrays are nested more than "
	    "128 levels deep");
	free(s);
	/* Far beyond the limit: rejected, not a stack overflow. */
	s = nested("{x=", "}", 100000, "a = ");
	r = parse(s);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(errbuf, "nested more than 128"));
	free(s);
	s = nested("[", "]", 100000, "a = ");
	ck_assert_ptr_null(parse(s));
	free(s);
	/* Inline tables inside dotted keys add up. */
	s = nested("{x=", "}", 100, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t."
	    "u.v.w.x.y.z.a.b.c.d.e.f = ");
	ck_assert_ptr_null(parse(s));
	ck_assert_ptr_nonnull(strstr(errbuf, "nested more than 128"));
	free(s);
}
END_TEST

START_TEST(test_depth_headers)
{
	struct nf_buf	b;
	int		i;

	nf_buf_init(&b);
	nf_buf_adds(&b, "[a");
	for (i = 0; i < 200; i++)
		nf_buf_adds(&b, ".a");
	nf_buf_adds(&b, "]\n");
	ck_assert_ptr_null(parse(b.data));
	ck_assert_str_eq(errbuf, "t.toml:1:258: key has more than 128 dotted "
	    "parts");
	nf_buf_free(&b);
}
END_TEST

START_TEST(test_parse_file)
{
	struct nf_toml_value	*r;
	char			 path[] = "/tmp/check_toml.XXXXXX";
	int			 fd;

	r = nf_toml_parse_file("/nonexistent/x.toml", errbuf,
	    sizeof(errbuf));
	ck_assert_ptr_null(r);
	ck_assert_str_eq(errbuf, "/nonexistent/x.toml: cannot open: No such "
	    "file or directory");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "a = 1\nb = [\n", 12), 12);
	close(fd);
	r = nf_toml_parse_file(path, errbuf, sizeof(errbuf));
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(errbuf, ":2:5: unterminated array"));
	ck_assert(strncmp(errbuf, path, strlen(path)) == 0);
	unlink(path);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(nf_toml_type_name(NF_TOML_DATETIME),
	    "offset date-time");
	ck_assert_str_eq(nf_toml_type_name(NF_TOML_TIME_LOCAL), "local time");
	ck_assert_str_eq(nf_toml_type_name(NF_TOML_TABLE), "table");
}
END_TEST

static Suite *
toml_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("toml");
	tc = tcase_create("toml");
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_datetimes);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_big_table);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_depth_headers);
	tcase_add_test(tc, test_parse_file);
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(toml_suite)
