#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "publish.h"

/* Posts published per transaction; the next round takes the rest. */
#define PUBLISH_BATCH	50

struct publish_batch {
	int64_t	 ids[PUBLISH_BATCH];
	int	 n;
};

/*
 * Claims the due posts, skipping those another host holds locked, and
 * publishes them at their scheduled time, not at the time of this
 * round: a post whose time passed while nothing ran still shows the
 * time its editor chose.  The audit row has no actor; its details say
 * the scheduler did it.
 */
static enum jamb_status
publish_tx(struct db_conn *db, void *arg)
{
	struct publish_batch	*b = arg;
	struct db_rows		*rows;
	enum jamb_status	 st;
	int			 i;

	b->n = 0;
	st = db_query(db, &rows, "SELECT id FROM posts WHERE status = "
	    "'scheduled' AND scheduled_at <= NOW(6) AND deleted_at IS NULL "
	    "ORDER BY scheduled_at LIMIT ? FOR UPDATE SKIP LOCKED", "i",
	    (int64_t)PUBLISH_BATCH);
	if (st != JAMB_OK)
		return st;
	while (db_next(rows) && b->n < PUBLISH_BATCH)
		b->ids[b->n++] = db_int(rows, 0);
	db_rows_free(rows);

	for (i = 0; i < b->n; i++) {
		st = db_exec(db, "UPDATE posts SET status = 'published', "
		    "published_at = scheduled_at, version = version + 1 "
		    "WHERE id = ? AND status = 'scheduled'", "i", b->ids[i]);
		if (st != JAMB_OK)
			return st;
		st = db_exec(db, "INSERT INTO audit_log (action, object_type, "
		    "object_id, details) VALUES ('post.publish', 'post', ?, "
		    "'{\"from\":\"scheduled\",\"to\":\"published\","
		    "\"by\":\"scheduler\"}')", "i", b->ids[i]);
		if (st != JAMB_OK)
			return st;
	}
	return JAMB_OK;
}

/*
 * Batch after batch until one comes back short, so that a backlog (after
 * an outage) is published in one round.  Logs only after each commit: a
 * rolled-back batch published nothing.
 */
enum jamb_status
publish_due(struct db_conn *db, int *count)
{
	struct publish_batch	 b;
	enum jamb_status	 st;
	int			 i;

	*count = 0;
	do {
		memset(&b, 0, sizeof(b));
		if ((st = db_tx(db, publish_tx, &b)) != JAMB_OK)
			return st;
		for (i = 0; i < b.n; i++)
			log_info(NULL, "scheduled post %lld published",
			    (long long)b.ids[i]);
		*count += b.n;
	} while (b.n == PUBLISH_BATCH);
	return JAMB_OK;
}
