#ifndef JAMB_ROUTER_H
#define JAMB_ROUTER_H

#include "http.h"

typedef enum jamb_status (*route_fn)(struct req *, struct resp *);

/* Route flags. */
#define ROUTE_BODY	0x0001	/* reads a request body */
#define ROUTE_JSON	0x0002	/* the body is JSON, parsed before the call */
#define ROUTE_DEBUG	0x0004	/* only with [debug] routes = yes */
/*
 * A GET whose answer is the same for every anonymous reader, so a
 * shared cache (a CDN) may keep it; see app_handle.
 */
#define ROUTE_PUBLIC	0x0008
/*
 * The least role a caller needs (enum role of auth.h), kept in the high
 * bits of flags: ROUTE_ROLE(ROLE_EDITOR).  Without one a route is open
 * to anonymous callers; a presented credential is still verified.
 */
#define ROUTE_ROLE(r)		((unsigned int)(r) << 8)
#define ROUTE_ROLE_OF(flags)	(((flags) >> 8) & 0x0f)
/*
 * Rate limit classes (ratelimit.c), above the role bits: the strict
 * limit of sign-in and emailed links, or no limit at all for probes.
 */
#define ROUTE_RL_STRICT	0x1000
#define ROUTE_RL_NONE	0x2000

/*
 * One entry of a route table in routes/: the method, a pattern whose
 * "{name}" segments capture one decoded path segment each, the handler
 * and flags.  Tables end with an entry whose method is NULL.
 */
struct route {
	const char	*method;
	const char	*pattern;
	route_fn	 handler;
	unsigned int	 flags;
};

enum route_match {
	ROUTE_FOUND,
	ROUTE_NO_PATH,
	ROUTE_NO_METHOD
};

struct router;

struct router	*router_new(void);
void		 router_add(struct router *, const struct route *,
		    unsigned int);
void		 router_free(struct router *);
enum route_match router_match(const struct router *, const char *,
		    const char *, const struct route **, struct kvlist *,
		    char *, size_t);

#endif
