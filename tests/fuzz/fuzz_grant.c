/* NF_FUZZ_SOURCES: supervisor/acl.c supervisor/toml.c supervisor/tz.c common/util.c common/log.c */
/*
 * fuzz_grant.c: libFuzzer target for the role model (supervisor/acl.c).
 *
 * The input, NUL-terminated, is parsed as one grant: an accepted grant
 * must print back ("VERB" or "VERB job:P" / "VERB tag:P") to text that
 * parses to the same grant, and a refused one must point inside the input.
 * When the input is a TOML document, its [[role]], [[user]] and [[group]]
 * tables are loaded, checked for a few identities and dumped; a clean
 * load's dump must load again without error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "toml.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_grant(const char *s)
{
	struct nf_acl_grant	 g, h;
	char			 err[512], *text;
	size_t			 pos;

	if (nf_acl_grant_parse(s, &g, err, sizeof(err), &pos) == -1) {
		if (pos > strlen(s) || err[0] == '\0')
			abort();
		return;
	}
	if (g.kind == NF_ACL_DAEMON)
		text = nf_xstrdup(nf_acl_verb_name(g.verb));
	else
		text = nf_xprintf("%s %s:%s", nf_acl_verb_name(g.verb),
		    g.kind == NF_ACL_JOB ? "job" : "tag", g.pattern);
	if (nf_acl_grant_parse(text, &h, err, sizeof(err), &pos) == -1)
		abort();
	if (h.verb != g.verb || h.kind != g.kind || (g.pattern == NULL) !=
	    (h.pattern == NULL) || (g.pattern != NULL &&
	    strcmp(g.pattern, h.pattern) != 0))
		abort();
	nf_acl_grant_free(&g);
	nf_acl_grant_free(&h);
	free(text);
}

static void
fuzz_tables(const uint8_t *data, size_t size)
{
	static char *tags[] = { "finance", "hr" };
	static const char *groups[] = { "ops", "staff" };
	struct nf_acl_ident	 who[] = {
		{ "alice", 1001, groups, 2, 0 },
		{ "root", 0, NULL, 0, 1 },
		{ NULL, 7, groups, 1, 0 },
	};
	struct nf_toml_value	*root;
	struct nf_acl		*acl, *again;
	struct nf_errs		 errs;
	struct nf_buf		 b;
	char			 err[512], *text = NULL;
	size_t			 len = 0, i;
	int			 v;
	FILE			*f;

	if ((root = nf_toml_parse((const char *)data, size, "f.toml", err,
	    sizeof(err))) == NULL)
		return;
	nf_errs_init(&errs);
	acl = nf_acl_load(root, "f.toml", &errs);
	nf_toml_free(root);
	for (i = 0; i < NF_NELEM(who); i++)
		for (v = 0; v < NF_ACL_NVERBS; v++) {
			(void)nf_acl_allowed(acl, &who[i], v, "nightly-a",
			    tags, 2);
			(void)nf_acl_allowed(acl, &who[i], v, NULL, NULL, 0);
		}
	nf_buf_init(&b);
	nf_acl_roles(acl, &who[0], &b);
	nf_buf_free(&b);
	if (errs.n == 0 && (f = open_memstream(&text, &len)) != NULL) {
		nf_acl_dump(acl, f);
		fclose(f);
		if ((root = nf_toml_parse(text, len, "dump", err,
		    sizeof(err))) == NULL)
			abort();
		again = nf_acl_load(root, "dump", &errs);
		if (errs.n != 0)
			abort();
		nf_acl_free(again);
		nf_toml_free(root);
		free(text);
	}
	nf_errs_free(&errs);
	nf_acl_free(acl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_grant(s);
	free(s);
	fuzz_tables(data, size);
	return 0;
}
