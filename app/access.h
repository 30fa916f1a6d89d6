#ifndef JAMB_ACCESS_H
#define JAMB_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct db_conn;
struct principal;

/*
 * Who may read what: the one place that decides whether a reader gets
 * a post's body.  A reader is built once per request from the
 * principal (access_init, no I/O) and, for signed-in users, completed
 * with their subscriptions (access_load).  A token that one day
 * carries the reader's tiers would fill the same fields and set
 * subs_loaded, and access_load would then cost nothing.
 */

/* Tiers one reader can hold; a site has a handful. */
#define ACCESS_TIERS_MAX	32

enum access_class {
	ACCESS_ANONYMOUS,
	ACCESS_MEMBER,		/* signed in, no paid subscription */
	ACCESS_PAID,		/* signed in, an active paid subscription */
	ACCESS_STAFF,		/* editor and above: sees everything */
	ACCESS__MAX
};

/* posts.visibility, in the order of its ENUM. */
enum access_visibility {
	ACCESS_VIS_PUBLIC,
	ACCESS_VIS_MEMBERS,
	ACCESS_VIS_PAID,
	ACCESS_VIS_TIERS,
	ACCESS_VIS__MAX
};

struct access {
	int64_t		 user_id;	/* 0: no account to look up */
	int		 signed_in;
	int		 staff;
	int		 paid;		/* holds an active paid tier */
	int		 subs_loaded;
	size_t		 ntiers;
	int64_t		 tiers[ACCESS_TIERS_MAX];
};

void		 access_init(struct access *, const struct principal *);
enum jamb_status access_load(struct access *, struct db_conn *);
int		 access_subscription_grants(const char *, int);
void		 access_add_tier(struct access *, int64_t, int);
enum access_class access_class(const struct access *);
const char	*access_class_name(enum access_class);
int		 access_visibility_parse(const char *);
const char	*access_visibility_name(enum access_visibility);
int		 access_can_read(const struct access *,
		    enum access_visibility, const int64_t *, size_t);

#endif
