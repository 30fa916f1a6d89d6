#ifndef JAMB_OUTBOX_H
#define JAMB_OUTBOX_H

#include <stddef.h>

#include "conf.h"
#include "db.h"
#include "status.h"

/*
 * Work that must happen after a change is committed (emails, and later
 * outgoing webhooks): a row written in the same transaction as the
 * change, delivered by the background process with retries.  Nothing is
 * lost when the mail server is down, and nothing is sent for a change
 * that was rolled back.
 */
enum jamb_status outbox_email(struct db_conn *, const char *, const char *,
		    const char *);
enum jamb_status outbox_run(struct db_conn *, const struct conf *, int *);

#endif
