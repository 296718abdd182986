/*
 * secret.c: the secret store of nomaflowd, and the only module that
 * seals with libsodium (webauth.c hashes passwords with it).  Runs in
 * nomaflowd.
 *
 * A value is sealed with crypto_aead_xchacha20poly1305_ietf under the key,
 * with a random 24-byte nonce per value and the secret's name as the
 * associated data, so a ciphertext copied to another name, or any byte of
 * it changed, fails to open instead of giving a wrong value.  The store
 * keeps (name, nonce, ciphertext, key id); the key id (16 hex characters
 * of a BLAKE2b hash of the key) tells which key sealed a row without
 * revealing it.
 *
 * The key comes from $CREDENTIALS_DIRECTORY/nomaflow-secrets-key when
 * systemd provides that credential, else from the key file
 * ([secrets] key_file), created with mode 0600 on the first `secret set`.
 *
 * Invariants:
 * - No value is ever written anywhere in plain text: not to the store,
 *   not to a log line (errors name secrets, never show them).
 * - Every stored row carries the id of the key in use (checked at start,
 *   kept by rotation), so a wrong key file is a start-up error, not a
 *   failure at the first run that needs a secret.
 * - Rotation is crash-safe: key.new is written and synced before any row
 *   changes; the rows move to the new key id in one transaction; only
 *   then is key.new renamed over the key.  At start a leftover key.new is
 *   finished (rows carry its id) or removed (they do not).
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fault.h"
#include "log.h"
#include "secret.h"
#include "store.h"
#include "util.h"
#include "val.h"

#define NONCE_BYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES

static struct {
	int		 open;
	unsigned char	*key;		/* sodium_malloc'd, NF_SECRET_KEY_BYTES */
	int		 have_key;
	int		 from_cred;	/* systemd credential: read-only */
	char		*path;		/* key file or credential */
	char		 key_id[NF_SECRET_KEY_ID_LEN + 1];
} K;

/* Directory of path, synced so a create or rename in it is durable. */
static int
sync_dir(const char *path, char *err, size_t errlen)
{
	char	*dir, *slash;
	int	 fd, rc = 0;

	dir = nf_xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = nf_xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "secrets: cannot sync directory %s: %s",
		    dir, strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

void
nf_secret_key_id_of(const unsigned char *key,
    char out[NF_SECRET_KEY_ID_LEN + 1])
{
	unsigned char	h[16];

	crypto_generichash(h, sizeof(h), key, NF_SECRET_KEY_BYTES, NULL, 0);
	sodium_bin2hex(out, NF_SECRET_KEY_ID_LEN + 1, h,
	    NF_SECRET_KEY_ID_LEN / 2);
}

int
nf_secret_key_create(const char *path, unsigned char *key, char *err,
    size_t errlen)
{
	ssize_t	 n;
	int	 fd;

	if (sodium_init() == -1) {
		snprintf(err, errlen, "secrets: libsodium cannot initialise");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "secrets: cannot create key file %s: %s%s",
		    path, strerror(errno), errno == EEXIST ? " (remove it only "
		    "if no secret was sealed with it)" : "; check that its "
		    "directory exists and is writable by nomaflowd");
		return -1;
	}
	randombytes_buf(key, NF_SECRET_KEY_BYTES);
	n = write(fd, key, NF_SECRET_KEY_BYTES);
	if (n != NF_SECRET_KEY_BYTES || fsync(fd) == -1) {
		snprintf(err, errlen, "secrets: cannot write key file %s: %s",
		    path, n == -1 || n == NF_SECRET_KEY_BYTES ?
		    strerror(errno) : "short write");
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "secrets: cannot write key file %s: %s",
		    path, strerror(errno));
		unlink(path);
		return -1;
	}
	return sync_dir(path, err, errlen);
}

int
nf_secret_key_read(const char *path, int own, unsigned char *key,
    char *err, size_t errlen)
{
	struct stat	 sb;
	unsigned char	 extra;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "secrets: cannot open key file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "secrets: key file %s is not a regular "
		    "file", path);
		close(fd);
		return -1;
	}
	if (own && (sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "secrets: key file %s has mode %04o: "
		    "group or others may read it; chmod 600 %s (and check "
		    "who read it meanwhile)", path,
		    (unsigned)(sb.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, key, NF_SECRET_KEY_BYTES);
	if (n == NF_SECRET_KEY_BYTES && read(fd, &extra, 1) == 0) {
		close(fd);
		return 0;
	}
	sodium_memzero(key, NF_SECRET_KEY_BYTES);
	snprintf(err, errlen, "secrets: key file %s is not a key (%s: a key "
	    "file holds exactly %d bytes); restore it from a backup", path,
	    n == -1 ? strerror(errno) : "wrong size", NF_SECRET_KEY_BYTES);
	close(fd);
	return -1;
}

int
nf_secret_seal(const unsigned char *key, const char *name, const void *value,
    size_t len, struct nf_secret_row *out)
{
	unsigned long long	clen;

	memset(out, 0, sizeof(*out));
	out->name = nf_xstrdup(name);
	out->nonce_len = NONCE_BYTES;
	out->nonce = nf_xmalloc(NONCE_BYTES);
	randombytes_buf(out->nonce, NONCE_BYTES);
	out->ct = nf_xmalloc(len + TAG_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out->ct, &clen,
	    value, len, (const unsigned char *)name, strlen(name), NULL,
	    out->nonce, key) != 0) {
		nf_store_secret_row_free(out);
		return -1;
	}
	out->ct_len = (size_t)clen;
	out->key_id = nf_xmalloc(NF_SECRET_KEY_ID_LEN + 1);
	nf_secret_key_id_of(key, out->key_id);
	return 0;
}

int
nf_secret_unseal(const unsigned char *key, const struct nf_secret_row *r,
    char **value, char *err, size_t errlen)
{
	unsigned long long	 plen;
	char			 id[NF_SECRET_KEY_ID_LEN + 1];
	char			*p;

	*value = NULL;
	nf_secret_key_id_of(key, id);
	if (strcmp(id, r->key_id) != 0) {
		snprintf(err, errlen, "secret %s cannot be decrypted: it was "
		    "sealed with key %s, the key in use is %s", r->name,
		    r->key_id, id);
		return -1;
	}
	if (r->nonce_len != NONCE_BYTES || r->ct_len < TAG_BYTES) {
		snprintf(err, errlen, "secret %s cannot be decrypted: the "
		    "stored row is damaged (nonce %zu bytes, ciphertext %zu "
		    "bytes); set it again with nfctl secret set %s", r->name,
		    r->nonce_len, r->ct_len, r->name);
		return -1;
	}
	p = nf_xmalloc(r->ct_len - TAG_BYTES + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)p,
	    &plen, NULL, r->ct, r->ct_len, (const unsigned char *)r->name,
	    strlen(r->name), r->nonce, key) != 0) {
		free(p);
		snprintf(err, errlen, "secret %s cannot be decrypted: "
		    "authentication failed (the stored ciphertext was altered "
		    "or belongs to another secret); it is not used; set it "
		    "again with nfctl secret set %s", r->name, r->name);
		return -1;
	}
	p[plen] = '\0';
	*value = p;
	return 0;
}

void
nf_secret_wipe(char *value)
{
	if (value == NULL)
		return;
	sodium_memzero(value, strlen(value));
	free(value);
}

const char *
nf_secret_key_path(void)
{
	return K.path != NULL ? K.path : "";
}

const char *
nf_secret_key_id(void)
{
	return K.have_key ? K.key_id : "";
}

static void
key_use(const unsigned char *key)
{
	memcpy(K.key, key, NF_SECRET_KEY_BYTES);
	nf_secret_key_id_of(K.key, K.key_id);
	K.have_key = 1;
}

/*
 * A key.new left by a rotation a crash interrupted: if the rows carry its
 * id the transaction committed, so finish (rename it over the key);
 * otherwise nothing moved, so drop it.
 */
static int
recover_rotation(const struct nf_secret_row *rows, size_t n, char *err,
    size_t errlen)
{
	unsigned char	 nk[NF_SECRET_KEY_BYTES];
	char		*newpath, id[NF_SECRET_KEY_ID_LEN + 1], e[512];
	size_t		 i, moved = 0;
	int		 rc = 0;

	newpath = nf_xprintf("%s.new", K.path);
	if (access(newpath, F_OK) == -1) {
		free(newpath);
		return 0;
	}
	if (nf_secret_key_read(newpath, 1, nk, e, sizeof(e)) == 0) {
		nf_secret_key_id_of(nk, id);
		for (i = 0; i < n; i++)
			if (strcmp(rows[i].key_id, id) == 0)
				moved++;
		sodium_memzero(nk, sizeof(nk));
	}
	if (moved > 0) {
		if (rename(newpath, K.path) == -1) {
			snprintf(err, errlen, "secrets: cannot finish the key "
			    "rotation a restart interrupted: rename %s to %s: "
			    "%s; the secrets are sealed with the key in %s",
			    newpath, K.path, strerror(errno), newpath);
			rc = -1;
		} else {
			rc = sync_dir(K.path, err, errlen);
			nf_warnx("secrets: finished the key rotation a "
			    "restart interrupted (%s is now the key)", K.path);
		}
	} else {
		if (unlink(newpath) == -1) {
			snprintf(err, errlen, "secrets: cannot remove %s, left "
			    "by a key rotation that did not complete: %s",
			    newpath, strerror(errno));
			rc = -1;
		} else {
			rc = sync_dir(K.path, err, errlen);
			nf_warnx("secrets: rolled back a key rotation a "
			    "restart interrupted (removed %s; the secrets keep "
			    "the key in %s)", newpath, K.path);
		}
	}
	free(newpath);
	return rc;
}

int
nf_secret_open(const char *key_path, char *err, size_t errlen)
{
	struct nf_secret_row	*rows = NULL;
	unsigned char		 key[NF_SECRET_KEY_BYTES];
	const char		*cdir;
	char			*cred = NULL;
	size_t			 n = 0, i, other = 0;
	int			 rc = -1;

	if (sodium_init() == -1) {
		snprintf(err, errlen, "secrets: libsodium cannot initialise");
		return -1;
	}
	if (K.key == NULL &&
	    (K.key = sodium_malloc(NF_SECRET_KEY_BYTES)) == NULL) {
		snprintf(err, errlen, "secrets: cannot allocate the key");
		return -1;
	}
	free(K.path);
	K.path = NULL;
	K.have_key = K.from_cred = 0;
	if ((cdir = getenv("CREDENTIALS_DIRECTORY")) != NULL && *cdir != '\0') {
		cred = nf_xprintf("%s/%s", cdir, NF_SECRET_CREDENTIAL);
		if (access(cred, F_OK) == 0) {
			K.path = cred;
			K.from_cred = 1;
		} else
			free(cred);
	}
	if (K.path == NULL)
		K.path = nf_xstrdup(key_path);
	if (nf_store_secret_all(&rows, &n) == -1) {
		snprintf(err, errlen, "secrets: %s", nf_store_error());
		return -1;
	}
	if (!K.from_cred && recover_rotation(rows, n, err, errlen) == -1)
		goto out;
	if (access(K.path, F_OK) == -1 && errno == ENOENT) {
		if (n > 0) {
			snprintf(err, errlen, "secrets: key file %s does not "
			    "exist, but the store holds %zu secret%s sealed "
			    "with key %s; restore that key file (mode 0600, "
			    "owned by nomaflowd's user) or point [secrets] "
			    "key_file at it", K.path, n, n == 1 ? "" : "s",
			    rows[0].key_id);
			goto out;
		}
		/* Created by the first nfctl secret set. */
		rc = 0;
		goto out;
	}
	if (nf_secret_key_read(K.path, !K.from_cred, key, err, errlen) == -1)
		goto out;
	key_use(key);
	sodium_memzero(key, sizeof(key));
	for (i = 0; i < n; i++)
		if (strcmp(rows[i].key_id, K.key_id) != 0)
			other++;
	if (other > 0) {
		for (i = 0; strcmp(rows[i].key_id, K.key_id) == 0; i++)
			;
		snprintf(err, errlen, "secrets: key file %s (key %s) is not "
		    "the key that sealed %zu of the %zu stored secrets "
		    "(\"%s\": key %s); restore the right key file or point "
		    "[secrets] key_file at it", K.path, K.key_id, other, n,
		    rows[i].name, rows[i].key_id);
		K.have_key = 0;
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		nf_store_secret_row_free(&rows[i]);
	free(rows);
	K.open = rc == 0;
	return rc;
}

void
nf_secret_close(void)
{
	if (K.key != NULL)
		sodium_free(K.key);
	K.key = NULL;
	K.have_key = K.open = 0;
	free(K.path);
	K.path = NULL;
}

static int
check_name(const char *name, char *err, size_t errlen)
{
	if (!nf_valid_ident(name) || strlen(name) > 128) {
		snprintf(err, errlen, "secret name \"%s\" may only contain "
		    "letters, digits, \"_\" and \"-\" (at most 128)", name);
		return -1;
	}
	return 0;
}

int
nf_secret_set(const char *name, const char *value, size_t len, char *err,
    size_t errlen)
{
	struct nf_secret_row	 row;
	unsigned char		 key[NF_SECRET_KEY_BYTES];
	int			 rc;

	if (check_name(name, err, errlen) == -1)
		return -1;
	if (len == 0 || len > NF_SECRET_MAX_VALUE ||
	    memchr(value, '\0', len) != NULL || !nf_utf8_valid(value, len)) {
		snprintf(err, errlen, "secret %s: the value must be 1 to %d "
		    "bytes of UTF-8 text without NUL characters", name,
		    NF_SECRET_MAX_VALUE);
		return -1;
	}
	if (!K.open) {
		snprintf(err, errlen, "secrets: the secret store is not open");
		return -1;
	}
	if (!K.have_key) {
		if (K.from_cred) {
			snprintf(err, errlen, "secrets: no key");
			return -1;
		}
		if (nf_secret_key_create(K.path, key, err, errlen) == -1)
			return -1;
		key_use(key);
		sodium_memzero(key, sizeof(key));
		nf_info("secrets: created key file %s (key %s); back it up: "
		    "the secrets cannot be read without it", K.path, K.key_id);
	}
	if (nf_secret_seal(K.key, name, value, len, &row) == -1) {
		snprintf(err, errlen, "secret %s: sealing failed", name);
		return -1;
	}
	row.updated_at = row.created_at = nf_now_ms();
	rc = nf_store_secret_put(&row);
	nf_store_secret_row_free(&row);
	if (rc == -1) {
		snprintf(err, errlen, "secret %s not saved: %s", name,
		    nf_store_error());
		return -1;
	}
	return 0;
}

int
nf_secret_get(const char *name, char **value, char *err, size_t errlen)
{
	struct nf_secret_row	 row;
	int			 rc;

	*value = NULL;
	if (!K.open) {
		snprintf(err, errlen, "secret %s cannot be decrypted: the "
		    "secret store is not open", name);
		return -1;
	}
	if ((rc = nf_store_secret_get(name, &row)) == -1) {
		snprintf(err, errlen, "secret %s cannot be read: %s", name,
		    nf_store_error());
		return -1;
	}
	if (rc == 0)
		return 0;
	if (!K.have_key) {
		snprintf(err, errlen, "secret %s cannot be decrypted: no key "
		    "file (%s)", name, nf_secret_key_path());
		rc = -1;
	} else if (nf_secret_unseal(K.key, &row, value, err, errlen) == -1)
		rc = -1;
	else
		rc = 1;
	nf_store_secret_row_free(&row);
	return rc;
}

int
nf_secret_exists(const char *name)
{
	struct nf_secret_row	 row;
	int			 rc;

	if (!K.open)
		return -1;
	if ((rc = nf_store_secret_get(name, &row)) == 1)
		nf_store_secret_row_free(&row);
	return rc;
}

int
nf_secret_rm(const char *name, char *err, size_t errlen)
{
	int	 rc;

	if (check_name(name, err, errlen) == -1)
		return -1;
	if ((rc = nf_store_secret_del(name)) == -1)
		snprintf(err, errlen, "secret %s not removed: %s", name,
		    nf_store_error());
	return rc;
}

struct nf_val *
nf_secret_list(char *err, size_t errlen)
{
	struct nf_secret_row	*rows;
	struct nf_val		*a, *m;
	size_t			 n, i;

	if (nf_store_secret_all(&rows, &n) == -1) {
		snprintf(err, errlen, "secrets: %s", nf_store_error());
		return NULL;
	}
	a = nf_val_arr();
	for (i = 0; i < n; i++) {
		m = nf_val_map();
		nf_val_map_set_str(m, "name", rows[i].name);
		nf_val_map_set_str(m, "key_id", rows[i].key_id);
		nf_val_map_set_int(m, "created_at", rows[i].created_at);
		nf_val_map_set_int(m, "updated_at", rows[i].updated_at);
		nf_val_arr_push(a, m);
		nf_store_secret_row_free(&rows[i]);
	}
	free(rows);
	return a;
}

int
nf_secret_rotate(size_t *count, char *err, size_t errlen)
{
	struct nf_secret_row	*rows = NULL, *sealed = NULL;
	unsigned char		*nk = NULL;
	char			*newpath = NULL, *v, e[512];
	size_t			 n = 0, i, nsealed = 0;
	int			 rc = -1, keynew = 0;

	*count = 0;
	if (!K.open) {
		snprintf(err, errlen, "secrets: the secret store is not open");
		return -1;
	}
	if (K.from_cred) {
		snprintf(err, errlen, "secrets: the key comes from the systemd "
		    "credential %s, which nomaflowd cannot replace; rotate-key "
		    "works with a key file ([secrets] key_file) only", K.path);
		return -1;
	}
	if (!K.have_key) {
		/* No secret was ever set: nothing to re-seal. */
		return 0;
	}
	if (nf_store_secret_all(&rows, &n) == -1) {
		snprintf(err, errlen, "secrets: %s", nf_store_error());
		return -1;
	}
	if ((nk = sodium_malloc(NF_SECRET_KEY_BYTES)) == NULL) {
		snprintf(err, errlen, "secrets: cannot allocate a key");
		goto out;
	}
	newpath = nf_xprintf("%s.new", K.path);
	/* A leftover from a rotation that failed in this life. */
	if (unlink(newpath) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "secrets: cannot remove %s: %s", newpath,
		    strerror(errno));
		goto out;
	}
	if (nf_secret_key_create(newpath, nk, err, errlen) == -1)
		goto out;
	keynew = 1;
	NF_FAULT("secret_rotate_keynew");
	sealed = nf_xcalloc(n + 1, sizeof(*sealed));
	for (i = 0; i < n; i++) {
		if (nf_secret_unseal(K.key, &rows[i], &v, e,
		    sizeof(e)) == -1) {
			snprintf(err, errlen, "%s; key rotation aborted, "
			    "nothing changed (fix or remove that secret "
			    "first)", e);
			goto out;
		}
		rc = nf_secret_seal(nk, rows[i].name, v, strlen(v),
		    &sealed[i]);
		nf_secret_wipe(v);
		if (rc == -1) {
			snprintf(err, errlen, "secret %s: sealing failed; key "
			    "rotation aborted, nothing changed", rows[i].name);
			goto out;
		}
		rc = -1;
		nsealed++;
	}
	if (nf_store_secret_rewrite(sealed, nsealed) == -1) {
		snprintf(err, errlen, "secrets: key rotation aborted, nothing "
		    "changed: %s", nf_store_error());
		goto out;
	}
	/* The rows need the new key from here on, whatever happens next. */
	key_use(nk);
	keynew = 0;
	*count = nsealed;
	NF_FAULT("secret_rotate_rename");
	if (rename(newpath, K.path) == -1) {
		snprintf(err, errlen, "secrets: the %zu secrets are re-sealed "
		    "with the new key, but renaming %s to %s failed: %s; "
		    "nomaflowd finishes the rotation at its next start", n,
		    newpath, K.path, strerror(errno));
		goto out;
	}
	NF_FAULT("secret_rotate_sync");
	if (sync_dir(K.path, err, errlen) == -1)
		goto out;
	nf_info("secrets: key rotated (key %s, %zu secret%s re-sealed)",
	    K.key_id, nsealed, nsealed == 1 ? "" : "s");
	rc = 0;
out:
	if (keynew) {
		unlink(newpath);
		(void)sync_dir(newpath, e, sizeof(e));
	}
	for (i = 0; i < n; i++)
		nf_store_secret_row_free(&rows[i]);
	free(rows);
	for (i = 0; i < nsealed; i++)
		nf_store_secret_row_free(&sealed[i]);
	free(sealed);
	if (nk != NULL)
		sodium_free(nk);
	free(newpath);
	return rc;
}
