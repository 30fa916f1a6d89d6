#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "jwt.h"
#include "log.h"
#include "routes.h"
#include "token.h"

/*
 * Preview links for posts that are not public yet.  An editor, or an
 * author of the post, mints a signed token that expires after
 * [content] preview_ttl seconds; the frontend's preview mode passes it
 * to GET /v1/preview, which answers the post as it is saved now,
 * whatever its status, to anyone holding the token.
 *
 * The token is typed (token_sign_typed): it is no access token and an
 * access token is no preview token.  It names the post, not a version,
 * so the link follows the edits; deleting the post ends it.  No token
 * is stored, so one cannot be revoked before it expires except by
 * deleting the post or replacing the signing key.
 */

#define PREVIEW_TYP	"preview+jwt"
#define PREVIEW_SUB	"post:"

#define PREVIEW_COLUMNS \
	"id, slug, title, excerpt, status, published_at, scheduled_at, " \
	"updated_at, visibility, social_image AS feature_image, body_html, " \
	"version"

static void
preview_not_found(struct resp *resp, const struct req *req, const char *id)
{
	resp_problem(resp, req, 404, "not-found", "Not Found",
	    "no post with id %s", id);
}

/*
 * The post of the path, for this caller, with its current version.
 * The rule of the admin post routes: editors and above may preview any
 * post, an author only a post they are an author of.  JAMB_OK with
 * *refused = 1 when resp holds the 404 (no such post, or a deleted one)
 * or the 403; other statuses are database failures, not logged.
 */
static enum jamb_status
preview_target(struct req *req, struct resp *resp, int64_t *id,
    int64_t *version, int *refused)
{
	struct db_conn	*db = req->app->db;
	const char	*s = req_param(req, "id");
	enum jamb_status st;
	int		 allowed;

	*refused = 1;
	if (!str_to_count(s, INT64_MAX, id)) {
		preview_not_found(resp, req, s);
		return JAMB_OK;
	}
	st = db_query_int(db, version, "SELECT version FROM posts WHERE "
	    "id = ? AND deleted_at IS NULL", "i", *id);
	if (st == JAMB_ENOTFOUND) {
		preview_not_found(resp, req, s);
		return JAMB_OK;
	}
	if (st != JAMB_OK)
		return st;

	if ((st = posts_may_edit(req, *id, &allowed)) != JAMB_OK)
		return st;
	if (!allowed) {
		resp_problem(resp, req, 403, "forbidden", "Forbidden",
		    "an author may only preview posts they are an author of");
		return JAMB_OK;
	}
	*refused = 0;
	return JAMB_OK;
}

/* The signed token for post id; *out is the caller's to free. */
static enum jamb_status
preview_sign(struct req *req, int64_t id, int64_t version, time_t exp,
    char **out, char *jti)
{
	unsigned char	 raw[16];
	char		 sub[32];
	json_t		*claims;
	enum jamb_status st;

	random_bytes(raw, sizeof(raw));
	hex_encode(jti, raw, sizeof(raw));
	snprintf(sub, sizeof(sub), PREVIEW_SUB "%lld", (long long)id);
	claims = json_pack("{s:s, s:I, s:s, s:I}", "sub", sub, "version",
	    (json_int_t)version, "jti", jti, "exp", (json_int_t)exp);
	st = token_sign_typed(req->app, PREVIEW_TYP, claims, out);
	json_decref(claims);
	return st;
}

/* POST /v1/admin/posts/{id}/preview: a new preview link's token. */
static enum jamb_status
preview_create(struct req *req, struct resp *resp)
{
	char		*tok = NULL, jti[33], when[32];
	int64_t		 id, version;
	time_t		 exp;
	struct tm	 tm;
	int		 refused;
	enum jamb_status st;

	st = preview_target(req, resp, &id, &version, &refused);
	if (st != JAMB_OK) {
		log_warn(req->id, "post not read for a preview: %s",
		    db_error(req->app->db));
		return st;
	}
	if (refused)
		return JAMB_OK;

	exp = time(NULL) + req->app->conf->content_preview_ttl;
	gmtime_r(&exp, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* token_sign_typed logs its own failures. */
	if ((st = preview_sign(req, id, version, exp, &tok, jti)) != JAMB_OK)
		return st;

	/* Whoever holds a link can read the draft: keep who made each. */
	st = audit_write(req->app->db, req, "post.preview", "post", id,
	    json_pack("{s:s, s:s, s:I}", "jti", jti, "expires_at", when,
	    "version", (json_int_t)version));
	if (st != JAMB_OK) {
		log_warn(req->id, "preview of post %lld not audited: %s",
		    (long long)id, db_error(req->app->db));
		goto out;
	}
	resp_json(resp, 201, json_pack("{s:s, s:s}", "token", tok,
	    "expires_at", when));
	resp_header(resp, "Cache-Control", "private, no-store");
out:
	free(tok);
	return st;
}

/*
 * The post named by a verified token's "sub", or 0 when it names none:
 * a token of this key and type always does, but the check costs little.
 */
static int
preview_post_id(const json_t *claims, int64_t *id)
{
	const char	*sub = json_string_value(json_object_get(claims, "sub"));

	return sub != NULL && strncmp(sub, PREVIEW_SUB,
	    sizeof(PREVIEW_SUB) - 1) == 0 &&
	    str_to_count(sub + sizeof(PREVIEW_SUB) - 1, INT64_MAX, id);
}

/*
 * The post as the public single-post route shows it, with every body:
 * the holder of a preview link reads what the editors read, whatever
 * the visibility.  Reads the primary, not a replica, so an edit shows
 * at once.  JAMB_ENOTFOUND for a missing or deleted post.
 */
static enum jamb_status
preview_load(struct db_conn *db, int64_t id, json_t **out)
{
	json_t		*doc = NULL, *rows;
	enum jamb_status st;

	*out = NULL;
	st = db_query_one(db, &doc, "SELECT " PREVIEW_COLUMNS " FROM posts "
	    "WHERE id = ? AND deleted_at IS NULL", "i", id);
	if (st != JAMB_OK)
		return st;
	st = db_query_json(db, &rows, "SELECT t.slug, t.name FROM post_tags x "
	    "JOIN tags t ON t.id = x.tag_id WHERE x.post_id = ? ORDER BY "
	    "t.name, t.id", "i", id);
	if (st != JAMB_OK)
		goto fail;
	json_object_set_new(doc, "tags", rows);
	st = db_query_json(db, &rows, "SELECT u.slug, u.name FROM "
	    "post_authors y JOIN users u ON u.id = y.user_id WHERE "
	    "y.post_id = ? ORDER BY y.position, u.id", "i", id);
	if (st != JAMB_OK)
		goto fail;
	json_object_set_new(doc, "authors", rows);
	json_object_set_new(doc, "access", json_true());
	json_object_set_new(doc, "preview", json_true());
	*out = doc;
	return JAMB_OK;
fail:
	json_decref(doc);
	return st;
}

static enum jamb_status
preview_get_run(struct req *req, struct resp *resp)
{
	const char	*tok = req_query(req, "token");
	char		 why[256];
	json_t		*claims = NULL, *doc;
	int64_t		 id = 0;
	enum jamb_status st;

	why[0] = '\0';
	if (tok == NULL || *tok == '\0')
		snprintf(why, sizeof(why), "no token");
	else if (strlen(tok) > JWT_MAX_TOKEN)
		snprintf(why, sizeof(why), "token too long");
	else if (token_verify_typed(req->app, tok, PREVIEW_TYP, &claims,
	    why, sizeof(why)) == JAMB_OK && !preview_post_id(claims, &id))
		snprintf(why, sizeof(why), "token names no post");
	json_decref(claims);
	if (id == 0) {
		log_info(req->id, "preview refused: %s", why);
		resp_problem(resp, req, 401, "unauthorized", "Unauthorized",
		    "the preview link is invalid or has expired; ask for a "
		    "new one");
		return JAMB_OK;
	}

	st = preview_load(req->app->db, id, &doc);
	if (st == JAMB_ENOTFOUND) {
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "the previewed post no longer exists");
		return JAMB_OK;
	}
	if (st != JAMB_OK) {
		log_warn(req->id, "post %lld not read for a preview: %s",
		    (long long)id, db_error(req->app->db));
		return st;
	}
	resp_json(resp, 200, doc);
	return JAMB_OK;
}

/*
 * GET /v1/preview?token=...: the token is the credential.  Nothing of
 * the answer, refusals included, may be kept by a cache or indexed, and
 * the link must not leak to other sites through Referer.
 */
static enum jamb_status
preview_get(struct req *req, struct resp *resp)
{
	enum jamb_status st = preview_get_run(req, resp);

	resp_header(resp, "Cache-Control", "private, no-store");
	resp_header(resp, "X-Robots-Tag", "noindex");
	resp_header(resp, "Referrer-Policy", "no-referrer");
	return st;
}

const struct route preview_routes[] = {
	{ "POST", "/v1/admin/posts/{id}/preview", preview_create,
	    ROUTE_ROLE(ROLE_AUTHOR) },
	{ "GET", "/v1/preview", preview_get, 0 },
	{ NULL, NULL, NULL, 0 }
};
