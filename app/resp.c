#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "util.h"

void
resp_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	buf_init(&r->body);
	buf_init(&r->tags);
}

void
resp_free(struct resp *r)
{
	kv_free(&r->headers);
	buf_free(&r->body);
	buf_free(&r->tags);
}

/* Forgets what a failed handler started, keeping nothing. */
void
resp_reset(struct resp *r)
{
	resp_free(r);
	resp_init(r);
}

/*
 * Sets a header, replacing an earlier value of the same name.  Line
 * breaks in a value become spaces: a value that came from a request
 * must never start a header of its own.
 */
void
resp_header(struct resp *r, const char *name, const char *val)
{
	char	*v, *p;
	size_t	 i;

	v = xstrdup(val);
	for (p = v; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	for (i = 0; i < r->headers.n; i++)
		if (str_case_eq(r->headers.v[i].key, name)) {
			free(r->headers.v[i].val);
			r->headers.v[i].val = v;
			return;
		}
	kv_add(&r->headers, name, v);
	free(v);
}

const char *
resp_get_header(const struct resp *r, const char *name)
{
	return kv_get_case(&r->headers, name);
}

/*
 * Names a resource the answer shows ("post:12", "posts"), so that a CDN
 * can later purge every cached answer that showed it.  A tag given
 * twice is kept once; one with a space, a comma or a control character
 * could not be told apart in the headers and is ignored.
 */
void
resp_tag(struct resp *r, const char *tag)
{
	const char	*p, *at;
	size_t		 n = strlen(tag);

	if (n == 0)
		return;
	for (p = tag; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == ',' || *p == 0x7f)
			return;
	for (at = r->tags.len > 0 ? r->tags.data : NULL; at != NULL;
	    at = strchr(at, ' ')) {
		if (*at == ' ')
			at++;
		if (strncmp(at, tag, n) == 0 && (at[n] == ' ' ||
		    at[n] == '\0'))
			return;
	}
	if (r->tags.len > 0)
		buf_addc(&r->tags, ' ');
	buf_adds(&r->tags, tag);
}

/* Sends a JSON document; takes over the reference to doc. */
void
resp_json(struct resp *r, int status, json_t *doc)
{
	char	*s;

	r->status = status;
	buf_reset(&r->body);
	s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL) {
		buf_adds(&r->body, s);
		free(s);
	}
	json_decref(doc);
	resp_header(r, "Content-Type", "application/json");
}

/*
 * An RFC 9457 problem document, for a caller that adds members of its
 * own before sending it with resp_problem_send.  type is a stable slug;
 * the "type" member is the relative URI /v1/problems/<slug>, the same on
 * every deployment, so clients can compare it.  instance is the request
 * id, which also names the request's log lines.
 */
json_t *
resp_problem_doc(const struct req *q, int status, const char *type,
    const char *title, const char *detail)
{
	char	 uri[128];
	json_t	*doc;

	snprintf(uri, sizeof(uri), "/v1/problems/%s", type);
	doc = json_object();
	json_object_set_new(doc, "type", json_string(uri));
	json_object_set_new(doc, "title", json_string(title));
	json_object_set_new(doc, "status", json_integer(status));
	json_object_set_new(doc, "detail", log_string(detail));
	if (q != NULL)
		json_object_set_new(doc, "instance", json_string(q->id));
	return doc;
}

/* Sends a problem document; takes over the reference to doc. */
void
resp_problem_send(struct resp *r, json_t *doc)
{
	int	 status;

	status = (int)json_integer_value(json_object_get(doc, "status"));
	resp_json(r, status, doc);
	resp_header(r, "Content-Type", "application/problem+json");
	r->is_problem = 1;
}

void
resp_problem(struct resp *r, const struct req *q, int status,
    const char *type, const char *title, const char *fmt, ...)
{
	char	 detail[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	resp_problem_send(r, resp_problem_doc(q, status, type, title,
	    detail));
}

/* A problem for a jamb status, with the standard title. */
void
resp_status_problem(struct resp *r, const struct req *q,
    enum jamb_status st, const char *detail)
{
	int	 status = status_http(st);

	resp_problem(r, q, status, status_problem_type(st),
	    http_reason(status), "%s", detail);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/*
 * Writes the CGI-style head (the FastCGI and CGI answers are the same)
 * and, unless head_only, the body.  Content-Length is the body's in
 * both cases, as HEAD requires.
 */
enum jamb_status
resp_send(const struct resp *r, struct io *io, int head_only)
{
	struct buf	 h;
	size_t		 i;
	int		 rc;

	buf_init(&h);
	/* CGI's default is 200; some web servers pass Status on verbatim. */
	if (r->status != 200)
		buf_printf(&h, "Status: %d %s\r\n", r->status,
		    http_reason(r->status));
	for (i = 0; i < r->headers.n; i++)
		buf_printf(&h, "%s: %s\r\n", r->headers.v[i].key,
		    r->headers.v[i].val);
	if (r->status != 204 && r->status != 304)
		buf_printf(&h, "Content-Length: %zu\r\n", r->body.len);
	buf_adds(&h, "\r\n");
	rc = io->write(io->ctx, h.data, h.len);
	buf_free(&h);
	if (rc == 0 && !head_only && r->body.len > 0 &&
	    r->status != 204 && r->status != 304)
		rc = io->write(io->ctx, r->body.data, r->body.len);
	return rc == 0 ? JAMB_OK : JAMB_EIO;
}
