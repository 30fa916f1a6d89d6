/*
 * Unit tests for app/util.c: buffers, key/value lists, string helpers,
 * the strict UTF-8 check, hex encoding and random bytes.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A byte string with an explicit length, for inputs holding NUL. */
struct bytes {
	const char	*name;
	const char	*s;
	size_t		 n;
};

#define BYTES(name, lit)	{ name, lit, sizeof(lit) - 1 }

START_TEST(buf_init_starts_empty_and_terminated)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_gt(b.cap, 0);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(buf_add_grows_past_initial_capacity)
{
	struct buf	 b;
	char		 chunk[100];
	size_t		 i, start_cap;

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b);
	start_cap = b.cap;
	for (i = 0; i < 50; i++)
		buf_add(&b, chunk, sizeof(chunk));

	ck_assert_uint_eq(b.len, 5000);
	ck_assert_uint_gt(b.cap, start_cap);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_int_eq(b.data[b.len], '\0');
	for (i = 0; i < b.len; i++)
		ck_assert_int_eq(b.data[i], 'x');
	buf_free(&b);
}
END_TEST

START_TEST(buf_add_keeps_embedded_nul_bytes)
{
	struct buf	 b;

	buf_init(&b);
	buf_add(&b, "a\0b", 3);
	buf_addc(&b, 'c');

	ck_assert_uint_eq(b.len, 4);
	ck_assert_mem_eq(b.data, "a\0bc", 5);
	buf_free(&b);
}
END_TEST

START_TEST(buf_adds_and_addc_append_in_order)
{
	struct buf	 b;

	buf_init(&b);
	buf_adds(&b, "ab");
	buf_addc(&b, '-');
	buf_adds(&b, "");
	buf_adds(&b, "cd");

	ck_assert_str_eq(b.data, "ab-cd");
	ck_assert_uint_eq(b.len, 5);
	buf_free(&b);
}
END_TEST

START_TEST(buf_printf_appends_formatted_text)
{
	struct buf	 b;

	buf_init(&b);
	buf_adds(&b, "n=");
	buf_printf(&b, "%d, s=%s, z=%zu", -42, "ok", (size_t)7);

	ck_assert_str_eq(b.data, "n=-42, s=ok, z=7");
	ck_assert_uint_eq(b.len, strlen("n=-42, s=ok, z=7"));
	buf_free(&b);
}
END_TEST

/* The first vsnprintf does not fit, so the buffer grows and retries. */
START_TEST(buf_printf_grows_for_output_longer_than_capacity)
{
	struct buf	 b;
	char		 big[1001];
	size_t		 i;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b);
	buf_adds(&b, "<");
	buf_printf(&b, "%s>%d", big, 5);

	ck_assert_uint_eq(b.len, 1 + 1000 + 2);
	ck_assert_int_eq(b.data[0], '<');
	for (i = 1; i <= 1000; i++)
		ck_assert_int_eq(b.data[i], 'y');
	ck_assert_str_eq(b.data + 1001, ">5");
	buf_free(&b);
}
END_TEST

START_TEST(buf_reset_empties_the_buffer)
{
	struct buf	 b;

	buf_init(&b);
	buf_adds(&b, "something");
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");

	buf_adds(&b, "new");
	ck_assert_str_eq(b.data, "new");
	buf_free(&b);
}
END_TEST

START_TEST(xasprintf_returns_formatted_copy)
{
	char	*s;

	s = xasprintf("%s:%03d", "id", 7);
	ck_assert_str_eq(s, "id:007");
	free(s);
}
END_TEST

START_TEST(xstrndup_copies_at_most_n_bytes)
{
	char	*s;

	s = xstrndup("abcdef", 3);
	ck_assert_str_eq(s, "abc");
	free(s);
}
END_TEST

START_TEST(kv_get_returns_first_of_repeated_keys)
{
	struct kvlist	 l = { 0 };

	kv_add(&l, "a", "1");
	kv_add(&l, "b", "2");
	kv_add(&l, "a", "3");

	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(kv_get(&l, "a"), "1");
	ck_assert_str_eq(kv_get(&l, "b"), "2");
	ck_assert_str_eq(l.v[2].key, "a");
	ck_assert_str_eq(l.v[2].val, "3");
	kv_free(&l);
}
END_TEST

START_TEST(kv_get_missing_key_is_null)
{
	struct kvlist	 l = { 0 };

	ck_assert_ptr_null(kv_get(&l, "a"));
	kv_add(&l, "ab", "1");
	ck_assert_ptr_null(kv_get(&l, "a"));
	ck_assert_ptr_null(kv_get(&l, "abc"));
	kv_free(&l);
}
END_TEST

START_TEST(kv_get_is_case_sensitive_and_kv_get_case_is_not)
{
	struct kvlist	 l = { 0 };

	kv_add(&l, "Content-Type", "text/plain");

	ck_assert_ptr_null(kv_get(&l, "content-type"));
	ck_assert_str_eq(kv_get(&l, "Content-Type"), "text/plain");
	ck_assert_str_eq(kv_get_case(&l, "content-type"), "text/plain");
	ck_assert_str_eq(kv_get_case(&l, "CONTENT-TYPE"), "text/plain");
	ck_assert_ptr_null(kv_get_case(&l, "content-typ"));
	kv_free(&l);
}
END_TEST

START_TEST(kv_add_stores_copies)
{
	struct kvlist	 l = { 0 };
	char		 k[] = "key", v[] = "val";

	kv_add(&l, k, v);
	k[0] = 'X';
	v[0] = 'X';

	ck_assert_str_eq(kv_get(&l, "key"), "val");
	kv_free(&l);
}
END_TEST

START_TEST(kv_addn_copies_exact_lengths)
{
	struct kvlist	 l = { 0 };

	kv_addn(&l, "keyXX", 3, "v\0w", 3);

	ck_assert_str_eq(l.v[0].key, "key");
	ck_assert_mem_eq(l.v[0].val, "v\0w", 4);
	kv_free(&l);
}
END_TEST

START_TEST(kv_list_grows_and_frees)
{
	struct kvlist	 l = { 0 };
	char		 k[16];
	int		 i;

	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		kv_add(&l, k, k);
	}
	ck_assert_uint_eq(l.n, 100);
	ck_assert_str_eq(kv_get(&l, "k99"), "k99");
	ck_assert_str_eq(l.v[50].key, "k50");

	kv_free(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.v);
	ck_assert_ptr_null(kv_get(&l, "k1"));
}
END_TEST

START_TEST(str_case_eq_ignores_ascii_case)
{
	ck_assert(str_case_eq("X-Request-Id", "x-request-id"));
	ck_assert(str_case_eq("", ""));
	ck_assert(str_case_eq("a1-_", "A1-_"));
}
END_TEST

START_TEST(str_case_eq_refuses_different_strings_and_prefixes)
{
	ck_assert(!str_case_eq("abc", "abd"));
	ck_assert(!str_case_eq("abc", "ab"));
	ck_assert(!str_case_eq("ab", "abc"));
	ck_assert(!str_case_eq("", "a"));
	/* Only ASCII letters fold: 0xC9 is not 0xE9. */
	ck_assert(!str_case_eq("\xc9", "\xe9"));
}
END_TEST

START_TEST(utf8_valid_accepts_well_formed_text)
{
	static const struct bytes good[] = {
		BYTES("empty", ""),
		BYTES("ascii", "hello, world ~"),
		BYTES("2-byte e-acute", "\xc3\xa9"),
		BYTES("2-byte lowest U+0080", "\xc2\x80"),
		BYTES("3-byte euro", "\xe2\x82\xac"),
		BYTES("3-byte lowest U+0800", "\xe0\xa0\x80"),
		BYTES("3-byte before surrogates U+D7FF", "\xed\x9f\xbf"),
		BYTES("3-byte after surrogates U+E000", "\xee\x80\x80"),
		BYTES("4-byte emoji", "\xf0\x9f\x98\x80"),
		BYTES("4-byte lowest U+10000", "\xf0\x90\x80\x80"),
		BYTES("4-byte highest U+10FFFF", "\xf4\x8f\xbf\xbf"),
		BYTES("mixed", "a\xc3\xa9z\xe2\x82\xac!\xf0\x9f\x98\x80."),
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(utf8_valid(good[i].s, good[i].n),
		    "%s refused", good[i].name);
}
END_TEST

START_TEST(utf8_valid_refuses_malformed_text)
{
	static const struct bytes bad[] = {
		BYTES("overlong slash C0 AF", "\xc0\xaf"),
		BYTES("overlong C1 BF", "\xc1\xbf"),
		BYTES("overlong 3-byte E0 80 AF", "\xe0\x80\xaf"),
		BYTES("overlong 3-byte E0 9F BF", "\xe0\x9f\xbf"),
		BYTES("overlong 4-byte F0 80 80 AF", "\xf0\x80\x80\xaf"),
		BYTES("overlong 4-byte F0 8F BF BF", "\xf0\x8f\xbf\xbf"),
		BYTES("high surrogate ED A0 80", "\xed\xa0\x80"),
		BYTES("low surrogate ED BF BF", "\xed\xbf\xbf"),
		BYTES("above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80"),
		BYTES("lead byte F5", "\xf5\x80\x80\x80"),
		BYTES("byte FE", "\xfe"),
		BYTES("byte FF", "\xff"),
		BYTES("lone continuation", "\x80"),
		BYTES("continuation after ascii", "a\xbf"),
		BYTES("truncated 2-byte", "\xc3"),
		BYTES("truncated 3-byte", "\xe2\x82"),
		BYTES("truncated 4-byte", "\xf0\x9f\x98"),
		BYTES("3-byte cut by ascii", "\xe2\x82" "A"),
		BYTES("4-byte cut by ascii", "\xf0\x9f" "AB"),
		BYTES("embedded NUL", "a\0b"),
		BYTES("only NUL", "\0"),
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!utf8_valid(bad[i].s, bad[i].n),
		    "%s accepted", bad[i].name);
}
END_TEST

START_TEST(utf8_valid_checks_only_the_given_length)
{
	/* The first byte of a 2-byte sequence alone is truncated. */
	ck_assert(!utf8_valid("\xc3\xa9", 1));
	/* Bytes past n are not looked at, even invalid ones. */
	ck_assert(utf8_valid("ab\xff", 2));
	ck_assert(utf8_valid("\xff", 0));
}
END_TEST

START_TEST(hex_encode_writes_lowercase_pairs)
{
	static const unsigned char	 in[] = {
		0x00, 0x01, 0x7f, 0xab, 0xff
	};
	char				 out[2 * sizeof(in) + 1];

	memset(out, 'X', sizeof(out));
	hex_encode(out, in, sizeof(in));
	ck_assert_str_eq(out, "00017fabff");
	ck_assert_int_eq(out[sizeof(out) - 1], '\0');
}
END_TEST

START_TEST(hex_encode_of_nothing_is_empty_string)
{
	char	 out[4] = "XXX";

	hex_encode(out, (const unsigned char *)"", 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(random_bytes_differ_between_calls)
{
	unsigned char	 a[16], b[16], zero[16];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));

	/* Each fails with probability 2^-128. */
	ck_assert_mem_ne(a, b, sizeof(a));
	ck_assert_mem_ne(a, zero, sizeof(a));
	ck_assert_mem_ne(b, zero, sizeof(b));
}
END_TEST

START_TEST(random_bytes_fills_a_large_request)
{
	unsigned char	 big[4096];
	size_t		 i, zeros = 0;

	memset(big, 0, sizeof(big));
	random_bytes(big, sizeof(big));
	for (i = 0; i < sizeof(big); i++)
		if (big[i] == 0)
			zeros++;
	/* About 16 expected; half the buffer zero means it was not filled. */
	ck_assert_uint_lt(zeros, sizeof(big) / 2);
}
END_TEST

START_TEST(clock_us_does_not_go_backwards)
{
	int64_t	 a, b;

	a = clock_us();
	b = clock_us();
	ck_assert_int_gt(a, 0);
	ck_assert_int_ge(b, a);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("util");

	tc = tcase_create("buf");
	tcase_add_test(tc, buf_init_starts_empty_and_terminated);
	tcase_add_test(tc, buf_add_grows_past_initial_capacity);
	tcase_add_test(tc, buf_add_keeps_embedded_nul_bytes);
	tcase_add_test(tc, buf_adds_and_addc_append_in_order);
	tcase_add_test(tc, buf_printf_appends_formatted_text);
	tcase_add_test(tc, buf_printf_grows_for_output_longer_than_capacity);
	tcase_add_test(tc, buf_reset_empties_the_buffer);
	tcase_add_test(tc, xasprintf_returns_formatted_copy);
	tcase_add_test(tc, xstrndup_copies_at_most_n_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("kv");
	tcase_add_test(tc, kv_get_returns_first_of_repeated_keys);
	tcase_add_test(tc, kv_get_missing_key_is_null);
	tcase_add_test(tc, kv_get_is_case_sensitive_and_kv_get_case_is_not);
	tcase_add_test(tc, kv_add_stores_copies);
	tcase_add_test(tc, kv_addn_copies_exact_lengths);
	tcase_add_test(tc, kv_list_grows_and_frees);
	suite_add_tcase(s, tc);

	tc = tcase_create("strings");
	tcase_add_test(tc, str_case_eq_ignores_ascii_case);
	tcase_add_test(tc, str_case_eq_refuses_different_strings_and_prefixes);
	tcase_add_test(tc, utf8_valid_accepts_well_formed_text);
	tcase_add_test(tc, utf8_valid_refuses_malformed_text);
	tcase_add_test(tc, utf8_valid_checks_only_the_given_length);
	tcase_add_test(tc, hex_encode_writes_lowercase_pairs);
	tcase_add_test(tc, hex_encode_of_nothing_is_empty_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("system");
	tcase_add_test(tc, random_bytes_differ_between_calls);
	tcase_add_test(tc, random_bytes_fills_a_large_request);
	tcase_add_test(tc, clock_us_does_not_go_backwards);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(util_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
