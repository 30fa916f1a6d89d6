/*
 * Verifications per second of jwt_verify() for each algorithm, on an
 * access token shaped like the ones jamb issues, and of the signature
 * check alone (jwk_verify) to show what parsing and claim checks add.
 * Built and run by tests/bench/jwt, next to `openssl speed`.
 *
 *	jwt_speed [SECONDS]
 *
 * Prints "input BYTES" (the signing input's length), then one line per
 * algorithm: name, jwt_verify/s, jwk_verify/s, token length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jwk.h"
#include "jwt.h"
#include "util.h"

#define ISSUED	1700000000

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

static void
die(const char *what)
{
	fprintf(stderr, "jwt_speed: %s\n", what);
	exit(1);
}

/* A private key through EVP_PKEY_keygen, added to set as PEM. */
static void
add_key(struct jwk_set *set, const char *type, const char *curve,
    const char *kid)
{
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY	*pkey = NULL;
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*pem, err[256];
	long		 n;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    (strcmp(type, "RSA") == 0 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1) ||
	    (curve != NULL && EVP_PKEY_CTX_set_group_name(ctx, curve) != 1) ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1 ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1)
		die("key generation failed");
	n = BIO_get_mem_data(bio, &pem);
	if (jwk_set_add_pem(set, pem, (size_t)n, kid, NULL, err,
	    sizeof(err)) != JAMB_OK)
		die(err);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
}

/*
 * CPU time of this process in microseconds: like `openssl speed`, which
 * divides by user time, so that other load on the machine counts less.
 */
static int64_t
cpu_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Runs fn for about seconds of CPU time; returns calls per second. */
static double
rate(double seconds, int (*fn)(void *), void *arg)
{
	int64_t	 start = cpu_us(), now;
	long	 n = 0;
	int	 i;

	do {
		for (i = 0; i < 16; i++)
			if (fn(arg) != 0)
				die("verification failed");
		n += 16;
		now = cpu_us();
	} while (now - start < (int64_t)(seconds * 1e6));
	return (double)n * 1e6 / (double)(now - start);
}

struct run {
	const char		*token;
	const struct jwk_set	*set;
	const struct jwt_policy	*policy;
	const struct jwk	*key;
	enum jwt_alg		 alg;
	const unsigned char	*sig;
	size_t			 siglen;
	size_t			 inputlen;
};

static int
full(void *arg)
{
	struct run	*r = arg;
	json_t		*claims;
	char		 why[128];

	if (jwt_verify(r->token, strlen(r->token), r->set, r->policy, NULL,
	    &claims, why, sizeof(why)) != JAMB_OK)
		return -1;
	json_decref(claims);
	return 0;
}

static int
signature_only(void *arg)
{
	struct run	*r = arg;

	return jwk_verify(r->key, r->alg, r->token, r->inputlen, r->sig,
	    r->siglen, NULL) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct jwk_set		*set = jwk_set_new();
	struct jwt_policy	 p;
	struct run		 r;
	unsigned char		 secret[64];
	unsigned char		*sig;
	json_t			*claims;
	double			 seconds = argc > 1 ? atof(argv[1]) : 2;
	char			*token, err[256];
	int			 alg;

	add_key(set, "RSA", NULL, "rsa");
	add_key(set, "EC", "P-256", "p256");
	add_key(set, "EC", "P-384", "p384");
	add_key(set, "EC", "P-521", "p521");
	add_key(set, "ED25519", NULL, "ed25519");
	random_bytes(secret, sizeof(secret));
	if (jwk_set_add_secret(set, secret, sizeof(secret), "hmac", NULL, err,
	    sizeof(err)) != JAMB_OK)
		die(err);

	/* The claims jamb puts in its access tokens. */
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
	    "iss", "https://creator.example", "aud", "jamb", "sub", "12345",
	    "iat", (json_int_t)ISSUED, "exp", (json_int_t)ISSUED + 900,
	    "jti", "8c1f0e5b2a9d47e3b6f4a0c2d9e8b7a1", "role", "member");
	jwt_policy_init(&p);
	p.algs = JWT_ALGS_ALL;
	p.issuer = "https://creator.example";
	p.audience = "jamb";
	p.now = ISSUED + 60;

	for (alg = 0; alg < JWT_ALG__MAX; alg++) {
		memset(&r, 0, sizeof(r));
		r.key = jwk_set_find(set, kid_for((enum jwt_alg)alg));
		r.alg = (enum jwt_alg)alg;
		if (jwt_sign(r.key, r.alg, NULL, claims, &token, err,
		    sizeof(err)) != JAMB_OK)
			die(err);
		r.token = token;
		r.set = set;
		r.policy = &p;
		r.inputlen = (size_t)(strrchr(token, '.') - token);
		if (jwt_b64url_decode(strrchr(token, '.') + 1,
		    strlen(strrchr(token, '.') + 1), &sig, &r.siglen) != 0)
			die("bad signature encoding");
		r.sig = sig;
		if (alg == 0)
			printf("input %zu\n", r.inputlen);
		printf("%s %.0f %.0f %zu\n", jwt_alg_name(r.alg),
		    rate(seconds, full, &r), rate(seconds / 2, signature_only,
		    &r), strlen(token));
		fflush(stdout);
		free(sig);
		free(token);
	}
	json_decref(claims);
	jwk_set_free(set);
	return 0;
}
