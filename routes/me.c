#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "password.h"
#include "respcache.h"
#include "routes.h"

/*
 * The caller's own account.  Only a signed-in person has one: an API
 * key acts for the site, not for a user, and is refused with 403.
 *
 * Changing the password signs the account out everywhere by revoking
 * its refresh tokens.  Access tokens already issued stay valid until
 * they expire ([auth] access_ttl), since they are checked without a
 * look-up.
 */

struct password_change {
	int64_t		 user_id;
	const char	*hash;
};

/* Whether the caller is a person; if not, resp holds the 403. */
static int
me_person(struct req *req, struct resp *resp)
{
	if (req->who.user_id > 0)
		return 1;
	resp_problem(resp, req, 403, "no-account", "Forbidden",
	    "API keys have no account");
	return 0;
}

/* A token of an account deleted since it was issued. */
static void
me_gone(struct req *req, struct resp *resp)
{
	auth_unauthorized(resp, req, "invalid_token", "the account of this "
	    "access token no longer exists");
}

/* Answers 200 with the account, or 401 if it was deleted meanwhile. */
static enum jamb_status
me_answer(struct req *req, struct resp *resp)
{
	struct db_conn		*db = req->app->db;
	json_t			*doc;
	enum jamb_status	 st;

	st = db_query_one(db, &doc, "SELECT id, email, name, role, "
	    "email_verified_at IS NOT NULL AS email_verified, created_at "
	    "FROM users WHERE id = ? AND deleted_at IS NULL", "i",
	    req->who.user_id);
	if (st == JAMB_ENOTFOUND) {
		me_gone(req, resp);
		return JAMB_OK;
	}
	if (st != JAMB_OK) {
		log_warn(req->id, "account: %s", db_error(db));
		return st;
	}
	/* A comparison comes back as a number; the API says boolean. */
	json_object_set_new(doc, "email_verified", json_boolean(
	    json_integer_value(json_object_get(doc, "email_verified"))));
	resp_json(resp, 200, doc);
	resp_header(resp, "Cache-Control", "private, no-store");
	return JAMB_OK;
}

static enum jamb_status
me_get(struct req *req, struct resp *resp)
{
	if (!me_person(req, resp))
		return JAMB_OK;
	return me_answer(req, resp);
}

/* A JSON merge patch (RFC 7396) of the fields a member may change. */
static enum jamb_status
me_patch(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "name", NULL };
	struct db_conn		*db = req->app->db;
	const char		*name;
	enum jamb_status	 st;

	if (!me_person(req, resp) || !auth_body_check(req, resp, fields) ||
	    !auth_body_name(req, resp, &name))
		return JAMB_OK;
	if (name != NULL) {
		st = db_exec(db, "UPDATE users SET name = ?, version = "
		    "version + 1 WHERE id = ? AND deleted_at IS NULL", "si",
		    name, req->who.user_id);
		if (st != JAMB_OK) {
			log_warn(req->id, "account: %s", db_error(db));
			return st;
		}
		/* Author names appear in cached post answers. */
		respcache_bump(req->app->cache, RESPCACHE_NS_POSTS);
	}
	return me_answer(req, resp);
}

/* Stores the new hash and revokes every refresh token of the user. */
static enum jamb_status
me_password_tx(struct db_conn *db, void *arg)
{
	struct password_change	*pc = arg;
	enum jamb_status	 st;

	st = db_exec(db, "UPDATE users SET password_hash = ?, version = "
	    "version + 1 WHERE id = ?", "si", pc->hash, pc->user_id);
	if (st == JAMB_OK)
		st = db_exec(db, "UPDATE refresh_tokens SET revoked_at = "
		    "UTC_TIMESTAMP(6) WHERE user_id = ? AND revoked_at IS "
		    "NULL", "i", pc->user_id);
	return st;
}

/*
 * A new password, given the current one.  Wrong guesses count against
 * the same limits as sign-in failures: a stolen access token must not
 * become a way to guess the password.
 */
static enum jamb_status
me_password(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "current_password",
	    "new_password", NULL };
	struct db_conn		*db = req->app->db;
	struct db_rows		*r = NULL;
	struct password_change	 pc;
	const char		*cur, *next, *stored;
	char			*email = NULL, *hash = NULL;
	enum jamb_status	 st;
	int			 ok;

	if (!me_person(req, resp) || !auth_body_check(req, resp, fields) ||
	    !auth_body_string(req, resp, "current_password", 1,
	    AUTH_PASSWORD_MAX, &cur) ||
	    !auth_body_string(req, resp, "new_password", AUTH_PASSWORD_MIN,
	    AUTH_PASSWORD_MAX, &next))
		return JAMB_OK;

	st = db_query(db, &r, "SELECT email, password_hash FROM users "
	    "WHERE id = ? AND deleted_at IS NULL", "i", req->who.user_id);
	if (st != JAMB_OK) {
		log_warn(req->id, "password change: %s", db_error(db));
		return st;
	}
	if (!db_next(r)) {
		me_gone(req, resp);
		goto out;
	}
	email = xstrdup(db_str(r, 0, NULL));
	stored = db_str(r, 1, NULL);
	if (auth_login_blocked(req, resp, email))
		goto out;
	/* An account without a password cannot get one this way. */
	ok = stored != NULL && password_verify(stored, cur);
	db_rows_free(r);
	r = NULL;
	if (!ok) {
		auth_login_failed(req, email);
		resp_problem(resp, req, 403, "wrong-password", "Forbidden",
		    "current_password is not the password of this account");
		goto out;
	}
	auth_login_succeeded(req, email);

	if ((st = password_hash(req->app->conf, next, &hash)) != JAMB_OK) {
		log_error(req->id, "password change: hashing failed: %s",
		    status_name(st));
		st = JAMB_EINTERNAL;
		goto out;
	}
	pc.user_id = req->who.user_id;
	pc.hash = hash;
	if ((st = db_tx(db, me_password_tx, &pc)) != JAMB_OK) {
		log_warn(req->id, "password change: %s", db_error(db));
		goto out;
	}
	log_info(req->id, "password changed for user %lld; its sign-ins are "
	    "revoked", (long long)req->who.user_id);
	resp->status = 204;
out:
	db_rows_free(r);
	free(email);
	if (hash != NULL)
		explicit_bzero(hash, strlen(hash));
	free(hash);
	return st;
}

const struct route me_routes[] = {
	{ "GET", "/v1/me", me_get, ROUTE_ROLE(ROLE_MEMBER) },
	{ "PATCH", "/v1/me", me_patch,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_ROLE(ROLE_MEMBER) },
	{ "POST", "/v1/me/password", me_password,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_ROLE(ROLE_MEMBER) },
	{ NULL, NULL, NULL, 0 }
};
