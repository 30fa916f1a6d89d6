#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>
#include <openssl/evp.h>

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

/*
 * The key as stored: the configured prefix and the caller's key, or,
 * when that is too long for memcached (250 bytes) or holds bytes its
 * text protocol cannot carry, the prefix and the key's SHA-256.
 */
static void
make_key(const struct cache *ca, const char *key, char *out, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1];
	const char	*p;
	int		 plain = 1;

	for (p = key; *p != '\0' && plain; p++)
		plain = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
	if (plain && strlen(ca->conf->cache_prefix) + strlen(key) < 240 &&
	    (size_t)snprintf(out, len, "%s%s", ca->conf->cache_prefix,
	    key) < len)
		return;
	EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL);
	hex_encode(hex, md, mdlen);
	snprintf(out, len, "%.100s#%s", ca->conf->cache_prefix, hex);
}

static enum jamb_status
cache_status(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_SUCCESS:
	case MEMCACHED_STORED:
	case MEMCACHED_DELETED:
		return JAMB_OK;
	case MEMCACHED_NOTFOUND:
		return JAMB_ENOTFOUND;
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
		return JAMB_ECONFLICT;
	case MEMCACHED_E2BIG:
		return JAMB_ETOOBIG;
	default:
		return JAMB_EUNAVAIL;
	}
}

/*
 * A value by key: JAMB_ENOTFOUND on a miss, JAMB_EUNAVAIL when no
 * server answers.  *val is the caller's to free.
 */
enum jamb_status
cache_get(struct cache *ca, const char *key, char **val, size_t *len)
{
	char			 k[256];
	uint32_t		 flags;
	memcached_return_t	 rc;

	make_key(ca, key, k, sizeof(k));
	*val = memcached_get(ca->mc, k, strlen(k), len, &flags, &rc);
	if (*val == NULL)
		return rc == MEMCACHED_SUCCESS ? JAMB_ENOTFOUND :
		    cache_status(rc);
	return JAMB_OK;
}

/* Stores a value for ttl seconds. */
enum jamb_status
cache_set(struct cache *ca, const char *key, const void *val, size_t len,
    long ttl)
{
	char	 k[256];

	make_key(ca, key, k, sizeof(k));
	return cache_status(memcached_set(ca->mc, k, strlen(k), val, len,
	    (time_t)ttl, 0));
}

/* Stores a value only if the key is absent; JAMB_ECONFLICT if not. */
enum jamb_status
cache_add(struct cache *ca, const char *key, const void *val, size_t len,
    long ttl)
{
	char	 k[256];

	make_key(ca, key, k, sizeof(k));
	return cache_status(memcached_add(ca->mc, k, strlen(k), val, len,
	    (time_t)ttl, 0));
}

enum jamb_status
cache_delete(struct cache *ca, const char *key)
{
	char	 k[256];

	make_key(ca, key, k, sizeof(k));
	return cache_status(memcached_delete(ca->mc, k, strlen(k), 0));
}

/*
 * Adds one to a counter, creating it at 1 with a lifetime of ttl
 * seconds: a fixed window that starts with its first hit.  *out is the
 * new value.  The text protocol has no increment-with-initial, so a
 * missing key is added first; a racing worker's add makes ours fail and
 * we increment theirs.
 */
enum jamb_status
cache_incr(struct cache *ca, const char *key, long ttl, uint64_t *out)
{
	char			 k[256];
	memcached_return_t	 rc;

	make_key(ca, key, k, sizeof(k));
	rc = memcached_increment(ca->mc, k, strlen(k), 1, out);
	if (rc != MEMCACHED_NOTFOUND)
		return cache_status(rc);
	rc = memcached_add(ca->mc, k, strlen(k), "1", 1, (time_t)ttl, 0);
	if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_STORED) {
		*out = 1;
		return JAMB_OK;
	}
	if (rc != MEMCACHED_NOTSTORED && rc != MEMCACHED_DATA_EXISTS)
		return cache_status(rc);
	return cache_status(memcached_increment(ca->mc, k, strlen(k), 1, out));
}
