#ifndef JAMB_DB_H
#define JAMB_DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "status.h"

/*
 * MySQL/MariaDB access for handlers.  A worker has one connection to the
 * primary, opened on first use and again after it is lost, and one to
 * each configured replica.  Every statement is prepared once per
 * connection and reused.
 *
 * Parameters are described by a string with one letter per '?':
 *
 *	i  int64_t		u  uint64_t		d  double
 *	s  const char * (NULL is SQL NULL)	n  SQL NULL, no argument
 *	b  const void *, size_t (bytes)		t  time_t, as a UTC DATETIME
 *
 * Results come back as C values (db_query, db_next, db_int, db_str) or
 * as JSON (db_query_json, db_query_one): integers, reals, strings, null,
 * TINYINT(1) as a boolean, DATETIME as RFC 3339 UTC text.
 *
 * Errors: JAMB_ENOTFOUND (no row, where one was asked for),
 * JAMB_ECONFLICT (a unique key), JAMB_EINVAL (a value the schema
 * refuses), JAMB_EUNAVAIL (the server is unreachable or busy: the HTTP
 * answer is 503 with Retry-After), JAMB_EINTERNAL (anything else).  The
 * server's message stays in the handle for the log (db_error); it is
 * never meant for a client.
 */
struct db_conn;
struct db_rows;

struct db_conn	*db_new(const struct conf *);
void		 db_free(struct db_conn *);
struct db_conn	*db_replica(struct db_conn *);
enum jamb_status db_ping(struct db_conn *);
const char	*db_error(const struct db_conn *);
unsigned int	 db_errno(const struct db_conn *);

enum jamb_status db_exec(struct db_conn *, const char *, const char *, ...);
uint64_t	 db_affected(const struct db_conn *);
uint64_t	 db_insert_id(const struct db_conn *);

enum jamb_status db_query(struct db_conn *, struct db_rows **, const char *,
		    const char *, ...);
int		 db_next(struct db_rows *);
unsigned int	 db_ncols(const struct db_rows *);
int		 db_isnull(const struct db_rows *, unsigned int);
int64_t		 db_int(const struct db_rows *, unsigned int);
double		 db_double(const struct db_rows *, unsigned int);
const char	*db_str(const struct db_rows *, unsigned int, size_t *);
json_t		*db_row_json(const struct db_rows *);
void		 db_rows_free(struct db_rows *);

enum jamb_status db_query_json(struct db_conn *, json_t **, const char *,
		    const char *, ...);
enum jamb_status db_query_one(struct db_conn *, json_t **, const char *,
		    const char *, ...);
enum jamb_status db_query_int(struct db_conn *, int64_t *, const char *,
		    const char *, ...);

typedef enum jamb_status (*db_tx_fn)(struct db_conn *, void *);
enum jamb_status db_tx(struct db_conn *, db_tx_fn, void *);

enum jamb_status db_script(struct db_conn *, const char *, size_t);
enum jamb_status db_lock(struct db_conn *, const char *, int);
void		 db_unlock(struct db_conn *, const char *);

/* Counters for tests and metrics. */
struct db_stats {
	uint64_t	 connects;
	uint64_t	 reconnects;
	uint64_t	 retries;	/* reads repeated after a lost link */
	uint64_t	 tx_retries;	/* transactions rerun after a deadlock */
	uint64_t	 prepares;
	uint64_t	 replica_reads;
};

const struct db_stats *db_stats(const struct db_conn *);

#endif
