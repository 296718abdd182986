/* NF_FUZZ_SOURCES: supervisor/expr.c common/template.c common/json.c common/val.c common/util.c common/log.c */
/*
 * fuzz_expr.c: libFuzzer target for the `when` condition language and the
 * `${...}` template scanner.
 *
 * The input is parsed as a condition (with a fixed scope of three steps,
 * checking as the third); when it is accepted it is evaluated against a
 * small fixed context (the result may be an error, never a crash).  The
 * same bytes, NUL-terminated, are checked and rendered as a template.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"
#include "template.h"
#include "val.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const steps[] = { "a", "b", "c" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 json[] = "{\"rows\":[{\"n\":1500,\"s\":\"x\"}],"
	    "\"l\":[1,2.5,\"t\",null,true]}";
	struct nf_tmpl_scope	 sc = { steps, 3, 2, NULL };
	struct nf_tmpl_ctx	 c;
	struct nf_expr		*e;
	struct nf_val		*params, *outputs, *rows, *v;
	char			 err[512], *s;
	size_t			 pos;

	params = nf_val_map();
	nf_val_map_set_int(params, "n", 7);
	nf_val_map_set_str(params, "s", "text");
	nf_val_map_set_bool(params, "b", 1);
	outputs = nf_val_map();
	nf_val_map_set(outputs, "a", nf_json_read(json, strlen(json), err,
	    sizeof(err)));
	rows = nf_val_map();
	nf_val_map_set_int(rows, "a", 3);
	memset(&c, 0, sizeof(c));
	c.job_id = "job";
	c.run_id = 1;
	c.triggered_by = "cron";
	c.base_time = 1700000000;
	c.base_y = 2023;
	c.base_m = 11;
	c.base_d = 14;
	c.params = params;
	c.outputs = outputs;
	c.rows = rows;

	if ((e = nf_expr_parse((const char *)data, size, &sc, err,
	    sizeof(err), &pos)) != NULL) {
		if (pos != 0)
			abort();
		nf_expr_eval_bool(e, &c, err, sizeof(err));
		nf_expr_free(e);
	} else if (pos > size)
		abort();

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (nf_tmpl_check(s, &sc, err, sizeof(err), &pos) >= 0) {
		v = nf_tmpl_render(s, &c, err, sizeof(err));
		nf_val_free(v);
	} else if (pos > strlen(s))
		abort();
	free(s);
	nf_val_free(params);
	nf_val_free(outputs);
	nf_val_free(rows);
	return 0;
}
