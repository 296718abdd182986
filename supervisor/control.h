/*
 * control.h: the control socket (unix, SO_PEERCRED) and its clients.
 */
#ifndef NF_CONTROL_H
#define NF_CONTROL_H

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

#endif
