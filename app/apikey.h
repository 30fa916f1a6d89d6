#ifndef JAMB_APIKEY_H
#define JAMB_APIKEY_H

#include <stdint.h>

#include "auth.h"
#include "db.h"

/*
 * API keys for build scripts and automations: "jamb_" and eight visible
 * characters (the prefix, stored as it is, shown in lists), "_" and 64
 * hex digits of secret.  Only the SHA-256 of the whole key is stored.
 */
#define APIKEY_PREFIX_LEN	13	/* "jamb_" + 8 */

enum jamb_status apikey_create(struct db_conn *, const char *, enum role,
		    int64_t, char **, int64_t *);
enum jamb_status apikey_verify(struct db_conn *, const char *,
		    struct principal *);
int		 apikey_looks_like(const char *);
void		 apikey_forget(char **);

#endif
