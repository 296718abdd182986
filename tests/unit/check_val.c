/*
 * check_val.c: the value tree (common/val.c), its JSON text form
 * (common/json.c) and the util helpers they lean on.
 */
#include "autoconf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "nf_check.h"
#include "util.h"
#include "val.h"

static struct nf_val *
parse(const char *s)
{
	char	err[128];

	return nf_json_read(s, strlen(s), err, sizeof(err));
}

START_TEST(json_roundtrip)
{
	const char	*src = "{\"a\":[1,-2,2.5,\"x\\u00e9\\ud83d\\ude00\","
	    "null,true,false],\"b\":{},\"c\":\"tab\\there\\n\"}";
	struct nf_val	*v, *w;
	char		*out;

	v = parse(src);
	ck_assert_ptr_nonnull(v);
	out = nf_json_text(v, -1);
	ck_assert_str_eq(out, "{\"a\":[1,-2,2.5,\"x\xc3\xa9\xf0\x9f\x98\x80\","
	    "null,true,false],\"b\":{},\"c\":\"tab\\there\\n\"}");
	w = parse(out);
	ck_assert(nf_val_equal(v, w));
	free(out);
	/* pretty form reads back the same */
	out = nf_json_text(v, 2);
	nf_val_free(w);
	w = parse(out);
	ck_assert(nf_val_equal(v, w));
	free(out);
	nf_val_free(v);
	nf_val_free(w);
}
END_TEST

START_TEST(json_rejects)
{
	static const char *bad[] = {
		"", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[1 2]", "01", "1.",
		"-", "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"",
		"tru", "nul", "[1]x", "{\"a\":1,\"a\":2}", "\"\x01\"",
		"\"\xff\"", "{1:2}",
	};
	char	deep[300];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i]) == NULL, "accepted %s", bad[i]);
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	ck_assert_ptr_null(parse(deep));
}
END_TEST

START_TEST(json_numbers)
{
	struct nf_val	*v;
	char		*s;

	v = parse("[9223372036854775807,-9223372036854775808,1e3,0.1]");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->u.a.items[0]->type, NF_V_INT);
	ck_assert(v->u.a.items[0]->u.i == INT64_MAX);
	ck_assert(v->u.a.items[1]->u.i == INT64_MIN);
	ck_assert_int_eq(v->u.a.items[2]->type, NF_V_FLOAT);
	ck_assert(v->u.a.items[2]->u.f == 1000.0);
	nf_val_free(v);
	/* floats stay floats; non-finite become null */
	v = nf_val_arr();
	nf_val_arr_push(v, nf_val_float(3.0));
	nf_val_arr_push(v, nf_val_float(INFINITY));
	nf_val_arr_push(v, nf_val_float(NAN));
	s = nf_json_text(v, -1);
	ck_assert_str_eq(s, "[3.0,null,null]");
	free(s);
	nf_val_free(v);
}
END_TEST

/* Errors say where; the writer always writes JSON that reads back. */
START_TEST(json_errors_and_writer)
{
	struct nf_val	*v;
	char		 err[128], *s;

	ck_assert_ptr_null(nf_json_read("[1,\n  2,]", 10, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "line 2 column ", 14) == 0, "%s", err);
	ck_assert_ptr_null(nf_json_read("{\"a\":1,\"a\":2}", 13, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "duplicate") != NULL, "%s", err);
	ck_assert_ptr_null(nf_json_read("\"\xc3\"", 3, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "line 1 column ", 14) == 0, "%s", err);
	/* NUL is kept in strings and refused in keys. */
	v = parse("\"a\\u0000b\"");
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->u.s.len, 3);
	s = nf_json_text(v, -1);
	ck_assert_str_eq(s, "\"a\\u0000b\"");
	free(s);
	nf_val_free(v);
	ck_assert_ptr_null(parse("{\"a\\u0000\":1}"));
	/* Text that is not UTF-8 is written with U+FFFD, keys too. */
	v = nf_val_map();
	nf_val_map_set(v, "k\xff", nf_val_strn("a\xc3z\xed\xa0\x80", 6));
	s = nf_json_text(v, -1);
	ck_assert_str_eq(s, "{\"k\xef\xbf\xbd\":\"a\xef\xbf\xbdz"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");
	free(s);
	nf_val_free(v);
	/* The pretty form nfctl prints. */
	v = parse("{\"a\":[1,{}],\"b\":[]}");
	s = nf_json_text(v, 2);
	ck_assert_str_eq(s, "{\n  \"a\": [\n    1,\n    {}\n  ],\n"
	    "  \"b\": []\n}");
	free(s);
	nf_val_free(v);
	/* Control characters are escaped. */
	v = nf_val_str("\x01\x1f");
	s = nf_json_text(v, -1);
	ck_assert_msg(strcasecmp(s, "\"\\u0001\\u001f\"") == 0, "%s", s);
	free(s);
	nf_val_free(v);
}
END_TEST

START_TEST(map_ops)
{
	struct nf_val	*m, *t;
	int64_t		 i;
	int		 b;

	m = nf_val_map();
	nf_val_map_set_str(m, "a", "x");
	nf_val_map_set_int(m, "b", 7);
	nf_val_map_set_bool(m, "c", 1);
	nf_val_map_set_str(m, "a", "y");	/* replaces */
	ck_assert_uint_eq(m->u.m.n, 3);
	ck_assert_str_eq(nf_val_get_str(m, "a"), "y");
	ck_assert(nf_val_get_int(m, "b", &i) && i == 7);
	ck_assert(!nf_val_get_int(m, "a", &i));
	ck_assert(nf_val_get_bool(m, "c", &b) && b == 1);
	ck_assert_ptr_null(nf_val_get(m, "zz"));
	t = nf_val_map_take(m, "b");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(m->u.m.n, 2);
	ck_assert_ptr_null(nf_val_get(m, "b"));
	ck_assert_str_eq(nf_val_get_str(m, "a"), "y");
	nf_val_free(t);
	t = nf_val_dup(m);
	ck_assert(nf_val_equal(m, t));
	nf_val_map_set_int(t, "d", 1);
	ck_assert(!nf_val_equal(m, t));
	nf_val_free(t);
	nf_val_free(m);
}
END_TEST

START_TEST(bin_base64)
{
	struct nf_val	*v;
	char		*s;

	v = nf_val_bin("\x00\xff\x10", 3);
	s = nf_json_text(v, -1);
	ck_assert_str_eq(s, "\"AP8Q\"");
	free(s);
	nf_val_free(v);
	v = nf_val_bin("ab", 2);
	s = nf_json_text(v, -1);
	ck_assert_str_eq(s, "\"YWI=\"");
	free(s);
	nf_val_free(v);
}
END_TEST

/* The one decoder: length and code point of the first sequence. */
START_TEST(utf8_decode)
{
	static const struct {
		const char	*s;
		size_t		 n, len;
		uint32_t	 cp;
	} cases[] = {
		{ "A", 1, 1, 0x41 },
		{ "\0", 1, 1, 0 },
		{ "\xc3\xa9x", 3, 2, 0xe9 },
		{ "\xe2\x82\xac", 3, 3, 0x20ac },
		{ "\xef\xbf\xbd", 3, 3, 0xfffd },
		{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "", 0, 0, 0 },
		{ "\xc3\xa9", 1, 0, 0 },		/* cut short by n */
		{ "\x80", 1, 0, 0 },			/* continuation first */
		{ "\xc1\xbf", 2, 0, 0 },		/* overlong */
		{ "\xe0\x9f\xbf", 3, 0, 0 },		/* overlong */
		{ "\xf0\x8f\xbf\xbf", 4, 0, 0 },	/* overlong */
		{ "\xed\xbf\xbf", 3, 0, 0 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0, 0 },	/* > U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 5, 0, 0 },	/* 5-byte form */
		{ "\xff", 1, 0, 0 },
		{ "\xe2\x28\xa1", 3, 0, 0 },		/* bad continuation */
	};
	uint32_t	cp;
	size_t		i;

	for (i = 0; i < NF_NELEM(cases); i++) {
		cp = 0xdeadbeef;
		ck_assert_msg(nf_utf8_decode(cases[i].s, cases[i].n, &cp) ==
		    cases[i].len, "case %zu", i);
		if (cases[i].len > 0)
			ck_assert_msg(cp == cases[i].cp, "case %zu: U+%04X", i,
			    (unsigned)cp);
	}
	ck_assert_uint_eq(nf_utf8_decode("\xc3\xa9", 2, NULL), 2);
}
END_TEST

START_TEST(util_helpers)
{
	struct nf_errs	e;
	long long	v;
	int64_t		ms;

	ck_assert(nf_utf8_valid("h\xc3\xa9llo", 6));
	ck_assert(!nf_utf8_valid("\xc0\x80", 2));	/* overlong */
	ck_assert(!nf_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!nf_utf8_valid("\xe2\x82", 2));	/* truncated */
	ck_assert(!nf_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!nf_utf8_valid("a\x80", 2));	/* lone continuation */
	ck_assert(nf_utf8_valid("a\0b", 3));	/* NUL is valid UTF-8 */
	ck_assert(nf_valid_ident("job_1-a"));
	ck_assert(!nf_valid_ident("job.1"));
	ck_assert(!nf_valid_ident(""));
	ck_assert_int_eq(nf_parse_int("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(nf_parse_int("101", 0, 100, &v), -1);
	ck_assert_int_eq(nf_parse_int("4x", 0, 100, &v), -1);
	ck_assert_int_eq(nf_parse_time("2026-11-29T04:19:48Z", &ms), 0);
	ck_assert(ms == 1795925988000LL);
	ck_assert_int_eq(nf_parse_time("1795925988", &ms), 0);
	ck_assert(ms == 1795925988000LL);
	ck_assert_int_eq(nf_parse_time("-2h", &ms), 0);
	ck_assert(ms < nf_now_ms() - 7199000);
	ck_assert_int_eq(nf_parse_time("yesterday", &ms), -1);
	nf_errs_init(&e);
	nf_errs_add(&e, "a.toml", 3, 7, "bad %s", "thing");
	nf_errs_add(&e, "b.toml", 0, 0, "whole file");
	ck_assert_str_eq(e.msgs[0], "a.toml:3:7: bad thing");
	ck_assert_str_eq(e.msgs[1], "b.toml: whole file");
	nf_errs_free(&e);
}
END_TEST

static Suite *
val_suite(void)
{
	Suite	*s = suite_create("val");
	TCase	*tc = tcase_create("val");

	tcase_add_test(tc, json_roundtrip);
	tcase_add_test(tc, json_rejects);
	tcase_add_test(tc, json_numbers);
	tcase_add_test(tc, json_errors_and_writer);
	tcase_add_test(tc, map_ops);
	tcase_add_test(tc, bin_base64);
	tcase_add_test(tc, utf8_decode);
	tcase_add_test(tc, util_helpers);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(val_suite)
