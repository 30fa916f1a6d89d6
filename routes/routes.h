#ifndef JAMB_ROUTES_H
#define JAMB_ROUTES_H

#include "router.h"

/* Each file of routes/ exports one table; routes.c lists them all. */
extern const struct route health_routes[];
extern const struct route apikeys_routes[];
extern const struct route debug_routes[];
extern const struct route auth_routes[];
extern const struct route me_routes[];
extern const struct route links_routes[];
extern const struct route admin_posts_routes[];
extern const struct route posts_routes[];
extern const struct route preview_routes[];

extern const struct route *const route_tables[];

/*
 * Request body checks, sign-in failure limits and the opening of a
 * sign-in, of routes/auth.c, which routes/me.c and routes/links.c share.
 */
#define AUTH_PASSWORD_MIN	10	/* bytes, for new passwords */
#define AUTH_PASSWORD_MAX	1024
#define AUTH_EMAIL_MAX		254	/* bytes, users.email */
int	 auth_body_check(struct req *, struct resp *, const char *const *);
int	 auth_body_string(struct req *, struct resp *, const char *, size_t,
	    size_t, const char **);
int	 auth_body_name(struct req *, struct resp *, const char **);
int	 auth_body_email(struct req *, struct resp *, char *);
int	 auth_login_blocked(struct req *, struct resp *, const char *);
void	 auth_login_failed(struct req *, const char *);
void	 auth_login_succeeded(struct req *, const char *);

/* routes/admin_posts.c: who may work on a post (preview.c too). */
enum jamb_status posts_may_edit(struct req *, int64_t, int *);
enum jamb_status auth_sign_in(struct req *, struct resp *, int64_t);

#endif
