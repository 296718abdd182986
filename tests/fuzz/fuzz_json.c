/* NF_FUZZ_SOURCES: common/json.c common/val.c common/util.c common/log.c */
/*
 * fuzz_json.c: libFuzzer target for nf_json_read() on untrusted text:
 * the python runner's channel (worker/step_python.c) carries JSON lines
 * that plugin code can forge by writing to fd 3 itself.  Whatever parses
 * must encode back to JSON that parses again to the same encoding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "util.h"
#include "val.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_val	*v, *again;
	struct nf_buf	 a, b;
	char		 err[256];

	v = nf_json_read((const char *)data, size, err, sizeof(err));
	if (v == NULL)
		return 0;
	nf_buf_init(&a);
	nf_json_write(v, &a, -1);
	again = nf_json_read(a.data, a.len, err, sizeof(err));
	if (again == NULL)
		nf_panic("our own JSON does not parse: %s: %.*s", err,
		    (int)a.len, a.data);
	nf_buf_init(&b);
	nf_json_write(again, &b, -1);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		nf_panic("JSON round trip differs: %.*s vs %.*s", (int)a.len,
		    a.data, (int)b.len, b.data);
	nf_buf_free(&a);
	nf_buf_free(&b);
	nf_val_free(again);
	nf_val_free(v);
	return 0;
}
