/*
 * secret.h: the secret store of nomaflowd.  Values are sealed with
 * XChaCha20-Poly1305 under one key (a 32-byte key file, or the systemd
 * credential NF_SECRET_CREDENTIAL) and kept in the store as ciphertext;
 * they are opened only when a step attempt needs them.
 *
 * The nf_secret_* calls that take a name work on the open store
 * (nf_secret_open first).  The seal/unseal/key helpers are pure and are
 * what the unit tests drive.
 */
#ifndef NF_SECRET_H
#define NF_SECRET_H

#include <stddef.h>

#include "store.h"
#include "val.h"

/* $CREDENTIALS_DIRECTORY/<this> (systemd LoadCredential=) wins. */
#define NF_SECRET_CREDENTIAL	"nomaflow-secrets-key"
#define NF_SECRET_KEY_BYTES	32
#define NF_SECRET_KEY_ID_LEN	16	/* hex characters */
/* A value travels in one control request (64 KiB): keep it well under. */
#define NF_SECRET_MAX_VALUE	32768

/*
 * At start, after the store is open.  key_path: the configured key file.
 * Finishes or rolls back a key rotation a crash interrupted, then checks
 * that the key (if any) is the one every stored secret was sealed with.
 * -1 + err (a start-up error naming the path and what to do).
 */
int		 nf_secret_open(const char *key_path, char *err,
		    size_t errlen);
void		 nf_secret_close(void);
/* The key in use: its file (or credential) path and id ("" if none). */
const char	*nf_secret_key_path(void);
const char	*nf_secret_key_id(void);

/* Seal and store (creating the key file on first use).  0 or -1 + err. */
int		 nf_secret_set(const char *name, const char *value,
		    size_t len, char *err, size_t errlen);
/*
 * Open a secret: 1 and *value (NUL-terminated; release it with
 * nf_secret_wipe), 0 if there is no such secret, -1 + err ("secret NAME
 * cannot be decrypted: ...").
 */
int		 nf_secret_get(const char *name, char **value, char *err,
		    size_t errlen);
void		 nf_secret_wipe(char *value);
/* 1 exists, 0 not, -1 store error. */
int		 nf_secret_exists(const char *name);
/* 1 removed, 0 no such secret, -1 + err. */
int		 nf_secret_rm(const char *name, char *err, size_t errlen);
/* [{name, key_id, created_at, updated_at}] by name, or NULL + err. */
struct nf_val	*nf_secret_list(char *err, size_t errlen);
/*
 * New key, every secret re-sealed under it: key.new written and synced,
 * the rows rewritten in one transaction, key.new renamed over the key.
 * *count: secrets re-sealed.  0 or -1 + err (nothing changed, unless err
 * says the start-up will finish it).
 */
int		 nf_secret_rotate(size_t *count, char *err, size_t errlen);

/* Pure helpers (tests). */
int		 nf_secret_seal(const unsigned char *key, const char *name,
		    const void *value, size_t len, struct nf_secret_row *out);
int		 nf_secret_unseal(const unsigned char *key,
		    const struct nf_secret_row *, char **value, char *err,
		    size_t errlen);
void		 nf_secret_key_id_of(const unsigned char *key,
		    char out[NF_SECRET_KEY_ID_LEN + 1]);
/* A new key file: 32 random bytes, mode 0600, O_EXCL, file and dir synced. */
int		 nf_secret_key_create(const char *path, unsigned char *key,
		    char *err, size_t errlen);
/* Read a key file; own: refuse one that group or others may read. */
int		 nf_secret_key_read(const char *path, int own,
		    unsigned char *key, char *err, size_t errlen);

#endif
