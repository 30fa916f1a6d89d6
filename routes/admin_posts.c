#include "config.h"

#include <stdarg.h>
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
#include "markdown.h"
#include "respcache.h"
#include "routes.h"
#include "slug.h"

/*
 * The editorial side of posts under /v1/admin/posts: drafts written and
 * revised by authors and editors, with every saved change of the text
 * kept as a revision, and the workflow that takes a post from draft to
 * published.  Authors may work on the posts they are an author of;
 * editors and above on every post.
 *
 * Two editors cannot overwrite each other: an update names the version
 * it started from (If-Match: "v<version>" or a "version" member), and
 * the UPDATE only matches that version.  Slugs are fixed when a post is
 * created (a later title change keeps the URL) unless an update names a
 * new one.
 */

#define POSTS_TITLE_MAX		500	/* characters, posts.title */
#define POSTS_EXCERPT_MAX	65535	/* bytes, TEXT */
#define POSTS_LINKS_MAX		50	/* tags or tiers of one post */
#define POSTS_LIMIT_DEFAULT	20
#define POSTS_LIMIT_MAX		100
#define POSTS_SEO		4
#define POSTS_SLUG_TRIES	8	/* creations racing for one slug */

#define POSTS_COLUMNS \
	"id, slug, title, excerpt, body_md AS body, body_html, status, " \
	"visibility, meta_title, meta_description, canonical_url, " \
	"social_image, published_at, scheduled_at, created_by, created_at, " \
	"updated_at, deleted_at, version"

#define POSTS_LIST_COLUMNS \
	"p.id, p.slug, p.title, p.excerpt, p.status, p.visibility, " \
	"p.published_at, p.scheduled_at, p.created_by, p.created_at, " \
	"p.updated_at, p.deleted_at, p.version"

static const char *const seo_fields[POSTS_SEO] = {
	"meta_title", "meta_description", "canonical_url", "social_image"
};
static const size_t seo_max[POSTS_SEO] = { 300, 500, 2048, 2048 };

enum post_status {
	POST_DRAFT,
	POST_REVIEW,
	POST_SCHEDULED,
	POST_PUBLISHED,
	POST_ARCHIVED,
	POST__MAX
};

static const char *const post_statuses[POST__MAX] = {
	"draft", "review", "scheduled", "published", "archived"
};

static const char *const visibilities[] = {
	"public", "members", "paid", "tiers", NULL
};

/* The members of a body; a creation takes all but version. */
static const char *const patch_fields[] = {
	"title", "excerpt", "body", "slug", "tags", "visibility", "tiers",
	"meta_title", "meta_description", "canonical_url", "social_image",
	"version", NULL
};

/* The editable fields of a request body; NULL where absent. */
struct posts_input {
	const char	*title;
	const char	*excerpt;
	const char	*body;
	const char	*slug;
	const char	*visibility;
	json_t		*tags;
	json_t		*tiers;
	const char	*seo[POSTS_SEO];	/* NULL with seo_set: clear */
	int		 seo_set[POSTS_SEO];
	int64_t		 version;		/* 0 when absent */
};

/* One save (create, update, restore of a revision) in its transaction. */
struct posts_save {
	struct req			*req;
	const struct posts_input	*in;
	int64_t				 id;
	int64_t				 expect;	/* 0: any */
	int64_t				 rev;	/* a restored revision */
	char				*html;
	char				*slug;
	/* Why the transaction refused, for the answer. */
	int64_t				 current;	/* when stale */
	const char			*field;
	char				 why[256];
};

/* A problem with an optional "field" member naming what is at fault. */
static void
posts_problem(struct resp *resp, const struct req *req, int status,
    const char *field, const char *fmt, ...)
{
	char		 detail[512];
	const char	*type, *title;
	json_t		*doc;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (status == 422) {
		type = "invalid-body";
		title = "Unprocessable Content";
	} else {
		type = status == 409 ? "conflict" : "forbidden";
		title = http_reason(status);
	}
	doc = resp_problem_doc(req, status, type, title, detail);
	if (field != NULL)
		json_object_set_new(doc, "field", log_string(field));
	resp_problem_send(resp, doc);
}

static size_t
utf8_chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * An optional text member of at most max characters: 1 with *out set
 * (NULL when absent, and for null when nullable, with *set telling the
 * two apart), 0 with a 422 in resp.
 */
static int
posts_text(struct req *req, struct resp *resp, const char *name,
    size_t max, int nullable, const char **out, int *set)
{
	json_t	*v = json_object_get(req->json, name);

	*out = NULL;
	if (set != NULL)
		*set = v != NULL;
	if (v == NULL || (nullable && json_is_null(v)))
		return 1;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		posts_problem(resp, req, 422, name, "%s must be text%s", name,
		    nullable ? " or null" : "");
		return 0;
	}
	if (utf8_chars(json_string_value(v)) > max) {
		posts_problem(resp, req, 422, name, "%s must be at most %zu "
		    "characters long", name, max);
		return 0;
	}
	*out = json_string_value(v);
	return 1;
}

/* An optional array of distinct slugs; 0 with a 422 in resp if not. */
static int
posts_slugs(struct req *req, struct resp *resp, const char *name,
    json_t **out)
{
	json_t	*v = json_object_get(req->json, name), *e;
	size_t	 i, j;

	*out = v;
	if (v == NULL)
		return 1;
	if (!json_is_array(v) || json_array_size(v) > POSTS_LINKS_MAX) {
		posts_problem(resp, req, 422, name, "%s must be an array of at "
		    "most %d slugs", name, POSTS_LINKS_MAX);
		return 0;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || !slug_valid(json_string_value(e))) {
			posts_problem(resp, req, 422, name, "%s must hold "
			    "slugs: lower-case letters and digits with "
			    "single dashes between words", name);
			return 0;
		}
		for (j = 0; j < i; j++)
			if (json_equal(e, json_array_get(v, j))) {
				posts_problem(resp, req, 422, name, "%s names "
				    "\"%s\" twice", name,
				    json_string_value(e));
				return 0;
			}
	}
	return 1;
}

static int
posts_url_ok(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/*
 * Checks a body of post fields (fields: the members allowed) into in;
 * creating asks for a title and a body.  0 when resp holds the 422.
 */
static int
posts_input(struct req *req, struct resp *resp, const char *const *fields,
    int creating, struct posts_input *in)
{
	json_t	*v;
	size_t	 i;

	memset(in, 0, sizeof(*in));
	if (!auth_body_check(req, resp, fields))
		return 0;
	if (creating && json_object_get(req->json, "version") != NULL) {
		posts_problem(resp, req, 422, "version", "unknown field "
		    "\"version\": a new post has none yet");
		return 0;
	}
	if (creating && json_object_get(req->json, "title") == NULL) {
		posts_problem(resp, req, 422, "title", "title is required");
		return 0;
	}
	if (creating && json_object_get(req->json, "body") == NULL) {
		posts_problem(resp, req, 422, "body", "body is required");
		return 0;
	}
	if (!posts_text(req, resp, "title", POSTS_TITLE_MAX, 0, &in->title,
	    NULL) || !posts_text(req, resp, "excerpt", POSTS_EXCERPT_MAX, 0,
	    &in->excerpt, NULL) || !posts_text(req, resp, "body", SIZE_MAX, 0,
	    &in->body, NULL) || !posts_text(req, resp, "slug", SLUG_MAX, 0,
	    &in->slug, NULL) || !posts_text(req, resp, "visibility", 16, 0,
	    &in->visibility, NULL))
		return 0;
	if (in->title != NULL && in->title[strspn(in->title, " \t\r\n")] ==
	    '\0') {
		posts_problem(resp, req, 422, "title", "title must not be "
		    "blank");
		return 0;
	}
	if (in->slug != NULL && !slug_valid(in->slug)) {
		posts_problem(resp, req, 422, "slug", "slug must be lower-case "
		    "letters and digits with single dashes between words, at "
		    "most %d bytes", SLUG_MAX);
		return 0;
	}
	if (in->visibility != NULL) {
		for (i = 0; visibilities[i] != NULL; i++)
			if (strcmp(visibilities[i], in->visibility) == 0)
				break;
		if (visibilities[i] == NULL) {
			posts_problem(resp, req, 422, "visibility",
			    "visibility must be public, members, paid or "
			    "tiers");
			return 0;
		}
	}
	if (!posts_slugs(req, resp, "tags", &in->tags) ||
	    !posts_slugs(req, resp, "tiers", &in->tiers))
		return 0;

	for (i = 0; i < POSTS_SEO; i++) {
		if (!posts_text(req, resp, seo_fields[i], seo_max[i], 1,
		    &in->seo[i], &in->seo_set[i]))
			return 0;
		if (i >= 2 && in->seo[i] != NULL && !posts_url_ok(in->seo[i])) {
			posts_problem(resp, req, 422, seo_fields[i], "%s must "
			    "be an http or https URL", seo_fields[i]);
			return 0;
		}
	}

	v = json_object_get(req->json, "version");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1)) {
		posts_problem(resp, req, 422, "version", "version must be a "
		    "whole number from 1");
		return 0;
	}
	in->version = v != NULL ? json_integer_value(v) : 0;
	return 1;
}

static int
posts_status_of(const char *s)
{
	int	 i;

	for (i = 0; i < POST__MAX; i++)
		if (strcmp(post_statuses[i], s) == 0)
			return i;
	return -1;
}

/*
 * The one rule of who may work on a post: editors and above on any,
 * anyone else only on posts they are an author of.  *allowed says it.
 */
enum jamb_status
posts_may_edit(struct req *req, int64_t id, int *allowed)
{
	int64_t		 n = 0;
	enum jamb_status st;

	*allowed = req->who.role >= ROLE_EDITOR;
	if (*allowed)
		return JAMB_OK;
	st = db_query_int(req->app->db, &n, "SELECT COUNT(*) FROM "
	    "post_authors WHERE post_id = ? AND user_id = ?", "ii", id,
	    req->who.user_id);
	*allowed = st == JAMB_OK && n > 0;
	return st;
}

/*
 * The post of the path, for this caller.  JAMB_OK with *refused = 0 and
 * *id set when the caller may work on it; *refused = 1 when resp holds
 * the 404 (no such post) or 403 (an author's request for a post they
 * are not an author of).  Other statuses are database failures.
 */
static enum jamb_status
posts_target(struct req *req, struct resp *resp, int64_t *id, int *refused)
{
	struct db_conn	*db = req->app->db;
	const char	*s = req_param(req, "id");
	int64_t		 n;
	enum jamb_status st;
	int		 allowed;

	*refused = 1;
	if (!str_to_count(s, INT64_MAX, id)) {
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "no post with id %s", s);
		return JAMB_OK;
	}
	st = db_query_int(db, &n, "SELECT COUNT(*) FROM posts WHERE id = ?",
	    "i", *id);
	if (st != JAMB_OK)
		return st;
	if (n == 0) {
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "no post with id %lld", (long long)*id);
		return JAMB_OK;
	}
	if ((st = posts_may_edit(req, *id, &allowed)) != JAMB_OK)
		return st;
	if (!allowed) {
		posts_problem(resp, req, 403, NULL, "an author may only work "
		    "on posts they are an author of");
		return JAMB_OK;
	}
	*refused = 0;
	return JAMB_OK;
}

/* Replaces each object of rows by its one member's value. */
static json_t *
posts_column(json_t *rows, const char *name)
{
	json_t	*out = json_array(), *row;
	size_t	 i;

	json_array_foreach(rows, i, row)
		json_array_append(out, json_object_get(row, name));
	json_decref(rows);
	return out;
}

/* The whole post as the admin routes show it, with its links. */
static enum jamb_status
posts_load(struct db_conn *db, int64_t id, json_t **out)
{
	json_t		*doc = NULL, *rows;
	enum jamb_status st;

	*out = NULL;
	st = db_query_one(db, &doc, "SELECT " POSTS_COLUMNS " FROM posts "
	    "WHERE id = ?", "i", id);
	if (st != JAMB_OK)
		return st;
	st = db_query_json(db, &rows, "SELECT t.slug FROM post_tags pt "
	    "JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = ? "
	    "ORDER BY t.slug", "i", id);
	if (st != JAMB_OK)
		goto fail;
	json_object_set_new(doc, "tags", posts_column(rows, "slug"));
	st = db_query_json(db, &rows, "SELECT t.slug FROM post_tiers pt "
	    "JOIN tiers t ON t.id = pt.tier_id WHERE pt.post_id = ? "
	    "ORDER BY t.slug", "i", id);
	if (st != JAMB_OK)
		goto fail;
	json_object_set_new(doc, "tiers", posts_column(rows, "slug"));
	st = db_query_json(db, &rows, "SELECT u.id, u.name, u.slug FROM "
	    "post_authors a JOIN users u ON u.id = a.user_id WHERE "
	    "a.post_id = ? ORDER BY a.position, u.id", "i", id);
	if (st != JAMB_OK)
		goto fail;
	json_object_set_new(doc, "authors", rows);
	*out = doc;
	return JAMB_OK;
fail:
	json_decref(doc);
	return st;
}

/* Answers the post with its version as the ETag. */
static enum jamb_status
posts_send(struct req *req, struct resp *resp, int status, int64_t id)
{
	struct db_conn	*db = req->app->db;
	json_t		*doc;
	char		 etag[32];
	enum jamb_status st;

	if ((st = posts_load(db, id, &doc)) != JAMB_OK) {
		log_warn(req->id, "post %lld not read: %s", (long long)id,
		    db_error(db));
		return st;
	}
	snprintf(etag, sizeof(etag), "\"v%" JSON_INTEGER_FORMAT "\"",
	    json_integer_value(json_object_get(doc, "version")));
	resp_json(resp, status, doc);
	resp_header(resp, "ETag", etag);
	resp_header(resp, "Cache-Control", "private, no-store");
	return JAMB_OK;
}

/* Links and revisions */

/* Replaces the post's tags; unknown tags are created, named as slugs. */
static enum jamb_status
posts_set_tags(struct db_conn *db, int64_t id, json_t *tags)
{
	json_t		*e;
	const char	*slug;
	size_t		 i;
	enum jamb_status st;

	st = db_exec(db, "DELETE FROM post_tags WHERE post_id = ?", "i", id);
	json_array_foreach(tags, i, e) {
		if (st != JAMB_OK)
			break;
		slug = json_string_value(e);
		st = db_exec(db, "INSERT INTO tags (slug, name) VALUES (?, ?) "
		    "ON DUPLICATE KEY UPDATE id = id", "ss", slug, slug);
		if (st == JAMB_OK)
			st = db_exec(db, "INSERT INTO post_tags (post_id, "
			    "tag_id) SELECT ?, id FROM tags WHERE slug = ?",
			    "is", id, slug);
	}
	return st;
}

/*
 * The tiers of a post with visibility "tiers": replaced when the body
 * names them, and required; for other visibilities none are kept.
 * JAMB_EINVAL with s->field and s->why for the 422.
 */
static enum jamb_status
posts_set_tiers(struct db_conn *db, struct posts_save *s)
{
	json_t		*tiers = s->in->tiers, *e, *row = NULL;
	size_t		 i;
	int64_t		 n;
	int		 want;
	enum jamb_status st;

	st = db_query_one(db, &row, "SELECT visibility = 'tiers' AS t FROM "
	    "posts WHERE id = ?", "i", s->id);
	if (st != JAMB_OK)
		return st;
	want = json_is_true(json_object_get(row, "t")) ||
	    json_integer_value(json_object_get(row, "t")) == 1;
	json_decref(row);
	s->field = "tiers";
	if (!want) {
		if (tiers != NULL && json_array_size(tiers) > 0) {
			snprintf(s->why, sizeof(s->why), "tiers apply only "
			    "to posts with visibility tiers");
			return JAMB_EINVAL;
		}
		return db_exec(db, "DELETE FROM post_tiers WHERE post_id = ?",
		    "i", s->id);
	}
	if (tiers != NULL) {
		st = db_exec(db, "DELETE FROM post_tiers WHERE post_id = ?",
		    "i", s->id);
		json_array_foreach(tiers, i, e) {
			if (st != JAMB_OK)
				return st;
			st = db_exec(db, "INSERT INTO post_tiers (post_id, "
			    "tier_id) SELECT ?, id FROM tiers WHERE slug = ?",
			    "is", s->id, json_string_value(e));
			if (st == JAMB_OK && db_affected(db) == 0) {
				snprintf(s->why, sizeof(s->why), "no tier "
				    "with slug \"%.64s\"",
				    json_string_value(e));
				return JAMB_EINVAL;
			}
		}
		if (st != JAMB_OK)
			return st;
	}
	st = db_query_int(db, &n, "SELECT COUNT(*) FROM post_tiers WHERE "
	    "post_id = ?", "i", s->id);
	if (st == JAMB_OK && n == 0) {
		snprintf(s->why, sizeof(s->why), "visibility tiers needs "
		    "tiers: the slugs of the tiers whose members may read it");
		return JAMB_EINVAL;
	}
	return st;
}

/*
 * Records the post's current text as a revision of its current version,
 * then keeps only the newest [content] revisions_keep of the post.
 */
static enum jamb_status
posts_revision(struct db_conn *db, struct posts_save *s)
{
	long		 keep = s->req->app->conf->content_revisions_keep;
	int64_t		 cutoff;
	enum jamb_status st;

	st = db_exec(db, "INSERT INTO post_revisions (post_id, post_version, "
	    "author_id, title, excerpt, body_md, seo) SELECT id, version, "
	    "NULLIF(?, 0), title, excerpt, body_md, JSON_OBJECT('meta_title', "
	    "meta_title, 'meta_description', meta_description, "
	    "'canonical_url', canonical_url, 'social_image', social_image) "
	    "FROM posts WHERE id = ?", "ii", s->req->who.user_id, s->id);
	if (st != JAMB_OK || keep == 0)
		return st;
	st = db_query_int(db, &cutoff, "SELECT id FROM post_revisions WHERE "
	    "post_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?", "ii", s->id,
	    (int64_t)keep - 1);
	if (st == JAMB_ENOTFOUND)
		return JAMB_OK;
	if (st != JAMB_OK)
		return st;
	return db_exec(db, "DELETE FROM post_revisions WHERE post_id = ? AND "
	    "id < ?", "ii", s->id, cutoff);
}

/* Create */

/*
 * The slug of a new post: the editor's, which must be free, or one made
 * from the title with -2, -3 ... appended until it is free.  Deleted
 * posts keep theirs, so that restoring one brings its URL back.
 */
static enum jamb_status
posts_pick_slug(struct db_conn *db, struct posts_save *s)
{
	char		*base;
	unsigned int	 n;
	int64_t		 used;
	enum jamb_status st;

	free(s->slug);
	base = s->in->slug != NULL ? xstrdup(s->in->slug) :
	    slug_from_title(s->in->title);
	s->slug = xstrdup(base);
	for (n = 2; ; n++) {
		st = db_query_int(db, &used, "SELECT COUNT(*) FROM posts "
		    "WHERE slug = ?", "s", s->slug);
		if (st != JAMB_OK || used == 0)
			break;
		if (s->in->slug != NULL) {
			s->field = "slug";
			snprintf(s->why, sizeof(s->why), "another post has "
			    "the slug \"%.200s\"", s->slug);
			st = JAMB_ECONFLICT;
			break;
		}
		free(s->slug);
		s->slug = slug_suffixed(base, n);
	}
	free(base);
	return st;
}

static enum jamb_status
posts_create_tx(struct db_conn *db, void *arg)
{
	struct posts_save		*s = arg;
	const struct posts_input	*in = s->in;
	int64_t				 user = s->req->who.user_id;
	enum jamb_status		 st;

	if ((st = posts_pick_slug(db, s)) != JAMB_OK)
		return st;
	st = db_exec(db, "INSERT INTO posts (slug, title, excerpt, body_md, "
	    "body_html, visibility, meta_title, meta_description, "
	    "canonical_url, social_image, created_by) VALUES (?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, NULLIF(?, 0))", "ssssssssssi", s->slug, in->title,
	    in->excerpt != NULL ? in->excerpt : "", in->body, s->html,
	    in->visibility != NULL ? in->visibility : "public", in->seo[0],
	    in->seo[1], in->seo[2], in->seo[3], user);
	if (st != JAMB_OK)
		return st;
	s->id = (int64_t)db_insert_id(db);

	/* An API key stands for no person: its posts start authorless. */
	if (user != 0 && (st = db_exec(db, "INSERT INTO post_authors "
	    "(post_id, user_id, position) VALUES (?, ?, 0)", "ii", s->id,
	    user)) != JAMB_OK)
		return st;
	if (in->tags != NULL &&
	    (st = posts_set_tags(db, s->id, in->tags)) != JAMB_OK)
		return st;
	if ((st = posts_set_tiers(db, s)) != JAMB_OK)
		return st;
	if ((st = posts_revision(db, s)) != JAMB_OK)
		return st;
	return audit_write(db, s->req, "post.create", "post", s->id,
	    json_pack("{s:s}", "slug", s->slug));
}

/* The 412 problem of a stale version, naming the current one. */
static json_t *
posts_stale(const struct req *req, int64_t current)
{
	json_t	*doc;

	doc = resp_problem_doc(req, 412, "precondition-failed",
	    "Precondition Failed", "the post has changed since the version "
	    "named; read it again and reapply the change");
	json_object_set_new(doc, "current_version", json_integer(current));
	return doc;
}

/*
 * Answers the refusal a save's transaction gave (st), or returns st for
 * the caller to fail with.  A stale version is 412 with the current one.
 */
static enum jamb_status
posts_refused(struct req *req, struct resp *resp, struct posts_save *s,
    enum jamb_status st)
{
	if (st == JAMB_EINVAL && s->field != NULL) {
		posts_problem(resp, req, 422, s->field, "%s", s->why);
		return JAMB_OK;
	}
	if (st == JAMB_ECONFLICT && s->current > 0) {
		resp_problem_send(resp, posts_stale(req, s->current));
		return JAMB_OK;
	}
	if (st == JAMB_ECONFLICT && s->why[0] != '\0') {
		posts_problem(resp, req, 409, s->field, "%s", s->why);
		return JAMB_OK;
	}
	log_warn(req->id, "post not saved: %s", db_error(req->app->db));
	return st;
}

static enum jamb_status
posts_create(struct req *req, struct resp *resp)
{
	struct posts_input	 in;
	struct posts_save	 s;
	int			 tries;
	enum jamb_status	 st;

	if (!posts_input(req, resp, patch_fields, 1, &in))
		return JAMB_OK;
	memset(&s, 0, sizeof(s));
	s.req = req;
	s.in = &in;
	s.html = markdown_html(in.body, strlen(in.body));

	/*
	 * Posts of one title saved at once all see the same slug free; the
	 * unique key refuses all but one, and the others try again, now
	 * seeing it taken.  Each round lets at least one through.
	 */
	for (tries = 0; tries < POSTS_SLUG_TRIES; tries++) {
		st = db_tx(req->app->db, posts_create_tx, &s);
		if (st != JAMB_ECONFLICT || in.slug != NULL ||
		    s.why[0] != '\0')
			break;
	}
	if (st == JAMB_OK) {
		respcache_bump(req->app->cache, RESPCACHE_NS_POSTS);
		st = posts_send(req, resp, 201, s.id);
	} else
		st = posts_refused(req, resp, &s, st);
	free(s.html);
	free(s.slug);
	return st;
}

/* Read and list */

static enum jamb_status
posts_get(struct req *req, struct resp *resp)
{
	int64_t		 id;
	int		 refused;
	enum jamb_status st;

	st = posts_target(req, resp, &id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	return posts_send(req, resp, 200, id);
}

/*
 * Reads "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (RFC 3339 in UTC) into a MySQL
 * DATETIME(6) literal and the time in whole seconds; 0 if malformed.
 */
static int
posts_time(const char *s, char *sql, size_t len, time_t *when)
{
	struct tm	 tm;
	const char	*end;
	char		 frac[7] = "000000";
	size_t		 i;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' ||
	    (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) != s + 19)
		return 0;
	if (*end == '.') {
		for (i = 0, end++; end[i] >= '0' && end[i] <= '9'; i++)
			if (i < 6)
				frac[i] = end[i];
		if (i == 0)
			return 0;
		end += i;
	}
	if (strcmp(end, "Z") != 0)
		return 0;
	*when = timegm(&tm);
	snprintf(sql, len, "%04d-%02d-%02d %02d:%02d:%02d.%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
	return 1;
}

/*
 * The keyset of a list page's last item, base64url("<updated_at>,<id>"),
 * and back; 0 for a cursor this server did not make.
 */
static char *
posts_cursor(json_t *item)
{
	char	*raw, *out;

	raw = xasprintf("%s,%" JSON_INTEGER_FORMAT,
	    json_string_value(json_object_get(item, "updated_at")),
	    json_integer_value(json_object_get(item, "id")));
	out = jwt_b64url_encode(raw, strlen(raw));
	free(raw);
	return out;
}

static int
posts_cursor_parse(const char *cursor, char *at, size_t len, int64_t *id)
{
	unsigned char	*raw = NULL;
	size_t		 n;
	char		*text, *comma;
	time_t		 when;
	int		 ok = 0;

	if (strlen(cursor) > 128 ||
	    jwt_b64url_decode(cursor, strlen(cursor), &raw, &n) != 0)
		return 0;
	text = xstrndup((char *)raw, n);
	if ((comma = strchr(text, ',')) != NULL) {
		*comma = '\0';
		ok = posts_time(text, at, len, &when) &&
		    str_to_count(comma + 1, INT64_MAX, id);
	}
	free(text);
	free(raw);
	return ok;
}

/*
 * Newest change first, by keyset pagination on (updated_at, id): a page
 * starts right after the cursor's item whatever the depth.  status
 * filters by workflow state, or "deleted" lists the soft-deleted posts.
 * Authors see the posts they are an author of.
 */
static enum jamb_status
posts_list(struct req *req, struct resp *resp)
{
	struct db_conn	*db = req->app->db;
	const char	*s, *status;
	json_t		*items;
	char		 at[40] = "", *next;
	int64_t		 limit = POSTS_LIMIT_DEFAULT, after = 0;
	int64_t		 mine = 0;
	enum jamb_status st;

	s = req_query(req, "limit");
	if (s != NULL && !str_to_count(s, POSTS_LIMIT_MAX, &limit)) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "limit must be a whole number from 1 to %d",
		    POSTS_LIMIT_MAX);
		return JAMB_OK;
	}
	s = req_query(req, "cursor");
	if (s != NULL && !posts_cursor_parse(s, at, sizeof(at), &after)) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "cursor must be a next_cursor of an earlier page");
		return JAMB_OK;
	}
	status = req_query(req, "status");
	if (status != NULL && strcmp(status, "deleted") != 0 &&
	    posts_status_of(status) < 0) {
		resp_problem(resp, req, 400, "bad-request", "Bad Request",
		    "status must be draft, review, scheduled, published, "
		    "archived or deleted");
		return JAMB_OK;
	}
	if (req->who.role < ROLE_EDITOR)
		mine = req->who.user_id != 0 ? req->who.user_id : -1;

	/* One row more than asked says whether another page follows. */
	st = db_query_json(db, &items, "SELECT " POSTS_LIST_COLUMNS " FROM "
	    "posts p WHERE (? = 'deleted') = (p.deleted_at IS NOT NULL) AND "
	    "(? = '' OR ? = 'deleted' OR p.status = ?) AND (? = 0 OR EXISTS "
	    "(SELECT 1 FROM post_authors a WHERE a.post_id = p.id AND "
	    "a.user_id = ?)) AND (? = 0 OR p.updated_at < ? OR "
	    "(p.updated_at = ? AND p.id < ?)) ORDER BY p.updated_at DESC, "
	    "p.id DESC LIMIT ?", "ssssiiissii", status ? status : "",
	    status ? status : "", status ? status : "", status ? status : "",
	    mine, mine, after, at, at, after, limit + 1);
	if (st != JAMB_OK) {
		log_warn(req->id, "posts not listed: %s", db_error(db));
		return st;
	}
	next = NULL;
	if ((int64_t)json_array_size(items) > limit) {
		json_array_remove(items, (size_t)limit);
		next = posts_cursor(json_array_get(items, (size_t)limit - 1));
	}
	resp_json(resp, 200, json_pack("{s:o, s:s?}", "items", items,
	    "next_cursor", next));
	resp_header(resp, "Cache-Control", "private, no-store");
	free(next);
	return JAMB_OK;
}

/* Update */

/*
 * The version the request starts from: If-Match "v<n>", else the body's
 * version.  1 with *v set; 0 when neither names one (428); -1 for an
 * If-Match that names no version of a post, which can never match (412).
 */
static int
posts_expected(const struct req *req, int64_t body_version, int64_t *v)
{
	const char	*h = req_header(req, "if-match");
	char		 num[24];
	size_t		 n;

	if (h == NULL) {
		*v = body_version;
		return body_version > 0 ? 1 : 0;
	}
	n = strlen(h);
	if (n < 4 || n > 22 || h[0] != '"' || h[1] != 'v' || h[n - 1] != '"')
		return -1;
	memcpy(num, h + 2, n - 3);
	num[n - 3] = '\0';
	return str_to_count(num, INT64_MAX, v) ? 1 : -1;
}

static int
posts_differs(const char *new, const struct db_rows *old, unsigned int col)
{
	const char	*was;

	was = db_isnull(old, col) ? NULL : db_str(old, col, NULL);

	if (new == NULL || was == NULL)
		return new != was;
	return strcmp(new, was) != 0;
}

/*
 * Why an UPDATE guarded by id and version matched nothing: the post was
 * deleted meanwhile (409) or has another version (412).
 */
static enum jamb_status
posts_why_unmatched(struct db_conn *db, struct posts_save *s)
{
	json_t		*row;
	enum jamb_status st;

	st = db_query_one(db, &row, "SELECT version, deleted_at IS NOT NULL "
	    "AS gone FROM posts WHERE id = ?", "i", s->id);
	if (st != JAMB_OK)
		return st;
	if (json_integer_value(json_object_get(row, "gone")) ||
	    json_is_true(json_object_get(row, "gone")))
		snprintf(s->why, sizeof(s->why), "the post is deleted; "
		    "restore it first");
	else
		s->current = json_integer_value(json_object_get(row,
		    "version"));
	json_decref(row);
	return JAMB_ECONFLICT;
}

/*
 * Applies the fields of s->in.  The row is read first, locked, only to
 * tell whether the text changed (a revision is kept only then); what
 * guards against lost updates is the version in the UPDATE's WHERE.
 */
static enum jamb_status
posts_update_tx(struct db_conn *db, void *arg)
{
	struct posts_save		*s = arg;
	const struct posts_input	*in = s->in;
	struct db_rows			*old;
	int64_t				 used;
	int				 changed, i;
	enum jamb_status		 st;

	s->current = 0;
	s->field = NULL;
	s->why[0] = '\0';
	st = db_query(db, &old, "SELECT title, excerpt, body_md, meta_title, "
	    "meta_description, canonical_url, social_image FROM posts WHERE "
	    "id = ? FOR UPDATE", "i", s->id);
	if (st != JAMB_OK)
		return st;
	changed = 0;
	if (db_next(old)) {
		changed = posts_differs(in->title ? in->title : db_str(old, 0,
		    NULL), old, 0) || (in->excerpt != NULL &&
		    posts_differs(in->excerpt, old, 1)) || (in->body != NULL &&
		    posts_differs(in->body, old, 2));
		for (i = 0; i < POSTS_SEO; i++)
			if (in->seo_set[i] && posts_differs(in->seo[i], old,
			    (unsigned int)i + 3))
				changed = 1;
	}
	db_rows_free(old);

	if (in->slug != NULL) {
		st = db_query_int(db, &used, "SELECT COUNT(*) FROM posts WHERE "
		    "slug = ? AND id <> ?", "si", in->slug, s->id);
		if (st != JAMB_OK)
			return st;
		if (used > 0) {
			s->field = "slug";
			snprintf(s->why, sizeof(s->why), "another post has "
			    "the slug \"%.200s\"", in->slug);
			return JAMB_ECONFLICT;
		}
	}

	st = db_exec(db, "UPDATE posts SET title = COALESCE(?, title), "
	    "excerpt = COALESCE(?, excerpt), body_md = COALESCE(?, body_md), "
	    "body_html = COALESCE(?, body_html), slug = COALESCE(?, slug), "
	    "visibility = COALESCE(?, visibility), "
	    "meta_title = IF(?, ?, meta_title), "
	    "meta_description = IF(?, ?, meta_description), "
	    "canonical_url = IF(?, ?, canonical_url), "
	    "social_image = IF(?, ?, social_image), version = version + 1 "
	    "WHERE id = ? AND version = ? AND deleted_at IS NULL",
	    "ssssssisisisisii", in->title, in->excerpt, in->body, s->html,
	    in->slug, in->visibility, (int64_t)in->seo_set[0], in->seo[0],
	    (int64_t)in->seo_set[1], in->seo[1], (int64_t)in->seo_set[2],
	    in->seo[2], (int64_t)in->seo_set[3], in->seo[3], s->id,
	    s->expect);
	if (st != JAMB_OK)
		return st;
	if (db_affected(db) == 0)
		return posts_why_unmatched(db, s);

	if (in->tags != NULL &&
	    (st = posts_set_tags(db, s->id, in->tags)) != JAMB_OK)
		return st;
	if ((st = posts_set_tiers(db, s)) != JAMB_OK)
		return st;
	if (changed && (st = posts_revision(db, s)) != JAMB_OK)
		return st;
	if (s->rev != 0)
		return audit_write(db, s->req, "post.revision_restore", "post",
		    s->id, json_pack("{s:I}", "revision", (json_int_t)s->rev));
	return JAMB_OK;
}

/* Answers 428 or 412 when the request names no usable version. */
static int
posts_version_given(struct req *req, struct resp *resp, int64_t body_v,
    int64_t *v)
{
	json_t	*doc;
	int	 r = posts_expected(req, body_v, v);

	if (r == 1)
		return 1;
	if (r == 0) {
		resp_problem(resp, req, 428, "precondition-required",
		    "Precondition Required", "an update must name the version "
		    "it starts from: If-Match: \"v<version>\" or a version "
		    "member");
		return 0;
	}
	doc = resp_problem_doc(req, 412, "precondition-failed",
	    "Precondition Failed", "If-Match must be \"v<version>\"");
	resp_problem_send(resp, doc);
	return 0;
}

static enum jamb_status
posts_update(struct req *req, struct resp *resp)
{
	struct posts_input	 in;
	struct posts_save	 s;
	int			 refused;
	enum jamb_status	 st;

	memset(&s, 0, sizeof(s));
	st = posts_target(req, resp, &s.id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	if (!posts_input(req, resp, patch_fields, 0, &in))
		return JAMB_OK;
	if (!posts_version_given(req, resp, in.version, &s.expect))
		return JAMB_OK;
	s.req = req;
	s.in = &in;
	if (in.body != NULL)
		s.html = markdown_html(in.body, strlen(in.body));

	st = db_tx(req->app->db, posts_update_tx, &s);
	if (st == JAMB_OK) {
		respcache_bump(req->app->cache, RESPCACHE_NS_POSTS);
		st = posts_send(req, resp, 200, s.id);
	} else
		st = posts_refused(req, resp, &s, st);
	free(s.html);
	return st;
}

/* Delete and restore */

struct posts_flag {
	struct req	*req;
	int64_t		 id;
	int		 deleting;
};

/* Only a real change bumps the version and is audited. */
static enum jamb_status
posts_flag_tx(struct db_conn *db, void *arg)
{
	struct posts_flag	*f = arg;
	enum jamb_status	 st;

	if (f->deleting)
		st = db_exec(db, "UPDATE posts SET deleted_at = NOW(6), "
		    "version = version + 1 WHERE id = ? AND deleted_at IS NULL",
		    "i", f->id);
	else
		st = db_exec(db, "UPDATE posts SET deleted_at = NULL, "
		    "version = version + 1 WHERE id = ? AND deleted_at IS NOT "
		    "NULL", "i", f->id);
	if (st != JAMB_OK || db_affected(db) == 0)
		return st;
	return audit_write(db, f->req, f->deleting ? "post.delete" :
	    "post.restore", "post", f->id, NULL);
}

static enum jamb_status
posts_flag(struct req *req, struct resp *resp, int deleting)
{
	struct posts_flag	 f;
	int			 refused;
	enum jamb_status	 st;

	memset(&f, 0, sizeof(f));
	f.req = req;
	f.deleting = deleting;
	st = posts_target(req, resp, &f.id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	if ((st = db_tx(req->app->db, posts_flag_tx, &f)) != JAMB_OK) {
		log_warn(req->id, "post %lld not %s: %s", (long long)f.id,
		    deleting ? "deleted" : "restored",
		    db_error(req->app->db));
		return st;
	}
	respcache_bump(req->app->cache, RESPCACHE_NS_POSTS);
	if (!deleting)
		return posts_send(req, resp, 200, f.id);
	resp->status = 204;
	return JAMB_OK;
}

static enum jamb_status
posts_delete(struct req *req, struct resp *resp)
{
	return posts_flag(req, resp, 1);
}

static enum jamb_status
posts_undelete(struct req *req, struct resp *resp)
{
	return posts_flag(req, resp, 0);
}

/* Revisions */

static enum jamb_status
posts_revisions(struct req *req, struct resp *resp)
{
	struct db_conn	*db = req->app->db;
	json_t		*items;
	int64_t		 id;
	int		 refused;
	enum jamb_status st;

	st = posts_target(req, resp, &id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	st = db_query_json(db, &items, "SELECT id, post_version, author_id, "
	    "created_at, title FROM post_revisions WHERE post_id = ? "
	    "ORDER BY id DESC", "i", id);
	if (st != JAMB_OK) {
		log_warn(req->id, "revisions of post %lld not listed: %s",
		    (long long)id, db_error(db));
		return st;
	}
	resp_json(resp, 200, json_pack("{s:o}", "items", items));
	resp_header(resp, "Cache-Control", "private, no-store");
	return JAMB_OK;
}

/*
 * The revision of the path, of the post of the path: JAMB_ENOTFOUND
 * with the 404 in resp when there is no such revision of that post.
 */
static enum jamb_status
posts_revision_load(struct req *req, struct resp *resp, int64_t id,
    json_t **out)
{
	const char	*s = req_param(req, "rev");
	json_t		*seo;
	int64_t		 rev;
	enum jamb_status st;

	*out = NULL;
	st = !str_to_count(s, INT64_MAX, &rev) ? JAMB_ENOTFOUND :
	    db_query_one(req->app->db, out, "SELECT id, post_version, "
	    "author_id, created_at, title, excerpt, body_md AS body, seo FROM "
	    "post_revisions WHERE id = ? AND post_id = ?", "ii", rev, id);
	if (st == JAMB_ENOTFOUND)
		resp_problem(resp, req, 404, "not-found", "Not Found",
		    "post %lld has no revision %s", (long long)id, s);
	if (st != JAMB_OK)
		return st;
	/* The JSON column comes back as its text. */
	seo = json_object_get(*out, "seo");
	if (json_is_string(seo))
		json_object_set_new(*out, "seo", json_loads(
		    json_string_value(seo), 0, NULL));
	return JAMB_OK;
}

static enum jamb_status
posts_revision_get(struct req *req, struct resp *resp)
{
	json_t		*doc;
	int64_t		 id;
	int		 refused;
	enum jamb_status st;

	st = posts_target(req, resp, &id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	st = posts_revision_load(req, resp, id, &doc);
	if (st != JAMB_OK)
		return st == JAMB_ENOTFOUND ? JAMB_OK : st;
	resp_json(resp, 200, doc);
	resp_header(resp, "Cache-Control", "private, no-store");
	return JAMB_OK;
}

/*
 * Restoring a revision is a save like any other: a new version and a
 * new revision holding the old text, so the restore can be undone.
 */
static enum jamb_status
posts_revision_restore(struct req *req, struct resp *resp)
{
	struct posts_input	 in;
	struct posts_save	 s;
	json_t			*doc = NULL, *seo;
	int64_t			 body_v = 0;
	int			 refused, i;
	enum jamb_status	 st;

	memset(&s, 0, sizeof(s));
	st = posts_target(req, resp, &s.id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	st = posts_revision_load(req, resp, s.id, &doc);
	if (st != JAMB_OK)
		return st == JAMB_ENOTFOUND ? JAMB_OK : st;

	memset(&in, 0, sizeof(in));
	in.title = json_string_value(json_object_get(doc, "title"));
	in.excerpt = json_string_value(json_object_get(doc, "excerpt"));
	in.body = json_string_value(json_object_get(doc, "body"));
	/* A revision without SEO fields (an imported one) leaves them. */
	seo = json_object_get(doc, "seo");
	for (i = 0; i < POSTS_SEO && json_is_object(seo); i++) {
		in.seo_set[i] = 1;
		in.seo[i] = json_string_value(json_object_get(seo,
		    seo_fields[i]));
	}

	/* Without If-Match, the restore applies to whatever is current. */
	if (req_header(req, "if-match") == NULL) {
		st = db_query_int(req->app->db, &body_v, "SELECT version FROM "
		    "posts WHERE id = ?", "i", s.id);
		if (st != JAMB_OK)
			goto out;
	}
	if (!posts_version_given(req, resp, body_v, &s.expect))
		goto out;
	s.req = req;
	s.in = &in;
	s.rev = json_integer_value(json_object_get(doc, "id"));
	s.html = markdown_html(in.body, strlen(in.body));
	st = db_tx(req->app->db, posts_update_tx, &s);
	if (st == JAMB_OK) {
		respcache_bump(req->app->cache, RESPCACHE_NS_POSTS);
		st = posts_send(req, resp, 200, s.id);
	} else
		st = posts_refused(req, resp, &s, st);
out:
	free(s.html);
	json_decref(doc);
	return st;
}

/* Workflow */

#define FROM(s)		(1u << (s))

/* The workflow: who may move a post from which states to which. */
static const struct posts_transition {
	const char	*name;
	unsigned int	 from;
	enum post_status to;
} transitions[] = {
	{ "submit", FROM(POST_DRAFT), POST_REVIEW },
	{ "publish", FROM(POST_DRAFT) | FROM(POST_REVIEW) |
	    FROM(POST_SCHEDULED), POST_PUBLISHED },
	{ "schedule", FROM(POST_DRAFT) | FROM(POST_REVIEW), POST_SCHEDULED },
	{ "unpublish", FROM(POST_PUBLISHED) | FROM(POST_SCHEDULED),
	    POST_DRAFT },
	{ "archive", FROM(POST_PUBLISHED), POST_ARCHIVED },
	{ "reopen", FROM(POST_ARCHIVED) | FROM(POST_REVIEW), POST_DRAFT },
	{ NULL, 0, POST_DRAFT }
};

struct posts_move {
	struct req			*req;
	const struct posts_transition	*t;
	int64_t				 id;
	int64_t				 expect;	/* 0: any */
	const char			*at;	/* schedule's time */
	const char			*at_text;
	/* Why it was refused. */
	char				 status[16];
	int64_t				 current;
	int				 gone;
};

/*
 * Checks the current state under a row lock, then moves it.  Publishing
 * keeps an earlier published_at (a republished post keeps its date);
 * unpublishing keeps it too, as history, while the public side shows
 * only published posts.  Leaving "scheduled" clears scheduled_at.
 */
static enum jamb_status
posts_move_tx(struct db_conn *db, void *arg)
{
	struct posts_move	*m = arg;
	json_t			*row, *details;
	const char		*to = post_statuses[m->t->to];
	char			 action[32];
	int			 from;
	enum jamb_status	 st;

	m->status[0] = '\0';
	m->current = 0;
	m->gone = 0;
	st = db_query_one(db, &row, "SELECT status, version, deleted_at IS "
	    "NOT NULL AS gone FROM posts WHERE id = ? FOR UPDATE", "i", m->id);
	if (st != JAMB_OK)
		return st;
	snprintf(m->status, sizeof(m->status), "%s",
	    json_string_value(json_object_get(row, "status")));
	m->gone = json_is_true(json_object_get(row, "gone")) ||
	    json_integer_value(json_object_get(row, "gone")) == 1;
	if (m->expect != 0 && json_integer_value(json_object_get(row,
	    "version")) != m->expect)
		m->current = json_integer_value(json_object_get(row,
		    "version"));
	json_decref(row);
	from = posts_status_of(m->status);
	if (m->gone || m->current != 0 || from < 0 ||
	    !(m->t->from & FROM(from)))
		return JAMB_ECONFLICT;

	st = db_exec(db, "UPDATE posts SET status = ?, version = version + 1, "
	    "published_at = IF(? = 'published', COALESCE(published_at, "
	    "NOW(6)), published_at), scheduled_at = IF(? = 'scheduled', ?, "
	    "NULL) WHERE id = ? AND status = ?", "ssssis", to, to, to, m->at,
	    m->id, m->status);
	if (st != JAMB_OK)
		return st;
	if (db_affected(db) != 1)
		return JAMB_EINTERNAL;
	snprintf(action, sizeof(action), "post.%s", m->t->name);
	details = json_pack("{s:s, s:s}", "from", m->status, "to", to);
	if (m->at_text != NULL)
		json_object_set_new(details, "at", json_string(m->at_text));
	return audit_write(db, m->req, action, "post", m->id, details);
}

/* The transition's refusal: 412, 409 for a deleted post or a bad state. */
static void
posts_move_refused(struct req *req, struct resp *resp,
    const struct posts_move *m)
{
	json_t	*doc;
	char	 detail[96];

	if (m->current != 0)
		doc = posts_stale(req, m->current);
	else if (m->gone)
		doc = resp_problem_doc(req, 409, "conflict", "Conflict",
		    "the post is deleted; restore it first");
	else {
		snprintf(detail, sizeof(detail), "cannot %s a post whose "
		    "status is %s", m->t->name, m->status);
		doc = resp_problem_doc(req, 409, "invalid-transition",
		    "Conflict", detail);
		json_object_set_new(doc, "current_status",
		    json_string(m->status));
	}
	resp_problem_send(resp, doc);
}

/*
 * The body of a transition, which may be empty: {"version"} for all,
 * {"at"} for schedule.  0 when resp holds the refusal.
 */
static int
posts_move_body(struct req *req, struct resp *resp, struct posts_move *m,
    char *at, size_t atlen, int64_t *version)
{
	static const char *const plain[] = { "version", NULL };
	static const char *const timed[] = { "at", "version", NULL };
	const char	*s;
	json_t		*v;
	char		 err[256];
	time_t		 when;
	enum jamb_status st;
	int		 scheduling = m->t->to == POST_SCHEDULED;

	*version = 0;
	if (req->body_len > 0) {
		st = req_parse_json(req,
		    (int)req->app->conf->server_json_depth, err, sizeof(err));
		if (st != JAMB_OK) {
			resp_status_problem(resp, req, st, err);
			return 0;
		}
		if (!auth_body_check(req, resp, scheduling ? timed : plain))
			return 0;
		v = json_object_get(req->json, "version");
		if (v != NULL && (!json_is_integer(v) ||
		    json_integer_value(v) < 1)) {
			posts_problem(resp, req, 422, "version", "version must "
			    "be a whole number from 1");
			return 0;
		}
		*version = v != NULL ? json_integer_value(v) : 0;
	}
	if (!scheduling)
		return 1;
	s = json_string_value(json_object_get(req->json, "at"));
	if (s == NULL || !posts_time(s, at, atlen, &when)) {
		posts_problem(resp, req, 422, "at", "at must be a time in UTC "
		    "as RFC 3339, such as 2030-01-31T09:00:00Z");
		return 0;
	}
	if (when <= time(NULL)) {
		posts_problem(resp, req, 422, "at", "at must be in the "
		    "future; publish the post to publish it now");
		return 0;
	}
	m->at = at;
	m->at_text = s;
	return 1;
}

/* POST /v1/admin/posts/{id}/<transition>, the name taken from the path. */
static enum jamb_status
posts_transition(struct req *req, struct resp *resp)
{
	struct posts_move	 m;
	const char		*name = strrchr(req->route->pattern, '/') + 1;
	char			 at[40];
	int64_t			 body_v;
	int			 refused, r;
	enum jamb_status	 st;

	memset(&m, 0, sizeof(m));
	m.req = req;
	for (m.t = transitions; m.t->name != NULL; m.t++)
		if (strcmp(m.t->name, name) == 0)
			break;
	if (m.t->name == NULL)
		return JAMB_EINTERNAL;
	st = posts_target(req, resp, &m.id, &refused);
	if (st != JAMB_OK || refused)
		return st;
	if (!posts_move_body(req, resp, &m, at, sizeof(at), &body_v))
		return JAMB_OK;
	/* A version is optional here; one that is named must match. */
	if ((r = posts_expected(req, body_v, &m.expect)) < 0) {
		resp_problem(resp, req, 412, "precondition-failed",
		    "Precondition Failed", "If-Match must be \"v<version>\"");
		return JAMB_OK;
	}

	st = db_tx(req->app->db, posts_move_tx, &m);
	if (st == JAMB_ECONFLICT && m.status[0] != '\0') {
		posts_move_refused(req, resp, &m);
		return JAMB_OK;
	}
	if (st != JAMB_OK) {
		log_warn(req->id, "post %lld: %s failed: %s", (long long)m.id,
		    m.t->name, db_error(req->app->db));
		return st;
	}
	respcache_bump(req->app->cache, RESPCACHE_NS_POSTS);
	return posts_send(req, resp, 200, m.id);
}

#define POSTS_ONE	"/v1/admin/posts/{id}"
#define POSTS_REV	POSTS_ONE "/revisions/{rev}"

const struct route admin_posts_routes[] = {
	{ "POST", "/v1/admin/posts", posts_create,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_ROLE(ROLE_AUTHOR) },
	{ "GET", "/v1/admin/posts", posts_list, ROUTE_ROLE(ROLE_AUTHOR) },
	{ "GET", POSTS_ONE, posts_get, ROUTE_ROLE(ROLE_AUTHOR) },
	{ "PATCH", POSTS_ONE, posts_update,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_ROLE(ROLE_AUTHOR) },
	{ "DELETE", POSTS_ONE, posts_delete, ROUTE_ROLE(ROLE_EDITOR) },
	{ "POST", POSTS_ONE "/restore", posts_undelete,
	    ROUTE_ROLE(ROLE_EDITOR) },
	{ "GET", POSTS_ONE "/revisions", posts_revisions,
	    ROUTE_ROLE(ROLE_AUTHOR) },
	{ "GET", POSTS_REV, posts_revision_get, ROUTE_ROLE(ROLE_AUTHOR) },
	{ "POST", POSTS_REV "/restore", posts_revision_restore,
	    ROUTE_ROLE(ROLE_AUTHOR) },
	{ "POST", POSTS_ONE "/submit", posts_transition,
	    ROUTE_BODY | ROUTE_ROLE(ROLE_AUTHOR) },
	{ "POST", POSTS_ONE "/publish", posts_transition,
	    ROUTE_BODY | ROUTE_ROLE(ROLE_EDITOR) },
	{ "POST", POSTS_ONE "/schedule", posts_transition,
	    ROUTE_BODY | ROUTE_ROLE(ROLE_EDITOR) },
	{ "POST", POSTS_ONE "/unpublish", posts_transition,
	    ROUTE_BODY | ROUTE_ROLE(ROLE_EDITOR) },
	{ "POST", POSTS_ONE "/archive", posts_transition,
	    ROUTE_BODY | ROUTE_ROLE(ROLE_EDITOR) },
	{ "POST", POSTS_ONE "/reopen", posts_transition,
	    ROUTE_BODY | ROUTE_ROLE(ROLE_EDITOR) },
	{ NULL, NULL, NULL, 0 }
};
