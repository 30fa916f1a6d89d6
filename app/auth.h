#ifndef JAMB_AUTH_H
#define JAMB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "status.h"

struct req;
struct resp;

/* Roles in increasing power; a route names the least it needs. */
enum role {
	ROLE_NONE,		/* anonymous */
	ROLE_MEMBER,
	ROLE_AUTHOR,
	ROLE_EDITOR,
	ROLE_ADMIN,
	ROLE_OWNER,
	ROLE__MAX
};

enum principal_kind {
	PRINCIPAL_ANONYMOUS,
	PRINCIPAL_TOKEN,	/* an access token jamb issued */
	PRINCIPAL_EXTERNAL,	/* a token of a configured identity provider */
	PRINCIPAL_API_KEY
};

/* Who is calling, as established once per request by auth_request. */
struct principal {
	enum principal_kind	 kind;
	int64_t			 user_id;	/* 0 for anonymous and keys */
	enum role		 role;
	int64_t			 api_key_id;
	json_t			*claims;	/* a token's verified claims */
};

const char	*role_name(enum role);
enum role	 role_parse(const char *);
int		 auth_request(struct req *, struct resp *);
void		 auth_unauthorized(struct resp *, const struct req *,
		    const char *, const char *);
void		 principal_clear(struct principal *);

#endif
