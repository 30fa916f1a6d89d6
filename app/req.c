#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "clientip.h"
#include "http.h"
#include "util.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes n bytes of s into a new string; with plus set, '+'
 * means a space (form and query encoding).  A '%' not followed by two
 * hex digits is kept as it is.  The result may contain NUL bytes if
 * the input encoded them, so its length is stored in *outlen; callers
 * check it with utf8_valid, which refuses NUL.
 */
char *
url_decode(const char *s, size_t n, int plus, size_t *outlen)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	out = o = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+')
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

/*
 * Splits a query string into decoded pairs, keeping repeated keys in
 * order.  "a" alone is the key a with an empty value.  Pairs whose key
 * or value is not valid UTF-8 are kept out and make it return -1.
 */
int
query_parse(struct kvlist *l, const char *q)
{
	const char	*p = q, *amp, *eq;
	char		*k, *v;
	size_t		 klen, vlen;
	int		 bad = 0;

	while (*p != '\0') {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if (eq > p) {
			k = url_decode(p, (size_t)(eq - p), 1, &klen);
			if (eq < amp)
				v = url_decode(eq + 1,
				    (size_t)(amp - eq - 1), 1, &vlen);
			else {
				vlen = 0;
				v = xstrdup("");
			}
			if (utf8_valid(k, klen) && utf8_valid(v, vlen))
				kv_add(l, k, v);
			else
				bad = -1;
			free(k);
			free(v);
		}
		p = *amp == '&' ? amp + 1 : amp;
	}
	return bad;
}

/* A client's request id is used only if it is short and plain. */
int
req_id_valid(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return n > 0 && n <= REQ_ID_MAX;
}

static const char *
env_get(char **envp, const char *name)
{
	size_t	 n = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* HTTP_ACCEPT_LANGUAGE -> accept-language */
static void
env_headers(struct kvlist *h, char **envp)
{
	const char	*eq;
	char		 name[256];
	size_t		 i, n;

	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, "HTTP_", 5) != 0)
			continue;
		if ((eq = strchr(*envp, '=')) == NULL)
			continue;
		n = (size_t)(eq - *envp) - 5;
		if (n == 0 || n >= sizeof(name))
			continue;
		for (i = 0; i < n; i++) {
			char c = (*envp)[5 + i];

			name[i] = c == '_' ? '-' :
			    (char)tolower((unsigned char)c);
		}
		name[n] = '\0';
		kv_add(h, name, eq + 1);
	}
}

static void
req_assign_id(struct req *r)
{
	const char	*given;
	unsigned char	 raw[16];

	given = req_header(r, "x-request-id");
	if (given != NULL && req_id_valid(given)) {
		snprintf(r->id, sizeof(r->id), "%s", given);
		return;
	}
	random_bytes(raw, sizeof(raw));
	hex_encode(r->id, raw, sizeof(raw));
}

/*
 * Builds a request from the CGI/FastCGI environment.  The request id
 * is always set, even when this fails, so the error can be answered
 * and logged with it.  Fails with JAMB_EINVAL for a path or query that
 * does not decode to valid UTF-8, JAMB_ETOOBIG for an overlong URI.
 */
enum jamb_status
req_init(struct req *r, struct app *app, struct io *io)
{
	const char	*uri, *q, *s;
	size_t		 plen;
	char		*end;

	memset(r, 0, sizeof(*r));
	r->start_us = clock_us();
	r->app = app;
	r->io = io;
	r->content_length = -1;
	env_headers(&r->headers, io->envp);
	if ((s = env_get(io->envp, "CONTENT_TYPE")) != NULL && *s != '\0')
		kv_add(&r->headers, "content-type", s);
	req_assign_id(r);

	r->method = env_get(io->envp, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	if ((s = env_get(io->envp, "REMOTE_ADDR")) == NULL)
		s = "";
	/* Unit tests build requests without an application. */
	clientip_resolve(app != NULL ? app->conf->http_trusted_proxies : "",
	    s, req_header(r, "forwarded"), req_header(r, "x-forwarded-for"),
	    r->client_buf, sizeof(r->client_buf));
	r->client_addr = r->client_buf;

	if ((uri = env_get(io->envp, "REQUEST_URI")) != NULL && *uri == '/') {
		plen = strcspn(uri, "?");
		r->raw_path = xstrndup(uri, plen);
	} else {
		r->raw_path = xasprintf("%s%s",
		    (s = env_get(io->envp, "SCRIPT_NAME")) ? s : "",
		    (q = env_get(io->envp, "PATH_INFO")) ? q : "");
		if (*r->raw_path == '\0') {
			free(r->raw_path);
			r->raw_path = xstrdup("/");
		}
	}
	r->path = url_decode(r->raw_path, strlen(r->raw_path), 0, &plen);
	r->raw_query = env_get(io->envp, "QUERY_STRING");
	if (r->raw_query == NULL)
		r->raw_query = "";

	/* RFC 3875: digits only, no sign or blanks. */
	if ((s = env_get(io->envp, "CONTENT_LENGTH")) != NULL && *s != '\0') {
		if (strspn(s, "0123456789") != strlen(s))
			return JAMB_EINVAL;
		errno = 0;
		r->content_length = strtoll(s, &end, 10);
		if (errno != 0)
			return JAMB_EINVAL;
	}
	if (strlen(r->raw_path) + strlen(r->raw_query) > APP_URI_MAX)
		return JAMB_ETOOBIG;
	if (!utf8_valid(r->path, plen))
		return JAMB_EINVAL;
	if (query_parse(&r->query, r->raw_query) != 0)
		return JAMB_EINVAL;
	return JAMB_OK;
}

void
req_free(struct req *r)
{
	free(r->path);
	free(r->raw_path);
	free(r->body);
	kv_free(&r->query);
	kv_free(&r->params);
	kv_free(&r->headers);
	json_decref(r->json);
	principal_clear(&r->who);
	memset(r, 0, sizeof(*r));
}

/* A request header by lower-case name, or NULL. */
const char *
req_header(const struct req *r, const char *name)
{
	return kv_get(&r->headers, name);
}

/* The first value of a query parameter, or NULL. */
const char *
req_query(const struct req *r, const char *name)
{
	return kv_get(&r->query, name);
}

const char *
req_param(const struct req *r, const char *name)
{
	return kv_get(&r->params, name);
}

/*
 * Reads the body into r->body, refusing more than limit bytes with
 * JAMB_ETOOBIG.  A declared length over the limit is refused before
 * anything is read; an undeclared one stops at limit + 1.
 */
enum jamb_status
req_read_body(struct req *r, size_t limit, char *err, size_t errlen)
{
	struct buf	 b;
	char		 chunk[16384];
	size_t		 want;
	int		 n;

	if (r->content_length > (int64_t)limit) {
		snprintf(err, errlen, "request body of %lld bytes exceeds the "
		    "limit of %zu bytes", (long long)r->content_length, limit);
		return JAMB_ETOOBIG;
	}
	buf_init(&b);
	for (;;) {
		want = sizeof(chunk);
		if (r->content_length >= 0) {
			if (b.len >= (size_t)r->content_length)
				break;
			if ((size_t)r->content_length - b.len < want)
				want = (size_t)r->content_length - b.len;
		}
		if ((n = r->io->read(r->io->ctx, chunk, want)) < 0) {
			buf_free(&b);
			snprintf(err, errlen, "reading the request body "
			    "failed");
			return JAMB_EIO;
		}
		if (n == 0) {
			if (r->content_length >= 0 &&
			    b.len < (size_t)r->content_length) {
				snprintf(err, errlen, "the request body ended "
				    "after %zu of %lld bytes", b.len,
				    (long long)r->content_length);
				buf_free(&b);
				return JAMB_EIO;
			}
			break;
		}
		buf_add(&b, chunk, (size_t)n);
		if (b.len > limit) {
			buf_free(&b);
			snprintf(err, errlen, "request body exceeds the limit "
			    "of %zu bytes", limit);
			return JAMB_ETOOBIG;
		}
	}
	r->body = b.data;
	r->body_len = b.len;
	return JAMB_OK;
}

/*
 * jansson has no depth limit of its own, so nesting is measured first:
 * brackets outside strings, skipping escaped characters inside them.
 */
static size_t
json_depth(const char *s, size_t n)
{
	size_t	 depth = 0, max = 0, i;
	int	 in_str = 0;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++depth > max)
				max = depth;
		} else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
	}
	return max;
}

static int
is_json_type(const char *ct)
{
	size_t	 n;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, ";");
	while (n > 0 && isspace((unsigned char)ct[n - 1]))
		n--;
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	/* application/problem+json, application/merge-patch+json ... */
	return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	    strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/*
 * Parses the body read by req_read_body into r->json.  Fails with
 * JAMB_EMEDIA for a content type other than JSON and JAMB_EINVAL for
 * empty, invalid UTF-8, too deep or malformed JSON; err says which and
 * where, in words fit for the client.
 */
enum jamb_status
req_parse_json(struct req *r, int max_depth, char *err, size_t errlen)
{
	json_error_t	 jerr;

	if (!is_json_type(req_header(r, "content-type"))) {
		snprintf(err, errlen, "the request body must be "
		    "application/json");
		return JAMB_EMEDIA;
	}
	if (r->body_len == 0) {
		snprintf(err, errlen, "the request body is empty");
		return JAMB_EINVAL;
	}
	if (!utf8_valid(r->body, r->body_len)) {
		snprintf(err, errlen, "the request body is not valid UTF-8");
		return JAMB_EINVAL;
	}
	if (json_depth(r->body, r->body_len) > (size_t)max_depth) {
		snprintf(err, errlen, "JSON nested deeper than %d levels",
		    max_depth);
		return JAMB_EINVAL;
	}
	r->json = json_loadb(r->body, r->body_len,
	    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (r->json == NULL) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return JAMB_EINVAL;
	}
	return JAMB_OK;
}
