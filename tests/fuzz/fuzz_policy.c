/* NF_FUZZ_SOURCES: common/policy.c common/util.c common/log.c */
/*
 * fuzz_policy.c: libFuzzer target for the policy parser and compiler.  The
 * input is the text of a policy file; there is no directory, so includes
 * must fail cleanly.  Checked on every input: a policy is returned exactly
 * when no error was reported, every error carries the file name, and a
 * returned policy's dump parses again to the very same dump.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
dump(const struct nf_policy *p)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&s, &len)) == NULL)
		abort();
	nf_policy_dump(p, fp);
	if (fclose(fp) != 0)
		abort();
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_errs		 errs;
	struct nf_policy	*p, *again;
	char			*d, *d2;
	size_t			 i;

	nf_errs_init(&errs);
	p = nf_policy_parse((const char *)data, size, "fuzz.policy", NULL,
	    &errs);
	if ((p == NULL) != (errs.n > 0))
		abort();
	for (i = 0; i < errs.n; i++)
		if (strncmp(errs.msgs[i], "fuzz.policy", 11) != 0)
			abort();
	nf_errs_free(&errs);
	if (p == NULL)
		return 0;
	if (strcmp(nf_policy_name(p), "fuzz") != 0)
		abort();
	d = dump(p);
	nf_errs_init(&errs);
	if ((again = nf_policy_parse(d, strlen(d), "fuzz.policy", NULL,
	    &errs)) == NULL)
		abort();
	nf_errs_free(&errs);
	d2 = dump(again);
	if (strcmp(d, d2) != 0)
		abort();
	free(d2);
	free(d);
	nf_policy_free(again);
	nf_policy_free(p);
	return 0;
}
