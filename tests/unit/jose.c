/*
 * Keys for the JOSE unit tests, made through EVP_PKEY_keygen and loaded
 * the way jamb loads its own: as PEM text or a JWKS document.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jose.h"
#include "util.h"

/* A new key of a type ("RSA", "EC", "ED25519"), 2048 bits for RSA. */
EVP_PKEY *
jose_keygen(const char *type, const char *curve)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	if (strcmp(type, "RSA") == 0)
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048),
		    1);
	if (curve != NULL)
		ck_assert_int_eq(EVP_PKEY_CTX_set_group_name(ctx, curve), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &pkey), 1);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* The PEM text of a key, private or public; freed by the caller. */
char *
jose_pem(EVP_PKEY *pkey, int private)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data, *out;
	long	 n;

	if (private)
		ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL,
		    NULL, 0, NULL, NULL), 1);
	else
		ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, pkey), 1);
	n = BIO_get_mem_data(bio, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

/* Adds a key to set as PEM under kid, and frees pkey. */
void
jose_add_pem(struct jwk_set *set, EVP_PKEY *pkey, int private,
    const char *kid)
{
	char	*pem = jose_pem(pkey, private);
	char	 err[256] = "";

	ck_assert_msg(jwk_set_add_pem(set, pem, strlen(pem), kid, NULL, err,
	    sizeof(err)) == JAMB_OK, "%s: %s", kid, err);
	free(pem);
	EVP_PKEY_free(pkey);
}

/* A new set holding the keys of a JWKS document that must load. */
struct jwk_set *
jose_jwks(const char *text)
{
	struct jwk_set	*set = jwk_set_new();
	char		 err[512] = "";

	ck_assert_msg(jwk_set_add_jwks(set, text, strlen(text), NULL, err,
	    sizeof(err)) == JAMB_OK, "%s", err);
	return set;
}
