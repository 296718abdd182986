/* NF_FUZZ_SOURCES: common/frame.c common/msg.c common/json.c common/val.c common/util.c common/log.c */
/*
 * fuzz_ctl.c: libFuzzer target for what a control client can send: the
 * input is one control-request payload (no length prefix).  It goes
 * through nf_msg_decode(NF_DIR_CTL_REQUEST) and, when accepted, through
 * nf_json_write() as nfctl --json and the supervisor's logs would use it;
 * the JSON must parse back with nf_json_read().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "proto.h"
#include "util.h"
#include "val.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_val		*msg, *json;
	enum nf_msg_type	 type;
	struct nf_buf		 b;
	char			 err[256];

	if (nf_msg_decode(NF_DIR_CTL_REQUEST, data, size, &type, &msg, err,
	    sizeof(err)) != 0)
		return 0;
	if (type != NF_MSG_HELLO && type != NF_MSG_CTL_REQ)
		nf_panic("control request decoded as %s",
		    nf_msg_type_name(type));
	nf_buf_init(&b);
	nf_json_write(msg, &b, -1);
	json = nf_json_read(b.data, b.len, err, sizeof(err));
	if (json == NULL)
		nf_panic("our own JSON does not parse: %s: %s", err, b.data);
	nf_val_free(json);
	nf_buf_reset(&b);
	nf_json_write(msg, &b, 2);
	nf_buf_free(&b);
	nf_val_free(msg);
	return 0;
}
