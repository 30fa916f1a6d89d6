#ifndef JAMB_RESPCACHE_H
#define JAMB_RESPCACHE_H

#include <stdint.h>

#include "http.h"

struct cache;

/*
 * The response cache of public GETs in memcached.  A route takes part
 * when a table names it: the query parameters its answer depends on
 * (sorted by name, separated by commas; any other parameter is dropped
 * from the key) and the namespaces whose versions make up the key
 * (separated by spaces).  A write bumps the namespaces it changes, and
 * every entry keyed with the old versions is never read again.
 */
struct respcache_route {
	const char	*pattern;
	const char	*query;
	const char	*ns;
};

/* The cached routes of routes/posts.c; ends with a NULL pattern. */
extern const struct respcache_route posts_respcache[];

/* What the cache did for one request; X-Cache says it. */
enum respcache_result {
	RESPCACHE_NONE,		/* not a cached route: no X-Cache */
	RESPCACHE_HIT,
	RESPCACHE_MISS,
	RESPCACHE_BYPASS
};

struct respcache_req {
	enum respcache_result	 result;
	int			 locked;	/* this worker recomputes */
	char			 key[72];	/* "r:" and SHA-256 hex */
};

/* A worker's state: when it last said memcached was down. */
struct respcache;

struct respcache *respcache_new(void);
void		 respcache_free(struct respcache *);
void		 respcache_lookup(struct req *, struct resp *,
		    struct respcache_req *);
void		 respcache_store(struct req *, const struct resp *,
		    struct respcache_req *);
const char	*respcache_result_name(enum respcache_result);
void		 respcache_bump(struct cache *, const char *);

/* The namespaces every post write changes. */
#define RESPCACHE_NS_POSTS	"posts tags"

#endif
