/*
 * Unit tests for app/slug.c: slugs from titles (folding of Latin
 * diacritics, other scripts kept, separators, the length bound), the
 * numbered suffixes of taken slugs, and the check of editors' slugs.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "slug.h"
#include "util.h"

static void
check_slug(const char *title, const char *want)
{
	char	*s = slug_from_title(title);

	ck_assert_msg(strcmp(s, want) == 0, "slug of \"%s\" is \"%s\", "
	    "not \"%s\"", title, s, want);
	free(s);
}

START_TEST(slug_lowers_ascii_and_joins_words_with_one_dash)
{
	check_slug("Hello World", "hello-world");
	check_slug("  Hello,   World!  ", "hello-world");
	check_slug("C11 & autotools: a how-to", "c11-autotools-a-how-to");
	check_slug("--already--dashed--", "already-dashed");
	check_slug("tabs\tand\nnewlines", "tabs-and-newlines");
}
END_TEST

START_TEST(slug_folds_latin_diacritics_to_ascii)
{
	check_slug("Ünïcödé Straße", "unicode-strasse");
	check_slug("Crème brûlée à la façon", "creme-brulee-a-la-facon");
	check_slug("Æsir og Øresund", "aesir-og-oresund");
	check_slug("Łódź Żółć", "lodz-zolc");
	check_slug("Œuvre İstanbul ĳ", "oeuvre-istanbul-ij");
	check_slug("Þorn Ðe", "thorn-de");
	check_slug("ČŠŽ čšž ŘŮ", "csz-csz-ru");
}
END_TEST

START_TEST(slug_drops_combining_marks_of_decomposed_letters)
{
	/* "e" followed by U+0301, as a decomposed "é" is written. */
	check_slug("Cafe\xcc\x81 au lait", "cafe-au-lait");
	check_slug("zero\xe2\x80\x8bwidth", "zerowidth");
}
END_TEST

START_TEST(slug_keeps_other_scripts_in_lower_case)
{
	check_slug("Привет, Мир", "привет-мир");
	check_slug("Ελληνικά Νέα", "ελληνικά-νέα");
	check_slug("日本語のタイトル", "日本語のタイトル");
	check_slug("東京、大阪。", "東京-大阪");
	check_slug("مرحبا بالعالم؟", "مرحبا-بالعالم");
	check_slug("Ünïcödé 和 Мир", "unicode-和-мир");
}
END_TEST

START_TEST(slug_treats_symbols_and_emoji_as_separators)
{
	check_slug("Rock \xe2\x80\x94 and roll", "rock-and-roll");
	check_slug("I \xe2\x9d\xa4 C", "i-c");
	check_slug("party \xf0\x9f\x8e\x89 time", "party-time");
	check_slug("5 \xc3\x97 3 \xc3\xb7 2", "5-3-2");
	check_slug("\xc2\xab quoted \xc2\xbb", "quoted");
}
END_TEST

START_TEST(slug_of_nothing_usable_is_post)
{
	check_slug("", "post");
	check_slug("!!! ??? ...", "post");
	check_slug("\xf0\x9f\x8e\x89", "post");
}
END_TEST

START_TEST(slug_treats_malformed_utf8_as_separators)
{
	check_slug("bad\xff" "byte", "bad-byte");
	check_slug("cut\xc3", "cut");
	check_slug("over\xc0\xaflong", "over-long");
}
END_TEST

START_TEST(slug_is_at_most_200_bytes_and_never_cuts_a_character)
{
	struct buf	 b;
	char		*s;
	int		 i;

	buf_init(&b);
	for (i = 0; i < 300; i++)
		buf_adds(&b, "a");
	s = slug_from_title(b.data);
	ck_assert_uint_eq(strlen(s), SLUG_MAX);
	free(s);

	/* One ASCII byte, then two-byte letters across the bound. */
	buf_reset(&b);
	buf_adds(&b, "x");
	for (i = 0; i < 150; i++)
		buf_adds(&b, "\xd0\xb6");
	s = slug_from_title(b.data);
	ck_assert_uint_eq(strlen(s), SLUG_MAX - 1);
	ck_assert(utf8_valid(s, strlen(s)));
	free(s);

	/* A word boundary at the bound leaves no trailing dash. */
	buf_reset(&b);
	for (i = 0; i < 199; i++)
		buf_adds(&b, "b");
	buf_adds(&b, " cd");
	s = slug_from_title(b.data);
	ck_assert_uint_eq(strlen(s), 199);
	ck_assert_int_ne(s[198], '-');
	free(s);
	buf_free(&b);
}
END_TEST

START_TEST(slug_suffixed_numbers_and_stays_within_the_bound)
{
	struct buf	 b;
	char		*s;
	int		 i;

	s = slug_suffixed("hello-world", 2);
	ck_assert_str_eq(s, "hello-world-2");
	free(s);
	s = slug_suffixed("привет", 13);
	ck_assert_str_eq(s, "привет-13");
	free(s);

	buf_init(&b);
	for (i = 0; i < 100; i++)
		buf_adds(&b, "\xd0\xb6");
	s = slug_suffixed(b.data, 2);
	ck_assert_uint_le(strlen(s), SLUG_MAX);
	ck_assert(utf8_valid(s, strlen(s)));
	ck_assert_str_eq(s + strlen(s) - 2, "-2");
	free(s);
	buf_free(&b);
}
END_TEST

START_TEST(slug_valid_accepts_slugs_and_refuses_the_rest)
{
	struct buf	 b;
	int		 i;

	ck_assert(slug_valid("hello-world"));
	ck_assert(slug_valid("post-2"));
	ck_assert(slug_valid("привет-мир"));
	ck_assert(slug_valid("日本語"));
	ck_assert(slug_valid("a"));

	ck_assert(!slug_valid(""));
	ck_assert(!slug_valid("-hello"));
	ck_assert(!slug_valid("hello-"));
	ck_assert(!slug_valid("hello--world"));
	ck_assert(!slug_valid("Hello"));
	ck_assert(!slug_valid("ПРИВЕТ"));
	ck_assert(!slug_valid("caf\xc3\xa9"));
	ck_assert(!slug_valid("hello world"));
	ck_assert(!slug_valid("hello_world"));
	ck_assert(!slug_valid("a/b"));
	ck_assert(!slug_valid("bad\xff"));

	buf_init(&b);
	for (i = 0; i < SLUG_MAX; i++)
		buf_adds(&b, "a");
	ck_assert(slug_valid(b.data));
	buf_adds(&b, "a");
	ck_assert(!slug_valid(b.data));
	buf_free(&b);
}
END_TEST

START_TEST(slug_of_a_slug_is_itself)
{
	static const char *const titles[] = {
		"Ünïcödé Straße", "Привет, Мир", "A -- B", "東京、大阪。",
		"Œuvre İstanbul", "x"
	};
	char	*s, *again;
	size_t	 i;

	for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		s = slug_from_title(titles[i]);
		again = slug_from_title(s);
		ck_assert_str_eq(again, s);
		ck_assert(slug_valid(s));
		free(again);
		free(s);
	}
}
END_TEST

static Suite *
slug_suite(void)
{
	Suite	*s = suite_create("slug");
	TCase	*tc = tcase_create("slug");

	tcase_add_test(tc, slug_lowers_ascii_and_joins_words_with_one_dash);
	tcase_add_test(tc, slug_folds_latin_diacritics_to_ascii);
	tcase_add_test(tc, slug_drops_combining_marks_of_decomposed_letters);
	tcase_add_test(tc, slug_keeps_other_scripts_in_lower_case);
	tcase_add_test(tc, slug_treats_symbols_and_emoji_as_separators);
	tcase_add_test(tc, slug_of_nothing_usable_is_post);
	tcase_add_test(tc, slug_treats_malformed_utf8_as_separators);
	tcase_add_test(tc,
	    slug_is_at_most_200_bytes_and_never_cuts_a_character);
	tcase_add_test(tc, slug_suffixed_numbers_and_stays_within_the_bound);
	tcase_add_test(tc, slug_valid_accepts_slugs_and_refuses_the_rest);
	tcase_add_test(tc, slug_of_a_slug_is_itself);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(slug_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
