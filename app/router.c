#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "util.h"

#define ROUTER_SEGS	32

/* A route with its pattern split into segments once, at start-up. */
struct compiled {
	const struct route	*route;
	char			*segs[ROUTER_SEGS];
	size_t			 nsegs;
};

struct router {
	struct compiled	*v;
	size_t		 n;
	size_t		 cap;
};

struct router *
router_new(void)
{
	return xcalloc(1, sizeof(struct router));
}

/*
 * Splits "/a/b/c" into its segments, pointing into a copy in *copy.
 * Returns the count, or -1 for a path that does not start with '/', has
 * an empty segment, or has too many.
 */
static int
split(const char *path, char **copy, char **segs)
{
	char	*p, *slash;
	int	 n = 0;

	*copy = NULL;
	if (*path != '/')
		return -1;
	if (strcmp(path, "/") == 0)
		return 0;
	*copy = p = xstrdup(path + 1);
	for (;;) {
		if (n == ROUTER_SEGS)
			return -1;
		segs[n++] = p;
		if ((slash = strchr(p, '/')) == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	for (int i = 0; i < n; i++)
		if (*segs[i] == '\0')
			return -1;
	return n;
}

/* Adds a table; entries with a flag in skip are left out. */
void
router_add(struct router *rt, const struct route *table, unsigned int skip)
{
	struct compiled	*c;
	char		*copy, *segs[ROUTER_SEGS];
	int		 n, i;

	for (; table->method != NULL; table++) {
		if (table->flags & skip)
			continue;
		if ((n = split(table->pattern, &copy, segs)) < 0)
			abort();	/* a malformed table is a bug */
		if (rt->n == rt->cap) {
			rt->cap = rt->cap ? rt->cap * 2 : 32;
			rt->v = xrealloc(rt->v, rt->cap * sizeof(*rt->v));
		}
		c = &rt->v[rt->n++];
		c->route = table;
		c->nsegs = (size_t)n;
		for (i = 0; i < n; i++)
			c->segs[i] = xstrdup(segs[i]);
		free(copy);
	}
}

void
router_free(struct router *rt)
{
	size_t	 i, j;

	if (rt == NULL)
		return;
	for (i = 0; i < rt->n; i++)
		for (j = 0; j < rt->v[i].nsegs; j++)
			free(rt->v[i].segs[j]);
	free(rt->v);
	free(rt);
}

static int
is_param(const char *seg)
{
	size_t	 n = strlen(seg);

	return n > 2 && seg[0] == '{' && seg[n - 1] == '}';
}

static int
seg_match(const struct compiled *c, char **segs, size_t n)
{
	size_t	 i;

	if (c->nsegs != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_param(c->segs[i]) && strcmp(c->segs[i], segs[i]) != 0)
			return 0;
	return 1;
}

/* Whether every segment decodes to valid UTF-8 without NUL bytes. */
static int
segs_valid(char **segs, int n)
{
	char	*v;
	size_t	 len;
	int	 i, ok = 1;

	for (i = 0; i < n && ok; i++) {
		if (strchr(segs[i], '%') == NULL)
			continue;
		v = url_decode(segs[i], strlen(segs[i]), 0, &len);
		ok = utf8_valid(v, len);
		free(v);
	}
	return ok;
}

static void
bind_params(const struct compiled *c, char **segs, struct kvlist *params)
{
	char	*v;
	size_t	 i, len;

	for (i = 0; i < c->nsegs; i++) {
		if (!is_param(c->segs[i]))
			continue;
		v = url_decode(segs[i], strlen(segs[i]), 0, &len);
		kv_addn(params, c->segs[i] + 1, strlen(c->segs[i]) - 2, v,
		    len);
		free(v);
	}
}

static void
allow_add(char *allow, size_t len, const char *method)
{
	size_t	 n = strlen(allow), m = strlen(method);
	char	*p;

	for (p = allow; (p = strstr(p, method)) != NULL; p += m)
		if ((p == allow || p[-1] == ' ') &&
		    (p[m] == '\0' || p[m] == ','))
			return;
	snprintf(allow + n, len - n, "%s%s", n ? ", " : "", method);
}

/*
 * Finds the route for method and raw path.  On ROUTE_FOUND, *out is the
 * route and params holds its decoded parameters.  On ROUTE_NO_METHOD,
 * allow lists the methods the path has (with HEAD and OPTIONS), for the
 * Allow header; it is filled on ROUTE_FOUND too.  HEAD finds GET routes.
 */
enum route_match
router_match(const struct router *rt, const char *method, const char *path,
    const struct route **out, struct kvlist *params, char *allow,
    size_t allowlen)
{
	const struct compiled	*found = NULL;
	char			*copy, *segs[ROUTER_SEGS];
	const char		*want;
	size_t			 i;
	int			 n, any = 0;

	*out = NULL;
	allow[0] = '\0';
	/* A path that cannot decode matches nothing, whatever the method. */
	if ((n = split(path, &copy, segs)) < 0 || !segs_valid(segs, n)) {
		free(copy);
		return ROUTE_NO_PATH;
	}
	want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	for (i = 0; i < rt->n; i++) {
		const struct compiled *c = &rt->v[i];

		if (!seg_match(c, segs, (size_t)n))
			continue;
		any = 1;
		allow_add(allow, allowlen, c->route->method);
		if (strcmp(c->route->method, "GET") == 0)
			allow_add(allow, allowlen, "HEAD");
		if (found == NULL && strcmp(c->route->method, want) == 0)
			found = c;
	}
	if (any)
		allow_add(allow, allowlen, "OPTIONS");
	if (found != NULL) {
		bind_params(found, segs, params);
		free(copy);
		*out = found->route;
		return ROUTE_FOUND;
	}
	free(copy);
	return any ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}
