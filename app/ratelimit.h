#ifndef JAMB_RATELIMIT_H
#define JAMB_RATELIMIT_H

struct req;
struct resp;

/* What a class does when memcached cannot count: [ratelimit] *_fail. */
enum ratelimit_fail {
	RATELIMIT_FAIL_OPEN,
	RATELIMIT_FAIL_CLOSED,
	RATELIMIT_FAIL__MAX
};

enum ratelimit_class {
	RATELIMIT_READ,		/* GET and HEAD */
	RATELIMIT_API,		/* any other method */
	RATELIMIT_STRICT,	/* sign-in and emailed links */
	RATELIMIT__MAX
};

enum ratelimit_verdict {
	RATELIMIT_PASS,
	RATELIMIT_LIMITED,	/* over a limit: 429 */
	RATELIMIT_UNCOUNTED	/* memcached down and failing closed: 503 */
};

/*
 * The outcome of counting one request: the tighter of the address and
 * account limits, for the RateLimit-* headers.  limit is 0 when the
 * request is not limited at all.
 */
struct ratelimit {
	enum ratelimit_class	 class;
	long			 limit;
	long			 remaining;
	long			 reset;		/* seconds to the window's end */
};

enum ratelimit_verdict ratelimit_check(struct req *,
			    struct ratelimit *);
void		 ratelimit_headers(const struct ratelimit *, struct resp *);
void		 ratelimit_refuse(const struct req *, struct resp *,
		    enum ratelimit_verdict, const struct ratelimit *);

#endif
