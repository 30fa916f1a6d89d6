#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "db.h"
#include "log.h"
#include "util.h"

/* Prepared statements kept per connection before the cache is reset. */
#define STMT_CACHE_MAX		256
#define STMT_BUCKETS		64
/* An idle connection is pinged before use: the server may be gone. */
#define IDLE_PING_US		5000000
/* A replica that failed is left alone for this long. */
#define REPLICA_DOWN_US		5000000
/* Deadlocks and lock-wait timeouts rerun a transaction this often. */
#define TX_ATTEMPTS		5
/* Initial size of a string column's buffer; it grows as needed. */
#define COL_BUF_INIT		256

struct stmt {
	struct stmt	*next;
	char		*sql;
	uint32_t	 hash;
	MYSQL_STMT	*st;
	int		 busy;	/* its rows are being read */
	int		 orphan; /* its connection closed while busy */
};

struct db_conn {
	const struct conf	*conf;
	char			*host;
	long			 port;
	struct db_conn		*primary;	/* set on replicas */
	MYSQL			*my;
	struct stmt		*buckets[STMT_BUCKETS];
	size_t			 nstmts;
	int64_t			 last_used;
	int64_t			 down_until;
	/*
	 * Set from START TRANSACTION until the commit or rollback, even
	 * when the link is lost in between: the server has then rolled
	 * back, and reconnecting would run the rest in autocommit.
	 */
	int			 in_tx;
	/* Bumped each time "my" closes; rows remember it (db_next). */
	unsigned int		 link;
	unsigned int		 open_rows;	/* rows not freed yet */
	unsigned int		 err_no;
	char			 err[512];
	uint64_t		 affected;
	uint64_t		 insert_id;
	struct db_conn		**replicas;
	size_t			 nreplicas;
	size_t			 next_replica;
	struct db_stats		 stats;
};

/* One bound parameter, kept so a statement can be run again. */
struct param {
	char		 type;
	long long	 i;
	double		 d;
	const void	*p;
	unsigned long	 len;
	MYSQL_TIME	 tm;
	my_bool		 null;
};

struct col {
	MYSQL_FIELD	*field;
	enum enum_field_types type;
	long long	 i;
	double		 d;
	MYSQL_TIME	 tm;
	char		*buf;
	unsigned long	 cap;
	unsigned long	 len;
	my_bool		 null;
	my_bool		 error;
};

struct db_rows {
	struct db_conn	*db;
	struct stmt	*stmt;
	int		 owned;	/* stmt is not from the cache */
	MYSQL_RES	*meta;
	MYSQL_BIND	*binds;
	struct col	*cols;
	unsigned int	 ncols;
	unsigned int	 link;	/* db->link when the rows were read */
};

static struct db_conn *
conn_new(const struct conf *c, const char *host, long port)
{
	struct db_conn	*db;

	db = xcalloc(1, sizeof(*db));
	db->conf = c;
	db->host = xstrdup(host);
	db->port = port;
	return db;
}

/* HOST:PORT pairs of [db] replicas; a missing port means the primary's. */
static void
add_replicas(struct db_conn *db)
{
	char	*list, *item, *save = NULL, *colon;
	long	 port;

	list = xstrdup(db->conf->db_replicas);
	for (item = strtok_r(list, ", \t", &save); item != NULL;
	    item = strtok_r(NULL, ", \t", &save)) {
		port = db->conf->db_port;
		if ((colon = strrchr(item, ':')) != NULL) {
			*colon = '\0';
			port = strtol(colon + 1, NULL, 10);
		}
		db->replicas = xrealloc(db->replicas,
		    (db->nreplicas + 1) * sizeof(*db->replicas));
		db->replicas[db->nreplicas] = conn_new(db->conf, item, port);
		db->replicas[db->nreplicas]->primary = db;
		db->nreplicas++;
	}
	free(list);
}

struct db_conn *
db_new(const struct conf *c)
{
	struct db_conn	*db;

	db = conn_new(c, c->db_host, c->db_port);
	add_replicas(db);
	return db;
}

static void
stmt_cache_clear(struct db_conn *db)
{
	struct stmt	*s, *next;
	size_t		 i;

	for (i = 0; i < STMT_BUCKETS; i++) {
		for (s = db->buckets[i]; s != NULL; s = next) {
			next = s->next;
			/* Rows still being read own it from now on. */
			if (s->busy) {
				s->orphan = 1;
				s->next = NULL;
				continue;
			}
			mysql_stmt_close(s->st);
			free(s->sql);
			free(s);
		}
		db->buckets[i] = NULL;
	}
	db->nstmts = 0;
}

/*
 * Closes the link.  Statements whose rows are still being read lose
 * their connection too: the client library cannot fetch from them any
 * more, so their rows end (see db_next).
 */
static void
db_close(struct db_conn *db)
{
	stmt_cache_clear(db);
	if (db->my != NULL) {
		mysql_close(db->my);
		db->link++;
	}
	db->my = NULL;
}

void
db_free(struct db_conn *db)
{
	size_t	 i;

	if (db == NULL)
		return;
	for (i = 0; i < db->nreplicas; i++)
		db_free(db->replicas[i]);
	free(db->replicas);
	db_close(db);
	free(db->host);
	free(db);
}

const char *
db_error(const struct db_conn *db)
{
	return db->err;
}

unsigned int
db_errno(const struct db_conn *db)
{
	return db->err_no;
}

const struct db_stats *
db_stats(const struct db_conn *db)
{
	return &db->stats;
}

uint64_t
db_affected(const struct db_conn *db)
{
	return db->affected;
}

uint64_t
db_insert_id(const struct db_conn *db)
{
	return db->insert_id;
}

/*
 * Over TLS, the client reports a link the server closed (KILL, a
 * restart) as a TLS error, "unexpected eof while reading", instead of
 * CR_SERVER_LOST; a TLS session that failed cannot carry another
 * statement either, so that error counts as a lost link too.
 */
static int
is_lost(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONN_HOST_ERROR || e == CR_CONNECTION_ERROR ||
	    e == CR_SSL_CONNECTION_ERROR ||
	    e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN ||
	    e == 4031 /* idle disconnect */;
}

/* The jamb status for a server error number. */
static enum jamb_status
status_of(unsigned int e)
{
	switch (e) {
	case 0:
		return JAMB_OK;
	case ER_DUP_ENTRY:
		return JAMB_ECONFLICT;
	case ER_DATA_TOO_LONG:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case ER_NO_REFERENCED_ROW_2:
	case ER_ROW_IS_REFERENCED_2:
	case ER_BAD_NULL_ERROR:
		return JAMB_EINVAL;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return JAMB_EUNAVAIL;
	default:
		return is_lost(e) ? JAMB_EUNAVAIL : JAMB_EINTERNAL;
	}
}

static enum jamb_status
set_err(struct db_conn *db, unsigned int e, const char *msg)
{
	db->err_no = e;
	snprintf(db->err, sizeof(db->err), "MySQL %s:%ld: %s (%u)",
	    db->host, db->port, msg, e);
	if (is_lost(e))
		db_close(db);
	return status_of(e);
}

static enum jamb_status
set_stmt_err(struct db_conn *db, MYSQL_STMT *st)
{
	return set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
}

/*
 * Opens the connection with the session settings every query relies
 * on: utf8mb4, UTC, strict SQL mode.  Timeouts keep a dead server from
 * holding a worker longer than the configured seconds.
 */
static enum jamb_status
db_connect(struct db_conn *db)
{
	const struct conf	*c = db->conf;
	unsigned int		 ct, rt, wt;
	const char		*sock = NULL;
	my_bool			 yes = 1;

	db_close(db);
	if (db->in_tx)
		return set_err(db, CR_SERVER_LOST, "connection lost inside "
		    "a transaction; not reconnecting before it ends");
	if ((db->my = mysql_init(NULL)) == NULL)
		abort();
	ct = (unsigned int)c->db_connect_timeout;
	rt = (unsigned int)c->db_read_timeout;
	wt = (unsigned int)c->db_write_timeout;
	mysql_optionsv(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_optionsv(db->my, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_optionsv(db->my, MYSQL_OPT_WRITE_TIMEOUT, &wt);
	mysql_optionsv(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(db->my, MYSQL_INIT_COMMAND,
	    "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
	    "NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
	    "NO_ENGINE_SUBSTITUTION'");
	if (c->db_tls) {
		mysql_optionsv(db->my, MYSQL_OPT_SSL_ENFORCE, &yes);
		mysql_optionsv(db->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
		if (*c->db_tls_ca != '\0')
			mysql_optionsv(db->my, MYSQL_OPT_SSL_CA, c->db_tls_ca);
	}
	/* The socket is the primary's; replicas are reached over TCP. */
	if (db->primary == NULL && *c->db_socket != '\0')
		sock = c->db_socket;
	/* Connector/C takes the socket only when the host is NULL. */
	if (mysql_real_connect(db->my, sock ? NULL : db->host, c->db_user,
	    c->db_password, c->db_name, (unsigned int)db->port, sock,
	    0) == NULL) {
		set_err(db, mysql_errno(db->my), mysql_error(db->my));
		mysql_close(db->my);
		db->my = NULL;
		/* Whatever the client says, the caller sees "unreachable". */
		return JAMB_EUNAVAIL;
	}
	if (db->stats.connects++ > 0)
		db->stats.reconnects++;
	db->last_used = clock_us();
	return JAMB_OK;
}

/*
 * Makes sure there is a live connection.  One idle for a while is
 * pinged first, so that a server restarted in the meantime costs a
 * reconnect instead of a failed write.
 */
static enum jamb_status
db_ensure(struct db_conn *db)
{
	int64_t	 now = clock_us();

	if (db->my != NULL && !db->in_tx &&
	    now - db->last_used > IDLE_PING_US && mysql_ping(db->my) != 0)
		db_close(db);
	if (db->my == NULL && db_connect(db) != JAMB_OK)
		return JAMB_EUNAVAIL;
	db->last_used = now;
	return JAMB_OK;
}

enum jamb_status
db_ping(struct db_conn *db)
{
	if (db->my != NULL && mysql_ping(db->my) == 0)
		return JAMB_OK;
	return db_connect(db);
}

/*
 * A connection for a read that may lag behind the primary: the next
 * replica that is not known to be down, or the primary itself.
 */
struct db_conn *
db_replica(struct db_conn *db)
{
	struct db_conn	*r;
	int64_t		 now = clock_us();
	size_t		 i;

	for (i = 0; i < db->nreplicas; i++) {
		r = db->replicas[db->next_replica++ % db->nreplicas];
		if (r->down_until <= now)
			return r;
	}
	return db;
}

static uint32_t
hash_sql(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static MYSQL_STMT *
prepare(struct db_conn *db, const char *sql)
{
	MYSQL_STMT	*st;

	if ((st = mysql_stmt_init(db->my)) == NULL)
		abort();
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		set_stmt_err(db, st);
		mysql_stmt_close(st);
		return NULL;
	}
	db->stats.prepares++;
	return st;
}

/*
 * The prepared statement for sql, from the cache or prepared now.  A
 * cached one whose rows are still being read is not shared: *owned is
 * then set and the caller closes the fresh statement it gets.
 */
static struct stmt *
stmt_get(struct db_conn *db, const char *sql, int *owned)
{
	struct stmt	*s;
	uint32_t	 h = hash_sql(sql);

	*owned = 0;
	for (s = db->buckets[h % STMT_BUCKETS]; s != NULL; s = s->next)
		if (s->hash == h && strcmp(s->sql, sql) == 0)
			break;
	if (s != NULL && !s->busy)
		return s;
	if (s != NULL || db->nstmts >= STMT_CACHE_MAX) {
		if (s == NULL)
			stmt_cache_clear(db);
		else
			*owned = 1;
	}
	s = xcalloc(1, sizeof(*s));
	if ((s->st = prepare(db, sql)) == NULL) {
		free(s);
		return NULL;
	}
	s->sql = xstrdup(sql);
	s->hash = h;
	if (!*owned) {
		s->next = db->buckets[h % STMT_BUCKETS];
		db->buckets[h % STMT_BUCKETS] = s;
		db->nstmts++;
	}
	return s;
}

static void
stmt_release(struct stmt *s, int owned)
{
	if (!owned && !s->orphan) {
		s->busy = 0;
		return;
	}
	mysql_stmt_close(s->st);
	free(s->sql);
	free(s);
}

/* Reads the arguments described by types into params[]. */
static int
params_load(struct param *p, size_t n, const char *types, va_list ap)
{
	struct tm	 tm;
	time_t		 t;
	size_t		 i;

	for (i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].type = types[i];
		switch (types[i]) {
		case 'i':
			p[i].i = (long long)va_arg(ap, int64_t);
			break;
		case 'u':
			p[i].i = (long long)va_arg(ap, uint64_t);
			break;
		case 'd':
			p[i].d = va_arg(ap, double);
			break;
		case 's':
			p[i].p = va_arg(ap, const char *);
			p[i].null = p[i].p == NULL;
			p[i].len = p[i].p ? strlen(p[i].p) : 0;
			break;
		case 'b':
			p[i].p = va_arg(ap, const void *);
			p[i].len = (unsigned long)va_arg(ap, size_t);
			break;
		case 't':
			t = va_arg(ap, time_t);
			gmtime_r(&t, &tm);
			p[i].tm.year = (unsigned)tm.tm_year + 1900;
			p[i].tm.month = (unsigned)tm.tm_mon + 1;
			p[i].tm.day = (unsigned)tm.tm_mday;
			p[i].tm.hour = (unsigned)tm.tm_hour;
			p[i].tm.minute = (unsigned)tm.tm_min;
			p[i].tm.second = (unsigned)tm.tm_sec;
			p[i].tm.time_type = MYSQL_TIMESTAMP_DATETIME;
			break;
		case 'n':
			p[i].null = 1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static void
params_bind(MYSQL_BIND *b, struct param *p, size_t n)
{
	size_t	 i;

	memset(b, 0, n * sizeof(*b));
	for (i = 0; i < n; i++) {
		b[i].is_null = &p[i].null;
		switch (p[i].type) {
		case 'i':
		case 'u':
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &p[i].i;
			b[i].is_unsigned = p[i].type == 'u';
			break;
		case 'd':
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = &p[i].d;
			break;
		case 's':
		case 'b':
			b[i].buffer_type = p[i].type == 's' ?
			    MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)(uintptr_t)p[i].p;
			b[i].buffer_length = p[i].len;
			b[i].length = &p[i].len;
			break;
		case 't':
			b[i].buffer_type = MYSQL_TYPE_DATETIME;
			b[i].buffer = &p[i].tm;
			break;
		default:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
}

static void
slow_log(const struct db_conn *db, const char *sql, int64_t us)
{
	json_t	*f;

	if (db->conf->db_slow_ms <= 0 || us < db->conf->db_slow_ms * 1000)
		return;
	f = json_pack("{s:s, s:I}", "sql", sql, "duration_us",
	    (json_int_t)us);
	/* The text only: parameters may be personal or secret. */
	log_fields(LOG_LEVEL_WARN, NULL, "slow statement", f);
}

/*
 * Runs one statement with the given parameters, its result stored on
 * the client side.  On success *out is the statement, marked busy.
 */
static enum jamb_status
run_once(struct db_conn *db, const char *sql, struct param *p, size_t n,
    struct stmt **out, int *owned)
{
	struct stmt	*s;
	MYSQL_BIND	*b = NULL;
	int64_t		 t0;
	enum jamb_status st = JAMB_OK;

	if (db_ensure(db) != JAMB_OK)
		return JAMB_EUNAVAIL;
	if ((s = stmt_get(db, sql, owned)) == NULL)
		return status_of(db->err_no);
	if (mysql_stmt_param_count(s->st) != n) {
		set_err(db, 0, "parameter count does not match the SQL");
		stmt_release(s, *owned);
		return JAMB_EINTERNAL;
	}
	if (n > 0) {
		b = xcalloc(n, sizeof(*b));
		params_bind(b, p, n);
		if (mysql_stmt_bind_param(s->st, b) != 0) {
			st = set_stmt_err(db, s->st);
			goto out;
		}
	}
	t0 = clock_us();
	if (mysql_stmt_execute(s->st) != 0 ||
	    mysql_stmt_store_result(s->st) != 0) {
		st = set_stmt_err(db, s->st);
		goto out;
	}
	slow_log(db, sql, clock_us() - t0);
	db->affected = (uint64_t)mysql_stmt_affected_rows(s->st);
	db->insert_id = (uint64_t)mysql_stmt_insert_id(s->st);
	db->err_no = 0;
	db->err[0] = '\0';
	s->busy = 1;
	*out = s;
out:
	free(b);
	/* A lost link has closed the cached statements already. */
	if (st != JAMB_OK && (db->my != NULL || *owned))
		stmt_release(s, *owned);
	return st;
}

/*
 * A statement, repeated once on a new connection when the link was lost
 * and retry allows it (reads outside transactions).  A replica that
 * cannot be reached hands the read to the primary.
 */
static enum jamb_status
run(struct db_conn **dbp, const char *sql, const char *types, va_list ap,
    int retry, struct stmt **out, int *owned)
{
	struct db_conn	*db = *dbp;
	struct param	*p = NULL;
	size_t		 n = strlen(types);
	enum jamb_status st;

	p = xcalloc(n ? n : 1, sizeof(*p));
	if (params_load(p, n, types, ap) != 0) {
		set_err(db, 0, "unknown parameter type letter");
		free(p);
		return JAMB_EINTERNAL;
	}
	st = run_once(db, sql, p, n, out, owned);
	/*
	 * Rows still being read on this connection went with a lost
	 * link: a read answered elsewhere would pair a success with rows
	 * that end early, so the caller gets the error instead.
	 */
	if (st == JAMB_OK || db->open_rows > 0)
		goto out;
	if (db->primary != NULL && db->my == NULL) {
		log_warn(NULL, "replica %s:%ld unusable, reading from the "
		    "primary: %s", db->host, db->port, db->err);
		db->down_until = clock_us() + REPLICA_DOWN_US;
		*dbp = db = db->primary;
		st = run_once(db, sql, p, n, out, owned);
	}
	if (st == JAMB_EUNAVAIL && retry && !db->in_tx && db->my == NULL &&
	    db->open_rows == 0 && is_lost(db->err_no)) {
		db->stats.retries++;
		st = run_once(db, sql, p, n, out, owned);
	}
out:
	if (st == JAMB_OK && db->primary != NULL)
		db->primary->stats.replica_reads++;
	free(p);
	return st;
}

/*
 * INSERT, UPDATE, DELETE and other statements without rows.  A write is
 * never repeated on its own after a lost link: it may have been applied.
 */
enum jamb_status
db_exec(struct db_conn *db, const char *sql, const char *types, ...)
{
	struct stmt	*s;
	va_list		 ap;
	int		 owned;
	enum jamb_status st;

	va_start(ap, types);
	st = run(&db, sql, types, ap, 0, &s, &owned);
	va_end(ap);
	if (st != JAMB_OK)
		return st;
	mysql_stmt_free_result(s->st);
	stmt_release(s, owned);
	return JAMB_OK;
}

static void
rows_bind_cols(struct db_rows *r)
{
	unsigned int	 i;

	memset(r->binds, 0, r->ncols * sizeof(*r->binds));
	for (i = 0; i < r->ncols; i++) {
		struct col	*c = &r->cols[i];
		MYSQL_BIND	*b = &r->binds[i];

		b->is_null = &c->null;
		b->error = &c->error;
		b->length = &c->len;
		switch (c->type) {
		case MYSQL_TYPE_TINY:
		case MYSQL_TYPE_SHORT:
		case MYSQL_TYPE_INT24:
		case MYSQL_TYPE_LONG:
		case MYSQL_TYPE_LONGLONG:
		case MYSQL_TYPE_YEAR:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &c->i;
			b->is_unsigned = (c->field->flags & UNSIGNED_FLAG) != 0;
			break;
		case MYSQL_TYPE_FLOAT:
		case MYSQL_TYPE_DOUBLE:
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = &c->d;
			break;
		case MYSQL_TYPE_DATETIME:
		case MYSQL_TYPE_TIMESTAMP:
		case MYSQL_TYPE_DATE:
			b->buffer_type = MYSQL_TYPE_DATETIME;
			b->buffer = &c->tm;
			break;
		default:
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = c->buf;
			b->buffer_length = c->cap - 1;
			break;
		}
	}
}

static struct db_rows *
rows_new(struct db_conn *db, struct stmt *s, int owned)
{
	struct db_rows	*r;
	MYSQL_FIELD	*fields;
	unsigned int	 i;

	r = xcalloc(1, sizeof(*r));
	r->db = db;
	r->stmt = s;
	r->owned = owned;
	r->link = db->link;
	db->open_rows++;
	if ((r->meta = mysql_stmt_result_metadata(s->st)) == NULL)
		return r;
	r->ncols = mysql_num_fields(r->meta);
	fields = mysql_fetch_fields(r->meta);
	r->cols = xcalloc(r->ncols, sizeof(*r->cols));
	r->binds = xcalloc(r->ncols, sizeof(*r->binds));
	for (i = 0; i < r->ncols; i++) {
		r->cols[i].field = &fields[i];
		r->cols[i].type = fields[i].type;
		r->cols[i].cap = COL_BUF_INIT;
		r->cols[i].buf = xmalloc(COL_BUF_INIT);
	}
	rows_bind_cols(r);
	mysql_stmt_bind_result(s->st, r->binds);
	return r;
}

/* Moves to the next row: 1 when there is one, 0 at the end. */
int
db_next(struct db_rows *r)
{
	unsigned int	 i;
	int		 rc;

	if (r->meta == NULL || r->link != r->db->link)
		return 0;
	rc = mysql_stmt_fetch(r->stmt->st);
	if (rc == MYSQL_NO_DATA || rc == 1)
		return 0;
	if (rc == MYSQL_DATA_TRUNCATED) {
		/* Grow the buffers that were short and fetch those again. */
		for (i = 0; i < r->ncols; i++) {
			struct col *c = &r->cols[i];

			if (!c->error || c->len < c->cap - 1)
				continue;
			c->cap = c->len + 1;
			c->buf = xrealloc(c->buf, c->cap);
			r->binds[i].buffer = c->buf;
			r->binds[i].buffer_length = c->cap - 1;
			mysql_stmt_fetch_column(r->stmt->st, &r->binds[i], i,
			    0);
		}
		mysql_stmt_bind_result(r->stmt->st, r->binds);
	}
	for (i = 0; i < r->ncols; i++)
		if (r->binds[i].buffer_type == MYSQL_TYPE_STRING)
			r->cols[i].buf[r->cols[i].null ? 0 : r->cols[i].len] =
			    '\0';
	return 1;
}

unsigned int
db_ncols(const struct db_rows *r)
{
	return r->ncols;
}

int
db_isnull(const struct db_rows *r, unsigned int i)
{
	return i >= r->ncols || r->cols[i].null;
}

/* An integer column (0 for NULL); strings are converted. */
int64_t
db_int(const struct db_rows *r, unsigned int i)
{
	const struct col	*c;

	if (db_isnull(r, i))
		return 0;
	c = &r->cols[i];
	if (r->binds[i].buffer_type == MYSQL_TYPE_LONGLONG)
		return c->i;
	if (r->binds[i].buffer_type == MYSQL_TYPE_DOUBLE)
		return (int64_t)c->d;
	if (r->binds[i].buffer_type == MYSQL_TYPE_STRING)
		return strtoll(c->buf, NULL, 10);
	return 0;
}

double
db_double(const struct db_rows *r, unsigned int i)
{
	if (db_isnull(r, i))
		return 0;
	if (r->binds[i].buffer_type == MYSQL_TYPE_DOUBLE)
		return r->cols[i].d;
	return (double)db_int(r, i);
}

/*
 * A text or binary column, NUL-terminated, valid until the next db_next;
 * NULL for SQL NULL or a column of another type.  *len, when asked for,
 * is its length (binary columns may contain NUL bytes).
 */
const char *
db_str(const struct db_rows *r, unsigned int i, size_t *len)
{
	if (db_isnull(r, i) || r->binds[i].buffer_type != MYSQL_TYPE_STRING)
		return NULL;
	if (len != NULL)
		*len = r->cols[i].len;
	return r->cols[i].buf;
}

static json_t *
time_json(const MYSQL_TIME *t, enum enum_field_types type)
{
	char	 s[48];

	if (type == MYSQL_TYPE_DATE)
		snprintf(s, sizeof(s), "%04u-%02u-%02u", t->year % 10000,
		    t->month % 100, t->day % 100);
	else if (t->second_part != 0)
		snprintf(s, sizeof(s), "%04u-%02u-%02uT%02u:%02u:%02u.%06luZ",
		    t->year % 10000, t->month % 100, t->day % 100,
		    t->hour % 100, t->minute % 100, t->second % 100,
		    t->second_part % 1000000);
	else
		snprintf(s, sizeof(s), "%04u-%02u-%02uT%02u:%02u:%02uZ",
		    t->year % 10000, t->month % 100, t->day % 100,
		    t->hour % 100, t->minute % 100, t->second % 100);
	return json_string(s);
}

/*
 * Binary strings (BINARY, VARBINARY, BLOB, BIT) go out as hex whatever
 * their bytes, so that a hash never turns into text by chance.  DECIMAL
 * and TIME columns share the binary character set but are text.
 */
static int
is_binary_string(const MYSQL_FIELD *f)
{
	if (f->charsetnr != 63)
		return 0;
	switch (f->type) {
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_BIT:
		return 1;
	default:
		return 0;
	}
}

static json_t *
col_json(const struct db_rows *r, unsigned int i)
{
	const struct col	*c = &r->cols[i];
	char			*hex;
	json_t			*j;

	if (c->null)
		return json_null();
	switch (r->binds[i].buffer_type) {
	case MYSQL_TYPE_LONGLONG:
		/* TINYINT(1) is how both servers spell BOOLEAN. */
		if (c->type == MYSQL_TYPE_TINY && c->field->length == 1)
			return json_boolean(c->i != 0);
		return json_integer(c->i);
	case MYSQL_TYPE_DOUBLE:
		return json_real(c->d);
	case MYSQL_TYPE_DATETIME:
		return time_json(&c->tm, c->type);
	default:
		break;
	}
	if (!is_binary_string(c->field))
		return json_stringn(c->buf, c->len);
	hex = xmalloc(2 * c->len + 1);
	hex_encode(hex, (const unsigned char *)c->buf, c->len);
	j = json_string(hex);
	free(hex);
	return j;
}

/* The current row as an object keyed by column names (or aliases). */
json_t *
db_row_json(const struct db_rows *r)
{
	json_t		*o = json_object();
	unsigned int	 i;

	for (i = 0; i < r->ncols; i++)
		json_object_set_new(o, r->cols[i].field->name,
		    col_json(r, i));
	return o;
}

void
db_rows_free(struct db_rows *r)
{
	unsigned int	 i;

	if (r == NULL)
		return;
	r->db->open_rows--;
	for (i = 0; i < r->ncols; i++)
		free(r->cols[i].buf);
	free(r->cols);
	free(r->binds);
	if (r->meta != NULL)
		mysql_free_result(r->meta);
	if (!r->stmt->orphan && r->link == r->db->link)
		mysql_stmt_free_result(r->stmt->st);
	stmt_release(r->stmt, r->owned);
	free(r);
}

static enum jamb_status
vquery(struct db_conn *db, struct db_rows **out, const char *sql,
    const char *types, va_list ap)
{
	struct stmt	*s;
	int		 owned;
	enum jamb_status st;

	*out = NULL;
	if ((st = run(&db, sql, types, ap, 1, &s, &owned)) != JAMB_OK)
		return st;
	*out = rows_new(db, s, owned);
	return JAMB_OK;
}

/*
 * SELECT: on success *out holds the rows, read with db_next and the
 * column getters and freed with db_rows_free.  Reads are repeated once
 * after a lost link.
 */
enum jamb_status
db_query(struct db_conn *db, struct db_rows **out, const char *sql,
    const char *types, ...)
{
	va_list		 ap;
	enum jamb_status st;

	va_start(ap, types);
	st = vquery(db, out, sql, types, ap);
	va_end(ap);
	return st;
}

/* Every row, as a JSON array of objects. */
enum jamb_status
db_query_json(struct db_conn *db, json_t **out, const char *sql,
    const char *types, ...)
{
	struct db_rows	*r;
	va_list		 ap;
	enum jamb_status st;

	*out = NULL;
	va_start(ap, types);
	st = vquery(db, &r, sql, types, ap);
	va_end(ap);
	if (st != JAMB_OK)
		return st;
	*out = json_array();
	while (db_next(r))
		json_array_append_new(*out, db_row_json(r));
	db_rows_free(r);
	return JAMB_OK;
}

/* The first row as an object; JAMB_ENOTFOUND when there is none. */
enum jamb_status
db_query_one(struct db_conn *db, json_t **out, const char *sql,
    const char *types, ...)
{
	struct db_rows	*r;
	va_list		 ap;
	enum jamb_status st;

	*out = NULL;
	va_start(ap, types);
	st = vquery(db, &r, sql, types, ap);
	va_end(ap);
	if (st != JAMB_OK)
		return st;
	if (db_next(r))
		*out = db_row_json(r);
	db_rows_free(r);
	return *out != NULL ? JAMB_OK : JAMB_ENOTFOUND;
}

/* The first column of the first row; JAMB_ENOTFOUND when none. */
enum jamb_status
db_query_int(struct db_conn *db, int64_t *out, const char *sql,
    const char *types, ...)
{
	struct db_rows	*r;
	va_list		 ap;
	enum jamb_status st;
	int		 found;

	*out = 0;
	va_start(ap, types);
	st = vquery(db, &r, sql, types, ap);
	va_end(ap);
	if (st != JAMB_OK)
		return st;
	if ((found = db_next(r)) && r->ncols > 0)
		*out = db_int(r, 0);
	db_rows_free(r);
	return found ? JAMB_OK : JAMB_ENOTFOUND;
}

static enum jamb_status
tx_begin(struct db_conn *db)
{
	if (db_ensure(db) != JAMB_OK)
		return JAMB_EUNAVAIL;
	/* Fixed text without parameters; nothing to prepare. */
	if (mysql_real_query(db->my, "START TRANSACTION", 17) != 0)
		return set_err(db, mysql_errno(db->my), mysql_error(db->my));
	db->in_tx = 1;
	return JAMB_OK;
}

static void
tx_rollback(struct db_conn *db)
{
	if (db->my != NULL && mysql_rollback(db->my) != 0)
		set_err(db, mysql_errno(db->my), mysql_error(db->my));
	db->in_tx = 0;
}

static int
is_retryable(unsigned int e)
{
	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

/*
 * Runs fn(db, arg) in a transaction: committed when fn returns JAMB_OK,
 * rolled back otherwise.  A deadlock or lock-wait timeout, in fn or at
 * the commit, runs everything again after a short random pause, up to
 * TX_ATTEMPTS times, so fn must be safe to run again.  A lost link is
 * not retried: the commit may have happened.  Inside fn, statements
 * after a lost link fail with JAMB_EUNAVAIL instead of reconnecting,
 * and db_tx returns JAMB_EUNAVAIL even if fn ignored them.
 */
enum jamb_status
db_tx(struct db_conn *db, db_tx_fn fn, void *arg)
{
	enum jamb_status st;
	unsigned char	 jitter;
	int		 attempt;

	for (attempt = 1; ; attempt++) {
		if ((st = tx_begin(db)) != JAMB_OK)
			return st;
		st = fn(db, arg);
		/* A lost link took the transaction with it. */
		if (st == JAMB_OK && db->my == NULL)
			st = JAMB_EUNAVAIL;
		if (st == JAMB_OK) {
			if (mysql_commit(db->my) == 0) {
				db->in_tx = 0;
				return JAMB_OK;
			}
			st = set_err(db, mysql_errno(db->my),
			    mysql_error(db->my));
		}
		tx_rollback(db);
		if (!is_retryable(db->err_no) || attempt == TX_ATTEMPTS)
			return st;
		db->stats.tx_retries++;
		random_bytes(&jitter, 1);
		usleep((useconds_t)(attempt * 10000 + jitter * 100));
	}
}

/*
 * Runs a script of several statements as it is, for migrations and
 * other fixed SQL shipped with jamb; never for text built from input.
 */
enum jamb_status
db_script(struct db_conn *db, const char *sql, size_t len)
{
	MYSQL_RES	*res;
	int		 more;

	if (db_ensure(db) != JAMB_OK)
		return JAMB_EUNAVAIL;
	mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_ON);
	if (mysql_real_query(db->my, sql, (unsigned long)len) != 0)
		goto fail;
	do {
		if ((res = mysql_store_result(db->my)) != NULL)
			mysql_free_result(res);
		if ((more = mysql_next_result(db->my)) > 0)
			goto fail;
	} while (more == 0);
	mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	return JAMB_OK;
fail:
	set_err(db, mysql_errno(db->my), mysql_error(db->my));
	/* A failed script leaves results behind; start afresh. */
	db_close(db);
	return status_of(db->err_no) == JAMB_OK ? JAMB_EINTERNAL :
	    status_of(db->err_no);
}

/*
 * A named server lock (GET_LOCK) shared by every host using the
 * database.  JAMB_EUNAVAIL when it is still held by another after
 * timeout seconds.
 */
enum jamb_status
db_lock(struct db_conn *db, const char *name, int timeout)
{
	int64_t		 got = 0;
	enum jamb_status st;

	st = db_query_int(db, &got, "SELECT GET_LOCK(?, ?)", "si", name,
	    (int64_t)timeout);
	if (st != JAMB_OK)
		return st;
	if (got != 1) {
		set_err(db, 0, "lock held by another session");
		return JAMB_EUNAVAIL;
	}
	return JAMB_OK;
}

void
db_unlock(struct db_conn *db, const char *name)
{
	int64_t	 released;

	db_query_int(db, &released, "SELECT RELEASE_LOCK(?)", "s", name);
}
