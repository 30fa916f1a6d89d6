#ifndef JAMB_CACHE_H
#define JAMB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "status.h"

/*
 * A worker's memcached handle over the configured servers (consistent
 * hashing).  memcached holds only what can be rebuilt, so callers treat
 * its failures as misses.
 */
struct cache;

struct cache	*cache_new(const struct conf *, char *, size_t);
void		 cache_free(struct cache *);
int		 cache_servers_valid(const char *);
enum jamb_status cache_ping(struct cache *, char *, size_t);

enum jamb_status cache_get(struct cache *, const char *, char **, size_t *);
enum jamb_status cache_set(struct cache *, const char *, const void *,
		    size_t, long);
enum jamb_status cache_add(struct cache *, const char *, const void *,
		    size_t, long);
enum jamb_status cache_delete(struct cache *, const char *);
enum jamb_status cache_incr(struct cache *, const char *, long, uint64_t *);

#endif
