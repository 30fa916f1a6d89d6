/*
 * Unit tests for app/jwk.c: keys from JWKS documents, PEM text and
 * secrets, what each key may serve, the published JWKS, thumbprints,
 * and the raw signatures of the RFC 7515 and RFC 8037 examples.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jose.h"
#include "jwk.h"
#include "jwt.h"
#include "util.h"

START_TEST(rfc7515_a2_private_jwk_reproduces_the_rs256_signature)
{
	struct jwk_set	*set = jose_jwks(A2_PRIVATE);
	unsigned char	*sig;
	size_t		 n;
	char		*s;

	ck_assert(jwk_is_private(jwk_set_at(set, 0)));
	ck_assert_int_eq(jwk_sign(jwk_set_at(set, 0), JWT_ALG_RS256,
	    A2_INPUT, strlen(A2_INPUT), &sig, &n, NULL, 0), JAMB_OK);
	s = jwt_b64url_encode(sig, n);
	ck_assert_str_eq(s, A2_SIG);
	free(s);
	free(sig);
	jwk_set_free(set);
}
END_TEST

START_TEST(rfc8037_a4_ed25519_signature_is_reproduced)
{
	struct jwk_set	*set;
	const char	*why = NULL;
	unsigned char	*sig;
	size_t		 n;
	char		*s;

	set = jose_jwks("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"d\":\"" ED_D "\",\"x\":\"" ED_X "\"}]}");
	ck_assert_int_eq(jwk_sign(jwk_set_at(set, 0), JWT_ALG_EDDSA,
	    ED_INPUT, strlen(ED_INPUT), &sig, &n, NULL, 0), JAMB_OK);
	s = jwt_b64url_encode(sig, n);
	ck_assert_str_eq(s, ED_SIG);
	ck_assert(jwk_verify(jwk_set_at(set, 0), JWT_ALG_EDDSA, ED_INPUT,
	    strlen(ED_INPUT), sig, n, &why));
	free(s);
	free(sig);
	jwk_set_free(set);
}
END_TEST

START_TEST(rfc8037_a3_thumbprint_of_the_ed25519_key)
{
	struct jwk_set	*set;
	char		*t;

	set = jose_jwks("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"" ED_X "\"}]}");
	t = jwk_thumbprint(jwk_set_at(set, 0));
	ck_assert_str_eq(t, ED_THUMBPRINT);
	free(t);
	jwk_set_free(set);
}
END_TEST

START_TEST(ecdsa_signatures_have_the_fixed_jose_length)
{
	static const struct {
		enum jwt_alg	 alg;
		size_t		 len;
	} cases[] = {
		{ JWT_ALG_ES256, 64 }, { JWT_ALG_ES384, 96 },
		{ JWT_ALG_ES512, 132 },
	};
	static const char *const curves[] = { "P-256", "P-384", "P-521" };
	struct jwk_set	*set = jwk_set_new();
	const struct jwk *k;
	unsigned char	*sig;
	size_t		 i, j, n;

	for (i = 0; i < 3; i++)
		jose_add_pem(set, jose_keygen("EC", curves[i]), 1, curves[i]);

	/* Many signatures, so that short r or s values occur and are padded. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 50; j++) {
			k = jwk_set_find(set, curves[i]);
			ck_assert_int_eq(jwk_sign(k, cases[i].alg, "m", 1, &sig,
			    &n, NULL, 0), JAMB_OK);
			ck_assert_uint_eq(n, cases[i].len);
			ck_assert(jwk_verify(k, cases[i].alg, "m", 1, sig, n,
			    NULL));
			free(sig);
		}
	jwk_set_free(set);
}
END_TEST

START_TEST(pem_keys_never_serve_hmac)
{
	struct jwk_set	*set = jwk_set_new();
	struct jwk_set	*rsa = jose_jwks(A2_PRIVATE);
	EVP_PKEY	*pkey = jose_keygen("EC", "P-256");
	char		*pem = jose_pem(pkey, 0), err[128];
	int		 alg;

	ck_assert_int_eq(jwk_set_add_pem(set, pem, strlen(pem), "k", "HS256",
	    err, sizeof(err)), JAMB_EINVAL);
	ck_assert_int_eq(jwk_set_count(set), 0);
	ck_assert_int_eq(jwk_set_add_pem(set, pem, strlen(pem), "k", NULL,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(jwk_kty(jwk_set_at(set, 0)), "EC");
	for (alg = JWT_ALG_HS256; alg <= JWT_ALG_HS512; alg++)
		ck_assert(!jwk_allows(jwk_set_at(set, 0), (enum jwt_alg)alg));
	for (alg = JWT_ALG_HS256; alg <= JWT_ALG_HS512; alg++)
		ck_assert(!jwk_allows(jwk_set_at(rsa, 0), (enum jwt_alg)alg));
	free(pem);
	EVP_PKEY_free(pkey);
	jwk_set_free(set);
	jwk_set_free(rsa);
}
END_TEST

START_TEST(jwks_key_claiming_an_alg_of_another_type_is_skipped)
{
	struct jwk_set	*set = jwk_set_new();
	const char	*doc = "{\"keys\":[{\"kty\":\"RSA\","
			    "\"alg\":\"HS256\",\"n\":\"" A2_N "\","
			    "\"e\":\"AQAB\"}]}";
	char		 err[256];
	size_t		 skipped;

	ck_assert_int_eq(jwk_set_add_jwks(set, doc, strlen(doc), &skipped,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(jwk_set_count(set), 0);
	ck_assert_ptr_nonnull(strstr(err, "does not fit"));
	jwk_set_free(set);
}
END_TEST

START_TEST(hmac_secret_shorter_than_the_hash_is_refused)
{
	struct jwk_set	*set = jwk_set_new();
	const char	*doc = "{\"keys\":[{\"kty\":\"oct\","
			    "\"k\":\"c2hvcnQ\"}]}";
	unsigned char	 secret[48];
	size_t		 skipped;
	char		 err[128];

	random_bytes(secret, sizeof(secret));
	ck_assert_int_eq(jwk_set_add_secret(set, "short", 5, "s", NULL, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_int_eq(jwk_set_add_jwks(set, doc, strlen(doc), &skipped,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(skipped, 1);

	/* 32 bytes serve HS256 only; 48 add HS384. */
	ck_assert_int_eq(jwk_set_add_secret(set, secret, 32, "s32", NULL,
	    err, sizeof(err)), JAMB_OK);
	ck_assert(jwk_allows(jwk_set_find(set, "s32"), JWT_ALG_HS256));
	ck_assert(!jwk_allows(jwk_set_find(set, "s32"), JWT_ALG_HS384));
	ck_assert_int_eq(jwk_set_add_secret(set, secret, 48, "s48", NULL,
	    err, sizeof(err)), JAMB_OK);
	ck_assert(jwk_allows(jwk_set_find(set, "s48"), JWT_ALG_HS384));
	ck_assert(!jwk_allows(jwk_set_find(set, "s48"), JWT_ALG_HS512));
	jwk_set_free(set);
}
END_TEST

START_TEST(jwks_skips_keys_not_meant_for_signatures)
{
	struct jwk_set	*set = jwk_set_new();
	const char	*doc = "{\"keys\":["
	    "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"" A2_N "\","
	    "\"e\":\"AQAB\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" ED_X "\"},"
	    "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" A3_X "\","
	    "\"y\":\"" A3_Y "\"},"
	    "{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP\",\"n\":\"" A2_N "\","
	    "\"e\":\"AQAB\"},"
	    "{\"kty\":\"foo\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ok\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}]}";
	char		 err[256];
	size_t		 skipped;

	ck_assert_int_eq(jwk_set_add_jwks(set, doc, strlen(doc), &skipped,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(skipped, 5);
	ck_assert_uint_eq(jwk_set_count(set), 1);
	ck_assert_str_eq(jwk_kid(jwk_set_at(set, 0)), "ok");
	ck_assert_ptr_nonnull(strstr(err, "key 1"));
	jwk_set_free(set);
}
END_TEST

START_TEST(lone_jwk_is_a_set_of_one)
{
	struct jwk_set	*set;

	set = jose_jwks("{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a3\","
	    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\",\"d\":\"" A3_D "\"}");
	ck_assert_uint_eq(jwk_set_count(set), 1);
	ck_assert_str_eq(jwk_kid(jwk_set_at(set, 0)), "a3");
	ck_assert(jwk_is_private(jwk_set_at(set, 0)));
	ck_assert(jwk_allows(jwk_set_at(set, 0), JWT_ALG_ES256));
	jwk_set_free(set);
}
END_TEST

START_TEST(malformed_jwks_fails_whole)
{
	static const char *const docs[] = {
		"[]",
		"{\"keys\":{}}",
		"{\"keys\":[1]}",
		"{\"keys\":[{\"kid\":\"a\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
		    "\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
		    "\",\"y\":\"" A3_X "\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\","
		    "\"y\":\"" A3_Y "\"}]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" A2_N "\","
		    "\"e\":\"AQ=B\"}]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" A2_N "\",\"e\":\"AQAB\","
		    "\"d\":\"" A2_D "\",\"p\":\"" A2_P "\"}]}",
		"{\"keys\":[{\"kty\":\"oct\",\"k\":7}]}",
		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"" ED_X "\",\"kid\":1}]}",
		"{\"keys\":[], \"keys\":[]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA" A3_X
		    "\",\"y\":\"" A3_Y "\"}]}",
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\""
		    "AAAA\"}]}",
	};
	struct jwk_set	*set = jwk_set_new();
	char		 err[256] = "";

	ck_assert_int_eq(jwk_set_add_jwks(set, docs[_i], strlen(docs[_i]),
	    NULL, err, sizeof(err)), JAMB_EINVAL);
	ck_assert_uint_eq(jwk_set_count(set), 0);
	ck_assert_str_ne(err, "");
	jwk_set_free(set);
}
END_TEST

/* A public JWK member as bytes; freed by the caller. */
static unsigned char *
jwk_member(const json_t *k, const char *name, size_t *n)
{
	const char	*v = json_string_value(json_object_get(k, name));
	unsigned char	*b;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(jwt_b64url_decode(v, strlen(v), &b, n), 0);
	return b;
}

/*
 * Some producers write EC coordinates without their leading zero bytes;
 * such keys are read as the integers they are.
 */
START_TEST(ec_coordinate_without_leading_zero_is_padded)
{
	struct jwk_set	*set = NULL, *stripped;
	json_t		*doc = NULL, *k;
	unsigned char	*x = NULL, *sig;
	char		*enc, *text;
	size_t		 n, siglen, tries;

	for (tries = 0; tries < 5000; tries++) {
		set = jwk_set_new();
		jose_add_pem(set, jose_keygen("EC", "P-256"), 1, "z");
		doc = jwk_set_public(set);
		k = json_array_get(json_object_get(doc, "keys"), 0);
		x = jwk_member(k, "x", &n);
		ck_assert_uint_eq(n, 32);
		if (x[0] == 0)
			break;
		free(x);
		json_decref(doc);
		jwk_set_free(set);
	}
	ck_assert_uint_lt(tries, 5000);

	enc = jwt_b64url_encode(x + 1, 31);
	json_object_set_new(k, "x", json_string(enc));
	text = json_dumps(doc, 0);
	stripped = jose_jwks(text);
	ck_assert_int_eq(jwk_sign(jwk_set_at(set, 0), JWT_ALG_ES256, "m", 1,
	    &sig, &siglen, NULL, 0), JAMB_OK);
	ck_assert(jwk_verify(jwk_set_at(stripped, 0), JWT_ALG_ES256, "m", 1,
	    sig, siglen, NULL));
	free(sig);
	free(text);
	free(enc);
	free(x);
	json_decref(doc);
	jwk_set_free(stripped);
	jwk_set_free(set);
}
END_TEST

START_TEST(private_part_of_another_key_is_refused)
{
	struct jwk_set	*set = jwk_set_new();
	const char	*ec = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
			    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\","
			    "\"d\":\"" ED_D "\"}]}";
	const char	*okp = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":"
			    "\"Ed25519\",\"x\":\"" ED_X "\",\"d\":\"" A3_D
			    "\"}]}";
	char		 err[256] = "";

	ck_assert_int_eq(jwk_set_add_jwks(set, ec, strlen(ec), NULL, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "does not match"));
	ck_assert_int_eq(jwk_set_add_jwks(set, okp, strlen(okp), NULL, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not the public key"));
	jwk_set_free(set);
}
END_TEST

START_TEST(small_rsa_modulus_is_refused)
{
	struct jwk_set	*set = jwk_set_new();
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;
	char		*pem, err[256];

	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY_keygen_init(ctx);
	EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &pkey), 1);
	pem = jose_pem(pkey, 0);
	ck_assert_int_eq(jwk_set_add_pem(set, pem, strlen(pem), "k", NULL,
	    err, sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "1024 bits"));
	free(pem);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	jwk_set_free(set);
}
END_TEST

/* Verifying costs grow with the exponent; 65537 is what everyone uses. */
START_TEST(rsa_exponent_over_64_bits_is_skipped)
{
	struct jwk_set	*set = jwk_set_new();
	const char	*doc = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" A2_N
			    "\",\"e\":\"AgAAAAAAAAAB\"}]}";
	char		 err[256];
	size_t		 skipped;

	ck_assert_int_eq(jwk_set_add_jwks(set, doc, strlen(doc), &skipped,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(jwk_set_count(set), 0);
	ck_assert_ptr_nonnull(strstr(err, "exponent of 66 bits"));
	jwk_set_free(set);
}
END_TEST

START_TEST(pem_key_without_kid_gets_its_thumbprint)
{
	struct jwk_set	*set = jwk_set_new();
	const char	*pem = "-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
	    "-----END PUBLIC KEY-----\n";
	char		 err[128];

	ck_assert_int_eq(jwk_set_add_pem(set, pem, strlen(pem), NULL, NULL,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(jwk_kid(jwk_set_at(set, 0)), ED_THUMBPRINT);
	ck_assert(!jwk_is_private(jwk_set_at(set, 0)));
	jwk_set_free(set);
}
END_TEST

START_TEST(garbage_and_encrypted_pem_are_refused)
{
	struct jwk_set	*set = jwk_set_new();
	EVP_PKEY	*pkey = jose_keygen("EC", "P-256");
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*data, err[256];
	long		 n;

	ck_assert_int_eq(jwk_set_add_pem(set, "hello", 5, "k", NULL, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, pkey,
	    EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"secret"), 1);
	n = BIO_get_mem_data(bio, &data);
	ck_assert_int_eq(jwk_set_add_pem(set, data, (size_t)n, "k", NULL, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_uint_eq(jwk_set_count(set), 0);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	jwk_set_free(set);
}
END_TEST

START_TEST(published_jwks_has_no_private_members_nor_secrets)
{
	static const char *const private[] = { "d", "p", "q", "dp", "dq",
	    "qi", "k" };
	static const char secret[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	struct jwk_set	*set = jose_jwks(A2_PRIVATE);
	json_t		*doc, *k;
	size_t		 i, j;

	ck_assert_int_eq(jwk_set_add_secret(set, secret, sizeof(secret) - 1,
	    "h", NULL, NULL, 0), JAMB_OK);
	jose_add_pem(set, jose_keygen("EC", "P-384"), 1, "ec");
	jose_add_pem(set, jose_keygen("ED448", NULL), 1, "ed");
	doc = jwk_set_public(set);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "keys")), 3);
	k = json_array_get(json_object_get(doc, "keys"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(k, "n")), A2_N);
	ck_assert_str_eq(json_string_value(json_object_get(k, "kid")), "a2");
	json_array_foreach(json_object_get(doc, "keys"), i, k)
		for (j = 0; j < sizeof(private) / sizeof(private[0]); j++)
			ck_assert_ptr_null(json_object_get(k, private[j]));
	json_decref(doc);
	jwk_set_free(set);
}
END_TEST

START_TEST(published_ec_coordinates_keep_their_full_length)
{
	struct jwk_set	*set = jwk_set_new();
	json_t		*doc, *k;
	size_t		 i;

	/* 1 in 256 coordinates has a leading zero byte: try many keys. */
	for (i = 0; i < 20; i++)
		jose_add_pem(set, jose_keygen("EC", "P-521"), 0, "p521");
	doc = jwk_set_public(set);
	json_array_foreach(json_object_get(doc, "keys"), i, k) {
		ck_assert_str_eq(json_string_value(json_object_get(k, "crv")),
		    "P-521");
		ck_assert_uint_eq(strlen(json_string_value(
		    json_object_get(k, "x"))), 88);
		ck_assert_uint_eq(strlen(json_string_value(
		    json_object_get(k, "y"))), 88);
	}
	json_decref(doc);
	jwk_set_free(set);
}
END_TEST

static Suite *
jwk_suite(void)
{
	Suite	*s = suite_create("jwk");
	TCase	*tc;

	tc = tcase_create("rfc examples");
	tcase_add_test(tc,
	    rfc7515_a2_private_jwk_reproduces_the_rs256_signature);
	tcase_add_test(tc, rfc8037_a4_ed25519_signature_is_reproduced);
	tcase_add_test(tc, rfc8037_a3_thumbprint_of_the_ed25519_key);
	tcase_add_test(tc, ecdsa_signatures_have_the_fixed_jose_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("what keys serve");
	tcase_add_test(tc, pem_keys_never_serve_hmac);
	tcase_add_test(tc, jwks_key_claiming_an_alg_of_another_type_is_skipped);
	tcase_add_test(tc, hmac_secret_shorter_than_the_hash_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("loading");
	tcase_add_test(tc, jwks_skips_keys_not_meant_for_signatures);
	tcase_add_test(tc, lone_jwk_is_a_set_of_one);
	tcase_add_loop_test(tc, malformed_jwks_fails_whole, 0, 14);
	tcase_add_test(tc, ec_coordinate_without_leading_zero_is_padded);
	tcase_add_test(tc, private_part_of_another_key_is_refused);
	tcase_add_test(tc, small_rsa_modulus_is_refused);
	tcase_add_test(tc, rsa_exponent_over_64_bits_is_skipped);
	tcase_add_test(tc, pem_key_without_kid_gets_its_thumbprint);
	tcase_add_test(tc, garbage_and_encrypted_pem_are_refused);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("publishing");
	tcase_add_test(tc, published_jwks_has_no_private_members_nor_secrets);
	tcase_add_test(tc, published_ec_coordinates_keep_their_full_length);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(jwk_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
