/* NF_FUZZ_SOURCES: common/json.c common/steptype.c common/val.c common/util.c common/log.c */
/*
 * fuzz_http.c: libFuzzer target for what an http step reads from a server
 * or shows of a URL.  The input is taken as a response body for
 * nf_json_parse() (jansson, bounded to the depth and value count the step
 * uses), and as text for nf_steptype_url_shown() and
 * nf_steptype_status_range().  Checked on every input: a parsed tree stays
 * within its bounds and encodes back to JSON that parses to an equal tree;
 * a shown URL never contains the value of a secret-named query parameter
 * or userinfo; a status range is within 100-599.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "steptype.h"
#include "util.h"
#include "val.h"

#define DEPTH	20
#define VALUES	30000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
count(const struct nf_val *v, int depth, int *maxdepth)
{
	size_t	n = 1, i;

	if (depth > *maxdepth)
		*maxdepth = depth;
	if (v->type == NF_V_ARR)
		for (i = 0; i < v->u.a.n; i++)
			n += count(v->u.a.items[i], depth + 1, maxdepth);
	else if (v->type == NF_V_MAP)
		for (i = 0; i < v->u.m.n; i++)	/* the key, the value */
			n += 1 + count(v->u.m.kv[i].val, depth + 1, maxdepth);
	return n;
}

static void
check_json(const char *s, size_t len)
{
	struct nf_val	*v, *again;
	struct nf_buf	 b;
	char		 err[256];
	int		 maxdepth = 0;

	v = nf_json_parse(s, len, DEPTH, VALUES, err, sizeof(err));
	if (v == NULL) {
		if (err[0] == '\0')
			abort();
		return;
	}
	if (count(v, 0, &maxdepth) > VALUES || maxdepth > DEPTH)
		abort();
	nf_buf_init(&b);
	if (nf_json_encode(v, "body", &b, err, sizeof(err)) == -1)
		abort();
	again = nf_json_parse(b.data, b.len, DEPTH, VALUES, err, sizeof(err));
	if (again == NULL || !nf_val_equal(v, again))
		abort();
	nf_val_free(again);
	nf_buf_free(&b);
	nf_val_free(v);
}

static void
check_url(const char *url)
{
	const char	*q, *p, *amp, *eq, *auth, *end;
	char		*shown;
	int		 lo, hi;

	shown = nf_steptype_url_shown(url);
	/* No userinfo: no "@" in the authority. */
	auth = strstr(shown, "://");
	auth = auth != NULL && auth < shown + strcspn(shown, "/?#") ?
	    auth + 3 : shown;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		abort();
	/* Every secret-named parameter's value is masked. */
	if ((q = strchr(end, '?')) != NULL)
		for (p = q + 1; *p != '\0'; p = *amp == '&' ? amp + 1 : amp) {
			amp = p + strcspn(p, "&");
			eq = memchr(p, '=', (size_t)(amp - p));
			if (eq != NULL && nf_steptype_secret_name(p,
			    (size_t)(eq - p)) && (amp - eq - 1 != 3 ||
			    memcmp(eq + 1, "***", 3) != 0))
				abort();
		}
	if (strchr(shown, '#') != NULL)
		abort();
	free(shown);
	if (nf_steptype_status_range(url, &lo, &hi) == 0 &&
	    (lo < 100 || hi > 599 || lo > hi))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	check_json((const char *)data, size);
	s = nf_xstrndup((const char *)data, size);
	check_url(s);
	free(s);
	return 0;
}
