#include "config.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "outbox.h"
#include "publish.h"
#include "respcache.h"
#include "util.h"

/* Expired credentials are kept a day, then removed in batches. */
#define PRUNE_EVERY_US		(10 * 60 * 1000000LL)
#define PRUNE_BATCH		1000
#define PRUNE_BATCHES		100

static volatile sig_atomic_t	stopping;

static void
on_stop(int sig)
{
	stopping = 1;
}

/*
 * Removes sign-in links and refresh tokens that expired more than a day
 * ago: they can never be used again, and the tables would otherwise
 * grow with every sign-in.  Small batches keep each statement's locks
 * short; a large backlog is finished over later rounds.
 */
static enum jamb_status
prune(struct db_conn *db)
{
	static const char *const sql[] = {
		"DELETE FROM magic_links WHERE expires_at < NOW(6) - "
		    "INTERVAL 1 DAY LIMIT ?",
		"DELETE FROM refresh_tokens WHERE expires_at < NOW(6) - "
		    "INTERVAL 1 DAY LIMIT ?",
	};
	enum jamb_status st;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		for (n = 0; n < PRUNE_BATCHES; n++) {
			st = db_exec(db, sql[i], "i", (int64_t)PRUNE_BATCH);
			if (st != JAMB_OK)
				return st;
			if (db_affected(db) < PRUNE_BATCH)
				break;
		}
	return JAMB_OK;
}

/*
 * The background process of the pool: every interval, delivers what the
 * outbox holds and publishes the scheduled posts that are due (the
 * first round at start-up catches up on those missed while nothing
 * ran); every ten minutes, prunes expired links and tokens.  SIGTERM ends it after the item in hand.  Returns the exit
 * status.
 */
int
jobs_run(const struct conf *c)
{
	struct sigaction	 sa;
	struct timespec		 ts;
	struct db_conn		*db;
	struct cache		*cache;
	char			 err[256];
	sigset_t		 none;
	int			 handled, published, quiet = 0;
	int			 publish_quiet = 0;
	int64_t			 pruned_at = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	db = db_new(c);
	/* To retire the cached answers that newly published posts change. */
	if ((cache = cache_new(c, err, sizeof(err))) == NULL)
		log_error(NULL, "%s", err);
	log_info(NULL, "background jobs started");
	while (!stopping) {
		if (outbox_run(db, c, &handled) != JAMB_OK) {
			/* Say it once per outage, not every interval. */
			if (!quiet)
				log_warn(NULL, "outbox: %s", db_error(db));
			quiet = 1;
		} else
			quiet = 0;
		if (publish_due(db, &published) != JAMB_OK) {
			if (!publish_quiet)
				log_warn(NULL, "scheduled publishing: %s",
				    db_error(db));
			publish_quiet = 1;
		} else
			publish_quiet = 0;
		if (published > 0)
			respcache_bump(cache, RESPCACHE_NS_POSTS);
		if (pruned_at == 0 || clock_us() - pruned_at >= PRUNE_EVERY_US) {
			pruned_at = clock_us();
			if (prune(db) != JAMB_OK)
				log_warn(NULL, "pruning expired links and "
				    "tokens: %s", db_error(db));
		}
		ts.tv_sec = c->jobs_interval_ms / 1000;
		ts.tv_nsec = (c->jobs_interval_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	db_free(db);
	cache_free(cache);
	log_info(NULL, "background jobs stopped");
	return 0;
}
