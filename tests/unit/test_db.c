/*
 * Tests of app/db.c against a real MariaDB or MySQL server, named by
 * JAMB_TEST_DB_HOST, JAMB_TEST_DB_PORT, JAMB_TEST_DB_USER,
 * JAMB_TEST_DB_PASSWORD and JAMB_TEST_DB_NAME.  Without a host and a
 * database name the program exits 77, which automake reports as
 * skipped, so `make check` without a server stays green.
 *
 * The database must exist; the user needs to create tables in it and to
 * KILL its own connections (every user may).  The tables are t_db_*,
 * created before the tests and dropped after them.  Each test opens its
 * own connections, so the counters of db_stats start from zero.
 *
 * With JAMB_TEST_DB_TLS=yes every connection uses TLS ([db] tls),
 * verified against the CA file JAMB_TEST_DB_TLS_CA, and one more test
 * checks that the server sees an encrypted session.
 */
#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "status.h"
#include "util.h"

/* Server error numbers the tests expect (mysqld_error.h is db.c's). */
#define ER_DUP_ENTRY		1062
#define ER_BAD_NULL_ERROR	1048
#define ER_PARSE_ERROR		1064
#define ER_WARN_DATA_OUT_OF_RANGE 1264
#define ER_DATA_TOO_LONG	1406

/* The layer pings a connection idle for longer than this (db.c). */
#define IDLE_PING_S		5
#define BIG_TEXT_LEN		(1024 * 1024 + 7)
#define BIG_BLOB_LEN		(300 * 1024)
#define DISTINCT_STMTS		257

static const char *const create_sql[] = {
	"CREATE TABLE t_db_vals ("
	" id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
	" tag VARCHAR(64) NOT NULL,"
	" i BIGINT NULL, u BIGINT UNSIGNED NULL, d DOUBLE NULL,"
	" s VARCHAR(255) NULL, txt LONGTEXT NULL, b LONGBLOB NULL,"
	" bin VARBINARY(64) NULL, t DATETIME NULL, t6 DATETIME(6) NULL,"
	" day DATE NULL, flag TINYINT(1) NULL, small TINYINT NULL,"
	" price DECIMAL(10,2) NULL,"
	" KEY t_db_vals_tag (tag)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	"CREATE TABLE t_db_uniq ("
	" id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
	" slug VARCHAR(8) NOT NULL,"
	" UNIQUE KEY t_db_uniq_slug (slug)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	"CREATE TABLE t_db_pair ("
	" id INT NOT NULL PRIMARY KEY,"
	" n INT NOT NULL,"
	" log VARCHAR(64) NOT NULL"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
};

static const char *const drop_sql[] = {
	"DROP TABLE IF EXISTS t_db_vals",
	"DROP TABLE IF EXISTS t_db_uniq",
	"DROP TABLE IF EXISTS t_db_pair",
};

static const char *const clear_sql[] = {
	"DELETE FROM t_db_vals",
	"DELETE FROM t_db_uniq",
	"DELETE FROM t_db_pair",
	"INSERT INTO t_db_pair (id, n, log) VALUES (1, 0, ''), (2, 0, '')",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Fails the test with the server's message when call is not JAMB_OK. */
#define ck_db(conn, call) do {						\
	enum jamb_status st_ = (call);					\
									\
	ck_assert_msg(st_ == JAMB_OK, "%s: %s: %s", #call,		\
	    status_name(st_), db_error(conn));				\
} while (0)

/* Fails the test unless call returns the status want. */
#define ck_db_status(conn, call, want) do {				\
	enum jamb_status st_ = (call);					\
									\
	ck_assert_msg(st_ == (want), "%s: %s, not %s: %s", #call,	\
	    status_name(st_), status_name(want), db_error(conn));	\
} while (0)

static struct conf	*conf;
static struct db_conn	*db;
static struct db_conn	*other;

/*
 * The layer's configuration from the test variables, as JAMB_*
 * variables for conf_load.  Every JAMB_DB_* key is set, so that the
 * caller's environment cannot add a socket or replicas behind the
 * test's back.
 */
static void
env_from_test(const char *replicas)
{
	const char	*host = getenv("JAMB_TEST_DB_HOST");
	const char	*port = getenv("JAMB_TEST_DB_PORT");
	const char	*user = getenv("JAMB_TEST_DB_USER");
	const char	*pw = getenv("JAMB_TEST_DB_PASSWORD");
	const char	*name = getenv("JAMB_TEST_DB_NAME");
	const char	*tls = getenv("JAMB_TEST_DB_TLS");
	const char	*ca = getenv("JAMB_TEST_DB_TLS_CA");

	setenv("JAMB_DB_HOST", host, 1);
	setenv("JAMB_DB_PORT", port != NULL ? port : "3306", 1);
	setenv("JAMB_DB_USER", user != NULL ? user : "jamb", 1);
	setenv("JAMB_DB_PASSWORD", pw != NULL ? pw : "", 1);
	setenv("JAMB_DB_NAME", name, 1);
	setenv("JAMB_DB_SOCKET", "", 1);
	setenv("JAMB_DB_REPLICAS", replicas, 1);
	setenv("JAMB_DB_TLS", tls != NULL ? tls : "no", 1);
	setenv("JAMB_DB_TLS_CA", ca != NULL ? ca : "", 1);
	setenv("JAMB_DB_SLOW_MS", "0", 1);
	setenv("JAMB_DB_CONNECT_TIMEOUT", "5", 1);
	setenv("JAMB_DB_READ_TIMEOUT", "20", 1);
	setenv("JAMB_DB_WRITE_TIMEOUT", "20", 1);
	setenv("JAMB_LOG_LEVEL", "error", 1);
	setenv("JAMB_LOG_FILE", "", 1);
}

static int
conf_from_env(const char *replicas, struct conf **out)
{
	char	 err[512];

	env_from_test(replicas);
	if (conf_load(NULL, out, err, sizeof(err)) != JAMB_OK) {
		fprintf(stderr, "test_db: configuration: %s\n", err);
		return -1;
	}
	return 0;
}

/* Runs fixed statements on a connection of its own; -1 on failure. */
static int
run_all(const char *const *sql, size_t n)
{
	struct db_conn	*c = db_new(conf);
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		if (db_exec(c, sql[i], "") != JAMB_OK) {
			fprintf(stderr, "test_db: %s: %s\n", sql[i],
			    db_error(c));
			rc = -1;
		}
	db_free(c);
	return rc;
}

/*
 * Empty tables, and two fresh connections: db, the one under test, and
 * other, a second session for checks from outside db's transactions.
 */
static void
setup(void)
{
	ck_assert_int_eq(run_all(clear_sql, NELEM(clear_sql)), 0);
	db = db_new(conf);
	other = db_new(conf);
}

static void
teardown(void)
{
	db_free(db);
	db_free(other);
	db = other = NULL;
}

static int64_t
count_where(struct db_conn *c, const char *sql, const char *arg)
{
	int64_t	 n = -1;

	ck_db(c, db_query_int(c, &n, sql, "s", arg));
	return n;
}

static int64_t
elapsed_ms(int64_t since_us)
{
	return (clock_us() - since_us) / 1000;
}

/*
 * Kills victim's server session from another one, as a server restart
 * or an administrator would, and waits until the server has dropped
 * it.  The victim's handle does not notice until it next talks.
 */
static void
kill_link(struct db_conn *victim)
{
	struct db_conn	*killer = db_new(conf);
	int64_t		 id, left = 1, t0;

	ck_db(victim, db_query_int(victim, &id, "SELECT CONNECTION_ID()",
	    ""));
	ck_db(killer, db_exec(killer, "KILL ?", "i", id));
	t0 = clock_us();
	while (left > 0 && elapsed_ms(t0) < 5000) {
		ck_db(killer, db_query_int(killer, &left, "SELECT COUNT(*) "
		    "FROM information_schema.PROCESSLIST WHERE ID = ?", "i",
		    id));
		if (left > 0)
			usleep(20000);
	}
	ck_assert_msg(left == 0, "connection %" PRId64 " still listed",
	    id);
	db_free(killer);
}

/* Values */

START_TEST(int_params_round_trip_at_their_limits)
{
	struct db_rows	*r;

	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i, u) VALUES "
	    "(?, ?, ?), (?, ?, ?), (?, ?, ?)", "siusiusiu",
	    "1min", (int64_t)INT64_MIN, (uint64_t)0,
	    "2max", (int64_t)INT64_MAX, (uint64_t)UINT64_MAX,
	    "3neg", (int64_t)-1, (uint64_t)1));
	ck_assert_uint_eq(db_affected(db), 3);

	ck_db(db, db_query(db, &r, "SELECT i, u FROM t_db_vals ORDER BY tag",
	    ""));
	ck_assert(db_next(r));
	ck_assert(db_int(r, 0) == INT64_MIN);
	ck_assert(db_int(r, 1) == 0);
	ck_assert(db_next(r));
	ck_assert(db_int(r, 0) == INT64_MAX);
	ck_assert((uint64_t)db_int(r, 1) == UINT64_MAX);
	ck_assert(db_next(r));
	ck_assert(db_int(r, 0) == -1);
	ck_assert(db_int(r, 1) == 1);
	ck_assert(!db_next(r));
	db_rows_free(r);

	/* The server holds the numbers themselves, not just their bits. */
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE tag = ? AND i = 9223372036854775807 AND "
	    "u = 18446744073709551615", "2max"), 1);
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE tag = ? AND i = -9223372036854775808 AND u = 0", "1min"),
	    1);
}
END_TEST

START_TEST(double_params_round_trip_exactly)
{
	static const double	 vals[] = { 0.1, -2.5e-300,
	    1.7976931348623157e308, 3.141592653589793, 0.0, -1.0 / 3.0 };
	struct db_rows		*r;
	size_t			 i;

	for (i = 0; i < NELEM(vals); i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, d) "
		    "VALUES (?, ?)", "sd", "d", vals[i]));
	ck_db(db, db_query(db, &r, "SELECT d FROM t_db_vals ORDER BY id",
	    ""));
	for (i = 0; i < NELEM(vals); i++) {
		ck_assert(db_next(r));
		ck_assert_msg(db_double(r, 0) == vals[i], "%.17g != %.17g",
		    db_double(r, 0), vals[i]);
	}
	ck_assert(!db_next(r));
	db_rows_free(r);
}
END_TEST

START_TEST(strings_round_trip_with_utf8mb4_empty_and_null)
{
	static const char *const vals[] = {
		"plain",
		"",
		"\xf0\x9f\x98\x80 \xc3\xbc \xe4\xb8\xad \xf0\x9d\x84\x9e",
		"tab\tnewline\ncarriage\r",
		"quote ' double \" backslash \\ end",
	};
	struct db_rows	*r;
	const char	*s;
	size_t		 i, len;

	for (i = 0; i < NELEM(vals); i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, s) "
		    "VALUES (?, ?)", "ss", "str", vals[i]));
	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, s) VALUES (?, ?)",
	    "ss", "str", NULL));
	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, s) VALUES (?, ?)",
	    "sn", "str"));

	ck_db(db, db_query(db, &r, "SELECT s FROM t_db_vals ORDER BY id",
	    ""));
	for (i = 0; i < NELEM(vals); i++) {
		ck_assert(db_next(r));
		ck_assert(!db_isnull(r, 0));
		s = db_str(r, 0, &len);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(len, strlen(vals[i]));
		ck_assert_mem_eq(s, vals[i], len);
		ck_assert_int_eq(s[len], '\0');
	}
	for (i = 0; i < 2; i++) {
		ck_assert(db_next(r));
		ck_assert(db_isnull(r, 0));
		ck_assert_ptr_null(db_str(r, 0, &len));
	}
	ck_assert(!db_next(r));
	db_rows_free(r);

	/* Four-byte characters are stored as characters, not as '?'. */
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE s = ? AND CHAR_LENGTH(s) = 7 AND LENGTH(s) = 16",
	    vals[2]), 1);
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE s = ?", ""), 1);
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE tag = ? AND s IS NULL", "str"), 2);
}
END_TEST

START_TEST(blobs_round_trip_with_nul_bytes_and_large_sizes)
{
	unsigned char	 small[512], *big;
	struct db_rows	*r;
	const char	*s;
	size_t		 i, len;
	int64_t		 n;

	for (i = 0; i < sizeof(small); i++)
		small[i] = (unsigned char)(i * 7);	/* starts with NUL */
	big = xmalloc(BIG_BLOB_LEN);
	random_bytes(big, BIG_BLOB_LEN);

	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, b) VALUES "
	    "(?, ?), (?, ?), (?, ?)", "sbsbsb", "1small", small,
	    sizeof(small), "2big", big, (size_t)BIG_BLOB_LEN, "3empty", "",
	    (size_t)0));

	ck_db(db, db_query(db, &r, "SELECT b, LENGTH(b) FROM t_db_vals "
	    "ORDER BY tag", ""));
	ck_assert(db_next(r));
	s = db_str(r, 0, &len);
	ck_assert_uint_eq(len, sizeof(small));
	ck_assert_mem_eq(s, small, len);
	ck_assert_int_eq(db_int(r, 1), sizeof(small));
	ck_assert(db_next(r));
	s = db_str(r, 0, &len);
	ck_assert_uint_eq(len, BIG_BLOB_LEN);
	ck_assert(memcmp(s, big, len) == 0);
	ck_assert(db_next(r));
	ck_assert(!db_isnull(r, 0));
	s = db_str(r, 0, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert(!db_next(r));
	db_rows_free(r);

	/* A blob parameter compares byte for byte, NULs included. */
	ck_db(db, db_query_int(db, &n, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE b = ?", "b", small, sizeof(small)));
	ck_assert_int_eq(n, 1);
	free(big);
}
END_TEST

START_TEST(times_round_trip_as_utc)
{
	static const struct {
		time_t		 t;
		const char	*text;
	} vals[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1700000000, "2023-11-14T22:13:20Z" },
		{ -86400, "1969-12-31T00:00:00Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ (time_t)4102444800LL, "2100-01-01T00:00:00Z" },
	};
	json_t		*rows, *row;
	int64_t		 secs;
	size_t		 i;

	for (i = 0; i < NELEM(vals); i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i, t) "
		    "VALUES (?, ?, ?)", "sit", "t", (int64_t)i, vals[i].t));
	ck_db(db, db_query_json(db, &rows, "SELECT t FROM t_db_vals "
	    "ORDER BY i", ""));
	ck_assert_uint_eq(json_array_size(rows), NELEM(vals));
	json_array_foreach(rows, i, row)
		ck_assert_str_eq(json_string_value(json_object_get(row, "t")),
		    vals[i].text);
	json_decref(rows);

	/* The server agrees on the instant, whatever its own time zone. */
	for (i = 0; i < NELEM(vals); i++) {
		ck_db(db, db_query_int(db, &secs, "SELECT TIMESTAMPDIFF("
		    "SECOND, '1970-01-01 00:00:00', t) FROM t_db_vals "
		    "WHERE i = ?", "i", (int64_t)i));
		ck_assert_int_eq(secs, (int64_t)vals[i].t);
	}
}
END_TEST

START_TEST(text_larger_than_the_column_buffer_is_read_whole)
{
	struct db_rows	*r;
	json_t		*row;
	char		*big;
	const char	*s;
	size_t		 i, len;

	big = xmalloc(BIG_TEXT_LEN + 1);
	for (i = 0; i < BIG_TEXT_LEN; i++)
		big[i] = (char)('a' + (i * 7) % 26);
	big[BIG_TEXT_LEN] = '\0';

	/* Short, long, short: the buffers grow in the middle of a read. */
	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, txt, s) VALUES "
	    "(?, ?, ?), (?, ?, ?), (?, ?, ?)", "sssssssss",
	    "1", "short", "a", "2", big, "b", "3", "tiny", "c"));
	ck_db(db, db_query(db, &r, "SELECT txt, s FROM t_db_vals "
	    "ORDER BY tag", ""));
	ck_assert(db_next(r));
	ck_assert_str_eq(db_str(r, 0, NULL), "short");
	ck_assert(db_next(r));
	s = db_str(r, 0, &len);
	ck_assert_uint_eq(len, BIG_TEXT_LEN);
	ck_assert(memcmp(s, big, len) == 0);
	ck_assert_int_eq(s[len], '\0');
	ck_assert_str_eq(db_str(r, 1, NULL), "b");
	ck_assert(db_next(r));
	ck_assert_str_eq(db_str(r, 0, NULL), "tiny");
	ck_assert_str_eq(db_str(r, 1, NULL), "c");
	ck_assert(!db_next(r));
	db_rows_free(r);

	ck_db(db, db_query_one(db, &row, "SELECT txt FROM t_db_vals "
	    "WHERE tag = ?", "s", "2"));
	ck_assert_uint_eq(json_string_length(json_object_get(row, "txt")),
	    BIG_TEXT_LEN);
	ck_assert_str_eq(json_string_value(json_object_get(row, "txt")), big);
	json_decref(row);
	free(big);
}
END_TEST

START_TEST(affected_rows_and_insert_id_describe_the_last_statement)
{
	int64_t		 id;
	uint64_t	 first;

	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "one"));
	ck_assert_uint_eq(db_affected(db), 1);
	first = db_insert_id(db);
	ck_assert_uint_gt(first, 0);
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "two"));
	ck_assert_uint_gt(db_insert_id(db), first);
	ck_db(db, db_query_int(db, &id, "SELECT id FROM t_db_uniq "
	    "WHERE slug = ?", "s", "two"));
	ck_assert_uint_eq((uint64_t)id, db_insert_id(db));

	ck_db(db, db_exec(db, "UPDATE t_db_uniq SET slug = CONCAT(slug, ?)",
	    "s", "x"));
	ck_assert_uint_eq(db_affected(db), 2);
	/* Rows matched but left as they were do not count. */
	ck_db(db, db_exec(db, "UPDATE t_db_uniq SET slug = slug", ""));
	ck_assert_uint_eq(db_affected(db), 0);
	ck_db(db, db_exec(db, "DELETE FROM t_db_uniq WHERE slug = ?", "s",
	    "onex"));
	ck_assert_uint_eq(db_affected(db), 1);
	ck_db(db, db_exec(db, "DELETE FROM t_db_uniq WHERE slug = ?", "s",
	    "nothing"));
	ck_assert_uint_eq(db_affected(db), 0);
}
END_TEST

START_TEST(row_getters_convert_and_report_null)
{
	struct db_rows	*r;
	size_t		 len;
	int		 i;

	ck_db(db, db_query(db, &r, "SELECT 42 AS n, '17' AS s, 2.5e0 AS d, "
	    "NULL AS z, ? AS t", "s", "text"));
	ck_assert_uint_eq(db_ncols(r), 5);
	ck_assert(db_next(r));
	ck_assert_int_eq(db_int(r, 0), 42);
	ck_assert(db_double(r, 0) == 42.0);
	ck_assert_ptr_null(db_str(r, 0, NULL));
	ck_assert_int_eq(db_int(r, 1), 17);
	ck_assert_str_eq(db_str(r, 1, NULL), "17");
	ck_assert(db_double(r, 2) == 2.5);
	ck_assert_int_eq(db_int(r, 2), 2);
	ck_assert(db_isnull(r, 3));
	ck_assert_int_eq(db_int(r, 3), 0);
	ck_assert_ptr_null(db_str(r, 3, NULL));
	ck_assert_str_eq(db_str(r, 4, &len), "text");
	ck_assert_uint_eq(len, 4);
	ck_assert(!db_isnull(r, 4));
	/* A column past the end reads as NULL rather than out of bounds. */
	ck_assert(db_isnull(r, 5));
	ck_assert_ptr_null(db_str(r, 99, NULL));
	ck_assert(!db_next(r));
	ck_assert(!db_next(r));
	db_rows_free(r);

	for (i = 1; i <= 3; i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i) "
		    "VALUES (?, ?)", "si", "rows", (int64_t)i * 10));
	ck_db(db, db_query(db, &r, "SELECT i FROM t_db_vals WHERE tag = ? "
	    "ORDER BY i DESC", "s", "rows"));
	for (i = 3; i >= 1; i--) {
		ck_assert(db_next(r));
		ck_assert_int_eq(db_int(r, 0), i * 10);
	}
	ck_assert(!db_next(r));
	db_rows_free(r);

	ck_db(db, db_query(db, &r, "SELECT i FROM t_db_vals WHERE tag = ?",
	    "s", "none"));
	ck_assert(!db_next(r));
	db_rows_free(r);
}
END_TEST

START_TEST(query_json_maps_column_types)
{
	static const unsigned char	 bin[] = { 0x00, 0xff, 0x10 };
	json_t				*rows, *a, *b;

	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i, u, d, flag, "
	    "small, t, t6, day, price, bin, s) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "'2023-11-14 22:13:20.123456', '2024-02-29', ?, ?, ?)",
	    "siudiitsbn", "1", (int64_t)-5, (uint64_t)7, 0.25, (int64_t)1,
	    (int64_t)7, (time_t)1700000000, "12.50", bin, sizeof(bin)));
	/* Binary that happens to be valid UTF-8 is still binary. */
	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, flag, bin) "
	    "VALUES (?, ?, ?)", "sib", "2", (int64_t)0, "abc", (size_t)3));
	ck_db(db, db_query_json(db, &rows, "SELECT i, u, d, flag, small, t, "
	    "t6, day, price, bin, s FROM t_db_vals ORDER BY tag", ""));
	ck_assert_uint_eq(json_array_size(rows), 2);
	a = json_array_get(rows, 0);
	b = json_array_get(rows, 1);

	ck_assert(json_is_integer(json_object_get(a, "i")));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "i")), -5);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "u")), 7);
	ck_assert(json_is_real(json_object_get(a, "d")));
	ck_assert(json_real_value(json_object_get(a, "d")) == 0.25);
	ck_assert(json_is_true(json_object_get(a, "flag")));
	ck_assert(json_is_false(json_object_get(b, "flag")));
	ck_assert(json_is_integer(json_object_get(a, "small")));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "small")), 7);
	ck_assert_str_eq(json_string_value(json_object_get(a, "t")),
	    "2023-11-14T22:13:20Z");
	ck_assert_str_eq(json_string_value(json_object_get(a, "t6")),
	    "2023-11-14T22:13:20.123456Z");
	ck_assert_str_eq(json_string_value(json_object_get(a, "day")),
	    "2024-02-29");
	/* DECIMAL stays exact: a string, never a binary double. */
	ck_assert_str_eq(json_string_value(json_object_get(a, "price")),
	    "12.50");
	ck_assert_str_eq(json_string_value(json_object_get(a, "bin")),
	    "00ff10");
	ck_assert_str_eq(json_string_value(json_object_get(b, "bin")),
	    "616263");
	ck_assert(json_is_null(json_object_get(a, "s")));
	ck_assert(json_is_null(json_object_get(b, "t")));
	json_decref(rows);

	ck_db(db, db_query_json(db, &rows, "SELECT i FROM t_db_vals "
	    "WHERE tag = ?", "s", "none"));
	ck_assert(json_is_array(rows));
	ck_assert_uint_eq(json_array_size(rows), 0);
	json_decref(rows);
}
END_TEST

START_TEST(query_one_and_query_int_report_missing_rows)
{
	json_t	*row = NULL;
	int64_t	 n = -1;

	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i) VALUES (?, ?), "
	    "(?, ?)", "sisn", "one", (int64_t)11, "null"));

	ck_db(db, db_query_one(db, &row, "SELECT tag, i FROM t_db_vals "
	    "WHERE tag = ?", "s", "one"));
	ck_assert_str_eq(json_string_value(json_object_get(row, "tag")),
	    "one");
	ck_assert_int_eq(json_integer_value(json_object_get(row, "i")), 11);
	json_decref(row);
	row = json_true();
	ck_db_status(db, db_query_one(db, &row, "SELECT tag FROM t_db_vals "
	    "WHERE tag = ?", "s", "missing"), JAMB_ENOTFOUND);
	ck_assert_ptr_null(row);

	ck_db(db, db_query_int(db, &n, "SELECT i FROM t_db_vals "
	    "WHERE tag = ?", "s", "one"));
	ck_assert_int_eq(n, 11);
	ck_db_status(db, db_query_int(db, &n, "SELECT i FROM t_db_vals "
	    "WHERE tag = ?", "s", "missing"), JAMB_ENOTFOUND);
	ck_assert_int_eq(n, 0);
	n = -1;
	ck_db(db, db_query_int(db, &n, "SELECT i FROM t_db_vals "
	    "WHERE tag = ?", "s", "null"));
	ck_assert_int_eq(n, 0);
	ck_db(db, db_query_int(db, &n, "SELECT COUNT(*) FROM t_db_vals", ""));
	ck_assert_int_eq(n, 2);
}
END_TEST

/* Errors */

START_TEST(duplicate_key_is_a_conflict)
{
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "dup"));
	ck_db_status(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)",
	    "s", "dup"), JAMB_ECONFLICT);
	ck_assert_uint_eq(db_errno(db), ER_DUP_ENTRY);
	ck_assert_ptr_nonnull(strstr(db_error(db), "Duplicate"));
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug = ?", "dup"), 1);
}
END_TEST

START_TEST(values_the_schema_refuses_are_invalid)
{
	ck_db_status(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)",
	    "s", "ninechars"), JAMB_EINVAL);
	ck_assert_uint_eq(db_errno(db), ER_DATA_TOO_LONG);
	ck_db_status(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)",
	    "n"), JAMB_EINVAL);
	ck_assert_uint_eq(db_errno(db), ER_BAD_NULL_ERROR);
	ck_db_status(db, db_exec(db, "INSERT INTO t_db_vals (tag, small) "
	    "VALUES (?, ?)", "si", "range", (int64_t)1000), JAMB_EINVAL);
	ck_assert_uint_eq(db_errno(db), ER_WARN_DATA_OUT_OF_RANGE);
	/* Strict mode: nothing was stored truncated or clipped instead. */
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "%"), 0);
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE tag = ?", "range"), 0);
}
END_TEST

START_TEST(syntax_error_is_internal_with_the_server_message)
{
	struct db_rows	*r = (struct db_rows *)1;
	json_t		*j = json_true();
	int64_t		 n = 7;

	ck_db_status(db, db_exec(db, "SELEC 1", ""), JAMB_EINTERNAL);
	ck_assert_uint_eq(db_errno(db), ER_PARSE_ERROR);
	ck_assert_ptr_nonnull(strstr(db_error(db), "syntax"));
	ck_db_status(db, db_query(db, &r, "SELECT FROM WHERE", ""),
	    JAMB_EINTERNAL);
	ck_assert_ptr_null(r);
	ck_db_status(db, db_query_json(db, &j, "SELECT * FROM", ""),
	    JAMB_EINTERNAL);
	ck_assert_ptr_null(j);
	ck_db_status(db, db_query_int(db, &n, "SELECT 1 +", ""),
	    JAMB_EINTERNAL);
	ck_assert_int_eq(n, 0);
	ck_db_status(db, db_query_int(db, &n, "SELECT x FROM t_db_nothing",
	    ""), JAMB_EINTERNAL);
	ck_assert_ptr_nonnull(strstr(db_error(db), "t_db_nothing"));

	/* The connection is still good. */
	ck_db(db, db_query_int(db, &n, "SELECT 5", ""));
	ck_assert_int_eq(n, 5);
}
END_TEST

START_TEST(parameter_count_mismatch_is_internal)
{
	int64_t	 n;

	ck_db_status(db, db_exec(db, "SELECT ?, ?", "i", (int64_t)1),
	    JAMB_EINTERNAL);
	ck_assert_ptr_nonnull(strstr(db_error(db), "parameter count"));
	ck_db_status(db, db_query_int(db, &n, "SELECT ?", "ii", (int64_t)1,
	    (int64_t)2), JAMB_EINTERNAL);
	ck_db_status(db, db_query_int(db, &n, "SELECT 1", "s", "extra"),
	    JAMB_EINTERNAL);

	/* The statements refused above are usable with the right count. */
	ck_db(db, db_exec(db, "SELECT ?, ?", "ii", (int64_t)1, (int64_t)2));
	ck_db(db, db_query_int(db, &n, "SELECT ?", "i", (int64_t)9));
	ck_assert_int_eq(n, 9);
}
END_TEST

START_TEST(unknown_type_letter_is_internal)
{
	struct db_rows	*r = (struct db_rows *)1;
	int64_t		 n;

	ck_db_status(db, db_exec(db, "SELECT ?", "x"), JAMB_EINTERNAL);
	ck_assert_ptr_nonnull(strstr(db_error(db), "type letter"));
	ck_db_status(db, db_query(db, &r, "SELECT ?, ?", "iS", (int64_t)1),
	    JAMB_EINTERNAL);
	ck_assert_ptr_null(r);
	ck_db_status(db, db_query_int(db, &n, "SELECT ?", " "),
	    JAMB_EINTERNAL);
	ck_db(db, db_query_int(db, &n, "SELECT ?", "i", (int64_t)3));
	ck_assert_int_eq(n, 3);
}
END_TEST

static const char *const hostile[] = {
	"' OR 1=1 --",
	"' OR '1'='1",
	"'; DROP TABLE t_db_vals; --",
	"\"; DROP TABLE t_db_vals; --",
	"\\'; DELETE FROM t_db_vals; --",
	"\\",
	"\\0\\n\\Z",
	"100% _sure_",
	"%",
	"_",
	"); DELETE FROM t_db_vals WHERE (1=1",
	"*/ OR 1=1 /*",
};

START_TEST(injection_attempts_are_stored_and_read_back_as_data)
{
	static const char	 nul_blob[] =
	    "\0' OR 1=1; DROP TABLE t_db_vals; --\0\\";
	struct db_rows		*r;
	json_t			*j;
	size_t			 i, len;
	int64_t			 n;

	for (i = 0; i < NELEM(hostile); i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, s, i) "
		    "VALUES (?, ?, ?)", "ssi", hostile[i], hostile[i],
		    (int64_t)i));
	ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, b) VALUES (?, ?)",
	    "sb", "blob", nul_blob, sizeof(nul_blob)));

	for (i = 0; i < NELEM(hostile); i++) {
		ck_db(db, db_query(db, &r, "SELECT s, i FROM t_db_vals "
		    "WHERE tag = ?", "s", hostile[i]));
		ck_assert(db_next(r));
		ck_assert_str_eq(db_str(r, 0, NULL), hostile[i]);
		ck_assert_int_eq(db_int(r, 1), (int64_t)i);
		ck_assert(!db_next(r));
		db_rows_free(r);

		ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM "
		    "t_db_vals WHERE s = ?", hostile[i]), 1);

		ck_db(db, db_query_one(db, &j, "SELECT s FROM t_db_vals "
		    "WHERE s = ?", "s", hostile[i]));
		ck_assert_str_eq(json_string_value(json_object_get(j, "s")),
		    hostile[i]);
		json_decref(j);

		ck_db(db, db_query_json(db, &j, "SELECT i FROM t_db_vals "
		    "WHERE tag = ?", "s", hostile[i]));
		ck_assert_uint_eq(json_array_size(j), 1);
		json_decref(j);

		ck_db(db, db_exec(db, "UPDATE t_db_vals SET d = ? "
		    "WHERE s = ?", "ds", 1.5, hostile[i]));
		ck_assert_uint_eq(db_affected(db), 1);
	}

	ck_db(db, db_query(db, &r, "SELECT b FROM t_db_vals WHERE b = ?", "b",
	    nul_blob, sizeof(nul_blob)));
	ck_assert(db_next(r));
	ck_assert_mem_eq(db_str(r, 0, &len), nul_blob, sizeof(nul_blob));
	ck_assert_uint_eq(len, sizeof(nul_blob));
	db_rows_free(r);

	/* Every row and every table is still there. */
	ck_db(db, db_query_int(db, &n, "SELECT COUNT(*) FROM t_db_vals", ""));
	ck_assert_int_eq(n, (int64_t)NELEM(hostile) + 1);
	ck_db(db, db_query_int(db, &n, "SELECT COUNT(*) FROM t_db_vals "
	    "WHERE d = 1.5", ""));
	ck_assert_int_eq(n, (int64_t)NELEM(hostile));
	ck_db(db, db_query_int(db, &n, "SELECT COUNT(*) FROM "
	    "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
	    "TABLE_NAME IN (?, ?, ?)", "sss", "t_db_vals", "t_db_uniq",
	    "t_db_pair"));
	ck_assert_int_eq(n, 3);
}
END_TEST

/* The statement cache */

START_TEST(same_sql_is_prepared_once)
{
	const struct db_stats	*st = db_stats(db);
	int64_t			 n;
	int			 i;

	for (i = 0; i < 5; i++) {
		ck_db(db, db_query_int(db, &n, "SELECT ? * 2", "i",
		    (int64_t)i));
		ck_assert_int_eq(n, i * 2);
	}
	ck_assert_uint_eq(st->prepares, 1);
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "a"));
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "b"));
	ck_assert_uint_eq(st->prepares, 2);
	ck_assert_uint_eq(st->connects, 1);
}
END_TEST

START_TEST(same_sql_runs_while_its_rows_are_read)
{
	static const char	*sql = "SELECT i FROM t_db_vals WHERE tag = ? "
	    "ORDER BY i";
	struct db_rows		*outer, *inner;
	uint64_t		 prepares;
	int			 i, j;

	for (i = 1; i <= 3; i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i) "
		    "VALUES (?, ?)", "si", "nest", (int64_t)i));

	ck_db(db, db_query(db, &outer, sql, "s", "nest"));
	for (i = 1; db_next(outer); i++) {
		ck_assert_int_eq(db_int(outer, 0), i);
		ck_db(db, db_query(db, &inner, sql, "s", "nest"));
		for (j = 1; db_next(inner); j++)
			ck_assert_int_eq(db_int(inner, 0), j);
		ck_assert_int_eq(j, 4);
		db_rows_free(inner);
		/* The outer rows are unaffected by the inner read. */
		ck_assert_int_eq(db_int(outer, 0), i);
	}
	ck_assert_int_eq(i, 4);
	db_rows_free(outer);

	/* Once the rows are freed, the cached statement serves again. */
	prepares = db_stats(db)->prepares;
	ck_db(db, db_query(db, &outer, sql, "s", "nest"));
	ck_assert(db_next(outer));
	db_rows_free(outer);
	ck_assert_uint_eq(db_stats(db)->prepares, prepares);
}
END_TEST

/* Runs the k-th of a family of distinct statements and checks it. */
static void
distinct_stmt(struct db_conn *c, int k)
{
	char	 sql[64];
	int64_t	 n;

	snprintf(sql, sizeof(sql), "SELECT ? + %d", k);
	ck_db(c, db_query_int(c, &n, sql, "i", (int64_t)1000));
	ck_assert_int_eq(n, 1000 + k);
}

START_TEST(statement_after_a_full_cache_still_works)
{
	const struct db_stats	*st = db_stats(db);
	int			 k;

	for (k = 0; k < DISTINCT_STMTS; k++)
		distinct_stmt(db, k);
	ck_assert_uint_eq(st->prepares, DISTINCT_STMTS);

	/* The last one started the new cache; the first was dropped. */
	distinct_stmt(db, DISTINCT_STMTS - 1);
	ck_assert_uint_eq(st->prepares, DISTINCT_STMTS);
	distinct_stmt(db, 0);
	ck_assert_uint_eq(st->prepares, DISTINCT_STMTS + 1);
	ck_assert_uint_eq(st->connects, 1);
}
END_TEST

START_TEST(rows_stay_readable_across_a_cache_reset)
{
	struct db_rows	*r;
	int		 i, k;

	for (i = 1; i <= 3; i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i) "
		    "VALUES (?, ?)", "si", "keep", (int64_t)i));
	ck_db(db, db_query(db, &r, "SELECT i FROM t_db_vals WHERE tag = ? "
	    "ORDER BY i", "s", "keep"));
	ck_assert(db_next(r));
	ck_assert_int_eq(db_int(r, 0), 1);
	for (k = 0; k < DISTINCT_STMTS + 10; k++)
		distinct_stmt(db, k);
	for (i = 2; i <= 3; i++) {
		ck_assert(db_next(r));
		ck_assert_int_eq(db_int(r, 0), i);
	}
	ck_assert(!db_next(r));
	db_rows_free(r);
}
END_TEST

/* Transactions */

struct tx_insert {
	const char	*slugs[3];
	enum jamb_status ret;	/* returned after the inserts */
};

static enum jamb_status
tx_insert_fn(struct db_conn *c, void *arg)
{
	struct tx_insert	*t = arg;
	enum jamb_status	 st;
	size_t			 i;

	for (i = 0; i < NELEM(t->slugs) && t->slugs[i] != NULL; i++)
		if ((st = db_exec(c, "INSERT INTO t_db_uniq (slug) "
		    "VALUES (?)", "s", t->slugs[i])) != JAMB_OK)
			return st;
	return t->ret;
}

START_TEST(tx_commits_when_the_function_succeeds)
{
	struct tx_insert	 t = { { "c1", "c2", NULL }, JAMB_OK };

	ck_db(db, db_tx(db, tx_insert_fn, &t));
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "c%"), 2);
	ck_assert_uint_eq(db_stats(db)->tx_retries, 0);

	/* Back in autocommit: a plain write is visible at once. */
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "c3"));
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "c%"), 3);
}
END_TEST

START_TEST(tx_rolls_back_when_the_function_fails)
{
	struct tx_insert	 fails = { { "r1", "r2", NULL }, JAMB_EINVAL };
	struct tx_insert	 dup = { { "r3", "r3", NULL }, JAMB_OK };

	ck_db_status(db, db_tx(db, tx_insert_fn, &fails), JAMB_EINVAL);
	ck_db_status(db, db_tx(db, tx_insert_fn, &dup), JAMB_ECONFLICT);
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "r%"), 0);
	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "r%"), 0);
	ck_assert_uint_eq(db_stats(db)->tx_retries, 0);

	/* Back in autocommit after a rollback too. */
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "r4"));
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "r%"), 1);
}
END_TEST

/* Locks two rows in the given order, pausing while holding the first. */
struct pair_order {
	const char	*who;
	int64_t		 first;
	int64_t		 second;
};

static enum jamb_status
pair_fn(struct db_conn *c, void *arg)
{
	const struct pair_order	*p = arg;
	static const char	*upd = "UPDATE t_db_pair SET n = n + 1, "
	    "log = CONCAT(log, ?) WHERE id = ?";
	enum jamb_status	 st;

	if ((st = db_exec(c, upd, "si", p->who, p->first)) != JAMB_OK)
		return st;
	if ((st = db_exec(c, "DO SLEEP(0.3)", "")) != JAMB_OK)
		return st;
	return db_exec(c, upd, "si", p->who, p->second);
}

struct pair_result {
	enum jamb_status st;
	uint64_t	 tx_retries;
	char		 err[512];
};

/* Waits up to ms for fd to be readable; reads len bytes from it. */
static int
read_within(int fd, void *buf, size_t len, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if (poll(&pfd, 1, ms) != 1)
			return -1;
		if ((n = read(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The child side of the deadlock test: a connection of its own (the
 * parent's handle is never touched here: closing it would end the
 * parent's session), ready, then the same two rows in the other order.
 */
static void
pair_child(int ready, int go, int result)
{
	struct pair_order	 p = { "B", 2, 1 };
	struct pair_result	 res;
	struct db_conn		*c;
	char			 byte;

	memset(&res, 0, sizeof(res));
	c = db_new(conf);
	res.st = db_ping(c);
	if (write(ready, "r", 1) != 1 || read(go, &byte, 1) != 1)
		_exit(1);
	if (res.st == JAMB_OK)
		res.st = db_tx(c, pair_fn, &p);
	res.tx_retries = db_stats(c)->tx_retries;
	snprintf(res.err, sizeof(res.err), "%s", db_error(c));
	if (write(result, &res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(1);
	db_free(c);
	_exit(0);
}

START_TEST(deadlock_victim_is_retried_and_both_apply_once)
{
	struct pair_order	 p = { "A", 1, 2 };
	struct pair_result	 child;
	struct db_rows		*r;
	enum jamb_status	 st;
	int			 ready[2], go[2], result[2], status;
	char			 byte;
	pid_t			 pid;
	uint64_t		 retries;

	ck_db(db, db_ping(db));
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(result), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		pair_child(ready[1], go[0], result[1]);

	ck_assert_int_eq(read_within(ready[0], &byte, 1, 10000), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	st = db_tx(db, pair_fn, &p);
	ck_assert_int_eq(read_within(result[0], &child, sizeof(child),
	    30000), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ck_assert_msg(st == JAMB_OK, "A: %s: %s", status_name(st),
	    db_error(db));
	ck_assert_msg(child.st == JAMB_OK, "B: %s: %s",
	    status_name(child.st), child.err);
	retries = db_stats(db)->tx_retries + child.tx_retries;
	ck_assert_msg(retries >= 1, "no transaction was rerun: the two "
	    "did not deadlock");

	/* Each transaction touched each row exactly once. */
	ck_db(db, db_query(db, &r, "SELECT n, log FROM t_db_pair "
	    "ORDER BY id", ""));
	while (db_next(r)) {
		const char *log = db_str(r, 1, NULL);

		ck_assert_int_eq(db_int(r, 0), 2);
		ck_assert_msg(strcmp(log, "AB") == 0 || strcmp(log, "BA") == 0,
		    "row log %s", log);
	}
	db_rows_free(r);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(result[0]);
	close(result[1]);
}
END_TEST

/* Inserts, loses the link, then goes on as a careless function might. */
struct tx_lost {
	int	 ignore_errors;
};

static enum jamb_status
tx_lost_fn(struct db_conn *c, void *arg)
{
	const struct tx_lost	*t = arg;
	enum jamb_status	 st;
	int64_t			 n;

	if ((st = db_exec(c, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "before")) != JAMB_OK)
		return st;
	kill_link(c);
	st = db_query_int(c, &n, "SELECT COUNT(*) FROM t_db_uniq", "");
	if (st != JAMB_OK && !t->ignore_errors)
		return st;
	st = db_exec(c, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "after");
	return t->ignore_errors ? JAMB_OK : st;
}

/*
 * A link lost in the middle of a transaction has rolled it back on the
 * server.  The rest of the function must not run in autocommit on a new
 * connection, and db_tx must not report a commit.
 */
START_TEST(tx_losing_its_link_applies_nothing)
{
	struct tx_lost	 careful = { 0 }, careless = { 1 };

	ck_db_status(db, db_tx(db, tx_lost_fn, &careful), JAMB_EUNAVAIL);
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "%"), 0);
	ck_assert_uint_eq(db_stats(db)->retries, 0);

	ck_db_status(db, db_tx(db, tx_lost_fn, &careless), JAMB_EUNAVAIL);
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "%"), 0);

	/* After the transaction, the handle reconnects as usual. */
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "later"));
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug LIKE ?", "%"), 1);
}
END_TEST

/* Lost links */

START_TEST(read_after_a_lost_link_is_retried_once)
{
	const struct db_stats	*st = db_stats(db);
	int64_t			 before, after, t0;

	ck_db(db, db_query_int(db, &before, "SELECT CONNECTION_ID()", ""));
	kill_link(db);
	t0 = clock_us();
	ck_db(db, db_query_int(db, &after, "SELECT CONNECTION_ID()", ""));
	ck_assert_int_lt(elapsed_ms(t0), 3000);
	ck_assert_int_ne(after, before);
	ck_assert_uint_eq(st->retries, 1);
	ck_assert_uint_eq(st->reconnects, 1);
	ck_assert_uint_eq(st->connects, 2);
}
END_TEST

START_TEST(write_right_after_a_lost_link_fails_and_is_not_applied)
{
	const struct db_stats	*st = db_stats(db);
	int64_t			 t0;

	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "w1"));
	kill_link(db);
	t0 = clock_us();
	ck_db_status(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)",
	    "s", "w2"), JAMB_EUNAVAIL);
	ck_assert_int_lt(elapsed_ms(t0), 3000);
	ck_assert_uint_eq(st->retries, 0);

	ck_assert_int_eq(count_where(db, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug = ?", "w2"), 0);
	ck_assert_uint_eq(st->reconnects, 1);
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "w2"));
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug = ?", "w2"), 1);
}
END_TEST

START_TEST(write_after_an_idle_lost_link_reconnects_first)
{
	const struct db_stats	*st = db_stats(db);
	int64_t			 t0;

	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "i1"));
	kill_link(db);
	sleep(IDLE_PING_S + 1);
	t0 = clock_us();
	ck_db(db, db_exec(db, "INSERT INTO t_db_uniq (slug) VALUES (?)", "s",
	    "i2"));
	ck_assert_int_lt(elapsed_ms(t0), 3000);
	ck_assert_uint_eq(st->reconnects, 1);
	ck_assert_uint_eq(st->retries, 0);
	ck_assert_int_eq(count_where(other, "SELECT COUNT(*) FROM t_db_uniq "
	    "WHERE slug = ?", "i2"), 1);
}
END_TEST

/*
 * Rows being read when the link is lost, from a cached statement and
 * from a second copy of it: a later read must not succeed (it could
 * only do so on a new connection, next to rows that end early), the
 * rows end without crashing, and the handle recovers afterwards.
 */
START_TEST(lost_link_while_rows_are_read_fails_the_next_read)
{
	static const char	*sql = "SELECT i FROM t_db_vals WHERE tag = ? "
	    "ORDER BY i";
	struct db_rows		*r1, *r2;
	int64_t			 n;
	int			 i;

	for (i = 1; i <= 3; i++)
		ck_db(db, db_exec(db, "INSERT INTO t_db_vals (tag, i) "
		    "VALUES (?, ?)", "si", "lost", (int64_t)i));
	ck_db(db, db_query(db, &r1, sql, "s", "lost"));
	ck_db(db, db_query(db, &r2, sql, "s", "lost"));
	ck_assert(db_next(r1));
	ck_assert(db_next(r2));
	kill_link(db);
	ck_db_status(db, db_query_int(db, &n, "SELECT COUNT(*) FROM "
	    "t_db_vals", ""), JAMB_EUNAVAIL);
	ck_assert_uint_eq(db_stats(db)->retries, 0);
	ck_assert(!db_next(r1));
	ck_assert(!db_next(r2));
	db_rows_free(r2);
	db_rows_free(r1);

	ck_db(db, db_query_int(db, &n, "SELECT COUNT(*) FROM t_db_vals", ""));
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(db_stats(db)->reconnects, 1);
}
END_TEST

START_TEST(lock_held_by_another_session_times_out)
{
	char		 name[32], hostile_name[64];
	int64_t		 t0;

	snprintf(name, sizeof(name), "t_db_lock_%ld", (long)getpid());
	ck_db(db, db_lock(db, name, 1));
	t0 = clock_us();
	ck_db_status(other, db_lock(other, name, 1), JAMB_EUNAVAIL);
	ck_assert_int_ge(elapsed_ms(t0), 900);
	ck_assert_int_lt(elapsed_ms(t0), 5000);
	ck_db_status(other, db_lock(other, name, 0), JAMB_EUNAVAIL);

	db_unlock(db, name);
	ck_db(other, db_lock(other, name, 0));
	ck_db_status(db, db_lock(db, name, 0), JAMB_EUNAVAIL);
	db_unlock(other, name);
	ck_db(db, db_lock(db, name, 0));
	db_unlock(db, name);

	/* A name is data too: with quotes in it, it is a name of its own. */
	snprintf(hostile_name, sizeof(hostile_name),
	    "%s'), RELEASE_ALL_LOCKS(); --", name);
	ck_db(db, db_lock(db, hostile_name, 0));
	ck_db(other, db_lock(other, name, 0));
	ck_db_status(other, db_lock(other, hostile_name, 0), JAMB_EUNAVAIL);
	db_unlock(other, name);
	db_unlock(db, hostile_name);
}
END_TEST

/* Replicas */

START_TEST(unreachable_replica_hands_reads_to_the_primary)
{
	struct conf	*rc;
	struct db_conn	*p, *rep;
	int64_t		 n;

	/* Port 1 on loopback refuses at once. */
	ck_assert_int_eq(conf_from_env("127.0.0.1:1", &rc), 0);
	p = db_new(rc);
	rep = db_replica(p);
	ck_assert_ptr_ne(rep, p);
	ck_db(p, db_query_int(rep, &n, "SELECT 6 * 7", ""));
	ck_assert_int_eq(n, 42);
	ck_assert_uint_eq(db_stats(p)->replica_reads, 0);
	/* Known to be down now: the primary itself is offered. */
	ck_assert_ptr_eq(db_replica(p), p);
	db_free(p);
	conf_free(rc);
}
END_TEST

START_TEST(reachable_replica_serves_reads)
{
	struct conf	*rc;
	struct db_conn	*p, *rep;
	char		 addr[300];
	const char	*port = getenv("JAMB_TEST_DB_PORT");
	int64_t		 n;

	/* The test server stands in for a replica of itself. */
	snprintf(addr, sizeof(addr), "%s:%s", getenv("JAMB_TEST_DB_HOST"),
	    port != NULL ? port : "3306");
	ck_assert_int_eq(conf_from_env(addr, &rc), 0);
	p = db_new(rc);
	rep = db_replica(p);
	ck_assert_ptr_ne(rep, p);
	ck_db(rep, db_query_int(rep, &n, "SELECT 6 * 7", ""));
	ck_assert_int_eq(n, 42);
	ck_assert_uint_eq(db_stats(p)->replica_reads, 1);
	ck_assert_uint_eq(db_stats(p)->connects, 0);
	db_free(p);
	conf_free(rc);
}
END_TEST

/* Slow statement log */

#define SLOW_SQL	"SELECT SLEEP(0.05), ?"
#define SLOW_US		50000

/*
 * Logging at warn level to a new temporary file, whose name is left in
 * path, with statements slower than slow_ms logged.  The returned
 * configuration is the one the logger was set up from.
 */
static struct conf *
conf_logging_slow(const char *slow_ms, char *path)
{
	struct conf	*c;
	char		 err[512];
	int		 fd;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	close(fd);
	env_from_test("");
	setenv("JAMB_DB_SLOW_MS", slow_ms, 1);
	setenv("JAMB_LOG_LEVEL", "warn", 1);
	setenv("JAMB_LOG_FILE", path, 1);
	ck_assert_msg(conf_load(NULL, &c, err, sizeof(err)) == JAMB_OK, "%s",
	    err);
	log_setup(c);
	return c;
}

/* The whole of a small file, NUL-terminated; the caller frees it. */
static char *
read_text(const char *path)
{
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	ck_assert_int_eq(ferror(f), 0);
	fclose(f);
	return b.data != NULL ? b.data : xstrdup("");
}

/*
 * Runs SLOW_SQL with a unique string parameter on a connection of its
 * own under c, checks that the server saw the parameter, and returns
 * the log file's text afterwards; marker receives the parameter.
 */
static char *
run_slow_statement(const struct conf *c, const char *path, char *marker,
    size_t markerlen)
{
	struct db_conn	*sc = db_new(c);
	struct db_rows	*r;

	snprintf(marker, markerlen, "secret-param-%ld-%" PRId64,
	    (long)getpid(), clock_us());
	ck_db(sc, db_query(sc, &r, SLOW_SQL, "s", marker));
	ck_assert(db_next(r));
	ck_assert_str_eq(db_str(r, 1, NULL), marker);
	db_rows_free(r);
	db_free(sc);
	return read_text(path);
}

/* Puts the logger back as main() set it up, and removes the file. */
static void
slow_log_done(struct conf *c, const char *path)
{
	log_setup(conf);
	conf_free(c);
	unlink(path);
}

START_TEST(slow_statement_is_logged_with_its_sql_but_not_its_params)
{
	struct conf	*c;
	char		 path[] = "/tmp/jamb-test-db-log.XXXXXX";
	char		 marker[80];
	char		*text;
	json_t		*line, *us;
	json_error_t	 jerr;

	c = conf_logging_slow("20", path);
	text = run_slow_statement(c, path, marker, sizeof(marker));

	ck_assert_msg(*text != '\0' &&
	    strchr(text, '\n') == text + strlen(text) - 1,
	    "not exactly one log line: %s", text);
	ck_assert_msg(strstr(text, marker) == NULL,
	    "the parameter is in the log: %s", text);
	line = json_loads(text, 0, &jerr);
	ck_assert_msg(line != NULL, "%s: %s", jerr.text, text);
	ck_assert_str_eq(json_string_value(json_object_get(line, "msg")),
	    "slow statement");
	ck_assert_str_eq(json_string_value(json_object_get(line, "level")),
	    "warn");
	ck_assert_str_eq(json_string_value(json_object_get(line, "sql")),
	    SLOW_SQL);
	us = json_object_get(line, "duration_us");
	ck_assert(json_is_integer(us));
	ck_assert_int_ge(json_integer_value(us), SLOW_US);

	json_decref(line);
	free(text);
	slow_log_done(c, path);
}
END_TEST

START_TEST(statement_faster_than_slow_ms_is_not_logged)
{
	struct conf	*c;
	char		 path[] = "/tmp/jamb-test-db-log.XXXXXX";
	char		 marker[80];
	char		*text;

	/* Twenty times the statement's duration: a busy machine stays under. */
	c = conf_logging_slow("1000", path);
	text = run_slow_statement(c, path, marker, sizeof(marker));
	ck_assert_msg(*text == '\0', "logged: %s", text);
	free(text);
	slow_log_done(c, path);
}
END_TEST

START_TEST(slow_ms_zero_logs_no_statement)
{
	struct conf	*c;
	char		 path[] = "/tmp/jamb-test-db-log.XXXXXX";
	char		 marker[80];
	char		*text;

	c = conf_logging_slow("0", path);
	text = run_slow_statement(c, path, marker, sizeof(marker));
	ck_assert_msg(*text == '\0', "logged: %s", text);
	free(text);
	slow_log_done(c, path);
}
END_TEST

/* TLS, with JAMB_TEST_DB_TLS=yes only */

START_TEST(tls_session_is_encrypted)
{
	struct db_rows	*r;
	const char	*cipher;

	ck_db(db, db_query(db, &r, "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
	    ""));
	ck_assert(db_next(r));
	cipher = db_str(r, 1, NULL);
	ck_assert_msg(cipher != NULL && *cipher != '\0',
	    "the session has no TLS cipher");
	db_rows_free(r);
}
END_TEST

static int
tls_wanted(void)
{
	const char	*tls = getenv("JAMB_TEST_DB_TLS");

	return tls != NULL && strcmp(tls, "yes") == 0;
}

static Suite *
db_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("db");

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, int_params_round_trip_at_their_limits);
	tcase_add_test(tc, double_params_round_trip_exactly);
	tcase_add_test(tc, strings_round_trip_with_utf8mb4_empty_and_null);
	tcase_add_test(tc, blobs_round_trip_with_nul_bytes_and_large_sizes);
	tcase_add_test(tc, times_round_trip_as_utc);
	tcase_add_test(tc, text_larger_than_the_column_buffer_is_read_whole);
	tcase_add_test(tc,
	    affected_rows_and_insert_id_describe_the_last_statement);
	tcase_add_test(tc, row_getters_convert_and_report_null);
	tcase_add_test(tc, query_json_maps_column_types);
	tcase_add_test(tc, query_one_and_query_int_report_missing_rows);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, duplicate_key_is_a_conflict);
	tcase_add_test(tc, values_the_schema_refuses_are_invalid);
	tcase_add_test(tc, syntax_error_is_internal_with_the_server_message);
	tcase_add_test(tc, parameter_count_mismatch_is_internal);
	tcase_add_test(tc, unknown_type_letter_is_internal);
	tcase_add_test(tc, injection_attempts_are_stored_and_read_back_as_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("statements");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, same_sql_is_prepared_once);
	tcase_add_test(tc, same_sql_runs_while_its_rows_are_read);
	tcase_add_test(tc, statement_after_a_full_cache_still_works);
	tcase_add_test(tc, rows_stay_readable_across_a_cache_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("transactions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tx_commits_when_the_function_succeeds);
	tcase_add_test(tc, tx_rolls_back_when_the_function_fails);
	tcase_add_test(tc, deadlock_victim_is_retried_and_both_apply_once);
	tcase_add_test(tc, tx_losing_its_link_applies_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("links");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, read_after_a_lost_link_is_retried_once);
	tcase_add_test(tc,
	    write_right_after_a_lost_link_fails_and_is_not_applied);
	tcase_add_test(tc, write_after_an_idle_lost_link_reconnects_first);
	tcase_add_test(tc, lost_link_while_rows_are_read_fails_the_next_read);
	tcase_add_test(tc, lock_held_by_another_session_times_out);
	tcase_add_test(tc, unreachable_replica_hands_reads_to_the_primary);
	tcase_add_test(tc, reachable_replica_serves_reads);
	suite_add_tcase(s, tc);

	tc = tcase_create("slow_log");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
	    slow_statement_is_logged_with_its_sql_but_not_its_params);
	tcase_add_test(tc, statement_faster_than_slow_ms_is_not_logged);
	tcase_add_test(tc, slow_ms_zero_logs_no_statement);
	suite_add_tcase(s, tc);

	if (tls_wanted()) {
		tc = tcase_create("tls");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 30);
		tcase_add_test(tc, tls_session_is_encrypted);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (getenv("JAMB_TEST_DB_HOST") == NULL ||
	    getenv("JAMB_TEST_DB_NAME") == NULL) {
		fprintf(stderr, "test_db: JAMB_TEST_DB_HOST and "
		    "JAMB_TEST_DB_NAME are not set; skipped\n");
		return 77;
	}
	if (conf_from_env("", &conf) == -1)
		return EXIT_FAILURE;
	log_setup(conf);
	if (run_all(drop_sql, NELEM(drop_sql)) == -1 ||
	    run_all(create_sql, NELEM(create_sql)) == -1)
		return EXIT_FAILURE;

	sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	if (run_all(drop_sql, NELEM(drop_sql)) == -1)
		failed++;
	conf_free(conf);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
