/*
 * web.h: the HTTP server of nomaflowd (web.c): the JSON API, its event
 * streams and the pages, on [web] listen.  Off when listen is unset.
 */
#ifndef NF_WEB_H
#define NF_WEB_H

#include <stddef.h>

#include "config.h"

/* Listen on cfg->web.listen (nothing when unset); -1 + err. */
int	nf_web_open(const struct nf_config *, char *err, size_t errlen);
/*
 * A reload: session_ttl, trusted_proxies and user_header apply from now
 * on; a changed listen address or TLS files are logged as taking effect
 * at the next start.
 */
void	nf_web_reload(const struct nf_config *old, const struct nf_config *);
/* Close every connection and the listener (daemon shutdown). */
void	nf_web_close(void);
/* Connected event-stream clients (status, metrics). */
size_t	nf_web_nstreams(void);

#endif
