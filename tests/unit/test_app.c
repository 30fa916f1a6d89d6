/*
 * End-to-end tests of app_handle (app/app.c): a request goes in through
 * a fake CGI client in memory, the whole pipeline runs (request, CORS,
 * routing, body, handler, response, access log) and the test reads what
 * was written back.  The configuration and the log are temporary files;
 * no backend is contacted.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define FAKE_ENV_MAX	32
#define ALLOWED_ORIGIN	"https://site.example"

extern char **environ;

#define RUN_DIR_NAME	"jamb-test-app"

/*
 * Every temporary file goes in a directory of the run's own, removed at
 * the end even when a failing test skipped its teardown.
 */
static char	 run_dir[PATH_MAX];

static int
run_dir_create(void)
{
	const char	*base = getenv("TMPDIR");

	snprintf(run_dir, sizeof(run_dir), "%s/%s-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp", RUN_DIR_NAME);
	if (mkdtemp(run_dir) == NULL) {
		perror(run_dir);
		return -1;
	}
	return 0;
}

static void
run_dir_remove(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[PATH_MAX + 256];

	if ((d = opendir(run_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", run_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(run_dir);
}

/* A CGI client in memory: environment, request body and response. */
struct fake {
	char		*env[FAKE_ENV_MAX + 1];
	size_t		 nenv;
	const char	*in;
	size_t		 inlen;
	size_t		 inoff;
	int		 reads;
	int		 fail_write;
	struct buf	 out;
	struct io	 io;
};

/* A response split at the first blank line. */
struct answer {
	int		 status;
	struct kvlist	 headers;
	char		*head;
	char		*body;
	size_t		 body_len;
};

static char		 conf_file[PATH_MAX];
static char		 log_file[PATH_MAX];
static struct conf	*conf;
static struct app	*app;

static int
fake_read(void *ctx, char *p, size_t n)
{
	struct fake	*f = ctx;

	f->reads++;
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

	if (f->fail_write)
		return -1;
	buf_add(&f->out, p, n);
	return 0;
}

static void	fake_env(struct fake *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

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

/*
 * A request as a web server would pass it: method, URI (its query also
 * in QUERY_STRING) and, if body is not NULL, the body with its length.
 */
static void
fake_request(struct fake *f, const char *method, const char *uri,
    const char *body)
{
	const char	*q;

	memset(f, 0, sizeof(*f));
	f->in = body != NULL ? body : "";
	f->inlen = strlen(f->in);
	buf_init(&f->out);
	f->io.envp = f->env;
	f->io.read = fake_read;
	f->io.write = fake_write;
	f->io.ctx = f;

	fake_env(f, "REQUEST_METHOD=%s", method);
	fake_env(f, "REQUEST_URI=%s", uri);
	if ((q = strchr(uri, '?')) != NULL)
		fake_env(f, "QUERY_STRING=%s", q + 1);
	fake_env(f, "REMOTE_ADDR=192.0.2.1");
	if (body != NULL)
		fake_env(f, "CONTENT_LENGTH=%zu", f->inlen);
}

static void
fake_free(struct fake *f)
{
	size_t	 i;

	for (i = 0; i < f->nenv; i++)
		free(f->env[i]);
	buf_free(&f->out);
}

static void
answer_free(struct answer *a)
{
	kv_free(&a->headers);
	free(a->head);
	free(a->body);
}

/* Runs the request through app_handle and parses what it wrote. */
static void
serve(struct fake *f, struct answer *a)
{
	const char	*sep, *line, *eol, *colon;

	memset(a, 0, sizeof(*a));
	app_handle(app, &f->io);

	sep = strstr(f->out.data, "\r\n\r\n");
	ck_assert_msg(sep != NULL, "no end of head in: %s", f->out.data);
	a->head = xstrndup(f->out.data, (size_t)(sep - f->out.data) + 2);
	a->body_len = f->out.len - (size_t)(sep + 4 - f->out.data);
	a->body = xstrndup(sep + 4, a->body_len);

	for (line = a->head; *line != '\0'; line = eol + 2) {
		eol = strstr(line, "\r\n");
		colon = memchr(line, ':', (size_t)(eol - line));
		ck_assert_msg(colon != NULL && colon[1] == ' ',
		    "malformed header line in: %s", a->head);
		kv_addn(&a->headers, line, (size_t)(colon - line), colon + 2,
		    (size_t)(eol - colon - 2));
	}
	if (strncmp(a->head, "Status: ", 8) == 0)
		a->status = atoi(a->head + 8);
	else
		a->status = 200;
}

static const char *
header(const struct answer *a, const char *name)
{
	return kv_get_case(&a->headers, name);
}

/* The body as JSON, checked against the Content-Type given. */
static json_t *
json_body(const struct answer *a, const char *type)
{
	json_error_t	 jerr;
	json_t		*doc;

	ck_assert_str_eq(header(a, "Content-Type"), type);
	doc = json_loadb(a->body, a->body_len, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON (%s): %s", jerr.text, a->body);
	return doc;
}

/* A problem document with the status and type slug; returns it. */
static json_t *
problem(const struct answer *a, int status, const char *slug)
{
	json_t	*doc;
	char	 type[128];

	ck_assert_int_eq(a->status, status);
	doc = json_body(a, "application/problem+json");
	snprintf(type, sizeof(type), "/v1/problems/%s", slug);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "type")),
	    type);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")),
	    status);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "instance")),
	    header(a, "X-Request-Id"));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(doc,
	    "title")));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(doc,
	    "detail")));
	return doc;
}

static void
clear_jamb_env(void)
{
	struct kvlist	 names = { 0 };
	char		**e;
	size_t		 i;

	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, "JAMB_", 5) == 0)
			kv_addn(&names, *e, strcspn(*e, "="), "", 0);
	for (i = 0; i < names.n; i++)
		unsetenv(names.v[i].key);
	kv_free(&names);
}

/* A new empty temporary file; its path goes in path. */
static void
temp_file(char *path, size_t len, const char *name)
{
	int	 fd;

	ck_assert_int_lt(snprintf(path, len, "%s/%s-XXXXXX", run_dir, name),
	    (int)len);
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp %s failed", path);
	close(fd);
}

/* Loads conf and app from text written to conf_file; logs to log_file. */
static void
load_app(const char *text)
{
	FILE	*f;
	char	 err[512] = "";

	/*
	 * No memcached runs here: rate limits would log its absence and
	 * refuse the strict class.  tests/integration covers them.
	 */
	f = fopen(conf_file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s[ratelimit]\nenabled = no\n[log]\nfile = %s\n", text,
	    log_file);
	fclose(f);
	ck_assert_msg(conf_load(conf_file, &conf, err, sizeof(err)) ==
	    JAMB_OK, "%s", err);
	log_setup(conf);
	app = app_new(conf);
}

static void
unload_app(void)
{
	app_free(app);
	conf_free(conf);
	app = NULL;
	conf = NULL;
}

static void
setup(void)
{
	clear_jamb_env();
	temp_file(conf_file, sizeof(conf_file), "conf");
	temp_file(log_file, sizeof(log_file), "log");
	load_app("[server]\nbody_limit = 1k\n"
	    "[cors]\norigins = " ALLOWED_ORIGIN "\n"
	    "[debug]\nroutes = yes\n");
}

static void
teardown(void)
{
	unload_app();
	unlink(conf_file);
	unlink(log_file);
}

/* The log file's lines, each parsed as JSON. */
static size_t
log_lines(json_t **lines, size_t max)
{
	FILE		*f;
	char		 line[8192];
	json_error_t	 jerr;
	size_t		 n = 0;

	f = fopen(log_file, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		ck_assert_msg(strchr(line, '\n') != NULL, "cut: %s", line);
		ck_assert_uint_lt(n, max);
		lines[n] = json_loads(line, 0, &jerr);
		ck_assert_msg(lines[n] != NULL, "not JSON: %s", line);
		n++;
	}
	fclose(f);
	return n;
}

START_TEST(health_answers_200_with_status_and_version)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	char		 len[32];

	fake_request(&f, "GET", "/v1/health", NULL);
	serve(&f, &a);

	ck_assert_int_eq(a.status, 200);
	ck_assert_msg(strncmp(a.head, "Status:", 7) != 0, "%s", a.head);
	doc = json_body(&a, "application/json");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "status")),
	    "ok");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "version")),
	    PACKAGE_VERSION);
	snprintf(len, sizeof(len), "%zu", a.body_len);
	ck_assert_str_eq(header(&a, "Content-Length"), len);
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(unknown_path_answers_404_problem)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;

	fake_request(&f, "GET", "/v1/nope?x=1", NULL);
	serve(&f, &a);

	ck_assert_int_eq(strncmp(a.head, "Status: 404 Not Found\r\n", 23), 0);
	doc = problem(&a, 404, "not-found");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc,
	    "detail")), "/v1/nope"));
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(post_to_get_only_route_answers_405_with_allow)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;

	fake_request(&f, "POST", "/v1/health", "{}");
	fake_env(&f, "CONTENT_TYPE=application/json");
	serve(&f, &a);

	doc = problem(&a, 405, "method-not-allowed");
	ck_assert_str_eq(header(&a, "Allow"), "GET, HEAD, OPTIONS");
	/* A route that takes no body does not read one. */
	ck_assert_int_eq(f.reads, 0);
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(head_answers_headers_without_body)
{
	struct fake	 f;
	struct answer	 get, head;

	fake_request(&f, "GET", "/v1/health", NULL);
	serve(&f, &get);
	fake_free(&f);
	fake_request(&f, "HEAD", "/v1/health", NULL);
	serve(&f, &head);

	ck_assert_int_eq(head.status, 200);
	ck_assert_uint_eq(head.body_len, 0);
	ck_assert_uint_gt(get.body_len, 0);
	ck_assert_str_eq(header(&head, "Content-Length"),
	    header(&get, "Content-Length"));
	ck_assert_str_eq(header(&head, "Content-Type"), "application/json");
	answer_free(&get);
	answer_free(&head);
	fake_free(&f);
}
END_TEST

START_TEST(head_of_unknown_path_answers_404_without_body)
{
	struct fake	 f;
	struct answer	 a;

	fake_request(&f, "HEAD", "/v1/nope", NULL);
	serve(&f, &a);

	ck_assert_int_eq(a.status, 404);
	ck_assert_uint_eq(a.body_len, 0);
	ck_assert_uint_gt(strtoul(header(&a, "Content-Length"), NULL, 10), 0);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(options_preflight_from_allowed_origin_is_answered)
{
	struct fake	 f;
	struct answer	 a;

	fake_request(&f, "OPTIONS", "/v1/health", NULL);
	fake_env(&f, "HTTP_ORIGIN=" ALLOWED_ORIGIN);
	fake_env(&f, "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET");
	fake_env(&f, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=x-request-id");
	serve(&f, &a);

	ck_assert_int_eq(a.status, 204);
	ck_assert_uint_eq(a.body_len, 0);
	ck_assert_ptr_null(header(&a, "Content-Length"));
	ck_assert_str_eq(header(&a, "Allow"), "GET, HEAD, OPTIONS");
	ck_assert_str_eq(header(&a, "Access-Control-Allow-Origin"),
	    ALLOWED_ORIGIN);
	ck_assert_str_eq(header(&a, "Access-Control-Allow-Methods"),
	    "GET, HEAD, OPTIONS");
	ck_assert_ptr_nonnull(strstr(header(&a,
	    "Access-Control-Allow-Headers"), "Content-Type"));
	ck_assert_ptr_nonnull(strstr(header(&a,
	    "Access-Control-Allow-Headers"), "X-Request-Id"));
	ck_assert_str_eq(header(&a, "Access-Control-Max-Age"), "600");
	ck_assert_str_eq(header(&a, "Access-Control-Allow-Credentials"),
	    "true");
	ck_assert_ptr_nonnull(strstr(header(&a, "Vary"), "Origin"));
	ck_assert_ptr_nonnull(strstr(header(&a, "Vary"),
	    "Access-Control-Request-Method"));
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(options_preflight_from_other_origin_gets_no_cors_headers)
{
	struct fake	 f;
	struct answer	 a;

	fake_request(&f, "OPTIONS", "/v1/health", NULL);
	fake_env(&f, "HTTP_ORIGIN=https://evil.example");
	fake_env(&f, "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET");
	serve(&f, &a);

	ck_assert_int_eq(a.status, 204);
	ck_assert_str_eq(header(&a, "Allow"), "GET, HEAD, OPTIONS");
	ck_assert_ptr_null(header(&a, "Access-Control-Allow-Origin"));
	ck_assert_ptr_null(header(&a, "Access-Control-Allow-Methods"));
	ck_assert_ptr_null(header(&a, "Access-Control-Allow-Headers"));
	ck_assert_ptr_null(header(&a, "Access-Control-Allow-Credentials"));
	ck_assert_str_eq(header(&a, "Vary"), "Origin");
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(options_without_preflight_lists_allowed_methods)
{
	struct fake	 f;
	struct answer	 a;

	fake_request(&f, "OPTIONS", "/v1/debug/echo", NULL);
	serve(&f, &a);

	ck_assert_int_eq(a.status, 204);
	ck_assert_str_eq(header(&a, "Allow"), "POST, OPTIONS");
	ck_assert_ptr_null(header(&a, "Access-Control-Allow-Methods"));
	answer_free(&a);
	fake_free(&f);

	/* An allowed origin alone does not make it a preflight. */
	fake_request(&f, "OPTIONS", "/v1/debug/echo", NULL);
	fake_env(&f, "HTTP_ORIGIN=" ALLOWED_ORIGIN);
	serve(&f, &a);
	ck_assert_int_eq(a.status, 204);
	ck_assert_str_eq(header(&a, "Allow"), "POST, OPTIONS");
	ck_assert_str_eq(header(&a, "Access-Control-Allow-Origin"),
	    ALLOWED_ORIGIN);
	ck_assert_ptr_null(header(&a, "Access-Control-Allow-Methods"));
	ck_assert_ptr_null(header(&a, "Access-Control-Max-Age"));
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(request_from_allowed_origin_gets_cors_headers)
{
	struct fake	 f;
	struct answer	 a;

	fake_request(&f, "GET", "/v1/health", NULL);
	fake_env(&f, "HTTP_ORIGIN=" ALLOWED_ORIGIN);
	serve(&f, &a);

	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(header(&a, "Access-Control-Allow-Origin"),
	    ALLOWED_ORIGIN);
	ck_assert_str_eq(header(&a, "Access-Control-Allow-Credentials"),
	    "true");
	ck_assert_ptr_nonnull(strstr(header(&a,
	    "Access-Control-Expose-Headers"), "X-Request-Id"));
	ck_assert_str_eq(header(&a, "Vary"), "Origin");
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(request_from_other_origin_gets_no_allow_origin)
{
	static const char *const origins[] = {
		"https://evil.example", "https://site.example.evil",
		"http://site.example", "null",
	};
	struct fake	 f;
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		fake_request(&f, "GET", "/v1/health", NULL);
		fake_env(&f, "HTTP_ORIGIN=%s", origins[i]);
		serve(&f, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_msg(header(&a, "Access-Control-Allow-Origin") ==
		    NULL, "%s allowed", origins[i]);
		ck_assert_ptr_null(header(&a,
		    "Access-Control-Allow-Credentials"));
		ck_assert_str_eq(header(&a, "Vary"), "Origin");
		answer_free(&a);
		fake_free(&f);
	}
}
END_TEST

START_TEST(security_headers_are_on_every_response)
{
	static const struct {
		const char	*method;
		const char	*uri;
	} reqs[] = {
		{ "GET", "/v1/health" },
		{ "HEAD", "/v1/health" },
		{ "GET", "/v1/nope" },
		{ "POST", "/v1/health" },
		{ "OPTIONS", "/v1/health" },
		{ "GET", "/v1/%FF" },
		{ "GET", "/v1/debug/sleep?ms=x" },
	};
	struct fake	 f;
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fake_request(&f, reqs[i].method, reqs[i].uri, NULL);
		serve(&f, &a);
		ck_assert_str_eq(header(&a, "X-Content-Type-Options"),
		    "nosniff");
		ck_assert_str_eq(header(&a, "Content-Security-Policy"),
		    "default-src 'none'; frame-ancestors 'none'");
		ck_assert_str_eq(header(&a, "Referrer-Policy"), "no-referrer");
		ck_assert_str_eq(header(&a, "X-Frame-Options"), "DENY");
		/* Health and errors are never kept by any cache. */
		ck_assert_ptr_nonnull(strstr(header(&a, "Cache-Control"),
		    "no-store"));
		ck_assert_ptr_nonnull(header(&a, "X-Request-Id"));
		answer_free(&a);
		fake_free(&f);
	}
}
END_TEST

START_TEST(valid_request_id_is_echoed)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;

	fake_request(&f, "GET", "/v1/nope", NULL);
	fake_env(&f, "HTTP_X_REQUEST_ID=trace-abc.123");
	serve(&f, &a);

	ck_assert_str_eq(header(&a, "X-Request-Id"), "trace-abc.123");
	doc = problem(&a, 404, "not-found");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "instance")),
	    "trace-abc.123");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(invalid_request_id_is_replaced)
{
	struct fake	 f;
	struct answer	 a;
	const char	*id;

	fake_request(&f, "GET", "/v1/health", NULL);
	fake_env(&f, "HTTP_X_REQUEST_ID=a b<script>");
	serve(&f, &a);

	id = header(&a, "X-Request-Id");
	ck_assert_uint_eq(strlen(id), 32);
	ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(debug_echo_returns_the_json_body)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc, *want;

	fake_request(&f, "POST", "/v1/debug/echo",
	    "{\"a\": [1, 2.5, null], \"b\": \"\xc3\xa9t\xc3\xa9\"}");
	fake_env(&f, "CONTENT_TYPE=application/json; charset=utf-8");
	serve(&f, &a);

	ck_assert_int_eq(a.status, 200);
	doc = json_body(&a, "application/json");
	want = json_pack("{s:{s:[i,f,n], s:s}}", "body", "a", 1, 2.5, "b",
	    "\xc3\xa9t\xc3\xa9");
	ck_assert_msg(json_equal(doc, want), "got %s", a.body);
	json_decref(want);
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(debug_sleep_reads_its_query)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;

	fake_request(&f, "GET", "/v1/debug/sleep?ms=0", NULL);
	serve(&f, &a);
	ck_assert_int_eq(a.status, 200);
	doc = json_body(&a, "application/json");
	ck_assert_int_eq(json_integer_value(json_object_get(doc,
	    "slept_ms")), 0);
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);

	fake_request(&f, "GET", "/v1/debug/sleep?ms=soon", NULL);
	serve(&f, &a);
	doc = problem(&a, 400, "bad-request");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(debug_routes_are_absent_unless_enabled)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;

	unload_app();
	load_app("[debug]\nroutes = no\n");
	fake_request(&f, "POST", "/v1/debug/echo", "{}");
	fake_env(&f, "CONTENT_TYPE=application/json");
	serve(&f, &a);

	doc = problem(&a, 404, "not-found");
	ck_assert_int_eq(f.reads, 0);
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(declared_body_over_limit_answers_413_unread)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	char		*big;

	big = xmalloc(2001);
	memset(big, ' ', 2000);
	big[2000] = '\0';
	big[0] = '[';
	big[1998] = ']';
	fake_request(&f, "POST", "/v1/debug/echo", big);
	fake_env(&f, "CONTENT_TYPE=application/json");
	serve(&f, &a);

	doc = problem(&a, 413, "too-large");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc,
	    "detail")), "1024"));
	ck_assert_int_eq(f.reads, 0);
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
	free(big);
}
END_TEST

START_TEST(undeclared_body_over_limit_answers_413)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	char		*big;
	size_t		 i;

	big = xmalloc(2001);
	memset(big, ' ', 2000);
	big[2000] = '\0';
	big[0] = '[';
	big[1998] = ']';
	fake_request(&f, "POST", "/v1/debug/echo", NULL);
	f.in = big;
	f.inlen = strlen(big);
	fake_env(&f, "CONTENT_TYPE=application/json");
	for (i = 0; i < f.nenv; i++)
		ck_assert(strncmp(f.env[i], "CONTENT_LENGTH=", 15) != 0);
	serve(&f, &a);

	doc = problem(&a, 413, "too-large");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
	free(big);
}
END_TEST

START_TEST(body_at_limit_is_accepted)
{
	struct fake	 f;
	struct answer	 a;
	char		*body;

	/* ["xxx...x"] of exactly 1024 bytes. */
	body = xmalloc(1025);
	memset(body, 'x', 1024);
	memcpy(body, "[\"", 2);
	memcpy(body + 1022, "\"]", 3);
	fake_request(&f, "POST", "/v1/debug/echo", body);
	fake_env(&f, "CONTENT_TYPE=application/json");
	serve(&f, &a);

	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	fake_free(&f);
	free(body);
}
END_TEST

START_TEST(bad_json_answers_400)
{
	static const char *const bad[] = {
		"{\"a\":", "{\"a\": 1, \"a\": 2}", "\"\xff\"", "",
	};
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake_request(&f, "POST", "/v1/debug/echo", bad[i]);
		fake_env(&f, "CONTENT_TYPE=application/json");
		serve(&f, &a);
		doc = problem(&a, 400, "bad-request");
		json_decref(doc);
		answer_free(&a);
		fake_free(&f);
	}
}
END_TEST

START_TEST(json_nested_too_deep_answers_400)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	char		 body[2 * 33 + 1];

	/* The default json_depth is 32. */
	memset(body, '[', 33);
	memset(body + 33, ']', 33);
	body[66] = '\0';
	fake_request(&f, "POST", "/v1/debug/echo", body);
	fake_env(&f, "CONTENT_TYPE=application/json");
	serve(&f, &a);

	doc = problem(&a, 400, "bad-request");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc,
	    "detail")), "deeper than 32"));
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(wrong_content_type_answers_415)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;

	fake_request(&f, "POST", "/v1/debug/echo", "{}");
	fake_env(&f, "CONTENT_TYPE=text/plain");
	serve(&f, &a);
	doc = problem(&a, 415, "unsupported-media-type");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);

	fake_request(&f, "POST", "/v1/debug/echo", "{}");
	serve(&f, &a);
	doc = problem(&a, 415, "unsupported-media-type");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(overlong_uri_answers_414)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	char		*uri;

	uri = xmalloc(APP_URI_MAX + 2);
	memset(uri, 'a', APP_URI_MAX + 1);
	uri[0] = '/';
	uri[APP_URI_MAX + 1] = '\0';
	fake_request(&f, "GET", uri, NULL);
	serve(&f, &a);

	doc = problem(&a, 414, "uri-too-long");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
	free(uri);
}
END_TEST

START_TEST(malformed_request_line_answers_400)
{
	static const char *const uris[] = {
		"/v1/health%FF", "/v1/health?q=%C0%AF", "/v1/a%00b",
	};
	struct fake	 f;
	struct answer	 a;
	json_t		*doc;
	size_t		 i;

	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		fake_request(&f, "GET", uris[i], NULL);
		serve(&f, &a);
		doc = problem(&a, 400, "bad-request");
		json_decref(doc);
		answer_free(&a);
		fake_free(&f);
	}

	fake_request(&f, "GET", "/v1/health", NULL);
	fake_env(&f, "CONTENT_LENGTH=ten");
	serve(&f, &a);
	doc = problem(&a, 400, "bad-request");
	json_decref(doc);
	answer_free(&a);
	fake_free(&f);
}
END_TEST

START_TEST(access_log_has_one_json_line_per_request)
{
	static const struct {
		const char	*method;
		const char	*uri;
		int		 status;
	} reqs[] = {
		{ "GET", "/v1/health", 200 },
		{ "GET", "/v1/nope", 404 },
		{ "HEAD", "/v1/health", 200 },
		{ "POST", "/v1/health", 405 },
	};
	struct fake	 f;
	struct answer	 a;
	json_t		*lines[16];
	char		*ids[sizeof(reqs) / sizeof(reqs[0])];
	size_t		 i, n;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fake_request(&f, reqs[i].method, reqs[i].uri, NULL);
		serve(&f, &a);
		ids[i] = xstrdup(header(&a, "X-Request-Id"));
		answer_free(&a);
		fake_free(&f);
	}

	n = log_lines(lines, 16);
	ck_assert_uint_eq(n, sizeof(reqs) / sizeof(reqs[0]));
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(json_string_value(json_object_get(lines[i],
		    "request_id")), ids[i]);
		ck_assert_str_eq(json_string_value(json_object_get(lines[i],
		    "msg")), "request");
		ck_assert_str_eq(json_string_value(json_object_get(lines[i],
		    "level")), "info");
		ck_assert_str_eq(json_string_value(json_object_get(lines[i],
		    "method")), reqs[i].method);
		ck_assert_str_eq(json_string_value(json_object_get(lines[i],
		    "path")), reqs[i].uri);
		ck_assert_int_eq(json_integer_value(json_object_get(lines[i],
		    "status")), reqs[i].status);
		ck_assert(json_is_integer(json_object_get(lines[i],
		    "duration_us")));
		ck_assert_int_ge(json_integer_value(json_object_get(lines[i],
		    "duration_us")), 0);
		ck_assert_str_eq(json_string_value(json_object_get(lines[i],
		    "client")), "192.0.2.1");
		json_decref(lines[i]);
		free(ids[i]);
	}
}
END_TEST

START_TEST(access_log_names_the_matched_route)
{
	struct fake	 f;
	struct answer	 a;
	json_t		*lines[4];

	fake_request(&f, "GET", "/v1/debug/sleep?ms=0", NULL);
	serve(&f, &a);
	answer_free(&a);
	fake_free(&f);

	ck_assert_uint_eq(log_lines(lines, 4), 1);
	ck_assert_str_eq(json_string_value(json_object_get(lines[0],
	    "route")), "/v1/debug/sleep");
	ck_assert_str_eq(json_string_value(json_object_get(lines[0],
	    "path")), "/v1/debug/sleep");
	json_decref(lines[0]);
}
END_TEST

START_TEST(client_gone_before_response_is_logged)
{
	struct fake	 f;
	json_t		*lines[4];

	fake_request(&f, "GET", "/v1/health", NULL);
	fake_env(&f, "HTTP_X_REQUEST_ID=gone-1");
	f.fail_write = 1;
	app_handle(app, &f.io);
	fake_free(&f);

	ck_assert_uint_eq(log_lines(lines, 4), 2);
	ck_assert_str_eq(json_string_value(json_object_get(lines[0],
	    "request_id")), "gone-1");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
	    lines[0], "msg")), "client went away"));
	ck_assert_str_eq(json_string_value(json_object_get(lines[1],
	    "msg")), "request");
	json_decref(lines[0]);
	json_decref(lines[1]);
}
END_TEST

START_TEST(if_none_match_compares_entity_tags_weakly)
{
	static const struct {
		const char	*list;
		const char	*etag;
		int		 match;
	} cases[] = {
		{ "\"abc\"", "\"abc\"", 1 },
		{ "\"abd\"", "\"abc\"", 0 },
		{ "*", "\"abc\"", 1 },
		{ " * ", "\"abc\"", 1 },
		{ "W/\"abc\"", "\"abc\"", 1 },
		{ "\"abc\"", "W/\"abc\"", 1 },
		{ "\"x\", W/\"y\",\"abc\"", "\"abc\"", 1 },
		{ "\"x\" ,\t\"abc\"", "\"abc\"", 1 },
		{ "\"ab\"", "\"abc\"", 0 },
		{ "\"abcd\"", "\"abc\"", 0 },
		{ "abc", "\"abc\"", 0 },
		{ "\"abc", "\"abc\"", 0 },
		{ "garbage, \"abc\"", "\"abc\"", 1 },
		{ "\"a,b\", \"abc\"", "\"abc\"", 1 },
		{ "\"a,b\"", "\"a,b\"", 1 },
		{ "*x", "\"abc\"", 0 },
		{ "", "\"abc\"", 0 },
		{ ",,", "\"abc\"", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(app_etag_match(cases[i].list, cases[i].etag) ==
		    cases[i].match, "If-None-Match: %s against %s",
		    cases[i].list, cases[i].etag);
}
END_TEST

START_TEST(get_answer_has_body_hash_etag_and_304_when_named)
{
	struct fake	 f;
	struct answer	 a, b;
	char		*etag;

	fake_request(&f, "GET", "/v1/health", NULL);
	serve(&f, &a);
	fake_free(&f);
	etag = xstrdup(header(&a, "ETag"));
	/* A quoted 32-digit hex string: 128 bits of the body's SHA-256. */
	ck_assert_uint_eq(strlen(etag), 34);
	ck_assert_int_eq(etag[0], '"');
	ck_assert_int_eq(etag[33], '"');
	ck_assert_uint_eq(strspn(etag + 1, "0123456789abcdef"), 32);

	fake_request(&f, "GET", "/v1/health", NULL);
	fake_env(&f, "HTTP_IF_NONE_MATCH=\"other\", W/%s", etag);
	serve(&f, &b);
	ck_assert_int_eq(b.status, 304);
	ck_assert_int_eq(strncmp(b.head, "Status: 304 Not Modified\r\n",
	    26), 0);
	ck_assert_uint_eq(b.body_len, 0);
	ck_assert_ptr_null(header(&b, "Content-Length"));
	ck_assert_str_eq(header(&b, "ETag"), etag);
	ck_assert_str_eq(header(&b, "Cache-Control"),
	    header(&a, "Cache-Control"));
	answer_free(&b);
	fake_free(&f);

	fake_request(&f, "GET", "/v1/health", NULL);
	fake_env(&f, "HTTP_IF_NONE_MATCH=\"other\"");
	serve(&f, &b);
	ck_assert_int_eq(b.status, 200);
	ck_assert_str_eq(b.body, a.body);
	answer_free(&b);
	fake_free(&f);
	answer_free(&a);
	free(etag);
}
END_TEST

START_TEST(error_answer_has_no_etag_and_ignores_if_none_match)
{
	struct fake	 f;
	struct answer	 a;

	fake_request(&f, "GET", "/v1/nope", NULL);
	fake_env(&f, "HTTP_IF_NONE_MATCH=*");
	serve(&f, &a);
	ck_assert_int_eq(a.status, 404);
	ck_assert_ptr_null(header(&a, "ETag"));
	ck_assert_str_eq(header(&a, "Cache-Control"), "no-store");
	answer_free(&a);
	fake_free(&f);
}
END_TEST

static Suite *
app_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("app");

	tc = tcase_create("routing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, health_answers_200_with_status_and_version);
	tcase_add_test(tc, unknown_path_answers_404_problem);
	tcase_add_test(tc, post_to_get_only_route_answers_405_with_allow);
	tcase_add_test(tc, head_answers_headers_without_body);
	tcase_add_test(tc, head_of_unknown_path_answers_404_without_body);
	tcase_add_test(tc, debug_sleep_reads_its_query);
	tcase_add_test(tc, debug_routes_are_absent_unless_enabled);
	tcase_add_test(tc, overlong_uri_answers_414);
	tcase_add_test(tc, malformed_request_line_answers_400);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, options_preflight_from_allowed_origin_is_answered);
	tcase_add_test(tc,
	    options_preflight_from_other_origin_gets_no_cors_headers);
	tcase_add_test(tc, options_without_preflight_lists_allowed_methods);
	tcase_add_test(tc, request_from_allowed_origin_gets_cors_headers);
	tcase_add_test(tc, request_from_other_origin_gets_no_allow_origin);
	tcase_add_test(tc, security_headers_are_on_every_response);
	tcase_add_test(tc, valid_request_id_is_echoed);
	tcase_add_test(tc, invalid_request_id_is_replaced);
	suite_add_tcase(s, tc);

	tc = tcase_create("caching");
	tcase_add_test(tc, if_none_match_compares_entity_tags_weakly);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_answer_has_body_hash_etag_and_304_when_named);
	tcase_add_test(tc, error_answer_has_no_etag_and_ignores_if_none_match);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, debug_echo_returns_the_json_body);
	tcase_add_test(tc, declared_body_over_limit_answers_413_unread);
	tcase_add_test(tc, undeclared_body_over_limit_answers_413);
	tcase_add_test(tc, body_at_limit_is_accepted);
	tcase_add_test(tc, bad_json_answers_400);
	tcase_add_test(tc, json_nested_too_deep_answers_400);
	tcase_add_test(tc, wrong_content_type_answers_415);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, access_log_has_one_json_line_per_request);
	tcase_add_test(tc, access_log_names_the_matched_route);
	tcase_add_test(tc, client_gone_before_response_is_logged);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (run_dir_create() == -1)
		return EXIT_FAILURE;
	sr = srunner_create(app_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	run_dir_remove();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
