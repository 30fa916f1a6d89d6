#ifndef JAMB_PUBLISH_H
#define JAMB_PUBLISH_H

#include "db.h"
#include "status.h"

/*
 * Scheduled publishing: publish_due publishes the posts whose
 * scheduled_at has come, sets *count to how many, and logs one line per
 * post.  Every host's background process may call it at once: a post is
 * published by exactly one of them.
 */
enum jamb_status publish_due(struct db_conn *, int *);

#endif
