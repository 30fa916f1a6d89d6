#include "config.h"

#include <stdio.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "log.h"
#include "routes.h"

/* Liveness: answers without touching anything, for load balancers. */
static enum jamb_status
health_get(struct req *req, struct resp *resp)
{
	resp_json(resp, 200, json_pack("{s:s, s:s}", "status", "ok",
	    "version", PACKAGE_VERSION));
	return JAMB_OK;
}

/*
 * Readiness: MySQL must answer and at least one memcached server.  A
 * partial memcached outage is reported as degraded but ready, since the
 * cache is only ever an optimisation.  What is down goes in the detail;
 * the backends' own messages only go to the log.
 */
static enum jamb_status
health_ready(struct req *req, struct resp *resp)
{
	char		 cerr[512] = "";
	const char	*down;
	json_t		*checks, *doc;
	int		 db_ok, cache_ok;

	db_ok = db_ping(req->app->db) == JAMB_OK;
	cache_ok = cache_ping(req->app->cache, cerr, sizeof(cerr)) == JAMB_OK;

	checks = json_pack("{s:s, s:s}", "mysql", db_ok ? "ok" : "down",
	    "memcached", !cache_ok ? "down" : *cerr ? "degraded" : "ok");
	if (!db_ok)
		log_warn(req->id, "readiness: %s", db_error(req->app->db));
	if (*cerr != '\0')
		log_warn(req->id, "readiness: %s", cerr);
	if (db_ok && cache_ok) {
		resp_json(resp, 200, json_pack("{s:s, s:o}", "status",
		    "ready", "checks", checks));
		return JAMB_OK;
	}

	down = !db_ok && !cache_ok ? "MySQL and memcached are unreachable" :
	    !db_ok ? "MySQL is unreachable" : "memcached is unreachable";
	doc = resp_problem_doc(req, 503, "unavailable", "Service Unavailable",
	    down);
	json_object_set_new(doc, "checks", checks);
	resp_problem_send(resp, doc);
	resp_header(resp, "Retry-After", "5");
	return JAMB_OK;
}

const struct route health_routes[] = {
	/* Probes must reach the worker whatever a client did. */
	{ "GET", "/v1/health", health_get, ROUTE_RL_NONE },
	{ "GET", "/v1/ready", health_ready, ROUTE_RL_NONE },
	{ NULL, NULL, NULL, 0 }
};
