/*
 * check_frame.c: unit tests of the wire protocol (common/frame.c,
 * common/msg.c): framing, partial reads, bounds checked before allocation,
 * claimed-size bombs, strict schema decoding, HELLO, and the message
 * reader (blocking and non-blocking) over a socketpair.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nf_check.h"
#include "proto.h"
#include "util.h"
#include "val.h"

static char	errbuf[512];

/* Decode raw payload bytes; returns the decoder's result, err in errbuf. */
static int
decode_raw(enum nf_dir dir, const void *p, size_t n, struct nf_val **out)
{
	enum nf_msg_type	 t = NF_MSG_NONE;
	struct nf_val		*v = NULL;
	int			 rc;

	errbuf[0] = '\0';
	rc = nf_msg_decode(dir, p, n, &t, &v, errbuf, sizeof(errbuf));
	if (rc == 0)
		ck_assert_ptr_nonnull(v);
	else
		ck_assert_ptr_null(v);
	if (out != NULL)
		*out = v;
	else
		nf_val_free(v);
	return rc;
}

#define ck_assert_err(frag) \
	ck_assert_msg(strstr(errbuf, (frag)) != NULL, \
	    "error \"%s\" does not contain \"%s\"", errbuf, (frag))

/* Encode msg and decode its payload in dir; errbuf holds any error. */
static int
roundtrip(enum nf_dir dir, const struct nf_val *msg, struct nf_val **out)
{
	struct nf_buf	b;
	int		rc;

	nf_buf_init(&b);
	nf_msg_encode(msg, &b);
	ck_assert_uint_ge(b.len, 4);
	ck_assert_uint_eq(((uint32_t)(uint8_t)b.data[0] << 24 |
	    (uint32_t)(uint8_t)b.data[1] << 16 |
	    (uint32_t)(uint8_t)b.data[2] << 8 | (uint8_t)b.data[3]),
	    b.len - 4);
	rc = decode_raw(dir, b.data + 4, b.len - 4, out);
	nf_buf_free(&b);
	return rc;
}

/* A LOG message with the given line (taken as raw bytes). */
static struct nf_val *
mk_log(const char *line, size_t n)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_STEP_LOG);
	nf_val_map_set_str(m, "stream", "stdout");
	nf_val_map_set(m, "line", nf_val_strn(line, n));
	return m;
}

/* One message of every type, every field (optional ones too) filled. */
static struct nf_val *
mk_full(enum nf_msg_type t, enum nf_dir *dir)
{
	struct nf_val	*m, *sub, *arr;

	m = nf_msg_new(t);
	switch (t) {
	case NF_MSG_HELLO:
		nf_val_free(m);
		m = nf_msg_hello(NF_PROTO_WORKER);
		*dir = NF_DIR_FROM_WORKER;
		break;
	case NF_MSG_STEP_START:
		nf_val_map_set_int(m, "run_id", 17);
		nf_val_map_set_int(m, "attempt_id", 40);
		nf_val_map_set_int(m, "attempt", 2);
		nf_val_map_set_str(m, "job_id", "nightly-sync");
		nf_val_map_set_str(m, "step", "load");
		nf_val_map_set_str(m, "type", "sql");
		nf_val_map_set_str(m, "policy", "sql");
		sub = nf_val_map();
		nf_val_map_set_str(sub, "query",
		    "SELECT 1 -- \xc3\xa9t\xc3\xa9");
		nf_val_map_set(sub, "ratio", nf_val_float(0.25));
		nf_val_map_set(sub, "blob", nf_val_bin("\0\1\2\xff", 4));
		nf_val_map_set(sub, "none", nf_val_nil());
		nf_val_map_set_int(sub, "neg", INT64_MIN);
		nf_val_map_set_int(sub, "big", INT64_MAX);
		nf_val_map_set(m, "spec", sub);
		sub = nf_val_map();
		nf_val_map_set_str(sub, "day", "2026-11-29");
		nf_val_map_set(m, "params", sub);
		nf_val_map_set_int(m, "timeout_ms", 60000);
		nf_val_map_set_bool(m, "sandbox", 1);
		sub = nf_val_map();
		nf_val_map_set_str(sub, "driver", "sqlite");
		nf_val_map_set(m, "pool", sub);
		nf_val_map_set_int(m, "max_rows", 1000);
		*dir = NF_DIR_TO_WORKER;
		break;
	case NF_MSG_STEP_READY:
		*dir = NF_DIR_FROM_WORKER;
		break;
	case NF_MSG_STEP_LOG:
		nf_val_map_set_str(m, "stream", "stderr");
		nf_val_map_set_str(m, "line", "connected to pool main");
		nf_val_map_set_str(m, "level", "warn");
		*dir = NF_DIR_FROM_WORKER;
		break;
	case NF_MSG_STEP_PROGRESS:
		sub = nf_val_map();
		nf_val_map_set_int(sub, "rows", 500);
		nf_val_map_set(m, "data", sub);
		*dir = NF_DIR_FROM_WORKER;
		break;
	case NF_MSG_STEP_OUTPUT:
		arr = nf_val_arr();
		nf_val_arr_push(arr, nf_val_int(-1));
		nf_val_arr_push(arr, nf_val_str("x"));
		nf_val_arr_push(arr, nf_val_arr());
		nf_val_arr_push(arr, nf_val_bool(0));
		nf_val_map_set(m, "data", arr);
		*dir = NF_DIR_FROM_WORKER;
		break;
	case NF_MSG_STEP_RESULT:
		nf_val_map_set_bool(m, "ok", 0);
		nf_val_map_set_str(m, "reason", "timeout");
		nf_val_map_set_str(m, "error", "step ran over 60s");
		nf_val_map_set_int(m, "exit_code", 1);
		nf_val_map_set_int(m, "signal", 9);
		nf_val_map_set_int(m, "rows_affected", 0);
		*dir = NF_DIR_FROM_WORKER;
		break;
	case NF_MSG_CTL_REQ:
		nf_val_map_set_int(m, "id", 1);
		nf_val_map_set_str(m, "cmd", "run");
		sub = nf_val_map();
		nf_val_map_set_str(sub, "job", "nightly-sync");
		nf_val_map_set_bool(sub, "force", 1);
		nf_val_map_set(m, "args", sub);
		*dir = NF_DIR_CTL_REQUEST;
		break;
	case NF_MSG_CTL_RESP:
		nf_val_map_set_int(m, "id", 1);
		nf_val_map_set_bool(m, "ok", 0);
		nf_val_map_set_int(m, "code", NF_EXIT_CONFLICT);
		nf_val_map_set_str(m, "error", "job already running");
		nf_val_map_set(m, "data", nf_val_nil());
		*dir = NF_DIR_CTL_RESPONSE;
		break;
	case NF_MSG_CTL_EVENT:
		nf_val_map_set_int(m, "id", 1);
		nf_val_map_set_str(m, "kind", "end");
		nf_val_map_set(m, "data", nf_val_str("succeeded"));
		*dir = NF_DIR_CTL_RESPONSE;
		break;
	default:
		ck_abort_msg("no sample for type %d", (int)t);
	}
	return m;
}

START_TEST(test_roundtrip_every_type)
{
	struct nf_val		*m, *back;
	enum nf_dir		 dir;
	enum nf_msg_type	 t, got;
	struct nf_buf		 b;
	int			 d;

	for (t = NF_MSG_HELLO; t < NF_MSG_MAX; t++) {
		m = mk_full(t, &dir);
		ck_assert_int_eq(nf_msg_check(dir, m, &got, errbuf,
		    sizeof(errbuf)), 0);
		ck_assert_int_eq(got, t);
		nf_buf_init(&b);
		nf_msg_encode(m, &b);
		got = NF_MSG_NONE;
		ck_assert_msg(nf_msg_decode(dir, (uint8_t *)b.data + 4,
		    b.len - 4, &got, &back, errbuf, sizeof(errbuf)) == 0,
		    "%s: %s", nf_msg_type_name(t), errbuf);
		ck_assert_int_eq(got, t);
		ck_assert_msg(nf_val_equal(m, back), "%s changed in transit",
		    nf_msg_type_name(t));
		nf_val_free(back);
		/* Every other direction refuses it, except HELLO. */
		for (d = NF_DIR_TO_WORKER; d <= NF_DIR_CTL_RESPONSE; d++) {
			if ((enum nf_dir)d == dir)
				continue;
			if (t == NF_MSG_HELLO)
				ck_assert_int_eq(decode_raw(d, b.data + 4,
				    b.len - 4, NULL), 0);
			else {
				ck_assert_int_eq(decode_raw(d, b.data + 4,
				    b.len - 4, NULL), -1);
				ck_assert_err("not allowed on this channel");
			}
		}
		nf_buf_free(&b);
		nf_val_free(m);
	}
}
END_TEST

START_TEST(test_type_names)
{
	enum nf_msg_type	t;

	for (t = NF_MSG_HELLO; t < NF_MSG_MAX; t++)
		ck_assert_int_eq(nf_msg_type_parse(nf_msg_type_name(t)), t);
	ck_assert_str_eq(nf_msg_type_name(NF_MSG_STEP_LOG), "log");
	ck_assert_str_eq(nf_msg_type_name(NF_MSG_STEP_START), "step_start");
	ck_assert_int_eq(nf_msg_type_parse("bogus"), NF_MSG_NONE);
	ck_assert_int_eq(nf_msg_type_parse("none"), NF_MSG_NONE);
	ck_assert_int_eq(nf_msg_type_parse(""), NF_MSG_NONE);
}
END_TEST

START_TEST(test_partial_byte_at_a_time)
{
	struct nf_frame_reader	 r;
	struct nf_val		*m, *back;
	struct nf_buf		 b;
	const uint8_t		*p;
	size_t			 i, n;

	m = mk_log("hello world", 11);
	nf_buf_init(&b);
	nf_msg_encode(m, &b);
	nf_frame_reader_init(&r, NF_MAX_FROM_WORKER);
	for (i = 0; i < b.len; i++) {
		ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf,
		    sizeof(errbuf)), 0);
		nf_frame_feed(&r, b.data + i, 1);
	}
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    1);
	ck_assert_uint_eq(n, b.len - 4);
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, p, n, &back), 0);
	ck_assert(nf_val_equal(m, back));
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    0);
	nf_val_free(back);
	nf_val_free(m);
	nf_buf_free(&b);
	nf_frame_reader_free(&r);
}
END_TEST

START_TEST(test_two_frames_one_buffer)
{
	struct nf_frame_reader	 r;
	struct nf_val		*a, *c, *back;
	struct nf_buf		 b;
	const uint8_t		*p;
	size_t			 n;

	a = mk_log("first", 5);
	c = mk_log("second", 6);
	nf_buf_init(&b);
	nf_msg_encode(a, &b);
	nf_msg_encode(c, &b);
	/* and half of a third */
	nf_msg_encode(a, &b);
	nf_frame_reader_init(&r, NF_MAX_FROM_WORKER);
	nf_frame_feed(&r, b.data, b.len - 5);
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    1);
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, p, n, &back), 0);
	ck_assert_str_eq(nf_val_get_str(back, "line"), "first");
	nf_val_free(back);
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    1);
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, p, n, &back), 0);
	ck_assert_str_eq(nf_val_get_str(back, "line"), "second");
	nf_val_free(back);
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    0);
	/* The rest of the third frame completes it after compaction. */
	nf_frame_feed(&r, b.data + b.len - 5, 5);
	ck_assert_uint_eq(r.off, 0);
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    1);
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, p, n, &back), 0);
	ck_assert_str_eq(nf_val_get_str(back, "line"), "first");
	nf_val_free(back);
	nf_val_free(a);
	nf_val_free(c);
	nf_buf_free(&b);
	nf_frame_reader_free(&r);
}
END_TEST

START_TEST(test_oversize_before_allocation)
{
	struct nf_frame_reader	 r;
	static const uint8_t	 huge[] = { 0xff, 0xff, 0xff, 0xff, 0x80 };
	static const uint8_t	 over[] = { 0x00, 0x01, 0x00, 0x01 };
	const uint8_t		*p;
	size_t			 n;

	nf_frame_reader_init(&r, NF_MAX_CTL_REQUEST);
	nf_frame_feed(&r, huge, sizeof(huge));
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    -1);
	ck_assert_err("4294967295");
	ck_assert_err("65536");
	/* Nothing grew for the claim. */
	ck_assert_uint_lt(r.cap, 65536);
	nf_frame_reader_free(&r);

	/* One byte over the limit is refused too; exactly max is fine. */
	nf_frame_reader_init(&r, NF_MAX_CTL_REQUEST);
	nf_frame_feed(&r, over, sizeof(over));
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    -1);
	nf_frame_reader_free(&r);
	nf_frame_reader_init(&r, 65537);
	nf_frame_feed(&r, over, sizeof(over));
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    0);
	nf_frame_reader_free(&r);
}
END_TEST

START_TEST(test_oversize_over_socket)
{
	struct nf_frame_reader	 r;
	static const uint8_t	 huge[] = { 0xff, 0xff, 0xff, 0xfe, 0x80,
	    0x80, 0x80, 0x80 };
	const uint8_t		*p;
	size_t			 n;
	int			 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], huge, sizeof(huge)), sizeof(huge));
	nf_frame_reader_init(&r, NF_MAX_FROM_WORKER);
	ck_assert_int_eq(nf_frame_read(&r, sv[0]), sizeof(huge));
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    -1);
	/* A further read refuses to grow for the bad claim. */
	ck_assert_int_eq(nf_frame_read(&r, sv[0]), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_le(r.cap, 128u << 10);
	nf_frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_growth_follows_bytes)
{
	struct nf_frame_reader	 r;
	static const uint8_t	 claim[] = { 0x00, 0x3f, 0xff, 0xff, 0x81 };
	const uint8_t		*p;
	size_t			 n;
	int			 sv[2], i;

	/* A valid 4 MiB claim with 1 byte behind it: memory follows bytes. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], claim, sizeof(claim)), sizeof(claim));
	ck_assert_int_eq(nf_set_nonblock(sv[0]), 0);
	nf_frame_reader_init(&r, NF_MAX_FROM_WORKER);
	for (i = 0; i < 5; i++)
		(void)nf_frame_read(&r, sv[0]);
	ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf, sizeof(errbuf)),
	    0);
	ck_assert_uint_eq(r.len - r.off, sizeof(claim));
	ck_assert_uint_le(r.cap, 128u << 10);
	nf_frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_read_is_bounded)
{
	struct nf_frame_reader	 r;
	uint8_t			*junk;
	size_t			 total = 0;
	ssize_t			 n;
	int			 sv[2], sz = 1 << 20;

	/* 1 MiB of zero-length frames queued; each read stays bounded. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	ck_assert_int_eq(nf_set_nonblock(sv[1]), 0);
	junk = calloc(1, 256u << 10);
	ck_assert_ptr_nonnull(junk);
	while ((n = write(sv[1], junk, 256u << 10)) > 0)
		total += (size_t)n;
	ck_assert_uint_gt(total, 4096);
	nf_frame_reader_init(&r, 1024);
	n = nf_frame_read(&r, sv[0]);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, 1024 + 4);
	nf_frame_reader_free(&r);
	free(junk);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_compaction)
{
	struct nf_frame_reader	 r;
	struct nf_val		*m;
	struct nf_buf		 b;
	const uint8_t		*p;
	size_t			 n, h, cap = 0;
	int			 i;

	m = mk_log("a line of moderate length", 25);
	nf_buf_init(&b);
	nf_msg_encode(m, &b);
	h = b.len / 2;
	nf_frame_reader_init(&r, NF_MAX_FROM_WORKER);
	nf_frame_feed(&r, b.data, h);
	for (i = 0; i < 10000; i++) {
		/*
		 * Half a frame is held; complete it and add the next half,
		 * consume one: the held half moves to the front each time.
		 */
		nf_frame_feed(&r, b.data + h, b.len - h);
		nf_frame_feed(&r, b.data, h);
		ck_assert_int_eq(nf_frame_next(&r, &p, &n, errbuf,
		    sizeof(errbuf)), 1);
		if (i == 10)
			cap = r.cap;
	}
	ck_assert_uint_eq(r.cap, cap);
	nf_val_free(m);
	nf_buf_free(&b);
	nf_frame_reader_free(&r);
}
END_TEST

/* ---- claimed-size bombs ---- */

START_TEST(test_bomb_array32_top)
{
	static const uint8_t	bomb[12] = { 0xdd, 0x0c, 0x00, 0x00, 0x00,
	    0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0 };

	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, bomb, sizeof(bomb),
	    NULL), -1);
	ck_assert_str_eq(errbuf,
	    "claimed array length 201326592 exceeds 7 remaining bytes");
}
END_TEST

/* {"t":"output","data":X}: X appended by the caller */
static const uint8_t output_prefix[] = { 0x82, 0xa1, 't', 0xa6, 'o', 'u',
	't', 'p', 'u', 't', 0xa4, 'd', 'a', 't', 'a' };

static int
decode_output(const uint8_t *x, size_t n, struct nf_val **out)
{
	uint8_t	*buf;
	int	 rc;

	buf = malloc(sizeof(output_prefix) + n);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, output_prefix, sizeof(output_prefix));
	memcpy(buf + sizeof(output_prefix), x, n);
	rc = decode_raw(NF_DIR_FROM_WORKER, buf, sizeof(output_prefix) + n,
	    out);
	free(buf);
	return rc;
}

/* A frame within the byte limit but made of millions of tiny objects. */
START_TEST(test_bomb_object_count)
{
	struct nf_val	*v = NULL;
	uint8_t		*x;
	size_t		 n = NF_MAX_OBJECTS + 5, i;

	x = malloc(5 + n);
	ck_assert_ptr_nonnull(x);
	x[0] = 0xdd;
	x[1] = (uint8_t)(n >> 24);
	x[2] = (uint8_t)(n >> 16);
	x[3] = (uint8_t)(n >> 8);
	x[4] = (uint8_t)n;
	for (i = 0; i < n; i++)
		x[5 + i] = 0xc0;
	ck_assert_int_eq(decode_output(x, 5 + n, &v), -1);
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(errbuf, "more than 65536 objects") != NULL,
	    "error was: %s", errbuf);
	/* just under the cap decodes */
	n = NF_MAX_OBJECTS - 10;
	x[1] = (uint8_t)(n >> 24);
	x[2] = (uint8_t)(n >> 16);
	x[3] = (uint8_t)(n >> 8);
	x[4] = (uint8_t)n;
	ck_assert_int_eq(decode_output(x, 5 + n, &v), 0);
	nf_val_free(v);
	free(x);
}
END_TEST

START_TEST(test_bomb_str_bin_map)
{
	static const uint8_t	str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff,
	    'a', 'b' };
	static const uint8_t	bin32[] = { 0xc6, 0x7f, 0xff, 0xff, 0xff, 0 };
	static const uint8_t	map32[] = { 0xdf, 0x00, 0x00, 0x00, 0x04,
	    0xa1, 'k', 0xc0, 0xa1, 'l', 0xc0 };
	static const uint8_t	arr16[] = { 0xdc, 0xff, 0xff, 0xc0 };
	static const uint8_t	str8[] = { 0xd9, 0x05, 'a', 'b' };
	static const uint8_t	fix[] = { 0xa5, 'a', 'b' };
	static const uint8_t	hdr[] = { 0xdb, 0x00, 0x00 };

	ck_assert_int_eq(decode_output(str32, sizeof(str32), NULL), -1);
	ck_assert_str_eq(errbuf,
	    "claimed str length 4294967295 exceeds 2 remaining bytes");
	ck_assert_int_eq(decode_output(bin32, sizeof(bin32), NULL), -1);
	ck_assert_str_eq(errbuf,
	    "claimed bin length 2147483647 exceeds 1 remaining bytes");
	ck_assert_int_eq(decode_output(map32, sizeof(map32), NULL), -1);
	ck_assert_err("claimed map length 4 (8 objects) exceeds 6 remaining");
	ck_assert_int_eq(decode_output(arr16, sizeof(arr16), NULL), -1);
	ck_assert_str_eq(errbuf,
	    "claimed array length 65535 exceeds 1 remaining bytes");
	ck_assert_int_eq(decode_output(str8, sizeof(str8), NULL), -1);
	ck_assert_err("claimed str length 5 exceeds 2 remaining bytes");
	ck_assert_int_eq(decode_output(fix, sizeof(fix), NULL), -1);
	ck_assert_err("claimed str length 5 exceeds 2 remaining bytes");
	ck_assert_int_eq(decode_output(hdr, sizeof(hdr), NULL), -1);
	ck_assert_err("truncated str header");
}
END_TEST

START_TEST(test_bomb_nested)
{
	/*
	 * Every level claims a huge array, and the sum of what each claim
	 * asks for is what msgpack-c would allocate; the first level alone
	 * must already be refused.
	 */
	static const uint8_t	nested[] = { 0x92, 0xdd, 0x00, 0xff, 0xff,
	    0xff, 0xdd, 0x00, 0xff, 0xff, 0xff, 0xc0 };
	/* An honest outer array whose second element lies. */
	static const uint8_t	inner[] = { 0x93, 0x90, 0xdf, 0x10, 0x00,
	    0x00, 0x00, 0xc0, 0xc0 };

	ck_assert_int_eq(decode_output(nested, sizeof(nested), NULL), -1);
	ck_assert_str_eq(errbuf,
	    "claimed array length 16777215 exceeds 6 remaining bytes");
	ck_assert_int_eq(decode_output(inner, sizeof(inner), NULL), -1);
	ck_assert_err("claimed map length 268435456 (536870912 objects) "
	    "exceeds 2 remaining bytes");
}
END_TEST

START_TEST(test_trailing_bytes)
{
	struct nf_val	*m;
	struct nf_buf	 b;

	m = nf_msg_hello(NF_PROTO_CONTROL);
	nf_buf_init(&b);
	nf_msg_encode(m, &b);
	nf_buf_add(&b, "\xc0\x01\x02", 3);
	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, b.data + 4,
	    b.len - 4, NULL), -1);
	ck_assert_str_eq(errbuf, "trailing 3 bytes after message");
	nf_buf_free(&b);
	nf_val_free(m);
}
END_TEST

START_TEST(test_not_a_map)
{
	static const uint8_t	arr[] = { 0x91, 0xc0 };
	static const uint8_t	str[] = { 0xa1, 't' };
	static const uint8_t	ext[] = { 0x81, 0xa1, 't', 0xd4, 0x01, 0x00 };
	static const uint8_t	c1[] = { 0x81, 0xa1, 't', 0xc1 };

	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, "", 0, NULL), -1);
	ck_assert_err("empty frame");
	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, arr, sizeof(arr),
	    NULL), -1);
	ck_assert_err("not a map");
	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, str, sizeof(str),
	    NULL), -1);
	ck_assert_err("not a map");
	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, ext, sizeof(ext),
	    NULL), -1);
	ck_assert_err("ext type");
	ck_assert_int_eq(decode_raw(NF_DIR_CTL_REQUEST, c1, sizeof(c1),
	    NULL), -1);
	ck_assert_err("invalid msgpack byte 0xc1");
}
END_TEST

START_TEST(test_unknown_type)
{
	static const uint8_t	t_int[] = { 0x81, 0xa1, 't', 0x03 };
	static const uint8_t	no_t[] = { 0x81, 0xa4, 'l', 'i', 'n', 'e',
	    0xa1, 'x' };
	struct nf_val		*m;

	m = nf_val_map();
	nf_val_map_set_str(m, "t", "bogus");
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("unknown message type \"bogus\"");
	nf_val_free(m);

	/* The encoder refuses these (trusted senders), so raw bytes. */
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, t_int,
	    sizeof(t_int), NULL), -1);
	ck_assert_str_eq(errbuf, "key \"t\" must be str, got int");
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, no_t,
	    sizeof(no_t), NULL), -1);
	ck_assert_err("no \"t\"");
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, "\x80", 1, NULL),
	    -1);
	ck_assert_err("no \"t\"");

	m = mk_log("x", 1);
	ck_assert_int_eq(roundtrip(NF_DIR_TO_WORKER, m, NULL), -1);
	ck_assert_err("message type \"log\" not allowed on this channel");
	nf_val_free(m);
}
END_TEST

START_TEST(test_missing_unknown_wrong)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_STEP_LOG);
	nf_val_map_set_str(m, "stream", "stdout");
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf, "missing required key \"line\" in \"log\"");
	nf_val_free(m);

	m = mk_log("x", 1);
	nf_val_map_set_str(m, "foo", "bar");
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf, "unknown key \"foo\" in \"log\"");
	nf_val_free(m);

	m = mk_log("x", 1);
	nf_val_map_set_int(m, "line", 5);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf,
	    "key \"line\" of \"log\" must be str, got int");
	nf_val_free(m);

	m = mk_log("x", 1);
	nf_val_map_set_str(m, "stream", "stdin");
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("key \"stream\" of \"log\" has unknown value \"stdin\"");
	nf_val_free(m);

	m = nf_msg_new(NF_MSG_STEP_PROGRESS);
	nf_val_map_set(m, "data", nf_val_arr());
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("key \"data\" of \"progress\" must be map");
	nf_val_free(m);

	/* "any" accepts anything, but is still required. */
	m = nf_msg_new(NF_MSG_STEP_OUTPUT);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("missing required key \"data\" in \"output\"");
	nf_val_map_set(m, "data", nf_val_float(1.5));
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), 0);
	nf_val_free(m);
}
END_TEST

START_TEST(test_error_text_is_safe)
{
	struct nf_val		*m, *v;
	struct nf_buf		 b;
	enum nf_msg_type	 t;
	char			 key[200], small[24];
	size_t			 i;

	/* A control character in a key shows as '?', not a new line. */
	m = mk_log("x", 1);
	nf_val_map_set_str(m, "bad\nkey", "v");
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf, "unknown key \"bad?key\" in \"log\"");
	nf_val_free(m);

	/* A long key of 2-byte characters is cut whole, with "...". */
	for (i = 0; i + 2 < sizeof(key); i += 2)
		memcpy(key + i, "\xc3\xa9", 2);
	key[i] = '\0';
	m = mk_log("x", 1);
	nf_val_map_set_str(m, key, "v");
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("...\" in \"log\"");
	ck_assert(nf_utf8_valid(errbuf, strlen(errbuf)));
	ck_assert_uint_lt(strlen(errbuf), 100);

	/* A small error buffer never ends inside a character. */
	nf_buf_init(&b);
	nf_msg_encode(m, &b);
	for (i = 14; i < sizeof(small); i++) {
		ck_assert_int_eq(nf_msg_decode(NF_DIR_FROM_WORKER,
		    (uint8_t *)b.data + 4, b.len - 4, &t, &v, small, i), -1);
		ck_assert(nf_utf8_valid(small, strlen(small)));
		ck_assert_uint_ge(strlen(small), i - 4);
	}
	nf_buf_free(&b);
	nf_val_free(m);
}
END_TEST

START_TEST(test_log_line_limit)
{
	struct nf_val	*m;
	char		*line;

	line = malloc(NF_MAX_LOG_LINE + 1);
	ck_assert_ptr_nonnull(line);
	memset(line, 'x', NF_MAX_LOG_LINE + 1);
	m = mk_log(line, NF_MAX_LOG_LINE);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), 0);
	nf_val_free(m);
	m = mk_log(line, NF_MAX_LOG_LINE + 1);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("key \"line\" of \"log\" is 16385 bytes long");
	nf_val_free(m);
	free(line);
}
END_TEST

START_TEST(test_bad_strings)
{
	struct nf_val	*m, *sub;
	static const uint8_t	numkey[] = { 0x82, 0xa1, 't', 0xa6, 'o', 'u',
	    't', 'p', 'u', 't', 0x01, 0xc0 };
	/* data: {"": "", "b": bin8 of 0 bytes} */
	static const uint8_t	empties[] = { 0x82, 0xa0, 0xa0, 0xa1, 'b',
	    0xc4, 0x00 };

	m = mk_log("ok \xff\xfe", 5);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf, "string at line is not valid UTF-8");
	nf_val_free(m);

	/* overlong encoding of '/' */
	m = mk_log("\xc0\xaf", 2);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("not valid UTF-8");
	nf_val_free(m);

	m = mk_log("a\0b", 3);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf, "string at line contains a NUL byte");
	nf_val_free(m);

	/* Deep inside: the path names where. */
	m = nf_msg_new(NF_MSG_STEP_OUTPUT);
	sub = nf_val_arr();
	nf_val_arr_push(sub, nf_val_str("fine"));
	nf_val_arr_push(sub, nf_val_strn("x\0", 2));
	nf_val_map_set(m, "data", sub);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_str_eq(errbuf, "string at data[1] contains a NUL byte");
	nf_val_free(m);

	/* Keys: NUL, and non-string keys. */
	m = nf_msg_new(NF_MSG_STEP_OUTPUT);
	sub = nf_val_map();
	nf_val_map_set(sub, "k", nf_val_nil());
	sub->u.m.kv[0].key[0] = '\0';
	nf_val_map_set(m, "data", sub);
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, NULL), -1);
	ck_assert_err("map key at data contains a NUL byte");
	nf_val_free(m);
	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, numkey,
	    sizeof(numkey), NULL), -1);
	ck_assert_err("map key #2 at the top-level map is not a string");

	/* Empty strings, keys and bins are fine (msgpack-c gives NULL). */
	ck_assert_int_eq(decode_output(empties, sizeof(empties), &sub), 0);
	ck_assert_str_eq(nf_val_get_str(nf_val_get(sub, "data"), ""), "");
	nf_val_free(sub);

	/* bin is bytes: anything goes, and it stays bin. */
	m = nf_msg_new(NF_MSG_STEP_OUTPUT);
	nf_val_map_set(m, "data", nf_val_bin("\0\xff", 2));
	ck_assert_int_eq(roundtrip(NF_DIR_FROM_WORKER, m, &sub), 0);
	ck_assert_int_eq(nf_val_get(sub, "data")->type, NF_V_BIN);
	ck_assert_uint_eq(nf_val_get(sub, "data")->u.s.len, 2);
	nf_val_free(sub);
	nf_val_free(m);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	/* {"t":"output","data":nil,"t":"output"} */
	static const uint8_t	dup[] = { 0x83, 0xa1, 't', 0xa6, 'o', 'u',
	    't', 'p', 'u', 't', 0xa4, 'd', 'a', 't', 'a', 0xc0, 0xa1, 't',
	    0xa6, 'o', 'u', 't', 'p', 'u', 't' };
	/* data: {"a":1,"ab":2,"a":3} */
	static const uint8_t	inner[] = { 0x83, 0xa1, 'a', 0x01, 0xa2, 'a',
	    'b', 0x02, 0xa1, 'a', 0x03 };

	ck_assert_int_eq(decode_raw(NF_DIR_FROM_WORKER, dup, sizeof(dup),
	    NULL), -1);
	ck_assert_str_eq(errbuf,
	    "duplicate key \"t\" in map at the top-level map");
	ck_assert_int_eq(decode_output(inner, sizeof(inner), NULL), -1);
	ck_assert_str_eq(errbuf, "duplicate key \"a\" in map at data");
}
END_TEST

/* data: depth arrays nested (the top-level map is one more level). */
static int
decode_nested(int depth)
{
	uint8_t	buf[128];
	int	i;

	for (i = 0; i < depth; i++)
		buf[i] = 0x91;
	buf[depth] = 0xc0;
	return decode_output(buf, (size_t)depth + 1, NULL);
}

START_TEST(test_depth_limit)
{
	ck_assert_int_eq(decode_nested(NF_MAX_DEPTH - 1), 0);
	ck_assert_int_eq(decode_nested(NF_MAX_DEPTH), -1);
	ck_assert_err("nesting deeper than 32 levels");
	ck_assert_int_eq(decode_nested(100), -1);
	ck_assert_err("nesting deeper than 32 levels");
}
END_TEST

START_TEST(test_integers)
{
	static const uint8_t	u64max[] = { 0xcf, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff };
	static const uint8_t	over[] = { 0xcf, 0x80, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00 };
	static const uint8_t	i64max[] = { 0xcf, 0x7f, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff };
	static const uint8_t	i64min[] = { 0xd3, 0x80, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00 };
	static const uint8_t	f32[] = { 0xca, 0x3f, 0xc0, 0x00, 0x00 };
	static const uint8_t	trunc[] = { 0xcf, 0x00, 0x01 };
	struct nf_val		*m;
	int64_t			 i;

	ck_assert_int_eq(decode_output(u64max, sizeof(u64max), NULL), -1);
	ck_assert_err("integer 18446744073709551615 at data is out of range");
	ck_assert_int_eq(decode_output(over, sizeof(over), NULL), -1);
	ck_assert_err("integer 9223372036854775808 at data");
	ck_assert_int_eq(decode_output(i64max, sizeof(i64max), &m), 0);
	ck_assert(nf_val_get_int(m, "data", &i));
	ck_assert(i == INT64_MAX);
	nf_val_free(m);
	ck_assert_int_eq(decode_output(i64min, sizeof(i64min), &m), 0);
	ck_assert(nf_val_get_int(m, "data", &i));
	ck_assert(i == INT64_MIN);
	nf_val_free(m);
	ck_assert_int_eq(decode_output(f32, sizeof(f32), &m), 0);
	ck_assert_int_eq(nf_val_get(m, "data")->type, NF_V_FLOAT);
	ck_assert(nf_val_get(m, "data")->u.f == 1.5);
	nf_val_free(m);
	ck_assert_int_eq(decode_output(trunc, sizeof(trunc), NULL), -1);
	ck_assert_err("truncated uint");
}
END_TEST

START_TEST(test_hello)
{
	struct nf_val	*h, *back;

	h = nf_msg_hello(NF_PROTO_WORKER);
	ck_assert_int_eq(roundtrip(NF_DIR_TO_WORKER, h, &back), 0);
	ck_assert_int_eq(nf_msg_hello_check(back, NF_PROTO_WORKER, errbuf,
	    sizeof(errbuf)), 0);
	/* a worker hello on the control socket */
	ck_assert_int_eq(nf_msg_hello_check(back, NF_PROTO_CONTROL, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_err("\"nomaflow-worker\"");
	ck_assert_err("\"nomaflow-control\"");
	nf_val_free(back);

	nf_val_map_set_int(h, "version", NF_PROTO_VERSION + 1);
	ck_assert_int_eq(roundtrip(NF_DIR_TO_WORKER, h, &back), 0);
	ck_assert_int_eq(nf_msg_hello_check(back, NF_PROTO_WORKER, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_err("version mismatch");
	ck_assert_err("peer speaks version 2");
	ck_assert_err("this side speaks version 1");
	nf_val_free(back);
	nf_val_free(h);

	h = mk_log("x", 1);
	ck_assert_int_eq(nf_msg_hello_check(h, NF_PROTO_WORKER, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_err("expected \"hello\"");
	nf_val_free(h);
}
END_TEST

START_TEST(test_blocking_helpers)
{
	struct nf_msg_reader	 r;
	struct nf_val		*m, *back;
	enum nf_msg_type	 t;
	int			 sv[2], i;
	char			 line[32];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	m = nf_msg_hello(NF_PROTO_WORKER);
	ck_assert_int_eq(nf_msg_send_fd(sv[1], m), 0);
	nf_val_free(m);
	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "line %d", i);
		m = mk_log(line, strlen(line));
		ck_assert_int_eq(nf_msg_send_fd(sv[1], m), 0);
		nf_val_free(m);
	}
	/* half a frame, then EOF */
	ck_assert_int_eq(write(sv[1], "\0\0\0\x10\x81", 5), 5);
	close(sv[1]);

	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_MSG);
	ck_assert_int_eq(t, NF_MSG_HELLO);
	ck_assert_int_eq(nf_msg_hello_check(back, NF_PROTO_WORKER, errbuf,
	    sizeof(errbuf)), 0);
	nf_val_free(back);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back,
		    errbuf, sizeof(errbuf)), NF_RD_MSG);
		ck_assert_int_eq(t, NF_MSG_STEP_LOG);
		snprintf(line, sizeof(line), "line %d", i);
		ck_assert_str_eq(nf_val_get_str(back, "line"), line);
		nf_val_free(back);
	}
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_TRUNC);
	ck_assert_err("in the middle of a frame");
	nf_msg_reader_free(&r);
	close(sv[0]);
}
END_TEST

START_TEST(test_blocking_eof_and_errors)
{
	struct nf_msg_reader	 r;
	struct nf_val		*m, *back = NULL;
	enum nf_msg_type	 t;
	int			 sv[2];

	/* clean EOF */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	nf_msg_reader_init(&r, sv[0], NF_DIR_CTL_REQUEST);
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_EOF);
	nf_msg_reader_free(&r);
	close(sv[0]);

	/* a valid frame of the wrong direction, then a 4 GiB claim */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	m = mk_log("x", 1);
	ck_assert_int_eq(nf_msg_send_fd(sv[1], m), 0);
	nf_val_free(m);
	ck_assert_int_eq(write(sv[1], "\xff\xff\xff\xff", 4), 4);
	nf_msg_reader_init(&r, sv[0], NF_DIR_CTL_REQUEST);
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_BAD);
	ck_assert_err("not allowed on this channel");
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_TOOBIG);
	ck_assert_err("4294967295");
	ck_assert_uint_lt(r.fr.cap, 1u << 20);
	nf_msg_reader_free(&r);
	close(sv[0]);

	/* sending to a closed peer is an error, not a SIGPIPE */
	m = mk_log("x", 1);
	ck_assert_int_eq(nf_msg_send_fd(sv[1], m), -1);
	ck_assert_int_eq(errno, EPIPE);
	nf_val_free(m);
	close(sv[1]);
}
END_TEST

START_TEST(test_big_frame_over_socket)
{
	struct nf_msg_reader	 r;
	struct nf_val		*m, *back;
	enum nf_msg_type	 t;
	char			*big;
	size_t			 n = 3u << 20;
	pid_t			 pid;
	int			 sv[2], st;

	/* A 3 MiB OUTPUT crosses the socket in many reads. */
	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, 'z', n);
	m = nf_msg_new(NF_MSG_STEP_OUTPUT);
	nf_val_map_set(m, "data", nf_val_bin(big, n));
	free(big);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		_exit(nf_msg_send_fd(sv[1], m) == 0 ? 0 : 1);
	}
	close(sv[1]);
	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_MSG);
	ck_assert(nf_val_equal(m, back));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(nf_msg_read(&r, NF_RD_FOREVER, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_EOF);
	/* the large buffer is released once idle */
	ck_assert_uint_le(r.fr.cap, 256u << 10);
	nf_val_free(back);
	nf_val_free(m);
	nf_msg_reader_free(&r);
	close(sv[0]);
}
END_TEST

/* ---- the message reader (nf_msg_read) ---- */

/* A non-blocking socketpair: sv[0] is read by the reader, sv[1] written. */
static void
nb_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(nf_set_nonblock(sv[0]), 0);
}

static void
send_log(int fd, const char *line)
{
	struct nf_val	*m;

	m = mk_log(line, strlen(line));
	ck_assert_int_eq(nf_msg_send_fd(fd, m), 0);
	nf_val_free(m);
}

/* Expect a log message with this line. */
static void
expect_log(struct nf_msg_reader *r, int wait, const char *line)
{
	struct nf_val		*back = NULL;
	enum nf_msg_type	 t;

	ck_assert_int_eq(nf_msg_read(r, wait, &t, &back, errbuf,
	    sizeof(errbuf)), NF_RD_MSG);
	ck_assert_int_eq(t, NF_MSG_STEP_LOG);
	ck_assert_str_eq(nf_val_get_str(back, "line"), line);
	nf_val_free(back);
}

static enum nf_rd
read_status(struct nf_msg_reader *r, int wait)
{
	struct nf_val		*back = NULL;
	enum nf_msg_type	 t;
	enum nf_rd		 rc;

	errbuf[0] = '\0';
	rc = nf_msg_read(r, wait, &t, &back, errbuf, sizeof(errbuf));
	ck_assert_ptr_null(back);
	return rc;
}

START_TEST(test_reader_partial_reads)
{
	struct nf_msg_reader	 r;
	struct nf_buf		 b;
	struct nf_val		*m;
	size_t			 i;
	int			 sv[2];

	/* A frame that trickles in one byte per wake-up. */
	m = mk_log("trickle", 7);
	nf_buf_init(&b);
	nf_msg_encode(m, &b);
	nf_val_free(m);
	nb_pair(sv);
	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	for (i = 0; i + 1 < b.len; i++) {
		ck_assert_int_eq(write(sv[1], b.data + i, 1), 1);
		ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	}
	ck_assert_int_eq(write(sv[1], b.data + i, 1), 1);
	expect_log(&r, NF_RD_NOWAIT, "trickle");
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	/* The same in blocking mode: a writer that pauses mid-frame. */
	ck_assert_int_eq(write(sv[1], b.data, 3), 3);
	ck_assert_int_eq(read_status(&r, 50), NF_RD_AGAIN);	/* timeout */
	ck_assert_int_eq(write(sv[1], b.data + 3, b.len - 3), b.len - 3);
	expect_log(&r, 1000, "trickle");
	nf_msg_reader_free(&r);
	nf_buf_free(&b);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_reader_several_frames_one_read)
{
	struct nf_msg_reader	 r;
	int			 sv[2];

	nb_pair(sv);
	send_log(sv[1], "one");
	send_log(sv[1], "two");
	send_log(sv[1], "three");
	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	/* One read(2) brings all three; they come out in order. */
	expect_log(&r, NF_RD_NOWAIT, "one");
	ck_assert_int_eq(r.turn, 1);
	expect_log(&r, NF_RD_NOWAIT, "two");
	expect_log(&r, NF_RD_NOWAIT, "three");
	/* The turn ends without a second read(2) ... */
	send_log(sv[1], "four");
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	/* ... and the next turn reads again. */
	expect_log(&r, NF_RD_NOWAIT, "four");
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	/* Drain mode reads on until the kernel has nothing. */
	send_log(sv[1], "five");
	send_log(sv[1], "six");
	expect_log(&r, NF_RD_DRAIN, "five");
	expect_log(&r, NF_RD_DRAIN, "six");
	ck_assert_int_eq(read_status(&r, NF_RD_DRAIN), NF_RD_AGAIN);
	/* Then a clean EOF, between frames, and it stays EOF. */
	send_log(sv[1], "last");
	close(sv[1]);
	expect_log(&r, NF_RD_FOREVER, "last");
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_EOF);
	ck_assert_int_eq(read_status(&r, NF_RD_FOREVER), NF_RD_EOF);
	nf_msg_reader_free(&r);
	close(sv[0]);
}
END_TEST

START_TEST(test_reader_oversize)
{
	struct nf_msg_reader	 r;
	/* One byte over a control request's 64 KiB, and a 4 GiB claim. */
	static const uint8_t	 over[] = { 0x00, 0x01, 0x00, 0x01, 0x81 };
	static const uint8_t	 huge[] = { 0xff, 0xff, 0xff, 0xff, 0x81 };
	int			 sv[2];

	nb_pair(sv);
	send_log(sv[1], "fine");
	ck_assert_int_eq(write(sv[1], over, sizeof(over)), sizeof(over));
	nf_msg_reader_init(&r, sv[0], NF_DIR_CTL_REQUEST);
	/* the frame before the bad header is decoded (and refused here) */
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_BAD);
	ck_assert_err("not allowed on this channel");
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_TOOBIG);
	ck_assert_err("65537");
	ck_assert_err("65536");
	/* the reader stays stuck on the header, and grew nothing for it */
	ck_assert_int_eq(read_status(&r, NF_RD_DRAIN), NF_RD_TOOBIG);
	ck_assert_uint_le(r.fr.cap, 128u << 10);
	nf_msg_reader_free(&r);
	close(sv[0]);
	close(sv[1]);

	nb_pair(sv);
	ck_assert_int_eq(write(sv[1], huge, sizeof(huge)), sizeof(huge));
	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	ck_assert_int_eq(read_status(&r, NF_RD_FOREVER), NF_RD_TOOBIG);
	ck_assert_err("4294967295");
	ck_assert_uint_lt(r.fr.cap, 1u << 20);
	nf_msg_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_reader_eof_mid_frame)
{
	struct nf_msg_reader	 r;
	int			 sv[2];

	/* EOF inside the 4-byte header */
	nb_pair(sv);
	ck_assert_int_eq(write(sv[1], "\0\0", 2), 2);
	close(sv[1]);
	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_AGAIN);
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_TRUNC);
	ck_assert_err("in the middle of a frame (2 bytes held)");
	nf_msg_reader_free(&r);
	close(sv[0]);

	/* EOF inside the payload, after a whole frame */
	nb_pair(sv);
	send_log(sv[1], "whole");
	ck_assert_int_eq(write(sv[1], "\0\0\0\x10\x81\xa1", 6), 6);
	close(sv[1]);
	nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
	expect_log(&r, NF_RD_DRAIN, "whole");
	ck_assert_int_eq(read_status(&r, NF_RD_DRAIN), NF_RD_TRUNC);
	ck_assert_err("6 bytes held");
	nf_msg_reader_free(&r);
	close(sv[0]);
}
END_TEST

START_TEST(test_reader_garbage)
{
	static const uint8_t	 junk[][12] = {
		/* payload is not msgpack map: an array */
		{ 0, 0, 0, 1, 0x91 },
		/* a str claiming more than the frame holds */
		{ 0, 0, 0, 6, 0x81, 0xa1, 't', 0xdb, 0xff, 0xff },
		/* a map without a type */
		{ 0, 0, 0, 1, 0x80 },
		/* trailing bytes after the map */
		{ 0, 0, 0, 2, 0x80, 0xc0 },
	};
	static const size_t	 junklen[] = { 5, 10, 5, 6 };
	struct nf_msg_reader	 r;
	size_t			 i;
	int			 sv[2];

	for (i = 0; i < NF_NELEM(junk); i++) {
		nb_pair(sv);
		ck_assert_int_eq(write(sv[1], junk[i], junklen[i]),
		    (ssize_t)junklen[i]);
		/* a good frame after the bad one */
		send_log(sv[1], "after");
		nf_msg_reader_init(&r, sv[0], NF_DIR_FROM_WORKER);
		ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_BAD);
		ck_assert_msg(errbuf[0] != '\0', "garbage %zu: no error", i);
		/* the bad frame is consumed; the reader goes on */
		expect_log(&r, NF_RD_NOWAIT, "after");
		nf_msg_reader_free(&r);
		close(sv[0]);
		close(sv[1]);
	}

	/* a read error is reported with errno */
	nf_msg_reader_init(&r, -1, NF_DIR_FROM_WORKER);
	ck_assert_int_eq(read_status(&r, NF_RD_NOWAIT), NF_RD_IOERR);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_err("read: ");
	nf_msg_reader_free(&r);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("frame");
	tc = tcase_create("frame");
	tcase_add_test(tc, test_roundtrip_every_type);
	tcase_add_test(tc, test_type_names);
	tcase_add_test(tc, test_partial_byte_at_a_time);
	tcase_add_test(tc, test_two_frames_one_buffer);
	tcase_add_test(tc, test_oversize_before_allocation);
	tcase_add_test(tc, test_oversize_over_socket);
	tcase_add_test(tc, test_growth_follows_bytes);
	tcase_add_test(tc, test_read_is_bounded);
	tcase_add_test(tc, test_compaction);
	tcase_add_test(tc, test_bomb_array32_top);
	tcase_add_test(tc, test_bomb_str_bin_map);
	tcase_add_test(tc, test_bomb_object_count);
	tcase_add_test(tc, test_bomb_nested);
	tcase_add_test(tc, test_trailing_bytes);
	tcase_add_test(tc, test_not_a_map);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_missing_unknown_wrong);
	tcase_add_test(tc, test_error_text_is_safe);
	tcase_add_test(tc, test_log_line_limit);
	tcase_add_test(tc, test_bad_strings);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_hello);
	tcase_add_test(tc, test_blocking_helpers);
	tcase_add_test(tc, test_blocking_eof_and_errors);
	tcase_add_test(tc, test_big_frame_over_socket);
	tcase_add_test(tc, test_reader_partial_reads);
	tcase_add_test(tc, test_reader_several_frames_one_read);
	tcase_add_test(tc, test_reader_oversize);
	tcase_add_test(tc, test_reader_eof_mid_frame);
	tcase_add_test(tc, test_reader_garbage);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(frame_suite)
