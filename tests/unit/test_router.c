/*
 * Unit tests for app/router.c against a route table of the tests' own:
 * exact and parameter matches, decoding, paths that match nothing,
 * methods a path lacks and the Allow list, and skipped entries.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "util.h"

static enum jamb_status
handle(struct req *req, struct resp *resp)
{
	return JAMB_OK;
}

enum {
	R_LIST,
	R_CREATE,
	R_LATEST,
	R_GET,
	R_DELETE,
	R_TAGGED,
	R_PUBLISH,
	R_DEBUG,
	R_ROOT
};

static const struct route table[] = {
	[R_LIST] = { "GET", "/v1/posts", handle, 0 },
	[R_CREATE] = { "POST", "/v1/posts", handle, ROUTE_BODY | ROUTE_JSON },
	[R_LATEST] = { "GET", "/v1/posts/latest", handle, 0 },
	[R_GET] = { "GET", "/v1/posts/{slug}", handle, 0 },
	[R_DELETE] = { "DELETE", "/v1/posts/{slug}", handle, 0 },
	[R_TAGGED] = { "GET", "/v1/tags/{tag}/posts/{slug}", handle, 0 },
	[R_PUBLISH] = { "POST", "/v1/admin/posts/{id}/publish", handle, 0 },
	[R_DEBUG] = { "GET", "/v1/debug/thing", handle, ROUTE_DEBUG },
	[R_ROOT] = { "GET", "/", handle, 0 },
	{ NULL, NULL, NULL, 0 }
};

static struct router	*rt;
static struct kvlist	 params;
static char		 allow[128];

static void
setup(void)
{
	rt = router_new();
	router_add(rt, table, 0);
	memset(&params, 0, sizeof(params));
	memset(allow, 'X', sizeof(allow));
}

static void
teardown(void)
{
	router_free(rt);
	rt = NULL;
	kv_free(&params);
}

/* router_match on the shared router, params and allow buffer. */
static enum route_match
match(const char *method, const char *path, const struct route **out)
{
	kv_free(&params);
	return router_match(rt, method, path, out, &params, allow,
	    sizeof(allow));
}

START_TEST(exact_path_finds_its_route)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_LIST]);
	ck_assert_uint_eq(params.n, 0);
	ck_assert_str_eq(allow, "GET, HEAD, POST, OPTIONS");
}
END_TEST

START_TEST(method_selects_among_routes_of_one_path)
{
	const struct route	*r;

	ck_assert_int_eq(match("POST", "/v1/posts", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_CREATE]);
	ck_assert_int_eq(match("DELETE", "/v1/posts/x", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_DELETE]);
	ck_assert_str_eq(kv_get(&params, "slug"), "x");
}
END_TEST

START_TEST(root_path_matches_root_pattern)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_ROOT]);
}
END_TEST

START_TEST(parameter_is_captured_by_name)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts/hello-world", &r),
	    ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_GET]);
	ck_assert_uint_eq(params.n, 1);
	ck_assert_str_eq(params.v[0].key, "slug");
	ck_assert_str_eq(params.v[0].val, "hello-world");
}
END_TEST

START_TEST(parameter_is_percent_decoded)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts/%C3%A9t%C3%A9", &r),
	    ROUTE_FOUND);
	ck_assert_str_eq(kv_get(&params, "slug"), "\xc3\xa9t\xc3\xa9");

	/* A path is not a query: '+' is not a space there. */
	ck_assert_int_eq(match("GET", "/v1/posts/a+b%20c", &r), ROUTE_FOUND);
	ck_assert_str_eq(kv_get(&params, "slug"), "a+b c");
}
END_TEST

START_TEST(encoded_slash_stays_inside_one_parameter)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts/a%2Fb", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_GET]);
	ck_assert_str_eq(kv_get(&params, "slug"), "a/b");

	ck_assert_int_eq(match("GET", "/v1/posts/a/b", &r), ROUTE_NO_PATH);
}
END_TEST

START_TEST(several_parameters_are_captured)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/tags/c%20d/posts/s", &r),
	    ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_TAGGED]);
	ck_assert_uint_eq(params.n, 2);
	ck_assert_str_eq(kv_get(&params, "tag"), "c d");
	ck_assert_str_eq(kv_get(&params, "slug"), "s");
}
END_TEST

START_TEST(parameter_between_static_segments_is_captured)
{
	const struct route	*r;

	ck_assert_int_eq(match("POST", "/v1/admin/posts/42/publish", &r),
	    ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_PUBLISH]);
	ck_assert_str_eq(kv_get(&params, "id"), "42");

	ck_assert_int_eq(match("POST", "/v1/admin/posts/42/unpublish", &r),
	    ROUTE_NO_PATH);
}
END_TEST

START_TEST(earlier_entry_wins_when_patterns_overlap)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts/latest", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_LATEST]);
	ck_assert_uint_eq(params.n, 0);

	ck_assert_int_eq(match("DELETE", "/v1/posts/latest", &r),
	    ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_DELETE]);
	ck_assert_str_eq(kv_get(&params, "slug"), "latest");
}
END_TEST

START_TEST(unknown_path_is_no_path)
{
	static const char *const paths[] = {
		"/v1/nope", "/v1", "/v2/posts", "/V1/posts", "/v1/posts/a/b",
		"/v1/tags/a/posts", "/v1/postsx",
	};
	const struct route	*r;
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = &table[0];
		ck_assert_msg(match("GET", paths[i], &r) == ROUTE_NO_PATH,
		    "%s matched", paths[i]);
		ck_assert_ptr_null(r);
		ck_assert_str_eq(allow, "");
	}
}
END_TEST

START_TEST(trailing_slash_is_no_path)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts/", &r), ROUTE_NO_PATH);
	ck_assert_int_eq(match("GET", "/v1/posts/x/", &r), ROUTE_NO_PATH);
	ck_assert_int_eq(match("POST", "/v1/admin/posts/1/publish/", &r),
	    ROUTE_NO_PATH);
}
END_TEST

START_TEST(empty_segment_is_no_path)
{
	static const char *const paths[] = {
		"//v1/posts", "/v1//posts", "/v1/posts//x", "//",
	};
	const struct route	*r;
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		ck_assert_msg(match("GET", paths[i], &r) == ROUTE_NO_PATH,
		    "%s matched", paths[i]);
}
END_TEST

START_TEST(relative_path_is_no_path)
{
	static const char *const paths[] = {
		"v1/posts", "", "posts", "*", "http://host/v1/posts",
	};
	const struct route	*r;
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		ck_assert_msg(match("GET", paths[i], &r) == ROUTE_NO_PATH,
		    "\"%s\" matched", paths[i]);
}
END_TEST

START_TEST(missing_method_is_no_method_with_allow)
{
	const struct route	*r;

	r = &table[0];
	ck_assert_int_eq(match("PUT", "/v1/posts", &r), ROUTE_NO_METHOD);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(allow, "GET, HEAD, POST, OPTIONS");

	ck_assert_int_eq(match("PUT", "/v1/posts/x", &r), ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, DELETE, OPTIONS");
}
END_TEST

START_TEST(allow_has_head_only_with_get)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/admin/posts/1/publish", &r),
	    ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "POST, OPTIONS");
}
END_TEST

START_TEST(allow_lists_each_method_once)
{
	const struct route	*r;

	/* Both GET /v1/posts/latest and GET /v1/posts/{slug} match. */
	ck_assert_int_eq(match("PATCH", "/v1/posts/latest", &r),
	    ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, DELETE, OPTIONS");
}
END_TEST

START_TEST(head_finds_get_route)
{
	const struct route	*r;

	ck_assert_int_eq(match("HEAD", "/v1/posts", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_LIST]);
	ck_assert_int_eq(match("HEAD", "/v1/posts/%C3%A9", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_GET]);
	ck_assert_str_eq(kv_get(&params, "slug"), "\xc3\xa9");
}
END_TEST

START_TEST(head_without_get_is_no_method)
{
	const struct route	*r;

	ck_assert_int_eq(match("HEAD", "/v1/admin/posts/1/publish", &r),
	    ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "POST, OPTIONS");
}
END_TEST

START_TEST(options_is_left_to_the_caller)
{
	const struct route	*r;

	ck_assert_int_eq(match("OPTIONS", "/v1/posts", &r), ROUTE_NO_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD, POST, OPTIONS");
}
END_TEST

START_TEST(methods_are_case_sensitive)
{
	const struct route	*r;

	ck_assert_int_eq(match("get", "/v1/posts", &r), ROUTE_NO_METHOD);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(parameter_decoding_to_invalid_utf8_does_not_match)
{
	static const char *const paths[] = {
		"/v1/posts/%FF", "/v1/posts/%C0%AF", "/v1/posts/%ED%A0%80",
		"/v1/posts/%C3", "/v1/tags/ok/posts/%FE",
	};
	const struct route	*r;
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = &table[0];
		ck_assert_msg(match("GET", paths[i], &r) == ROUTE_NO_PATH,
		    "%s matched", paths[i]);
		ck_assert_ptr_null(r);
	}
}
END_TEST

START_TEST(undecodable_path_is_no_path_for_every_method)
{
	const struct route	*r;

	/* Not 405: no method could ever find a resource there. */
	ck_assert_int_eq(match("PUT", "/v1/posts/%FF", &r), ROUTE_NO_PATH);
	ck_assert_int_eq(match("DELETE", "/v1/posts/%00", &r), ROUTE_NO_PATH);
	ck_assert_uint_eq(params.n, 0);
}
END_TEST

START_TEST(parameter_with_nul_does_not_match)
{
	const struct route	*r;

	ck_assert_int_eq(match("GET", "/v1/posts/a%00b", &r), ROUTE_NO_PATH);
	ck_assert_int_eq(match("GET", "/v1/posts/%00", &r), ROUTE_NO_PATH);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(params.n, 0);
}
END_TEST

START_TEST(router_add_skips_flagged_entries)
{
	struct router		*skipping;
	const struct route	*r;
	char			 al[128];

	ck_assert_int_eq(match("GET", "/v1/debug/thing", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_DEBUG]);

	skipping = router_new();
	router_add(skipping, table, ROUTE_DEBUG);
	ck_assert_int_eq(router_match(skipping, "GET", "/v1/debug/thing", &r,
	    &params, al, sizeof(al)), ROUTE_NO_PATH);
	ck_assert_int_eq(router_match(skipping, "POST", "/v1/posts", &r,
	    &params, al, sizeof(al)), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_CREATE]);

	/* A flag not in skip does not matter. */
	router_free(skipping);
	skipping = router_new();
	router_add(skipping, table, ROUTE_BODY);
	ck_assert_int_eq(router_match(skipping, "POST", "/v1/posts", &r,
	    &params, al, sizeof(al)), ROUTE_NO_METHOD);
	ck_assert_int_eq(router_match(skipping, "GET", "/v1/debug/thing", &r,
	    &params, al, sizeof(al)), ROUTE_FOUND);
	router_free(skipping);
}
END_TEST

START_TEST(router_add_appends_more_tables)
{
	static const struct route	 more[] = {
		{ "PUT", "/v1/posts/{slug}", handle, 0 },
		{ "GET", "/v1/other", handle, 0 },
		{ NULL, NULL, NULL, 0 }
	};
	const struct route		*r;

	router_add(rt, more, 0);
	ck_assert_int_eq(match("PUT", "/v1/posts/x", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &more[0]);
	ck_assert_str_eq(allow, "GET, HEAD, DELETE, PUT, OPTIONS");
	ck_assert_int_eq(match("GET", "/v1/other", &r), ROUTE_FOUND);
	ck_assert_int_eq(match("GET", "/v1/posts", &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &table[R_LIST]);
}
END_TEST

START_TEST(allow_is_cut_to_its_buffer)
{
	const struct route	*r;
	char			 big[64];
	size_t			 i;

	memset(big, 'X', sizeof(big));
	ck_assert_int_eq(router_match(rt, "PUT", "/v1/posts", &r, &params,
	    big, 10), ROUTE_NO_METHOD);
	ck_assert_uint_lt(strlen(big), 10);
	ck_assert_int_eq(strncmp(big, "GET, HEAD", strlen(big)), 0);
	for (i = 10; i < sizeof(big); i++)
		ck_assert_int_eq(big[i], 'X');
}
END_TEST

START_TEST(path_of_up_to_32_segments_is_matched)
{
	static char		 pattern[2 * 32 + 1], path[2 * 33 + 1];
	static struct route	 deep[2];
	const struct route	*r;
	size_t			 i;

	for (i = 0; i < 32; i++)
		memcpy(pattern + 2 * i, "/s", 2);
	pattern[2 * 32] = '\0';
	deep[0].method = "GET";
	deep[0].pattern = pattern;
	deep[0].handler = handle;
	router_add(rt, deep, 0);

	memcpy(path, pattern, sizeof(pattern));
	ck_assert_int_eq(match("GET", path, &r), ROUTE_FOUND);
	ck_assert_ptr_eq(r, &deep[0]);

	/* A path of one segment more matches nothing. */
	memcpy(path + 2 * 32, "/s", 3);
	ck_assert_int_eq(match("GET", path, &r), ROUTE_NO_PATH);
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("router");

	tc = tcase_create("found");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, exact_path_finds_its_route);
	tcase_add_test(tc, method_selects_among_routes_of_one_path);
	tcase_add_test(tc, root_path_matches_root_pattern);
	tcase_add_test(tc, parameter_is_captured_by_name);
	tcase_add_test(tc, parameter_is_percent_decoded);
	tcase_add_test(tc, encoded_slash_stays_inside_one_parameter);
	tcase_add_test(tc, several_parameters_are_captured);
	tcase_add_test(tc, parameter_between_static_segments_is_captured);
	tcase_add_test(tc, earlier_entry_wins_when_patterns_overlap);
	tcase_add_test(tc, head_finds_get_route);
	tcase_add_test(tc, path_of_up_to_32_segments_is_matched);
	suite_add_tcase(s, tc);

	tc = tcase_create("no_path");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_path_is_no_path);
	tcase_add_test(tc, trailing_slash_is_no_path);
	tcase_add_test(tc, empty_segment_is_no_path);
	tcase_add_test(tc, relative_path_is_no_path);
	tcase_add_test(tc, parameter_decoding_to_invalid_utf8_does_not_match);
	tcase_add_test(tc, parameter_with_nul_does_not_match);
	tcase_add_test(tc, undecodable_path_is_no_path_for_every_method);
	suite_add_tcase(s, tc);

	tc = tcase_create("no_method");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_method_is_no_method_with_allow);
	tcase_add_test(tc, allow_has_head_only_with_get);
	tcase_add_test(tc, allow_lists_each_method_once);
	tcase_add_test(tc, head_without_get_is_no_method);
	tcase_add_test(tc, options_is_left_to_the_caller);
	tcase_add_test(tc, methods_are_case_sensitive);
	tcase_add_test(tc, allow_is_cut_to_its_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, router_add_skips_flagged_entries);
	tcase_add_test(tc, router_add_appends_more_tables);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(router_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
