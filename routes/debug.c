#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "routes.h"

/*
 * Diagnostic routes, present only with [debug] routes = yes.  The test
 * suite uses them to hold a request in flight (drain, reload) and to
 * exercise body handling without a resource of its own.
 */

#define DEBUG_SLEEP_MAX_MS	60000

static enum jamb_status
debug_sleep(struct req *req, struct resp *resp)
{
	const char	*s = req_query(req, "ms");
	struct timespec	 ts;
	char		*end;
	long		 ms;

	ms = s != NULL ? strtol(s, &end, 10) : -1;
	if (s == NULL || *s == '\0' || *end != '\0' || ms < 0 ||
	    ms > DEBUG_SLEEP_MAX_MS) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "ms must be a whole number from 0 to %d",
		    DEBUG_SLEEP_MAX_MS);
		return JAMB_OK;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
	resp_json(resp, 200, json_pack("{s:I, s:I}", "slept_ms",
	    (json_int_t)ms, "pid", (json_int_t)getpid()));
	return JAMB_OK;
}

static enum jamb_status
debug_echo(struct req *req, struct resp *resp)
{
	resp_json(resp, 200, json_pack("{s:O}", "body", req->json));
	return JAMB_OK;
}

const struct route debug_routes[] = {
	{ "GET", "/v1/debug/sleep", debug_sleep, ROUTE_DEBUG },
	{ "POST", "/v1/debug/echo", debug_echo,
	    ROUTE_DEBUG | ROUTE_BODY | ROUTE_JSON },
	{ NULL, NULL, NULL, 0 }
};
