#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "idp.h"
#include "jwk.h"
#include "jwt.h"
#include "log.h"
#include "token.h"
#include "util.h"

struct token_keys {
	struct jwk_set		*set;		/* signing key and older ones */
	const struct jwk	*signer;	/* NULL: tokens cannot be issued */
	enum jwt_alg		 alg;
	unsigned int		 algs;		/* accepted when verifying */
};

void
token_keys_free(struct token_keys *k)
{
	if (k == NULL)
		return;
	jwk_set_free(k->set);
	free(k);
}

/* Adds each file of a comma-separated list of PEM files. */
static enum jamb_status
load_list(struct jwk_set *set, const char *list, char *err, size_t errlen)
{
	char		*copy, *item, *save = NULL;
	enum jamb_status st = JAMB_OK;

	copy = xstrdup(list);
	for (item = strtok_r(copy, ", \t", &save); item != NULL && st ==
	    JAMB_OK; item = strtok_r(NULL, ", \t", &save))
		st = jwk_set_load_file(set, item, NULL, NULL, err, errlen);
	free(copy);
	return st;
}

/*
 * Loads the keys of [auth].  Verification accepts the signing
 * algorithm and, for older keys, whatever their type allows, minus
 * HMAC unless HS256 is configured.  Returns NULL with err set when a
 * key cannot be loaded or does not fit the algorithm.
 */
struct token_keys *
token_keys_load(const struct conf *c, char *err, size_t errlen)
{
	struct token_keys	*k;
	enum jamb_status	 st = JAMB_OK;
	const char		*secret = c->auth_hmac_secret;

	k = xcalloc(1, sizeof(*k));
	k->set = jwk_set_new();
	if (jwt_alg_from_name(c->auth_signing_alg, &k->alg) != 0) {
		snprintf(err, errlen, "[auth] signing_alg: unknown algorithm "
		    "\"%s\"", c->auth_signing_alg);
		goto fail;
	}
	k->algs = JWT_ALGS_ASYMMETRIC;
	if (JWT_ALG_BIT(k->alg) & JWT_ALGS_HMAC) {
		k->algs = JWT_ALG_BIT(k->alg);
		if (*secret != '\0')
			st = jwk_set_add_secret(k->set, secret, strlen(secret),
			    NULL, jwt_alg_name(k->alg), err, errlen);
	} else if (*c->auth_signing_key != '\0')
		st = jwk_set_load_file(k->set, c->auth_signing_key, NULL,
		    jwt_alg_name(k->alg), err, errlen);
	if (st == JAMB_OK && jwk_set_count(k->set) > 0) {
		k->signer = jwk_set_at(k->set, 0);
		if (!jwk_is_private(k->signer) ||
		    !jwk_allows(k->signer, k->alg)) {
			snprintf(err, errlen, "[auth] signing_key: not a "
			    "private key for %s", jwt_alg_name(k->alg));
			goto fail;
		}
	}
	if (st == JAMB_OK && *c->auth_verify_keys != '\0')
		st = load_list(k->set, c->auth_verify_keys, err, errlen);
	if (st != JAMB_OK)
		goto fail;
	return k;
fail:
	token_keys_free(k);
	return NULL;
}

int
token_can_sign(const struct token_keys *k)
{
	return k != NULL && k->signer != NULL;
}

/* The public keys, for GET /v1/.well-known/jwks.json. */
json_t *
token_jwks(const struct token_keys *k)
{
	if (k == NULL)
		return json_pack("{s:[]}", "keys");
	return jwk_set_public(k->set);
}

/*
 * Signs an access token for a user: iss, aud, sub (the user id as a
 * string, as RFC 7519 wants), iat, exp, jti, role, and the members of
 * extra (may be NULL).  *token is the caller's to free; *exp its expiry.
 */
enum jamb_status
token_issue(struct app *app, int64_t user_id, enum role role,
    const json_t *extra, char **token, int64_t *exp)
{
	const struct conf	*c = app->conf;
	unsigned char		 raw[16];
	char			 jti[33], sub[24], err[256];
	json_t			*claims;
	time_t			 now = time(NULL);
	enum jamb_status	 st;

	*token = NULL;
	if (!token_can_sign(app->tokens)) {
		log_error(NULL, "no token signing key: set [auth] "
		    "signing_key (or hmac_secret for HS256)");
		return JAMB_ECONFIG;
	}
	random_bytes(raw, sizeof(raw));
	hex_encode(jti, raw, sizeof(raw));
	snprintf(sub, sizeof(sub), "%lld", (long long)user_id);
	*exp = (int64_t)now + c->auth_access_ttl;
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
	    "iss", c->auth_issuer, "aud", c->auth_audience, "sub", sub,
	    "iat", (json_int_t)now, "exp", (json_int_t)*exp, "jti", jti,
	    "role", role_name(role));
	if (extra != NULL)
		json_object_update(claims, (json_t *)extra);
	st = jwt_sign(app->tokens->signer, app->tokens->alg, NULL, claims,
	    token, err, sizeof(err));
	json_decref(claims);
	if (st != JAMB_OK)
		log_error(NULL, "signing an access token: %s", err);
	return st;
}

/*
 * Verifies one of jamb's access tokens and fills who.  JAMB_EINVAL with
 * a reason in why for anything that is not a valid, current token of
 * this issuer and audience with a user and a known role.
 */
enum jamb_status
token_verify(struct app *app, const char *tok, struct principal *who,
    char *why, size_t whylen)
{
	const struct conf	*c = app->conf;
	struct jwt_policy	 pol;
	json_t			*claims = NULL;
	const char		*sub, *role;
	char			*end, *iss;
	long long		 id;
	enum jamb_status	 st;

	/* A token of a configured identity provider goes to its keys. */
	if (strlen(tok) <= JWT_MAX_TOKEN &&
	    (iss = jwt_peek(tok, 1, "iss")) != NULL) {
		if (strcmp(iss, c->auth_issuer) != 0 &&
		    idp_knows(app->idp, iss)) {
			st = idp_verify(app, tok, iss, who, why, whylen);
			free(iss);
			return st;
		}
		free(iss);
	}
	if (app->tokens == NULL || jwk_set_count(app->tokens->set) == 0) {
		snprintf(why, whylen, "no token keys are configured");
		return JAMB_EINVAL;
	}
	jwt_policy_init(&pol);
	pol.algs = app->tokens->algs;
	pol.issuer = c->auth_issuer;
	pol.audience = c->auth_audience;
	pol.leeway = c->auth_leeway;
	/* Explicit typing: a token minted for another use is no access. */
	pol.typ = "JWT";
	st = jwt_verify(tok, strlen(tok), app->tokens->set, &pol, NULL,
	    &claims, why, whylen);
	if (st != JAMB_OK)
		return st;

	sub = json_string_value(json_object_get(claims, "sub"));
	role = json_string_value(json_object_get(claims, "role"));
	errno = 0;
	id = sub != NULL ? strtoll(sub, &end, 10) : 0;
	if (sub == NULL || *end != '\0' || errno != 0 || id <= 0 ||
	    role_parse(role) == ROLE_NONE) {
		snprintf(why, whylen, "token without a user id or role");
		json_decref(claims);
		return JAMB_EINVAL;
	}
	who->kind = PRINCIPAL_TOKEN;
	who->user_id = id;
	who->role = role_parse(role);
	who->claims = claims;
	return JAMB_OK;
}

/*
 * Tokens for other uses than access (draft previews, ...): signed with
 * the same key, but with their own "typ" header and an audience of
 * "<[auth] audience>:<typ>", so neither kind passes for the other
 * (RFC 8725 section 3.11).  claims gets iss, aud and iat added and is
 * left to the caller, who sets exp.
 */
enum jamb_status
token_sign_typed(struct app *app, const char *typ, json_t *claims,
    char **out)
{
	const struct conf	*c = app->conf;
	char			 aud[300], err[256];
	json_t			*hdr;
	enum jamb_status	 st;

	*out = NULL;
	if (!token_can_sign(app->tokens)) {
		log_error(NULL, "no token signing key: set [auth] "
		    "signing_key (or hmac_secret for HS256)");
		return JAMB_ECONFIG;
	}
	snprintf(aud, sizeof(aud), "%s:%s", c->auth_audience, typ);
	json_object_set_new(claims, "iss", json_string(c->auth_issuer));
	json_object_set_new(claims, "aud", json_string(aud));
	json_object_set_new(claims, "iat", json_integer(time(NULL)));
	hdr = json_pack("{s:s}", "typ", typ);
	st = jwt_sign(app->tokens->signer, app->tokens->alg, hdr, claims,
	    out, err, sizeof(err));
	json_decref(hdr);
	if (st != JAMB_OK)
		log_error(NULL, "signing a %s token: %s", typ, err);
	return st;
}

/* Verifies a token made by token_sign_typed with the same typ. */
enum jamb_status
token_verify_typed(struct app *app, const char *tok, const char *typ,
    json_t **claims, char *why, size_t whylen)
{
	const struct conf	*c = app->conf;
	struct jwt_policy	 pol;
	char			 aud[300];

	*claims = NULL;
	if (app->tokens == NULL || jwk_set_count(app->tokens->set) == 0) {
		snprintf(why, whylen, "no token keys are configured");
		return JAMB_EINVAL;
	}
	snprintf(aud, sizeof(aud), "%s:%s", c->auth_audience, typ);
	jwt_policy_init(&pol);
	pol.algs = app->tokens->algs;
	pol.issuer = c->auth_issuer;
	pol.audience = aud;
	pol.typ = typ;
	pol.leeway = c->auth_leeway;
	return jwt_verify(tok, strlen(tok), app->tokens->set, &pol, NULL,
	    claims, why, whylen);
}
