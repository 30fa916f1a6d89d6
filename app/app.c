#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "log.h"
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
 * Runs the matched route.  A handler answers by filling resp; when it
 * returns an error without a problem of its own, the client gets a
 * generic problem for that status and the log the status's name.
 */
static void
run(struct req *req, struct resp *resp)
{
	char		 err[512];
	enum jamb_status st;

	/* Credentials first: nothing is read for a caller refused anyway. */
	if (!auth_request(req, resp))
		return;
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

static void
route(struct req *req, struct resp *resp)
{
	char		 allow[128];
	enum route_match m;

	m = router_match(req->app->router, req->method, req->raw_path,
	    &req->route, &req->params, allow, sizeof(allow));
	if (m == ROUTE_FOUND) {
		run(req, resp);
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
	json_t	*f;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	f = json_object();
	json_object_set_new(f, "method", log_string(req->method));
	json_object_set_new(f, "path", log_string(req->raw_path ?
	    req->raw_path : ""));
	json_object_set_new(f, "route", json_string(req->route ?
	    req->route->pattern : ""));
	json_object_set_new(f, "status", json_integer(resp->status));
	json_object_set_new(f, "bytes", json_integer((json_int_t)
	    resp->body.len));
	json_object_set_new(f, "duration_us", json_integer(clock_us() -
	    req->start_us));
	json_object_set_new(f, "client", log_string(req->client_addr ?
	    req->client_addr : ""));
	log_fields(LOG_LEVEL_INFO, req->id, "request", f);
}

/* One request, start to finish: the pipeline of DESIGN.md. */
void
app_handle(struct app *app, struct io *io)
{
	struct req	 req;
	struct resp	 resp;
	enum jamb_status st;
	int		 head;

	resp_init(&resp);
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
		route(&req, &resp);

	resp_header(&resp, "X-Request-Id", req.id);
	if (resp_get_header(&resp, "Cache-Control") == NULL)
		resp_header(&resp, "Cache-Control", "no-store");
	head = strcmp(req.method, "HEAD") == 0;
	if (resp_send(&resp, io, head) != JAMB_OK)
		log_info(req.id, "client went away before the response "
		    "was written");
	access_log(&req, &resp);
	log_context(NULL);
	req_free(&req);
	resp_free(&resp);
}
