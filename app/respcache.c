#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "app.h"
#include "auth.h"
#include "cache.h"
#include "log.h"
#include "respcache.h"
#include "router.h"

/* Format tag of a stored answer, changed with the layout. */
#define RC_MAGIC	"JRC1"
/* Seconds a recomputing worker holds the lock of a key. */
#define RC_LOCK_TTL	3
/* How long others wait for its answer before computing their own. */
#define RC_WAIT_STEP_MS	20
#define RC_WAIT_STEPS	10
/* Microseconds between two "memcached is down" lines of a worker. */
#define RC_DOWN_LOG_US	(60 * 1000000LL)

struct respcache {
	int64_t	 down_logged_us;	/* 0: not said yet */
	int	 toobig_logged;
};

struct respcache *
respcache_new(void)
{
	return xcalloc(1, sizeof(struct respcache));
}

void
respcache_free(struct respcache *rc)
{
	free(rc);
}

const char *
respcache_result_name(enum respcache_result r)
{
	switch (r) {
	case RESPCACHE_HIT:
		return "HIT";
	case RESPCACHE_MISS:
		return "MISS";
	case RESPCACHE_BYPASS:
		return "BYPASS";
	default:
		return NULL;
	}
}

static const struct respcache_route *
route_of(const struct req *req)
{
	const struct respcache_route *r;

	if (req->route == NULL || !(req->route->flags & ROUTE_PUBLIC))
		return NULL;
	for (r = posts_respcache; r->pattern != NULL; r++)
		if (strcmp(r->pattern, req->route->pattern) == 0)
			return r;
	return NULL;
}

/* Says once a minute per worker that answers are not cached. */
static void
down(struct req *req, struct respcache_req *rq)
{
	struct respcache	*rc = req->app->respcache;
	int64_t			 now = clock_us();

	rq->result = RESPCACHE_BYPASS;
	if (rc->down_logged_us != 0 &&
	    now - rc->down_logged_us < RC_DOWN_LOG_US)
		return;
	rc->down_logged_us = now;
	log_warn(req->id, "memcached unavailable: answers are not cached");
}

/*
 * The current version of a namespace.  A missing one (never set, or
 * evicted) starts at the clock in microseconds, a value no earlier
 * version had, so that no entry keyed with an old one is read again.
 */
static enum jamb_status
version(struct cache *ca, const char *ns, size_t nslen, struct buf *out)
{
	char		 key[64], fresh[32], *val;
	size_t		 len;
	enum jamb_status st;
	int		 tries;

	snprintf(key, sizeof(key), "v:%.*s", (int)nslen, ns);
	for (tries = 0; tries < 2; tries++) {
		st = cache_get(ca, key, &val, &len);
		if (st == JAMB_OK) {
			buf_printf(out, "%s=%.*s\n", key, (int)len, val);
			free(val);
			return JAMB_OK;
		}
		if (st != JAMB_ENOTFOUND)
			return st;
		snprintf(fresh, sizeof(fresh), "%lld", (long long)clock_us());
		st = cache_add(ca, key, fresh, strlen(fresh), 0);
		if (st == JAMB_OK) {
			buf_printf(out, "%s=%s\n", key, fresh);
			return JAMB_OK;
		}
		/* Another worker created it first: read theirs. */
		if (st != JAMB_ECONFLICT)
			return st;
	}
	return JAMB_EUNAVAIL;
}

/* Appends a string with its length, so no two key parts run together. */
static void
part(struct buf *b, const char *s)
{
	buf_printf(b, "%zu:%s\n", strlen(s), s);
}

/*
 * The cache key of a request: the database it reads, route, path
 * parameters, the declared query parameters in name order (repeats in
 * their order), the access class and the versions of the route's
 * namespaces, hashed.  The database is part of it so that two sites
 * sharing memcached and its prefix still never see each other's
 * answers.
 */
static enum jamb_status
make_key(struct req *req, const struct respcache_route *r, char *out)
{
	const struct conf *c = req->app->conf;
	struct buf	 b;
	const char	*p, *e;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	size_t		 i, n;
	enum jamb_status st = JAMB_OK;

	buf_init(&b);
	part(&b, c->db_socket);
	part(&b, c->db_host);
	buf_printf(&b, "%ld\n", c->db_port);
	part(&b, c->db_name);
	part(&b, r->pattern);
	for (i = 0; i < req->params.n; i++) {
		part(&b, req->params.v[i].key);
		part(&b, req->params.v[i].val);
	}
	buf_adds(&b, "?\n");
	for (p = r->query; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		for (i = 0; i < req->query.n; i++)
			if (strlen(req->query.v[i].key) == n &&
			    strncmp(req->query.v[i].key, p, n) == 0) {
				part(&b, req->query.v[i].key);
				part(&b, req->query.v[i].val);
			}
	}
	buf_adds(&b, "anon\n");
	for (p = r->ns; *p != '\0' && st == JAMB_OK; p = *e ? e + 1 : e) {
		e = p + strcspn(p, " ");
		st = version(req->app->cache, p, (size_t)(e - p), &b);
	}
	if (st == JAMB_OK) {
		EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
		memcpy(out, "r:", 2);
		hex_encode(out + 2, md, mdlen);
	}
	buf_free(&b);
	return st;
}

/* Reads one "\n"-ended field of a stored answer; NULL if malformed. */
static const char *
field(const char **p, const char *end, size_t *len)
{
	const char	*s = *p, *nl;

	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		return NULL;
	*len = (size_t)(nl - s);
	*p = nl + 1;
	return s;
}

/*
 * Fills resp from a stored answer: magic, status, ETag, Content-Type,
 * Vary and purge tags, one line each, then the body.  Returns 0 for
 * bytes that do not parse, which then count as a miss.
 */
static int
load(struct resp *resp, const char *val, size_t len)
{
	const char	*p = val, *end = val + len, *f[6];
	size_t		 n[6];
	char		*s;
	int		 i;

	for (i = 0; i < 6; i++)
		if ((f[i] = field(&p, end, &n[i])) == NULL)
			return 0;
	if (n[0] != strlen(RC_MAGIC) || memcmp(f[0], RC_MAGIC, n[0]) != 0 ||
	    n[1] != 3)
		return 0;
	resp->status = atoi(f[1]);
	for (i = 2; i < 5; i++) {
		if (n[i] == 0)
			continue;
		s = xasprintf("%.*s", (int)n[i], f[i]);
		resp_header(resp, i == 2 ? "ETag" : i == 3 ? "Content-Type" :
		    "Vary", s);
		free(s);
	}
	buf_reset(&resp->tags);
	buf_add(&resp->tags, f[5], n[5]);
	buf_reset(&resp->body);
	buf_add(&resp->body, p, (size_t)(end - p));
	return 1;
}

/* Whether the answer came from memcached; a miss or failure says no. */
static int
fetch(struct req *req, struct resp *resp, struct respcache_req *rq)
{
	char		*val;
	size_t		 len;
	enum jamb_status st;
	int		 ok;

	st = cache_get(req->app->cache, rq->key, &val, &len);
	if (st == JAMB_EUNAVAIL)
		down(req, rq);
	if (st != JAMB_OK)
		return 0;
	ok = load(resp, val, len);
	free(val);
	return ok;
}

/*
 * Before the handler: serves a stored answer (HIT), or decides that
 * this worker computes it (MISS).  On a miss one worker takes a short
 * lock and recomputes while the others wait a little for its answer,
 * so that a popular entry gone cold does not send every reader to
 * MySQL at once.  Signed-in callers and a memcached that does not
 * answer get BYPASS.
 */
void
respcache_lookup(struct req *req, struct resp *resp,
    struct respcache_req *rq)
{
	const struct respcache_route *r;
	struct timespec	 ts = { 0, RC_WAIT_STEP_MS * 1000000L };
	enum jamb_status st;
	int		 i;

	memset(rq, 0, sizeof(*rq));
	if (!req->app->conf->cache_responses || (r = route_of(req)) == NULL)
		return;
	if (req->who.kind != PRINCIPAL_ANONYMOUS) {
		rq->result = RESPCACHE_BYPASS;
		return;
	}
	if ((st = make_key(req, r, rq->key)) != JAMB_OK) {
		down(req, rq);
		return;
	}
	rq->result = RESPCACHE_MISS;
	if (fetch(req, resp, rq)) {
		rq->result = RESPCACHE_HIT;
		return;
	}
	if (rq->result == RESPCACHE_BYPASS)
		return;

	rq->key[0] = 'l';
	st = cache_add(req->app->cache, rq->key, "1", 1, RC_LOCK_TTL);
	rq->key[0] = 'r';
	if (st == JAMB_OK) {
		rq->locked = 1;
		/* The previous holder may have stored it since our look. */
		if (fetch(req, resp, rq))
			rq->result = RESPCACHE_HIT;
		return;
	}
	if (st != JAMB_ECONFLICT)
		return;
	for (i = 0; i < RC_WAIT_STEPS; i++) {
		nanosleep(&ts, NULL);
		if (fetch(req, resp, rq)) {
			rq->result = RESPCACHE_HIT;
			return;
		}
		if (rq->result == RESPCACHE_BYPASS)
			return;
	}
}

/*
 * After the handler, with the ETag set: keeps a 200 answer of a miss
 * and releases the lock.  An answer over memcached's item size is not
 * kept, and said once per worker.
 */
void
respcache_store(struct req *req, const struct resp *resp,
    struct respcache_req *rq)
{
	struct respcache *rc = req->app->respcache;
	const char	*etag, *ct, *vary;
	struct buf	 b;
	enum jamb_status st;

	if (rq->result != RESPCACHE_MISS && !rq->locked)
		return;
	if (rq->result == RESPCACHE_MISS && resp->status == 200) {
		etag = resp_get_header(resp, "ETag");
		ct = resp_get_header(resp, "Content-Type");
		vary = resp_get_header(resp, "Vary");
		buf_init(&b);
		buf_printf(&b, "%s\n%03d\n%s\n%s\n%s\n", RC_MAGIC,
		    resp->status, etag ? etag : "", ct ? ct : "",
		    vary ? vary : "");
		buf_add(&b, resp->tags.data, resp->tags.len);
		buf_addc(&b, '\n');
		buf_add(&b, resp->body.data, resp->body.len);
		st = cache_set(req->app->cache, rq->key, b.data, b.len,
		    req->app->conf->cache_response_ttl);
		if (st == JAMB_ETOOBIG && !rc->toobig_logged) {
			rc->toobig_logged = 1;
			log_warn(req->id, "answer of %s (%zu bytes) is over "
			    "memcached's item size and is not cached",
			    req->route->pattern, b.len);
		}
		buf_free(&b);
	}
	if (rq->locked) {
		rq->key[0] = 'l';
		cache_delete(req->app->cache, rq->key);
		rq->key[0] = 'r';
		rq->locked = 0;
	}
}

/*
 * Gives each namespace of a space-separated list a new version, after
 * a write committed.  Deleting the version is enough: the next reader
 * starts a new one from the clock.  A memcached that does not answer
 * now cannot serve the old entries either, but one that comes back
 * may, until they expire: that is the bound response_ttl sets.
 */
void
respcache_bump(struct cache *ca, const char *list)
{
	const char	*p, *e;
	char		 key[64];

	if (ca == NULL)
		return;
	for (p = list; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, " ");
		snprintf(key, sizeof(key), "v:%.*s", (int)(e - p), p);
		if (cache_delete(ca, key) == JAMB_EUNAVAIL)
			log_warn(NULL, "memcached unavailable: %s not "
			    "bumped", key);
	}
}
