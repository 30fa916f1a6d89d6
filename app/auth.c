#include "config.h"

#include <string.h>
#include <strings.h>

#include "apikey.h"
#include "app.h"
#include "auth.h"
#include "log.h"
#include "router.h"
#include "token.h"

static const char *const role_names[ROLE__MAX] = {
	"none", "member", "author", "editor", "admin", "owner"
};

const char *
role_name(enum role r)
{
	return (unsigned)r < ROLE__MAX ? role_names[r] : "none";
}

/* ROLE_NONE for NULL or an unknown name. */
enum role
role_parse(const char *s)
{
	int	 i;

	for (i = 1; s != NULL && i < ROLE__MAX; i++)
		if (strcmp(role_names[i], s) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

void
principal_clear(struct principal *who)
{
	json_decref(who->claims);
	memset(who, 0, sizeof(*who));
}

/*
 * 401 with the RFC 6750 challenge.  error is "invalid_token" or
 * "invalid_request", or NULL when no credential was sent at all; the
 * detail says what an honest client needs to know and no more.
 */
void
auth_unauthorized(struct resp *resp, const struct req *req,
    const char *error, const char *detail)
{
	char	 challenge[128];

	resp_problem(resp, req, 401, "unauthorized", "Unauthorized", "%s",
	    detail);
	if (error == NULL)
		snprintf(challenge, sizeof(challenge), "Bearer realm=\"jamb\"");
	else
		snprintf(challenge, sizeof(challenge),
		    "Bearer realm=\"jamb\", error=\"%s\"", error);
	resp_header(resp, "WWW-Authenticate", challenge);
}

/* The credential of "Authorization: Bearer X", or NULL when malformed. */
static const char *
bearer(const char *h)
{
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' && strchr(h, ' ') == NULL ? h : NULL;
}

static enum jamb_status
identify(struct req *req, const char *cred, char *why, size_t whylen)
{
	enum jamb_status st;

	if (strncmp(cred, "jamb_", 5) == 0) {
		st = apikey_verify(req->app->db, cred, &req->who);
		if (st == JAMB_ENOTFOUND) {
			snprintf(why, whylen, "unknown or revoked API key");
			return JAMB_EINVAL;
		}
		if (st != JAMB_OK)
			log_error(req->id, "API key not checked: %s",
			    db_error(req->app->db));
		return st;
	}
	return token_verify(req->app, cred, &req->who, why, whylen);
}

/*
 * Establishes req->who from the Authorization header and checks it
 * against the route's role, in one place for every route.  Returns 1
 * when the handler may run; 0 when resp holds the refusal (401 for a
 * missing or bad credential, 403 for too small a role, 503 when the
 * credential could not be checked).
 */
int
auth_request(struct req *req, struct resp *resp)
{
	enum role	 need = (enum role)ROUTE_ROLE_OF(req->route->flags);
	const char	*h = req_header(req, "authorization"), *cred;
	char		 why[256] = "";
	enum jamb_status st;

	memset(&req->who, 0, sizeof(req->who));
	if (h != NULL) {
		if ((cred = bearer(h)) == NULL) {
			auth_unauthorized(resp, req, "invalid_request",
			    "the Authorization header must be "
			    "\"Bearer <token>\"");
			return 0;
		}
		if ((st = identify(req, cred, why, sizeof(why))) != JAMB_OK) {
			principal_clear(&req->who);
			if (st == JAMB_EUNAVAIL) {
				resp_status_problem(resp, req, st, "the "
				    "credential could not be checked now; "
				    "try again shortly");
				resp_header(resp, "Retry-After", "5");
				return 0;
			}
			/* The lookup failed; the credential may be good. */
			if (st != JAMB_EINVAL) {
				resp_status_problem(resp, req, st, "the "
				    "credential could not be checked; the "
				    "server's log has the details under this "
				    "request id");
				return 0;
			}
			log_info(req->id, "credential refused: %s", why);
			auth_unauthorized(resp, req, "invalid_token",
			    "the access token or API key is invalid or has "
			    "expired");
			return 0;
		}
	}
	if (need == ROLE_NONE || req->who.role >= need)
		return 1;
	if (req->who.kind == PRINCIPAL_ANONYMOUS) {
		auth_unauthorized(resp, req, NULL, "this resource needs a "
		    "signed-in caller");
		return 0;
	}
	resp_problem(resp, req, 403, "forbidden", "Forbidden", "this resource "
	    "needs the %s role or a higher one", role_name(need));
	return 0;
}
