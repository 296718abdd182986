/*
 * check_http.c: the pure parts of the http step: expected-status ranges,
 * credential names, URLs shown without secrets and step specs shown
 * without credentials (common/steptype.c, shared with the worker), and
 * JSON <-> nf_val with its bounds (common/json.c).  Requests themselves are tested against a real
 * server in tests/integration/http.sh.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nf_check.h"
#include "steptype.h"
#include "util.h"
#include "val.h"

START_TEST(status_ranges)
{
	int	lo, hi;

	ck_assert_int_eq(nf_steptype_status_range("2xx", &lo, &hi), 0);
	ck_assert_int_eq(lo, 200);
	ck_assert_int_eq(hi, 299);
	ck_assert_int_eq(nf_steptype_status_range("5XX", &lo, &hi), 0);
	ck_assert_int_eq(lo, 500);
	ck_assert_int_eq(nf_steptype_status_range("404", &lo, &hi), 0);
	ck_assert_int_eq(lo, 404);
	ck_assert_int_eq(hi, 404);
	ck_assert_int_eq(nf_steptype_status_range("200-304", &lo, &hi), 0);
	ck_assert_int_eq(lo, 200);
	ck_assert_int_eq(hi, 304);
	ck_assert_int_eq(nf_steptype_status_range("6xx", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("99", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("600", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("300-200", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("200-", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("-", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("", &lo, &hi), -1);
	ck_assert_int_eq(nf_steptype_status_range("2x", &lo, &hi), -1);
}
END_TEST

START_TEST(secret_names)
{
	static const char *const yes[] = { "Authorization", "cookie",
	    "X-Api-Key", "api_key", "apikey", "access_token", "accessToken",
	    "client_secret", "password", "X-Auth-Token", "sig", "session_id",
	    "key", NULL };
	static const char *const no[] = { "Accept", "design", "monkey",
	    "page", "Content-Type", "signal", "keyword", "author", NULL };
	size_t	i;

	for (i = 0; yes[i] != NULL; i++)
		ck_assert_msg(nf_steptype_secret_name(yes[i], strlen(yes[i])),
		    "%s should be a secret name", yes[i]);
	for (i = 0; no[i] != NULL; i++)
		ck_assert_msg(!nf_steptype_secret_name(no[i], strlen(no[i])),
		    "%s should not be a secret name", no[i]);
}
END_TEST

static void
shown(const char *url, const char *want)
{
	char	*s;

	s = nf_steptype_url_shown(url);
	ck_assert_str_eq(s, want);
	free(s);
}

START_TEST(urls_shown)
{
	shown("https://api.example.com/v1/items?page=2",
	    "https://api.example.com/v1/items?page=2");
	shown("https://bob:hunter2@api.example.com:8443/x",
	    "https://api.example.com:8443/x");
	shown("http://h/p?a=1&access_token=abc&key=&b=2#frag",
	    "http://h/p?a=1&access_token=***&key=***&b=2");
	shown("http://h?token=x", "http://h?token=***");
	shown("http://h/#a?token=x", "http://h/");
	/* "://" after the path is not a scheme. */
	shown("h/p?u=http://a@b", "h/p?u=http://a@b");
	shown("", "");
}
END_TEST

START_TEST(spec_public)
{
	struct nf_val	*spec, *auth, *h, *q, *pub;
	const struct nf_val *a;

	spec = nf_val_map();
	nf_val_map_set_str(spec, "url", "https://u:pw@h/x?api_key=k1&n=1");
	auth = nf_val_map();
	nf_val_map_set_str(auth, "type", "oauth2");
	nf_val_map_set_str(auth, "client_id", "me");
	nf_val_map_set_str(auth, "client_secret", "s3cret");
	nf_val_map_set_str(auth, "token_url", "https://h/token?sig=zz");
	nf_val_map_set(spec, "auth", auth);
	h = nf_val_map();
	nf_val_map_set_str(h, "X-Api-Key", "k2");
	nf_val_map_set_str(h, "Accept", "application/json");
	nf_val_map_set(spec, "headers", h);
	q = nf_val_map();
	nf_val_map_set_str(q, "password", "p3");
	nf_val_map_set(spec, "query", q);

	pub = nf_steptype_spec_public("http", spec);
	ck_assert_str_eq(nf_val_get_str(pub, "url"), "https://h/x?api_key=***&n=1");
	a = nf_val_get(pub, "auth");
	ck_assert_str_eq(nf_val_get_str(a, "client_secret"), "[redacted]");
	ck_assert_str_eq(nf_val_get_str(a, "client_id"), "me");
	ck_assert_str_eq(nf_val_get_str(a, "token_url"), "https://h/token?sig=***");
	ck_assert_str_eq(nf_val_get_str(nf_val_get(pub, "headers"),
	    "X-Api-Key"), "[redacted]");
	ck_assert_str_eq(nf_val_get_str(nf_val_get(pub, "headers"),
	    "Accept"), "application/json");
	ck_assert_str_eq(nf_val_get_str(nf_val_get(pub, "query"),
	    "password"), "[redacted]");
	/* The original is untouched; other types are copied as they are. */
	ck_assert_str_eq(nf_val_get_str(auth, "client_secret"), "s3cret");
	nf_val_free(pub);
	pub = nf_steptype_spec_public("exec", spec);
	ck_assert(nf_val_equal(pub, spec));
	nf_val_free(pub);
	nf_val_free(spec);
}
END_TEST

static struct nf_val *
jparse(const char *s, int depth, size_t values)
{
	char	err[256];

	return nf_json_parse(s, strlen(s), depth, values, err, sizeof(err));
}

START_TEST(json_parse)
{
	struct nf_val	*v;
	struct nf_buf	 b;
	char		 err[256];

	v = jparse("{\"items\":[{\"id\":7},{\"id\":8.5}],\"s\":\"a\\u0000b\","
	    "\"t\":true,\"n\":null}", 20, 100);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(nf_val_get(v, "items")->u.a.items[0]->u.m.kv[0]
	    .val->u.i, 7);
	ck_assert_uint_eq(nf_val_get(v, "s")->u.s.len, 3);
	nf_buf_init(&b);
	ck_assert_int_eq(nf_json_encode(v, "body", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.data, "{\"items\":[{\"id\":7},{\"id\":8.5}],"
	    "\"s\":\"a\\u0000b\",\"t\":true,\"n\":null}");
	nf_buf_free(&b);
	nf_val_free(v);
	/* Scalars at the top are documents too. */
	v = jparse("42", 1, 1);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->u.i, 42);
	nf_val_free(v);
	/* Bounds: depth and values, keys counted. */
	ck_assert_ptr_nonnull(v = jparse("[[1]]", 2, 10));
	nf_val_free(v);
	ck_assert_ptr_null(jparse("[[[1]]]", 2, 10));
	ck_assert_ptr_nonnull(v = jparse("{\"a\":1,\"b\":2}", 2, 5));
	nf_val_free(v);
	ck_assert_ptr_null(jparse("{\"a\":1,\"b\":2}", 2, 4));
	ck_assert_ptr_null(nf_json_parse("{\"a\":", 5, 20, 100, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "line 1"));
	/* A repeated key in a response: the last one wins. */
	ck_assert_ptr_nonnull(v = jparse("{\"a\":1,\"a\":2}", 2, 10));
	ck_assert_uint_eq(v->u.m.n, 1);
	ck_assert_int_eq(nf_val_get(v, "a")->u.i, 2);
	nf_val_free(v);
}
END_TEST

START_TEST(json_encode_errors)
{
	struct nf_val	*v, *inner;
	struct nf_buf	 b;
	char		 err[256];

	v = nf_val_map();
	inner = nf_val_arr();
	nf_val_arr_push(inner, nf_val_int(1));
	nf_val_arr_push(inner, nf_val_bin("\xff", 1));
	nf_val_map_set(v, "a", inner);
	nf_buf_init(&b);
	ck_assert_int_eq(nf_json_encode(v, "spec.body", &b, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "spec.body.a[1]"));
	nf_val_free(v);
	v = nf_val_str("\xc3");
	ck_assert_int_eq(nf_json_encode(v, "spec.body", &b, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not valid UTF-8"));
	nf_val_free(v);
	/* Keys too, and the message stays UTF-8. */
	v = nf_val_map();
	nf_val_map_set(v, "\xff", nf_val_int(1));
	ck_assert_int_eq(nf_json_encode(v, "spec.body", &b, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not valid UTF-8"));
	ck_assert(nf_utf8_valid(err, strlen(err)));
	nf_val_free(v);
	nf_buf_free(&b);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("http");
	tc = tcase_create("http");
	tcase_add_test(tc, status_ranges);
	tcase_add_test(tc, secret_names);
	tcase_add_test(tc, urls_shown);
	tcase_add_test(tc, spec_public);
	tcase_add_test(tc, json_parse);
	tcase_add_test(tc, json_encode_errors);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(http_suite)
