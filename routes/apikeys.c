#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "audit.h"
#include "app.h"
#include "db.h"
#include "log.h"
#include "routes.h"

/*
 * API keys, managed by owners: create (the only moment the key itself
 * is shown), list and revoke.  Keys are never deleted, only revoked, so
 * that the audit log and last use stay readable afterwards.
 */

/* Characters, as api_keys.name holds them (sql/0001_init.sql). */
#define APIKEYS_NAME_MAX	200
#define APIKEYS_LIMIT_DEFAULT	50
#define APIKEYS_LIMIT_MAX	200

/* The columns a list or a creation shows: never the hash. */
#define APIKEYS_COLUMNS \
	"id, name, prefix, role, created_at, last_used_at, revoked_at, " \
	"created_by"

struct apikeys_create {
	struct req	*req;
	const char	*name;
	enum role	 role;
	char		*plain;
	int64_t		 id;
};

struct apikeys_revoke {
	struct req	*req;
	int64_t		 id;
	int		 changed;
};

/* A 422 problem naming the offending field of the body, if there is one. */
static void
apikeys_invalid(struct resp *resp, const struct req *req, const char *field,
    const char *fmt, ...)
{
	char	 detail[512];
	json_t	*doc;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	doc = resp_problem_doc(req, 422, "invalid-body",
	    "Unprocessable Content", detail);
	if (field != NULL)
		json_object_set_new(doc, "field", log_string(field));
	resp_problem_send(resp, doc);
}

/*
 * A key's name: 1 to APIKEYS_NAME_MAX characters of UTF-8 (jansson has
 * checked the encoding) without control characters, which would only
 * garble the lists printed on a terminal.
 */
static int
apikeys_name_ok(const char *s, size_t len)
{
	size_t		 i, chars = 0;
	unsigned char	 c;

	/* An embedded NUL ("\u0000") is a control character too. */
	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
		if ((c & 0xc0) != 0x80)
			chars++;
	}
	return chars >= 1 && chars <= APIKEYS_NAME_MAX;
}

/* Checks {"name": ..., "role": ...}; 0 when resp holds the refusal. */
static int
apikeys_create_body(struct req *req, struct resp *resp,
    struct apikeys_create *c)
{
	const char	*key;
	json_t		*v;

	if (!json_is_object(req->json)) {
		apikeys_invalid(resp, req, NULL, "the body must be a JSON "
		    "object with name and role");
		return 0;
	}
	json_object_foreach(req->json, key, v)
		if (strcmp(key, "name") != 0 && strcmp(key, "role") != 0) {
			apikeys_invalid(resp, req, key, "unknown field \"%s\"; "
			    "an API key has only name and role", key);
			return 0;
		}

	v = json_object_get(req->json, "name");
	if (!json_is_string(v) || !apikeys_name_ok(json_string_value(v),
	    json_string_length(v))) {
		apikeys_invalid(resp, req, "name", "name must be text of 1 to "
		    "%d characters without control characters",
		    APIKEYS_NAME_MAX);
		return 0;
	}
	c->name = json_string_value(v);

	v = json_object_get(req->json, "role");
	c->role = json_is_string(v) ? role_parse(json_string_value(v)) :
	    ROLE_NONE;
	if (c->role == ROLE_NONE) {
		apikeys_invalid(resp, req, "role", "role must be one of owner, "
		    "admin, editor, author or member");
		return 0;
	}
	return 1;
}

/* The key and its audit row, together or not at all. */
static enum jamb_status
apikeys_create_tx(struct db_conn *db, void *arg)
{
	struct apikeys_create	*c = arg;
	json_t			*details;
	enum jamb_status	 st;

	/* A rerun after a deadlock makes a new key; the old one is gone. */
	apikey_forget(&c->plain);
	st = apikey_create(db, c->name, c->role, c->req->who.user_id,
	    &c->plain, &c->id);
	if (st != JAMB_OK)
		return st;
	details = json_pack("{s:s, s:s}", "name", c->name, "role",
	    role_name(c->role));
	st = audit_write(db, c->req, "api_key.create", "api_key", c->id,
	    details);
	return st;
}

static enum jamb_status
apikeys_create(struct req *req, struct resp *resp)
{
	struct db_conn		*db = req->app->db;
	struct apikeys_create	 c;
	json_t			*row = NULL;
	enum jamb_status	 st;

	memset(&c, 0, sizeof(c));
	c.req = req;
	if (!apikeys_create_body(req, resp, &c))
		return JAMB_OK;

	if ((st = db_tx(db, apikeys_create_tx, &c)) != JAMB_OK) {
		log_warn(req->id, "api key not created: %s", db_error(db));
		goto out;
	}
	st = db_query_one(db, &row, "SELECT id, name, prefix, role, "
	    "created_at FROM api_keys WHERE id = ?", "i", c.id);
	if (st != JAMB_OK) {
		log_warn(req->id, "api key %lld created but not read back: %s",
		    (long long)c.id, db_error(db));
		goto out;
	}
	json_object_set_new(row, "key", json_string(c.plain));
	resp_json(resp, 201, row);
	resp_header(resp, "Cache-Control", "no-store");
out:
	apikey_forget(&c.plain);
	return st;
}

/*
 * Newest first, by keyset pagination on the id: next_cursor is the last
 * id of a full page, and a page after it starts below that id.
 */
static enum jamb_status
apikeys_list(struct req *req, struct resp *resp)
{
	struct db_conn	*db = req->app->db;
	const char	*s;
	json_t		*items, *last;
	int64_t		 limit = APIKEYS_LIMIT_DEFAULT, cursor = INT64_MAX;
	char		 next[32];
	enum jamb_status st;

	s = req_query(req, "limit");
	if (s != NULL && !str_to_count(s, APIKEYS_LIMIT_MAX, &limit)) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "limit must be a whole number from 1 to %d",
		    APIKEYS_LIMIT_MAX);
		return JAMB_OK;
	}
	s = req_query(req, "cursor");
	if (s != NULL && !str_to_count(s, INT64_MAX, &cursor)) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "cursor must be a next_cursor of an earlier page");
		return JAMB_OK;
	}

	/* One row more than asked says whether another page follows. */
	st = db_query_json(db, &items, "SELECT " APIKEYS_COLUMNS
	    " FROM api_keys WHERE id < ? ORDER BY id DESC LIMIT ?", "ii",
	    cursor, limit + 1);
	if (st != JAMB_OK) {
		log_warn(req->id, "api keys not listed: %s", db_error(db));
		return st;
	}
	if ((int64_t)json_array_size(items) > limit) {
		json_array_remove(items, (size_t)limit);
		last = json_array_get(items, (size_t)limit - 1);
		snprintf(next, sizeof(next), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(last, "id")));
		resp_json(resp, 200, json_pack("{s:o, s:s}", "items", items,
		    "next_cursor", next));
	} else
		resp_json(resp, 200, json_pack("{s:o, s:n}", "items", items,
		    "next_cursor"));
	return JAMB_OK;
}

/*
 * Revokes a key unless it already is; only a real change is audited, so
 * a repeated DELETE leaves one row.  JAMB_ENOTFOUND for an unknown id.
 */
static enum jamb_status
apikeys_revoke_tx(struct db_conn *db, void *arg)
{
	struct apikeys_revoke	*r = arg;
	int64_t			 n;
	enum jamb_status	 st;

	r->changed = 0;
	st = db_exec(db, "UPDATE api_keys SET revoked_at = NOW(6) "
	    "WHERE id = ? AND revoked_at IS NULL", "i", r->id);
	if (st != JAMB_OK)
		return st;
	if (db_affected(db) == 0) {
		st = db_query_int(db, &n, "SELECT COUNT(*) FROM api_keys "
		    "WHERE id = ?", "i", r->id);
		if (st == JAMB_OK && n == 0)
			st = JAMB_ENOTFOUND;
		return st;
	}
	r->changed = 1;
	return audit_write(db, r->req, "api_key.revoke", "api_key", r->id,
	    NULL);
}

static enum jamb_status
apikeys_revoke(struct req *req, struct resp *resp)
{
	struct db_conn		*db = req->app->db;
	struct apikeys_revoke	 r;
	const char		*id = req_param(req, "id");
	enum jamb_status	 st;

	memset(&r, 0, sizeof(r));
	r.req = req;
	if (!str_to_count(id, INT64_MAX, &r.id)) {
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "no API key with id %s", id);
		return JAMB_OK;
	}
	st = db_tx(db, apikeys_revoke_tx, &r);
	if (st == JAMB_ENOTFOUND) {
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "no API key with id %lld", (long long)r.id);
		return JAMB_OK;
	}
	if (st != JAMB_OK) {
		log_warn(req->id, "api key %lld not revoked: %s",
		    (long long)r.id, db_error(db));
		return st;
	}
	resp->status = 204;
	return JAMB_OK;
}

const struct route apikeys_routes[] = {
	{ "POST", "/v1/admin/api-keys", apikeys_create,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_ROLE(ROLE_OWNER) },
	{ "GET", "/v1/admin/api-keys", apikeys_list, ROUTE_ROLE(ROLE_OWNER) },
	{ "DELETE", "/v1/admin/api-keys/{id}", apikeys_revoke,
	    ROUTE_ROLE(ROLE_OWNER) },
	{ NULL, NULL, NULL, 0 }
};
