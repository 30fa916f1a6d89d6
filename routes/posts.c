#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "access.h"
#include "app.h"
#include "db.h"
#include "jwt.h"
#include "log.h"
#include "respcache.h"
#include "routes.h"

/*
 * What a creator's frontend reads on every page: published posts, one
 * post, tags, author pages and search.  Every route that returns text
 * asks access_can_read whether the reader may have a post's body; a
 * reader without access gets the metadata and the excerpt with
 * "access": false, and the body appears nowhere: not as body_html, not
 * in a search snippet.
 *
 * Reads go to a replica (db_replica) and may lag behind the primary by
 * a moment, except the reader's subscriptions (app/access.c): someone
 * who has just paid must not meet the paywall again.
 */

#define POSTS_LIMIT_DEFAULT	20
#define POSTS_LIMIT_MAX		100
#define SEARCH_LIMIT_DEFAULT	20
#define SEARCH_LIMIT_MAX	50
#define SEARCH_Q_MAX		200	/* characters */
/* Hits ranked by MySQL, then reranked here to favour title matches. */
#define SEARCH_CANDIDATES	200
#define SEARCH_TERMS_MAX	16
#define SNIPPET_BEFORE		60	/* bytes of context before a match */
#define SNIPPET_LEN		240	/* bytes of text in a snippet */
#define CURSOR_MAX		64	/* bytes of a decoded cursor */
/* "YYYY-MM-DD hh:mm:ss.ffffff", as MySQL reads a DATETIME(6). */
#define TIME_LEN		26

/* The post fields a list can select with fields=, in output order. */
enum posts_field {
	PF_ID,
	PF_SLUG,
	PF_TITLE,
	PF_EXCERPT,
	PF_PUBLISHED_AT,
	PF_UPDATED_AT,
	PF_VISIBILITY,
	PF_TAGS,
	PF_AUTHORS,
	PF_FEATURE_IMAGE,
	PF_ACCESS,
	PF_BODY_HTML,
	PF__MAX
};

static const char *const field_names[PF__MAX] = {
	"id", "slug", "title", "excerpt", "published_at", "updated_at",
	"visibility", "tags", "authors", "feature_image", "access",
	"body_html"
};

#define PF_BIT(f)	(1u << (f))
#define PF_ALL		(PF_BIT(PF__MAX) - 1)
/* Lists fetch no bodies unless asked: pages of cards do not need them. */
#define PF_LIST_DEFAULT	(PF_ALL & ~PF_BIT(PF_BODY_HTML))

/*
 * The columns every post read selects.  feature_image is the post's
 * social_image URL: uploaded assets have no public URL of their own
 * yet.  cursor_at is published_at as the cursor spells it.
 */
#define POSTS_COLUMNS \
	"p.id, p.slug, p.title, p.excerpt, p.published_at, p.updated_at, " \
	"p.visibility, p.social_image AS feature_image, " \
	"DATE_FORMAT(p.published_at, '%Y-%m-%d %H:%i:%s.%f') AS cursor_at"

/*
 * The public list, newest first.  Filters that are not given are NULL
 * and drop out; the bounds and the cursor are always given (the widest
 * ones when absent), so the query is always a range of the
 * posts_public index (status, deleted_at, published_at, id) read
 * backwards, and a page deep in the list costs what the first does.
 */
#define POSTS_LIST_WHERE \
	" FROM posts p WHERE p.status = 'published' AND p.deleted_at IS NULL" \
	" AND p.published_at > CAST(? AS DATETIME(6))" \
	" AND p.published_at < CAST(? AS DATETIME(6))" \
	" AND (p.published_at < CAST(? AS DATETIME(6))" \
	" OR (p.published_at = CAST(? AS DATETIME(6)) AND p.id < ?))" \
	" AND (? IS NULL OR p.visibility = ?)" \
	" AND (? IS NULL OR EXISTS (SELECT 1 FROM post_tags x JOIN tags t" \
	" ON t.id = x.tag_id WHERE x.post_id = p.id AND t.slug = ?))" \
	" AND (? IS NULL OR EXISTS (SELECT 1 FROM post_authors y JOIN users u" \
	" ON u.id = y.user_id WHERE y.post_id = p.id AND u.slug = ?))" \
	" ORDER BY p.published_at DESC, p.id DESC LIMIT ?"
#define POSTS_LIST_TYPES	"ssssissssssi"

#define TIME_MIN	"1000-01-01 00:00:00.000000"
#define TIME_MAX	"9999-12-31 23:59:59.999999"

/* What a list request asks for, once its query string is checked. */
struct posts_query {
	unsigned int	 fields;
	int64_t		 limit;
	char		 after[TIME_LEN + 1];
	char		 before[TIME_LEN + 1];
	char		 cursor_at[TIME_LEN + 1];
	int64_t		 cursor_id;
	const char	*visibility;
	const char	*tag;
	const char	*author;
};

/* The search terms of q: lower-case words, for marking and ranking. */
struct posts_terms {
	char	*w[SEARCH_TERMS_MAX];
	size_t	 len[SEARCH_TERMS_MAX];
	size_t	 n;
};

static void
posts_bad(struct resp *resp, const struct req *req, const char *detail)
{
	resp_problem(resp, req, 400, "bad-request", "Bad Request", "%s",
	    detail);
}

/*
 * Answers depend on the credential, never on anything else of the
 * reader: two anonymous readers get the same bytes, which a CDN may
 * keep (app_handle sets Cache-Control).  It must keep them apart by
 * Authorization.
 */
static void
posts_cache_headers(struct resp *resp)
{
	const char	*vary = resp_get_header(resp, "Vary");
	char		*v;

	if (vary == NULL) {
		resp_header(resp, "Vary", "Authorization");
		return;
	}
	v = xasprintf("%s, Authorization", vary);
	resp_header(resp, "Vary", v);
	free(v);
}

/* Names each post of rows in the answer's purge tags. */
static void
posts_tag_rows(struct resp *resp, json_t *rows)
{
	json_t	*row;
	size_t	 i;
	char	 tag[64];

	json_array_foreach(rows, i, row) {
		snprintf(tag, sizeof(tag), "post:%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(row, "id")));
		resp_tag(resp, tag);
	}
}

/* The reader of this request, subscriptions included; logs a failure. */
static enum jamb_status
posts_reader(struct req *req, struct access *a)
{
	enum jamb_status st;

	access_init(a, &req->who);
	if ((st = access_load(a, req->app->db)) != JAMB_OK)
		log_warn(req->id, "reader's subscriptions not read: %s",
		    db_error(req->app->db));
	return st;
}

/* Whether s[0..n) are all ASCII digits. */
static int
posts_digits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
posts_int(const char *s, size_t n)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * A broken-down time that is a real calendar date and clock time: the
 * round trip through timegm changes nothing.
 */
static int
posts_tm_valid(const struct tm *in, time_t *t)
{
	struct tm	 tm = *in, back;

	if (in->tm_mon < 0 || in->tm_mon > 11 || in->tm_mday < 1 ||
	    in->tm_mday > 31 || in->tm_hour > 23 || in->tm_min > 59 ||
	    in->tm_sec > 59)
		return 0;
	*t = timegm(&tm);
	gmtime_r(t, &back);
	return back.tm_year == in->tm_year && back.tm_mon == in->tm_mon &&
	    back.tm_mday == in->tm_mday;
}

/* "YYYY-MM-DD hh:mm:ss.ffffff" of t and micro, or 0 out of DATETIME. */
static int
posts_time_format(time_t t, long micro, char *out)
{
	struct tm	 tm;
	char		 s[64];

	gmtime_r(&t, &tm);
	if (tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return 0;
	snprintf(s, sizeof(s), "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, micro % 1000000);
	memcpy(out, s, TIME_LEN);
	out[TIME_LEN] = '\0';
	return 1;
}

/*
 * An RFC 3339 date-time ("2024-05-01T08:00:00Z", "...+02:00", with an
 * optional fraction) as UTC in the form MySQL reads; 0 if malformed.
 * Digits past microseconds are dropped.
 */
static int
posts_time_parse(const char *s, char *out)
{
	struct tm	 tm;
	const char	*p;
	time_t		 t;
	long		 micro = 0, scale = 100000;
	int		 off = 0, sign;

	if (strlen(s) < 20 || !posts_digits(s, 4) || s[4] != '-' ||
	    !posts_digits(s + 5, 2) || s[7] != '-' || !posts_digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != 't') || !posts_digits(s + 11, 2) ||
	    s[13] != ':' || !posts_digits(s + 14, 2) || s[16] != ':' ||
	    !posts_digits(s + 17, 2))
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = posts_int(s, 4) - 1900;
	tm.tm_mon = posts_int(s + 5, 2) - 1;
	tm.tm_mday = posts_int(s + 8, 2);
	tm.tm_hour = posts_int(s + 11, 2);
	tm.tm_min = posts_int(s + 14, 2);
	tm.tm_sec = posts_int(s + 17, 2);
	p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return 0;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			micro += (*p - '0') * scale;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    posts_digits(p + 1, 2) && p[3] == ':' && posts_digits(p + 4, 2) &&
	    posts_int(p + 1, 2) < 24 && posts_int(p + 4, 2) < 60) {
		sign = *p == '-' ? -1 : 1;
		off = sign * (posts_int(p + 1, 2) * 3600 +
		    posts_int(p + 4, 2) * 60);
	} else
		return 0;
	if (!posts_tm_valid(&tm, &t))
		return 0;
	return posts_time_format(t - off, micro, out);
}

/* The opaque cursor of a row: base64url of "published_at|id". */
static char *
posts_cursor_encode(const char *at, int64_t id)
{
	char	 raw[CURSOR_MAX];
	int	 n;

	n = snprintf(raw, sizeof(raw), "%s|%lld", at, (long long)id);
	return jwt_b64url_encode(raw, (size_t)n);
}

/* Reads a cursor made by posts_cursor_encode; 0 if it is not one. */
static int
posts_cursor_decode(const char *s, char *at, int64_t *id)
{
	unsigned char	*raw = NULL;
	const char	*t;
	struct tm	 tm;
	time_t		 when;
	size_t		 len;
	int		 ok = 0;

	if (strlen(s) > 2 * CURSOR_MAX ||
	    jwt_b64url_decode(s, strlen(s), &raw, &len) != 0)
		return 0;
	t = (const char *)raw;
	if (len < TIME_LEN + 2 || len > CURSOR_MAX || t[TIME_LEN] != '|' ||
	    !posts_digits(t, 4) || t[4] != '-' || !posts_digits(t + 5, 2) ||
	    t[7] != '-' || !posts_digits(t + 8, 2) || t[10] != ' ' ||
	    !posts_digits(t + 11, 2) || t[13] != ':' ||
	    !posts_digits(t + 14, 2) || t[16] != ':' ||
	    !posts_digits(t + 17, 2) || t[19] != '.' ||
	    !posts_digits(t + 20, 6))
		goto out;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = posts_int(t, 4) - 1900;
	tm.tm_mon = posts_int(t + 5, 2) - 1;
	tm.tm_mday = posts_int(t + 8, 2);
	tm.tm_hour = posts_int(t + 11, 2);
	tm.tm_min = posts_int(t + 14, 2);
	tm.tm_sec = posts_int(t + 17, 2);
	if (!posts_tm_valid(&tm, &when) || tm.tm_year + 1900 < 1000 ||
	    !str_to_count(t + TIME_LEN + 1, INT64_MAX, id))
		goto out;
	memcpy(at, t, TIME_LEN);
	at[TIME_LEN] = '\0';
	ok = 1;
out:
	free(raw);
	return ok;
}

/*
 * fields=a,b,c as a set of PF_BIT; unknown names make a 400 that names
 * every one of them.  Returns 0 when resp holds the refusal.
 */
static int
posts_fields(struct req *req, struct resp *resp, unsigned int dflt,
    unsigned int *out)
{
	const char	*s = req_query(req, "fields"), *p, *comma;
	struct buf	 bad;
	size_t		 n;
	int		 f, ok = 1;

	*out = dflt;
	if (s == NULL)
		return 1;
	*out = 0;
	buf_init(&bad);
	for (p = s;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (f = 0; f < PF__MAX; f++)
			if (strlen(field_names[f]) == n &&
			    memcmp(field_names[f], p, n) == 0)
				break;
		if (f < PF__MAX)
			*out |= PF_BIT(f);
		else {
			buf_printf(&bad, "%s\"%.*s\"", bad.len > 0 ? ", " : "",
			    (int)(n > 64 ? 64 : n), p);
			ok = 0;
		}
		if (comma == NULL)
			break;
	}
	if (!ok)
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "unknown fields: %s; a post has id, slug, title, excerpt, "
		    "published_at, updated_at, visibility, tags, authors, "
		    "feature_image, access and body_html", bad.data);
	buf_free(&bad);
	return ok;
}

/* A time filter of the query string; 0 when resp holds the refusal. */
static int
posts_time_param(struct req *req, struct resp *resp, const char *name,
    const char *dflt, char *out)
{
	const char	*s = req_query(req, name);

	if (s == NULL) {
		memcpy(out, dflt, TIME_LEN + 1);
		return 1;
	}
	if (posts_time_parse(s, out))
		return 1;
	resp_problem(resp, req, 400, "bad-request", "Bad Request", "%s must "
	    "be an RFC 3339 date-time such as 2024-05-01T08:00:00Z", name);
	return 0;
}

/*
 * Checks the query string of a list; unknown parameters are ignored.
 * Returns 0 when resp holds a 400.
 */
static int
posts_query_parse(struct req *req, struct resp *resp, struct posts_query *q)
{
	const char	*s;

	memset(q, 0, sizeof(*q));
	q->limit = POSTS_LIMIT_DEFAULT;
	q->cursor_id = INT64_MAX;
	memcpy(q->cursor_at, TIME_MAX, sizeof(TIME_MAX));
	if (!posts_fields(req, resp, PF_LIST_DEFAULT, &q->fields))
		return 0;
	s = req_query(req, "limit");
	if (s != NULL && !str_to_count(s, POSTS_LIMIT_MAX, &q->limit)) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "limit must be a whole number from 1 to %d",
		    POSTS_LIMIT_MAX);
		return 0;
	}
	s = req_query(req, "cursor");
	if (s != NULL && !posts_cursor_decode(s, q->cursor_at,
	    &q->cursor_id)) {
		posts_bad(resp, req, "cursor must be the next_cursor of an "
		    "earlier page");
		return 0;
	}
	if (!posts_time_param(req, resp, "published_after", TIME_MIN,
	    q->after) || !posts_time_param(req, resp, "published_before",
	    TIME_MAX, q->before))
		return 0;
	q->visibility = req_query(req, "visibility");
	if (q->visibility != NULL &&
	    access_visibility_parse(q->visibility) < 0) {
		posts_bad(resp, req, "visibility must be public, members, "
		    "paid or tiers");
		return 0;
	}
	q->tag = req_query(req, "tag");
	q->author = req_query(req, "author");
	return 1;
}

/* The ids of rows as a JSON array text, for JSON_TABLE; caller frees. */
static char *
posts_ids_json(json_t *rows)
{
	json_t	*ids = json_array(), *row;
	size_t	 i;
	char	*s;

	json_array_foreach(rows, i, row)
		json_array_append(ids, json_object_get(row, "id"));
	s = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	if (s == NULL)
		abort();
	return s;
}

/* The row of rows whose id is id, or NULL. */
static json_t *
posts_row_by_id(json_t *rows, json_int_t id)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(rows, i, row)
		if (json_integer_value(json_object_get(row, "id")) == id)
			return row;
	return NULL;
}

/*
 * Appends to member key of each row the objects of sql's rows: column 0
 * names the post, the others become the object.  One query for the
 * whole page, the ids passed as one JSON array.
 */
static enum jamb_status
posts_attach(struct db_conn *db, json_t *rows, const char *ids,
    const char *key, const char *sql)
{
	json_t		*found, *hit, *row, *list;
	size_t		 i;
	enum jamb_status st;

	if ((st = db_query_json(db, &found, sql, "s", ids)) != JAMB_OK)
		return st;
	json_array_foreach(found, i, hit) {
		row = posts_row_by_id(rows, json_integer_value(
		    json_object_get(hit, "post_id")));
		if (row == NULL)
			continue;
		json_object_del(hit, "post_id");
		if ((list = json_object_get(row, key)) == NULL) {
			list = json_array();
			json_object_set_new(row, key, list);
		}
		json_array_append(list, hit);
	}
	json_decref(found);
	return JAMB_OK;
}

#define POSTS_IDS_IN \
	" IN (SELECT j.id FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT" \
	" UNSIGNED PATH '$')) AS j)"

/*
 * Adds tags, authors and the tier ids (member "_tiers", for the access
 * decision only) to every row of a page: three queries, not three per
 * post.
 */
static enum jamb_status
posts_decorate(struct db_conn *db, json_t *rows)
{
	char		*ids;
	enum jamb_status st;

	if (json_array_size(rows) == 0)
		return JAMB_OK;
	ids = posts_ids_json(rows);
	st = posts_attach(db, rows, ids, "tags", "SELECT x.post_id, t.slug, "
	    "t.name FROM post_tags x JOIN tags t ON t.id = x.tag_id WHERE "
	    "x.post_id" POSTS_IDS_IN " ORDER BY x.post_id, t.name, t.id");
	if (st == JAMB_OK)
		st = posts_attach(db, rows, ids, "authors", "SELECT y.post_id, "
		    "u.slug, u.name FROM post_authors y JOIN users u ON u.id = "
		    "y.user_id WHERE y.post_id" POSTS_IDS_IN " ORDER BY "
		    "y.post_id, y.position, u.id");
	if (st == JAMB_OK)
		st = posts_attach(db, rows, ids, "_tiers", "SELECT post_id, "
		    "tier_id FROM post_tiers WHERE post_id" POSTS_IDS_IN);
	free(ids);
	return st;
}

/* Whether the reader may read the body of a decorated row. */
static int
posts_row_access(const struct access *a, json_t *row)
{
	int64_t		 tiers[ACCESS_TIERS_MAX];
	json_t		*list, *t;
	size_t		 i, n = 0;
	int		 vis;

	vis = access_visibility_parse(json_string_value(json_object_get(row,
	    "visibility")));
	list = json_object_get(row, "_tiers");
	json_array_foreach(list, i, t)
		if (n < ACCESS_TIERS_MAX)
			tiers[n++] = json_integer_value(json_object_get(t,
			    "tier_id"));
	/* An unknown visibility is a schema change: staff only. */
	return access_can_read(a, vis < 0 ? ACCESS_VIS__MAX :
	    (enum access_visibility)vis, tiers, n);
}

/*
 * The public form of a decorated row: the selected fields, in a fixed
 * order, with body_html only when selected and the reader has access.
 * Takes nothing from row.
 */
static json_t *
posts_public(const struct access *a, json_t *row, unsigned int fields)
{
	json_t	*out = json_object(), *v;
	int	 f, can = posts_row_access(a, row);

	for (f = 0; f < PF__MAX; f++) {
		if (!(fields & PF_BIT(f)))
			continue;
		if (f == PF_ACCESS) {
			json_object_set_new(out, "access", json_boolean(can));
			continue;
		}
		if (f == PF_BODY_HTML && !can)
			continue;
		v = json_object_get(row, field_names[f]);
		if (v == NULL && (f == PF_TAGS || f == PF_AUTHORS))
			json_object_set_new(out, field_names[f], json_array());
		else
			json_object_set(out, field_names[f], v != NULL ? v :
			    json_null());
	}
	return out;
}

/*
 * One page of the public list as {"items": [...], "next_cursor": ...};
 * tag and author, when not NULL, override the query string's.  *doc is
 * NULL with JAMB_OK when resp holds a 400.
 */
static enum jamb_status
posts_page(struct req *req, struct resp *resp, const struct access *a,
    const char *tag, const char *author, json_t **doc)
{
	struct db_conn		*db = db_replica(req->app->db);
	struct posts_query	 q;
	json_t			*rows = NULL, *items, *row, *last;
	char			*next = NULL;
	size_t			 i;
	enum jamb_status	 st;

	*doc = NULL;
	if (!posts_query_parse(req, resp, &q))
		return JAMB_OK;
	if (tag != NULL)
		q.tag = tag;
	if (author != NULL)
		q.author = author;

	/* One row more than asked says whether another page follows. */
	st = db_query_json(db, &rows, (q.fields & PF_BIT(PF_BODY_HTML)) ?
	    "SELECT " POSTS_COLUMNS ", p.body_html" POSTS_LIST_WHERE :
	    "SELECT " POSTS_COLUMNS POSTS_LIST_WHERE, POSTS_LIST_TYPES,
	    q.after, q.before, q.cursor_at, q.cursor_at, q.cursor_id,
	    q.visibility, q.visibility, q.tag, q.tag, q.author, q.author,
	    q.limit + 1);
	if (st != JAMB_OK)
		goto fail;
	if ((int64_t)json_array_size(rows) > q.limit) {
		json_array_remove(rows, (size_t)q.limit);
		last = json_array_get(rows, (size_t)q.limit - 1);
		next = posts_cursor_encode(json_string_value(json_object_get(
		    last, "cursor_at")), json_integer_value(json_object_get(
		    last, "id")));
	}
	if ((st = posts_decorate(db, rows)) != JAMB_OK)
		goto fail;

	items = json_array();
	json_array_foreach(rows, i, row)
		json_array_append_new(items, posts_public(a, row, q.fields));
	resp_tag(resp, "posts");
	posts_tag_rows(resp, rows);
	*doc = json_pack("{s:o, s:s?}", "items", items, "next_cursor", next);
	json_decref(rows);
	free(next);
	return JAMB_OK;
fail:
	log_warn(req->id, "posts not listed: %s", db_error(db));
	json_decref(rows);
	free(next);
	return st;
}

static enum jamb_status
posts_list_run(struct req *req, struct resp *resp)
{
	struct access	 a;
	json_t		*doc;
	enum jamb_status st;

	if ((st = posts_reader(req, &a)) != JAMB_OK)
		return st;
	st = posts_page(req, resp, &a, NULL, NULL, &doc);
	if (st == JAMB_OK && doc != NULL)
		resp_json(resp, 200, doc);
	return st;
}

static enum jamb_status
posts_list(struct req *req, struct resp *resp)
{
	enum jamb_status st = posts_list_run(req, resp);

	posts_cache_headers(resp);
	return st;
}

static void
posts_not_found(struct resp *resp, const struct req *req, const char *what,
    const char *slug)
{
	resp_problem(resp, req, 404, "not-found", "Not Found", "no %s with "
	    "slug %s", what, slug);
}

/*
 * One published post.  Drafts, scheduled, archived and deleted posts
 * are answered exactly like slugs that never existed.
 */
static enum jamb_status
posts_get_run(struct req *req, struct resp *resp)
{
	struct db_conn	*db = db_replica(req->app->db);
	const char	*slug = req_param(req, "slug");
	struct access	 a;
	json_t		*rows = NULL;
	unsigned int	 fields;
	enum jamb_status st;

	if (!posts_fields(req, resp, PF_ALL, &fields))
		return JAMB_OK;
	if ((st = posts_reader(req, &a)) != JAMB_OK)
		return st;
	st = db_query_json(db, &rows, "SELECT " POSTS_COLUMNS ", p.body_html"
	    " FROM posts p WHERE p.slug = ? AND p.status = 'published' AND"
	    " p.deleted_at IS NULL AND p.published_at IS NOT NULL", "s", slug);
	if (st == JAMB_OK)
		st = posts_decorate(db, rows);
	if (st != JAMB_OK) {
		log_warn(req->id, "post not read: %s", db_error(db));
		goto out;
	}
	if (json_array_size(rows) == 0) {
		posts_not_found(resp, req, "post", slug);
		goto out;
	}
	resp_json(resp, 200, posts_public(&a, json_array_get(rows, 0),
	    fields));
	posts_tag_rows(resp, rows);
out:
	json_decref(rows);
	return st;
}

static enum jamb_status
posts_get(struct req *req, struct resp *resp)
{
	enum jamb_status st = posts_get_run(req, resp);

	posts_cache_headers(resp);
	return st;
}

/* Published, not deleted posts of a tag, whatever their visibility. */
#define TAGS_COUNT \
	"(SELECT COUNT(*) FROM post_tags x JOIN posts p ON p.id = x.post_id" \
	" WHERE x.tag_id = t.id AND p.status = 'published' AND" \
	" p.deleted_at IS NULL) AS count"

/*
 * Every tag with its number of published posts, by name.  A site has
 * tens of tags, not thousands, so this list has no pages.
 */
static enum jamb_status
tags_list_run(struct req *req, struct resp *resp)
{
	struct db_conn	*db = db_replica(req->app->db);
	json_t		*items;
	enum jamb_status st;

	st = db_query_json(db, &items, "SELECT t.slug, t.name, t.description, "
	    TAGS_COUNT " FROM tags t ORDER BY t.name, t.id", "");
	if (st != JAMB_OK) {
		log_warn(req->id, "tags not listed: %s", db_error(db));
		return st;
	}
	resp_json(resp, 200, json_pack("{s:o}", "items", items));
	resp_tag(resp, "tags");
	return JAMB_OK;
}

static enum jamb_status
tags_list(struct req *req, struct resp *resp)
{
	enum jamb_status st = tags_list_run(req, resp);

	posts_cache_headers(resp);
	return st;
}

/*
 * A named thing (a tag, an author) and the first page of its posts, as
 * {"<key>": {...}, "items": [...], "next_cursor": ...}: the same
 * paging as /v1/posts, so ?cursor= continues it.
 */
static enum jamb_status
posts_owner_page(struct req *req, struct resp *resp, const char *key,
    const char *sql, int is_tag)
{
	struct db_conn	*db = db_replica(req->app->db);
	const char	*slug = req_param(req, "slug");
	struct access	 a;
	json_t		*owner = NULL, *doc = NULL;
	char		*tag;
	enum jamb_status st;

	if ((st = posts_reader(req, &a)) != JAMB_OK)
		return st;
	st = db_query_one(db, &owner, sql, "s", slug);
	if (st == JAMB_ENOTFOUND) {
		posts_not_found(resp, req, key, slug);
		return JAMB_OK;
	}
	if (st != JAMB_OK) {
		log_warn(req->id, "%s not read: %s", key, db_error(db));
		return st;
	}
	st = posts_page(req, resp, &a, is_tag ? slug : NULL,
	    is_tag ? NULL : slug, &doc);
	if (st == JAMB_OK && doc != NULL) {
		json_object_set(doc, key, owner);
		resp_json(resp, 200, doc);
		tag = xasprintf("%s:%s", key, slug);
		resp_tag(resp, tag);
		free(tag);
	}
	json_decref(owner);
	return st;
}

static enum jamb_status
tags_get(struct req *req, struct resp *resp)
{
	enum jamb_status st;

	st = posts_owner_page(req, resp, "tag", "SELECT t.slug, t.name, "
	    "t.description, " TAGS_COUNT " FROM tags t WHERE t.slug = ?", 1);
	posts_cache_headers(resp);
	return st;
}

/* Authors are the users with a slug; members have none. */
static enum jamb_status
authors_get(struct req *req, struct resp *resp)
{
	enum jamb_status st;

	st = posts_owner_page(req, resp, "author", "SELECT slug, name, bio "
	    "FROM users WHERE slug = ? AND deleted_at IS NULL", 0);
	posts_cache_headers(resp);
	return st;
}

/* Letters, digits and any byte of a multi-byte UTF-8 character. */
static int
posts_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static void
posts_terms_free(struct posts_terms *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		free(t->w[i]);
	t->n = 0;
}

/* The distinct words of q, ASCII letters in lower case. */
static void
posts_terms_split(const char *q, struct posts_terms *t)
{
	const char	*p = q, *start;
	size_t		 i, n;

	memset(t, 0, sizeof(*t));
	while (*p != '\0' && t->n < SEARCH_TERMS_MAX) {
		if (!posts_word_byte((unsigned char)*p)) {
			p++;
			continue;
		}
		for (start = p; posts_word_byte((unsigned char)*p); p++)
			continue;
		n = (size_t)(p - start);
		for (i = 0; i < t->n; i++)
			if (t->len[i] == n && strncasecmp(t->w[i], start,
			    n) == 0)
				break;
		if (i < t->n)
			continue;
		t->w[t->n] = xstrndup(start, n);
		for (i = 0; i < n; i++)
			t->w[t->n][i] = (char)tolower((unsigned char)
			    t->w[t->n][i]);
		t->len[t->n++] = n;
	}
}

/*
 * The length of the word starting at s[at] when it is one of the
 * terms, else 0.  Words are compared whole, ASCII case-insensitively.
 */
static size_t
posts_term_at(const char *s, size_t len, size_t at,
    const struct posts_terms *t)
{
	size_t	 end, i;

	if (!posts_word_byte((unsigned char)s[at]) ||
	    (at > 0 && posts_word_byte((unsigned char)s[at - 1])))
		return 0;
	for (end = at; end < len && posts_word_byte((unsigned char)s[end]);
	    end++)
		continue;
	for (i = 0; i < t->n; i++)
		if (t->len[i] == end - at && strncasecmp(s + at, t->w[i],
		    t->len[i]) == 0)
			return end - at;
	return 0;
}

static void
posts_escape(struct buf *b, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_addc(b, s[i]);
			break;
		}
}

/*
 * Plain text of rendered HTML for snippets: tags become spaces, the
 * entities libcmark writes are decoded, runs of white space become one
 * space.  The result is escaped again when it is marked up.
 */
static void
posts_html_text(const char *html, struct buf *out)
{
	static const char *const ents[][2] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&#39;", "'" }, { "&#x27;", "'" },
	};
	const char	*p = html, *add;
	size_t		 i, n;

	while (*p != '\0') {
		add = NULL;
		n = 1;
		if (*p == '<') {
			while (*p != '\0' && *p != '>')
				p++;
			add = " ";
			n = *p == '>' ? 1 : 0;
		} else if (*p == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
				if (strncmp(p, ents[i][0],
				    strlen(ents[i][0])) == 0) {
					add = ents[i][1];
					n = strlen(ents[i][0]);
					break;
				}
		}
		if (add == NULL && isspace((unsigned char)*p))
			add = " ";
		if (add == NULL)
			buf_addc(out, *p);
		else if (*add != ' ' || (out->len > 0 &&
		    out->data[out->len - 1] != ' '))
			buf_adds(out, add);
		p += n;
	}
}

/*
 * A snippet of text around its first term: at most SNIPPET_LEN bytes
 * cut at word boundaries, "…" where text was cut, every term wrapped in
 * <mark></mark> and everything else HTML-escaped.
 */
static char *
posts_snippet(const char *s, size_t len, const struct posts_terms *t)
{
	struct buf	 b;
	size_t		 at = 0, start, end, i, w;

	for (at = 0; at < len && posts_term_at(s, len, at, t) == 0; at++)
		continue;
	if (at == len)
		at = 0;
	start = at > SNIPPET_BEFORE ? at - SNIPPET_BEFORE : 0;
	while (start > 0 && start < at && posts_word_byte((unsigned char)
	    s[start - 1]))
		start++;
	end = start + SNIPPET_LEN;
	if (end >= len)
		end = len;
	else {
		while (end > at && posts_word_byte((unsigned char)s[end]))
			end--;
		/* Never cut inside a UTF-8 character. */
		while (end > start && ((unsigned char)s[end] & 0xc0) == 0x80)
			end--;
	}

	buf_init(&b);
	if (start > 0)
		buf_adds(&b, "… ");
	for (i = start; i < end; i++) {
		w = posts_term_at(s, len, i, t);
		if (w > 0 && i + w <= end) {
			buf_adds(&b, "<mark>");
			posts_escape(&b, s + i, w);
			buf_adds(&b, "</mark>");
			i += w - 1;
		} else
			posts_escape(&b, s + i, 1);
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	if (end < len)
		buf_adds(&b, " …");
	return b.data;
}

/* Whether any term occurs in text. */
static int
posts_has_term(const char *s, size_t len, const struct posts_terms *t)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (posts_term_at(s, len, i, t) > 0)
			return 1;
	return 0;
}

/* How many of the terms occur in s. */
static size_t
posts_terms_in(const char *s, const struct posts_terms *t)
{
	struct posts_terms	 one;
	size_t			 i, n = 0;

	memset(&one, 0, sizeof(one));
	one.n = 1;
	for (i = 0; i < t->n; i++) {
		one.w[0] = t->w[i];
		one.len[0] = t->len[i];
		n += posts_has_term(s, strlen(s), &one);
	}
	return n;
}

/*
 * The snippet of one hit.  The body is used only when the reader may
 * read it (and it holds a term); otherwise title and excerpt alone, so
 * that gated text never reaches a reader who has no access.
 */
static char *
posts_hit_snippet(json_t *row, int can, const struct posts_terms *t)
{
	const char	*html = json_string_value(json_object_get(row,
	    "body_html"));
	struct buf	 text;
	char		*snip;

	buf_init(&text);
	if (can && html != NULL) {
		posts_html_text(html, &text);
		if (!posts_has_term(text.data, text.len, t))
			buf_reset(&text);
	}
	if (text.len == 0) {
		buf_adds(&text, json_string_value(json_object_get(row,
		    "title")));
		buf_adds(&text, " — ");
		buf_adds(&text, json_string_value(json_object_get(row,
		    "excerpt")));
	}
	snip = posts_snippet(text.data, text.len, t);
	buf_free(&text);
	return snip;
}

struct posts_hit {
	json_t	*row;
	double	 rank;
	size_t	 order;
};

static int
posts_hit_cmp(const void *a, const void *b)
{
	const struct posts_hit	*x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * MySQL's score weighs every column of the index alike; a term in the
 * title says more about a post than one deep in its body, so a hit's
 * rank grows with the share of the terms its title holds.
 */
static struct posts_hit *
posts_rank(json_t *rows, const struct posts_terms *t)
{
	struct posts_hit	*hits;
	json_t			*row;
	size_t			 i, n = json_array_size(rows);
	double			 score, share;

	hits = xcalloc(n + 1, sizeof(*hits));
	json_array_foreach(rows, i, row) {
		score = json_number_value(json_object_get(row, "score"));
		share = t->n > 0 ? (double)posts_terms_in(json_string_value(
		    json_object_get(row, "title")), t) / (double)t->n : 0;
		hits[i].row = row;
		hits[i].rank = score * (1.0 + share);
		hits[i].order = i;
	}
	qsort(hits, n, sizeof(*hits), posts_hit_cmp);
	return hits;
}

/* q: 1 to SEARCH_Q_MAX characters; 0 when resp holds the refusal. */
static int
posts_search_params(struct req *req, struct resp *resp, const char **q,
    int64_t *limit)
{
	const char	*s;
	size_t		 i, chars = 0;

	*q = req_query(req, "q");
	for (i = 0; *q != NULL && (*q)[i] != '\0'; i++)
		if (((unsigned char)(*q)[i] & 0xc0) != 0x80)
			chars++;
	if (*q == NULL || chars == 0 || chars > SEARCH_Q_MAX) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "q must be 1 to %d characters of search text",
		    SEARCH_Q_MAX);
		return 0;
	}
	*limit = SEARCH_LIMIT_DEFAULT;
	s = req_query(req, "limit");
	if (s != NULL && !str_to_count(s, SEARCH_LIMIT_MAX, limit)) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "limit must be a whole number from 1 to %d",
		    SEARCH_LIMIT_MAX);
		return 0;
	}
	return 1;
}

/* The bodies of the kept hits the reader may read, as member body_html. */
static enum jamb_status
posts_hit_bodies(struct db_conn *db, json_t *kept, const struct access *a)
{
	json_t		*readable = json_array(), *row, *bodies, *b;
	char		*ids;
	size_t		 i;
	enum jamb_status st = JAMB_OK;

	json_array_foreach(kept, i, row)
		if (posts_row_access(a, row))
			json_array_append(readable, row);
	if (json_array_size(readable) > 0) {
		ids = posts_ids_json(readable);
		st = db_query_json(db, &bodies, "SELECT id, body_html FROM "
		    "posts WHERE id" POSTS_IDS_IN, "s", ids);
		free(ids);
		json_array_foreach(st == JAMB_OK ? bodies : NULL, i, b)
			if ((row = posts_row_by_id(readable,
			    json_integer_value(json_object_get(b, "id")))) !=
			    NULL)
				json_object_set(row, "body_html",
				    json_object_get(b, "body_html"));
		if (st == JAMB_OK)
			json_decref(bodies);
	}
	json_decref(readable);
	return st;
}

/* The public form of one search hit. */
static json_t *
posts_hit_public(const struct access *a, json_t *row,
    const struct posts_terms *t)
{
	int	 can = posts_row_access(a, row);
	char	*snip = posts_hit_snippet(row, can, t);
	json_t	*out;

	out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:b, s:s}",
	    "id", json_object_get(row, "id"),
	    "slug", json_object_get(row, "slug"),
	    "title", json_object_get(row, "title"),
	    "excerpt", json_object_get(row, "excerpt"),
	    "published_at", json_object_get(row, "published_at"),
	    "visibility", json_object_get(row, "visibility"),
	    "access", can, "snippet", snip);
	free(snip);
	return out;
}

#define SEARCH_MATCH \
	"MATCH (p.title, p.excerpt, p.body_md) AGAINST (? IN NATURAL " \
	"LANGUAGE MODE)"

/*
 * Full-text search of published posts, most relevant first.  Bodies are
 * read only for the hits the reader may read, after ranking.
 */
static enum jamb_status
posts_search_run(struct req *req, struct resp *resp)
{
	struct db_conn		*db = db_replica(req->app->db);
	struct posts_terms	 t;
	struct posts_hit	*hits = NULL;
	struct access		 a;
	const char		*q;
	json_t			*rows = NULL, *kept = NULL, *items, *row;
	int64_t			 limit;
	size_t			 i;
	enum jamb_status	 st;

	memset(&t, 0, sizeof(t));
	if (!posts_search_params(req, resp, &q, &limit))
		return JAMB_OK;
	if ((st = posts_reader(req, &a)) != JAMB_OK)
		return st;
	/*
	 * The inner query has no ORDER BY on purpose: with MATCH in WHERE,
	 * InnoDB hands rows back most relevant first and stops at the
	 * LIMIT.  Ordering there instead copies every match into a
	 * temporary table and sorts it: a word found in 700,000 of a
	 * million posts took 15 s that way, and takes under 1 s this way.
	 * The outer ORDER BY only makes ties come out in a stable order.
	 */
	st = db_query_json(db, &rows, "SELECT * FROM (SELECT p.id, p.slug, "
	    "p.title, p.excerpt, p.published_at, p.visibility, " SEARCH_MATCH
	    " AS score FROM posts p WHERE " SEARCH_MATCH " AND p.status = "
	    "'published' AND p.deleted_at IS NULL LIMIT ?) c ORDER BY "
	    "score DESC, published_at DESC, id DESC", "ssi", q, q,
	    (int64_t)SEARCH_CANDIDATES);
	if (st != JAMB_OK)
		goto fail;

	posts_terms_split(q, &t);
	hits = posts_rank(rows, &t);
	kept = json_array();
	for (i = 0; i < json_array_size(rows) && (int64_t)i < limit; i++)
		json_array_append(kept, hits[i].row);
	if ((st = posts_decorate(db, kept)) != JAMB_OK ||
	    (st = posts_hit_bodies(db, kept, &a)) != JAMB_OK)
		goto fail;

	items = json_array();
	json_array_foreach(kept, i, row)
		json_array_append_new(items, posts_hit_public(&a, row, &t));
	resp_json(resp, 200, json_pack("{s:o}", "items", items));
	resp_tag(resp, "posts");
	posts_tag_rows(resp, kept);
	goto out;
fail:
	log_warn(req->id, "search failed: %s", db_error(db));
out:
	posts_terms_free(&t);
	free(hits);
	json_decref(kept);
	json_decref(rows);
	return st;
}

static enum jamb_status
posts_search(struct req *req, struct resp *resp)
{
	enum jamb_status st = posts_search_run(req, resp);

	posts_cache_headers(resp);
	return st;
}

/*
 * The answers kept in the response cache (app/respcache.c), with the
 * query parameters each depends on, by name; any other parameter is
 * ignored by the handler and left out of the key.  Every answer shows
 * posts; tag pages and the tag list also show tag names and counts.
 */
const struct respcache_route posts_respcache[] = {
	{ "/v1/posts", "author,cursor,fields,limit,published_after,"
	    "published_before,tag,visibility", "posts" },
	{ "/v1/posts/{slug}", "fields", "posts" },
	{ "/v1/tags", "", "posts tags" },
	{ "/v1/tags/{slug}", "author,cursor,fields,limit,published_after,"
	    "published_before,tag,visibility", "posts tags" },
	{ "/v1/authors/{slug}", "author,cursor,fields,limit,published_after,"
	    "published_before,tag,visibility", "posts" },
	{ "/v1/search", "limit,q", "posts" },
	{ NULL, NULL, NULL }
};

const struct route posts_routes[] = {
	{ "GET", "/v1/posts", posts_list, ROUTE_PUBLIC },
	{ "GET", "/v1/posts/{slug}", posts_get, ROUTE_PUBLIC },
	{ "GET", "/v1/tags", tags_list, ROUTE_PUBLIC },
	{ "GET", "/v1/tags/{slug}", tags_get, ROUTE_PUBLIC },
	{ "GET", "/v1/authors/{slug}", authors_get, ROUTE_PUBLIC },
	{ "GET", "/v1/search", posts_search, ROUTE_PUBLIC },
	{ NULL, NULL, NULL, 0 }
};
