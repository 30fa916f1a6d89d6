#ifndef JAMB_JWK_H
#define JAMB_JWK_H

#include <stddef.h>

#include <jansson.h>

#include "jwt.h"
#include "status.h"

/*
 * Keys for JWTs (RFC 7517, RFC 7518 section 6, RFC 8037): RSA, EC on
 * P-256, P-384 and P-521, OKP on Ed25519 and Ed448, and oct secrets for
 * HMAC.  A key set is filled once (from JWKS documents, PEM files or a
 * configured secret) and is read-only afterwards.
 *
 * Which algorithms a key may serve follows from its type alone: RSA
 * keys RS* and PS*, an EC key the one ES* of its curve, OKP keys EdDSA,
 * oct keys the HS* whose hash is no longer than the secret (RFC 7518
 * section 3.2).  A key's own "alg" narrows that to exactly one.  No
 * asymmetric key ever serves HS*, and an oct key never comes from a PEM
 * file, so a public key cannot be turned into an HMAC secret.
 *
 * RSA moduli must have 2048 to 8192 bits: smaller ones are too weak
 * (RFC 7518 section 3.3), larger ones only make verification costly.
 */
struct jwk;
struct jwk_set;

/* Keys in a set are bounded so that trying them all stays cheap. */
#define JWK_SET_MAX	100

struct jwk_set	*jwk_set_new(void);
void		 jwk_set_free(struct jwk_set *);
size_t		 jwk_set_count(const struct jwk_set *);
const struct jwk *jwk_set_at(const struct jwk_set *, size_t);

/* The first key with this kid, or NULL. */
const struct jwk *jwk_set_find(const struct jwk_set *, const char *);

/*
 * Adds the keys of a JWKS document ({"keys":[...]}) or of a single JWK
 * ({"kty":...}).  Keys that cannot sign JWTs are skipped and counted in
 * *skipped (may be NULL): "use" other than "sig", a kty, crv or alg
 * this module does not know, an RSA modulus out of bounds, an HMAC
 * secret shorter than 256 bits.  On success err names the first key
 * skipped, if any.  A malformed document or key fails the whole call
 * with JAMB_EINVAL and adds nothing; more than JWK_SET_MAX keys fail
 * with JAMB_ETOOBIG.
 */
enum jamb_status jwk_set_add_jwks(struct jwk_set *, const char *, size_t,
		    size_t *, char *, size_t);

/*
 * Adds one RSA, EC or Ed25519/Ed448 key from PEM text (SubjectPublicKey
 * Info, PKCS#8 or the traditional forms; encrypted keys are refused).
 * kid may be NULL: the key then gets its RFC 7638 thumbprint as kid.
 * alg (NULL for none) restricts the key like a JWK's "alg".
 */
enum jamb_status jwk_set_add_pem(struct jwk_set *, const char *, size_t,
		    const char *, const char *, char *, size_t);

/* Adds an HMAC secret of at least 32 bytes as an oct key. */
enum jamb_status jwk_set_add_secret(struct jwk_set *, const void *, size_t,
		    const char *, const char *, char *, size_t);

/*
 * Adds the keys of a file: a JWKS document or JWK when its text starts
 * with '{', PEM otherwise (kid and alg apply to PEM only).  Files over 1 MiB
 * are refused.
 */
enum jamb_status jwk_set_load_file(struct jwk_set *, const char *,
		    const char *, const char *, char *, size_t);

/*
 * The public JWKS document of the set, for publishing: public parts of
 * the RSA, EC and OKP keys only; oct keys and private members are never
 * included.  The caller releases it with json_decref.
 */
json_t		*jwk_set_public(const struct jwk_set *);

const char	*jwk_kid(const struct jwk *);
const char	*jwk_kty(const struct jwk *);
int		 jwk_is_private(const struct jwk *);
int		 jwk_allows(const struct jwk *, enum jwt_alg);

/* RFC 7638 thumbprint (SHA-256, base64url), freed by the caller. */
char		*jwk_thumbprint(const struct jwk *);

/*
 * Signs msg with key and alg into *sig (freed by the caller), in the
 * JOSE form: raw r||s of fixed length for ECDSA.
 */
enum jamb_status jwk_sign(const struct jwk *, enum jwt_alg, const void *,
		    size_t, unsigned char **, size_t *, char *, size_t);

/*
 * 1 when sig is a valid signature of msg by key under alg; otherwise 0
 * and *why (when not NULL) points to a static reason.  HMAC values are
 * compared in constant time; ECDSA signatures of the wrong length or
 * with r or s zero or not below the group order are refused before
 * OpenSSL sees them.
 */
int		 jwk_verify(const struct jwk *, enum jwt_alg, const void *,
		    size_t, const unsigned char *, size_t, const char **);

#endif
