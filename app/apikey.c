#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "apikey.h"
#include "log.h"
#include "util.h"

#define SECRET_BYTES	32

static void
sha256(const char *s, unsigned char *md)
{
	unsigned int	 len = 0;

	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
}

/* Wipes and frees a key shown once, so no copy lingers in memory. */
void
apikey_forget(char **plain)
{
	if (*plain == NULL)
		return;
	explicit_bzero(*plain, strlen(*plain));
	free(*plain);
	*plain = NULL;
}

/* The shape of a key, checked before anything is looked up. */
int
apikey_looks_like(const char *key)
{
	size_t	 n = strlen(key);

	if (n != APIKEY_PREFIX_LEN + 1 + 2 * SECRET_BYTES ||
	    strncmp(key, "jamb_", 5) != 0 || key[APIKEY_PREFIX_LEN] != '_')
		return 0;
	return strspn(key + 5, "0123456789abcdefghijklmnopqrstuvwxyz") ==
	    APIKEY_PREFIX_LEN - 5 &&
	    strspn(key + APIKEY_PREFIX_LEN + 1, "0123456789abcdef") ==
	    2 * SECRET_BYTES;
}

/*
 * Creates a key with a role; *plain is the whole key, to be shown once
 * and freed by the caller, *id its row.
 */
enum jamb_status
apikey_create(struct db_conn *db, const char *name, enum role role,
    int64_t created_by, char **plain, int64_t *id)
{
	static const char	 alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char		 raw[8 + SECRET_BYTES], md[32];
	char			 prefix[APIKEY_PREFIX_LEN + 1];
	char			 secret[2 * SECRET_BYTES + 1];
	enum jamb_status	 st;
	size_t			 i;

	*plain = NULL;
	random_bytes(raw, sizeof(raw));
	memcpy(prefix, "jamb_", 5);
	for (i = 0; i < 8; i++)
		prefix[5 + i] = alnum[raw[i] % 36];
	prefix[APIKEY_PREFIX_LEN] = '\0';
	hex_encode(secret, raw + 8, SECRET_BYTES);
	*plain = xasprintf("%s_%s", prefix, secret);
	sha256(*plain, md);

	st = db_exec(db, "INSERT INTO api_keys (name, prefix, key_hash, role, "
	    "created_by) VALUES (?, ?, ?, ?, ?)", created_by > 0 ? "ssbsi" :
	    "ssbsn", name, prefix, md, sizeof(md), role_name(role),
	    created_by);
	explicit_bzero(raw, sizeof(raw));
	if (st != JAMB_OK) {
		apikey_forget(plain);
		return st;
	}
	*id = (int64_t)db_insert_id(db);
	return JAMB_OK;
}

/*
 * Looks a key up by its prefix and compares the hash of the whole key
 * in constant time.  JAMB_ENOTFOUND for an unknown, revoked or wrong
 * key, without saying which.  The last use is recorded at most once a
 * minute, so a busy build script does not write on every request.
 */
enum jamb_status
apikey_verify(struct db_conn *db, const char *key, struct principal *who)
{
	struct db_rows	*r;
	unsigned char	 md[32];
	char		 prefix[APIKEY_PREFIX_LEN + 1];
	const char	*stored;
	size_t		 len = 0;
	int64_t		 id = 0;
	enum role	 role = ROLE_NONE;
	enum jamb_status st;
	int		 match = 0;

	if (!apikey_looks_like(key))
		return JAMB_ENOTFOUND;
	memcpy(prefix, key, APIKEY_PREFIX_LEN);
	prefix[APIKEY_PREFIX_LEN] = '\0';
	sha256(key, md);
	st = db_query(db, &r, "SELECT id, key_hash, role FROM api_keys "
	    "WHERE prefix = ? AND revoked_at IS NULL", "s", prefix);
	if (st != JAMB_OK)
		return st;
	if (db_next(r) && (stored = db_str(r, 1, &len)) != NULL &&
	    len == sizeof(md) && CRYPTO_memcmp(stored, md, len) == 0) {
		match = 1;
		id = db_int(r, 0);
		role = role_parse(db_str(r, 2, NULL));
	}
	db_rows_free(r);
	if (!match)
		return JAMB_ENOTFOUND;

	who->kind = PRINCIPAL_API_KEY;
	who->api_key_id = id;
	who->role = role;
	/* Bookkeeping only: its failure must not refuse a valid key. */
	if (db_exec(db, "UPDATE api_keys SET last_used_at = NOW(6) "
	    "WHERE id = ? AND (last_used_at IS NULL OR last_used_at < "
	    "NOW(6) - INTERVAL 60 SECOND)", "i", id) != JAMB_OK)
		log_warn(NULL, "api key %lld: last use not recorded: %s",
		    (long long)id, db_error(db));
	return JAMB_OK;
}
