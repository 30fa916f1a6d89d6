#ifndef JAMB_JWT_H
#define JAMB_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "status.h"

/*
 * JSON Web Tokens in the compact JWS form (RFC 7515, RFC 7519), signed
 * and verified with the keys of app/jwk.h.  Verification is strict: it
 * refuses anything it does not fully understand (unknown algorithms,
 * "crit" extensions, key-carrying headers) rather than guessing.
 */

struct jwk;
struct jwk_set;

enum jwt_alg {
	JWT_ALG_HS256,
	JWT_ALG_HS384,
	JWT_ALG_HS512,
	JWT_ALG_RS256,
	JWT_ALG_RS384,
	JWT_ALG_RS512,
	JWT_ALG_PS256,
	JWT_ALG_PS384,
	JWT_ALG_PS512,
	JWT_ALG_ES256,
	JWT_ALG_ES384,
	JWT_ALG_ES512,
	JWT_ALG_EDDSA,
	JWT_ALG__MAX
};

/* Sets of algorithms, as bit masks. */
#define JWT_ALG_BIT(a)		(1u << (a))
#define JWT_ALGS_ALL		(JWT_ALG_BIT(JWT_ALG__MAX) - 1)
#define JWT_ALGS_HMAC		(JWT_ALG_BIT(JWT_ALG_HS256) | \
				 JWT_ALG_BIT(JWT_ALG_HS384) | \
				 JWT_ALG_BIT(JWT_ALG_HS512))
#define JWT_ALGS_ASYMMETRIC	(JWT_ALGS_ALL & ~JWT_ALGS_HMAC)

/* Longer tokens are refused before anything is decoded. */
#define JWT_MAX_TOKEN		8192

const char	*jwt_alg_name(enum jwt_alg);
int		 jwt_alg_from_name(const char *, enum jwt_alg *);

/*
 * Parses a comma-separated list of algorithm names ("RS256,ES256") into
 * a mask.  Fails with a message naming the first unknown entry.
 */
enum jamb_status jwt_alg_list(const char *, unsigned int *, char *, size_t);

/*
 * Base64url without padding (RFC 7515 section 2).  Encoding returns a
 * string the caller frees.  Decoding is strict: only the URL-safe
 * alphabet, no '=', no whitespace, no length of 4n+1 and no set bits
 * past the last whole byte; it returns 0 and a buffer the caller frees
 * (NUL-terminated, not counted in the length), or -1.
 */
char		*jwt_b64url_encode(const void *, size_t);
int		 jwt_b64url_decode(const char *, size_t, unsigned char **,
		    size_t *);

/*
 * What a verifier accepts.  jwt_policy_init() sets the defaults: any
 * asymmetric algorithm, no issuer or audience expected, 60 seconds of
 * leeway, the current time, kid optional, any typ.
 *
 * Audience: a token carrying "aud" is refused when no audience is
 * expected, since the token was then meant for someone named there
 * (RFC 7519 section 4.1.3).  typ, when set, must match the header's
 * "typ" ignoring case and an "application/" prefix (RFC 8725 3.11).
 */
struct jwt_policy {
	unsigned int	 algs;		/* JWT_ALG_BIT() mask */
	const char	*issuer;	/* NULL: not checked */
	const char	*audience;	/* NULL: no "aud" may be present */
	const char	*typ;		/* NULL: not checked */
	int64_t		 leeway;	/* seconds, for exp and nbf */
	int64_t		 now;		/* UNIX time; 0: now */
	int		 require_kid;
};

void		 jwt_policy_init(struct jwt_policy *);

/*
 * Signs claims with key into a compact JWS, in *out (freed by the
 * caller).  The header is {"alg", "typ":"JWT", "kid" when the key has
 * one} followed by the members of extra (may be NULL), which may
 * replace typ and kid but not alg.  Fails with JAMB_EINVAL and a message
 * when the key holds no private part or may not sign with alg.
 */
enum jamb_status jwt_sign(const struct jwk *, enum jwt_alg, const json_t *,
		    const json_t *, char **, char *, size_t);

/*
 * Verifies a compact JWS of len bytes against the keys of set under
 * policy.  On success *header and *claims (either pointer may be NULL)
 * receive new references the caller releases with json_decref.
 * Otherwise they are NULL, the status is JAMB_EINVAL and why holds a
 * short reason for logs; a client should only learn that the token is
 * invalid.
 *
 * Key choice: a token with a kid is checked against the keys with that
 * kid only.  A token without one is refused when the policy requires a
 * kid; otherwise it is checked against every key of the set that may
 * verify its alg, so an issuer with one key per algorithm needs no kid.
 * "iat" is only type-checked: exp and nbf bound a token's life, and an
 * issuer's clock running ahead is no reason to refuse it.
 */
enum jamb_status jwt_verify(const char *, size_t, const struct jwk_set *,
		    const struct jwt_policy *, json_t **, json_t **, char *,
		    size_t);

/*
 * A string member of a token's header (segment 0) or payload (1), read
 * WITHOUT verification, only to choose the keys that will verify it.
 * NULL when there is none; the caller frees the result.
 */
char		*jwt_peek(const char *, int, const char *);

/* jamb token verify | sign | jwks ...; returns the exit status. */
int		 jwt_cli_main(int, char **);

#endif
