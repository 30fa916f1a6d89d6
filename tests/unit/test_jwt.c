/*
 * Unit tests for app/jwt.c: the RFC 7515 examples, sign-then-verify for
 * every algorithm, every refusal of jwt_verify with its reason, the
 * algorithm list and base64url.  Keys themselves: test_jwk.c.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose.h"
#include "jwk.h"
#include "jwt.h"
#include "util.h"

/* A token valid at NOW; exp an hour later. */
#define NOW		1700000000
#define CLAIMS		"{\"sub\":\"42\",\"exp\":1700003600}"

/*
 * Keys made once, before Check forks the tests: one private key per
 * kind under the kid given by kid_for(), and the same keys as a
 * verifier holds them: the published JWKS plus the HMAC secret.
 */
static struct jwk_set	*keys;
static struct jwk_set	*pub;
static unsigned char	 secret[64];

static const char *
kid_for(enum jwt_alg alg)
{
	switch (alg) {
	case JWT_ALG_HS256:
	case JWT_ALG_HS384:
	case JWT_ALG_HS512:
		return "hmac";
	case JWT_ALG_ES256:
		return "p256";
	case JWT_ALG_ES384:
		return "p384";
	case JWT_ALG_ES512:
		return "p521";
	case JWT_ALG_EDDSA:
		return "ed25519";
	default:
		return "rsa";
	}
}

/* An unchecked fixture of every test case: runs in the parent process. */
static void
make_keys(void)
{
	json_t	*doc;
	char	*text;

	if (keys != NULL)
		return;
	keys = jwk_set_new();
	jose_add_pem(keys, jose_keygen("RSA", NULL), 1, "rsa");
	jose_add_pem(keys, jose_keygen("EC", "P-256"), 1, "p256");
	jose_add_pem(keys, jose_keygen("EC", "P-384"), 1, "p384");
	jose_add_pem(keys, jose_keygen("EC", "P-521"), 1, "p521");
	jose_add_pem(keys, jose_keygen("ED25519", NULL), 1, "ed25519");
	jose_add_pem(keys, jose_keygen("ED448", NULL), 1, "ed448");
	random_bytes(secret, sizeof(secret));
	ck_assert_int_eq(jwk_set_add_secret(keys, secret, sizeof(secret),
	    "hmac", NULL, NULL, 0), JAMB_OK);

	doc = jwk_set_public(keys);
	text = json_dumps(doc, 0);
	pub = jose_jwks(text);
	ck_assert_int_eq(jwk_set_add_secret(pub, secret, sizeof(secret),
	    "hmac", NULL, NULL, 0), JAMB_OK);
	free(text);
	json_decref(doc);
}

static const struct jwk *
key(const char *kid)
{
	const struct jwk	*k = jwk_set_find(keys, kid);

	ck_assert_ptr_nonnull(k);
	return k;
}

static char *
b64(const char *s)
{
	return jwt_b64url_encode(s, strlen(s));
}

/*
 * A token from raw header and payload text, signed by k with alg, or
 * with sig (base64url text) when k is NULL.  Freed by the caller.
 */
static char *
raw_token(const char *header, const char *payload, const struct jwk *k,
    enum jwt_alg alg, const char *sig)
{
	char		*h = b64(header), *p = b64(payload);
	char		*input, *out, *s;
	unsigned char	*raw;
	size_t		 n;

	input = xasprintf("%s.%s", h, p);
	if (k != NULL) {
		ck_assert_int_eq(jwk_sign(k, alg, input, strlen(input), &raw,
		    &n, NULL, 0), JAMB_OK);
		s = jwt_b64url_encode(raw, n);
		free(raw);
	} else
		s = xstrdup(sig);
	out = xasprintf("%s.%s", input, s);
	free(s);
	free(input);
	free(h);
	free(p);
	return out;
}

/* A token over CLAIMS-like claims, signed with jwt_sign by kid_for(alg). */
static char *
token(enum jwt_alg alg, const char *claims)
{
	json_t	*c = json_loads(claims, 0, NULL);
	char	*t, err[256] = "";

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(jwt_sign(key(kid_for(alg)), alg, NULL, c, &t, err,
	    sizeof(err)) == JAMB_OK, "%s", err);
	json_decref(c);
	return t;
}

static struct jwt_policy
policy(void)
{
	struct jwt_policy	 p;

	jwt_policy_init(&p);
	p.algs = JWT_ALGS_ALL;
	p.now = NOW;
	return p;
}

/* "ok" when the token verifies, else the reason; static storage. */
static const char *
verify_with(const char *t, const struct jwk_set *set,
    const struct jwt_policy *p)
{
	static char	 why[128];
	json_t		*h, *c;

	if (jwt_verify(t, strlen(t), set, p, &h, &c, why, sizeof(why)) !=
	    JAMB_OK) {
		ck_assert_ptr_null(h);
		ck_assert_ptr_null(c);
		return why;
	}
	ck_assert(json_is_object(h));
	ck_assert(json_is_object(c));
	json_decref(h);
	json_decref(c);
	return "ok";
}

static const char *
verify(const char *t)
{
	struct jwt_policy	 p = policy();

	return verify_with(t, pub, &p);
}

/* Verifies a token signed over raw header and claims text with kid. */
static const char *
verify_raw(const char *header, const char *claims, enum jwt_alg alg)
{
	static char	 why[128];
	char		*t;

	t = raw_token(header, claims, key(kid_for(alg)), alg, NULL);

	snprintf(why, sizeof(why), "%s", verify(t));
	free(t);
	return why;
}

/* ---- RFC examples ---- */

START_TEST(rfc7515_a1_hs256_example_verifies)
{
	struct jwk_set		*set = jose_jwks(A1_JWKS);
	struct jwt_policy	 p = policy();

	p.now = RFC_NOW;
	ck_assert_str_eq(verify_with(A1_TOKEN, set, &p), "ok");
	jwk_set_free(set);
}
END_TEST

START_TEST(rfc7515_a2_rs256_example_verifies)
{
	struct jwk_set		*set = jose_jwks(A2_PUBLIC);
	struct jwt_policy	 p = policy();

	p.now = RFC_NOW;
	ck_assert_str_eq(verify_with(A2_INPUT "." A2_SIG, set, &p), "ok");
	jwk_set_free(set);
}
END_TEST

START_TEST(rfc7515_a3_es256_example_verifies)
{
	struct jwk_set		*set;
	struct jwt_policy	 p = policy();

	set = jose_jwks("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\""
	    A3_X "\",\"y\":\"" A3_Y "\",\"d\":\"" A3_D "\"}]}");
	p.now = RFC_NOW;
	ck_assert_str_eq(verify_with(A3_TOKEN, set, &p), "ok");
	jwk_set_free(set);
}
END_TEST

/* ---- round trips ---- */

START_TEST(every_algorithm_signs_and_verifies_with_the_public_key)
{
	enum jwt_alg	 alg = (enum jwt_alg)_i;
	char		*t = token(alg, CLAIMS);
	json_t		*h, *c;
	char		 why[128];
	struct jwt_policy p = policy();

	ck_assert_int_eq(jwt_verify(t, strlen(t), pub, &p, &h, &c, why,
	    sizeof(why)), JAMB_OK);
	ck_assert_str_eq(json_string_value(json_object_get(h, "alg")),
	    jwt_alg_name(alg));
	ck_assert_str_eq(json_string_value(json_object_get(h, "typ")), "JWT");
	ck_assert_str_eq(json_string_value(json_object_get(h, "kid")),
	    kid_for(alg));
	ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "42");
	json_decref(h);
	json_decref(c);
	free(t);
}
END_TEST

START_TEST(ed448_key_signs_and_verifies_eddsa)
{
	char		*t, err[128];
	json_t		*c = json_loads(CLAIMS, 0, NULL);

	ck_assert_int_eq(jwt_sign(key("ed448"), JWT_ALG_EDDSA, NULL, c, &t,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(verify(t), "ok");
	free(t);
	json_decref(c);
}
END_TEST

START_TEST(sign_adds_header_members_and_may_replace_typ)
{
	json_t	*c = json_loads(CLAIMS, 0, NULL), *extra, *h;
	char	*t, err[128];
	struct jwt_policy p = policy();

	extra = json_pack("{s:s, s:s}", "typ", "at+jwt", "cty", "x");
	ck_assert_int_eq(jwt_sign(key("p256"), JWT_ALG_ES256, extra, c, &t,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_int_eq(jwt_verify(t, strlen(t), pub, &p, &h, NULL, err,
	    sizeof(err)), JAMB_OK);
	ck_assert_str_eq(json_string_value(json_object_get(h, "typ")),
	    "at+jwt");
	ck_assert_str_eq(json_string_value(json_object_get(h, "cty")), "x");
	json_decref(h);
	json_decref(extra);
	json_decref(c);
	free(t);
}
END_TEST

START_TEST(sign_refuses_to_replace_alg_in_the_header)
{
	json_t	*c = json_loads(CLAIMS, 0, NULL);
	json_t	*extra = json_pack("{s:s}", "alg", "none");
	char	*t, err[128];

	ck_assert_int_eq(jwt_sign(key("p256"), JWT_ALG_ES256, extra, c, &t,
	    err, sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_null(t);
	json_decref(extra);
	json_decref(c);
}
END_TEST

START_TEST(sign_refuses_a_public_key)
{
	json_t	*c = json_loads(CLAIMS, 0, NULL);
	char	*t, err[128];

	ck_assert(!jwk_is_private(jwk_set_find(pub, "rsa")));
	ck_assert_int_eq(jwt_sign(jwk_set_find(pub, "rsa"), JWT_ALG_RS256,
	    NULL, c, &t, err, sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err, "a public key cannot sign");
	json_decref(c);
}
END_TEST

START_TEST(sign_refuses_an_algorithm_the_key_does_not_serve)
{
	json_t	*c = json_loads(CLAIMS, 0, NULL);
	char	*t, err[128];

	ck_assert_int_eq(jwt_sign(key("rsa"), JWT_ALG_HS256, NULL, c, &t,
	    err, sizeof(err)), JAMB_EINVAL);
	ck_assert_int_eq(jwt_sign(key("p256"), JWT_ALG_ES384, NULL, c, &t,
	    err, sizeof(err)), JAMB_EINVAL);
	json_decref(c);
}
END_TEST

/* ---- refusals: algorithms and keys ---- */

START_TEST(alg_none_is_refused_in_any_casing)
{
	static const char *const names[] = { "none", "None", "NONE", "nOnE" };
	char	*h, *t;

	h = xasprintf("{\"alg\":\"%s\"}", names[_i]);
	t = raw_token(h, CLAIMS, NULL, 0, "");
	ck_assert_str_eq(verify(t), "alg none refused");
	free(t);
	t = raw_token(h, CLAIMS, NULL, 0, "c2ln");
	ck_assert_str_eq(verify(t), "alg none refused");
	free(t);
	free(h);
}
END_TEST

START_TEST(unknown_alg_is_refused)
{
	ck_assert_str_eq(verify_raw("{\"alg\":\"HS1\",\"kid\":\"hmac\"}",
	    CLAIMS, JWT_ALG_HS256), "alg unknown");
	ck_assert_str_eq(verify_raw("{\"alg\":\"es256\",\"kid\":\"p256\"}",
	    CLAIMS, JWT_ALG_ES256), "alg unknown");
	ck_assert_str_eq(verify_raw("{\"kid\":\"p256\"}", CLAIMS,
	    JWT_ALG_ES256), "alg missing");
}
END_TEST

/*
 * The classic confusion: an HS256 token whose secret is the bytes of
 * the RSA public key's PEM text, which a verifier that takes its
 * algorithm from the token would accept.
 */
START_TEST(hs256_signed_with_the_public_key_pem_is_refused)
{
	struct jwk_set		*set = jwk_set_new();
	struct jwt_policy	 p = policy();
	EVP_PKEY		*pkey = jose_keygen("RSA", NULL);
	char			*pem = jose_pem(pkey, 0), *t;
	char			 err[128];

	ck_assert_int_eq(jwk_set_add_pem(set, pem, strlen(pem), "rsa", NULL,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_int_eq(jwk_set_add_secret(set, pem, strlen(pem), "mac",
	    NULL, err, sizeof(err)), JAMB_OK);

	/* The same bytes as a secret of another kid do sign HS256... */
	t = raw_token("{\"alg\":\"HS256\",\"kid\":\"rsa\"}", CLAIMS,
	    jwk_set_find(set, "mac"), JWT_ALG_HS256, NULL);
	jwk_set_free(set);

	/* ...but the RSA key never verifies HS256, with a kid or without. */
	set = jwk_set_new();
	ck_assert_int_eq(jwk_set_add_pem(set, pem, strlen(pem), "rsa", NULL,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(verify_with(t, set, &p), "alg not allowed for key");
	free(t);
	t = raw_token("{\"alg\":\"HS256\"}", CLAIMS, NULL, 0,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	ck_assert_str_eq(verify_with(t, set, &p), "no key for alg");
	p.algs = JWT_ALGS_ASYMMETRIC;
	ck_assert_str_eq(verify_with(t, set, &p), "alg not allowed");
	free(t);
	free(pem);
	EVP_PKEY_free(pkey);
	jwk_set_free(set);
}
END_TEST

START_TEST(alg_outside_the_policy_is_refused)
{
	struct jwt_policy	 p = policy();
	char			*t = token(JWT_ALG_RS256, CLAIMS);

	p.algs = JWT_ALG_BIT(JWT_ALG_ES256) | JWT_ALG_BIT(JWT_ALG_PS256);
	ck_assert_str_eq(verify_with(t, pub, &p), "alg not allowed");
	free(t);
}
END_TEST

START_TEST(alg_the_named_key_does_not_serve_is_refused)
{
	char	*t;

	/* An ES256 token naming the RSA key, signed by the P-256 key. */
	t = raw_token("{\"alg\":\"ES256\",\"kid\":\"rsa\"}", CLAIMS,
	    key("p256"), JWT_ALG_ES256, NULL);

	ck_assert_str_eq(verify(t), "alg not allowed for key");
	free(t);
}
END_TEST

START_TEST(key_alg_member_restricts_the_key_to_that_alg)
{
	struct jwk_set	*set = jose_jwks(A2_PRIVATE);
	struct jwk_set	*restricted;
	char		*doc, *t, err[128];
	json_t		*c = json_loads(CLAIMS, 0, NULL);
	struct jwt_policy p = policy();

	doc = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a2\","
	    "\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", A2_N);
	restricted = jose_jwks(doc);
	ck_assert(jwk_allows(jwk_set_at(restricted, 0), JWT_ALG_RS256));
	ck_assert(!jwk_allows(jwk_set_at(restricted, 0), JWT_ALG_PS256));

	ck_assert_int_eq(jwt_sign(jwk_set_at(set, 0), JWT_ALG_PS256, NULL, c,
	    &t, err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(verify_with(t, set, &p), "ok");
	ck_assert_str_eq(verify_with(t, restricted, &p),
	    "alg not allowed for key");
	free(t);
	free(doc);
	json_decref(c);
	jwk_set_free(set);
	jwk_set_free(restricted);
}
END_TEST

START_TEST(unknown_kid_is_refused)
{
	char	*t;

	t = raw_token("{\"alg\":\"ES256\",\"kid\":\"other\"}", CLAIMS,
	    key("p256"), JWT_ALG_ES256, NULL);

	ck_assert_str_eq(verify(t), "unknown kid");
	free(t);
}
END_TEST

START_TEST(kid_of_another_type_is_refused)
{
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\",\"kid\":7}", CLAIMS,
	    JWT_ALG_ES256), "kid not a string");
}
END_TEST

/* Without a kid, every key that serves the alg is tried, and only those. */
START_TEST(token_without_kid_is_checked_against_compatible_keys)
{
	struct jwk_set		*set;
	char			*t;
	struct jwt_policy	 p = policy();

	t = raw_token("{\"alg\":\"ES384\"}", CLAIMS, key("p384"),
	    JWT_ALG_ES384, NULL);
	ck_assert_str_eq(verify(t), "ok");
	free(t);
	t = raw_token("{\"alg\":\"HS512\"}", CLAIMS, key("hmac"),
	    JWT_ALG_HS512, NULL);
	ck_assert_str_eq(verify(t), "ok");

	/* No key in the set serves HS512 once the secret is gone. */
	set = jose_jwks(A2_PUBLIC);
	ck_assert_str_eq(verify_with(t, set, &p), "no key for alg");
	jwk_set_free(set);
	free(t);
}
END_TEST

START_TEST(token_without_kid_is_refused_when_policy_requires_one)
{
	struct jwt_policy	 p = policy();
	char			*t;

	t = raw_token("{\"alg\":\"ES256\"}", CLAIMS, key("p256"),
	    JWT_ALG_ES256, NULL);

	p.require_kid = 1;
	ck_assert_str_eq(verify_with(t, pub, &p), "kid missing");
	free(t);
}
END_TEST

/* ---- refusals: signatures ---- */

START_TEST(tampered_payload_is_refused)
{
	enum jwt_alg	 alg = (enum jwt_alg)_i;
	char		*t = token(alg, CLAIMS), *other, *dot, *t2;

	other = b64("{\"sub\":\"1\",\"exp\":1700003600}");
	dot = strchr(t, '.');
	*dot = '\0';
	t2 = xasprintf("%s.%s%s", t, other, strchr(dot + 1, '.'));
	ck_assert_str_eq(verify(t2), "bad signature");
	free(t2);
	free(other);
	free(t);
}
END_TEST

START_TEST(signature_of_another_key_is_refused)
{
	struct jwk_set	*set = jwk_set_new();
	char		*t;

	jose_add_pem(set, jose_keygen("EC", "P-256"), 1, "p256");
	t = raw_token("{\"alg\":\"ES256\",\"kid\":\"p256\"}", CLAIMS,
	    jwk_set_at(set, 0), JWT_ALG_ES256, NULL);
	ck_assert_str_eq(verify(t), "bad signature");
	free(t);
	jwk_set_free(set);
}
END_TEST

/* The token with its signature cut to n bytes; a new string. */
static char *
cut_signature(const char *t, size_t n)
{
	const char	*dot = strrchr(t, '.');
	unsigned char	*sig;
	size_t		 len;
	char		*enc, *out;

	ck_assert_int_eq(jwt_b64url_decode(dot + 1, strlen(dot + 1), &sig,
	    &len), 0);
	ck_assert_uint_ge(len, n);
	enc = jwt_b64url_encode(sig, n);
	out = xasprintf("%.*s.%s", (int)(dot - t), t, enc);
	free(enc);
	free(sig);
	return out;
}

START_TEST(hmac_signature_of_wrong_length_is_refused)
{
	char	*t = token(JWT_ALG_HS256, CLAIMS), *u;

	u = cut_signature(t, 29);
	ck_assert_str_eq(verify(u), "bad signature length");
	free(u);
	u = cut_signature(t, 16);
	ck_assert_str_eq(verify(u), "bad signature length");
	free(u);
	free(t);
}
END_TEST

/* An ES256 token whose signature is r||s given in hex. */
static char *
es256_token(const char *r_hex, const char *s_hex)
{
	unsigned char	 sig[64];
	char		*s, *t, hex[3] = "";
	size_t		 i;

	for (i = 0; i < 32; i++) {
		memcpy(hex, r_hex + 2 * i, 2);
		sig[i] = (unsigned char)strtoul(hex, NULL, 16);
		memcpy(hex, s_hex + 2 * i, 2);
		sig[32 + i] = (unsigned char)strtoul(hex, NULL, 16);
	}
	s = jwt_b64url_encode(sig, sizeof(sig));
	t = raw_token("{\"alg\":\"ES256\",\"kid\":\"p256\"}", CLAIMS, NULL, 0,
	    s);
	free(s);
	return t;
}

#define ZERO32	"00000000000000000000000000000000" \
		"00000000000000000000000000000000"
#define ONE32	"00000000000000000000000000000000" \
		"00000000000000000000000000000001"
#define FF32	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" \
		"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
#define BELOW_ORDER	"FFFFFFFF00000000FFFFFFFFFFFFFFFF" \
			"BCE6FAADA7179E84F3B9CAC2FC632550"

START_TEST(ecdsa_r_or_s_zero_is_refused)
{
	char	*t;

	t = es256_token(ZERO32, ONE32);
	ck_assert_str_eq(verify(t), "ECDSA r or s out of range");
	free(t);
	t = es256_token(ONE32, ZERO32);
	ck_assert_str_eq(verify(t), "ECDSA r or s out of range");
	free(t);
	t = es256_token(ZERO32, ZERO32);
	ck_assert_str_eq(verify(t), "ECDSA r or s out of range");
	free(t);
}
END_TEST

START_TEST(ecdsa_r_or_s_not_below_the_order_is_refused)
{
	char	*t;

	t = es256_token(P256_ORDER, ONE32);
	ck_assert_str_eq(verify(t), "ECDSA r or s out of range");
	free(t);
	t = es256_token(ONE32, P256_ORDER);
	ck_assert_str_eq(verify(t), "ECDSA r or s out of range");
	free(t);
	t = es256_token(FF32, ONE32);
	ck_assert_str_eq(verify(t), "ECDSA r or s out of range");
	free(t);

	/* One below the order is in range: only the arithmetic refuses it. */
	t = es256_token(BELOW_ORDER, BELOW_ORDER);
	ck_assert_str_eq(verify(t), "bad signature");
	free(t);
}
END_TEST

START_TEST(ecdsa_signature_of_wrong_length_is_refused)
{
	char		*t = token(JWT_ALG_ES256, CLAIMS), *u;
	unsigned char	 der[72];
	char		*enc;

	u = cut_signature(t, 63);
	ck_assert_str_eq(verify(u), "bad signature length");
	free(u);

	/* 72 bytes, the length of a DER signature on P-256. */
	memset(der, 0x30, sizeof(der));
	enc = jwt_b64url_encode(der, sizeof(der));
	u = xasprintf("%.*s.%s", (int)(strrchr(t, '.') - t), t, enc);
	ck_assert_str_eq(verify(u), "bad signature length");
	free(u);
	free(enc);
	free(t);
}
END_TEST

/* ---- refusals: time, issuer, audience ---- */

START_TEST(expired_token_is_refused_after_the_leeway)
{
	struct jwt_policy	 p = policy();
	char			*t = token(JWT_ALG_ES256, CLAIMS);

	p.leeway = 60;
	p.now = 1700003600 + 59;
	ck_assert_str_eq(verify_with(t, pub, &p), "ok");
	p.now = 1700003600 + 60;
	ck_assert_str_eq(verify_with(t, pub, &p), "expired");
	p.leeway = 0;
	p.now = 1700003600;
	ck_assert_str_eq(verify_with(t, pub, &p), "expired");
	free(t);
}
END_TEST

START_TEST(token_before_nbf_is_refused_beyond_the_leeway)
{
	struct jwt_policy	 p = policy();
	char			*t;

	t = token(JWT_ALG_ES256, "{\"exp\":1700003600,\"nbf\":1700000100}");
	p.leeway = 60;
	ck_assert_str_eq(verify_with(t, pub, &p), "not yet valid");
	p.now = 1700000100 - 60;
	ck_assert_str_eq(verify_with(t, pub, &p), "ok");
	free(t);
}
END_TEST

START_TEST(iat_in_the_future_is_accepted)
{
	char	*t = token(JWT_ALG_ES256,
		    "{\"exp\":1700003600,\"iat\":1800000000}");

	ck_assert_str_eq(verify(t), "ok");
	free(t);
}
END_TEST

START_TEST(missing_exp_is_refused)
{
	char	*t = token(JWT_ALG_ES256, "{\"sub\":\"42\"}");

	ck_assert_str_eq(verify(t), "exp missing");
	free(t);
}
END_TEST

START_TEST(wrong_or_missing_issuer_is_refused)
{
	struct jwt_policy	 p = policy();
	char			*t, *u;

	t = token(JWT_ALG_ES256, "{\"exp\":1700003600,\"iss\":\"https://a\"}");
	u = token(JWT_ALG_ES256, CLAIMS);
	p.issuer = "https://a";
	ck_assert_str_eq(verify_with(t, pub, &p), "ok");
	ck_assert_str_eq(verify_with(u, pub, &p), "iss missing");
	p.issuer = "https://b";
	ck_assert_str_eq(verify_with(t, pub, &p), "iss mismatch");
	p.issuer = "https://A";
	ck_assert_str_eq(verify_with(t, pub, &p), "iss mismatch");
	free(t);
	free(u);
}
END_TEST

START_TEST(audience_string_or_array_must_name_the_expected_one)
{
	struct jwt_policy	 p = policy();
	char			*one, *many, *none;

	one = token(JWT_ALG_ES256, "{\"exp\":1700003600,\"aud\":\"api\"}");
	many = token(JWT_ALG_ES256,
	    "{\"exp\":1700003600,\"aud\":[\"web\",\"api\"]}");
	none = token(JWT_ALG_ES256, CLAIMS);
	p.audience = "api";
	ck_assert_str_eq(verify_with(one, pub, &p), "ok");
	ck_assert_str_eq(verify_with(many, pub, &p), "ok");
	ck_assert_str_eq(verify_with(none, pub, &p), "aud missing");
	p.audience = "admin";
	ck_assert_str_eq(verify_with(one, pub, &p), "aud mismatch");
	ck_assert_str_eq(verify_with(many, pub, &p), "aud mismatch");
	free(one);
	free(many);
	free(none);
}
END_TEST

START_TEST(audience_in_token_is_refused_when_none_is_expected)
{
	char	*t;

	t = token(JWT_ALG_ES256, "{\"exp\":1700003600,\"aud\":\"x\"}");

	ck_assert_str_eq(verify(t), "aud not expected");
	free(t);
}
END_TEST

START_TEST(typ_is_checked_when_the_policy_names_one)
{
	struct jwt_policy	 p = policy();
	char			*at, *plain;

	at = raw_token("{\"alg\":\"ES256\",\"kid\":\"p256\",\"typ\":"
	    "\"application/AT+JWT\"}", CLAIMS, key("p256"), JWT_ALG_ES256,
	    NULL);
	plain = token(JWT_ALG_ES256, CLAIMS);
	p.typ = "at+jwt";
	ck_assert_str_eq(verify_with(at, pub, &p), "ok");
	ck_assert_str_eq(verify_with(plain, pub, &p), "typ mismatch");
	free(at);
	free(plain);
}
END_TEST

/* ---- refusals: header members ---- */

START_TEST(crit_header_is_refused)
{
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\",\"kid\":\"p256\","
	    "\"crit\":[\"exp\"],\"exp\":1}", CLAIMS, JWT_ALG_ES256),
	    "crit header refused");
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\",\"kid\":\"p256\","
	    "\"crit\":[]}", CLAIMS, JWT_ALG_ES256), "crit header refused");
}
END_TEST

START_TEST(key_carrying_headers_are_refused)
{
	static const char *const hdrs[][2] = {
		{ "\"jku\":\"https://evil.example/jwks\"",
		    "jku header refused" },
		{ "\"x5u\":\"https://evil.example/cert\"",
		    "x5u header refused" },
		{ "\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}",
		    "jwk header refused" },
		{ "\"x5c\":[\"MIIB\"]", "x5c header refused" },
	};
	char	*h;

	h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"p256\",%s}", hdrs[_i][0]);
	ck_assert_str_eq(verify_raw(h, CLAIMS, JWT_ALG_ES256), hdrs[_i][1]);
	free(h);
}
END_TEST

/* ---- refusals: form ---- */

START_TEST(segment_counts_other_than_three_are_refused)
{
	char	*t = token(JWT_ALG_ES256, CLAIMS), *u;

	u = xasprintf("%s.x", t);
	ck_assert_str_eq(verify(u), "not a compact JWS");
	free(u);
	u = xasprintf("%s.x.y", t);
	ck_assert_str_eq(verify(u), "JWE not supported");
	free(u);
	u = xasprintf("%s.x.y.z", t);
	ck_assert_str_eq(verify(u), "not a compact JWS");
	free(u);
	*strrchr(t, '.') = '\0';
	ck_assert_str_eq(verify(t), "not a compact JWS");
	ck_assert_str_eq(verify("abc"), "not a compact JWS");
	ck_assert_str_eq(verify(""), "not a compact JWS");
	free(t);
}
END_TEST

START_TEST(empty_segments_are_refused)
{
	char	*t = token(JWT_ALG_ES256, CLAIMS), *u, *p1, *p2;

	p1 = strchr(t, '.');
	p2 = strrchr(t, '.');
	u = xasprintf("%s", p1);
	ck_assert_str_eq(verify(u), "empty segment");
	free(u);
	u = xasprintf("%.*s.%s", (int)(p1 - t), t, p2);
	ck_assert_str_eq(verify(u), "empty segment");
	free(u);
	p2[1] = '\0';
	ck_assert_str_eq(verify(t), "empty segment");
	ck_assert_str_eq(verify(".."), "empty segment");
	free(t);
}
END_TEST

/* Inserts text at offset into the token; a new string. */
static char *
insert(const char *t, size_t at, const char *text)
{
	return xasprintf("%.*s%s%s", (int)at, t, text, t + at);
}

START_TEST(characters_outside_base64url_are_refused)
{
	static const char *const bad[] = { "+", "/", "=", " ", "\n", "*",
	    "\t", "\xc3\xa9" };
	char	*t = token(JWT_ALG_ES256, CLAIMS), *u;
	size_t	 h = (size_t)(strchr(t, '.') - t);
	size_t	 s = (size_t)(strrchr(t, '.') - t);

	u = insert(t, 4, bad[_i]);
	ck_assert_str_eq(verify(u), "bad base64url in header");
	free(u);
	u = insert(t, h + 5, bad[_i]);
	ck_assert_str_eq(verify(u), "bad base64url in payload");
	free(u);
	u = insert(t, s + 5, bad[_i]);
	ck_assert_str_eq(verify(u), "bad base64url in signature");
	free(u);
	free(t);
}
END_TEST

START_TEST(padding_and_trailing_whitespace_are_refused)
{
	char	*t = token(JWT_ALG_ES256, CLAIMS), *u;

	/* A 64-byte signature is 86 characters; "==" would pad it to 88. */
	u = xasprintf("%s==", t);
	ck_assert_str_eq(verify(u), "bad base64url in signature");
	free(u);
	u = xasprintf("%s\n", t);
	ck_assert_str_eq(verify(u), "bad base64url in signature");
	free(u);
	u = xasprintf(" %s", t);
	ck_assert_str_eq(verify(u), "bad base64url in header");
	free(u);
	free(t);
}
END_TEST

START_TEST(header_that_is_not_a_json_object_is_refused)
{
	ck_assert_str_eq(verify_raw("[\"ES256\"]", CLAIMS, JWT_ALG_ES256),
	    "header not a JSON object");
	ck_assert_str_eq(verify_raw("\"ES256\"", CLAIMS, JWT_ALG_ES256),
	    "header not a JSON object");
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\"", CLAIMS,
	    JWT_ALG_ES256), "header not a JSON object");
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\"} {}", CLAIMS,
	    JWT_ALG_ES256), "header not a JSON object");
}
END_TEST

START_TEST(claims_that_are_not_a_json_object_are_refused)
{
	static const char *const hdr = "{\"alg\":\"ES256\",\"kid\":\"p256\"}";

	ck_assert_str_eq(verify_raw(hdr, "[1700003600]", JWT_ALG_ES256),
	    "claims not a JSON object");
	ck_assert_str_eq(verify_raw(hdr, "1700003600", JWT_ALG_ES256),
	    "claims not a JSON object");
	ck_assert_str_eq(verify_raw(hdr, "{\"exp\":", JWT_ALG_ES256),
	    "claims not a JSON object");
	ck_assert_str_eq(verify_raw(hdr, "{\"exp\":1700003600,\"s\":\"\xff\"}",
	    JWT_ALG_ES256), "claims not a JSON object");
}
END_TEST

START_TEST(duplicate_json_keys_are_refused)
{
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\",\"kid\":\"p256\","
	    "\"alg\":\"none\"}", CLAIMS, JWT_ALG_ES256),
	    "duplicate key in header");
	ck_assert_str_eq(verify_raw("{\"alg\":\"ES256\",\"kid\":\"p256\"}",
	    "{\"exp\":1700003600,\"sub\":\"a\",\"sub\":\"b\"}", JWT_ALG_ES256),
	    "duplicate key in claims");
}
END_TEST

START_TEST(token_over_8_kib_is_refused)
{
	char	*claims, *pad, *t;

	pad = xmalloc(6200);
	memset(pad, 'a', 6199);
	pad[6199] = '\0';
	claims = xasprintf("{\"exp\":1700003600,\"pad\":\"%s\"}", pad);
	t = token(JWT_ALG_ES256, claims);
	ck_assert_uint_gt(strlen(t), JWT_MAX_TOKEN);
	ck_assert_str_eq(verify(t), "token too large");
	free(t);
	free(claims);

	/* Just under the limit still verifies. */
	pad[5900] = '\0';
	claims = xasprintf("{\"exp\":1700003600,\"pad\":\"%s\"}", pad);
	t = token(JWT_ALG_ES256, claims);
	ck_assert_uint_le(strlen(t), JWT_MAX_TOKEN);
	ck_assert_str_eq(verify(t), "ok");
	free(t);
	free(claims);
	free(pad);
}
END_TEST

START_TEST(registered_claims_of_the_wrong_type_are_refused)
{
	static const char *const cases[][2] = {
		{ "{\"exp\":\"1700003600\"}", "exp not a number" },
		{ "{\"exp\":1700003600,\"nbf\":true}", "nbf not a number" },
		{ "{\"exp\":1700003600,\"iat\":null}", "iat not a number" },
		{ "{\"exp\":1700003600,\"iss\":1}", "iss not a string" },
		{ "{\"exp\":1700003600,\"sub\":42}", "sub not a string" },
		{ "{\"exp\":1700003600,\"jti\":[]}", "jti not a string" },
		{ "{\"exp\":1700003600,\"aud\":5}",
		    "aud not a string or array of strings" },
		{ "{\"exp\":1700003600,\"aud\":[\"a\",5]}",
		    "aud not a string or array of strings" },
		{ "{\"exp\":1700003600,\"aud\":{\"a\":1}}",
		    "aud not a string or array of strings" },
	};
	char	*t = token(JWT_ALG_ES256, cases[_i][0]);

	ck_assert_str_eq(verify(t), cases[_i][1]);
	free(t);
}
END_TEST

START_TEST(fractional_times_are_numbers_too)
{
	char	*t = token(JWT_ALG_ES256, "{\"exp\":1700003600.5}");

	ck_assert_str_eq(verify(t), "ok");
	free(t);
}
END_TEST

/* ---- keys ---- */

START_TEST(alg_list_parses_names_and_rejects_unknown_ones)
{
	unsigned int	 m;
	char		 err[128];

	ck_assert_int_eq(jwt_alg_list("RS256, ES256,EdDSA", &m, err,
	    sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(m, JWT_ALG_BIT(JWT_ALG_RS256) |
	    JWT_ALG_BIT(JWT_ALG_ES256) | JWT_ALG_BIT(JWT_ALG_EDDSA));
	ck_assert_int_eq(jwt_alg_list("RS256,none", &m, err, sizeof(err)),
	    JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "none"));
	ck_assert_int_eq(jwt_alg_list("rs256", &m, err, sizeof(err)),
	    JAMB_EINVAL);
}
END_TEST

/* ---- base64url ---- */

START_TEST(b64url_encodes_rfc4648_vectors_without_padding)
{
	static const char *const cases[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
		{ "\xff\xfe\xfd", "__79" },
	};
	unsigned char	*d;
	size_t		 i, n;
	char		*e;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = b64(cases[i][0]);
		ck_assert_str_eq(e, cases[i][1]);
		ck_assert_int_eq(jwt_b64url_decode(e, strlen(e), &d, &n), 0);
		ck_assert_uint_eq(n, strlen(cases[i][0]));
		ck_assert_mem_eq(d, cases[i][0], n);
		ck_assert_int_eq(d[n], '\0');
		free(d);
		free(e);
	}
}
END_TEST

START_TEST(b64url_round_trips_every_byte_and_length)
{
	unsigned char	 in[300], *d;
	size_t		 i, len, n;
	char		*e;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(in); len++) {
		e = jwt_b64url_encode(in, len);
		ck_assert_uint_eq(strlen(e), (len * 4 + 2) / 3);
		ck_assert_int_eq(jwt_b64url_decode(e, strlen(e), &d, &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(d, in, len);
		free(d);
		free(e);
	}
}
END_TEST

#define TEXT(lit)	{ lit, sizeof(lit) - 1 }

START_TEST(b64url_decode_refuses_what_is_not_strict_base64url)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} bad[] = {
		TEXT("Zg=="), TEXT("Zg="), TEXT("Zm9v===="), TEXT("Zm+v"),
		TEXT("Zm/v"), TEXT("Zm9 v"), TEXT(" Zm9v"), TEXT("Zm9v\n"),
		TEXT("Z"), TEXT("Zm9vY"), TEXT("Zm9\0v"), TEXT("Zm9v."),
		TEXT("Zm\xc3\xa9"),
	};
	unsigned char	*d = (unsigned char *)"x";
	size_t		 i, n = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(jwt_b64url_decode(bad[i].s, bad[i].len, &d,
		    &n) == -1, "%s decoded", bad[i].s);
		ck_assert_ptr_null(d);
		ck_assert_uint_eq(n, 0);
	}
}
END_TEST

START_TEST(b64url_decode_refuses_non_canonical_trailing_bits)
{
	unsigned char	*d;
	size_t		 n;

	/* "Zg" is canonical for "f"; "Zh" sets a bit past the byte. */
	ck_assert_int_eq(jwt_b64url_decode("Zg", 2, &d, &n), 0);
	free(d);
	ck_assert_int_eq(jwt_b64url_decode("Zh", 2, &d, &n), -1);
	ck_assert_int_eq(jwt_b64url_decode("Zm8", 3, &d, &n), 0);
	free(d);
	ck_assert_int_eq(jwt_b64url_decode("Zm9", 3, &d, &n), -1);
	ck_assert_int_eq(jwt_b64url_decode("Zm-", 3, &d, &n), -1);
	ck_assert_int_eq(jwt_b64url_decode("Zm9vYh", 6, &d, &n), -1);
	ck_assert_int_eq(jwt_b64url_decode("QR", 2, &d, &n), -1);
}
END_TEST

static TCase *
new_tcase(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, make_keys, NULL);
	return tc;
}

static Suite *
jwt_suite(void)
{
	Suite	*s = suite_create("jwt");
	TCase	*tc;

	tc = new_tcase("rfc examples");
	tcase_add_test(tc, rfc7515_a1_hs256_example_verifies);
	tcase_add_test(tc, rfc7515_a2_rs256_example_verifies);
	tcase_add_test(tc, rfc7515_a3_es256_example_verifies);
	suite_add_tcase(s, tc);

	tc = new_tcase("sign");
	tcase_add_loop_test(tc,
	    every_algorithm_signs_and_verifies_with_the_public_key, 0,
	    JWT_ALG__MAX);
	tcase_add_test(tc, ed448_key_signs_and_verifies_eddsa);
	tcase_add_test(tc, sign_adds_header_members_and_may_replace_typ);
	tcase_add_test(tc, sign_refuses_to_replace_alg_in_the_header);
	tcase_add_test(tc, sign_refuses_a_public_key);
	tcase_add_test(tc, sign_refuses_an_algorithm_the_key_does_not_serve);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = new_tcase("algorithms and keys");
	tcase_add_loop_test(tc, alg_none_is_refused_in_any_casing, 0, 4);
	tcase_add_test(tc, unknown_alg_is_refused);
	tcase_add_test(tc, hs256_signed_with_the_public_key_pem_is_refused);
	tcase_add_test(tc, alg_outside_the_policy_is_refused);
	tcase_add_test(tc, alg_the_named_key_does_not_serve_is_refused);
	tcase_add_test(tc, key_alg_member_restricts_the_key_to_that_alg);
	tcase_add_test(tc, unknown_kid_is_refused);
	tcase_add_test(tc, kid_of_another_type_is_refused);
	tcase_add_test(tc,
	    token_without_kid_is_checked_against_compatible_keys);
	tcase_add_test(tc,
	    token_without_kid_is_refused_when_policy_requires_one);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = new_tcase("signatures");
	tcase_add_loop_test(tc, tampered_payload_is_refused, 0, JWT_ALG__MAX);
	tcase_add_test(tc, signature_of_another_key_is_refused);
	tcase_add_test(tc, hmac_signature_of_wrong_length_is_refused);
	tcase_add_test(tc, ecdsa_r_or_s_zero_is_refused);
	tcase_add_test(tc, ecdsa_r_or_s_not_below_the_order_is_refused);
	tcase_add_test(tc, ecdsa_signature_of_wrong_length_is_refused);
	suite_add_tcase(s, tc);

	tc = new_tcase("claims");
	tcase_add_test(tc, expired_token_is_refused_after_the_leeway);
	tcase_add_test(tc, token_before_nbf_is_refused_beyond_the_leeway);
	tcase_add_test(tc, iat_in_the_future_is_accepted);
	tcase_add_test(tc, missing_exp_is_refused);
	tcase_add_test(tc, wrong_or_missing_issuer_is_refused);
	tcase_add_test(tc, audience_string_or_array_must_name_the_expected_one);
	tcase_add_test(tc, audience_in_token_is_refused_when_none_is_expected);
	tcase_add_test(tc, typ_is_checked_when_the_policy_names_one);
	tcase_add_loop_test(tc, registered_claims_of_the_wrong_type_are_refused,
	    0, 9);
	tcase_add_test(tc, fractional_times_are_numbers_too);
	suite_add_tcase(s, tc);

	tc = new_tcase("form");
	tcase_add_test(tc, crit_header_is_refused);
	tcase_add_loop_test(tc, key_carrying_headers_are_refused, 0, 4);
	tcase_add_test(tc, segment_counts_other_than_three_are_refused);
	tcase_add_test(tc, empty_segments_are_refused);
	tcase_add_loop_test(tc, characters_outside_base64url_are_refused, 0,
	    8);
	tcase_add_test(tc, padding_and_trailing_whitespace_are_refused);
	tcase_add_test(tc, header_that_is_not_a_json_object_is_refused);
	tcase_add_test(tc, claims_that_are_not_a_json_object_are_refused);
	tcase_add_test(tc, duplicate_json_keys_are_refused);
	tcase_add_test(tc, token_over_8_kib_is_refused);
	suite_add_tcase(s, tc);

	tc = new_tcase("key loading");
	tcase_add_test(tc, alg_list_parses_names_and_rejects_unknown_ones);
	suite_add_tcase(s, tc);

	tc = new_tcase("base64url");
	tcase_add_test(tc, b64url_encodes_rfc4648_vectors_without_padding);
	tcase_add_test(tc, b64url_round_trips_every_byte_and_length);
	tcase_add_test(tc, b64url_decode_refuses_what_is_not_strict_base64url);
	tcase_add_test(tc, b64url_decode_refuses_non_canonical_trailing_bits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(jwt_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	jwk_set_free(keys);
	jwk_set_free(pub);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
