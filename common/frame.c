/*
 * frame.c: the frame layer of the wire protocol (doc/PROTOCOL.md): a
 * reader that turns a byte stream into whole frames (u32 big-endian payload
 * length + payload), the message reader on top of it that every peer reads
 * its channel with (read(2) -> whole frame -> strict decode; blocking for
 * nomaflow-worker and nfctl, non-blocking for nomaflowd's event loop), and
 * the blocking send helper.  Runs in every process.
 *
 * Invariants:
 * - a claimed length is compared with the reader's maximum before the buffer
 *   grows for it, so a peer can make us hold at most one maximum frame
 *   (plus what is already held and not yet consumed), and the buffer grows
 *   with the bytes that actually arrive, not with the claim;
 * - off <= len <= cap; bytes [off, len) are unconsumed;
 * - a payload handed out by nf_frame_next() stays valid until the next call
 *   on the reader, so consumed bytes are only moved or freed at the start of
 *   the next call.
 *
 * The message layer (decode, encode, schemas) is msg.c; this file does not
 * know what a payload means.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "util.h"

/* Smallest read we ask the kernel for: several small frames per syscall. */
#define FRAME_READ_CHUNK	(64u << 10)
/* An idle reader holding more than this gives the memory back. */
#define FRAME_KEEP_CAP		(256u << 10)
#define FRAME_HDR		4

static uint32_t
frame_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

void
nf_frame_reader_init(struct nf_frame_reader *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void
nf_frame_reader_free(struct nf_frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->off = r->cap = 0;
}

/*
 * Drop consumed bytes: move the unconsumed tail to the front, and release a
 * large buffer once nothing is held (one big OUTPUT must not pin megabytes
 * for the rest of a connection).
 */
static void
frame_compact(struct nf_frame_reader *r)
{
	size_t	pending = r->len - r->off;

	if (pending == 0) {
		r->len = r->off = 0;
		if (r->cap > FRAME_KEEP_CAP) {
			free(r->buf);
			r->buf = NULL;
			r->cap = 0;
		}
		return;
	}
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, pending);
		r->len = pending;
		r->off = 0;
	}
}

/* Make room for n more bytes after len. */
static void
frame_reserve(struct nf_frame_reader *r, size_t n)
{
	size_t	need, ncap;

	if (n > SIZE_MAX - r->len)
		nf_panic("frame reader: %zu + %zu bytes overflow", r->len, n);
	need = r->len + n;
	if (need <= r->cap)
		return;
	ncap = r->cap ? r->cap : 4096;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	r->buf = nf_xrealloc(r->buf, ncap);
	r->cap = ncap;
}

/*
 * How many bytes to ask read(2) for: at least a chunk so that small frames
 * batch; for a big frame, the rest of it, but no more than what is already
 * held, so the buffer doubles as bytes really arrive instead of jumping to
 * whatever size a header claims; never more than one maximum frame.  A
 * header that already exceeds the maximum earns no room at all:
 * nf_frame_next() reports it.
 */
static size_t
frame_want(const struct nf_frame_reader *r)
{
	size_t		pending = r->len - r->off;
	size_t		limit = (size_t)r->max + FRAME_HDR;
	size_t		want = FRAME_READ_CHUNK;
	size_t		rest;
	uint32_t	claim;

	if (pending >= FRAME_HDR) {
		claim = frame_be32(r->buf + r->off);
		if (claim > r->max)
			return 0;
		if ((size_t)claim + FRAME_HDR > pending) {
			rest = (size_t)claim + FRAME_HDR - pending;
			if (rest > want)
				want = rest < pending ? rest : pending;
			if (want < FRAME_READ_CHUNK)
				want = FRAME_READ_CHUNK;
		}
	}
	return want < limit ? want : limit;
}

ssize_t
nf_frame_read(struct nf_frame_reader *r, int fd)
{
	size_t	want;
	ssize_t	n;

	frame_compact(r);
	want = frame_want(r);
	if (want == 0) {
		/* The held header is over the limit; the caller must drop. */
		errno = EMSGSIZE;
		return -1;
	}
	frame_reserve(r, want);
	n = read(fd, r->buf + r->len, want);
	if (n > 0)
		r->len += (size_t)n;
	return n;
}

void
nf_frame_feed(struct nf_frame_reader *r, const void *data, size_t n)
{
	frame_compact(r);
	if (n == 0)
		return;
	frame_reserve(r, n);
	memcpy(r->buf + r->len, data, n);
	r->len += n;
}

int
nf_frame_next(struct nf_frame_reader *r, const uint8_t **payload,
    size_t *len, char *err, size_t errlen)
{
	size_t		pending = r->len - r->off;
	uint32_t	claim;

	if (pending < FRAME_HDR)
		return 0;
	claim = frame_be32(r->buf + r->off);
	if (claim > r->max) {
		snprintf(err, errlen, "frame claims a payload of %u bytes, "
		    "over this channel's limit of %u bytes", claim, r->max);
		return -1;
	}
	if (pending - FRAME_HDR < claim)
		return 0;
	*payload = r->buf + r->off + FRAME_HDR;
	*len = claim;
	r->off += FRAME_HDR + (size_t)claim;
	return 1;
}

/*
 * Wait until fd is ready for events; used when a blocking helper is handed
 * a non-blocking descriptor.  Returns 0 or -1 (errno).
 */
static int
frame_wait(int fd, short events)
{
	struct pollfd	pfd;
	int		n;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	for (;;) {
		n = poll(&pfd, 1, -1);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Write all of buf to fd.  send(MSG_NOSIGNAL) so that a peer that went away
 * gives EPIPE, not a SIGPIPE that kills the process; plain write(2) when fd
 * is not a socket (a pipe in tests).
 */
static int
frame_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t	*p = buf;
	ssize_t		 w;
	int		 use_write = 0;

	while (n > 0) {
		if (use_write)
			w = write(fd, p, n);
		else
			w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOTSOCK && !use_write) {
				use_write = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (frame_wait(fd, POLLOUT) == -1)
					return -1;
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
nf_msg_send_fd(int fd, const struct nf_val *msg)
{
	struct nf_buf	b;
	int		rc, saved;

	nf_buf_init(&b);
	nf_msg_encode(msg, &b);
	rc = frame_write_all(fd, b.data, b.len);
	saved = errno;
	nf_buf_free(&b);
	errno = saved;
	return rc;
}

static uint32_t
frame_dir_max(enum nf_dir dir)
{
	switch (dir) {
	case NF_DIR_TO_WORKER:
		return NF_MAX_TO_WORKER;
	case NF_DIR_FROM_WORKER:
		return NF_MAX_FROM_WORKER;
	case NF_DIR_CTL_REQUEST:
		return NF_MAX_CTL_REQUEST;
	case NF_DIR_CTL_RESPONSE:
		return NF_MAX_CTL_RESPONSE;
	}
	nf_panic("frame reader: unknown direction %d", (int)dir);
}

void
nf_msg_reader_init(struct nf_msg_reader *r, int fd, enum nf_dir dir)
{
	memset(r, 0, sizeof(*r));
	nf_frame_reader_init(&r->fr, frame_dir_max(dir));
	r->fd = fd;
	r->dir = dir;
}

void
nf_msg_reader_free(struct nf_msg_reader *r)
{
	nf_frame_reader_free(&r->fr);
	r->fd = -1;
}

/*
 * Blocking modes: wait until fd is readable or the deadline (ms on the
 * monotonic clock, 0 = none) passes.  1 readable, 0 timed out, -1 error.
 */
static int
frame_wait_in(int fd, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	for (;;) {
		left = -1;
		if (deadline != 0) {
			left = deadline - nf_mono_ms();
			if (left <= 0)
				return 0;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * read(2) is only called when no whole frame is held, so a turn of
 * NF_RD_NOWAIT is: one read, every frame it completed, then NF_RD_AGAIN;
 * and EOF is only seen with nothing whole left to hand out.
 */
enum nf_rd
nf_msg_read(struct nf_msg_reader *r, int wait, enum nf_msg_type *type,
    struct nf_val **msg, char *err, size_t errlen)
{
	const uint8_t	*p;
	size_t		 plen, held;
	int64_t		 deadline = 0;
	ssize_t		 n;
	int		 rc, saved, blocking;

	blocking = wait != NF_RD_NOWAIT && wait != NF_RD_DRAIN;
	if (wait > 0)
		deadline = nf_mono_ms() + wait;
	for (;;) {
		rc = nf_frame_next(&r->fr, &p, &plen, err, errlen);
		if (rc == -1)
			return NF_RD_TOOBIG;
		if (rc == 1) {
			if (nf_msg_decode(r->dir, p, plen, type, msg, err,
			    errlen) == -1)
				return NF_RD_BAD;
			return NF_RD_MSG;
		}
		if (r->eof) {
			held = r->fr.len - r->fr.off;
			if (held == 0)
				return NF_RD_EOF;
			snprintf(err, errlen, "peer closed the connection in "
			    "the middle of a frame (%zu bytes held)", held);
			return NF_RD_TRUNC;
		}
		if (wait == NF_RD_NOWAIT && r->turn) {
			r->turn = 0;
			return NF_RD_AGAIN;
		}
		if (blocking) {
			rc = frame_wait_in(r->fd, deadline);
			if (rc == 0)
				return NF_RD_AGAIN;
			if (rc == -1) {
				saved = errno;
				snprintf(err, errlen, "poll: %s",
				    strerror(saved));
				errno = saved;
				return NF_RD_IOERR;
			}
		}
		n = nf_frame_read(&r->fr, r->fd);
		if (n > 0) {
			r->turn = wait == NF_RD_NOWAIT;
			continue;
		}
		if (n == 0) {
			r->eof = 1;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (blocking)
				continue;
			r->turn = 0;
			return NF_RD_AGAIN;
		}
		saved = errno;
		snprintf(err, errlen, "read: %s", strerror(saved));
		errno = saved;
		return NF_RD_IOERR;
	}
}
