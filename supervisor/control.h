/*
 * control.h: the control socket (unix, SO_PEERCRED) and its clients, and
 * the command handlers every caller (socket client, web request) runs.
 */
#ifndef NF_CONTROL_H
#define NF_CONTROL_H

#include "acl.h"
#include "nomaflowd.h"

struct nf_client;

int	nf_control_open(const struct nf_config *, char *err, size_t errlen);
void	nf_control_close(void);
/*
 * Take a connected, non-blocking unix stream socket as a client, as if it
 * had been accepted on the control socket (peer credentials, permission
 * check, HELLO first).  The unit tests hand it one end of a socketpair.
 * 0, or -1 (fd closed) when its peer cannot be identified.
 */
int	nf_control_adopt(int fd);

/*
 * Run one control command (the socket's name: "jobs", "run", "run.show",
 * ...) as the UI account "account": the same handler, permission check
 * and audit as a socket client, with "web:<account>" in triggered_by and
 * the audit trail.  Returns the reply's data (nil when it has none; the
 * caller frees it), or NULL with *code (NF_EXIT_*) and err set.  Follow
 * streams are not available here: the web server subscribes to the run
 * events itself.
 */
struct nf_val	*nf_control_exec(const char *account, const char *cmd,
		    const struct nf_val *args, int *code, char *err,
		    size_t errlen);
/* May the UI account do verb on job_id (NULL: on the daemon)? */
int		 nf_control_may(const char *account, enum nf_acl_verb verb,
		    const char *job_id);

#endif
