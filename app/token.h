#ifndef JAMB_TOKEN_H
#define JAMB_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth.h"
#include "conf.h"
#include "status.h"

struct app;

/*
 * The access tokens jamb issues: JWTs signed with [auth] signing_key
 * (or hmac_secret), verified with it and the keys of verify_keys.
 */
struct token_keys;

struct token_keys *token_keys_load(const struct conf *, char *, size_t);
void		 token_keys_free(struct token_keys *);
int		 token_can_sign(const struct token_keys *);
json_t		*token_jwks(const struct token_keys *);

enum jamb_status token_issue(struct app *, int64_t, enum role,
		    const json_t *, char **, int64_t *);
enum jamb_status token_verify(struct app *, const char *,
		    struct principal *, char *, size_t);
enum jamb_status token_sign_typed(struct app *, const char *, json_t *,
		    char **);
enum jamb_status token_verify_typed(struct app *, const char *,
		    const char *, json_t **, char *, size_t);

#endif
