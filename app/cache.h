#ifndef JAMB_CACHE_H
#define JAMB_CACHE_H

#include <stddef.h>

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

#endif
