/*
 * steptype.h: step-spec helpers shared by the supervisor (config checks,
 * display) and the workers (the http step): status ranges, secret names,
 * URLs fit for logs.  The step-type registry itself is supervisor-only
 * (supervisor/steptypes.h); the worker has its own registry of
 * implementations (worker/step.h).
 */
#ifndef NF_STEPTYPE_H
#define NF_STEPTYPE_H

#include <stddef.h>

#include "val.h"

/*
 * An expected HTTP status as text: "404", "2xx" or "200-299" (100-599).
 * 0 and the inclusive range, or -1.  Shared by the http step type's
 * config check (supervisor/steptypes/http.c) and the worker.
 */
int		 nf_steptype_status_range(const char *s, int *lo, int *hi);
/*
 * Secrets in step specs.  nf_steptype_secret_name: does a header or query
 * parameter of this name carry a credential (Authorization, Cookie,
 * X-Api-Key, access_token, ...)?  nf_steptype_url_shown: a
 * copy of url fit for logs: no userinfo, no fragment, the values of
 * secret-named query parameters replaced by "***".
 * nf_steptype_spec_public: a copy of a step's spec for display (nfctl job
 * show), with every credential replaced by "[redacted]".
 */
int		 nf_steptype_secret_name(const char *name, size_t len);
char		*nf_steptype_url_shown(const char *url);
struct nf_val	*nf_steptype_spec_public(const char *type,
		    const struct nf_val *spec);
/* The largest max_body_bytes of an http step: the body must fit a frame. */
#define NF_STEPTYPE_HTTP_MAX_BODY	(1u << 20)

#endif
