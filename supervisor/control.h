/*
 * control.h: the control socket (unix, SO_PEERCRED) and its clients.
 */
#ifndef NF_CONTROL_H
#define NF_CONTROL_H

#include "nomaflowd.h"

struct nf_client;

int	nf_control_open(const struct nf_config *, char *err, size_t errlen);
void	nf_control_close(void);

#endif
