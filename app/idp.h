#ifndef JAMB_IDP_H
#define JAMB_IDP_H

#include <stddef.h>

#include "auth.h"
#include "conf.h"
#include "status.h"

struct app;

/*
 * External identity providers ([issuer NAME] sections): their JWKS,
 * fetched with libcurl (or read from a file), kept in memcached for
 * every worker and host and in the worker itself, and fetched again
 * when a token names a kid not seen yet, at most once per refresh
 * interval.  A verified (iss, sub) maps to a local user, created at
 * first sight.
 */
struct idp;

struct idp	*idp_new(const struct conf *);
void		 idp_free(struct idp *);
int		 idp_knows(const struct idp *, const char *);
enum jamb_status idp_verify(struct app *, const char *, const char *,
		    struct principal *, char *, size_t);

#endif
