#ifndef JAMB_HTTP_H
#define JAMB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth.h"
#include "clientip.h"
#include "status.h"
#include "util.h"

struct app;
struct route;

/*
 * Where a request comes from and its response goes: a FastCGI request
 * or the CGI process's stdin/stdout.  read returns the bytes read, 0 at
 * the end, -1 on error; write returns 0 or -1.
 */
struct io {
	char	**envp;
	int	 (*read)(void *, char *, size_t);
	int	 (*write)(void *, const char *, size_t);
	void	 *ctx;
};

#define REQ_ID_MAX	64

/* What a handler sees of a request. */
struct req {
	struct app		*app;
	const struct route	*route;
	const char		*method;
	char			*path;		/* decoded, without the query */
	char			*raw_path;	/* as sent */
	const char		*raw_query;
	struct kvlist		 query;		/* decoded, repeats kept */
	struct kvlist		 params;	/* from the route pattern */
	struct kvlist		 headers;	/* names in lower case */
	const char		*client_addr;	/* see clientip.c */
	char			 client_buf[CLIENTIP_MAX];
	char			 id[REQ_ID_MAX + 1];
	int64_t			 content_length;	/* -1: not given */
	char			*body;
	size_t			 body_len;
	json_t			*json;
	struct principal	 who;		/* set by auth_request */
	int64_t			 start_us;
	struct io		*io;
};

/* What a handler builds. */
struct resp {
	int		 status;
	struct kvlist	 headers;
	struct buf	 body;
	int		 is_problem;
	struct buf	 tags;		/* resources named, space-separated */
};

enum jamb_status req_init(struct req *, struct app *, struct io *);
void		 req_free(struct req *);
const char	*req_header(const struct req *, const char *);
const char	*req_query(const struct req *, const char *);
const char	*req_param(const struct req *, const char *);
enum jamb_status req_read_body(struct req *, size_t, char *, size_t);
enum jamb_status req_parse_json(struct req *, int, char *, size_t);
int		 req_id_valid(const char *);
char		*url_decode(const char *, size_t, int, size_t *);
int		 query_parse(struct kvlist *, const char *);

void		 resp_init(struct resp *);
void		 resp_free(struct resp *);
void		 resp_reset(struct resp *);
void		 resp_header(struct resp *, const char *, const char *);
const char	*resp_get_header(const struct resp *, const char *);
void		 resp_tag(struct resp *, const char *);
void		 resp_json(struct resp *, int, json_t *);
void		 resp_problem(struct resp *, const struct req *, int,
		    const char *, const char *, const char *, ...)
		    __attribute__((format(printf, 6, 7)));
json_t		*resp_problem_doc(const struct req *, int, const char *,
		    const char *, const char *);
void		 resp_problem_send(struct resp *, json_t *);
void		 resp_status_problem(struct resp *, const struct req *,
		    enum jamb_status, const char *);
enum jamb_status resp_send(const struct resp *, struct io *, int);
const char	*http_reason(int);

#endif
