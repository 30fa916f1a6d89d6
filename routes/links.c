#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "password.h"
#include "routes.h"

/*
 * Links sent by email: sign-in by link, verification of the account's
 * address, and password reset.
 *
 * A link carries a token of 32 random bytes in hex, single use, valid
 * for [auth] magic_link_ttl seconds; magic_links keeps only its SHA-256
 * and what it is for.  The row and the email are written in one
 * transaction, and the outbox delivers the email after the commit.
 * Redeeming a token locks its row (SELECT ... FOR UPDATE), so of two
 * concurrent uses exactly one finds it unused.
 *
 * Asking for a link never tells whether an address has an account: the
 * answer is 202 {"status": "accepted"} whatever happens next.  A link
 * to sign in goes to an active account, or to an unknown address when
 * [auth] magic_link_signup allows signing up by link (the member is
 * created when the link is used: following it proves the address).  A
 * password reset goes to every active account, with a password or
 * without one, so that a member who signed up by link can set one; an
 * unknown address gets nothing.  What is left to measure is the time
 * of one small transaction when nothing is sent, the same as signup.
 *
 * Requests are counted in memcached per recipient address, whatever
 * the address, and per client address, in windows aligned to the
 * clock; over the limit the answer is 429.  A count of the address's
 * recent links in the database caps what is sent when memcached is
 * down, and never changes the answer.
 */

#define LINK_BYTES		32
#define LINK_LEN		(2 * LINK_BYTES)
#define SHA256_LEN		32
/* magic_links.ip */
#define ADDR_MAX		45
/* A path of the frontend to go to after signing in by link. */
#define REDIRECT_MAX		512
/* Larger template files are refused: they are a few lines. */
#define TEMPLATE_MAX		16384
/* Counter keys, which memcached limits to 250 bytes with the prefix. */
#define LIMIT_KEY_LEN		160

enum link_purpose {
	LINK_LOGIN,
	LINK_VERIFY,
	LINK_RESET,
	LINK__MAX
};

/* magic_links.purpose and the template of each purpose. */
static const char *const purposes[LINK__MAX] = { "login", "verify",
    "reset" };
static const char *const template_files[LINK__MAX] = { "magic-link.txt",
    "verify-email.txt", "password-reset.txt" };

/* A template split into its subject line and its body. */
struct template {
	char	*subject;
	char	*body;
};

/*
 * Each worker reads a template at its first use and keeps it; a reload
 * (SIGHUP) starts new workers, which read the files again.
 */
static struct template	 templates[LINK__MAX];

/* A link about to be sent, and who gets it. */
struct outgoing {
	const struct req	*req;
	enum link_purpose	 purpose;
	const char		*email;
	int64_t			 user_id;	/* 0: none yet (signup) */
	int			 send;		/* 0: answer, send nothing */
	char			 token[LINK_LEN + 1];
	unsigned char		 hash[SHA256_LEN];
	char			*subject;
	char			*text;
	int			 capped;	/* the database cap held it */
};

/* A presented token and what its use changed, decided in a transaction. */
struct redemption {
	enum link_purpose	 purpose;
	const struct conf	*conf;
	unsigned char		 hash[SHA256_LEN];
	const char		*password_hash;	/* reset: the new one */
	int			 ok;
	int			 created;	/* a member signed up */
	int64_t			 user_id;
	char			*email;
};

static void
sha256(const void *p, size_t n, unsigned char *md)
{
	unsigned int	 len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
}

/* Templates */

/*
 * Replaces {{link}}, {{site}} and {{minutes}} in tpl; NULL when it
 * names anything else or leaves "{{" open.  Freed by the caller.
 */
static char *
template_fill(const char *tpl, const char *link, const char *site,
    const char *minutes)
{
	struct buf	 b;
	const char	*p, *end, *val;
	size_t		 n;

	buf_init(&b);
	for (p = tpl; *p != '\0'; p = end + 2) {
		if ((end = strstr(p, "{{")) == NULL) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(end - p));
		p = end + 2;
		if ((end = strstr(p, "}}")) == NULL)
			goto fail;
		n = (size_t)(end - p);
		if (n == 4 && memcmp(p, "link", 4) == 0)
			val = link;
		else if (n == 4 && memcmp(p, "site", 4) == 0)
			val = site;
		else if (n == 7 && memcmp(p, "minutes", 7) == 0)
			val = minutes;
		else
			goto fail;
		buf_adds(&b, val);
	}
	return b.data;
fail:
	buf_free(&b);
	return NULL;
}

/*
 * Splits text (CR removed) into t: a first line "Subject: ...", a blank
 * line, the body.  Placeholders are checked by filling them once.  0
 * with the reason in err if the text has another shape.
 */
static int
template_parse(char *text, struct template *t, char *err, size_t errlen)
{
	char	*nl, *subject, *check[2];
	int	 i, ok = 1;

	if (strncmp(text, "Subject:", 8) != 0 ||
	    (nl = strchr(text, '\n')) == NULL || nl[1] != '\n') {
		snprintf(err, errlen, "expected a line \"Subject: ...\", a "
		    "blank line, then the body");
		return 0;
	}
	*nl = '\0';
	subject = text + 8;
	subject += strspn(subject, " \t");
	if (*subject == '\0') {
		snprintf(err, errlen, "the subject is empty");
		return 0;
	}
	t->subject = xstrdup(subject);
	t->body = xstrdup(nl + 2);
	check[0] = template_fill(t->subject, "", "", "");
	check[1] = template_fill(t->body, "", "", "");
	for (i = 0; i < 2; i++) {
		ok = ok && check[i] != NULL;
		free(check[i]);
	}
	if (!ok) {
		snprintf(err, errlen, "a placeholder other than {{link}}, "
		    "{{site}} or {{minutes}}, or an unclosed \"{{\"");
		free(t->subject);
		free(t->body);
		memset(t, 0, sizeof(*t));
	}
	return ok;
}

/* Reads path into a string without CRs; 0 with the reason in err. */
static int
template_read(const char *path, char **out, char *err, size_t errlen)
{
	FILE	*f;
	char	*text;
	size_t	 n, i, j;
	int	 ok = 0;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return 0;
	}
	text = xmalloc(TEMPLATE_MAX + 1);
	n = fread(text, 1, TEMPLATE_MAX + 1, f);
	if (ferror(f))
		snprintf(err, errlen, "%s", strerror(errno));
	else if (n > TEMPLATE_MAX)
		snprintf(err, errlen, "larger than %d bytes", TEMPLATE_MAX);
	else if (!utf8_valid(text, n) || memchr(text, '\0', n) != NULL)
		snprintf(err, errlen, "not UTF-8 text");
	else
		ok = 1;
	fclose(f);
	if (!ok) {
		free(text);
		return 0;
	}
	for (i = j = 0; i < n; i++)
		if (text[i] != '\r')
			text[j++] = text[i];
	text[j] = '\0';
	*out = text;
	return 1;
}

/* The template of purpose, read at first use; NULL (logged) if unusable. */
static const struct template *
template_get(const struct req *req, enum link_purpose purpose)
{
	struct template	*t = &templates[purpose];
	char		*path, *text = NULL, err[256];
	int		 ok;

	if (t->subject != NULL)
		return t;
	path = xasprintf("%s/%s", req->app->conf->mail_templates,
	    template_files[purpose]);
	ok = template_read(path, &text, err, sizeof(err)) &&
	    template_parse(text, t, err, sizeof(err));
	if (!ok)
		log_error(req->id, "mail template %s: %s", path, err);
	free(text);
	free(path);
	return ok ? t : NULL;
}

/* Request bodies */

/* A 422 naming the member at fault, as routes/auth.c answers them. */
static void
invalid_member(struct resp *resp, const struct req *req, const char *field,
    const char *detail)
{
	json_t	*doc;

	doc = resp_problem_doc(req, 422, "invalid-body",
	    "Unprocessable Content", detail);
	json_object_set_new(doc, "field", json_string(field));
	resp_problem_send(resp, doc);
}

/*
 * The optional member "redirect": a path of the frontend (not another
 * site), which the sign-in link carries for the page to go to after
 * signing in.  *out is NULL when absent; 0 with a 422 when unfit.
 */
static int
body_redirect(struct req *req, struct resp *resp, const char **out)
{
	json_t		*v = json_object_get(req->json, "redirect");
	const char	*s, *p;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 1;
	if (!auth_body_string(req, resp, "redirect", 1, REDIRECT_MAX, &s))
		return 0;
	/* "//host" and "/\host" are taken by browsers as another site. */
	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		goto bad;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			goto bad;
	*out = s;
	return 1;
bad:
	invalid_member(resp, req, "redirect", "redirect must be a path of "
	    "the site starting with a single \"/\", in printable ASCII");
	return 0;
}

/*
 * The member "token": 1 with its hash when it can be one of ours, 0
 * when it cannot (the caller answers 401), -1 with a 422 in resp when
 * the body is wrong.
 */
static int
body_token(struct req *req, struct resp *resp, unsigned char *md)
{
	const char	*s;

	if (!auth_body_string(req, resp, "token", 0, SIZE_MAX, &s))
		return -1;
	if (strlen(s) != LINK_LEN ||
	    strspn(s, "0123456789abcdef") != LINK_LEN)
		return 0;
	sha256(s, LINK_LEN, md);
	return 1;
}

/* Request limits */

/* Whether the counters' last use failed, to log changes only. */
static int	 limits_down;

static void
limits_state(const struct req *req, enum jamb_status st)
{
	if (st == JAMB_EUNAVAIL && !limits_down)
		log_warn(req->id, "emailed-link counters are unavailable "
		    "(memcached): only the database cap limits them");
	else if (st != JAMB_EUNAVAIL && limits_down)
		log_info(req->id, "emailed-link counters are available again");
	limits_down = st == JAMB_EUNAVAIL;
}

/*
 * Counts a request for a link to email, per client address and per
 * recipient address, in windows of [auth] link_request_window seconds
 * aligned to the clock: the key names its window, so no start time
 * needs keeping.  Over either limit, resp holds a 429 with Retry-After
 * and 1 is returned.  A client refused for its own count does not
 * count against the address.
 */
static int
link_limited(struct req *req, struct resp *resp, const char *email)
{
	const struct conf	*c = req->app->conf;
	struct cache		*ca = req->app->cache;
	unsigned char		 md[SHA256_LEN];
	char			 hex[2 * SHA256_LEN + 1], key[LIMIT_KEY_LEN];
	char			 after[24];
	time_t			 now = time(NULL);
	long			 slot, left;
	uint64_t		 n = 0;
	enum jamb_status	 st;
	int			 over;

	slot = (long)(now / c->auth_link_window);
	left = c->auth_link_window - (long)(now % c->auth_link_window);
	snprintf(key, sizeof(key), "link:client:%.64s:%ld", req->client_addr,
	    slot);
	st = cache_incr(ca, key, c->auth_link_window, &n);
	over = st == JAMB_OK && n > (uint64_t)c->auth_link_max_client;
	if (st == JAMB_OK && !over) {
		sha256(email, strlen(email), md);
		hex_encode(hex, md, sizeof(md));
		snprintf(key, sizeof(key), "link:email:%s:%ld", hex, slot);
		st = cache_incr(ca, key, c->auth_link_window, &n);
		over = st == JAMB_OK && n > (uint64_t)c->auth_link_max_email;
	}
	limits_state(req, st);
	if (!over)
		return 0;

	snprintf(after, sizeof(after), "%ld", left);
	resp_problem(resp, req, 429, "too-many-requests", "Too Many Requests",
	    "too many emailed links were asked for this address or from "
	    "this client; try again in %s seconds", after);
	resp_header(resp, "Retry-After", after);
	log_info(req->id, "emailed link refused: limit reached");
	return 1;
}

/* Sending */

/* Appends s percent-encoded, keeping unreserved characters and '/'. */
static void
url_encode(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL)
			buf_addc(b, (char)*p);
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

/*
 * Makes the token of o and its message from the template, whether or
 * not it will be sent: a broken template fails every request alike.
 * JAMB_EINTERNAL (logged) when the template is unusable.
 */
static enum jamb_status
outgoing_prepare(struct outgoing *o, const char *redirect)
{
	const struct conf	*c = o->req->app->conf;
	const struct template	*t;
	const char		*base;
	unsigned char		 raw[LINK_BYTES];
	char			 minutes[24];
	struct buf		 link;

	if ((t = template_get(o->req, o->purpose)) == NULL)
		return JAMB_EINTERNAL;
	random_bytes(raw, sizeof(raw));
	hex_encode(o->token, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	sha256(o->token, LINK_LEN, o->hash);

	base = o->purpose == LINK_LOGIN ? c->auth_link_base :
	    o->purpose == LINK_VERIFY ? c->auth_verify_link_base :
	    c->auth_reset_link_base;
	buf_init(&link);
	buf_printf(&link, "%s%ctoken=%s", base, strchr(base, '?') ? '&' :
	    '?', o->token);
	if (redirect != NULL) {
		buf_adds(&link, "&redirect=");
		url_encode(&link, redirect);
	}
	/* Rounded up: a 90-second link is not "1 minute". */
	snprintf(minutes, sizeof(minutes), "%ld",
	    (c->auth_link_ttl + 59) / 60);
	o->subject = template_fill(t->subject, link.data, c->auth_site_name,
	    minutes);
	o->text = template_fill(t->body, link.data, c->auth_site_name,
	    minutes);
	explicit_bzero(link.data, link.len);
	buf_free(&link);
	return JAMB_OK;
}

static void
outgoing_free(struct outgoing *o)
{
	if (o->text != NULL)
		explicit_bzero(o->text, strlen(o->text));
	free(o->subject);
	free(o->text);
	explicit_bzero(o->token, sizeof(o->token));
}

/*
 * Stores the link and queues its email, unless the address already had
 * its share of links in the last window (the cap that holds without
 * memcached): then nothing is written and o->capped is set.
 */
static enum jamb_status
outgoing_tx(struct db_conn *db, void *arg)
{
	struct outgoing		*o = arg;
	const struct conf	*c = o->req->app->conf;
	const char		*ip = o->req->client_addr;
	int64_t			 recent;
	enum jamb_status	 st;

	st = db_query_int(db, &recent, "SELECT COUNT(*) FROM magic_links "
	    "WHERE email = ? AND created_at > UTC_TIMESTAMP(6) - INTERVAL ? "
	    "SECOND", "si", o->email, (int64_t)c->auth_link_window);
	if (st != JAMB_OK)
		return st;
	if ((o->capped = recent >= c->auth_link_max_email))
		return JAMB_OK;
	if (*ip == '\0' || strlen(ip) > ADDR_MAX)
		ip = NULL;
	st = db_exec(db, "INSERT INTO magic_links (email, user_id, purpose, "
	    "token_hash, expires_at, ip) VALUES (?, NULLIF(?, 0), ?, ?, "
	    "UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?)", "sisbis", o->email,
	    o->user_id, purposes[o->purpose], o->hash, (size_t)SHA256_LEN,
	    (int64_t)c->auth_link_ttl, ip);
	if (st == JAMB_OK)
		st = outbox_email(db, o->email, o->subject, o->text);
	return st;
}

/*
 * Sends the prepared link of o if o->send says so, and answers 202
 * either way.  Logs a database failure.
 */
static enum jamb_status
outgoing_finish(struct req *req, struct resp *resp, struct outgoing *o)
{
	struct db_conn		*db = req->app->db;
	enum jamb_status	 st;

	if (o->send && (st = db_tx(db, outgoing_tx, o)) != JAMB_OK) {
		log_warn(req->id, "%s link: %s", purposes[o->purpose],
		    db_error(db));
		return st;
	}
	if (!o->send)
		log_info(req->id, "%s link: no account for the address; "
		    "nothing sent", purposes[o->purpose]);
	else if (o->capped)
		log_warn(req->id, "%s link: the address had its share of "
		    "links in this window; nothing sent", purposes[o->purpose]);
	else if (o->user_id == 0)
		log_info(req->id, "%s link: sent to an address without an "
		    "account", purposes[o->purpose]);
	else
		log_info(req->id, "%s link: sent to user %lld",
		    purposes[o->purpose], (long long)o->user_id);
	resp_json(resp, 202, json_pack("{s:s}", "status", "accepted"));
	return JAMB_OK;
}

/*
 * The account of an address: *id is 0 when there is none, and *deleted
 * says whether the one there is was deleted (its address stays taken).
 */
static enum jamb_status
account_of(struct db_conn *db, const char *email, int64_t *id,
    int *deleted)
{
	struct db_rows		*r;
	enum jamb_status	 st;

	*id = 0;
	*deleted = 0;
	st = db_query(db, &r, "SELECT id, deleted_at IS NOT NULL FROM users "
	    "WHERE email = ?", "s", email);
	if (st != JAMB_OK)
		return st;
	if (db_next(r)) {
		*id = db_int(r, 0);
		*deleted = db_int(r, 1) != 0;
	}
	db_rows_free(r);
	return JAMB_OK;
}

/*
 * The common part of POST /v1/auth/magic-link and password-reset: the
 * body, the limits, the message, and whether the address gets it.
 */
static enum jamb_status
link_request(struct req *req, struct resp *resp, enum link_purpose purpose)
{
	static const char *const login_fields[] = { "email", "redirect",
	    NULL };
	static const char *const reset_fields[] = { "email", NULL };
	const struct conf	*c = req->app->conf;
	struct db_conn		*db = req->app->db;
	struct outgoing		 o;
	char			 email[AUTH_EMAIL_MAX + 1];
	const char		*redirect = NULL;
	int			 deleted;
	enum jamb_status	 st;

	if (!auth_body_check(req, resp, purpose == LINK_LOGIN ?
	    login_fields : reset_fields) ||
	    !auth_body_email(req, resp, email) ||
	    (purpose == LINK_LOGIN && !body_redirect(req, resp, &redirect)))
		return JAMB_OK;
	if (link_limited(req, resp, email))
		return JAMB_OK;

	memset(&o, 0, sizeof(o));
	o.req = req;
	o.purpose = purpose;
	o.email = email;
	if ((st = outgoing_prepare(&o, redirect)) != JAMB_OK)
		goto out;
	if ((st = account_of(db, email, &o.user_id, &deleted)) != JAMB_OK) {
		log_warn(req->id, "%s link: %s", purposes[purpose],
		    db_error(db));
		goto out;
	}
	if (deleted)
		o.user_id = 0;
	o.send = o.user_id != 0 || (purpose == LINK_LOGIN && !deleted &&
	    c->auth_link_signup);
	st = outgoing_finish(req, resp, &o);
out:
	outgoing_free(&o);
	return st;
}

/* Redeeming */

/*
 * The account a redeemed link stands for, locked: the active account
 * of the link's address, which must be the one the link was made for.
 * A sign-in link made for an address without an account creates the
 * member, unless signing up by link was turned off meanwhile; an
 * account made for the address since the link was sent is used as it
 * is.  *id is 0 when there is no fit account.
 */
static enum jamb_status
link_account(struct db_conn *db, struct redemption *rd, int64_t made_for,
    int64_t *id)
{
	const char		*sql = "SELECT id FROM users WHERE email = ? "
	    "AND deleted_at IS NULL FOR UPDATE";
	enum jamb_status	 st;

	st = db_query_int(db, id, sql, "s", rd->email);
	if (st == JAMB_OK) {
		/* Another account than the link's: that one was deleted. */
		if (made_for != 0 && made_for != *id)
			*id = 0;
		return JAMB_OK;
	}
	if (st != JAMB_ENOTFOUND)
		return st;
	if (made_for != 0 || rd->purpose != LINK_LOGIN ||
	    !rd->conf->auth_link_signup)
		return JAMB_OK;

	st = db_exec(db, "INSERT INTO users (email, email_verified_at) "
	    "VALUES (?, UTC_TIMESTAMP(6))", "s", rd->email);
	if (st == JAMB_OK) {
		*id = (int64_t)db_insert_id(db);
		rd->created = 1;
		return JAMB_OK;
	}
	/* Taken meanwhile by a signup, or by a deleted account. */
	if (st != JAMB_ECONFLICT)
		return st;
	st = db_query_int(db, id, sql, "s", rd->email);
	return st == JAMB_ENOTFOUND ? JAMB_OK : st;
}

/* What using a link changes on its account, beyond its use. */
static enum jamb_status
link_apply(struct db_conn *db, const struct redemption *rd)
{
	enum jamb_status	 st;

	/* Whoever follows the link reads the address's mail. */
	st = db_exec(db, "UPDATE users SET email_verified_at = "
	    "COALESCE(email_verified_at, UTC_TIMESTAMP(6)) WHERE id = ?", "i",
	    rd->user_id);
	if (st != JAMB_OK || rd->purpose != LINK_RESET)
		return st;

	/* A new password signs out everywhere and voids other resets. */
	st = db_exec(db, "UPDATE users SET password_hash = ?, version = "
	    "version + 1 WHERE id = ?", "si", rd->password_hash, rd->user_id);
	if (st == JAMB_OK)
		st = db_exec(db, "UPDATE refresh_tokens SET revoked_at = "
		    "UTC_TIMESTAMP(6) WHERE user_id = ? AND revoked_at IS NULL",
		    "i", rd->user_id);
	if (st == JAMB_OK)
		st = db_exec(db, "UPDATE magic_links SET used_at = "
		    "UTC_TIMESTAMP(6) WHERE user_id = ? AND purpose = 'reset' "
		    "AND used_at IS NULL", "i", rd->user_id);
	return st;
}

/*
 * The transaction of a link's use, run again by db_tx after a deadlock:
 * it starts by forgetting what an earlier run found.  An unknown, used
 * or expired token, or one whose account is gone, leaves rd->ok 0; a
 * link found unusable for its account is used up all the same.
 */
static enum jamb_status
redeem_tx(struct db_conn *db, void *arg)
{
	struct redemption	*rd = arg;
	struct db_rows		*r;
	int64_t			 link_id = 0, made_for = 0;
	int			 usable = 0;
	enum jamb_status	 st;

	rd->ok = rd->created = 0;
	rd->user_id = 0;
	free(rd->email);
	rd->email = NULL;

	st = db_query(db, &r, "SELECT id, email, user_id, used_at IS NULL "
	    "AND expires_at > UTC_TIMESTAMP(6) FROM magic_links WHERE "
	    "token_hash = ? AND purpose = ? FOR UPDATE", "bs", rd->hash,
	    (size_t)SHA256_LEN, purposes[rd->purpose]);
	if (st != JAMB_OK)
		return st;
	if (db_next(r)) {
		link_id = db_int(r, 0);
		rd->email = xstrdup(db_str(r, 1, NULL));
		made_for = db_isnull(r, 2) ? 0 : db_int(r, 2);
		usable = db_int(r, 3) != 0;
	}
	db_rows_free(r);
	if (!usable)
		return JAMB_OK;

	st = db_exec(db, "UPDATE magic_links SET used_at = UTC_TIMESTAMP(6) "
	    "WHERE id = ?", "i", link_id);
	if (st == JAMB_OK)
		st = link_account(db, rd, made_for, &rd->user_id);
	if (st != JAMB_OK || rd->user_id == 0)
		return st;
	if ((st = link_apply(db, rd)) == JAMB_OK)
		rd->ok = 1;
	return st;
}

/*
 * Uses the token of the body for rd's purpose (with a reset,
 * rd->password_hash is the new password's).  1 when it was used and
 * rd says for which account; 0 when not: resp holds the answer (a 422,
 * or a 401 for a token that is not usable), or *st the status of a
 * failure, logged.
 */
static int
redeem(struct req *req, struct resp *resp, struct redemption *rd,
    enum jamb_status *st)
{
	struct db_conn	*db = req->app->db;
	int		 fit;

	*st = JAMB_OK;
	if ((fit = body_token(req, resp, rd->hash)) < 0)
		return 0;
	if (fit && (*st = db_tx(db, redeem_tx, rd)) != JAMB_OK) {
		log_warn(req->id, "%s link use: %s", purposes[rd->purpose],
		    db_error(db));
		return 0;
	}
	if (rd->ok)
		return 1;
	auth_unauthorized(resp, req, "invalid_token", "the link is invalid, "
	    "expired or already used");
	return 0;
}

static void
redemption_init(struct redemption *rd, const struct req *req,
    enum link_purpose purpose)
{
	memset(rd, 0, sizeof(*rd));
	rd->purpose = purpose;
	rd->conf = req->app->conf;
}

/* Handlers */

static enum jamb_status
magic_link(struct req *req, struct resp *resp)
{
	return link_request(req, resp, LINK_LOGIN);
}

/* Signs in with a link's token: the answer of POST /v1/auth/login. */
static enum jamb_status
magic_link_verify(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "token", NULL };
	struct redemption	 rd;
	enum jamb_status	 st = JAMB_OK;

	redemption_init(&rd, req, LINK_LOGIN);
	if (!auth_body_check(req, resp, fields) ||
	    !redeem(req, resp, &rd, &st))
		goto out;
	st = auth_sign_in(req, resp, rd.user_id);
	if (st == JAMB_ENOTFOUND) {
		/* Deleted between the commit and now. */
		auth_unauthorized(resp, req, "invalid_token", "the link is "
		    "invalid, expired or already used");
		st = JAMB_OK;
	} else if (st == JAMB_OK)
		log_info(req->id, "sign-in by link: user %lld%s",
		    (long long)rd.user_id, rd.created ? ", new member" : "");
out:
	free(rd.email);
	return st;
}

/* Sends the signed-in member a link that verifies the address. */
static enum jamb_status
email_verify_request(struct req *req, struct resp *resp)
{
	struct db_conn		*db = req->app->db;
	struct db_rows		*r;
	struct outgoing		 o;
	char			*email = NULL;
	int			 verified = 0;
	enum jamb_status	 st;

	if (req->who.user_id <= 0) {
		resp_problem(resp, req, 403, "no-account", "Forbidden",
		    "API keys have no account");
		return JAMB_OK;
	}
	st = db_query(db, &r, "SELECT email, email_verified_at IS NOT NULL "
	    "FROM users WHERE id = ? AND deleted_at IS NULL", "i",
	    req->who.user_id);
	if (st != JAMB_OK) {
		log_warn(req->id, "verify link: %s", db_error(db));
		return st;
	}
	if (db_next(r)) {
		email = xstrdup(db_str(r, 0, NULL));
		verified = db_int(r, 1) != 0;
	}
	db_rows_free(r);

	memset(&o, 0, sizeof(o));
	if (email == NULL)
		auth_unauthorized(resp, req, "invalid_token", "the account of "
		    "this access token no longer exists");
	else if (verified)
		resp_problem(resp, req, 409, "already-verified", "Conflict",
		    "the account's email address is verified already");
	else if (!link_limited(req, resp, email)) {
		o.req = req;
		o.purpose = LINK_VERIFY;
		o.email = email;
		o.user_id = req->who.user_id;
		o.send = 1;
		if ((st = outgoing_prepare(&o, NULL)) == JAMB_OK)
			st = outgoing_finish(req, resp, &o);
	}
	outgoing_free(&o);
	free(email);
	return st;
}

/* Marks the address of a verification link as verified. */
static enum jamb_status
email_verify(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "token", NULL };
	struct redemption	 rd;
	enum jamb_status	 st = JAMB_OK;

	redemption_init(&rd, req, LINK_VERIFY);
	if (!auth_body_check(req, resp, fields) ||
	    !redeem(req, resp, &rd, &st))
		goto out;
	log_info(req->id, "email address of user %lld verified",
	    (long long)rd.user_id);
	resp->status = 204;
out:
	free(rd.email);
	return st;
}

static enum jamb_status
password_reset(struct req *req, struct resp *resp)
{
	return link_request(req, resp, LINK_RESET);
}

/*
 * Sets a new password with a reset link's token and signs the account
 * out everywhere.  The password is hashed before the token is looked
 * at, so that the row stays locked no longer than a few statements.
 */
static enum jamb_status
password_reset_confirm(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "token", "new_password",
	    NULL };
	struct redemption	 rd;
	const char		*token, *pw;
	char			*hash = NULL;
	enum jamb_status	 st = JAMB_OK;

	redemption_init(&rd, req, LINK_RESET);
	if (!auth_body_check(req, resp, fields) ||
	    !auth_body_string(req, resp, "token", 0, SIZE_MAX, &token) ||
	    !auth_body_string(req, resp, "new_password", AUTH_PASSWORD_MIN,
	    AUTH_PASSWORD_MAX, &pw))
		goto out;
	if ((st = password_hash(req->app->conf, pw, &hash)) != JAMB_OK) {
		log_error(req->id, "password reset: hashing the password "
		    "failed: %s", status_name(st));
		st = JAMB_EINTERNAL;
		goto out;
	}
	rd.password_hash = hash;
	if (!redeem(req, resp, &rd, &st))
		goto out;
	/* The account's failed sign-ins are forgiven with the new password. */
	auth_login_succeeded(req, rd.email);
	log_info(req->id, "password of user %lld reset; its sign-ins are "
	    "revoked", (long long)rd.user_id);
	resp->status = 204;
out:
	if (hash != NULL)
		explicit_bzero(hash, strlen(hash));
	free(hash);
	free(rd.email);
	return st;
}

const struct route links_routes[] = {
	{ "POST", "/v1/auth/magic-link", magic_link,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ "POST", "/v1/auth/magic-link/verify", magic_link_verify,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ "POST", "/v1/me/email/verify", email_verify_request,
	    ROUTE_ROLE(ROLE_MEMBER) },
	{ "POST", "/v1/auth/verify-email", email_verify,
	    ROUTE_BODY | ROUTE_JSON },
	{ "POST", "/v1/auth/password-reset", password_reset,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ "POST", "/v1/auth/password-reset/confirm", password_reset_confirm,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ NULL, NULL, NULL, 0 }
};
