/*
 * Request rate limits, counted in memcached so that every worker on
 * every host shares them.  Each route falls in a class (reads, other
 * API calls, and the strict class of sign-in and emailed links), each
 * class has a limit per client address, and a signed-in caller also
 * has one limit per account over all classes.  Windows are fixed and
 * aligned to the clock: the counter of a window is the key
 * "rl:<class>:ip:<address>:<window start>", so every worker agrees on
 * when it ends and RateLimit-Reset is exact.
 *
 * Requests are counted, not failures: routes/auth.c keeps its own
 * count of failed sign-ins on top of this.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "log.h"
#include "ratelimit.h"
#include "router.h"

static const char *const class_names[RATELIMIT__MAX] = {
	"read", "api", "strict"
};

/*
 * Set while memcached cannot count, so that each worker logs an outage
 * once and not once per request.
 */
static int	 cache_down;

static enum ratelimit_class
class_of(const struct req *req)
{
	if (req->route->flags & ROUTE_RL_STRICT)
		return RATELIMIT_STRICT;
	if (strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0)
		return RATELIMIT_READ;
	return RATELIMIT_API;
}

static long
address_limit(const struct conf *c, enum ratelimit_class class)
{
	switch (class) {
	case RATELIMIT_READ:
		return c->rl_read_per_address;
	case RATELIMIT_STRICT:
		return c->rl_strict_per_address;
	default:
		return c->rl_api_per_address;
	}
}

static long
fail_mode(const struct conf *c, enum ratelimit_class class)
{
	switch (class) {
	case RATELIMIT_READ:
		return c->rl_read_fail;
	case RATELIMIT_STRICT:
		return c->rl_strict_fail;
	default:
		return c->rl_api_fail;
	}
}

/*
 * memcached keys cannot hold blanks or control characters; a resolved
 * address never has them, but a REMOTE_ADDR that is not an IP address
 * (a unix socket path, say) is kept as the server gave it.
 */
static void
key_part(char *dst, size_t len, const char *src)
{
	size_t	 i;

	for (i = 0; i + 1 < len && src[i] != '\0'; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '_';
	dst[i] = '\0';
}

/*
 * Counts the request on key and keeps in rl whichever limit leaves the
 * fewest requests.  Sets *over when this count passes the limit; a
 * memcached failure is returned as it is.
 */
static enum jamb_status
count(struct cache *ca, const char *key, long limit, long window,
    struct ratelimit *rl, int *over)
{
	uint64_t	 n;
	long		 left;
	int		 was_over = *over;
	enum jamb_status st;

	if ((st = cache_incr(ca, key, window, &n)) != JAMB_OK)
		return st;
	left = n >= (uint64_t)limit ? 0 : limit - (long)n;
	if (n > (uint64_t)limit)
		*over = 1;
	/* A limit already passed is the one to report. */
	if (rl->limit == 0 || (!was_over && (*over || left < rl->remaining))) {
		rl->limit = limit;
		rl->remaining = left;
	}
	return JAMB_OK;
}

/* The account's counter key, or 0 for a caller without one. */
static int
account_key(const struct req *req, const char *start, char *key,
    size_t len)
{
	if (req->who.user_id > 0)
		snprintf(key, len, "rl:acct:user:%" PRId64 ":%s",
		    req->who.user_id, start);
	else if (req->who.kind == PRINCIPAL_API_KEY && req->who.api_key_id > 0)
		snprintf(key, len, "rl:acct:key:%" PRId64 ":%s",
		    req->who.api_key_id, start);
	else
		return 0;
	return 1;
}

/* Logs the start and the end of an outage, once each per worker. */
static void
note_cache(const struct req *req, enum jamb_status st)
{
	if (st != JAMB_OK && !cache_down)
		log_warn(req->id, "rate limits cannot be counted: memcached "
		    "is unavailable (%s); classes set to fail closed refuse "
		    "requests until it is back", status_name(st));
	else if (st == JAMB_OK && cache_down)
		log_info(req->id, "rate limits are counted again");
	cache_down = st != JAMB_OK;
}

/*
 * Counts the request against its class's limit for the client address
 * and, for a signed-in caller, its account's limit.  Runs after
 * authentication, whatever its outcome.  Returns RATELIMIT_PASS with
 * rl->limit 0 for a request that is not limited (limits disabled, an
 * exempt route, or memcached down and the class failing open).
 */
enum ratelimit_verdict
ratelimit_check(struct req *req, struct ratelimit *rl)
{
	const struct conf	*c = req->app->conf;
	struct cache		*ca = req->app->cache;
	char			 addr[CLIENTIP_MAX], start[32], key[256];
	time_t			 now;
	int			 over = 0;
	enum jamb_status	 st;

	memset(rl, 0, sizeof(*rl));
	if (!c->rl_enabled || (req->route->flags & ROUTE_RL_NONE))
		return RATELIMIT_PASS;
	rl->class = class_of(req);
	now = time(NULL);
	snprintf(start, sizeof(start), "%lld",
	    (long long)(now - now % c->rl_window));
	rl->reset = c->rl_window - (long)(now % c->rl_window);

	key_part(addr, sizeof(addr), req->client_addr);
	snprintf(key, sizeof(key), "rl:%s:ip:%s:%s", class_names[rl->class],
	    *addr != '\0' ? addr : "-", start);
	st = count(ca, key, address_limit(c, rl->class), c->rl_window, rl,
	    &over);
	if (st == JAMB_OK && account_key(req, start, key, sizeof(key)))
		st = count(ca, key, c->rl_per_account, c->rl_window, rl,
		    &over);
	note_cache(req, st);
	if (st != JAMB_OK) {
		rl->limit = 0;
		return fail_mode(c, rl->class) == RATELIMIT_FAIL_CLOSED ?
		    RATELIMIT_UNCOUNTED : RATELIMIT_PASS;
	}
	return over ? RATELIMIT_LIMITED : RATELIMIT_PASS;
}

/* The RateLimit-* headers of a counted request; none for others. */
void
ratelimit_headers(const struct ratelimit *rl, struct resp *resp)
{
	char	 v[32];

	if (rl->limit == 0)
		return;
	snprintf(v, sizeof(v), "%ld", rl->limit);
	resp_header(resp, "RateLimit-Limit", v);
	snprintf(v, sizeof(v), "%ld", rl->remaining);
	resp_header(resp, "RateLimit-Remaining", v);
	snprintf(v, sizeof(v), "%ld", rl->reset);
	resp_header(resp, "RateLimit-Reset", v);
}

/* The answer to a request ratelimit_check did not pass. */
void
ratelimit_refuse(const struct req *req, struct resp *resp,
    enum ratelimit_verdict v, const struct ratelimit *rl)
{
	char	 after[32];

	if (v == RATELIMIT_UNCOUNTED) {
		resp_problem(resp, req, 503, "unavailable",
		    "Service Unavailable", "requests of this kind cannot be "
		    "counted against their rate limit right now; try again "
		    "shortly");
		resp_header(resp, "Retry-After", "5");
		return;
	}
	resp_problem(resp, req, 429, "rate-limited", "Too Many Requests",
	    "more than %ld %s requests in %ld seconds; try again in %ld "
	    "seconds", rl->limit, class_names[rl->class],
	    req->app->conf->rl_window, rl->reset);
	snprintf(after, sizeof(after), "%ld", rl->reset);
	resp_header(resp, "Retry-After", after);
	ratelimit_headers(rl, resp);
}
