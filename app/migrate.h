#ifndef JAMB_MIGRATE_H
#define JAMB_MIGRATE_H

#include <stddef.h>

#include "conf.h"
#include "status.h"

/*
 * Schema migrations: the numbered files of [db] migrations, applied in
 * order and recorded in schema_migrations with their SHA-256.
 */

/* jamb migrate status | up [--dry-run]; returns the exit status. */
int		 migrate_main(const struct conf *, int, char **);

/*
 * How many migrations are not applied yet, for jamb serve.  Fails with
 * a message in err when the database cannot be read or an applied file
 * was changed since.
 */
enum jamb_status migrate_pending(const struct conf *, int *, char *,
		    size_t);

#endif
