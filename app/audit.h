#ifndef JAMB_AUDIT_H
#define JAMB_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"
#include "status.h"

struct req;

/*
 * One row of audit_log: who (the caller of req, a signed-in user or an
 * API key; NULL req means the command line, noted in details as
 * "source": "cli"), the action, the object and details (taken over; may
 * be NULL).  Call it in the transaction of the change it records.
 */
enum jamb_status audit_write(struct db_conn *, const struct req *,
		    const char *, const char *, int64_t, json_t *);

#endif
