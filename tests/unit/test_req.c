/*
 * Unit tests for app/req.c and app/resp.c: URL decoding, query strings,
 * request ids, building a request from a CGI environment, reading and
 * parsing bodies, and building and sending responses.  The client is a
 * fake struct io over memory buffers that counts its calls.
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "util.h"

#define FAKE_ENV_MAX	32

/* A CGI client in memory: environment, request body and response. */
struct fake {
	char		*env[FAKE_ENV_MAX + 1];
	size_t		 nenv;
	const char	*in;
	size_t		 inlen;
	size_t		 inoff;
	size_t		 chunk;		/* largest read answered; 0: any */
	int		 reads;
	int		 fail_read;
	int		 writes;
	int		 fail_write;
	struct buf	 out;
	struct io	 io;
};

static int
fake_read(void *ctx, char *p, size_t n)
{
	struct fake	*f = ctx;

	f->reads++;
	if (f->fail_read)
		return -1;
	if (f->chunk > 0 && n > f->chunk)
		n = f->chunk;
	if (n > f->inlen - f->inoff)
		n = f->inlen - f->inoff;
	memcpy(p, f->in + f->inoff, n);
	f->inoff += n;
	return (int)n;
}

static int
fake_write(void *ctx, const char *p, size_t n)
{
	struct fake	*f = ctx;

	f->writes++;
	if (f->fail_write)
		return -1;
	buf_add(&f->out, p, n);
	return 0;
}

/* A client sending body (NULL: none), with an empty environment. */
static void
fake_init(struct fake *f, const char *body)
{
	memset(f, 0, sizeof(*f));
	f->in = body != NULL ? body : "";
	f->inlen = strlen(f->in);
	buf_init(&f->out);
	f->io.envp = f->env;
	f->io.read = fake_read;
	f->io.write = fake_write;
	f->io.ctx = f;
}

static void	fake_env(struct fake *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Adds one "NAME=value" string to the environment. */
static void
fake_env(struct fake *f, const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;

	ck_assert_uint_lt(f->nenv, FAKE_ENV_MAX);
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->env[f->nenv++] = b.data;
}

static void
fake_free(struct fake *f)
{
	size_t	 i;

	for (i = 0; i < f->nenv; i++)
		free(f->env[i]);
	buf_free(&f->out);
}

static int
is_hex_id(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return i == 32;
}

/* A string of n copies of c, to be freed. */
static char *
repeat(char c, size_t n)
{
	char	*s;

	s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * url_decode
 */

START_TEST(url_decode_decodes_percent_escapes)
{
	char	*s;
	size_t	 n;

	s = url_decode("caf%C3%A9%20%7e", 15, 0, &n);
	ck_assert_str_eq(s, "caf\xc3\xa9 ~");
	ck_assert_uint_eq(n, 7);
	free(s);

	s = url_decode("%c3%a9", 6, 0, &n);
	ck_assert_str_eq(s, "\xc3\xa9");
	ck_assert_uint_eq(n, 2);
	free(s);
}
END_TEST

START_TEST(url_decode_plus_is_space_in_query_mode_only)
{
	char	*s;
	size_t	 n;

	s = url_decode("a+b%2B", 6, 1, &n);
	ck_assert_str_eq(s, "a b+");
	free(s);

	s = url_decode("a+b%2B", 6, 0, &n);
	ck_assert_str_eq(s, "a+b+");
	ck_assert_uint_eq(n, 4);
	free(s);
}
END_TEST

START_TEST(url_decode_keeps_malformed_percent_literally)
{
	static const char *const cases[] = {
		"100%", "%", "%4", "%zz", "%4g", "%g4", "a%%20",
	};
	static const char *const want[] = {
		"100%", "%", "%4", "%zz", "%4g", "%g4", "a% ",
	};
	char	*s;
	size_t	 i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = url_decode(cases[i], strlen(cases[i]), 1, &n);
		ck_assert_msg(strcmp(s, want[i]) == 0,
		    "\"%s\" decoded to \"%s\"", cases[i], s);
		ck_assert_uint_eq(n, strlen(want[i]));
		free(s);
	}
}
END_TEST

START_TEST(url_decode_nul_escape_is_counted_in_length)
{
	char	*s;
	size_t	 n;

	s = url_decode("a%00b", 5, 0, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(s, "a\0b", 4);
	free(s);
}
END_TEST

START_TEST(url_decode_reads_only_the_given_length)
{
	char	*s;
	size_t	 n;

	/* "%41" cut after two bytes is no escape. */
	s = url_decode("%41", 2, 0, &n);
	ck_assert_str_eq(s, "%4");
	ck_assert_uint_eq(n, 2);
	free(s);

	s = url_decode("ab%41", 5, 0, &n);
	ck_assert_str_eq(s, "abA");
	free(s);
}
END_TEST

/*
 * query_parse
 */

START_TEST(query_keeps_repeated_keys_in_order)
{
	struct kvlist	 l = { 0 };

	ck_assert_int_eq(query_parse(&l, "a=1&b=2&a=3"), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0].key, "a");
	ck_assert_str_eq(l.v[0].val, "1");
	ck_assert_str_eq(l.v[1].key, "b");
	ck_assert_str_eq(l.v[1].val, "2");
	ck_assert_str_eq(l.v[2].key, "a");
	ck_assert_str_eq(l.v[2].val, "3");
	ck_assert_str_eq(kv_get(&l, "a"), "1");
	kv_free(&l);
}
END_TEST

START_TEST(query_key_without_equals_has_empty_value)
{
	struct kvlist	 l = { 0 };

	ck_assert_int_eq(query_parse(&l, "flag&x=1&empty="), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(kv_get(&l, "flag"), "");
	ck_assert_str_eq(kv_get(&l, "x"), "1");
	ck_assert_str_eq(kv_get(&l, "empty"), "");
	kv_free(&l);
}
END_TEST

START_TEST(query_skips_empty_pairs_and_empty_keys)
{
	struct kvlist	 l = { 0 };

	ck_assert_int_eq(query_parse(&l, "&&a=1&&=orphan&b=2&"), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].key, "a");
	ck_assert_str_eq(l.v[1].key, "b");
	kv_free(&l);

	ck_assert_int_eq(query_parse(&l, ""), 0);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(query_decodes_plus_as_space_and_percent_escapes)
{
	struct kvlist	 l = { 0 };

	ck_assert_int_eq(query_parse(&l,
	    "q=hello+world&r=%2B1&caf%C3%A9=%C3%A9t%C3%A9"), 0);
	ck_assert_str_eq(kv_get(&l, "q"), "hello world");
	ck_assert_str_eq(kv_get(&l, "r"), "+1");
	ck_assert_str_eq(kv_get(&l, "caf\xc3\xa9"), "\xc3\xa9t\xc3\xa9");
	kv_free(&l);
}
END_TEST

START_TEST(query_value_keeps_later_equals_signs)
{
	struct kvlist	 l = { 0 };

	ck_assert_int_eq(query_parse(&l, "a=b=c&d=%3D"), 0);
	ck_assert_str_eq(kv_get(&l, "a"), "b=c");
	ck_assert_str_eq(kv_get(&l, "d"), "=");
	kv_free(&l);
}
END_TEST

START_TEST(query_invalid_utf8_pair_returns_minus_one)
{
	struct kvlist	 l = { 0 };

	ck_assert_int_eq(query_parse(&l, "a=%FF&b=2"), -1);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_ptr_null(kv_get(&l, "a"));
	ck_assert_str_eq(kv_get(&l, "b"), "2");
	kv_free(&l);

	ck_assert_int_eq(query_parse(&l, "%C0%AF=x"), -1);
	ck_assert_int_eq(query_parse(&l, "k=a%00b"), -1);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

/*
 * req_id_valid
 */

START_TEST(req_id_valid_accepts_short_plain_ids)
{
	char	*max;

	ck_assert(req_id_valid("a"));
	ck_assert(req_id_valid("abc-DEF_0.9"));
	ck_assert(req_id_valid("0123456789abcdef0123456789abcdef"));
	max = repeat('x', REQ_ID_MAX);
	ck_assert(req_id_valid(max));
	free(max);
}
END_TEST

START_TEST(req_id_valid_refuses_empty_long_and_odd_ids)
{
	static const char *const bad[] = {
		"", "a b", "a\"b", "a'b", "a/b", "a;b", "a\nb", "a\tb",
		"caf\xc3\xa9", "<script>", "a,b",
	};
	char	*over;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!req_id_valid(bad[i]), "\"%s\" accepted",
		    bad[i]);
	over = repeat('x', REQ_ID_MAX + 1);
	ck_assert(!req_id_valid(over));
	free(over);
}
END_TEST

/*
 * req_init
 */

START_TEST(req_init_reads_cgi_environment)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);
	fake_env(&f, "REQUEST_METHOD=POST");
	fake_env(&f, "REQUEST_URI=/v1/posts/caf%%C3%%A9?x=1&y=a+b");
	fake_env(&f, "QUERY_STRING=x=1&y=a+b");
	fake_env(&f, "REMOTE_ADDR=192.0.2.7");
	fake_env(&f, "CONTENT_TYPE=application/json");
	fake_env(&f, "CONTENT_LENGTH=42");
	fake_env(&f, "SERVER_NAME=example.org");
	fake_env(&f, "HTTP_ACCEPT_LANGUAGE=fr");
	fake_env(&f, "HTTP_X_CUSTOM_THING=v=1");

	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.raw_path, "/v1/posts/caf%C3%A9");
	ck_assert_str_eq(r.path, "/v1/posts/caf\xc3\xa9");
	ck_assert_str_eq(r.raw_query, "x=1&y=a+b");
	ck_assert_str_eq(req_query(&r, "x"), "1");
	ck_assert_str_eq(req_query(&r, "y"), "a b");
	ck_assert_str_eq(r.client_addr, "192.0.2.7");
	ck_assert_int_eq(r.content_length, 42);
	ck_assert_ptr_eq(r.io, &f.io);
	ck_assert_int_eq(f.reads, 0);

	ck_assert_uint_eq(r.headers.n, 3);
	ck_assert_str_eq(req_header(&r, "accept-language"), "fr");
	ck_assert_str_eq(req_header(&r, "x-custom-thing"), "v=1");
	ck_assert_str_eq(req_header(&r, "content-type"), "application/json");
	ck_assert_ptr_null(req_header(&r, "server-name"));
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_path_keeps_plus_and_drops_query)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);
	fake_env(&f, "REQUEST_URI=/a+b%%20c?d=e");

	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_str_eq(r.raw_path, "/a+b%20c");
	ck_assert_str_eq(r.path, "/a+b c");
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_defaults_without_environment)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);

	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.raw_path, "/");
	ck_assert_str_eq(r.path, "/");
	ck_assert_str_eq(r.raw_query, "");
	ck_assert_str_eq(r.client_addr, "");
	ck_assert_int_eq(r.content_length, -1);
	ck_assert_uint_eq(r.headers.n, 0);
	ck_assert_uint_eq(r.query.n, 0);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_builds_path_from_script_name_and_path_info)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);
	fake_env(&f, "SCRIPT_NAME=/app");
	fake_env(&f, "PATH_INFO=/v1/health");

	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_str_eq(r.raw_path, "/app/v1/health");
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_skips_empty_content_type)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);
	fake_env(&f, "CONTENT_TYPE=");
	fake_env(&f, "CONTENT_LENGTH=");

	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_ptr_null(req_header(&r, "content-type"));
	ck_assert_int_eq(r.content_length, -1);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_honours_valid_request_id)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);
	fake_env(&f, "HTTP_X_REQUEST_ID=client-id_1.2");

	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_str_eq(r.id, "client-id_1.2");
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_replaces_invalid_request_id)
{
	struct fake	 f;
	struct req	 r;
	char		*long_id;

	fake_init(&f, NULL);
	fake_env(&f, "HTTP_X_REQUEST_ID=bad id\"");
	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_msg(is_hex_id(r.id), "id \"%s\"", r.id);
	req_free(&r);
	fake_free(&f);

	long_id = repeat('a', REQ_ID_MAX + 1);
	fake_init(&f, NULL);
	fake_env(&f, "HTTP_X_REQUEST_ID=%s", long_id);
	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_msg(is_hex_id(r.id), "id \"%s\"", r.id);
	req_free(&r);
	fake_free(&f);
	free(long_id);
}
END_TEST

START_TEST(req_init_generates_distinct_ids)
{
	struct fake	 f;
	struct req	 a, b;

	fake_init(&f, NULL);
	ck_assert_int_eq(req_init(&a, NULL, &f.io), JAMB_OK);
	ck_assert_int_eq(req_init(&b, NULL, &f.io), JAMB_OK);
	ck_assert(is_hex_id(a.id));
	ck_assert(is_hex_id(b.id));
	ck_assert_str_ne(a.id, b.id);
	req_free(&a);
	req_free(&b);
	fake_free(&f);
}
END_TEST

START_TEST(req_init_accepts_uri_at_the_limit)
{
	struct fake	 f;
	struct req	 r;
	char		*seg;

	/* "/" plus the segment is exactly APP_URI_MAX bytes. */
	seg = repeat('a', APP_URI_MAX - 1);
	fake_init(&f, NULL);
	fake_env(&f, "REQUEST_URI=/%s", seg);
	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_OK);
	ck_assert_uint_eq(strlen(r.raw_path), APP_URI_MAX);
	req_free(&r);
	fake_free(&f);
	free(seg);
}
END_TEST

START_TEST(req_init_refuses_overlong_uri)
{
	struct fake	 f;
	struct req	 r;
	char		*seg;

	seg = repeat('a', APP_URI_MAX);
	fake_init(&f, NULL);
	fake_env(&f, "REQUEST_URI=/%s", seg);
	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_ETOOBIG);
	ck_assert_msg(is_hex_id(r.id), "no id on failure");
	req_free(&r);
	fake_free(&f);

	/* The query string counts too. */
	fake_init(&f, NULL);
	fake_env(&f, "REQUEST_URI=/x?q=%s", seg);
	fake_env(&f, "QUERY_STRING=q=%s", seg);
	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_ETOOBIG);
	req_free(&r);
	fake_free(&f);
	free(seg);
}
END_TEST

START_TEST(req_init_refuses_bad_content_length)
{
	static const char *const bad[] = {
		"abc", "12x", "-1", "1.5", "99999999999999999999", " +5",
		"+5", "5 ",
	};
	struct fake	 f;
	struct req	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake_init(&f, NULL);
		fake_env(&f, "CONTENT_LENGTH=%s", bad[i]);
		ck_assert_msg(req_init(&r, NULL, &f.io) == JAMB_EINVAL,
		    "CONTENT_LENGTH=%s accepted", bad[i]);
		ck_assert(is_hex_id(r.id));
		req_free(&r);
		fake_free(&f);
	}
}
END_TEST

START_TEST(req_init_refuses_path_not_decoding_to_utf8)
{
	static const char *const bad[] = {
		"/a%FF", "/a%00b", "/%C0%AF", "/%ED%A0%80",
	};
	struct fake	 f;
	struct req	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake_init(&f, NULL);
		fake_env(&f, "REQUEST_URI=%s", bad[i]);
		ck_assert_msg(req_init(&r, NULL, &f.io) == JAMB_EINVAL,
		    "%s accepted", bad[i]);
		req_free(&r);
		fake_free(&f);
	}
}
END_TEST

START_TEST(req_init_refuses_query_not_decoding_to_utf8)
{
	struct fake	 f;
	struct req	 r;

	fake_init(&f, NULL);
	fake_env(&f, "REQUEST_URI=/x?a=%%FF");
	fake_env(&f, "QUERY_STRING=a=%%FF");
	ck_assert_int_eq(req_init(&r, NULL, &f.io), JAMB_EINVAL);
	req_free(&r);
	fake_free(&f);
}
END_TEST

/*
 * req_read_body
 */

/* A request whose CGI environment declares length (NULL: none). */
static void
body_req(struct req *r, struct fake *f, const char *body, const char *length)
{
	fake_init(f, body);
	fake_env(f, "REQUEST_METHOD=POST");
	fake_env(f, "REQUEST_URI=/v1/x");
	if (length != NULL)
		fake_env(f, "CONTENT_LENGTH=%s", length);
	ck_assert_int_eq(req_init(r, NULL, &f->io), JAMB_OK);
}

START_TEST(req_read_body_reads_declared_length)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	/* Bytes past Content-Length are not the body. */
	body_req(&r, &f, "hello worldEXTRA", "11");
	ck_assert_int_eq(req_read_body(&r, 100, err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(r.body_len, 11);
	ck_assert_str_eq(r.body, "hello world");
	ck_assert_uint_eq(f.inoff, 11);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_refuses_body_shorter_than_declared)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	body_req(&r, &f, "abcd", "10");
	ck_assert_int_eq(req_read_body(&r, 100, err, sizeof(err)), JAMB_EIO);
	ck_assert_ptr_nonnull(strstr(err, "4 of 10"));
	ck_assert_ptr_null(r.body);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_gathers_short_reads)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	body_req(&r, &f, "0123456789", "10");
	f.chunk = 3;
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(r.body, "0123456789");
	ck_assert_int_ge(f.reads, 4);
	req_free(&r);
	fake_free(&f);

	body_req(&r, &f, "0123456789", NULL);
	f.chunk = 4;
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(r.body, "0123456789");
	ck_assert_uint_eq(r.body_len, 10);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_accepts_empty_body)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	body_req(&r, &f, "", "0");
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_ptr_nonnull(r.body);
	ck_assert_int_eq(f.reads, 0);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_refuses_declared_length_over_limit_without_reading)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256] = "";

	body_req(&r, &f, "0123456789", "11");
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)),
	    JAMB_ETOOBIG);
	ck_assert_int_eq(f.reads, 0);
	ck_assert_ptr_null(r.body);
	ck_assert_ptr_nonnull(strstr(err, "11"));
	ck_assert_ptr_nonnull(strstr(err, "10"));
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_accepts_declared_length_at_limit)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	body_req(&r, &f, "0123456789", "10");
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)), JAMB_OK);
	ck_assert_uint_eq(r.body_len, 10);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_refuses_undeclared_body_over_limit)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256] = "";
	char		*big;

	big = repeat('z', 100000);
	body_req(&r, &f, big, NULL);
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)),
	    JAMB_ETOOBIG);
	ck_assert_ptr_null(r.body);
	ck_assert_ptr_nonnull(strstr(err, "10"));
	/* It stops soon after the limit instead of draining the client. */
	ck_assert_uint_lt(f.inoff, 100000);
	req_free(&r);
	fake_free(&f);
	free(big);

	/* One byte over is enough, even when read a byte at a time. */
	body_req(&r, &f, "0123456789A", NULL);
	f.chunk = 1;
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)),
	    JAMB_ETOOBIG);
	ck_assert_uint_eq(f.inoff, 11);
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_accepts_undeclared_body_at_limit)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	body_req(&r, &f, "0123456789", NULL);
	ck_assert_int_eq(req_read_body(&r, 10, err, sizeof(err)), JAMB_OK);
	ck_assert_str_eq(r.body, "0123456789");
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_read_body_reports_read_failure)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256] = "";

	body_req(&r, &f, "0123456789", "10");
	f.fail_read = 1;
	ck_assert_int_eq(req_read_body(&r, 100, err, sizeof(err)), JAMB_EIO);
	ck_assert_ptr_null(r.body);
	ck_assert_str_ne(err, "");
	req_free(&r);
	fake_free(&f);
}
END_TEST

/*
 * req_parse_json
 */

/* Builds a request with the type (NULL: none) and body, reads it. */
static void
json_req(struct req *r, struct fake *f, const char *type, const char *body)
{
	char	 err[256];

	fake_init(f, body);
	fake_env(f, "REQUEST_METHOD=POST");
	fake_env(f, "REQUEST_URI=/v1/x");
	fake_env(f, "CONTENT_LENGTH=%zu", strlen(body));
	if (type != NULL)
		fake_env(f, "CONTENT_TYPE=%s", type);
	ck_assert_int_eq(req_init(r, NULL, &f->io), JAMB_OK);
	ck_assert_int_eq(req_read_body(r, 1 << 20, err, sizeof(err)),
	    JAMB_OK);
}

/* req_parse_json's answer for one type and body, at depth 32. */
static enum jamb_status
parse_with(const char *type, const char *body, int depth, char *err,
    size_t errlen)
{
	struct fake	 f;
	struct req	 r;
	enum jamb_status st;

	json_req(&r, &f, type, body);
	st = req_parse_json(&r, depth, err, errlen);
	if (st == JAMB_OK)
		ck_assert_ptr_nonnull(r.json);
	else
		ck_assert_ptr_null(r.json);
	req_free(&r);
	fake_free(&f);
	return st;
}

START_TEST(req_parse_json_parses_object)
{
	struct fake	 f;
	struct req	 r;
	char		 err[256];

	json_req(&r, &f, "application/json", "{\"a\": [1, 2], \"b\": \"x\"}");
	ck_assert_int_eq(req_parse_json(&r, 32, err, sizeof(err)), JAMB_OK);
	ck_assert(json_is_object(r.json));
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "a")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "b")),
	    "x");
	req_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(req_parse_json_accepts_json_media_types)
{
	static const char *const good[] = {
		"application/json",
		"application/json; charset=utf-8",
		"application/json ;charset=UTF-8",
		"Application/JSON",
		"application/merge-patch+json",
		"application/problem+json; charset=utf-8",
	};
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(parse_with(good[i], "{}", 32, err,
		    sizeof(err)) == JAMB_OK, "%s refused: %s", good[i], err);
}
END_TEST

START_TEST(req_parse_json_refuses_other_media_types)
{
	static const char *const bad[] = {
		"text/plain", "text/json", "application/jsonx",
		"application/+json", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=json",
	};
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_with(bad[i], "{}", 32, err,
		    sizeof(err)) == JAMB_EMEDIA, "%s accepted", bad[i]);
	ck_assert_int_eq(parse_with(NULL, "{}", 32, err, sizeof(err)),
	    JAMB_EMEDIA);
	ck_assert_ptr_nonnull(strstr(err, "application/json"));
}
END_TEST

START_TEST(req_parse_json_refuses_empty_body)
{
	char	 err[256] = "";

	ck_assert_int_eq(parse_with("application/json", "", 32, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
}
END_TEST

START_TEST(req_parse_json_refuses_invalid_utf8)
{
	char	 err[256] = "";

	ck_assert_int_eq(parse_with("application/json", "\"\xc0\xaf\"", 32,
	    err, sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "UTF-8"));
}
END_TEST

START_TEST(req_parse_json_refuses_nesting_over_the_limit)
{
	char	 err[256] = "";

	ck_assert_int_eq(parse_with("application/json", "[[[1]]]", 3, err,
	    sizeof(err)), JAMB_OK);
	ck_assert_int_eq(parse_with("application/json", "{\"a\":[{}]}", 3,
	    err, sizeof(err)), JAMB_OK);
	ck_assert_int_eq(parse_with("application/json", "[[[[1]]]]", 3, err,
	    sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "deeper than 3"));
	ck_assert_int_eq(parse_with("application/json", "{\"a\":[{\"b\":[]}]}",
	    3, err, sizeof(err)), JAMB_EINVAL);
}
END_TEST

START_TEST(req_parse_json_ignores_brackets_inside_strings)
{
	char	 err[256] = "";

	ck_assert_int_eq(parse_with("application/json", "[\"[[[[{{{{\"]", 1,
	    err, sizeof(err)), JAMB_OK);
	/* An escaped quote does not end the string. */
	ck_assert_int_eq(parse_with("application/json",
	    "{\"k\\\"[[\":\"\\\"{{{{\\\\\"}", 1, err, sizeof(err)), JAMB_OK);
	/* Siblings do not add up. */
	ck_assert_int_eq(parse_with("application/json", "[[],[],[],[]]", 2,
	    err, sizeof(err)), JAMB_OK);
}
END_TEST

START_TEST(req_parse_json_refuses_duplicate_keys)
{
	char	 err[256] = "";

	ck_assert_int_eq(parse_with("application/json",
	    "{\"a\": 1, \"a\": 2}", 32, err, sizeof(err)), JAMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "invalid JSON"));
}
END_TEST

START_TEST(req_parse_json_refuses_malformed_json)
{
	static const char *const bad[] = {
		"{\"a\":", "{a: 1}", "[1,]", "nul", "{} {}", "'x'",
	};
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(parse_with("application/json", bad[i], 32, err,
		    sizeof(err)) == JAMB_EINVAL, "%s accepted", bad[i]);
		ck_assert_msg(strstr(err, "line 1") != NULL, "err: %s", err);
	}
}
END_TEST

START_TEST(req_parse_json_accepts_scalars)
{
	char	 err[256];

	ck_assert_int_eq(parse_with("application/json", "42", 32, err,
	    sizeof(err)), JAMB_OK);
	ck_assert_int_eq(parse_with("application/json", "\"s\"", 32, err,
	    sizeof(err)), JAMB_OK);
}
END_TEST

/*
 * resp
 */

START_TEST(resp_init_starts_as_empty_200)
{
	struct resp	 r;

	resp_init(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.headers.n, 0);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_int_eq(r.is_problem, 0);
	resp_free(&r);
}
END_TEST

START_TEST(resp_header_replaces_same_name_case_insensitively)
{
	struct resp	 r;

	resp_init(&r);
	resp_header(&r, "Content-Type", "text/plain");
	resp_header(&r, "X-Other", "1");
	resp_header(&r, "content-type", "application/json");

	ck_assert_uint_eq(r.headers.n, 2);
	ck_assert_str_eq(resp_get_header(&r, "CONTENT-TYPE"),
	    "application/json");
	ck_assert_str_eq(r.headers.v[0].val, "application/json");
	ck_assert_str_eq(resp_get_header(&r, "x-other"), "1");
	ck_assert_ptr_null(resp_get_header(&r, "X-Missing"));
	resp_free(&r);
}
END_TEST

START_TEST(resp_header_turns_line_breaks_into_spaces)
{
	struct resp	 r;

	resp_init(&r);
	resp_header(&r, "X-Echo", "a\r\nSet-Cookie: x=1\nb\rc");
	ck_assert_str_eq(resp_get_header(&r, "X-Echo"),
	    "a  Set-Cookie: x=1 b c");

	/* Replacing a value cleans it too. */
	resp_header(&r, "x-echo", "d\r\ne");
	ck_assert_str_eq(resp_get_header(&r, "X-Echo"), "d  e");
	resp_free(&r);
}
END_TEST

START_TEST(resp_json_sets_status_type_and_compact_body)
{
	struct resp	 r;

	resp_init(&r);
	resp_json(&r, 201, json_pack("{s:i}", "n", 1));
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(r.body.data, "{\"n\":1}");
	ck_assert_str_eq(resp_get_header(&r, "Content-Type"),
	    "application/json");
	resp_free(&r);
}
END_TEST

/* The problem document in a response body, checked and parsed. */
static json_t *
problem_body(const struct resp *r)
{
	json_error_t	 jerr;
	json_t		*doc;

	ck_assert(r->is_problem);
	ck_assert_str_eq(resp_get_header(r, "Content-Type"),
	    "application/problem+json");
	doc = json_loadb(r->body.data, r->body.len, 0, &jerr);
	ck_assert_msg(doc != NULL, "body is not JSON: %s", r->body.data);
	return doc;
}

START_TEST(resp_problem_builds_problem_document)
{
	struct resp	 r;
	struct req	 q;
	json_t		*doc;

	memset(&q, 0, sizeof(q));
	snprintf(q.id, sizeof(q.id), "req-1");
	resp_init(&r);
	resp_problem(&r, &q, 404, "not-found", "Not Found", "no post %s (%d)",
	    "x", 7);

	ck_assert_int_eq(r.status, 404);
	doc = problem_body(&r);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "type")),
	    "/v1/problems/not-found");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "title")),
	    "Not Found");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")),
	    404);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")),
	    "no post x (7)");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "instance")),
	    "req-1");
	json_decref(doc);
	resp_free(&r);
}
END_TEST

START_TEST(resp_problem_without_request_has_no_instance)
{
	struct resp	 r;
	json_t		*doc;

	resp_init(&r);
	resp_problem(&r, NULL, 503, "unavailable", "Service Unavailable",
	    "down");
	doc = problem_body(&r);
	ck_assert_ptr_null(json_object_get(doc, "instance"));
	ck_assert_int_eq(r.status, 503);
	json_decref(doc);
	resp_free(&r);
}
END_TEST

START_TEST(resp_problem_escapes_invalid_utf8_in_detail)
{
	struct resp	 r;
	json_t		*doc;

	resp_init(&r);
	resp_problem(&r, NULL, 400, "bad-request", "Bad Request", "path %s",
	    "/a\xff");
	doc = problem_body(&r);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")),
	    "path /a\\xff");
	json_decref(doc);
	resp_free(&r);
}
END_TEST

START_TEST(resp_status_problem_maps_status_to_http)
{
	struct resp	 r;
	struct req	 q;
	json_t		*doc;

	memset(&q, 0, sizeof(q));
	snprintf(q.id, sizeof(q.id), "rid");
	resp_init(&r);
	resp_status_problem(&r, &q, JAMB_EMEDIA, "send JSON");

	ck_assert_int_eq(r.status, 415);
	doc = problem_body(&r);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "type")),
	    "/v1/problems/unsupported-media-type");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "title")),
	    "Unsupported Media Type");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")),
	    "send JSON");
	json_decref(doc);
	resp_free(&r);
}
END_TEST

START_TEST(resp_reset_forgets_headers_and_body)
{
	struct resp	 r;

	resp_init(&r);
	resp_problem(&r, NULL, 500, "internal", "Internal Server Error", "x");
	resp_header(&r, "X-A", "1");
	resp_reset(&r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.headers.n, 0);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_int_eq(r.is_problem, 0);
	resp_free(&r);
}
END_TEST

START_TEST(resp_send_writes_no_status_line_for_200)
{
	struct fake	 f;
	struct resp	 r;

	fake_init(&f, NULL);
	resp_init(&r);
	resp_header(&r, "Content-Type", "text/plain");
	buf_adds(&r.body, "hello");

	ck_assert_int_eq(resp_send(&r, &f.io, 0), JAMB_OK);
	ck_assert_str_eq(f.out.data, "Content-Type: text/plain\r\n"
	    "Content-Length: 5\r\n\r\nhello");
	resp_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(resp_send_writes_status_line_for_other_statuses)
{
	struct fake	 f;
	struct resp	 r;

	fake_init(&f, NULL);
	resp_init(&r);
	r.status = 404;
	buf_adds(&r.body, "{}");

	ck_assert_int_eq(resp_send(&r, &f.io, 0), JAMB_OK);
	ck_assert_str_eq(f.out.data, "Status: 404 Not Found\r\n"
	    "Content-Length: 2\r\n\r\n{}");
	resp_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(resp_send_head_only_writes_length_but_no_body)
{
	struct fake	 f;
	struct resp	 r;

	fake_init(&f, NULL);
	resp_init(&r);
	buf_adds(&r.body, "0123456789");

	ck_assert_int_eq(resp_send(&r, &f.io, 1), JAMB_OK);
	ck_assert_str_eq(f.out.data, "Content-Length: 10\r\n\r\n");
	resp_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(resp_send_no_content_has_no_length_or_body)
{
	struct fake	 f;
	struct resp	 r;

	fake_init(&f, NULL);
	resp_init(&r);
	r.status = 204;
	resp_header(&r, "Allow", "GET");

	ck_assert_int_eq(resp_send(&r, &f.io, 0), JAMB_OK);
	ck_assert_str_eq(f.out.data, "Status: 204 No Content\r\n"
	    "Allow: GET\r\n\r\n");
	resp_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(resp_send_reports_write_failure)
{
	struct fake	 f;
	struct resp	 r;

	fake_init(&f, NULL);
	f.fail_write = 1;
	resp_init(&r);
	buf_adds(&r.body, "x");

	ck_assert_int_eq(resp_send(&r, &f.io, 0), JAMB_EIO);
	/* No body after a head that could not be written. */
	ck_assert_int_eq(f.writes, 1);
	resp_free(&r);
	fake_free(&f);
}
END_TEST

START_TEST(http_reason_names_known_statuses)
{
	ck_assert_str_eq(http_reason(200), "OK");
	ck_assert_str_eq(http_reason(413), "Content Too Large");
	ck_assert_str_eq(http_reason(503), "Service Unavailable");
	ck_assert_str_eq(http_reason(299), "Unknown");
}
END_TEST

static Suite *
req_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("req");

	tc = tcase_create("url_decode");
	tcase_add_test(tc, url_decode_decodes_percent_escapes);
	tcase_add_test(tc, url_decode_plus_is_space_in_query_mode_only);
	tcase_add_test(tc, url_decode_keeps_malformed_percent_literally);
	tcase_add_test(tc, url_decode_nul_escape_is_counted_in_length);
	tcase_add_test(tc, url_decode_reads_only_the_given_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_test(tc, query_keeps_repeated_keys_in_order);
	tcase_add_test(tc, query_key_without_equals_has_empty_value);
	tcase_add_test(tc, query_skips_empty_pairs_and_empty_keys);
	tcase_add_test(tc, query_decodes_plus_as_space_and_percent_escapes);
	tcase_add_test(tc, query_value_keeps_later_equals_signs);
	tcase_add_test(tc, query_invalid_utf8_pair_returns_minus_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("req_init");
	tcase_add_test(tc, req_id_valid_accepts_short_plain_ids);
	tcase_add_test(tc, req_id_valid_refuses_empty_long_and_odd_ids);
	tcase_add_test(tc, req_init_reads_cgi_environment);
	tcase_add_test(tc, req_init_path_keeps_plus_and_drops_query);
	tcase_add_test(tc, req_init_defaults_without_environment);
	tcase_add_test(tc, req_init_builds_path_from_script_name_and_path_info);
	tcase_add_test(tc, req_init_skips_empty_content_type);
	tcase_add_test(tc, req_init_honours_valid_request_id);
	tcase_add_test(tc, req_init_replaces_invalid_request_id);
	tcase_add_test(tc, req_init_generates_distinct_ids);
	tcase_add_test(tc, req_init_accepts_uri_at_the_limit);
	tcase_add_test(tc, req_init_refuses_overlong_uri);
	tcase_add_test(tc, req_init_refuses_bad_content_length);
	tcase_add_test(tc, req_init_refuses_path_not_decoding_to_utf8);
	tcase_add_test(tc, req_init_refuses_query_not_decoding_to_utf8);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_test(tc, req_read_body_reads_declared_length);
	tcase_add_test(tc, req_read_body_gathers_short_reads);
	tcase_add_test(tc, req_read_body_refuses_body_shorter_than_declared);
	tcase_add_test(tc, req_read_body_accepts_empty_body);
	tcase_add_test(tc,
	    req_read_body_refuses_declared_length_over_limit_without_reading);
	tcase_add_test(tc, req_read_body_accepts_declared_length_at_limit);
	tcase_add_test(tc, req_read_body_refuses_undeclared_body_over_limit);
	tcase_add_test(tc, req_read_body_accepts_undeclared_body_at_limit);
	tcase_add_test(tc, req_read_body_reports_read_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, req_parse_json_parses_object);
	tcase_add_test(tc, req_parse_json_accepts_json_media_types);
	tcase_add_test(tc, req_parse_json_refuses_other_media_types);
	tcase_add_test(tc, req_parse_json_refuses_empty_body);
	tcase_add_test(tc, req_parse_json_refuses_invalid_utf8);
	tcase_add_test(tc, req_parse_json_refuses_nesting_over_the_limit);
	tcase_add_test(tc, req_parse_json_ignores_brackets_inside_strings);
	tcase_add_test(tc, req_parse_json_refuses_duplicate_keys);
	tcase_add_test(tc, req_parse_json_refuses_malformed_json);
	tcase_add_test(tc, req_parse_json_accepts_scalars);
	suite_add_tcase(s, tc);

	tc = tcase_create("resp");
	tcase_add_test(tc, resp_init_starts_as_empty_200);
	tcase_add_test(tc, resp_header_replaces_same_name_case_insensitively);
	tcase_add_test(tc, resp_header_turns_line_breaks_into_spaces);
	tcase_add_test(tc, resp_json_sets_status_type_and_compact_body);
	tcase_add_test(tc, resp_problem_builds_problem_document);
	tcase_add_test(tc, resp_problem_without_request_has_no_instance);
	tcase_add_test(tc, resp_problem_escapes_invalid_utf8_in_detail);
	tcase_add_test(tc, resp_status_problem_maps_status_to_http);
	tcase_add_test(tc, resp_reset_forgets_headers_and_body);
	tcase_add_test(tc, resp_send_writes_no_status_line_for_200);
	tcase_add_test(tc, resp_send_writes_status_line_for_other_statuses);
	tcase_add_test(tc, resp_send_head_only_writes_length_but_no_body);
	tcase_add_test(tc, resp_send_no_content_has_no_length_or_body);
	tcase_add_test(tc, resp_send_reports_write_failure);
	tcase_add_test(tc, http_reason_names_known_statuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(req_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
