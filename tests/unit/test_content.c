/*
 * Unit tests for app/password.c (Argon2id hashing, verification, the
 * rehash check) and app/markdown.c (CommonMark to HTML in safe mode).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "markdown.h"
#include "password.h"
#include "util.h"

/*
 * Small parameters keep the tests fast; the hashing code is the same
 * whatever the cost.
 */
static struct conf *
cheap_conf(long memory_kib, long iterations, long parallelism)
{
	struct conf	*c;

	c = xcalloc(1, sizeof(*c));
	c->auth_argon2_memory_kib = memory_kib;
	c->auth_argon2_iterations = iterations;
	c->auth_argon2_parallelism = parallelism;
	return c;
}

static char *
hash_of(const struct conf *c, const char *pw)
{
	char	*h = NULL;

	ck_assert_int_eq(password_hash(c, pw, &h), JAMB_OK);
	ck_assert_ptr_nonnull(h);
	return h;
}

START_TEST(password_hash_uses_the_configured_defaults_in_encoded_form)
{
	struct conf	*c;
	char		 err[256], *h;

	ck_assert_int_eq(conf_load(NULL, &c, err, sizeof(err)), JAMB_OK);
	h = hash_of(c, "hunter2 hunter2");
	ck_assert_msg(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$",
	    strlen("$argon2id$v=19$m=19456,t=2,p=1$")) == 0, "got %s", h);
	ck_assert(password_verify(h, "hunter2 hunter2"));
	ck_assert(!password_needs_rehash(c, h));
	free(h);
	conf_free(c);
}
END_TEST

START_TEST(password_verify_accepts_the_password_and_refuses_others)
{
	struct conf	*c = cheap_conf(64, 1, 1);
	char		*h = hash_of(c, "correct horse battery staple");

	ck_assert(password_verify(h, "correct horse battery staple"));
	ck_assert(!password_verify(h, "correct horse battery stapl"));
	ck_assert(!password_verify(h, "correct horse battery staple "));
	ck_assert(!password_verify(h, "Correct horse battery staple"));
	ck_assert(!password_verify(h, ""));
	free(h);
	free(c);
}
END_TEST

START_TEST(password_hash_salts_every_hash_differently)
{
	struct conf	*c = cheap_conf(64, 1, 1);
	char		*a = hash_of(c, "same password");
	char		*b = hash_of(c, "same password");

	ck_assert_str_ne(a, b);
	ck_assert(password_verify(a, "same password"));
	ck_assert(password_verify(b, "same password"));
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(password_hash_handles_empty_and_non_ascii_passwords)
{
	struct conf	*c = cheap_conf(64, 1, 2);
	char		*e = hash_of(c, "");
	char		*u = hash_of(c, "p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93");

	ck_assert(password_verify(e, ""));
	ck_assert(!password_verify(e, " "));
	ck_assert(password_verify(u, "p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93"));
	ck_assert(!password_verify(u, "passwoord \xe2\x9c\x93"));
	free(e);
	free(u);
	free(c);
}
END_TEST

/* A hash made by another Argon2 implementation (Python's argon2-cffi). */
START_TEST(password_verify_accepts_a_hash_from_another_implementation)
{
	const char	*h = "$argon2id$v=19$m=64,t=1,p=1$"
	    "Abjzzog1uQJ4mE7/k/AxzA$t6PmLJAujn4coQfoKWPJ3A";

	ck_assert(password_verify(h, "correct horse battery staple"));
	ck_assert(!password_verify(h, "correct horse battery"));
}
END_TEST

START_TEST(password_verify_refuses_malformed_hashes)
{
	ck_assert(!password_verify(NULL, "x"));
	ck_assert(!password_verify("", ""));
	ck_assert(!password_verify("plaintext", "plaintext"));
	ck_assert(!password_verify("$argon2id$v=19$m=64,t=1,p=1$", ""));
	ck_assert(!password_verify("$argon2id$v=19$m=64,t=1,p=1$!!$!!", ""));
	/* Another Argon2 variant is not accepted as Argon2id. */
	ck_assert(!password_verify("$argon2i$v=19$m=64,t=1,p=1$"
	    "Abjzzog1uQJ4mE7/k/AxzA$t6PmLJAujn4coQfoKWPJ3A",
	    "correct horse battery staple"));
}
END_TEST

START_TEST(password_needs_rehash_when_any_parameter_changed)
{
	struct conf	*c = cheap_conf(64, 1, 1);
	struct conf	*more_memory = cheap_conf(128, 1, 1);
	struct conf	*more_passes = cheap_conf(64, 2, 1);
	struct conf	*more_lanes = cheap_conf(64, 1, 2);
	char		*h = hash_of(c, "pw");

	ck_assert(!password_needs_rehash(c, h));
	ck_assert(password_needs_rehash(more_memory, h));
	ck_assert(password_needs_rehash(more_passes, h));
	ck_assert(password_needs_rehash(more_lanes, h));
	free(h);
	free(c);
	free(more_memory);
	free(more_passes);
	free(more_lanes);
}
END_TEST

START_TEST(password_needs_rehash_for_foreign_or_malformed_hashes)
{
	struct conf	*c = cheap_conf(64, 1, 1);

	ck_assert(password_needs_rehash(c, NULL));
	ck_assert(password_needs_rehash(c, ""));
	ck_assert(password_needs_rehash(c, "$argon2i$v=19$m=64,t=1,p=1$a$b"));
	ck_assert(password_needs_rehash(c, "$argon2id$v=16$m=64,t=1,p=1$a$b"));
	ck_assert(password_needs_rehash(c, "$argon2id$v=19$m=64,t=1$a$b"));
	ck_assert(password_needs_rehash(c, "$argon2id$v=19$m=-64,t=1,p=1$a"));
	ck_assert(password_needs_rehash(c,
	    "$argon2id$v=19$m=99999999999999999999,t=1,p=1$a$b"));
	ck_assert(password_needs_rehash(c, "$2y$10$abcdefghijklmnopqrstuv"));
	free(c);
}
END_TEST

/* The HTML of a NUL-terminated Markdown text, checked to be UTF-8. */
static char *
html_of(const char *md)
{
	char	*html = markdown_html(md, strlen(md));

	ck_assert_ptr_nonnull(html);
	ck_assert(utf8_valid(html, strlen(html)));
	return html;
}

#define ck_assert_contains(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, \
	    "\"%s\" not in \"%s\"", (needle), (hay))
#define ck_assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, \
	    "\"%s\" unexpectedly in \"%s\"", (needle), (hay))

START_TEST(markdown_renders_headings_emphasis_lists_and_links)
{
	char	*h;

	h = html_of("# A title\n\nSome *emphasis*, some **strong** text.\n\n"
	    "## Then\n\n- one\n- two\n\n"
	    "[a link](https://example.com/a?b=1&c=2)\n");
	ck_assert_contains(h, "<h1>A title</h1>");
	ck_assert_contains(h, "<h2>Then</h2>");
	ck_assert_contains(h, "<em>emphasis</em>");
	ck_assert_contains(h, "<strong>strong</strong>");
	ck_assert_contains(h, "<ul>\n<li>one</li>\n<li>two</li>\n</ul>");
	ck_assert_contains(h,
	    "<a href=\"https://example.com/a?b=1&amp;c=2\">a link</a>");
	free(h);
}
END_TEST

START_TEST(markdown_uses_typographic_quotes_and_dashes)
{
	char	*h = html_of("\"Quoted\" -- and --- dashes\n");

	/* U+201C, U+201D, U+2013, U+2014 in UTF-8. */
	ck_assert_contains(h, "\xe2\x80\x9cQuoted\xe2\x80\x9d");
	ck_assert_contains(h, "\xe2\x80\x93 and \xe2\x80\x94 dashes");
	free(h);
}
END_TEST

START_TEST(markdown_drops_raw_html_blocks_and_inline_tags)
{
	char	*h;

	h = html_of("<script>alert(1)</script>\n\n"
	    "text <img src=x onerror=alert(2)> more "
	    "<a href=\"javascript:alert(3)\">x</a>\n\n"
	    "<div onclick=\"alert(4)\">block</div>\n");
	ck_assert_lacks(h, "<script");
	ck_assert_lacks(h, "<img");
	ck_assert_lacks(h, "onerror");
	ck_assert_lacks(h, "onclick");
	ck_assert_lacks(h, "javascript:");
	ck_assert_lacks(h, "<div");
	ck_assert_contains(h, "text ");
	free(h);
}
END_TEST

START_TEST(markdown_escapes_html_in_text_and_code)
{
	char	*h = html_of("a < b & `<script>` \"c\"\n\n"
	    "    <script>alert(1)</script>\n");

	ck_assert_lacks(h, "<script");
	ck_assert_contains(h, "a &lt; b &amp; <code>&lt;script&gt;</code>");
	ck_assert_contains(h, "&lt;script&gt;alert(1)&lt;/script&gt;");
	free(h);
}
END_TEST

START_TEST(markdown_removes_dangerous_link_and_image_urls)
{
	static const char	*const bad[] = {
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](vbscript:msgbox)",
		"[x](file:///etc/passwd)",
		"[x](data:text/html;base64,PHNjcmlwdD4=)",
		"![x](javascript:alert(1))",
		"[x][r]\n\n[r]: javascript:alert(1)",
		"<javascript:alert(1)>",
	};
	size_t			 i;
	char			*h;

	/* The link stays, with an empty URL; its text may show the URL. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = html_of(bad[i]);
		ck_assert_msg(strstr(h, "href=\"\"") != NULL ||
		    strstr(h, "src=\"\"") != NULL, "URL kept in %s", h);
		ck_assert_lacks(h, "=\"javascript:");
		ck_assert_lacks(h, "=\"JaVaScRiPt:");
		ck_assert_lacks(h, "=\"vbscript:");
		ck_assert_lacks(h, "=\"file:");
		ck_assert_lacks(h, "=\"data:");
		free(h);
	}
}
END_TEST

START_TEST(markdown_keeps_data_urls_of_images)
{
	char	*h = html_of("![dot](data:image/png;base64,iVBORw0KGgo=)");

	ck_assert_contains(h, "src=\"data:image/png;base64,iVBORw0KGgo=\"");
	free(h);
}
END_TEST

START_TEST(markdown_of_nothing_is_empty)
{
	char	*h;

	h = markdown_html(NULL, 0);
	ck_assert_str_eq(h, "");
	free(h);
	h = markdown_html("", 0);
	ck_assert_str_eq(h, "");
	free(h);
}
END_TEST

START_TEST(markdown_replaces_invalid_utf8_and_nul_bytes)
{
	static const char	 md[] = "caf\xc3 \xff\xfe x\0y \xed\xa0\x80 z";
	char			*h;

	h = markdown_html(md, sizeof(md) - 1);
	ck_assert(utf8_valid(h, strlen(h)));
	ck_assert_contains(h, "caf\xef\xbf\xbd");
	ck_assert_contains(h, " z");
	free(h);
}
END_TEST

START_TEST(markdown_survives_deep_nesting)
{
	static const char	*const units[] = { ">", "- ", "[", "*", "`",
	    "<", "![", "(", "\\", "_" };
	struct buf		 b;
	size_t			 i, j;
	char			*h;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		buf_init(&b);
		for (j = 0; j < 20000; j++)
			buf_adds(&b, units[i]);
		buf_adds(&b, "x\n");
		h = markdown_html(b.data, b.len);
		ck_assert(utf8_valid(h, strlen(h)));
		free(h);
		buf_free(&b);
	}
}
END_TEST

/* Random bytes drawn from Markdown's punctuation, letters and junk. */
START_TEST(markdown_never_fails_on_random_input)
{
	static const char	 alphabet[] = "#*_`[]()<>!\\-+=.:/\n \t|~\"'"
	    "abcjavscript0129\xc3\xa4\xff\x80";
	unsigned char		 r[512];
	char			 md[512];
	size_t			 i, n;
	char			*h;

	for (n = 0; n < 3000; n++) {
		random_bytes(r, sizeof(r));
		for (i = 0; i < sizeof(md); i++)
			md[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
		h = markdown_html(md, 1 + (size_t)(r[0] << 8 | r[1]) %
		    sizeof(md));
		ck_assert(utf8_valid(h, strlen(h)));
		ck_assert_lacks(h, "<script");
		free(h);
	}
}
END_TEST

static Suite *
content_suite(void)
{
	Suite	*s = suite_create("content");
	TCase	*tc;

	tc = tcase_create("password");
	/* The default parameters take tens of milliseconds per hash. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
	    password_hash_uses_the_configured_defaults_in_encoded_form);
	tcase_add_test(tc,
	    password_verify_accepts_the_password_and_refuses_others);
	tcase_add_test(tc, password_hash_salts_every_hash_differently);
	tcase_add_test(tc,
	    password_hash_handles_empty_and_non_ascii_passwords);
	tcase_add_test(tc,
	    password_verify_accepts_a_hash_from_another_implementation);
	tcase_add_test(tc, password_verify_refuses_malformed_hashes);
	tcase_add_test(tc, password_needs_rehash_when_any_parameter_changed);
	tcase_add_test(tc,
	    password_needs_rehash_for_foreign_or_malformed_hashes);
	suite_add_tcase(s, tc);

	tc = tcase_create("markdown");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, markdown_renders_headings_emphasis_lists_and_links);
	tcase_add_test(tc, markdown_uses_typographic_quotes_and_dashes);
	tcase_add_test(tc, markdown_drops_raw_html_blocks_and_inline_tags);
	tcase_add_test(tc, markdown_escapes_html_in_text_and_code);
	tcase_add_test(tc, markdown_removes_dangerous_link_and_image_urls);
	tcase_add_test(tc, markdown_keeps_data_urls_of_images);
	tcase_add_test(tc, markdown_of_nothing_is_empty);
	tcase_add_test(tc, markdown_replaces_invalid_utf8_and_nul_bytes);
	tcase_add_test(tc, markdown_survives_deep_nesting);
	tcase_add_test(tc, markdown_never_fails_on_random_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(content_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
