#ifndef JAMB_APP_H
#define JAMB_APP_H

#include "conf.h"
#include "http.h"

/* Longest path plus query string accepted, in bytes. */
#define APP_URI_MAX	8192

struct router;
struct db_conn;
struct cache;
struct token_keys;
struct idp;
struct respcache;

/*
 * A worker's state: its configuration, routes and backend handles.
 * Nothing here is shared with another worker.
 */
struct app {
	const struct conf	*conf;
	struct router		*router;
	struct db_conn		*db;
	struct cache		*cache;
	struct token_keys	*tokens;	/* NULL: none could be loaded */
	struct idp		*idp;		/* external identity providers */
	struct respcache	*respcache;	/* response cache state */
};

struct app	*app_new(const struct conf *);
void		 app_free(struct app *);
void		 app_handle(struct app *, struct io *);
int		 app_etag_match(const char *, const char *);

#endif
