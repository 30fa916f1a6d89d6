#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "jwk.h"
#include "util.h"

#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	8192
#define RSA_MAX_E_BITS	64
#define SECRET_MIN	32
#define FILE_MAX	(1024 * 1024)
#define EC_MAX_LEN	66		/* bytes of a P-521 coordinate */

enum jwk_type {
	JWK_RSA,
	JWK_EC,
	JWK_OKP,
	JWK_OCT
};

static const char *const type_names[] = { "RSA", "EC", "OKP", "oct" };

/* The curves of EC and OKP keys, by their JWK and OpenSSL names. */
static const struct curve {
	const char	*crv;
	const char	*group;
	enum jwk_type	 type;
	size_t		 len;	/* bytes of a coordinate or key */
	enum jwt_alg	 alg;
} curves[] = {
	{ "P-256", "prime256v1", JWK_EC, 32, JWT_ALG_ES256 },
	{ "P-384", "secp384r1", JWK_EC, 48, JWT_ALG_ES384 },
	{ "P-521", "secp521r1", JWK_EC, 66, JWT_ALG_ES512 },
	{ "Ed25519", "ED25519", JWK_OKP, 32, JWT_ALG_EDDSA },
	{ "Ed448", "ED448", JWK_OKP, 57, JWT_ALG_EDDSA },
};
#define NCURVES	(sizeof(curves) / sizeof(curves[0]))

enum family {
	FAM_HMAC,
	FAM_PKCS1,
	FAM_PSS,
	FAM_ECDSA,
	FAM_EDDSA
};

/* How each algorithm signs: RFC 7518 section 3 and RFC 8037. */
static const struct alg_crypto {
	enum family	 family;
	const char	*md;		/* NULL: EdDSA hashes itself */
	size_t		 mdlen;
} algs[JWT_ALG__MAX] = {
	[JWT_ALG_HS256] = { FAM_HMAC, "SHA256", 32 },
	[JWT_ALG_HS384] = { FAM_HMAC, "SHA384", 48 },
	[JWT_ALG_HS512] = { FAM_HMAC, "SHA512", 64 },
	[JWT_ALG_RS256] = { FAM_PKCS1, "SHA256", 32 },
	[JWT_ALG_RS384] = { FAM_PKCS1, "SHA384", 48 },
	[JWT_ALG_RS512] = { FAM_PKCS1, "SHA512", 64 },
	[JWT_ALG_PS256] = { FAM_PSS, "SHA256", 32 },
	[JWT_ALG_PS384] = { FAM_PSS, "SHA384", 48 },
	[JWT_ALG_PS512] = { FAM_PSS, "SHA512", 64 },
	[JWT_ALG_ES256] = { FAM_ECDSA, "SHA256", 32 },
	[JWT_ALG_ES384] = { FAM_ECDSA, "SHA384", 48 },
	[JWT_ALG_ES512] = { FAM_ECDSA, "SHA512", 64 },
	[JWT_ALG_EDDSA] = { FAM_EDDSA, NULL, 0 },
};

#define RSA_ALGS	(JWT_ALG_BIT(JWT_ALG_RS256) | \
			 JWT_ALG_BIT(JWT_ALG_RS384) | \
			 JWT_ALG_BIT(JWT_ALG_RS512) | \
			 JWT_ALG_BIT(JWT_ALG_PS256) | \
			 JWT_ALG_BIT(JWT_ALG_PS384) | \
			 JWT_ALG_BIT(JWT_ALG_PS512))

struct jwk {
	char			*kid;		/* NULL: none */
	enum jwk_type		 type;
	const struct curve	*curve;		/* EC and OKP */
	unsigned int		 algs;		/* JWT_ALG_BIT() */
	int			 has_alg;	/* "alg" given */
	enum jwt_alg		 alg;		/* then the only one */
	int			 private;
	EVP_PKEY		*pkey;		/* RSA, EC, OKP */
	unsigned char		*secret;	/* oct */
	size_t			 secretlen;
	unsigned char		 order[EC_MAX_LEN]; /* EC, big-endian */
};

struct jwk_set {
	struct jwk	**v;
	size_t		  n;
};

/*
 * A key that cannot serve here but is no error: the JWKS loader skips
 * it and tells why.
 */
#define SKIP	JAMB_STATUS__MAX

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
key_free(struct jwk *k)
{
	if (k == NULL)
		return;
	free(k->kid);
	EVP_PKEY_free(k->pkey);
	if (k->secret != NULL)
		OPENSSL_cleanse(k->secret, k->secretlen);
	free(k->secret);
	free(k);
}

struct jwk_set *
jwk_set_new(void)
{
	return xcalloc(1, sizeof(struct jwk_set));
}

void
jwk_set_free(struct jwk_set *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		key_free(set->v[i]);
	free(set->v);
	free(set);
}

size_t
jwk_set_count(const struct jwk_set *set)
{
	return set->n;
}

const struct jwk *
jwk_set_at(const struct jwk_set *set, size_t i)
{
	return i < set->n ? set->v[i] : NULL;
}

const struct jwk *
jwk_set_find(const struct jwk_set *set, const char *kid)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (set->v[i]->kid != NULL && strcmp(set->v[i]->kid, kid) == 0)
			return set->v[i];
	return NULL;
}

const char *
jwk_kid(const struct jwk *k)
{
	return k->kid;
}

const char *
jwk_kty(const struct jwk *k)
{
	return type_names[k->type];
}

int
jwk_is_private(const struct jwk *k)
{
	return k->private;
}

int
jwk_allows(const struct jwk *k, enum jwt_alg alg)
{
	return (unsigned int)alg < JWT_ALG__MAX &&
	    (k->algs & JWT_ALG_BIT(alg)) != 0;
}

static void
set_push(struct jwk_set *set, struct jwk **keys, size_t n)
{
	set->v = xrealloc(set->v, (set->n + n) * sizeof(*set->v));
	memcpy(set->v + set->n, keys, n * sizeof(*keys));
	set->n += n;
}

static const struct curve *
curve_by_crv(const char *crv)
{
	size_t	 i;

	for (i = 0; i < NCURVES; i++)
		if (strcmp(curves[i].crv, crv) == 0)
			return &curves[i];
	return NULL;
}

static const struct curve *
curve_by_group(const char *group)
{
	size_t	 i;

	for (i = 0; i < NCURVES; i++)
		if (strcmp(curves[i].group, group) == 0)
			return &curves[i];
	return NULL;
}

/*
 * Builds an EVP_PKEY of the named type from OpenSSL parameters; NULL
 * when OpenSSL refuses them (a point off the curve, say).
 */
static EVP_PKEY *
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, int private)
{
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	OSSL_PARAM	*params = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, private ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* OpenSSL's own sanity check of the public part. */
static int
pkey_public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX	*ctx;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return 0;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/*
 * A JWK member holding base64url: 0 with the bytes in *out (NULL when
 * the member is absent and optional), -1 with a message otherwise.
 */
static int
member_bytes(const json_t *o, const char *name, int required,
    unsigned char **out, size_t *len, char *err, size_t errlen)
{
	const json_t	*v = json_object_get(o, name);

	*out = NULL;
	*len = 0;
	if (v == NULL && !required)
		return 0;
	if (v == NULL) {
		set_err(err, errlen, "\"%s\" missing", name);
		return -1;
	}
	if (!json_is_string(v) || jwt_b64url_decode(json_string_value(v),
	    json_string_length(v), out, len) != 0 || *len == 0) {
		free(*out);
		*out = NULL;
		set_err(err, errlen, "\"%s\" is not base64url", name);
		return -1;
	}
	return 0;
}

/* Pushes a base64url member as an unsigned big integer. */
static int
push_bn(OSSL_PARAM_BLD *bld, const char *param, const json_t *o,
    const char *name, BIGNUM **bn, char *err, size_t errlen)
{
	unsigned char	*b;
	size_t		 n;
	int		 rc = -1;

	if (member_bytes(o, name, 1, &b, &n, err, errlen) != 0)
		return -1;
	if (n > RSA_MAX_BITS / 8 + 1 ||
	    (*bn = BN_bin2bn(b, (int)n, NULL)) == NULL) {
		set_err(err, errlen, "\"%s\" is too large", name);
		goto out;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, param, *bn) != 1) {
		set_err(err, errlen, "OpenSSL refused \"%s\"", name);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_clear_free(b, n);
	return rc;
}

/*
 * The sizes jamb accepts: a modulus of RSA_MIN_BITS to RSA_MAX_BITS,
 * and a public exponent small enough that verifying stays cheap (65537
 * everywhere in practice).  0, or -1 with a reason.
 */
static int
rsa_bounds(const BIGNUM *n, const BIGNUM *e, char *err, size_t errlen)
{
	int	 bits = BN_num_bits(n), ebits = BN_num_bits(e);

	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
		set_err(err, errlen, "RSA modulus of %d bits; %d to %d are "
		    "accepted", bits, RSA_MIN_BITS, RSA_MAX_BITS);
		return -1;
	}
	if (ebits > RSA_MAX_E_BITS) {
		set_err(err, errlen, "RSA exponent of %d bits; at most %d are "
		    "accepted", ebits, RSA_MAX_E_BITS);
		return -1;
	}
	return 0;
}

/* RFC 7518 section 6.3; "oth" (more than two primes) is not supported. */
static enum jamb_status
rsa_from_json(struct jwk *k, const json_t *o, char *err, size_t errlen)
{
	static const char *const crt[] = { "p", "q", "dp", "dq", "qi" };
	static const char *const crt_params[] = {
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1
	};
	OSSL_PARAM_BLD	*bld;
	BIGNUM		*bn[8] = { NULL };
	size_t		 i, ncrt = 0;
	enum jamb_status st = JAMB_EINVAL;

	if (json_object_get(o, "oth") != NULL) {
		set_err(err, errlen, "RSA keys of more than two primes are "
		    "not supported");
		return SKIP;
	}
	k->private = json_object_get(o, "d") != NULL;
	for (i = 0; i < 5; i++)
		if (json_object_get(o, crt[i]) != NULL)
			ncrt++;
	if (ncrt != 0 && (ncrt != 5 || !k->private)) {
		set_err(err, errlen, "RSA private key with some of p, q, dp, "
		    "dq, qi but not all of them and d");
		return JAMB_EINVAL;
	}

	bld = OSSL_PARAM_BLD_new();
	if (push_bn(bld, OSSL_PKEY_PARAM_RSA_N, o, "n", &bn[0], err,
	    errlen) != 0 || push_bn(bld, OSSL_PKEY_PARAM_RSA_E, o, "e",
	    &bn[1], err, errlen) != 0)
		goto out;
	if (k->private && push_bn(bld, OSSL_PKEY_PARAM_RSA_D, o, "d", &bn[2],
	    err, errlen) != 0)
		goto out;
	for (i = 0; i < ncrt; i++)
		if (push_bn(bld, crt_params[i], o, crt[i], &bn[3 + i], err,
		    errlen) != 0)
			goto out;
	if (rsa_bounds(bn[0], bn[1], err, errlen) != 0) {
		st = SKIP;
		goto out;
	}
	if ((k->pkey = pkey_from_params("RSA", bld, k->private)) == NULL ||
	    !pkey_public_ok(k->pkey)) {
		set_err(err, errlen, "not a valid RSA key");
		goto out;
	}
	k->algs = RSA_ALGS;
	st = JAMB_OK;
out:
	for (i = 0; i < sizeof(bn) / sizeof(bn[0]); i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_BLD_free(bld);
	return st;
}

/*
 * A crv member naming one of our curves of the given type; SKIP for a
 * curve used for other things than signatures (X25519, secp256k1).
 */
static enum jamb_status
take_curve(struct jwk *k, const json_t *o, enum jwk_type type, char *err,
    size_t errlen)
{
	const json_t	*crv = json_object_get(o, "crv");

	if (!json_is_string(crv)) {
		set_err(err, errlen, "\"crv\" missing or not a string");
		return JAMB_EINVAL;
	}
	k->curve = curve_by_crv(json_string_value(crv));
	if (k->curve == NULL || k->curve->type != type) {
		set_err(err, errlen, "curve %s is not supported",
		    json_string_value(crv));
		return SKIP;
	}
	k->algs = JWT_ALG_BIT(k->curve->alg);
	return JAMB_OK;
}

/*
 * A fixed-size member: EC coordinates and scalars, OKP keys.  EC values
 * are integers, and some producers strip their leading zero bytes
 * although RFC 7518 section 6.2.1.2 asks for the full size: those are
 * padded back (short_ok).  OKP keys are octet strings and must be whole.
 */
static int
member_fixed(const json_t *o, const char *name, int required, size_t want,
    int short_ok, unsigned char **out, char *err, size_t errlen)
{
	unsigned char	*padded;
	size_t		 n;

	if (member_bytes(o, name, required, out, &n, err, errlen) != 0)
		return -1;
	if (*out == NULL || n == want)
		return 0;
	if (n > want || !short_ok) {
		OPENSSL_clear_free(*out, n);
		*out = NULL;
		set_err(err, errlen, "\"%s\" has %zu bytes, not %zu", name, n,
		    want);
		return -1;
	}
	padded = xcalloc(1, want);
	memcpy(padded + want - n, *out, n);
	OPENSSL_clear_free(*out, n);
	*out = padded;
	return 0;
}

/* The group order, for the range check of ECDSA signatures. */
static int
ec_take_order(struct jwk *k)
{
	BIGNUM	*order = NULL;
	int	 ok;

	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_ORDER,
	    &order) != 1)
		return -1;
	ok = BN_bn2binpad(order, k->order, (int)k->curve->len) ==
	    (int)k->curve->len;
	BN_free(order);
	return ok ? 0 : -1;
}

/* RFC 7518 section 6.2. */
static enum jamb_status
ec_from_json(struct jwk *k, const json_t *o, char *err, size_t errlen)
{
	OSSL_PARAM_BLD	*bld = NULL;
	BIGNUM		*d = NULL;
	unsigned char	*x = NULL, *y = NULL, *priv = NULL;
	unsigned char	 point[1 + 2 * EC_MAX_LEN];
	size_t		 len;
	enum jamb_status st;

	if ((st = take_curve(k, o, JWK_EC, err, errlen)) != JAMB_OK)
		return st;
	st = JAMB_EINVAL;
	len = k->curve->len;
	if (member_fixed(o, "x", 1, len, 1, &x, err, errlen) != 0 ||
	    member_fixed(o, "y", 1, len, 1, &y, err, errlen) != 0 ||
	    member_fixed(o, "d", 0, len, 1, &priv, err, errlen) != 0)
		goto out;
	k->private = priv != NULL;

	/* The uncompressed point form: 04 || x || y. */
	point[0] = 0x04;
	memcpy(point + 1, x, len);
	memcpy(point + 1 + len, y, len);
	bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    k->curve->group, 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
	    1 + 2 * len);
	if (k->private) {
		d = BN_secure_new();
		BN_bin2bn(priv, (int)len, d);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
	}
	if ((k->pkey = pkey_from_params("EC", bld, k->private)) == NULL ||
	    !pkey_public_ok(k->pkey) || ec_take_order(k) != 0) {
		set_err(err, errlen, "not a valid %s key", k->curve->crv);
		goto out;
	}
	st = JAMB_OK;
out:
	free(x);
	free(y);
	if (priv != NULL)
		OPENSSL_clear_free(priv, len);
	BN_clear_free(d);
	OSSL_PARAM_BLD_free(bld);
	return st;
}

/* RFC 8037 section 2: x always, d for a private key, and they agree. */
static enum jamb_status
okp_from_json(struct jwk *k, const json_t *o, char *err, size_t errlen)
{
	unsigned char	*x = NULL, *priv = NULL;
	unsigned char	 pub[64];
	size_t		 len, publen = sizeof(pub);
	enum jamb_status st;

	if ((st = take_curve(k, o, JWK_OKP, err, errlen)) != JAMB_OK)
		return st;
	st = JAMB_EINVAL;
	len = k->curve->len;
	if (member_fixed(o, "x", 1, len, 0, &x, err, errlen) != 0 ||
	    member_fixed(o, "d", 0, len, 0, &priv, err, errlen) != 0)
		goto out;
	k->private = priv != NULL;

	if (k->private)
		k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL,
		    k->curve->group, NULL, priv, len);
	else
		k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL,
		    k->curve->group, NULL, x, len);
	if (k->pkey == NULL) {
		set_err(err, errlen, "not a valid %s key", k->curve->crv);
		goto out;
	}
	if (k->private && (EVP_PKEY_get_raw_public_key(k->pkey, pub,
	    &publen) != 1 || publen != len || memcmp(pub, x, len) != 0)) {
		set_err(err, errlen, "\"x\" is not the public key of \"d\"");
		goto out;
	}
	st = JAMB_OK;
out:
	free(x);
	if (priv != NULL)
		OPENSSL_clear_free(priv, len);
	return st;
}

/* The HS* whose output is no longer than a secret of n bytes. */
static unsigned int
hmac_algs(size_t n)
{
	unsigned int	 m = 0;

	if (n >= 32)
		m |= JWT_ALG_BIT(JWT_ALG_HS256);
	if (n >= 48)
		m |= JWT_ALG_BIT(JWT_ALG_HS384);
	if (n >= 64)
		m |= JWT_ALG_BIT(JWT_ALG_HS512);
	return m;
}

static enum jamb_status
oct_from_json(struct jwk *k, const json_t *o, char *err, size_t errlen)
{
	if (member_bytes(o, "k", 1, &k->secret, &k->secretlen, err,
	    errlen) != 0)
		return JAMB_EINVAL;
	k->private = 1;
	k->algs = hmac_algs(k->secretlen);
	if (k->algs == 0) {
		set_err(err, errlen, "HMAC secret of %zu bytes; at least %d "
		    "are needed", k->secretlen, SECRET_MIN);
		return SKIP;
	}
	return JAMB_OK;
}

/*
 * Signs and verifies a fixed message: a private part that does not
 * belong to the public one (a JWK's d beside another key's n) shows
 * here instead of in every token signed with it.
 */
static int
self_test(const struct jwk *k)
{
	static const char	 msg[] = "jamb key check";
	unsigned char		*sig = NULL;
	size_t			 len;
	enum jwt_alg		 alg;
	int			 ok;

	for (alg = 0; alg < JWT_ALG__MAX; alg++)
		if (jwk_allows(k, alg))
			break;
	if (jwk_sign(k, alg, msg, sizeof(msg) - 1, &sig, &len, NULL,
	    0) != JAMB_OK)
		return 0;
	ok = jwk_verify(k, alg, msg, sizeof(msg) - 1, sig, len, NULL);
	free(sig);
	return ok;
}

/*
 * The checks every new key gets, whatever its source: the "alg" of a
 * JWK (or a PEM's given alg) must be one the key type allows, and a
 * private part must match its public part.
 */
static enum jamb_status
key_finish(struct jwk *k, const char *alg, char *err, size_t errlen)
{
	enum jwt_alg	 a;

	if (alg != NULL) {
		if (jwt_alg_from_name(alg, &a) != 0) {
			set_err(err, errlen, "alg %s is not a supported JWS "
			    "algorithm", alg);
			return SKIP;
		}
		if (!jwk_allows(k, a)) {
			set_err(err, errlen, "alg %s does not fit this %s key",
			    alg, jwk_kty(k));
			return SKIP;
		}
		k->algs = JWT_ALG_BIT(a);
		k->has_alg = 1;
		k->alg = a;
	}
	if (k->private && k->type != JWK_OCT && !self_test(k)) {
		set_err(err, errlen, "the private part does not match the "
		    "public part");
		return JAMB_EINVAL;
	}
	return JAMB_OK;
}

/* An optional string member; -1 when present with another type. */
static int
member_string(const json_t *o, const char *name, const char **out,
    char *err, size_t errlen)
{
	const json_t	*v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		set_err(err, errlen, "\"%s\" is not a string", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* One JWK object into *out; SKIP with a reason for an unusable key. */
static enum jamb_status
key_from_json(const json_t *o, struct jwk **out, char *err, size_t errlen)
{
	struct jwk	*k;
	const char	*kty, *kid, *use, *alg;
	enum jamb_status st = JAMB_EINVAL;

	*out = NULL;
	if (!json_is_object(o)) {
		set_err(err, errlen, "not a JSON object");
		return JAMB_EINVAL;
	}
	if (member_string(o, "kty", &kty, err, errlen) != 0 ||
	    member_string(o, "kid", &kid, err, errlen) != 0 ||
	    member_string(o, "use", &use, err, errlen) != 0 ||
	    member_string(o, "alg", &alg, err, errlen) != 0)
		return JAMB_EINVAL;
	if (kty == NULL) {
		set_err(err, errlen, "\"kty\" missing");
		return JAMB_EINVAL;
	}
	if (use != NULL && strcmp(use, "sig") != 0) {
		set_err(err, errlen, "use \"%s\" is not for signatures", use);
		return SKIP;
	}

	k = xcalloc(1, sizeof(*k));
	if (strcmp(kty, "RSA") == 0) {
		k->type = JWK_RSA;
		st = rsa_from_json(k, o, err, errlen);
	} else if (strcmp(kty, "EC") == 0) {
		k->type = JWK_EC;
		st = ec_from_json(k, o, err, errlen);
	} else if (strcmp(kty, "OKP") == 0) {
		k->type = JWK_OKP;
		st = okp_from_json(k, o, err, errlen);
	} else if (strcmp(kty, "oct") == 0) {
		k->type = JWK_OCT;
		st = oct_from_json(k, o, err, errlen);
	} else {
		set_err(err, errlen, "kty \"%s\" is not supported", kty);
		st = SKIP;
	}
	if (st == JAMB_OK)
		st = key_finish(k, alg, err, errlen);
	if (st != JAMB_OK) {
		key_free(k);
		return st;
	}
	k->kid = kid != NULL ? xstrdup(kid) : NULL;
	*out = k;
	return JAMB_OK;
}

/* "key 2 (kid \"a\")" names a JWK in messages. */
static void
prefix_err(char *err, size_t errlen, size_t i, const json_t *o)
{
	const json_t	*kid = json_object_get(o, "kid");
	char		 why[256];

	snprintf(why, sizeof(why), "%.255s", err);
	if (json_is_string(kid))
		set_err(err, errlen, "key %zu (kid \"%.64s\"): %s", i + 1,
		    json_string_value(kid), why);
	else
		set_err(err, errlen, "key %zu: %s", i + 1, why);
}

enum jamb_status
jwk_set_add_jwks(struct jwk_set *set, const char *text, size_t len,
    size_t *skipped, char *err, size_t errlen)
{
	json_t		*doc, *keys = NULL;
	json_error_t	 jerr;
	struct jwk	**add = NULL;
	char		 why[512], first[512] = "";
	size_t		 i, n = 0, nskip = 0;
	enum jamb_status st = JAMB_EINVAL;

	if (skipped != NULL)
		*skipped = 0;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		set_err(err, errlen, "JWKS is not JSON: %s (line %d)",
		    jerr.text, jerr.line);
		return JAMB_EINVAL;
	}
	keys = json_incref(json_object_get(doc, "keys"));

	/* A lone JWK, as many tools write one key, is a set of one. */
	if (keys == NULL && json_object_get(doc, "kty") != NULL)
		keys = json_pack("[O]", doc);
	if (!json_is_object(doc) || !json_is_array(keys)) {
		set_err(err, errlen, "neither a JWKS with a \"keys\" array "
		    "nor a JWK");
		goto out;
	}
	if (set->n + json_array_size(keys) > JWK_SET_MAX) {
		set_err(err, errlen, "more than %d keys", JWK_SET_MAX);
		st = JAMB_ETOOBIG;
		goto out;
	}

	add = xcalloc(json_array_size(keys) + 1, sizeof(*add));
	for (i = 0; i < json_array_size(keys); i++) {
		why[0] = '\0';
		st = key_from_json(json_array_get(keys, i), &add[n], why,
		    sizeof(why));
		if (st == JAMB_OK) {
			n++;
			continue;
		}
		prefix_err(why, sizeof(why), i, json_array_get(keys, i));
		if (st != SKIP) {
			set_err(err, errlen, "%s", why);
			goto out;
		}
		if (nskip++ == 0)
			snprintf(first, sizeof(first), "%s", why);
	}
	set_push(set, add, n);
	n = 0;
	if (skipped != NULL)
		*skipped = nskip;
	set_err(err, errlen, "%s", first);
	st = JAMB_OK;
out:
	for (i = 0; i < n; i++)
		key_free(add[i]);
	free(add);
	json_decref(keys);
	json_decref(doc);
	return st;
}

/* Whether a decoded key holds its private part. */
static int
pkey_has_private(EVP_PKEY *pkey)
{
	BIGNUM	*bn = NULL;
	size_t	 len = 0;
	int	 has;

	if (EVP_PKEY_is_a(pkey, "RSA"))
		has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D,
		    &bn) == 1;
	else if (EVP_PKEY_is_a(pkey, "EC"))
		has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY,
		    &bn) == 1;
	else
		has = EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1;
	BN_clear_free(bn);
	return has;
}

/*
 * Wraps a key OpenSSL decoded (taking it over) as RSA, EC or OKP;
 * anything else (DSA, X25519, RSA-PSS-only keys) is refused.
 */
static enum jamb_status
key_from_pkey(EVP_PKEY *pkey, struct jwk **out, char *err, size_t errlen)
{
	struct jwk	*k = xcalloc(1, sizeof(*k));
	BIGNUM		*n = NULL, *e = NULL;
	char		 group[64];
	enum jamb_status st = JAMB_EINVAL;

	k->pkey = pkey;
	k->private = pkey_has_private(pkey);
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		k->type = JWK_RSA;
		k->algs = RSA_ALGS;
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N,
		    &n) != 1 || EVP_PKEY_get_bn_param(pkey,
		    OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
		    rsa_bounds(n, e, err, errlen) != 0)
			goto out;
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		k->type = JWK_EC;
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    NULL) != 1 || (k->curve = curve_by_group(group)) == NULL ||
		    k->curve->type != JWK_EC || ec_take_order(k) != 0) {
			set_err(err, errlen, "EC key not on P-256, P-384 or "
			    "P-521");
			goto out;
		}
		k->algs = JWT_ALG_BIT(k->curve->alg);
	} else if (EVP_PKEY_is_a(pkey, "ED25519") ||
	    EVP_PKEY_is_a(pkey, "ED448")) {
		k->type = JWK_OKP;
		k->curve = curve_by_group(EVP_PKEY_is_a(pkey, "ED25519") ?
		    "ED25519" : "ED448");
		k->algs = JWT_ALG_BIT(JWT_ALG_EDDSA);
	} else {
		set_err(err, errlen, "%s keys cannot sign JWTs",
		    EVP_PKEY_get0_type_name(pkey));
		goto out;
	}
	if (!pkey_public_ok(pkey)) {
		set_err(err, errlen, "not a valid %s key", jwk_kty(k));
		goto out;
	}
	*out = k;
	k = NULL;
	st = JAMB_OK;
out:
	BN_free(n);
	BN_free(e);
	key_free(k);
	return st;
}

enum jamb_status
jwk_set_add_pem(struct jwk_set *set, const char *pem, size_t len,
    const char *kid, const char *alg, char *err, size_t errlen)
{
	OSSL_DECODER_CTX	*dctx;
	EVP_PKEY		*pkey = NULL;
	struct jwk		*k = NULL;
	const unsigned char	*p = (const unsigned char *)pem;
	enum jamb_status	 st;

	if (set->n >= JWK_SET_MAX) {
		set_err(err, errlen, "more than %d keys", JWK_SET_MAX);
		return JAMB_ETOOBIG;
	}

	/* No passphrase callback: an encrypted key fails, never prompts. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, 0,
	    NULL, NULL);
	if (dctx == NULL || OSSL_DECODER_from_data(dctx, &p, &len) != 1 ||
	    pkey == NULL) {
		OSSL_DECODER_CTX_free(dctx);
		EVP_PKEY_free(pkey);
		set_err(err, errlen, "no PEM public or private key (encrypted "
		    "keys are not supported)");
		return JAMB_EINVAL;
	}
	OSSL_DECODER_CTX_free(dctx);

	if ((st = key_from_pkey(pkey, &k, err, errlen)) != JAMB_OK)
		return st;
	if ((st = key_finish(k, alg, err, errlen)) != JAMB_OK) {
		key_free(k);
		return JAMB_EINVAL;
	}
	k->kid = kid != NULL ? xstrdup(kid) : jwk_thumbprint(k);
	set_push(set, &k, 1);
	return JAMB_OK;
}

enum jamb_status
jwk_set_add_secret(struct jwk_set *set, const void *secret, size_t len,
    const char *kid, const char *alg, char *err, size_t errlen)
{
	struct jwk	*k;

	if (set->n >= JWK_SET_MAX) {
		set_err(err, errlen, "more than %d keys", JWK_SET_MAX);
		return JAMB_ETOOBIG;
	}
	if (hmac_algs(len) == 0) {
		set_err(err, errlen, "HMAC secret of %zu bytes; at least %d "
		    "are needed", len, SECRET_MIN);
		return JAMB_EINVAL;
	}
	k = xcalloc(1, sizeof(*k));
	k->type = JWK_OCT;
	k->private = 1;
	k->secret = xmalloc(len);
	memcpy(k->secret, secret, len);
	k->secretlen = len;
	k->algs = hmac_algs(len);
	if (key_finish(k, alg, err, errlen) != JAMB_OK) {
		key_free(k);
		return JAMB_EINVAL;
	}
	k->kid = kid != NULL ? xstrdup(kid) : NULL;
	set_push(set, &k, 1);
	return JAMB_OK;
}

/* Reads a whole file of at most FILE_MAX bytes into b. */
static enum jamb_status
read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE	*f;
	char	 chunk[4096];
	size_t	 n;
	enum jamb_status st = JAMB_OK;

	if ((f = fopen(path, "rb")) == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return JAMB_ENOTFOUND;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(b, chunk, n);
		if (b->len > FILE_MAX) {
			set_err(err, errlen, "%s: larger than %d bytes", path,
			    FILE_MAX);
			st = JAMB_ETOOBIG;
			break;
		}
	}
	if (st == JAMB_OK && ferror(f)) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		st = JAMB_EIO;
	}
	fclose(f);
	return st;
}

enum jamb_status
jwk_set_load_file(struct jwk_set *set, const char *path, const char *kid,
    const char *alg, char *err, size_t errlen)
{
	struct buf	 b;
	char		 why[512] = "";
	size_t		 skip;
	enum jamb_status st;

	buf_init(&b);
	if ((st = read_file(path, &b, err, errlen)) != JAMB_OK)
		goto out;
	skip = strspn(b.data, " \t\r\n");
	if (b.data[skip] == '{')
		st = jwk_set_add_jwks(set, b.data, b.len, NULL, why,
		    sizeof(why));
	else
		st = jwk_set_add_pem(set, b.data, b.len, kid, alg, why,
		    sizeof(why));
	if (st != JAMB_OK)
		set_err(err, errlen, "%s: %s", path, why);
	else
		set_err(err, errlen, "%s", why);
out:
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	return st;
}

static void
set_b64(json_t *o, const char *name, const unsigned char *b, size_t n)
{
	char	*s = jwt_b64url_encode(b, n);

	json_object_set_new(o, name, json_string(s));
	free(s);
}

/* A big number member: minimal length (RFC 7518 base64urlUInt) or pad. */
static int
set_bn(json_t *o, const char *name, EVP_PKEY *pkey, const char *param,
    size_t pad)
{
	BIGNUM		*bn = NULL;
	unsigned char	 b[RSA_MAX_BITS / 8];
	int		 n;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return -1;
	n = pad != 0 ? BN_bn2binpad(bn, b, (int)pad) :
	    BN_num_bytes(bn) <= (int)sizeof(b) ? BN_bn2bin(bn, b) : -1;
	BN_free(bn);
	if (n <= 0)
		return -1;
	set_b64(o, name, b, (size_t)n);
	return 0;
}

/*
 * The members that define a public key (RFC 7638 section 3.2): kty and
 * the key material, nothing private.  NULL for an oct key.
 */
static json_t *
public_members(const struct jwk *k)
{
	json_t		*o = json_object();
	unsigned char	 raw[64];
	size_t		 n = sizeof(raw);
	int		 rc = -1;

	json_object_set_new(o, "kty", json_string(jwk_kty(k)));
	switch (k->type) {
	case JWK_RSA:
		rc = set_bn(o, "n", k->pkey, OSSL_PKEY_PARAM_RSA_N, 0) |
		    set_bn(o, "e", k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		break;
	case JWK_EC:
		json_object_set_new(o, "crv", json_string(k->curve->crv));
		rc = set_bn(o, "x", k->pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		    k->curve->len) | set_bn(o, "y", k->pkey,
		    OSSL_PKEY_PARAM_EC_PUB_Y, k->curve->len);
		break;
	case JWK_OKP:
		json_object_set_new(o, "crv", json_string(k->curve->crv));
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) == 1) {
			set_b64(o, "x", raw, n);
			rc = 0;
		}
		break;
	case JWK_OCT:
		break;
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
jwk_thumbprint(const struct jwk *k)
{
	json_t		*o;
	char		*s, *out = NULL;
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;

	if ((o = public_members(k)) == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL && EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(),
	    NULL) == 1)
		out = jwt_b64url_encode(md, mdlen);
	free(s);
	json_decref(o);
	return out;
}

json_t *
jwk_set_public(const struct jwk_set *set)
{
	json_t		*keys = json_array(), *o;
	const struct jwk *k;
	size_t		 i;

	for (i = 0; i < set->n; i++) {
		k = set->v[i];
		if (k->type == JWK_OCT || (o = public_members(k)) == NULL)
			continue;
		if (k->kid != NULL)
			json_object_set_new(o, "kid", json_string(k->kid));
		json_object_set_new(o, "use", json_string("sig"));
		if (k->has_alg)
			json_object_set_new(o, "alg",
			    json_string(jwt_alg_name(k->alg)));
		json_array_append_new(keys, o);
	}
	return json_pack("{s:o}", "keys", keys);
}

/*
 * The HMAC implementation, fetched once: jamb's workers are
 * single-threaded processes that verify on every request.
 */
static EVP_MAC *
hmac_impl(void)
{
	static EVP_MAC	*mac;

	if (mac == NULL)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

static int
hmac(const struct jwk *k, enum jwt_alg alg, const void *msg, size_t len,
    unsigned char *out, size_t *outlen)
{
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	int		 ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)algs[alg].md, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = hmac_impl() != NULL &&
	    (ctx = EVP_MAC_CTX_new(hmac_impl())) != NULL &&
	    EVP_MAC_init(ctx, k->secret, k->secretlen, params) == 1 &&
	    EVP_MAC_update(ctx, msg, len) == 1 &&
	    EVP_MAC_final(ctx, out, outlen, EVP_MAX_MD_SIZE) == 1;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* A digest context for signing or verifying with alg's padding. */
static EVP_MD_CTX *
md_start(const struct jwk *k, enum jwt_alg alg, int sign)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx = NULL;
	const struct alg_crypto *a = &algs[alg];
	int		 rc;

	if (ctx == NULL)
		return NULL;
	if (sign)
		rc = EVP_DigestSignInit_ex(ctx, &pctx, a->md, NULL, NULL,
		    k->pkey, NULL);
	else
		rc = EVP_DigestVerifyInit_ex(ctx, &pctx, a->md, NULL, NULL,
		    k->pkey, NULL);
	if (rc != 1)
		goto fail;

	/* PS*: MGF1 with the same hash and a salt as long as the hash. */
	if (a->family == FAM_PSS && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
	    1))
		goto fail;
	if (a->family == FAM_PKCS1 && EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PADDING) != 1)
		goto fail;
	return ctx;
fail:
	EVP_MD_CTX_free(ctx);
	return NULL;
}

/* OpenSSL's DER ECDSA-Sig-Value into JOSE's r||s of 2n bytes. */
static int
ecdsa_to_raw(const unsigned char *der, size_t derlen, size_t n,
    unsigned char *out)
{
	ECDSA_SIG	*s;
	const BIGNUM	*r, *ss;
	int		 ok;

	if ((s = d2i_ECDSA_SIG(NULL, &der, (long)derlen)) == NULL)
		return -1;
	ECDSA_SIG_get0(s, &r, &ss);
	ok = BN_bn2binpad(r, out, (int)n) == (int)n &&
	    BN_bn2binpad(ss, out + n, (int)n) == (int)n;
	ECDSA_SIG_free(s);
	return ok ? 0 : -1;
}

/* JOSE's r||s into DER, in *der freed with OPENSSL_free; -1 on failure. */
static int
ecdsa_to_der(const unsigned char *raw, size_t n, unsigned char **der)
{
	ECDSA_SIG	*s;
	BIGNUM		*r, *ss;
	int		 len = -1;

	*der = NULL;
	if ((s = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(raw, (int)n, NULL);
	ss = BN_bin2bn(raw + n, (int)n, NULL);
	if (r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
		BN_free(r);
		BN_free(ss);
	} else
		len = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	return len;
}

enum jamb_status
jwk_sign(const struct jwk *k, enum jwt_alg alg, const void *msg,
    size_t len, unsigned char **sig, size_t *siglen, char *err,
    size_t errlen)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	*out = NULL, *raw;
	size_t		 outlen = 0, n;

	*sig = NULL;
	*siglen = 0;
	if (!jwk_allows(k, alg)) {
		set_err(err, errlen, "this %s key may not sign %s",
		    jwk_kty(k), jwt_alg_name(alg));
		return JAMB_EINVAL;
	}
	if (!k->private) {
		set_err(err, errlen, "a public key cannot sign");
		return JAMB_EINVAL;
	}

	if (algs[alg].family == FAM_HMAC) {
		out = xmalloc(EVP_MAX_MD_SIZE);
		if (hmac(k, alg, msg, len, out, &outlen) != 0)
			goto fail;
		goto done;
	}
	if ((ctx = md_start(k, alg, 1)) == NULL ||
	    EVP_DigestSign(ctx, NULL, &outlen, msg, len) != 1)
		goto fail;
	out = xmalloc(outlen);
	if (EVP_DigestSign(ctx, out, &outlen, msg, len) != 1)
		goto fail;
	if (algs[alg].family == FAM_ECDSA) {
		n = k->curve->len;
		raw = xmalloc(2 * n);
		if (ecdsa_to_raw(out, outlen, n, raw) != 0) {
			free(raw);
			goto fail;
		}
		free(out);
		out = raw;
		outlen = 2 * n;
	}
	EVP_MD_CTX_free(ctx);
done:
	*sig = out;
	*siglen = outlen;
	return JAMB_OK;
fail:
	EVP_MD_CTX_free(ctx);
	free(out);
	set_err(err, errlen, "OpenSSL failed to sign with %s",
	    jwt_alg_name(alg));
	return JAMB_EINTERNAL;
}

/* 1 when n big-endian bytes are zero or not below the group order. */
static int
ecdsa_out_of_range(const unsigned char *v, const unsigned char *order,
    size_t n)
{
	unsigned char	 any = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		any |= v[i];
	return any == 0 || memcmp(v, order, n) >= 0;
}

static int
verify_hmac(const struct jwk *k, enum jwt_alg alg, const void *msg,
    size_t len, const unsigned char *sig, size_t siglen, const char **why)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	size_t		 maclen = 0;

	if (siglen != algs[alg].mdlen) {
		*why = "bad signature length";
		return 0;
	}
	if (hmac(k, alg, msg, len, mac, &maclen) != 0 || maclen != siglen ||
	    CRYPTO_memcmp(mac, sig, siglen) != 0) {
		*why = "bad signature";
		return 0;
	}
	return 1;
}

/* The checks of length and form that come before any arithmetic. */
static int
signature_form_ok(const struct jwk *k, enum jwt_alg alg,
    const unsigned char *sig, size_t siglen, const char **why)
{
	size_t	 n;

	switch (algs[alg].family) {
	case FAM_ECDSA:
		n = k->curve->len;
		if (siglen != 2 * n) {
			*why = "bad signature length";
			return 0;
		}
		if (ecdsa_out_of_range(sig, k->order, n) ||
		    ecdsa_out_of_range(sig + n, k->order, n)) {
			*why = "ECDSA r or s out of range";
			return 0;
		}
		return 1;
	case FAM_EDDSA:
		n = 2 * k->curve->len;
		break;
	default:
		n = (size_t)EVP_PKEY_get_size(k->pkey);
		break;
	}
	if (siglen != n) {
		*why = "bad signature length";
		return 0;
	}
	return 1;
}

int
jwk_verify(const struct jwk *k, enum jwt_alg alg, const void *msg,
    size_t len, const unsigned char *sig, size_t siglen, const char **why)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	*der = NULL;
	const char	*dummy;
	int		 derlen, ok = 0;

	if (why == NULL)
		why = &dummy;
	*why = "bad signature";
	if (!jwk_allows(k, alg)) {
		*why = "alg not allowed for key";
		return 0;
	}
	if (algs[alg].family == FAM_HMAC)
		return verify_hmac(k, alg, msg, len, sig, siglen, why);
	if (!signature_form_ok(k, alg, sig, siglen, why))
		return 0;

	if (algs[alg].family == FAM_ECDSA) {
		derlen = ecdsa_to_der(sig, k->curve->len, &der);
		if (derlen <= 0)
			goto out;
		sig = der;
		siglen = (size_t)derlen;
	}
	if ((ctx = md_start(k, alg, 0)) == NULL)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}
