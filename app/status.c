#include "config.h"

#include "status.h"

static const struct {
	const char	*name;
	int		 http;
	const char	*type;
} statuses[JAMB_STATUS__MAX] = {
	[JAMB_OK] =		{ "ok", 200, "about:blank" },
	[JAMB_EINVAL] =		{ "invalid input", 400, "bad-request" },
	[JAMB_ETOOBIG] =	{ "input too large", 413, "too-large" },
	[JAMB_ENOTFOUND] =	{ "not found", 404, "not-found" },
	[JAMB_EMETHOD] =	{ "method not allowed", 405,
				    "method-not-allowed" },
	[JAMB_EMEDIA] =		{ "unsupported media type", 415,
				    "unsupported-media-type" },
	[JAMB_ECONFLICT] =	{ "conflict", 409, "conflict" },
	[JAMB_EUNAVAIL] =	{ "service unavailable", 503, "unavailable" },
	[JAMB_EIO] =		{ "client i/o error", 400, "bad-request" },
	[JAMB_ECONFIG] =	{ "invalid configuration", 500, "internal" },
	[JAMB_EINTERNAL] =	{ "internal error", 500, "internal" },
};

const char *
status_name(enum jamb_status st)
{
	if ((unsigned)st >= JAMB_STATUS__MAX)
		return "unknown status";
	return statuses[st].name;
}

/* The single place where a jamb status becomes an HTTP status. */
int
status_http(enum jamb_status st)
{
	if ((unsigned)st >= JAMB_STATUS__MAX)
		return 500;
	return statuses[st].http;
}

/* The stable slug naming the problem type (see resp_problem). */
const char *
status_problem_type(enum jamb_status st)
{
	if ((unsigned)st >= JAMB_STATUS__MAX)
		return "internal";
	return statuses[st].type;
}
