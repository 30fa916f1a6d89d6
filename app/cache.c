#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>

#include "cache.h"
#include "util.h"

struct cache {
	const struct conf	*conf;
	memcached_st		*mc;
};

/* Short timeouts: a slow cache must cost less than no cache. */
static void
cache_behaviors(memcached_st *mc, long timeout_ms)
{
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
	    (uint64_t)timeout_ms);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
	    (uint64_t)timeout_ms);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT,
	    (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT,
	    (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	/* Retry a failed server after a second, not the default minutes. */
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, 1);
}

/*
 * Creates the handle; fails only for a server list that does not
 * parse, with the reason in err.  No connection is made yet.
 */
struct cache *
cache_new(const struct conf *c, char *err, size_t errlen)
{
	struct cache			*ca;
	memcached_server_list_st	 list;

	if ((list = memcached_servers_parse(c->cache_servers)) == NULL) {
		snprintf(err, errlen, "[cache] servers: cannot parse \"%s\"",
		    c->cache_servers);
		return NULL;
	}
	ca = xcalloc(1, sizeof(*ca));
	ca->conf = c;
	if ((ca->mc = memcached_create(NULL)) == NULL)
		abort();
	memcached_behavior_set(ca->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
	    MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
	memcached_behavior_set(ca->mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0);
	cache_behaviors(ca->mc, c->cache_timeout_ms);
	memcached_server_push(ca->mc, list);
	memcached_server_list_free(list);
	return ca;
}

/* Whether libmemcached accepts a "host:port, host:port" list. */
int
cache_servers_valid(const char *servers)
{
	memcached_server_list_st	 list;

	if ((list = memcached_servers_parse(servers)) == NULL)
		return 0;
	memcached_server_list_free(list);
	return 1;
}

void
cache_free(struct cache *ca)
{
	if (ca == NULL)
		return;
	memcached_free(ca->mc);
	free(ca);
}

/* Asks one server for its version over a connection of its own. */
static int
server_alive(const char *host, in_port_t port, long timeout_ms)
{
	memcached_st		*mc;
	memcached_return_t	 rc;

	if ((mc = memcached_create(NULL)) == NULL)
		abort();
	cache_behaviors(mc, timeout_ms);
	rc = memcached_server_add(mc, host, port);
	if (rc == MEMCACHED_SUCCESS)
		rc = memcached_version(mc);
	memcached_free(mc);
	return rc == MEMCACHED_SUCCESS;
}

/*
 * Checks every configured server.  JAMB_EUNAVAIL when none answers;
 * err then, or when only some answer, names the ones that did not.
 */
enum jamb_status
cache_ping(struct cache *ca, char *err, size_t errlen)
{
	const memcached_instance_st	*in;
	uint32_t			 i, n, alive = 0;
	size_t				 used = 0;

	err[0] = '\0';
	n = memcached_server_count(ca->mc);
	for (i = 0; i < n; i++) {
		in = memcached_server_instance_by_position(ca->mc, i);
		if (server_alive(memcached_server_name(in),
		    memcached_server_port(in), ca->conf->cache_timeout_ms)) {
			alive++;
			continue;
		}
		if (used < errlen)
			used += (size_t)snprintf(err + used, errlen - used,
			    "%s%s:%u", used ? ", " : "memcached unreachable: ",
			    memcached_server_name(in),
			    (unsigned)memcached_server_port(in));
	}
	return alive > 0 ? JAMB_OK : JAMB_EUNAVAIL;
}
