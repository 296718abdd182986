/* NF_FUZZ_SOURCES: worker/db_params.c common/util.c common/log.c */
/*
 * fuzz_sqlscan.c: libFuzzer target for the SQL text scanner of the
 * worker's driver layer (worker/db_params.c), which reads operator-written
 * SQL before it goes to PostgreSQL.  For any input: the statement length
 * stays within the text, the rewritten text is no longer than the input
 * plus the digits of its placeholders, every name is a non-empty
 * identifier, and scanning the tail again always makes progress.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_buf	 out;
	char		*sql, **names;
	size_t		 off = 0, len, n, i;
	int		 blank;

	sql = malloc(size + 1);
	if (sql == NULL)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	size = strlen(sql);
	while (off < size) {
		nf_buf_init(&out);
		len = nf_db_scan(sql + off, &out, &names, &n, &blank);
		if (len == 0 || off + len > size)
			abort();
		if (out.len > len + n * 8)
			abort();
		for (i = 0; i < n; i++)
			if (names[i][0] == '\0')
				abort();
		nf_db_names_free(names, n);
		nf_buf_free(&out);
		off += len;
	}
	free(sql);
	return 0;
}
