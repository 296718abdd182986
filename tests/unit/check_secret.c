/*
 * check_secret.c: unit tests of supervisor/secret.c: sealing (round trip,
 * wrong key, tampered bytes, a ciphertext moved to another name), key
 * files (mode, size, O_EXCL), the secret store on a real SQLite store,
 * key rotation, and the start-up recovery of a rotation a crash cut short
 * (before and after the rows moved).  Each test gets a fresh directory.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nf_check.h"
#include "secret.h"
#include "store.h"
#include "util.h"
#include "val.h"

static char	 tdir[256];
static char	 dbpath[300], keypath[300], newpath[300];

static void
setup(void)
{
	const char	*t = getenv("TMPDIR");

	snprintf(tdir, sizeof(tdir), "%s/nf-secret-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", tdir);
	snprintf(keypath, sizeof(keypath), "%s/secrets.key", tdir);
	snprintf(newpath, sizeof(newpath), "%s/secrets.key.new", tdir);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void
teardown(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[600];

	nf_secret_close();
	nf_store_close();
	if ((d = opendir(tdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tdir);
}

static void
key_fill(unsigned char *k, unsigned char b)
{
	memset(k, b, NF_SECRET_KEY_BYTES);
}

START_TEST(test_seal_round_trip)
{
	unsigned char		 key[NF_SECRET_KEY_BYTES];
	struct nf_secret_row	 r, r2;
	char			*v, err[512], id[NF_SECRET_KEY_ID_LEN + 1];

	key_fill(key, 7);
	ck_assert_int_eq(nf_secret_seal(key, "db_pw", "s3cr3t-value", 12,
	    &r), 0);
	ck_assert_uint_eq(r.nonce_len, 24);
	ck_assert_uint_eq(r.ct_len, 12 + 16);
	/* The ciphertext does not hold the value. */
	ck_assert_ptr_null(memmem(r.ct, r.ct_len, "s3cr3t", 6));
	nf_secret_key_id_of(key, id);
	ck_assert_str_eq(r.key_id, id);
	ck_assert_uint_eq(strlen(id), NF_SECRET_KEY_ID_LEN);
	ck_assert_int_eq(nf_secret_unseal(key, &r, &v, err, sizeof(err)), 0);
	ck_assert_str_eq(v, "s3cr3t-value");
	nf_secret_wipe(v);
	/* A fresh nonce per value: the same value seals differently. */
	ck_assert_int_eq(nf_secret_seal(key, "db_pw", "s3cr3t-value", 12,
	    &r2), 0);
	ck_assert_int_ne(memcmp(r.nonce, r2.nonce, 24), 0);
	ck_assert_int_ne(memcmp(r.ct, r2.ct, r.ct_len), 0);
	nf_store_secret_row_free(&r);
	nf_store_secret_row_free(&r2);
}
END_TEST

START_TEST(test_seal_wrong_key)
{
	unsigned char		 key[NF_SECRET_KEY_BYTES], other[NF_SECRET_KEY_BYTES];
	struct nf_secret_row	 r;
	char			*v, err[512];

	key_fill(key, 1);
	key_fill(other, 2);
	ck_assert_int_eq(nf_secret_seal(key, "tok", "abc", 3, &r), 0);
	ck_assert_int_eq(nf_secret_unseal(other, &r, &v, err, sizeof(err)),
	    -1);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err, "secret tok cannot be decrypted"));
	/* Even with the key id forged, the tag does not verify. */
	nf_secret_key_id_of(other, r.key_id);
	ck_assert_int_eq(nf_secret_unseal(other, &r, &v, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "authentication failed"));
	nf_store_secret_row_free(&r);
}
END_TEST

START_TEST(test_seal_tampered)
{
	unsigned char		 key[NF_SECRET_KEY_BYTES];
	struct nf_secret_row	 r;
	char			*v, err[512];
	size_t			 i;

	key_fill(key, 3);
	ck_assert_int_eq(nf_secret_seal(key, "tok", "value-1", 7, &r), 0);
	/* Every byte of the ciphertext, its tag and the nonce counts. */
	for (i = 0; i < r.ct_len; i++) {
		r.ct[i] ^= 0x01;
		ck_assert_int_eq(nf_secret_unseal(key, &r, &v, err,
		    sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err,
		    "secret tok cannot be decrypted"));
		r.ct[i] ^= 0x01;
	}
	for (i = 0; i < r.nonce_len; i++) {
		r.nonce[i] ^= 0x80;
		ck_assert_int_eq(nf_secret_unseal(key, &r, &v, err,
		    sizeof(err)), -1);
		r.nonce[i] ^= 0x80;
	}
	/* A truncated row is damaged, not a crash. */
	r.ct_len = 5;
	ck_assert_int_eq(nf_secret_unseal(key, &r, &v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "damaged"));
	r.ct_len = 7 + 16;
	ck_assert_int_eq(nf_secret_unseal(key, &r, &v, err, sizeof(err)), 0);
	ck_assert_str_eq(v, "value-1");
	nf_secret_wipe(v);
	nf_store_secret_row_free(&r);
}
END_TEST

START_TEST(test_seal_name_swap)
{
	unsigned char		 key[NF_SECRET_KEY_BYTES];
	struct nf_secret_row	 r;
	char			*v, err[512];

	key_fill(key, 4);
	ck_assert_int_eq(nf_secret_seal(key, "prod_pw", "p", 1, &r), 0);
	/* The name is the associated data: moved to "test_pw", it fails. */
	free(r.name);
	r.name = nf_xstrdup("test_pw");
	ck_assert_int_eq(nf_secret_unseal(key, &r, &v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "secret test_pw cannot be "
	    "decrypted"));
	nf_store_secret_row_free(&r);
}
END_TEST

START_TEST(test_key_file)
{
	unsigned char	 k1[NF_SECRET_KEY_BYTES], k2[NF_SECRET_KEY_BYTES];
	struct stat	 sb;
	char		 err[512];
	int		 fd;

	ck_assert_int_eq(nf_secret_key_create(keypath, k1, err, sizeof(err)),
	    0);
	ck_assert_int_eq(stat(keypath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, NF_SECRET_KEY_BYTES);
	/* Never over an existing key. */
	ck_assert_int_eq(nf_secret_key_create(keypath, k2, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "File exists"));
	ck_assert_int_eq(nf_secret_key_read(keypath, 1, k2, err, sizeof(err)),
	    0);
	ck_assert_int_eq(memcmp(k1, k2, sizeof(k1)), 0);
	/* Readable by others: refused for our own file. */
	ck_assert_int_eq(chmod(keypath, 0640), 0);
	ck_assert_int_eq(nf_secret_key_read(keypath, 1, k2, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "mode 0640"));
	ck_assert_ptr_nonnull(strstr(err, keypath));
	/* A credential is systemd's to protect. */
	ck_assert_int_eq(nf_secret_key_read(keypath, 0, k2, err, sizeof(err)),
	    0);
	/* Wrong size. */
	ck_assert_int_eq(chmod(keypath, 0600), 0);
	fd = open(keypath, O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
	ck_assert_int_eq(nf_secret_key_read(keypath, 1, k2, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a key"));
}
END_TEST

static void
open_all(void)
{
	char	err[512];

	ck_assert_int_eq(nf_store_open(dbpath, 0), 0);
	ck_assert_int_eq(nf_secret_open(keypath, err, sizeof(err)), 0);
}

static void
reopen_all(void)
{
	nf_secret_close();
	nf_store_close();
	open_all();
}

static void
expect_value(const char *name, const char *want)
{
	char	*v, err[512];

	ck_assert_int_eq(nf_secret_get(name, &v, err, sizeof(err)), 1);
	ck_assert_str_eq(v, want);
	nf_secret_wipe(v);
}

START_TEST(test_store_set_get_rm)
{
	struct nf_val	*l;
	char		*v, err[512];

	open_all();
	/* No key file until the first secret. */
	ck_assert_int_eq(access(keypath, F_OK), -1);
	ck_assert_int_eq(nf_secret_get("a", &v, err, sizeof(err)), 0);
	ck_assert_int_eq(nf_secret_set("a", "alpha-1", 7, err, sizeof(err)),
	    0);
	ck_assert_int_eq(access(keypath, F_OK), 0);
	ck_assert_int_eq(nf_secret_set("b", "beta", 4, err, sizeof(err)), 0);
	ck_assert_int_eq(nf_secret_set("a", "alpha-2", 7, err, sizeof(err)),
	    0);
	expect_value("a", "alpha-2");
	ck_assert_int_eq(nf_secret_exists("b"), 1);
	ck_assert_int_eq(nf_secret_exists("c"), 0);
	/* Bad names and values. */
	ck_assert_int_eq(nf_secret_set("a b", "x", 1, err, sizeof(err)), -1);
	ck_assert_int_eq(nf_secret_set("c", "", 0, err, sizeof(err)), -1);
	ck_assert_int_eq(nf_secret_set("c", "a\0b", 3, err, sizeof(err)), -1);
	ck_assert_int_eq(nf_secret_set("c", "\xff", 1, err, sizeof(err)), -1);
	l = nf_secret_list(err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "name"), "a");
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "key_id"),
	    nf_secret_key_id());
	ck_assert_ptr_null(nf_val_get(l->u.a.items[0], "value"));
	nf_val_free(l);
	/* Committed: visible after a restart. */
	reopen_all();
	expect_value("a", "alpha-2");
	expect_value("b", "beta");
	ck_assert_int_eq(nf_secret_rm("b", err, sizeof(err)), 1);
	ck_assert_int_eq(nf_secret_rm("b", err, sizeof(err)), 0);
	ck_assert_int_eq(nf_secret_exists("b"), 0);
}
END_TEST

START_TEST(test_store_wrong_or_missing_key)
{
	unsigned char	k[NF_SECRET_KEY_BYTES];
	char		err[512];

	open_all();
	ck_assert_int_eq(nf_secret_set("a", "alpha", 5, err, sizeof(err)), 0);
	nf_secret_close();
	/* Another key: a start-up error naming the path. */
	ck_assert_int_eq(unlink(keypath), 0);
	ck_assert_int_eq(nf_secret_key_create(keypath, k, err, sizeof(err)),
	    0);
	ck_assert_int_eq(nf_secret_open(keypath, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, keypath));
	ck_assert_ptr_nonnull(strstr(err, "is not the key"));
	/* No key at all while secrets exist. */
	ck_assert_int_eq(unlink(keypath), 0);
	ck_assert_int_eq(nf_secret_open(keypath, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	ck_assert_ptr_nonnull(strstr(err, keypath));
}
END_TEST

START_TEST(test_rotate)
{
	char	 err[512], id0[NF_SECRET_KEY_ID_LEN + 1];
	size_t	 n;

	open_all();
	/* Nothing to rotate yet. */
	ck_assert_int_eq(nf_secret_rotate(&n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(nf_secret_set("a", "alpha", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(nf_secret_set("b", "beta", 4, err, sizeof(err)), 0);
	snprintf(id0, sizeof(id0), "%s", nf_secret_key_id());
	ck_assert_int_eq(nf_secret_rotate(&n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_ne(nf_secret_key_id(), id0);
	ck_assert_int_eq(access(newpath, F_OK), -1);
	expect_value("a", "alpha");
	expect_value("b", "beta");
	/* The key file on disk is the new key. */
	reopen_all();
	ck_assert_str_ne(nf_secret_key_id(), id0);
	expect_value("a", "alpha");
	expect_value("b", "beta");
}
END_TEST

/* A crash after key.new was written, before the rows moved: roll back. */
START_TEST(test_recover_before_commit)
{
	unsigned char	k[NF_SECRET_KEY_BYTES];
	char		err[512], id0[NF_SECRET_KEY_ID_LEN + 1];

	open_all();
	ck_assert_int_eq(nf_secret_set("a", "alpha", 5, err, sizeof(err)), 0);
	snprintf(id0, sizeof(id0), "%s", nf_secret_key_id());
	ck_assert_int_eq(nf_secret_key_create(newpath, k, err, sizeof(err)),
	    0);
	reopen_all();
	ck_assert_int_eq(access(newpath, F_OK), -1);
	ck_assert_str_eq(nf_secret_key_id(), id0);
	expect_value("a", "alpha");
}
END_TEST

/* A crash after the rows moved, before the rename: finish. */
START_TEST(test_recover_after_commit)
{
	unsigned char		 k[NF_SECRET_KEY_BYTES];
	struct nf_secret_row	 r;
	char			 err[512], id[NF_SECRET_KEY_ID_LEN + 1];

	open_all();
	ck_assert_int_eq(nf_secret_set("a", "alpha", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(nf_secret_key_create(newpath, k, err, sizeof(err)),
	    0);
	ck_assert_int_eq(nf_secret_seal(k, "a", "alpha", 5, &r), 0);
	ck_assert_int_eq(nf_store_secret_rewrite(&r, 1), 0);
	nf_store_secret_row_free(&r);
	nf_secret_key_id_of(k, id);
	reopen_all();
	ck_assert_int_eq(access(newpath, F_OK), -1);
	ck_assert_str_eq(nf_secret_key_id(), id);
	expect_value("a", "alpha");
}
END_TEST

static Suite *
secret_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("secret");
	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_seal_round_trip);
	tcase_add_test(tc, test_seal_wrong_key);
	tcase_add_test(tc, test_seal_tampered);
	tcase_add_test(tc, test_seal_name_swap);
	tcase_add_test(tc, test_key_file);
	tcase_add_test(tc, test_store_set_get_rm);
	tcase_add_test(tc, test_store_wrong_or_missing_key);
	tcase_add_test(tc, test_rotate);
	tcase_add_test(tc, test_recover_before_commit);
	tcase_add_test(tc, test_recover_after_commit);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(secret_suite)
