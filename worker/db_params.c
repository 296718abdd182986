/*
 * db_params.c: the SQL text scanner of the driver layer: finds where the
 * first statement of a text ends and rewrites its :name parameters into
 * PostgreSQL's $n placeholders.
 *
 * Pure (no I/O, no library): runs in nomaflow-worker and in its unit test
 * and fuzz target.  It knows just enough of PostgreSQL's lexical rules to
 * never see a parameter or a statement end inside a string ('...',
 * E'...' with backslash escapes), a quoted identifier ("..."), a line
 * comment (-- ...), a block comment (slash-star, nested) or a dollar-quoted
 * string ($tag$ ... $tag$).  "::" is a cast, never a parameter.
 *
 * Invariant: the output is the input with only the parameters replaced;
 * the returned length never exceeds the input's.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

static int
scan_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (unsigned char)c >= 0x80;
}

static int
scan_ident_char(int c)
{
	return scan_ident_start(c) || (c >= '0' && c <= '9');
}

void
nf_db_names_free(char **names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* 1-based number of name in names, adding it when new. */
static size_t
scan_param(char ***names, size_t *nnames, const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < *nnames; i++)
		if (strlen((*names)[i]) == len &&
		    memcmp((*names)[i], p, len) == 0)
			return i + 1;
	*names = nf_xreallocarray(*names, *nnames + 1, sizeof(**names));
	(*names)[*nnames] = nf_xstrndup(p, len);
	return ++*nnames;
}

size_t
nf_db_scan(const char *sql, struct nf_buf *out, char ***names,
    size_t *nnames, int *blank)
{
	size_t	 i = 0, j, k, tag, depth, n;
	int	 esc;

	*names = NULL;
	*nnames = 0;
	*blank = 1;
	while (sql[i] != '\0') {
		char c = sql[i];

		if (c == ';') {
			i++;
			break;
		}
		if (c == '-' && sql[i + 1] == '-') {
			for (j = i; sql[j] != '\0' && sql[j] != '\n'; j++)
				;
			nf_buf_add(out, sql + i, j - i);
			i = j;
			continue;
		}
		if (c == '/' && sql[i + 1] == '*') {
			depth = 1;
			j = i + 2;
			while (sql[j] != '\0' && depth > 0) {
				if (sql[j] == '/' && sql[j + 1] == '*') {
					depth++;
					j += 2;
				} else if (sql[j] == '*' && sql[j + 1] == '/') {
					depth--;
					j += 2;
				} else
					j++;
			}
			nf_buf_add(out, sql + i, j - i);
			i = j;
			continue;
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
		    c != '\f' && c != '\v')
			*blank = 0;
		if (c == '\'' || c == '"') {
			/* E'...' allows backslash escapes. */
			esc = c == '\'' && i > 0 && (sql[i - 1] == 'E' ||
			    sql[i - 1] == 'e') && (i < 2 ||
			    !scan_ident_char(sql[i - 2]));
			j = i + 1;
			while (sql[j] != '\0') {
				if (esc && sql[j] == '\\' && sql[j + 1] != '\0')
					j += 2;
				else if (sql[j] == c && sql[j + 1] == c)
					j += 2;
				else if (sql[j] == c) {
					j++;
					break;
				} else
					j++;
			}
			nf_buf_add(out, sql + i, j - i);
			i = j;
			continue;
		}
		if (c == '$' && (i == 0 || !scan_ident_char(sql[i - 1]))) {
			/* $tag$ or $$: a dollar-quoted string. */
			for (j = i + 1; scan_ident_char(sql[j]) &&
			    !(sql[j] >= '0' && sql[j] <= '9' && j == i + 1);
			    j++)
				;
			if (sql[j] == '$') {
				tag = j + 1 - i;
				for (k = j + 1; sql[k] != '\0'; k++)
					if (sql[k] == '$' &&
					    strncmp(sql + k, sql + i, tag) == 0)
						break;
				k = sql[k] != '\0' ? k + tag : k;
				nf_buf_add(out, sql + i, k - i);
				i = k;
				continue;
			}
		}
		if (c == ':' && sql[i + 1] == ':') {
			nf_buf_add(out, "::", 2);
			i += 2;
			continue;
		}
		if (c == ':' && scan_ident_start(sql[i + 1]) &&
		    (i == 0 || sql[i - 1] != ':')) {
			for (j = i + 1; scan_ident_char(sql[j]); j++)
				;
			n = scan_param(names, nnames, sql + i + 1, j - i - 1);
			nf_buf_printf(out, "$%zu", n);
			i = j;
			continue;
		}
		if (scan_ident_char(c)) {
			/* Whole words: "a:b" inside one is not split. */
			for (j = i; scan_ident_char(sql[j]) || sql[j] == '$';
			    j++)
				;
			nf_buf_add(out, sql + i, j - i);
			i = j;
			continue;
		}
		nf_buf_addc(out, c);
		i++;
	}
	if (out->data == NULL)
		nf_buf_add(out, "", 0);
	return i;
}
