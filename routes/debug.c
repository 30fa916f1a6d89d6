#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "routes.h"

/*
 * Diagnostic routes, present only with [debug] routes = yes.  The test
 * suite uses them to hold a request in flight (drain, reload), to
 * exercise body handling without a resource of its own, and to follow
 * a worker's MySQL connections (reconnects, replica routing).
 */

#define DEBUG_SLEEP_MAX_MS	60000
/* The longest slug the tags table takes (sql/0001_init.sql). */
#define DEBUG_SLUG_MAX		200

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

/*
 * Which server answers a read: the primary, or with ?replica=1 the
 * connection db_replica picks (a replica, or the primary when none is
 * configured or reachable).  "replica" says whether a replica really
 * answered; the counters are the worker's, for its primary connection.
 */
static enum jamb_status
debug_db(struct req *req, struct resp *resp)
{
	struct db_conn		*db = req->app->db, *conn = db;
	const struct db_stats	*stats = db_stats(db);
	const char		*q = req_query(req, "replica");
	uint64_t		 before = stats->replica_reads;
	json_t			*row;
	enum jamb_status	 st;

	if (q != NULL && strcmp(q, "1") == 0)
		conn = db_replica(db);
	st = db_query_one(conn, &row, "SELECT @@server_id AS server_id, "
	    "@@hostname AS host", "");
	if (st != JAMB_OK) {
		if (conn != db)
			log_warn(req->id, "replica: %s", db_error(conn));
		log_warn(req->id, "primary: %s", db_error(db));
		return st;
	}
	json_object_set_new(row, "replica",
	    json_boolean(stats->replica_reads > before));
	json_object_set_new(row, "pid", json_integer(getpid()));
	json_object_set_new(row, "stats", json_pack("{s:I, s:I, s:I, s:I}",
	    "connects", (json_int_t)stats->connects,
	    "reconnects", (json_int_t)stats->reconnects,
	    "retries", (json_int_t)stats->retries,
	    "replica_reads", (json_int_t)stats->replica_reads));
	resp_json(resp, 200, row);
	return JAMB_OK;
}

/*
 * Creates a tag from {"slug": "..."} on the primary and answers 201 with
 * its id.  Like every write it is sent once: after a lost link it fails
 * with 503 instead of risking a second row.
 */
static enum jamb_status
debug_db_write(struct req *req, struct resp *resp)
{
	struct db_conn		*db = req->app->db;
	json_t			*slug;
	const char		*s;
	enum jamb_status	 st;

	slug = json_object_get(req->json, "slug");
	if (!json_is_string(slug) || json_object_size(req->json) != 1 ||
	    json_string_length(slug) == 0 ||
	    json_string_length(slug) > DEBUG_SLUG_MAX) {
		resp_problem(resp, req, 422, "invalid-body",
		    "Unprocessable Content", "the body must be {\"slug\": "
		    "text of 1 to %d bytes} and nothing else",
		    DEBUG_SLUG_MAX);
		return JAMB_OK;
	}
	s = json_string_value(slug);
	st = db_exec(db, "INSERT INTO tags (slug, name) VALUES (?, ?)", "ss",
	    s, s);
	if (st == JAMB_ECONFLICT) {
		resp_status_problem(resp, req, st, "a tag with this slug "
		    "exists");
		return JAMB_OK;
	}
	if (st != JAMB_OK) {
		log_warn(req->id, "primary: %s", db_error(db));
		return st;
	}
	resp_json(resp, 201, json_pack("{s:I, s:s}", "id",
	    (json_int_t)db_insert_id(db), "slug", s));
	return JAMB_OK;
}

/*
 * Queues an email through the outbox, as sign-in links will: the suite
 * checks delivery, retries and dead items against a real SMTP server.
 */
static enum jamb_status
debug_mail(struct req *req, struct resp *resp)
{
	const char	*to, *subject, *text;
	enum jamb_status st;

	to = json_string_value(json_object_get(req->json, "to"));
	subject = json_string_value(json_object_get(req->json, "subject"));
	text = json_string_value(json_object_get(req->json, "text"));
	if (to == NULL || subject == NULL || text == NULL) {
		resp_problem(resp, req, 422, "invalid", "Unprocessable Content",
		    "to, subject and text are required strings");
		return JAMB_OK;
	}
	if ((st = outbox_email(req->app->db, to, subject, text)) ==
	    JAMB_EINVAL) {
		resp_problem(resp, req, 422, "invalid", "Unprocessable Content",
		    "to is not an address mail can be sent to");
		return JAMB_OK;
	}
	if (st != JAMB_OK)
		return st;
	resp_json(resp, 202, json_pack("{s:I}", "id",
	    (json_int_t)db_insert_id(req->app->db)));
	return JAMB_OK;
}

/* Who the credential of the request says the caller is. */
static enum jamb_status
debug_whoami(struct req *req, struct resp *resp)
{
	static const char *const kinds[] = { "anonymous", "token",
	    "external", "api_key" };

	resp_json(resp, 200, json_pack("{s:s, s:I, s:s, s:I, s:O*}",
	    "kind", kinds[req->who.kind], "user_id",
	    (json_int_t)req->who.user_id, "role", role_name(req->who.role),
	    "api_key_id", (json_int_t)req->who.api_key_id, "claims",
	    req->who.claims));
	return JAMB_OK;
}

const struct route debug_routes[] = {
	{ "GET", "/v1/debug/sleep", debug_sleep, ROUTE_DEBUG },
	{ "POST", "/v1/debug/echo", debug_echo,
	    ROUTE_DEBUG | ROUTE_BODY | ROUTE_JSON },
	{ "GET", "/v1/debug/db", debug_db, ROUTE_DEBUG },
	{ "POST", "/v1/debug/db/write", debug_db_write,
	    ROUTE_DEBUG | ROUTE_BODY | ROUTE_JSON },
	{ "POST", "/v1/debug/mail", debug_mail,
	    ROUTE_DEBUG | ROUTE_BODY | ROUTE_JSON },
	{ "GET", "/v1/debug/whoami", debug_whoami, ROUTE_DEBUG },
	{ NULL, NULL, NULL, 0 }
};
