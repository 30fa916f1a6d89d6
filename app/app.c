#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "log.h"
#include "ratelimit.h"
#include "respcache.h"
#include "router.h"
#include "routes.h"
#include "idp.h"
#include "token.h"

/* Headers a browser may send cross-origin, for CORS preflights. */
#define CORS_ALLOW_HEADERS	"Authorization, Content-Type, " \
	"Idempotency-Key, If-Match, If-None-Match, X-Request-Id"
/* Response headers a cross-origin script may read. */
#define CORS_EXPOSE_HEADERS	"X-Request-Id, ETag, Retry-After, " \
	"RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Cache"

/*
 * The worker's application state.  Backends connect lazily, so a
 * worker starts even while MySQL or memcached is down and /v1/ready
 * can say so.
 */
struct app *
app_new(const struct conf *c)
{
	struct app	*app;
	const struct route *const *t;
	char		 err[256];

	app = xcalloc(1, sizeof(*app));
	app->conf = c;
	app->router = router_new();
	for (t = route_tables; *t != NULL; t++)
		router_add(app->router, *t, c->debug_routes ? 0 : ROUTE_DEBUG);
	app->db = db_new(c);
	/* A key problem is logged; tokens are then refused, not issued. */
	if ((app->tokens = token_keys_load(c, err, sizeof(err))) == NULL)
		log_error(NULL, "token keys: %s", err);
	app->idp = idp_new(c);
	app->respcache = respcache_new();
	if ((app->cache = cache_new(c, err, sizeof(err))) == NULL) {
		/* conf_load accepted the list, so this is not expected. */
		log_error(NULL, "%s", err);
		abort();
	}
	return app;
}

void
app_free(struct app *app)
{
	if (app == NULL)
		return;
	router_free(app->router);
	db_free(app->db);
	cache_free(app->cache);
	token_keys_free(app->tokens);
	idp_free(app->idp);
	respcache_free(app->respcache);
	free(app);
}

static void
security_headers(struct resp *resp)
{
	resp_header(resp, "X-Content-Type-Options", "nosniff");
	resp_header(resp, "Content-Security-Policy",
	    "default-src 'none'; frame-ancestors 'none'");
	resp_header(resp, "Referrer-Policy", "no-referrer");
	resp_header(resp, "X-Frame-Options", "DENY");
}

static int
origin_allowed(const struct conf *c, const char *origin)
{
	return origin != NULL && (conf_list_has(c->cors_origins, origin) ||
	    conf_list_has(c->cors_origins, "*"));
}

/* CORS headers for an allowed Origin; nothing for any other. */
static void
cors_headers(const struct conf *c, const struct req *req, struct resp *resp)
{
	const char	*origin = req_header(req, "origin");

	/* The answer depends on Origin even when it is refused. */
	if (*c->cors_origins != '\0')
		resp_header(resp, "Vary", "Origin");
	if (!origin_allowed(c, origin))
		return;
	resp_header(resp, "Access-Control-Allow-Origin",
	    conf_list_has(c->cors_origins, "*") ? "*" : origin);
	if (c->cors_credentials)
		resp_header(resp, "Access-Control-Allow-Credentials", "true");
	resp_header(resp, "Access-Control-Expose-Headers",
	    CORS_EXPOSE_HEADERS);
}

/* OPTIONS: the methods of the path, and a preflight answer if asked. */
static void
options(const struct conf *c, const struct req *req, struct resp *resp,
    const char *allow)
{
	char	 age[32];

	resp->status = 204;
	resp_header(resp, "Allow", allow);
	if (req_header(req, "access-control-request-method") == NULL ||
	    !origin_allowed(c, req_header(req, "origin")))
		return;
	snprintf(age, sizeof(age), "%ld", c->cors_max_age);
	resp_header(resp, "Access-Control-Allow-Methods", allow);
	resp_header(resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
	resp_header(resp, "Access-Control-Max-Age", age);
	resp_header(resp, "Vary", "Origin, Access-Control-Request-Method, "
	    "Access-Control-Request-Headers");
}

/* Reads and parses the body for routes that take one. */
static enum jamb_status
read_body(struct req *req, char *err, size_t errlen)
{
	const struct conf	*c = req->app->conf;
	enum jamb_status	 st;

	if (!(req->route->flags & ROUTE_BODY))
		return JAMB_OK;
	st = req_read_body(req, (size_t)c->server_body_limit, err, errlen);
	if (st != JAMB_OK || !(req->route->flags & ROUTE_JSON))
		return st;
	return req_parse_json(req, (int)c->server_json_depth, err, errlen);
}

/*
 * Runs the matched route for an authenticated caller.  A handler
 * answers by filling resp; when it returns an error without a problem
 * of its own, the client gets a generic problem for that status and
 * the log the status's name.
 */
static void
handle(struct req *req, struct resp *resp)
{
	char		 err[512];
	enum jamb_status st;

	if ((st = read_body(req, err, sizeof(err))) != JAMB_OK) {
		resp_status_problem(resp, req, st, err);
		return;
	}
	if ((st = req->route->handler(req, resp)) == JAMB_OK)
		return;
	log_error(req->id, "%s %s failed: %s", req->method,
	    req->route->pattern, status_name(st));
	if (resp->is_problem)
		return;
	resp_reset(resp);
	security_headers(resp);
	cors_headers(req->app->conf, req, resp);
	if (st == JAMB_EUNAVAIL) {
		resp_status_problem(resp, req, st, "a backend is unavailable; "
		    "try again shortly");
		resp_header(resp, "Retry-After", "5");
		return;
	}
	resp_status_problem(resp, req, st, status_http(st) >= 500 ?
	    "the server could not complete the request; its log has the "
	    "details under this request id" : status_name(st));
}

/*
 * Credentials first: nothing is read for a caller refused anyway.  The
 * rate limit comes next, so that the account is known, and counts a
 * refused credential too, against its address: a storm of bad keys is
 * limited like any other.
 */
static void
run(struct req *req, struct resp *resp, struct respcache_req *rq)
{
	struct ratelimit	 rl;
	enum ratelimit_verdict	 v;
	int			 authed;

	authed = auth_request(req, resp);
	if ((v = ratelimit_check(req, &rl)) != RATELIMIT_PASS) {
		resp_reset(resp);
		security_headers(resp);
		cors_headers(req->app->conf, req, resp);
		ratelimit_refuse(req, resp, v, &rl);
		return;
	}
	/* A stored answer stands in for the handler, MySQL untouched. */
	if (authed)
		respcache_lookup(req, resp, rq);
	if (authed && rq->result != RESPCACHE_HIT)
		handle(req, resp);
	/* After the handler, which may have reset the response. */
	ratelimit_headers(&rl, resp);
}

static void
route(struct req *req, struct resp *resp, struct respcache_req *rq)
{
	char		 allow[128];
	enum route_match m;

	m = router_match(req->app->router, req->method, req->raw_path,
	    &req->route, &req->params, allow, sizeof(allow));
	if (m == ROUTE_FOUND) {
		run(req, resp, rq);
		return;
	}
	if (m == ROUTE_NO_PATH) {
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "no resource at %s", req->path);
		return;
	}
	if (strcmp(req->method, "OPTIONS") == 0) {
		options(req->app->conf, req, resp, allow);
		return;
	}
	resp_problem(resp, req, 405, "method-not-allowed",
	    "Method Not Allowed", "%s does not allow %s; allowed: %s",
	    req->path, req->method, allow);
	resp_header(resp, "Allow", allow);
}

static void
access_log(const struct req *req, const struct resp *resp)
{
	json_t		*f;
	const char	*xc;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	f = json_object();
	json_object_set_new(f, "method", log_string(req->method));
	json_object_set_new(f, "path", log_string(req->raw_path ?
	    req->raw_path : ""));
	json_object_set_new(f, "route", json_string(req->route ?
	    req->route->pattern : ""));
	json_object_set_new(f, "status", json_integer(resp->status));
	/* HIT, MISS or BYPASS on the routes the response cache keeps. */
	if ((xc = resp_get_header(resp, "X-Cache")) != NULL)
		json_object_set_new(f, "cache", json_string(xc));
	json_object_set_new(f, "bytes", json_integer((json_int_t)
	    resp->body.len));
	json_object_set_new(f, "duration_us", json_integer(clock_us() -
	    req->start_us));
	json_object_set_new(f, "client", log_string(req->client_addr ?
	    req->client_addr : ""));
	log_fields(LOG_LEVEL_INFO, req->id, "request", f);
}

/*
 * Whether an If-None-Match value names etag: "*", or a list of entity
 * tags compared weakly (a W/ prefix ignored on either side), as RFC 9110
 * asks for GET and HEAD.  A malformed member matches nothing; the rest
 * of the list is still read.
 */
int
app_etag_match(const char *list, const char *etag)
{
	const char	*p = list, *end;
	size_t		 n;

	if (strncmp(etag, "W/", 2) == 0)
		etag += 2;
	n = strlen(etag);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*' && (p[1] == '\0' || p[1] == ',' ||
		    p[1] == ' ' || p[1] == '\t'))
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '"' && (end = strchr(p + 1, '"')) != NULL) {
			if ((size_t)(end - p) + 1 == n &&
			    strncmp(p, etag, n) == 0)
				return 1;
			p = end + 1;
		}
		/* Skip the rest of this member, well-formed or not. */
		while (*p != '\0' && *p != ',')
			p++;
	}
	return 0;
}

/* Adds a field name to Vary unless it is there already. */
static void
vary_add(struct resp *resp, const char *name)
{
	const char	*vary = resp_get_header(resp, "Vary"), *p;
	size_t		 n = strlen(name), len;
	char		*v;

	if (vary == NULL) {
		resp_header(resp, "Vary", name);
		return;
	}
	for (p = vary; *p != '\0'; p += len) {
		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == n && strncasecmp(p, name, n) == 0)
			return;
	}
	v = xasprintf("%s, %s", vary, name);
	resp_header(resp, "Vary", v);
	free(v);
}

/*
 * Cache-Control, Vary and the purge tags.  A public route's success
 * for an anonymous reader may be kept by browsers and CDNs for the
 * configured times; an answer for a signed-in caller is private, and
 * an error is never kept.  A handler's own Cache-Control stands, except
 * that it cannot make an error cacheable.
 */
static void
cache_headers(const struct req *req, struct resp *resp)
{
	const struct conf *c = req->app->conf;
	const char	*cc = resp_get_header(resp, "Cache-Control");
	char		*v, *p;
	int		 pub;

	pub = req->route != NULL && (req->route->flags & ROUTE_PUBLIC);
	if (pub)
		vary_add(resp, "Authorization");
	if (resp->status >= 400) {
		if (cc == NULL || strstr(cc, "no-store") == NULL)
			resp_header(resp, "Cache-Control", "no-store");
		return;
	}
	if (!pub || resp->status != 200 ||
	    req->who.kind != PRINCIPAL_ANONYMOUS) {
		if (cc == NULL)
			resp_header(resp, "Cache-Control",
			    "private, no-store");
		return;
	}

	if (cc == NULL) {
		v = xasprintf("public, max-age=%ld, s-maxage=%ld, "
		    "stale-while-revalidate=%ld", c->http_max_age,
		    c->http_s_maxage, c->http_stale_while_revalidate);
		resp_header(resp, "Cache-Control", v);
		free(v);
	}
	if (resp->tags.len == 0)
		return;
	/* Cloudflare reads a comma-separated list, Fastly a spaced one. */
	v = xstrdup(resp->tags.data);
	for (p = v; *p != '\0'; p++)
		if (*p == ' ')
			*p = ',';
	resp_header(resp, "Cache-Tag", v);
	resp_header(resp, "Surrogate-Key", resp->tags.data);
	free(v);
}

/* Bytes of the body's SHA-256 kept in an ETag: 128 bits. */
#define ETAG_BYTES	16

/*
 * A strong ETag for a successful GET or HEAD, the first 128 bits of
 * the body's SHA-256, unless the handler set its own or the answer
 * came from the response cache with its ETag.
 */
static void
etag_set(const struct req *req, struct resp *resp)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		 etag[2 * ETAG_BYTES + 3];

	if (resp->status != 200 || (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0))
		return;
	if (resp_get_header(resp, "ETag") != NULL)
		return;
	if (EVP_Digest(resp->body.data, resp->body.len, md, &mdlen,
	    EVP_sha256(), NULL) != 1)
		return;
	etag[0] = '"';
	hex_encode(etag + 1, md, ETAG_BYTES);
	strcpy(etag + 1 + 2 * ETAG_BYTES, "\"");
	resp_header(resp, "ETag", etag);
}

/*
 * 304 Not Modified when If-None-Match names the ETag.  The 304 keeps
 * the headers, Cache-Control and Vary included, and drops the body.
 */
static void
validators(const struct req *req, struct resp *resp)
{
	const char	*inm;

	if (resp->status != 200 || resp_get_header(resp, "ETag") == NULL ||
	    (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0))
		return;
	inm = req_header(req, "if-none-match");
	if (inm == NULL || !app_etag_match(inm, resp_get_header(resp,
	    "ETag")))
		return;
	resp->status = 304;
	buf_reset(&resp->body);
}

/* One request, start to finish: the pipeline of DESIGN.md. */
void
app_handle(struct app *app, struct io *io)
{
	struct req	 req;
	struct resp	 resp;
	struct respcache_req rq;
	enum jamb_status st;
	const char	*xc;
	int		 head;

	resp_init(&resp);
	memset(&rq, 0, sizeof(rq));
	security_headers(&resp);
	st = req_init(&req, app, io);
	log_context(req.id);
	cors_headers(app->conf, &req, &resp);
	if (st == JAMB_ETOOBIG)
		resp_problem(&resp, &req, 414, "uri-too-long", "URI Too Long",
		    "the path and query string exceed %d bytes",
		    APP_URI_MAX);
	else if (st != JAMB_OK)
		resp_problem(&resp, &req, 400, "bad-request", "Bad Request",
		    "the request line is malformed: the path, query string "
		    "or Content-Length does not decode to valid text");
	else
		route(&req, &resp, &rq);

	cache_headers(&req, &resp);
	etag_set(&req, &resp);
	respcache_store(&req, &resp, &rq);
	if ((xc = respcache_result_name(rq.result)) != NULL)
		resp_header(&resp, "X-Cache", xc);
	validators(&req, &resp);
	resp_header(&resp, "X-Request-Id", req.id);
	head = strcmp(req.method, "HEAD") == 0;
	if (resp_send(&resp, io, head) != JAMB_OK)
		log_info(req.id, "client went away before the response "
		    "was written");
	access_log(&req, &resp);
	log_context(NULL);
	req_free(&req);
	resp_free(&resp);
}
