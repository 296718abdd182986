/*
 * proto.h: the one header of the Nomaflow wire protocol (doc/PROTOCOL.md).
 *
 * A frame is a u32 big-endian payload length followed by exactly one
 * msgpack map.  Every map has the key "t" (message type, a string).  The
 * first frame on every channel, in both directions, is HELLO
 * {t:"hello", proto:<channel name>, version:NF_PROTO_VERSION}.
 *
 * Two channels:
 *   worker   nomaflowd <-> nomaflow-worker, over a socketpair on fd 3
 *   control  nfctl (any client) <-> nomaflowd, over the unix control socket
 *
 * Decoding is bounded then strict (common/msg.c): the length is checked
 * against the direction's maximum before allocation; claimed str/bin/array/
 * map sizes are checked against the remaining bytes before msgpack-c sees the
 * buffer; the map must match the message's schema exactly (unknown type,
 * missing or unknown key, wrong type, trailing bytes: rejected); strings must
 * be UTF-8 without NUL.
 */
#ifndef NF_PROTO_H
#define NF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "val.h"

#define NF_PROTO_VERSION	1
#define NF_PROTO_WORKER		"nomaflow-worker"
#define NF_PROTO_CONTROL	"nomaflow-control"

/* Worker's end of the socketpair. */
#define NF_WORKER_FD		3

/* Maximum payload per direction, checked before allocation. */
#define NF_MAX_TO_WORKER	(4u << 20)	/* STEP_START with spec/params */
#define NF_MAX_FROM_WORKER	(4u << 20)	/* OUTPUT may carry rows */
#define NF_MAX_CTL_REQUEST	(64u << 10)
#define NF_MAX_CTL_RESPONSE	(32u << 20)
/* Most msgpack objects (scalars and containers) accepted in one frame. */
#define NF_MAX_OBJECTS		(1u << 16)
/* Deepest nesting accepted in any frame. */
#define NF_MAX_DEPTH		32
/* Longest single log line carried in a LOG frame (longer lines are split). */
#define NF_MAX_LOG_LINE		(16u << 10)

/* Directions: which messages may arrive on a channel. */
enum nf_dir {
	NF_DIR_TO_WORKER = 0,	/* supervisor -> worker */
	NF_DIR_FROM_WORKER,	/* worker -> supervisor */
	NF_DIR_CTL_REQUEST,	/* client -> supervisor */
	NF_DIR_CTL_RESPONSE,	/* supervisor -> client */
};

enum nf_msg_type {
	NF_MSG_NONE = 0,
	/* every channel, both ways */
	NF_MSG_HELLO,		/* "hello" */
	/* supervisor -> worker */
	NF_MSG_STEP_START,	/* "step_start" */
	/* worker -> supervisor */
	NF_MSG_STEP_READY,	/* "step_ready": sandbox installed, step begins */
	NF_MSG_STEP_LOG,	/* "log" */
	NF_MSG_STEP_PROGRESS,	/* "progress" */
	NF_MSG_STEP_OUTPUT,	/* "output" */
	NF_MSG_STEP_RESULT,	/* "result" */
	/* client -> supervisor */
	NF_MSG_CTL_REQ,		/* "req" */
	/* supervisor -> client */
	NF_MSG_CTL_RESP,	/* "resp" */
	NF_MSG_CTL_EVENT,	/* "event" (follow streams) */
	NF_MSG_MAX
};

/*
 * Message fields (see doc/PROTOCOL.md for meaning).  R = required.
 *
 * hello        R proto:str  R version:int
 * step_start   R run_id:int R attempt_id:int R attempt:int R job_id:str
 *              R step:str   R type:str      R policy:str  R spec:map
 *              R params:map R timeout_ms:int R sandbox:bool
 *                pool:map (the pool definition the step uses, if any)
 *                max_rows:int (cap on rows returned in outputs)
 * step_ready   (no field but t)
 * log          R stream:str ("stdout"|"stderr"|"worker") R line:str
 *                level:str ("error"|"warn"|"info"|"debug")
 * progress     R data:map
 * output       R data:any
 * result       R ok:bool      reason:str (error|timeout|crash|sandbox|
 *                protocol|canceled) error:str exit_code:int signal:int
 *                rows_affected:int
 * req          R id:int R cmd:str args:map
 * resp         R id:int R ok:bool  code:int (NF_EXIT_*) error:str data:any
 * event        R id:int R kind:str ("log"|"state"|"end") R data:any
 */

/* Exit codes of nfctl, also carried as "code" in failed responses. */
enum nf_exit {
	NF_EXIT_OK = 0,
	NF_EXIT_FAILED = 1,	/* run failed/canceled, or request failed */
	NF_EXIT_NOTFOUND = 2,	/* no such job/run */
	NF_EXIT_USAGE = 64,	/* bad command line or arguments (EX_USAGE) */
	NF_EXIT_UNREACHABLE = 69, /* daemon not reachable (EX_UNAVAILABLE) */
	NF_EXIT_PERM = 77,	/* permission denied (EX_NOPERM) */
	NF_EXIT_CONFLICT = 3,	/* refused: job already running (use --force) */
};

/* Type name <-> enum. */
const char	*nf_msg_type_name(enum nf_msg_type);
enum nf_msg_type nf_msg_type_parse(const char *);

/*
 * Frame reader: the byte layer under the message reader (nf_msg_reader
 * below); accumulates bytes and yields whole frames without knowing what
 * they mean.  max is the direction's maximum payload.  Used directly only by
 * tests and fuzzers; peers read with nf_msg_read().
 */
struct nf_frame_reader {
	uint8_t	*buf;
	size_t	 len;	/* bytes held */
	size_t	 off;	/* start of unconsumed data */
	size_t	 cap;
	uint32_t max;
};
void	nf_frame_reader_init(struct nf_frame_reader *, uint32_t max);
void	nf_frame_reader_free(struct nf_frame_reader *);
/*
 * Read what is available.  Returns >0 bytes read, 0 on EOF, -1 on error
 * (errno; EAGAIN means nothing now).  Reads at most one maximum frame's worth
 * beyond what is held, so a flood cannot grow the buffer without bound.
 */
ssize_t	nf_frame_read(struct nf_frame_reader *, int fd);
/* Feed bytes directly (tests, fuzzing). */
void	nf_frame_feed(struct nf_frame_reader *, const void *, size_t);
/*
 * Next complete frame: 1 and (payload, len) valid until the next call;
 * 0 when more bytes are needed; -1 when the claimed length exceeds max
 * (the channel must be dropped; err says why).
 */
int	nf_frame_next(struct nf_frame_reader *, const uint8_t **payload,
	    size_t *len, char *err, size_t errlen);

/*
 * Decode one payload received in direction dir: bounds pre-check, msgpack
 * unpack, conversion to nf_val, schema check.  On success returns 0, *type
 * and *msg (a map; caller frees).  On failure -1 and err describes the first
 * problem ("unknown key \"x\" in log", "claimed str length 4294967295 exceeds
 * 12 remaining bytes", ...).
 */
int	nf_msg_decode(enum nf_dir dir, const uint8_t *payload, size_t len,
	    enum nf_msg_type *type, struct nf_val **msg, char *err,
	    size_t errlen);
/*
 * Encode a map as one frame (u32 BE length + msgpack) appended to out.
 * The map must carry "t".  Encoding does not check the schema (the sender
 * is trusted code), but nf_msg_check() can be used in tests.
 */
void	nf_msg_encode(const struct nf_val *msg, struct nf_buf *out);
int	nf_msg_check(enum nf_dir dir, const struct nf_val *msg,
	    enum nf_msg_type *type, char *err, size_t errlen);

/* Builders for the common messages (return a map the caller frees). */
struct nf_val	*nf_msg_new(enum nf_msg_type);
struct nf_val	*nf_msg_hello(const char *proto);
/* Check a decoded HELLO against the expected proto; 0 ok, -1 + err. */
int	nf_msg_hello_check(const struct nf_val *, const char *proto,
	    char *err, size_t errlen);

/* Blocking send for simple peers (worker, nfctl). */
int	nf_msg_send_fd(int fd, const struct nf_val *msg);

/*
 * The message reader: the one way every process reads messages from a
 * channel.  It owns the channel's input buffer (a frame reader bounded by
 * the direction's maximum) and does read(2) -> next whole frame -> strict
 * decode.  It never closes fd.
 */
struct nf_msg_reader {
	struct nf_frame_reader	 fr;
	int			 fd;
	enum nf_dir		 dir;
	int			 eof;	/* read(2) returned 0 */
	int			 turn;	/* NF_RD_NOWAIT: read(2) done this turn */
};

/* The wait argument of nf_msg_read() (a positive value is milliseconds). */
#define NF_RD_NOWAIT	0	/* at most one read(2) per turn (event loop) */
#define NF_RD_FOREVER	(-1)	/* block until a message, EOF or error */
#define NF_RD_DRAIN	(-2)	/* read until the kernel has nothing left */

/* What nf_msg_read() found. */
enum nf_rd {
	NF_RD_MSG = 1,		/* a message: *type, *msg (caller frees) */
	NF_RD_AGAIN = 0,	/* no whole frame: wait for readability (or
				 * the timeout expired) */
	NF_RD_EOF = -1,		/* the peer closed between two frames */
	NF_RD_IOERR = -2,	/* read(2) or poll(2) failed: errno, err */
	NF_RD_TOOBIG = -3,	/* a frame claims more than the maximum */
	NF_RD_TRUNC = -4,	/* the peer closed in the middle of a frame */
	NF_RD_BAD = -5,		/* a whole frame failed the strict decode */
};

void	nf_msg_reader_init(struct nf_msg_reader *, int fd, enum nf_dir dir);
void	nf_msg_reader_free(struct nf_msg_reader *);
/*
 * Next message from the channel.  Whole frames already held are returned
 * before read(2) is called again.  wait is NF_RD_NOWAIT for a non-blocking
 * fd in an event loop: one read(2) per turn, a turn ending with NF_RD_AGAIN,
 * so that one flooding peer cannot starve the others; NF_RD_DRAIN reads on
 * until the kernel has nothing (EAGAIN); NF_RD_FOREVER or a number of
 * milliseconds blocks (poll(2)), on a blocking or non-blocking fd.
 *
 * Every failure but NF_RD_EOF fills err.  After NF_RD_BAD the bad frame is
 * consumed and the reader still works (a caller may choose to go on);
 * after NF_RD_TOOBIG it cannot get past the bad header: drop the channel.
 */
enum nf_rd	nf_msg_read(struct nf_msg_reader *, int wait,
		    enum nf_msg_type *type, struct nf_val **msg, char *err,
		    size_t errlen);

#endif
