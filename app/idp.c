#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "fetch.h"
#include "idp.h"
#include "jwk.h"
#include "jwt.h"
#include "log.h"
#include "util.h"

/* A JWKS larger than this is not a key set anyone should serve. */
#define JWKS_MAX	(256 * 1024)
#define FETCH_TIMEOUT	5

struct idp_keys {
	const struct conf_issuer *cf;
	struct jwk_set		*set;		/* NULL until loaded */
	int64_t			 loaded_at;	/* clock_us() */
	int64_t			 fetched_at;	/* last fetch attempt */
};

struct idp {
	struct idp_keys		*v;
	size_t			 n;
};

struct idp *
idp_new(const struct conf *c)
{
	struct idp	*idp;
	size_t		 i;

	idp = xcalloc(1, sizeof(*idp));
	idp->n = c->nissuers;
	idp->v = xcalloc(idp->n ? idp->n : 1, sizeof(*idp->v));
	for (i = 0; i < idp->n; i++)
		idp->v[i].cf = &c->issuers[i];
	return idp;
}

void
idp_free(struct idp *idp)
{
	size_t	 i;

	if (idp == NULL)
		return;
	for (i = 0; i < idp->n; i++)
		jwk_set_free(idp->v[i].set);
	free(idp->v);
	free(idp);
}

static struct idp_keys *
find(const struct idp *idp, const char *iss)
{
	size_t	 i;

	for (i = 0; idp != NULL && i < idp->n; i++)
		if (strcmp(idp->v[i].cf->url, iss) == 0)
			return &idp->v[i];
	return NULL;
}

/* Whether iss is a configured external issuer. */
int
idp_knows(const struct idp *idp, const char *iss)
{
	return find(idp, iss) != NULL;
}

/* Replaces the worker's keys with those of a JWKS text. */
static enum jamb_status
install(struct idp_keys *k, const char *text, size_t len, char *err,
    size_t errlen)
{
	struct jwk_set	*set = jwk_set_new();
	enum jamb_status st;

	st = jwk_set_add_jwks(set, text, len, NULL, err, errlen);
	if (st != JAMB_OK) {
		jwk_set_free(set);
		return st;
	}
	jwk_set_free(k->set);
	k->set = set;
	k->loaded_at = clock_us();
	return JAMB_OK;
}

/*
 * Brings the keys from their source: the file, or the URL.  Fetches
 * are spaced by the issuer's refresh interval, so a flood of tokens
 * with made-up kids cannot make jamb hammer the provider.
 */
static enum jamb_status
fetch(struct app *app, struct idp_keys *k, char *err, size_t errlen)
{
	struct buf	 b;
	char		 key[300];
	enum jamb_status st;
	int64_t		 now = clock_us();

	if (k->fetched_at != 0 && now - k->fetched_at < k->cf->refresh *
	    1000000LL) {
		snprintf(err, errlen, "keys of %s fetched less than %ld s ago",
		    k->cf->url, k->cf->refresh);
		return JAMB_ENOTFOUND;
	}
	k->fetched_at = now;
	buf_init(&b);
	if (*k->cf->jwks_file != '\0') {
		struct jwk_set	*set = jwk_set_new();

		st = jwk_set_load_file(set, k->cf->jwks_file, NULL, NULL, err,
		    errlen);
		if (st == JAMB_OK) {
			jwk_set_free(k->set);
			k->set = set;
			k->loaded_at = now;
		} else
			jwk_set_free(set);
		buf_free(&b);
		return st;
	}
	st = fetch_get(k->cf->jwks_url, JWKS_MAX, FETCH_TIMEOUT, &b, err,
	    errlen);
	if (st == JAMB_OK && (st = install(k, b.data, b.len, err, errlen)) ==
	    JAMB_OK) {
		snprintf(key, sizeof(key), "jwks:%s", k->cf->jwks_url);
		cache_set(app->cache, key, b.data, b.len, k->cf->ttl);
		log_info(NULL, "fetched the keys of %s", k->cf->url);
	}
	buf_free(&b);
	return st;
}

/*
 * Makes sure the worker has keys no older than the issuer's ttl: from
 * memcached when another worker or host fetched them, else from their
 * source.
 */
static enum jamb_status
ensure(struct app *app, struct idp_keys *k, char *err, size_t errlen)
{
	char		 key[300], *text;
	size_t		 len;

	if (k->set != NULL && clock_us() - k->loaded_at < k->cf->ttl *
	    1000000LL)
		return JAMB_OK;
	if (*k->cf->jwks_url != '\0') {
		snprintf(key, sizeof(key), "jwks:%s", k->cf->jwks_url);
		if (cache_get(app->cache, key, &text, &len) == JAMB_OK) {
			enum jamb_status st = install(k, text, len, err,
			    errlen);

			free(text);
			if (st == JAMB_OK)
				return JAMB_OK;
		}
	}
	if (fetch(app, k, err, errlen) == JAMB_OK || k->set != NULL)
		return JAMB_OK;
	return JAMB_EUNAVAIL;
}

/*
 * A placeholder address for an identity without a usable email: unique
 * per (iss, sub), and in .invalid so nothing is ever sent to it.
 */
static void
placeholder_email(const char *iss, const char *sub, char *out, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, iss, strlen(iss) + 1);
	EVP_DigestUpdate(ctx, sub, strlen(sub));
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex_encode(hex, md, 12);
	snprintf(out, len, "%.24s@external.invalid", hex);
}

struct newuser {
	const char	*iss;
	const char	*sub;
	const char	*email;
	const char	*name;
	int64_t		 id;
};

static enum jamb_status
create_user(struct db_conn *db, void *arg)
{
	struct newuser	*nu = arg;
	enum jamb_status st;

	st = db_exec(db, "INSERT INTO users (email, name, role, "
	    "email_verified_at) VALUES (?, ?, 'member', NOW(6))", "ss",
	    nu->email, nu->name);
	if (st != JAMB_OK)
		return st;
	nu->id = (int64_t)db_insert_id(db);
	return db_exec(db, "INSERT INTO user_identities (user_id, issuer, "
	    "subject, email, last_seen_at) VALUES (?, ?, ?, ?, NOW(6))",
	    "isss", nu->id, nu->iss, nu->sub, nu->email);
}

static enum jamb_status
lookup(struct db_conn *db, const char *iss, const char *sub,
    struct principal *who)
{
	struct db_rows	*r;
	enum jamb_status st;

	st = db_query(db, &r, "SELECT u.id, u.role FROM user_identities i "
	    "JOIN users u ON u.id = i.user_id WHERE i.issuer = ? AND "
	    "i.subject = ? AND u.deleted_at IS NULL", "ss", iss, sub);
	if (st != JAMB_OK)
		return st;
	st = JAMB_ENOTFOUND;
	if (db_next(r)) {
		who->user_id = db_int(r, 0);
		who->role = role_parse(db_str(r, 1, NULL));
		st = JAMB_OK;
	}
	db_rows_free(r);
	return st;
}

/*
 * The local user of a verified external identity, created at first
 * sight as a member.  The provider's email is used only when it says
 * the address is verified and no account has it yet: an identity is
 * never attached to an existing account by email, since that would let
 * whoever controls a provider's account take over a jamb one.
 */
static enum jamb_status
local_user(struct app *app, const char *iss, const char *sub,
    const json_t *claims, struct principal *who)
{
	struct newuser	 nu;
	const char	*email, *name;
	char		 placeholder[80];
	int64_t		 taken = 0;
	enum jamb_status st;
	int		 usable;

	if ((st = lookup(app->db, iss, sub, who)) != JAMB_ENOTFOUND)
		return st;
	email = json_string_value(json_object_get(claims, "email"));
	name = json_string_value(json_object_get(claims, "name"));
	usable = email != NULL && strlen(email) <= 254 &&
	    strchr(email, '@') != NULL &&
	    json_is_true(json_object_get(claims, "email_verified"));
	if (usable && (st = db_query_int(app->db, &taken, "SELECT COUNT(*) "
	    "FROM users WHERE email = ?", "s", email)) != JAMB_OK)
		return st;
	if (!usable || taken != 0) {
		placeholder_email(iss, sub, placeholder, sizeof(placeholder));
		email = placeholder;
	}
	nu.iss = iss;
	nu.sub = sub;
	nu.email = email;
	nu.name = name != NULL && strlen(name) <= 200 ? name : "";
	st = db_tx(app->db, create_user, &nu);
	/* Another worker created it first: read theirs. */
	if (st == JAMB_ECONFLICT || st == JAMB_OK)
		st = lookup(app->db, iss, sub, who);
	return st;
}

/*
 * Verifies a token of the external issuer iss (already read from the
 * unverified payload) and fills who with its local user.  JAMB_EINVAL
 * with why for a token that does not verify; JAMB_EUNAVAIL when no keys
 * could be had or the database is down.
 */
enum jamb_status
idp_verify(struct app *app, const char *tok, const char *iss,
    struct principal *who, char *why, size_t whylen)
{
	struct idp_keys		*k = find(app->idp, iss);
	struct jwt_policy	 pol;
	json_t			*claims = NULL;
	const char		*sub;
	char			*kid, err[256];
	enum jamb_status	 st;

	if (k == NULL || ensure(app, k, err, sizeof(err)) != JAMB_OK) {
		log_warn(NULL, "no keys for issuer %s: %s", iss,
		    k ? err : "not configured");
		snprintf(why, whylen, "keys of the issuer unavailable");
		return k == NULL ? JAMB_EINVAL : JAMB_EUNAVAIL;
	}
	if ((kid = jwt_peek(tok, 0, "kid")) != NULL &&
	    jwk_set_find(k->set, kid) == NULL &&
	    fetch(app, k, err, sizeof(err)) != JAMB_OK)
		log_info(NULL, "unknown kid from %s, keys not refetched: %s",
		    iss, err);
	free(kid);

	jwt_policy_init(&pol);
	if (jwt_alg_list(k->cf->algs, &pol.algs, err, sizeof(err)) !=
	    JAMB_OK) {
		snprintf(why, whylen, "[issuer %s] algs: %s", k->cf->name,
		    err);
		return JAMB_EINVAL;
	}
	pol.issuer = k->cf->url;
	pol.audience = *k->cf->audience != '\0' ? k->cf->audience : NULL;
	pol.leeway = app->conf->auth_leeway;
	st = jwt_verify(tok, strlen(tok), k->set, &pol, NULL, &claims, why,
	    whylen);
	if (st != JAMB_OK)
		return st;
	if ((sub = json_string_value(json_object_get(claims, "sub"))) ==
	    NULL || *sub == '\0' || strlen(sub) > 255) {
		snprintf(why, whylen, "token without a usable sub");
		json_decref(claims);
		return JAMB_EINVAL;
	}
	if ((st = local_user(app, iss, sub, claims, who)) != JAMB_OK) {
		json_decref(claims);
		return st == JAMB_ENOTFOUND ? JAMB_EINVAL : st;
	}
	who->kind = PRINCIPAL_EXTERNAL;
	who->claims = claims;
	return JAMB_OK;
}
