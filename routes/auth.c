#include "config.h"

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
#include "password.h"
#include "routes.h"
#include "token.h"

/*
 * Accounts with a password: signup, sign-in, refresh and sign-out, and
 * the public keys that verify the access tokens.
 *
 * Signup never tells whether an address already has an account.  It
 * sends no mail (the address is verified later, by a link: see
 * routes/links.c), so it cannot answer "check your mail" and let the
 * mail tell the difference; instead it answers 202
 * {"status": "accepted"} in both cases, signs nobody in, and the client
 * signs in next with POST /v1/auth/login.  For an existing address
 * nothing is created and the stored password is left alone.  Both cases
 * hash the password once and try the same INSERT, which the unique key
 * on users.email refuses for an existing address, so they also take the
 * same time; what remains is the cost of one row write, small next to
 * the hash.
 *
 * Sign-in failures look the same for an unknown address and a wrong
 * password: the same 401, and the same Argon2id work, since an unknown
 * address is verified against a dummy hash made once per worker.  They
 * are counted per address and per client address (see
 * auth_login_blocked); unknown addresses count too, or the limit would
 * tell which accounts exist.
 *
 * Refresh tokens are 32 random bytes in hex, stored as their SHA-256,
 * one family per sign-in.  Each refresh replaces the token by a new one
 * of the same family; presenting a replaced token again means a copy
 * is in someone else's hands, and the whole family is revoked.  Two
 * refreshes racing with the same token look exactly like that, so a
 * client must not send them in parallel.
 */

#define EMAIL_MAX		AUTH_EMAIL_MAX
#define EMAIL_LOCAL_MAX		64
/* users.name is VARCHAR(200): characters, not bytes. */
#define ACCOUNT_NAME_MAX	200
#define REFRESH_BYTES		32
#define REFRESH_LEN		(2 * REFRESH_BYTES)
#define FAMILY_BYTES		16
#define SHA256_LEN		32
/* refresh_tokens.user_agent and .ip */
#define USER_AGENT_MAX		255
#define ADDR_MAX		45
/* Sign-in failure counter keys, which memcached limits to 250 bytes. */
#define LIMIT_KEY_LEN		128

/* A row of users, as sign-in and refresh need it. */
struct account {
	int64_t		 id;
	char		*email;
	char		*name;
	char		*hash;		/* NULL: no password */
	enum role	 role;
};

/* A fresh refresh token: the text for the client, the hash to store. */
struct refresh {
	char		 plain[REFRESH_LEN + 1];
	unsigned char	 hash[SHA256_LEN];
};

/* What a refresh found, decided inside its transaction. */
enum rotation_outcome {
	ROTATION_DONE,
	ROTATION_INVALID,	/* unknown, expired, revoked or no user */
	ROTATION_REUSED		/* already replaced: the family is revoked */
};

struct rotation {
	struct req		*req;
	unsigned char		 presented[SHA256_LEN];
	enum rotation_outcome	 outcome;
	struct account		 user;
	struct refresh		 next;
	char			*jwt;
	int64_t			 exp;
};

static void
sha256(const void *p, size_t n, unsigned char *md)
{
	unsigned int	 len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
}

static void
account_free(struct account *a)
{
	free(a->email);
	free(a->name);
	if (a->hash != NULL)
		explicit_bzero(a->hash, strlen(a->hash));
	free(a->hash);
	memset(a, 0, sizeof(*a));
}

/*
 * A user who has not been deleted, by id (email NULL) or by email.
 * JAMB_ENOTFOUND when there is none.
 */
static enum jamb_status
account_load(struct db_conn *db, int64_t id, const char *email,
    struct account *a)
{
	struct db_rows	*r;
	const char	*hash;
	enum jamb_status st;

	memset(a, 0, sizeof(*a));
	if (email != NULL)
		st = db_query(db, &r, "SELECT id, email, name, password_hash, "
		    "role FROM users WHERE email = ? AND deleted_at IS NULL",
		    "s", email);
	else
		st = db_query(db, &r, "SELECT id, email, name, password_hash, "
		    "role FROM users WHERE id = ? AND deleted_at IS NULL",
		    "i", id);
	if (st != JAMB_OK)
		return st;
	if (!db_next(r)) {
		db_rows_free(r);
		return JAMB_ENOTFOUND;
	}
	a->id = db_int(r, 0);
	a->email = xstrdup(db_str(r, 1, NULL));
	a->name = xstrdup(db_str(r, 2, NULL));
	if ((hash = db_str(r, 3, NULL)) != NULL)
		a->hash = xstrdup(hash);
	a->role = role_parse(db_str(r, 4, NULL));
	db_rows_free(r);
	return JAMB_OK;
}

/* Request bodies */

/* A 422 problem; "field" names the member at fault, if one is. */
static void
invalid_body(struct resp *resp, const struct req *req, const char *field,
    const char *detail)
{
	json_t	*doc;

	doc = resp_problem_doc(req, 422, "invalid-body",
	    "Unprocessable Content", detail);
	if (field != NULL)
		json_object_set_new(doc, "field", log_string(field));
	resp_problem_send(resp, doc);
}

/*
 * Whether the body is a JSON object with no member other than those of
 * allowed (NULL-terminated); when not, resp holds a 422 that names the
 * first unknown member.
 */
int
auth_body_check(struct req *req, struct resp *resp,
    const char *const *allowed)
{
	const char	*key, *const *a;
	json_t		*val;
	char		 detail[160];

	if (!json_is_object(req->json)) {
		invalid_body(resp, req, NULL, "the request body must be a "
		    "JSON object");
		return 0;
	}
	json_object_foreach(req->json, key, val) {
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a != NULL)
			continue;
		snprintf(detail, sizeof(detail), "unknown field \"%.64s\"",
		    key);
		invalid_body(resp, req, key, detail);
		return 0;
	}
	return 1;
}

/*
 * The member name of the body, which must be a string of min to max
 * bytes; when it is not, resp holds a 422 saying so.
 */
int
auth_body_string(struct req *req, struct resp *resp, const char *name,
    size_t min, size_t max, const char **out)
{
	json_t	*v = json_object_get(req->json, name);
	size_t	 n;
	char	 detail[160];

	*out = NULL;
	n = json_string_length(v);
	if (json_is_string(v) && n >= min && n <= max &&
	    strlen(json_string_value(v)) == n) {
		*out = json_string_value(v);
		return 1;
	}
	if (v == NULL)
		snprintf(detail, sizeof(detail), "%s is required", name);
	else if (!json_is_string(v))
		snprintf(detail, sizeof(detail), "%s must be a string", name);
	else
		snprintf(detail, sizeof(detail), "%s must be %zu to %zu bytes "
		    "long", name, min, max);
	invalid_body(resp, req, name, detail);
	return 0;
}

/*
 * The optional member "name": *out is NULL when it is absent, "" for
 * null, else its text, which must be at most ACCOUNT_NAME_MAX
 * characters without control characters.  0 with a 422 in resp if not.
 */
int
auth_body_name(struct req *req, struct resp *resp, const char **out)
{
	json_t			*v = json_object_get(req->json, "name");
	const unsigned char	*p;
	size_t			 chars = 0;
	int			 ok;

	*out = NULL;
	if (v == NULL)
		return 1;
	if (json_is_null(v)) {
		*out = "";
		return 1;
	}
	ok = json_is_string(v) &&
	    strlen(json_string_value(v)) == json_string_length(v);
	for (p = (const unsigned char *)json_string_value(v); ok && *p != '\0';
	    p++) {
		/* The JSON is valid UTF-8: count the lead bytes. */
		if ((*p & 0xc0) != 0x80)
			chars++;
		ok = *p >= 0x20 && *p != 0x7f && chars <= ACCOUNT_NAME_MAX;
	}
	if (!ok) {
		invalid_body(resp, req, "name", "name must be a string of at "
		    "most 200 characters without control characters, or "
		    "null");
		return 0;
	}
	*out = json_string_value(v);
	return 1;
}

/*
 * Checks an address and writes it to out (EMAIL_MAX + 1 bytes) trimmed
 * and with ASCII letters in lower case.  The check is simple on
 * purpose: one "@", a local part of up to 64 bytes, a domain with a dot
 * and no empty label, no white space or characters that only quoted
 * forms allow.  Returns 0 for anything else.
 */
static int
email_normalize(const char *in, char *out)
{
	const char	*end, *at, *p;
	size_t		 n, i;

	while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
		in++;
	end = in + strlen(in);
	while (end > in && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	n = (size_t)(end - in);
	if (n == 0 || n > EMAIL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c == 0x7f || strchr("\"(),:;<>[\\]", c))
			return 0;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') :
		    (char)c;
	}
	out[n] = '\0';

	if ((at = strchr(out, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	if (at == out || at - out > EMAIL_LOCAL_MAX)
		return 0;
	p = at + 1;
	if (*p == '.' || *p == '-' || strchr(p, '.') == NULL ||
	    strstr(p, "..") != NULL || out[n - 1] == '.' ||
	    out[n - 1] == '-')
		return 0;
	return 1;
}

/*
 * The member "email", normalised into out (AUTH_EMAIL_MAX + 1 bytes);
 * 0 with a 422 in resp.
 */
int
auth_body_email(struct req *req, struct resp *resp, char *out)
{
	const char	*s;

	if (!auth_body_string(req, resp, "email", 0, SIZE_MAX, &s))
		return 0;
	if (email_normalize(s, out))
		return 1;
	invalid_body(resp, req, "email", "email is not a valid email "
	    "address");
	return 0;
}

/* Sign-in failure counters */

/* Whether the counters' last use failed, to log changes only. */
static int	 limits_down;

static void
limits_state(const struct req *req, enum jamb_status st)
{
	if (st == JAMB_EUNAVAIL && !limits_down)
		log_warn(req->id, "sign-in failure counters are unavailable "
		    "(memcached): sign-in goes on without attempt limits");
	else if (st != JAMB_EUNAVAIL && limits_down)
		log_info(req->id, "sign-in failure counters are available "
		    "again");
	limits_down = st == JAMB_EUNAVAIL;
}

/* The counter keys of an account (by email) and of the client address. */
static void
limit_keys(const struct req *req, const char *email, char *acct,
    char *addr, size_t len)
{
	unsigned char	 md[SHA256_LEN];
	char		 hex[2 * SHA256_LEN + 1];

	sha256(email, strlen(email), md);
	hex_encode(hex, md, sizeof(md));
	snprintf(acct, len, "login:fail:email:%s", hex);
	snprintf(addr, len, "login:fail:ip:%.64s", req->client_addr);
}

/* The companion key holding when a counter's window started. */
static void
start_key(char *out, const char *key)
{
	snprintf(out, LIMIT_KEY_LEN + 8, "%.*s:start", LIMIT_KEY_LEN - 1,
	    key);
}

/* A counter's value: 0 when absent. */
static enum jamb_status
counter_get(struct cache *ca, const char *key, uint64_t *n)
{
	char		*val, num[24];
	size_t		 len;
	enum jamb_status st;

	*n = 0;
	if ((st = cache_get(ca, key, &val, &len)) != JAMB_OK)
		return st == JAMB_ENOTFOUND ? JAMB_OK : st;
	snprintf(num, sizeof(num), "%.*s", (int)(len < 23 ? len : 23), val);
	free(val);
	*n = strtoull(num, NULL, 10);
	return JAMB_OK;
}

/*
 * Seconds until the window of a counter ends.  Its start is kept in a
 * companion key; if that was lost, a whole window is the safe answer.
 */
static long
window_left(struct cache *ca, const char *key, long window)
{
	char		 k[LIMIT_KEY_LEN + 8], *val, num[24];
	size_t		 len;
	long		 left = window;

	start_key(k, key);
	if (cache_get(ca, k, &val, &len) == JAMB_OK) {
		snprintf(num, sizeof(num), "%.*s", (int)(len < 23 ? len : 23),
		    val);
		free(val);
		left = (long)(strtoll(num, NULL, 10) + window - time(NULL));
	}
	return left < 1 ? 1 : left > window ? window : left;
}

/*
 * Whether the account of email or the client's address failed to sign
 * in too often in its current window; when so, resp holds a 429 with
 * Retry-After.  Without memcached nothing is blocked.
 */
int
auth_login_blocked(struct req *req, struct resp *resp, const char *email)
{
	const struct conf	*c = req->app->conf;
	struct cache		*ca = req->app->cache;
	char			 keys[2][LIMIT_KEY_LEN], after[24];
	uint64_t		 max[2], n;
	enum jamb_status	 st = JAMB_OK;
	int			 i;

	limit_keys(req, email, keys[0], keys[1], sizeof(keys[0]));
	max[0] = (uint64_t)c->auth_login_max_account;
	max[1] = (uint64_t)c->auth_login_max_address;
	for (i = 0; i < 2; i++) {
		if ((st = counter_get(ca, keys[i], &n)) != JAMB_OK)
			break;
		if (n < max[i])
			continue;
		limits_state(req, JAMB_OK);
		snprintf(after, sizeof(after), "%ld", window_left(ca, keys[i],
		    c->auth_login_window));
		resp_problem(resp, req, 429, "too-many-attempts",
		    "Too Many Requests", "too many failed sign-ins for this "
		    "account or from this address; try again in %s seconds",
		    after);
		resp_header(resp, "Retry-After", after);
		log_info(req->id, "sign-in refused: %s limit reached",
		    i == 0 ? "account" : "address");
		return 1;
	}
	limits_state(req, st);
	return 0;
}

/* Counts a failed sign-in (or password check) against both limits. */
void
auth_login_failed(struct req *req, const char *email)
{
	const struct conf	*c = req->app->conf;
	struct cache		*ca = req->app->cache;
	char			 keys[2][LIMIT_KEY_LEN], k[LIMIT_KEY_LEN + 8];
	char			 now[24];
	uint64_t		 n;
	enum jamb_status	 st = JAMB_OK;
	int			 i;

	limit_keys(req, email, keys[0], keys[1], sizeof(keys[0]));
	for (i = 0; i < 2 && st == JAMB_OK; i++) {
		st = cache_incr(ca, keys[i], c->auth_login_window, &n);
		if (st != JAMB_OK || n != 1)
			continue;
		/* The first failure opens the window: note when. */
		start_key(k, keys[i]);
		snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
		st = cache_set(ca, k, now, strlen(now), c->auth_login_window);
	}
	limits_state(req, st);
}

/*
 * A successful sign-in forgives the account's failures; the address
 * keeps its count, or one account of an attacker's own would reset the
 * limit on guessing everyone else's.
 */
void
auth_login_succeeded(struct req *req, const char *email)
{
	struct cache	*ca = req->app->cache;
	char		 keys[2][LIMIT_KEY_LEN], k[LIMIT_KEY_LEN + 8];
	enum jamb_status st;

	limit_keys(req, email, keys[0], keys[1], sizeof(keys[0]));
	st = cache_delete(ca, keys[0]);
	if (st == JAMB_OK || st == JAMB_ENOTFOUND) {
		start_key(k, keys[0]);
		st = cache_delete(ca, k);
	}
	limits_state(req, st == JAMB_ENOTFOUND ? JAMB_OK : st);
}

/* Tokens */

/*
 * A hash with the configured parameters of a password nobody knows,
 * made once per worker: signing in with an unknown address costs what
 * a wrong password costs.  NULL if libargon2 failed.
 */
static const char *
dummy_hash(const struct conf *c)
{
	static char	*hash;
	unsigned char	 raw[16];
	char		 pw[33];

	if (hash != NULL)
		return hash;
	random_bytes(raw, sizeof(raw));
	hex_encode(pw, raw, sizeof(raw));
	if (password_hash(c, pw, &hash) != JAMB_OK)
		log_error(NULL, "cannot make the dummy password hash");
	return hash;
}

static void
refresh_new(struct refresh *r)
{
	unsigned char	 raw[REFRESH_BYTES];

	random_bytes(raw, sizeof(raw));
	hex_encode(r->plain, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	sha256(r->plain, REFRESH_LEN, r->hash);
}

/* The stored hash of a presented token; 0 if it cannot be one of ours. */
static int
refresh_hash(const char *plain, unsigned char *md)
{
	if (strlen(plain) != REFRESH_LEN ||
	    strspn(plain, "0123456789abcdef") != REFRESH_LEN)
		return 0;
	sha256(plain, REFRESH_LEN, md);
	return 1;
}

/*
 * A request header cut to fit a VARCHAR(max) column on a character
 * boundary, or NULL when absent or not valid UTF-8.  Freed by the
 * caller.
 */
static char *
column_text(const char *s, size_t max)
{
	size_t	 n;

	if (s == NULL || !utf8_valid(s, strlen(s)))
		return NULL;
	if ((n = strlen(s)) > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

/* Stores a refresh token of family for user_id, valid for refresh_ttl. */
static enum jamb_status
refresh_store(struct db_conn *db, const struct req *req, int64_t user_id,
    const unsigned char *family, const unsigned char *hash)
{
	char		*ua, *ip;
	time_t		 expires;
	enum jamb_status st;

	ua = column_text(req_header(req, "user-agent"), USER_AGENT_MAX);
	ip = strlen(req->client_addr) <= ADDR_MAX && *req->client_addr ?
	    xstrdup(req->client_addr) : NULL;
	expires = time(NULL) + req->app->conf->auth_refresh_ttl;
	st = db_exec(db, "INSERT INTO refresh_tokens (user_id, family_id, "
	    "token_hash, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?)",
	    "ibbtss", user_id, family, (size_t)FAMILY_BYTES, hash,
	    (size_t)SHA256_LEN, expires, ua, ip);
	free(ua);
	free(ip);
	return st;
}

/*
 * The answer of a sign-in or refresh.  Tokens must stay out of every
 * cache on the way, RFC 6749 section 5.1.
 */
static void
tokens_answer(struct req *req, struct resp *resp, const struct account *u,
    const char *jwt, int64_t exp, const char *refresh)
{
	json_t	*doc;

	doc = json_pack("{s:s, s:s, s:I, s:s, s:{s:I, s:s, s:s, s:s}}",
	    "access_token", jwt, "token_type", "Bearer",
	    "expires_in", (json_int_t)(exp - (int64_t)time(NULL)),
	    "refresh_token", refresh,
	    "user", "id", (json_int_t)u->id, "email", u->email,
	    "name", u->name, "role", role_name(u->role));
	resp_json(resp, 200, doc);
	resp_header(resp, "Cache-Control", "no-store");
	resp_header(resp, "Pragma", "no-cache");
}

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * Signs the account in: an access token and the first refresh token of
 * a new family, answered with 200.  A database failure is logged.
 */
static enum jamb_status
session_open(struct req *req, struct resp *resp, const struct account *u)
{
	struct db_conn		*db = req->app->db;
	struct refresh		 rt;
	unsigned char		 family[FAMILY_BYTES];
	char			*jwt = NULL;
	int64_t			 exp;
	enum jamb_status	 st;

	if ((st = token_issue(req->app, u->id, u->role, NULL, &jwt, &exp)) !=
	    JAMB_OK)
		return st;
	random_bytes(family, sizeof(family));
	refresh_new(&rt);
	if ((st = refresh_store(db, req, u->id, family, rt.hash)) == JAMB_OK)
		tokens_answer(req, resp, u, jwt, exp, rt.plain);
	else
		log_warn(req->id, "sign-in: %s", db_error(db));
	free_secret(jwt);
	explicit_bzero(&rt, sizeof(rt));
	return st;
}

/*
 * Signs in the account user_id, for other ways of proving who one is
 * (an emailed link): the same answer as POST /v1/auth/login.
 * JAMB_ENOTFOUND, with nothing answered, when the account is gone.
 */
enum jamb_status
auth_sign_in(struct req *req, struct resp *resp, int64_t user_id)
{
	struct db_conn		*db = req->app->db;
	struct account		 u;
	enum jamb_status	 st;

	st = account_load(db, user_id, NULL, &u);
	if (st == JAMB_OK)
		st = session_open(req, resp, &u);
	else if (st != JAMB_ENOTFOUND)
		log_warn(req->id, "sign-in: %s", db_error(db));
	account_free(&u);
	return st;
}

/* Handlers */

static enum jamb_status
signup(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "email", "password", "name",
	    NULL };
	struct db_conn		*db = req->app->db;
	char			 email[EMAIL_MAX + 1], *hash = NULL;
	const char		*pw, *name;
	enum jamb_status	 st;

	if (!auth_body_check(req, resp, fields) ||
	    !auth_body_email(req, resp, email) ||
	    !auth_body_string(req, resp, "password", AUTH_PASSWORD_MIN,
	    AUTH_PASSWORD_MAX, &pw) ||
	    !auth_body_name(req, resp, &name))
		return JAMB_OK;
	if ((st = password_hash(req->app->conf, pw, &hash)) != JAMB_OK) {
		log_error(req->id, "signup: hashing the password failed: %s",
		    status_name(st));
		return JAMB_EINTERNAL;
	}

	st = db_exec(db, "INSERT INTO users (email, password_hash, name) "
	    "VALUES (?, ?, ?)", "sss", email, hash, name ? name : "");
	free_secret(hash);
	if (st == JAMB_OK)
		log_info(req->id, "signup: account %llu created",
		    (unsigned long long)db_insert_id(db));
	else if (st == JAMB_ECONFLICT)
		log_info(req->id, "signup: the address has an account; "
		    "nothing changed");
	else {
		log_warn(req->id, "signup: %s", db_error(db));
		return st;
	}
	resp_json(resp, 202, json_pack("{s:s}", "status", "accepted"));
	return JAMB_OK;
}

/* Hashes the password again with the current parameters, if it may. */
static void
rehash(struct req *req, const struct account *u, const char *pw)
{
	struct db_conn		*db = req->app->db;
	char			*hash;
	enum jamb_status	 st;

	if (!password_needs_rehash(req->app->conf, u->hash))
		return;
	if (password_hash(req->app->conf, pw, &hash) != JAMB_OK) {
		log_warn(req->id, "sign-in: new password hash failed");
		return;
	}
	/* Only over the hash just verified, never a newer one. */
	st = db_exec(db, "UPDATE users SET password_hash = ? WHERE id = ? "
	    "AND password_hash = ?", "sis", hash, u->id, u->hash);
	free_secret(hash);
	if (st != JAMB_OK)
		log_warn(req->id, "sign-in: storing the new password hash: "
		    "%s", db_error(db));
}

static enum jamb_status
login(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "email", "password", NULL };
	struct db_conn		*db = req->app->db;
	struct account		 u;
	const char		*pw, *hash;
	char			 email[EMAIL_MAX + 1];
	enum jamb_status	 st;
	int			 ok;

	if (!auth_body_check(req, resp, fields) ||
	    !auth_body_email(req, resp, email) ||
	    !auth_body_string(req, resp, "password", 1, AUTH_PASSWORD_MAX,
	    &pw))
		return JAMB_OK;
	if (auth_login_blocked(req, resp, email))
		return JAMB_OK;
	/* Made before the look-up, so that its cost is never telling. */
	hash = dummy_hash(req->app->conf);
	st = account_load(db, 0, email, &u);
	if (st != JAMB_OK && st != JAMB_ENOTFOUND) {
		log_warn(req->id, "sign-in: %s", db_error(db));
		return st;
	}
	if (st == JAMB_OK && u.hash != NULL)
		hash = u.hash;
	ok = password_verify(hash, pw) && hash == u.hash;
	if (!ok) {
		auth_login_failed(req, email);
		auth_unauthorized(resp, req, NULL, "the email address or "
		    "password is wrong");
		goto out;
	}
	rehash(req, &u, pw);
	auth_login_succeeded(req, email);

	if ((st = session_open(req, resp, &u)) == JAMB_OK)
		log_info(req->id, "sign-in: user %lld", (long long)u.id);
out:
	account_free(&u);
	return st == JAMB_ENOTFOUND ? JAMB_OK : st;
}

/* Revokes every token of a family that is still usable. */
static enum jamb_status
family_revoke(struct db_conn *db, const unsigned char *family)
{
	return db_exec(db, "UPDATE refresh_tokens SET revoked_at = "
	    "UTC_TIMESTAMP(6) WHERE family_id = ? AND revoked_at IS NULL", "b",
	    family, (size_t)FAMILY_BYTES);
}

/* A stored refresh token, locked for the rest of the transaction. */
struct stored_token {
	int64_t		 id;
	int64_t		 user_id;
	unsigned char	 family[FAMILY_BYTES];
	int		 rotated;
	int		 dead;		/* revoked or expired */
};

/* Looks a token up by its hash; JAMB_ENOTFOUND when there is none. */
static enum jamb_status
token_lock(struct db_conn *db, const unsigned char *hash,
    struct stored_token *t)
{
	struct db_rows		*r;
	const char		*fam;
	size_t			 len = 0;
	enum jamb_status	 st;

	st = db_query(db, &r, "SELECT id, user_id, family_id, rotated_at IS "
	    "NOT NULL, revoked_at IS NOT NULL OR expires_at <= "
	    "UTC_TIMESTAMP(6) FROM refresh_tokens WHERE token_hash = ? "
	    "FOR UPDATE", "b", hash, (size_t)SHA256_LEN);
	if (st != JAMB_OK)
		return st;
	st = JAMB_ENOTFOUND;
	if (db_next(r) && (fam = db_str(r, 2, &len)) != NULL &&
	    len == FAMILY_BYTES) {
		t->id = db_int(r, 0);
		t->user_id = db_int(r, 1);
		memcpy(t->family, fam, FAMILY_BYTES);
		t->rotated = db_int(r, 3) != 0;
		t->dead = db_int(r, 4) != 0;
		st = JAMB_OK;
	}
	db_rows_free(r);
	return st;
}

/*
 * The transaction of a refresh, run again by db_tx after a deadlock:
 * it starts by forgetting what an earlier run made.  A reused token's
 * family is revoked and committed (JAMB_OK with ROTATION_REUSED); the
 * 401 is answered afterwards.
 */
static enum jamb_status
rotate(struct db_conn *db, void *arg)
{
	struct rotation		*rot = arg;
	struct stored_token	 t;
	enum jamb_status	 st;

	account_free(&rot->user);
	free_secret(rot->jwt);
	rot->jwt = NULL;
	rot->outcome = ROTATION_INVALID;

	if ((st = token_lock(db, rot->presented, &t)) != JAMB_OK)
		return st == JAMB_ENOTFOUND ? JAMB_OK : st;
	if (t.dead)
		return JAMB_OK;
	if (t.rotated) {
		if ((st = family_revoke(db, t.family)) == JAMB_OK)
			rot->outcome = ROTATION_REUSED;
		return st;
	}

	/* The role is today's, not the one the old token was made for. */
	st = account_load(db, t.user_id, NULL, &rot->user);
	if (st == JAMB_ENOTFOUND)
		return JAMB_OK;
	if (st == JAMB_OK)
		st = db_exec(db, "UPDATE refresh_tokens SET rotated_at = "
		    "UTC_TIMESTAMP(6) WHERE id = ?", "i", t.id);
	if (st != JAMB_OK)
		return st;
	refresh_new(&rot->next);
	st = refresh_store(db, rot->req, t.user_id, t.family, rot->next.hash);
	if (st == JAMB_OK)
		st = token_issue(rot->req->app, t.user_id, rot->user.role,
		    NULL, &rot->jwt, &rot->exp);
	if (st == JAMB_OK)
		rot->outcome = ROTATION_DONE;
	return st;
}

static enum jamb_status
refresh(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "refresh_token", NULL };
	struct db_conn		*db = req->app->db;
	struct rotation		 rot;
	const char		*plain;
	enum jamb_status	 st = JAMB_OK;

	if (!auth_body_check(req, resp, fields) ||
	    !auth_body_string(req, resp, "refresh_token", 0, SIZE_MAX,
	    &plain))
		return JAMB_OK;
	memset(&rot, 0, sizeof(rot));
	rot.req = req;
	rot.outcome = ROTATION_INVALID;
	if (refresh_hash(plain, rot.presented) &&
	    (st = db_tx(db, rotate, &rot)) != JAMB_OK) {
		if (st != JAMB_ECONFIG)
			log_warn(req->id, "refresh: %s", db_error(db));
		goto out;
	}
	switch (rot.outcome) {
	case ROTATION_DONE:
		tokens_answer(req, resp, &rot.user, rot.jwt, rot.exp,
		    rot.next.plain);
		break;
	case ROTATION_REUSED:
		log_warn(req->id, "refresh: a replaced token was presented "
		    "again; its sign-in is revoked");
		/* FALLTHROUGH */
	case ROTATION_INVALID:
		auth_unauthorized(resp, req, "invalid_token", "the refresh "
		    "token is invalid, expired or revoked");
		break;
	}
out:
	account_free(&rot.user);
	free_secret(rot.jwt);
	explicit_bzero(&rot.next, sizeof(rot.next));
	return st;
}

/* Ends the sign-in the token belongs to; unknown tokens are no error. */
static enum jamb_status
logout(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "refresh_token", NULL };
	struct db_conn		*db = req->app->db;
	unsigned char		 md[SHA256_LEN];
	const char		*plain;
	enum jamb_status	 st;

	if (!auth_body_check(req, resp, fields) ||
	    !auth_body_string(req, resp, "refresh_token", 0, SIZE_MAX,
	    &plain))
		return JAMB_OK;
	if (refresh_hash(plain, md)) {
		st = db_exec(db, "UPDATE refresh_tokens AS r JOIN "
		    "refresh_tokens AS t ON t.family_id = r.family_id "
		    "SET r.revoked_at = UTC_TIMESTAMP(6) "
		    "WHERE t.token_hash = ? AND r.revoked_at IS NULL", "b", md,
		    (size_t)SHA256_LEN);
		if (st != JAMB_OK) {
			log_warn(req->id, "sign-out: %s", db_error(db));
			return st;
		}
	}
	resp->status = 204;
	return JAMB_OK;
}

/* The public keys of the access tokens, for anyone to verify them. */
static enum jamb_status
jwks(struct req *req, struct resp *resp)
{
	resp_json(resp, 200, token_jwks(req->app->tokens));
	resp_header(resp, "Cache-Control", "public, max-age=300");
	return JAMB_OK;
}

const struct route auth_routes[] = {
	{ "POST", "/v1/auth/signup", signup,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ "POST", "/v1/auth/login", login,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ "POST", "/v1/auth/refresh", refresh,
	    ROUTE_BODY | ROUTE_JSON | ROUTE_RL_STRICT },
	{ "POST", "/v1/auth/logout", logout, ROUTE_BODY | ROUTE_JSON },
	{ "GET", "/v1/.well-known/jwks.json", jwks, ROUTE_PUBLIC },
	{ NULL, NULL, NULL, 0 }
};
