/*
 * toml.h: a TOML 1.0 parser (no C TOML library is packaged for Debian).
 *
 * The parser builds a tree; every value and every key remembers where it
 * was written (1-based line and column) so that config errors can say
 * "file:line:col: message".  Parse errors are reported the same way.
 */
#ifndef NF_TOML_H
#define NF_TOML_H

#include <stddef.h>
#include <stdint.h>

enum nf_toml_type {
	NF_TOML_STRING,
	NF_TOML_INTEGER,
	NF_TOML_FLOAT,
	NF_TOML_BOOL,
	NF_TOML_DATETIME,	/* offset date-time */
	NF_TOML_DATETIME_LOCAL,	/* local date-time */
	NF_TOML_DATE_LOCAL,
	NF_TOML_TIME_LOCAL,
	NF_TOML_ARRAY,
	NF_TOML_TABLE,
};

struct nf_toml_datetime {
	int	year, month, day;
	int	hour, minute, second;
	int	nanosecond;
	int	has_offset;
	int	offset_minutes;	/* east of UTC; 0 for "Z" */
	int	offset_z;	/* written as Z/z */
};

struct nf_toml_value;

struct nf_toml_kv {
	char			*key;	/* decoded key, NUL-terminated */
	size_t			 keylen;	/* keys may contain NUL */
	int			 line, col;	/* where the key was written */
	struct nf_toml_value	*val;
};

struct nf_toml_value {
	enum nf_toml_type	 type;
	int			 line, col;	/* where the value starts */
	union {
		struct {
			char	*s;	/* NUL-terminated; may contain NUL */
			size_t	 len;
		} str;
		int64_t			 i;
		double			 f;
		int			 b;
		struct nf_toml_datetime	 dt;
		struct {
			struct nf_toml_value	**items;
			size_t			  n;
		} arr;
		struct {
			struct nf_toml_kv	 *kv;	/* in insertion order */
			size_t			  n;
		} tab;
	} u;
};

/*
 * Parse buf (len bytes, need not be NUL-terminated).  filename is used in
 * error messages only.  On success returns the root table.  On error returns
 * NULL and writes "filename:line:col: message" into err.
 */
struct nf_toml_value	*nf_toml_parse(const char *buf, size_t len,
			    const char *filename, char *err, size_t errlen);
/* Read and parse a file; errors as above (including I/O errors). */
struct nf_toml_value	*nf_toml_parse_file(const char *path, char *err,
			    size_t errlen);
void			 nf_toml_free(struct nf_toml_value *);

/* Look up a key in a table (NULL if absent or not a table). */
const struct nf_toml_value *nf_toml_get(const struct nf_toml_value *tab,
			    const char *key);
/* The kv entry of a key, for its position (NULL if absent). */
const struct nf_toml_kv	*nf_toml_get_kv(const struct nf_toml_value *tab,
			    const char *key);
const char		*nf_toml_type_name(enum nf_toml_type);

#endif
