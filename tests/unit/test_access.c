/*
 * Unit tests for app/access.c: who a credential makes a reader, which
 * subscription states grant their tier, and the paywall decision for
 * every reader class and visibility.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "auth.h"

#define TIER_SUPPORTER	2
#define TIER_PATRON	3

static struct access
reader(enum principal_kind kind, enum role role, int64_t user_id)
{
	struct principal	 who;
	struct access		 a;

	memset(&who, 0, sizeof(who));
	who.kind = kind;
	who.role = role;
	who.user_id = user_id;
	access_init(&a, &who);
	return a;
}

static int
can(const struct access *a, enum access_visibility vis)
{
	static const int64_t	 patron[] = { TIER_PATRON };

	return access_can_read(a, vis, patron, 1);
}

START_TEST(anonymous_reads_public_posts_only)
{
	struct access	 a = reader(PRINCIPAL_ANONYMOUS, ROLE_NONE, 0);

	ck_assert_int_eq(access_class(&a), ACCESS_ANONYMOUS);
	ck_assert(can(&a, ACCESS_VIS_PUBLIC));
	ck_assert(!can(&a, ACCESS_VIS_MEMBERS));
	ck_assert(!can(&a, ACCESS_VIS_PAID));
	ck_assert(!can(&a, ACCESS_VIS_TIERS));
	ck_assert(a.subs_loaded);
}
END_TEST

START_TEST(free_member_reads_public_and_members_posts)
{
	struct access	 a = reader(PRINCIPAL_TOKEN, ROLE_MEMBER, 7);

	ck_assert_int_eq(access_class(&a), ACCESS_MEMBER);
	ck_assert(!a.subs_loaded);
	ck_assert_int_eq(a.user_id, 7);
	ck_assert(can(&a, ACCESS_VIS_PUBLIC));
	ck_assert(can(&a, ACCESS_VIS_MEMBERS));
	ck_assert(!can(&a, ACCESS_VIS_PAID));
	ck_assert(!can(&a, ACCESS_VIS_TIERS));
}
END_TEST

START_TEST(paid_member_reads_paid_posts_but_only_the_tiers_held)
{
	struct access	 a = reader(PRINCIPAL_EXTERNAL, ROLE_MEMBER, 9);

	access_add_tier(&a, TIER_SUPPORTER, 1);
	ck_assert_int_eq(access_class(&a), ACCESS_PAID);
	ck_assert(can(&a, ACCESS_VIS_MEMBERS));
	ck_assert(can(&a, ACCESS_VIS_PAID));
	ck_assert(!can(&a, ACCESS_VIS_TIERS));
	access_add_tier(&a, TIER_PATRON, 1);
	access_add_tier(&a, TIER_PATRON, 1);
	ck_assert_uint_eq(a.ntiers, 2);
	ck_assert(can(&a, ACCESS_VIS_TIERS));
}
END_TEST

START_TEST(free_tier_subscription_opens_its_tier_posts_but_not_paid_ones)
{
	struct access	 a = reader(PRINCIPAL_TOKEN, ROLE_MEMBER, 9);

	access_add_tier(&a, TIER_PATRON, 0);
	ck_assert_int_eq(access_class(&a), ACCESS_MEMBER);
	ck_assert(can(&a, ACCESS_VIS_TIERS));
	ck_assert(!can(&a, ACCESS_VIS_PAID));
}
END_TEST

START_TEST(editors_and_above_see_everything_by_any_credential)
{
	static const enum principal_kind kinds[] = { PRINCIPAL_TOKEN,
	    PRINCIPAL_EXTERNAL, PRINCIPAL_API_KEY };
	static const enum role roles[] = { ROLE_EDITOR, ROLE_ADMIN,
	    ROLE_OWNER };
	struct access	 a;
	size_t		 i, j;
	int		 v;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			a = reader(kinds[i], roles[j], kinds[i] ==
			    PRINCIPAL_API_KEY ? 0 : 3);
			ck_assert_int_eq(access_class(&a), ACCESS_STAFF);
			ck_assert(a.subs_loaded);
			for (v = 0; v <= ACCESS_VIS__MAX; v++)
				ck_assert(access_can_read(&a,
				    (enum access_visibility)v, NULL, 0));
		}
}
END_TEST

START_TEST(api_key_below_editor_reads_like_a_member_without_lookup)
{
	struct access	 a = reader(PRINCIPAL_API_KEY, ROLE_AUTHOR, 0);

	ck_assert_int_eq(access_class(&a), ACCESS_MEMBER);
	ck_assert(a.subs_loaded);
	ck_assert(can(&a, ACCESS_VIS_MEMBERS));
	ck_assert(!can(&a, ACCESS_VIS_PAID));
}
END_TEST

START_TEST(author_token_is_not_staff)
{
	struct access	 a = reader(PRINCIPAL_TOKEN, ROLE_AUTHOR, 4);

	ck_assert_int_eq(access_class(&a), ACCESS_MEMBER);
	ck_assert(!can(&a, ACCESS_VIS_PAID));
}
END_TEST

START_TEST(subscription_states_grant_as_documented)
{
	ck_assert(access_subscription_grants("active", 0));
	ck_assert(access_subscription_grants("active", 1));
	ck_assert(access_subscription_grants("trialing", 0));
	ck_assert(access_subscription_grants("past_due", 1));
	ck_assert(!access_subscription_grants("past_due", 0));
	ck_assert(access_subscription_grants("canceled", 1));
	ck_assert(!access_subscription_grants("canceled", 0));
	ck_assert(!access_subscription_grants("incomplete", 1));
	ck_assert(!access_subscription_grants("unpaid", 1));
	ck_assert(!access_subscription_grants("paused", 1));
	ck_assert(!access_subscription_grants("expired", 1));
	ck_assert(!access_subscription_grants(NULL, 1));
}
END_TEST

START_TEST(unknown_visibility_is_for_staff_only)
{
	struct access	 a = reader(PRINCIPAL_TOKEN, ROLE_MEMBER, 9);

	access_add_tier(&a, TIER_PATRON, 1);
	ck_assert(!access_can_read(&a, ACCESS_VIS__MAX, NULL, 0));
	ck_assert_int_eq(access_visibility_parse("tiers"), ACCESS_VIS_TIERS);
	ck_assert_int_eq(access_visibility_parse("Public"), -1);
	ck_assert_int_eq(access_visibility_parse(NULL), -1);
	ck_assert_str_eq(access_visibility_name(ACCESS_VIS_PAID), "paid");
	ck_assert_str_eq(access_class_name(ACCESS_PAID), "paid");
}
END_TEST

START_TEST(tiers_beyond_the_maximum_are_dropped_not_overflowed)
{
	struct access	 a = reader(PRINCIPAL_TOKEN, ROLE_MEMBER, 9);
	int64_t		 t;

	for (t = 1; t <= ACCESS_TIERS_MAX + 5; t++)
		access_add_tier(&a, t, 0);
	ck_assert_uint_eq(a.ntiers, ACCESS_TIERS_MAX);
}
END_TEST

static Suite *
access_suite(void)
{
	Suite	*s = suite_create("access");
	TCase	*tc = tcase_create("decisions");

	tcase_add_test(tc, anonymous_reads_public_posts_only);
	tcase_add_test(tc, free_member_reads_public_and_members_posts);
	tcase_add_test(tc,
	    paid_member_reads_paid_posts_but_only_the_tiers_held);
	tcase_add_test(tc,
	    free_tier_subscription_opens_its_tier_posts_but_not_paid_ones);
	tcase_add_test(tc, editors_and_above_see_everything_by_any_credential);
	tcase_add_test(tc,
	    api_key_below_editor_reads_like_a_member_without_lookup);
	tcase_add_test(tc, author_token_is_not_staff);
	tcase_add_test(tc, subscription_states_grant_as_documented);
	tcase_add_test(tc, unknown_visibility_is_for_staff_only);
	tcase_add_test(tc, tiers_beyond_the_maximum_are_dropped_not_overflowed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(access_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
