#include "config.h"

#include <stdint.h>
#include <string.h>

#include "access.h"
#include "auth.h"
#include "db.h"

static const char *const class_names[ACCESS__MAX] = {
	"anonymous", "member", "paid", "staff"
};

static const char *const visibility_names[ACCESS_VIS__MAX] = {
	"public", "members", "paid", "tiers"
};

/*
 * The reader as far as the credential tells: anonymous callers have no
 * access beyond public posts; jamb tokens and external identities are
 * signed-in users whose subscriptions access_load reads; API keys have
 * no user, so a key below editor reads like a member without any
 * subscription.  Editors and above, by any credential, are staff.
 */
void
access_init(struct access *a, const struct principal *who)
{
	memset(a, 0, sizeof(*a));
	a->subs_loaded = 1;
	if (who == NULL || who->kind == PRINCIPAL_ANONYMOUS ||
	    who->role < ROLE_MEMBER)
		return;
	a->signed_in = 1;
	a->staff = who->role >= ROLE_EDITOR;
	if (who->kind == PRINCIPAL_TOKEN || who->kind == PRINCIPAL_EXTERNAL)
		a->user_id = who->user_id;
	/* Staff read everything: their subscriptions change nothing. */
	if (!a->staff && a->user_id != 0)
		a->subs_loaded = 0;
}

/*
 * Whether a subscription in this state grants its tier now; in_period
 * says that its current_period_end is still ahead.  Payment providers
 * keep a subscription "active" across the renewal, and the renewal's
 * webhook may arrive late, so active and trialing grant access whatever
 * the period says.  past_due (a renewal payment failed and is being
 * retried) and canceled (the reader already paid up to the period's
 * end) keep access until current_period_end, and not at all when it is
 * unknown.  incomplete, unpaid, paused and expired grant nothing.
 */
int
access_subscription_grants(const char *status, int in_period)
{
	if (status == NULL)
		return 0;
	if (strcmp(status, "active") == 0 || strcmp(status, "trialing") == 0)
		return 1;
	if (strcmp(status, "past_due") == 0 || strcmp(status, "canceled") == 0)
		return in_period;
	return 0;
}

/* Adds a held tier; paid says it is a tier of kind 'paid'. */
void
access_add_tier(struct access *a, int64_t tier, int paid)
{
	size_t	 i;

	if (paid)
		a->paid = 1;
	for (i = 0; i < a->ntiers; i++)
		if (a->tiers[i] == tier)
			return;
	if (a->ntiers < ACCESS_TIERS_MAX)
		a->tiers[a->ntiers++] = tier;
}

/*
 * Reads the signed-in reader's subscriptions once for the request.  The
 * statuses that can never grant are left out by the query, which the
 * subscriptions_user index (user_id, status) serves.  On failure the
 * reader keeps only what access_init gave; the caller logs db_error.
 */
enum jamb_status
access_load(struct access *a, struct db_conn *db)
{
	struct db_rows	*r;
	enum jamb_status st;

	if (a->subs_loaded)
		return JAMB_OK;
	st = db_query(db, &r, "SELECT s.tier_id, t.kind = 'paid', s.status, "
	    "s.current_period_end IS NOT NULL AND s.current_period_end > "
	    "UTC_TIMESTAMP(6) FROM subscriptions s JOIN tiers t ON t.id = "
	    "s.tier_id WHERE s.user_id = ? AND s.status IN ('active', "
	    "'trialing', 'past_due', 'canceled')", "i", a->user_id);
	if (st != JAMB_OK)
		return st;
	while (db_next(r))
		if (access_subscription_grants(db_str(r, 2, NULL),
		    db_int(r, 3) != 0))
			access_add_tier(a, db_int(r, 0), db_int(r, 1) != 0);
	db_rows_free(r);
	a->subs_loaded = 1;
	return JAMB_OK;
}

enum access_class
access_class(const struct access *a)
{
	if (a->staff)
		return ACCESS_STAFF;
	if (a->paid)
		return ACCESS_PAID;
	return a->signed_in ? ACCESS_MEMBER : ACCESS_ANONYMOUS;
}

const char *
access_class_name(enum access_class c)
{
	return (unsigned)c < ACCESS__MAX ? class_names[c] : "anonymous";
}

/* The visibility named s, or -1 for NULL or an unknown name. */
int
access_visibility_parse(const char *s)
{
	int	 i;

	for (i = 0; s != NULL && i < ACCESS_VIS__MAX; i++)
		if (strcmp(visibility_names[i], s) == 0)
			return i;
	return -1;
}

const char *
access_visibility_name(enum access_visibility v)
{
	return (unsigned)v < ACCESS_VIS__MAX ? visibility_names[v] : "public";
}

/*
 * Whether the reader may read the body of a post of this visibility;
 * tiers are the post's post_tiers rows, used for ACCESS_VIS_TIERS only.
 * A 'tiers' post needs a subscription that grants one of its tiers: a
 * free tier named there is held only through a subscription row too.
 * An unknown visibility is readable by staff alone.
 */
int
access_can_read(const struct access *a, enum access_visibility vis,
    const int64_t *tiers, size_t ntiers)
{
	size_t	 i, j;

	if (a->staff)
		return 1;
	switch (vis) {
	case ACCESS_VIS_PUBLIC:
		return 1;
	case ACCESS_VIS_MEMBERS:
		return a->signed_in;
	case ACCESS_VIS_PAID:
		return a->signed_in && a->paid;
	case ACCESS_VIS_TIERS:
		for (i = 0; i < ntiers; i++)
			for (j = 0; j < a->ntiers; j++)
				if (tiers[i] == a->tiers[j])
					return a->signed_in;
		return 0;
	default:
		return 0;
	}
}
