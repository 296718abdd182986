/* NF_FUZZ_SOURCES: common/frame.c common/msg.c common/val.c common/util.c common/log.c */
/*
 * fuzz_frame.c: libFuzzer target for the frame reader and the message
 * decoder.  The input is a byte stream as a peer would send it (frames:
 * u32 big-endian length + payload).  It is fed to a reader in small uneven
 * pieces, and every whole frame is decoded for each of the four directions.
 * A message that decodes must encode and decode again to an equal value
 * (the decoder and encoder agree), and the reader must never hold more
 * than what was fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "util.h"
#include "val.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_roundtrip(enum nf_dir dir, enum nf_msg_type type,
    const struct nf_val *msg)
{
	struct nf_buf		 b;
	struct nf_val		*back;
	enum nf_msg_type	 t2;
	char			 err[256];

	nf_buf_init(&b);
	nf_msg_encode(msg, &b);
	if (nf_msg_decode(dir, (const uint8_t *)b.data + 4, b.len - 4, &t2,
	    &back, err, sizeof(err)) != 0)
		nf_panic("re-decoding an accepted %s failed: %s",
		    nf_msg_type_name(type), err);
	if (t2 != type || !nf_val_equal(msg, back))
		nf_panic("%s changed in an encode/decode round trip",
		    nf_msg_type_name(type));
	nf_val_free(back);
	nf_buf_free(&b);
}

static void
decode_all_dirs(const uint8_t *p, size_t n)
{
	struct nf_val		*msg;
	enum nf_msg_type	 type;
	char			 err[256];
	int			 dir;

	for (dir = NF_DIR_TO_WORKER; dir <= NF_DIR_CTL_RESPONSE; dir++) {
		if (nf_msg_decode((enum nf_dir)dir, p, n, &type, &msg, err,
		    sizeof(err)) != 0) {
			if (msg != NULL || err[0] == '\0')
				nf_panic("failed decode without an error");
			continue;
		}
		check_roundtrip((enum nf_dir)dir, type, msg);
		nf_val_free(msg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_frame_reader	 r;
	const uint8_t		*payload;
	size_t			 off = 0, piece, plen;
	char			 err[256];
	int			 rc;

	/* A small maximum so that the oversize path is reached too. */
	nf_frame_reader_init(&r, (size_t)size % 3 == 0 ? 64 : 1u << 20);
	/* Piece sizes vary with the input so that partial frames happen. */
	piece = (size % 7) + 1;
	while (off < size) {
		if (piece > size - off)
			piece = size - off;
		nf_frame_feed(&r, data + off, piece);
		off += piece;
		if (r.len - r.off > size)
			nf_panic("reader holds more than was fed");
		while ((rc = nf_frame_next(&r, &payload, &plen, err,
		    sizeof(err))) == 1)
			decode_all_dirs(payload, plen);
		if (rc == -1)
			break;
		piece = piece * 3 % 11 + 1;
	}
	nf_frame_reader_free(&r);
	return 0;
}
