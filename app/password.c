#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "password.h"
#include "util.h"

#define SALT_LEN	16
#define HASH_LEN	32

/*
 * Hashes pw with the configured Argon2id parameters and a fresh salt
 * into an encoded string the caller frees.
 */
enum jamb_status
password_hash(const struct conf *c, const char *pw, char **out)
{
	unsigned char	 salt[SALT_LEN];
	uint32_t	 m, t, p;
	size_t		 len;
	char		*enc;
	int		 rc;

	*out = NULL;
	m = (uint32_t)c->auth_argon2_memory_kib;
	t = (uint32_t)c->auth_argon2_iterations;
	p = (uint32_t)c->auth_argon2_parallelism;
	random_bytes(salt, sizeof(salt));
	len = argon2_encodedlen(t, m, p, SALT_LEN, HASH_LEN, Argon2_id);
	enc = xmalloc(len);

	rc = argon2id_hash_encoded(t, m, p, pw, strlen(pw), salt, SALT_LEN,
	    HASH_LEN, enc, len);
	if (rc != ARGON2_OK) {
		free(enc);
		return rc == ARGON2_PWD_TOO_LONG ? JAMB_EINVAL :
		    JAMB_EINTERNAL;
	}
	*out = enc;
	return JAMB_OK;
}

/* libargon2 compares the computed hash in constant time. */
int
password_verify(const char *encoded, const char *pw)
{
	if (encoded == NULL || pw == NULL)
		return 0;
	return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

/*
 * Reads the literal prefix and then a decimal number from *s, moving
 * past both; -1 when the text does not match.
 */
static int
take_number(const char **s, const char *prefix, unsigned long *out)
{
	const char	*p = *s;
	unsigned long	 v = 0;
	size_t		 n = strlen(prefix);

	if (strncmp(p, prefix, n) != 0)
		return -1;
	p += n;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > (UINT32_MAX - (unsigned long)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*p++ - '0');
	}
	*s = p;
	*out = v;
	return 0;
}

int
password_needs_rehash(const struct conf *c, const char *encoded)
{
	const char	*s = encoded;
	unsigned long	 v, m, t, p;

	if (s == NULL ||
	    take_number(&s, "$argon2id$v=", &v) != 0 ||
	    take_number(&s, "$m=", &m) != 0 ||
	    take_number(&s, ",t=", &t) != 0 ||
	    take_number(&s, ",p=", &p) != 0 || *s != '$')
		return 1;
	return v != ARGON2_VERSION_NUMBER ||
	    m != (unsigned long)c->auth_argon2_memory_kib ||
	    t != (unsigned long)c->auth_argon2_iterations ||
	    p != (unsigned long)c->auth_argon2_parallelism;
}
