#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "db.h"
#include "migrate.h"
#include "util.h"

/* The named server lock held by the one host that migrates. */
#define LOCK_NAME	"jamb.migrate"
/* Seconds a second host waits for the first one's migrations. */
#define LOCK_WAIT_S	600
/*
 * Read timeout of migrate's own connection.  The configured one is meant
 * for requests; an ALTER TABLE on a big table may run for hours, and the
 * wait for the lock must not be cut short either.
 */
#define READ_TIMEOUT_S	86400
/* schema_migrations stores versions as INT UNSIGNED, names in 255. */
#define VERSION_MAX	4294967295ULL
#define NAME_MAX_LEN	255
/* A hex SHA-256, and how much of one a message shows. */
#define SUM_LEN		64
#define SUM_SHORT	12
#define ERR_LEN		1024

static const char create_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT UNSIGNED NOT NULL,"
    " name VARCHAR(255) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL,"
    " PRIMARY KEY (version)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

/*
 * One version: its file (sql is NULL when the file is missing) and, once
 * applied, what schema_migrations recorded.
 */
struct migration {
	uint64_t	 version;
	char		*name;
	char		*sql;
	size_t		 len;
	char		 sum[SUM_LEN + 1];
	char		*applied_at;	/* NULL while pending */
	char		 recorded[SUM_LEN + 1];
};

/* Every version known from the folder or the table, by version. */
struct plan {
	const char		*dir;
	struct migration	*v;
	size_t			 n;
};

/* One statement of a migration file, for running them one by one. */
struct statement {
	const char	*sql;
	size_t		 len;
	int		 line;
};

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The version of a migration file name, NNNN_name.sql: four or more
 * digits, '_', then a name of a-z, 0-9 and '_'.  Returns 0 for any other
 * name.  A number too big for schema_migrations gives a version over
 * VERSION_MAX, for the caller to refuse.
 */
static int
parse_name(const char *name, uint64_t *version)
{
	const char	*p;
	size_t		 digits = 0, len, i;

	*version = 0;
	for (p = name; is_digit(*p); p++, digits++)
		if (*version <= VERSION_MAX)
			*version = *version * 10 + (uint64_t)(*p - '0');
	if (digits < 4 || *p++ != '_')
		return 0;
	len = strlen(p);
	if (len <= 4 || strcmp(p + len - 4, ".sql") != 0)
		return 0;
	for (i = 0; i < len - 4; i++)
		if (!(p[i] >= 'a' && p[i] <= 'z') && !is_digit(p[i]) &&
		    p[i] != '_')
			return 0;
	return 1;
}

/*
 * A file that was surely meant as a migration but is named otherwise
 * (0003_AddTags.sql, 12_x.sql): worth a warning, since it is skipped.
 */
static int
looks_like_migration(const char *name)
{
	size_t	 len = strlen(name);

	return is_digit(name[0]) && len > 4 &&
	    strcmp(name + len - 4, ".sql") == 0;
}

static enum jamb_status
read_file(const char *path, char **data, size_t *len, char *err,
    size_t errlen)
{
	struct buf	 b;
	struct stat	 sb;
	char		 chunk[16384];
	ssize_t		 got;
	int		 fd;

	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			goto fail;
		if (got == 0)
			break;
		buf_add(&b, chunk, (size_t)got);
	}
	close(fd);
	*data = b.data;
	*len = b.len;
	return JAMB_OK;
fail:
	snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	buf_free(&b);
	return JAMB_EIO;
}

static void
checksum(const char *data, size_t len, char *hex)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	/* Only running out of memory inside OpenSSL makes this fail. */
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen * 2 != SUM_LEN)
		abort();
	hex_encode(hex, md, mdlen);
}

static struct migration *
plan_add(struct plan *p, uint64_t version)
{
	struct migration	*m;

	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	m = &p->v[p->n++];
	memset(m, 0, sizeof(*m));
	m->version = version;
	return m;
}

static struct migration *
plan_find(struct plan *p, uint64_t version)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].version == version)
			return &p->v[i];
	return NULL;
}

static int
migration_cmp(const void *a, const void *b)
{
	const struct migration	*x = a, *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
plan_free(struct plan *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].sql);
		free(p->v[i].applied_at);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* Adds one migration file of the folder, read and checksummed. */
static enum jamb_status
plan_add_file(struct plan *p, const char *name, uint64_t version,
    char *err, size_t errlen)
{
	struct migration	*m;
	char			*path;
	enum jamb_status	 st;

	if (version > VERSION_MAX || strlen(name) > NAME_MAX_LEN) {
		snprintf(err, errlen, "%s: the number must stay below %llu "
		    "and the name within %d bytes", name, VERSION_MAX + 1,
		    NAME_MAX_LEN);
		return JAMB_EINVAL;
	}
	m = plan_add(p, version);
	m->name = xstrdup(name);
	path = xasprintf("%s/%s", p->dir, name);
	st = read_file(path, &m->sql, &m->len, err, errlen);
	free(path);
	if (st == JAMB_OK)
		checksum(m->sql, m->len, m->sum);
	return st;
}

/*
 * Reads the migration files of dir into p, sorted by version; other
 * files are skipped, with a warning on stderr when verbose and the name
 * looks like a mistyped migration.  Two files of one version are an
 * error.  p is to be freed by plan_free whatever the result.
 */
static enum jamb_status
plan_scan(struct plan *p, const char *dir, int verbose, char *err,
    size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	uint64_t	 version;
	size_t		 i;
	enum jamb_status st = JAMB_OK;

	memset(p, 0, sizeof(*p));
	p->dir = dir;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot read the migrations folder "
		    "\"%s\" ([db] migrations): %s", dir, strerror(errno));
		return JAMB_ECONFIG;
	}
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		if (parse_name(de->d_name, &version)) {
			st = plan_add_file(p, de->d_name, version, err, errlen);
			if (st != JAMB_OK)
				goto out;
		} else if (verbose && looks_like_migration(de->d_name))
			fprintf(stderr, "jamb: migrate: ignoring %s/%s: "
			    "migrations are named NNNN_name.sql (4 or more "
			    "digits, then a-z, 0-9 and _)\n", dir, de->d_name);
	}
	if (errno != 0) {
		snprintf(err, errlen, "cannot read the migrations folder "
		    "\"%s\": %s", dir, strerror(errno));
		st = JAMB_EIO;
		goto out;
	}

	if (p->n > 0)
		qsort(p->v, p->n, sizeof(*p->v), migration_cmp);
	for (i = 1; i < p->n; i++)
		if (p->v[i].version == p->v[i - 1].version) {
			snprintf(err, errlen, "%s and %s have the same version "
			    "%" PRIu64 "; give one of them a new number",
			    p->v[i - 1].name, p->v[i].name, p->v[i].version);
			st = JAMB_EINVAL;
			goto out;
		}
out:
	closedir(d);
	return st;
}

static void
set_applied(struct migration *m, const char *name, const char *sum,
    const char *at)
{
	if (m->name == NULL)
		m->name = xstrdup(name != NULL ? name : "?");
	snprintf(m->recorded, sizeof(m->recorded), "%s",
	    sum != NULL ? sum : "");
	m->applied_at = xstrdup(at != NULL ? at : "?");
}

/*
 * Adds what schema_migrations records to the files of p.  A database
 * without the table has nothing applied; the table is not created here,
 * so that status and --dry-run change nothing.
 */
static enum jamb_status
plan_load(struct plan *p, struct db_conn *db, char *err, size_t errlen)
{
	struct db_rows		*r = NULL;
	struct migration	*m;
	uint64_t		 version;
	int64_t			 exists;
	enum jamb_status	 st;

	st = db_query_int(db, &exists, "SELECT COUNT(*) FROM "
	    "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
	    "TABLE_NAME = 'schema_migrations'", "");
	if (st != JAMB_OK)
		goto fail;
	if (exists == 0)
		return JAMB_OK;
	st = db_query(db, &r, "SELECT version, name, checksum, "
	    "DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%s.%fZ') "
	    "FROM schema_migrations ORDER BY version", "");
	if (st != JAMB_OK)
		goto fail;
	while (db_next(r)) {
		version = (uint64_t)db_int(r, 0);
		if ((m = plan_find(p, version)) == NULL)
			m = plan_add(p, version);
		set_applied(m, db_str(r, 1, NULL), db_str(r, 2, NULL),
		    db_str(r, 3, NULL));
	}
	db_rows_free(r);
	/* Versions whose file is gone were added at the end. */
	if (p->n > 0)
		qsort(p->v, p->n, sizeof(*p->v), migration_cmp);
	return JAMB_OK;
fail:
	snprintf(err, errlen, "cannot read schema_migrations: %s",
	    db_error(db));
	return st;
}

/*
 * Whether the applied migrations are still the files they were: an
 * edited or deleted one means the database and the folder tell
 * different stories, and nothing should be applied on top of that.
 */
static enum jamb_status
plan_verify(const struct plan *p, char *err, size_t errlen)
{
	const struct migration	*m;
	size_t			 i;

	for (i = 0; i < p->n; i++) {
		m = &p->v[i];
		if (m->applied_at == NULL)
			continue;
		if (m->sql == NULL) {
			snprintf(err, errlen, "%s (version %" PRIu64 ") was "
			    "applied at %s but its file is missing from %s; "
			    "restore it", m->name, m->version, m->applied_at,
			    p->dir);
			return JAMB_ECONFLICT;
		}
		if (strcmp(m->sum, m->recorded) != 0) {
			snprintf(err, errlen, "%s was changed after it was "
			    "applied (checksum %.*s... recorded, %.*s... now); "
			    "restore it and add a new migration instead",
			    m->name, SUM_SHORT, m->recorded, SUM_SHORT,
			    m->sum);
			return JAMB_ECONFLICT;
		}
	}
	return JAMB_OK;
}

static size_t
plan_pending(const struct plan *p)
{
	size_t	 i, n = 0;

	for (i = 0; i < p->n; i++)
		if (p->v[i].applied_at == NULL)
			n++;
	return n;
}

/* The length of a comment starting at s[i], or 0 if none starts there. */
static size_t
comment_len(const char *s, size_t len, size_t i)
{
	size_t	 j;

	if (s[i] == '#' || (s[i] == '-' && i + 1 < len && s[i + 1] == '-' &&
	    (i + 2 == len || isspace((unsigned char)s[i + 2]) ||
	    iscntrl((unsigned char)s[i + 2])))) {
		for (j = i; j < len && s[j] != '\n'; j++)
			continue;
		return j - i;
	}
	/*
	 * The server runs the text of a comment opening with '!' (how
	 * mysqldump guards version-specific settings): that one is code.
	 */
	if (s[i] != '/' || i + 2 >= len || s[i + 1] != '*' || s[i + 2] == '!')
		return 0;
	for (j = i + 2; j + 1 < len; j++)
		if (s[j] == '*' && s[j + 1] == '/')
			return j + 2 - i;
	return len - i;
}

/* The length of the quoted string or identifier starting at s[i]. */
static size_t
quoted_len(const char *s, size_t len, size_t i)
{
	size_t	 j;
	char	 q = s[i];

	for (j = i + 1; j < len; j++) {
		if (s[j] == '\\' && q != '`')
			j++;
		else if (s[j] == q)
			return j + 1 - i;
	}
	return len - i;
}

static int
count_lines(const char *s, size_t n)
{
	int	 lines = 0;

	while (n-- > 0)
		if (*s++ == '\n')
			lines++;
	return lines;
}

/*
 * A "DELIMITER x" line at s[i], as the mysql client takes it: sets
 * *delim and *dlen to x and returns the length of the line, or 0 if
 * there is none.
 */
static size_t
delimiter_cmd(const char *s, size_t len, size_t i, const char **delim,
    size_t *dlen)
{
	size_t	 j, k;

	if (len - i < 10 || strncasecmp(s + i, "delimiter", 9) != 0 ||
	    (s[i + 9] != ' ' && s[i + 9] != '\t'))
		return 0;
	for (j = i + 9; j < len && (s[j] == ' ' || s[j] == '\t'); j++)
		continue;
	for (k = j; k < len && !isspace((unsigned char)s[k]); k++)
		continue;
	if (k == j)
		return 0;
	*delim = s + j;
	*dlen = k - j;
	for (; k < len && s[k] != '\n'; k++)
		continue;
	return k - i;
}

/*
 * Splits a migration into statements as the mysql client does, so that
 * they can run one at a time and a failure can be named by statement
 * and line: at ';' outside quotes and comments, or at the delimiter set
 * by a "DELIMITER x" line, which is how stored programs (whose bodies
 * hold ';') are written for the client too.  Stretches holding only
 * comments are no statement.  Returns the count; *out points into s and
 * is freed by the caller.
 */
static size_t
split_sql(const char *s, size_t len, struct statement **out)
{
	struct statement	*v = NULL;
	const char		*delim = ";";
	size_t			 dlen = 1, n = 0, i = 0, start = 0, skip;
	int			 line = 1, code = 0;

	while (i <= len) {
		if (i == len || (len - i >= dlen &&
		    memcmp(s + i, delim, dlen) == 0)) {
			if (code) {
				v = xrealloc(v, (n + 1) * sizeof(*v));
				v[n].sql = s + start;
				v[n].len = i - start;
				v[n].line = line - count_lines(s + start,
				    i - start);
				n++;
			}
			code = 0;
			i += i == len ? 1 : dlen;
			continue;
		}
		if (isspace((unsigned char)s[i]))
			skip = 1;
		else if ((skip = comment_len(s, len, i)) == 0 && (code ||
		    (skip = delimiter_cmd(s, len, i, &delim, &dlen)) == 0)) {
			if (!code) {
				code = 1;
				start = i;
			}
			skip = s[i] == '\'' || s[i] == '"' || s[i] == '`' ?
			    quoted_len(s, len, i) : 1;
		}
		line += count_lines(s + i, skip);
		i += skip;
	}
	*out = v;
	return n;
}

/*
 * Applies one migration, statement by statement, then records it.
 * MySQL commits DDL at once, so a file failing half-way leaves what its
 * earlier statements did; it is not recorded, and the message says how
 * far it got for whoever repairs it by hand.  A failed statement closes
 * the connection, which also releases the migration lock.
 */
static enum jamb_status
apply(struct db_conn *db, const struct migration *m, size_t *nstmts,
    char *err, size_t errlen)
{
	struct statement	*v = NULL;
	char			 ran[160];
	size_t			 n, i;
	enum jamb_status	 st = JAMB_OK;

	*nstmts = n = split_sql(m->sql, m->len, &v);
	for (i = 0; i < n; i++)
		if ((st = db_script(db, v[i].sql, v[i].len)) != JAMB_OK)
			break;
	if (st != JAMB_OK) {
		if (i == 0)
			snprintf(ran, sizeof(ran), "no statement ran before "
			    "it");
		else if (i == 1)
			snprintf(ran, sizeof(ran), "statement 1 ran before it "
			    "and is not undone (MySQL commits DDL at once): "
			    "repair the database by hand");
		else
			snprintf(ran, sizeof(ran), "statements 1-%zu ran "
			    "before it and are not undone (MySQL commits DDL "
			    "at once): repair the database by hand", i);
		snprintf(err, errlen, "%s failed at statement %zu of %zu "
		    "(line %d): %s; %s; version %" PRIu64 " is not recorded: "
		    "fix the file, then run jamb migrate up again", m->name,
		    i + 1, n, v[i].line, db_error(db), ran, m->version);
		goto out;
	}

	st = db_exec(db, "INSERT INTO schema_migrations (version, name, "
	    "checksum, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))", "uss",
	    m->version, m->name, m->sum);
	if (st != JAMB_OK)
		snprintf(err, errlen, "%s ran, but recording version %" PRIu64
		    " failed: %s; insert its row into schema_migrations by "
		    "hand (checksum %s) or it will run again", m->name,
		    m->version, db_error(db), m->sum);
out:
	free(v);
	return st;
}

static enum jamb_status
connect_db(struct db_conn *db, char *err, size_t errlen)
{
	if (db_ping(db) == JAMB_OK)
		return JAMB_OK;
	snprintf(err, errlen, "cannot reach the database: %s", db_error(db));
	return JAMB_EUNAVAIL;
}

/*
 * Takes the migration lock, waiting while another host migrates.  The
 * caller reads schema_migrations only once it holds the lock, so the
 * second host to get it finds the first one's work done.
 */
static enum jamb_status
take_lock(struct db_conn *db, char *err, size_t errlen)
{
	enum jamb_status st;

	if (db_lock(db, LOCK_NAME, 0) == JAMB_OK)
		return JAMB_OK;
	if ((st = connect_db(db, err, errlen)) != JAMB_OK)
		return st;
	printf("another jamb migrate is running; waiting up to %d s for it\n",
	    LOCK_WAIT_S);
	fflush(stdout);
	if ((st = db_lock(db, LOCK_NAME, LOCK_WAIT_S)) != JAMB_OK)
		snprintf(err, errlen, "could not take the lock %s within %d s: "
		    "%s", LOCK_NAME, LOCK_WAIT_S, db_error(db));
	return st;
}

static void
print_dry_run(const struct plan *p)
{
	const struct migration	*m;
	size_t			 i, n = 0;

	for (i = 0; i < p->n; i++) {
		m = &p->v[i];
		if (m->applied_at != NULL)
			continue;
		printf("-- %s (version %" PRIu64 ") would be applied:\n",
		    m->name, m->version);
		fwrite(m->sql, 1, m->len, stdout);
		if (m->len > 0 && m->sql[m->len - 1] != '\n')
			putchar('\n');
		n++;
	}
	if (n == 0)
		printf("nothing to apply: all %zu migration%s applied\n", p->n,
		    p->n == 1 ? " is" : "s are");
	else
		printf("-- dry run: %zu migration%s would be applied; nothing "
		    "was changed\n", n, plural(n));
}

/* jamb migrate up [--dry-run]: the exit status. */
static int
migrate_up(const struct conf *c, int dry_run)
{
	struct conf		 mc = *c;
	struct plan		 p;
	struct migration	*m;
	struct db_conn		*db = NULL;
	char			 err[ERR_LEN];
	size_t			 i, n, done = 0;
	int64_t			 t0;
	int			 rc = 1;

	if (plan_scan(&p, c->db_migrations, 1, err, sizeof(err)) != JAMB_OK)
		goto fail;
	if (mc.db_read_timeout < READ_TIMEOUT_S)
		mc.db_read_timeout = READ_TIMEOUT_S;
	/* Long statements are expected here, not worth a log line each. */
	mc.db_slow_ms = 0;
	db = db_new(&mc);
	if (connect_db(db, err, sizeof(err)) != JAMB_OK)
		goto fail;

	if (!dry_run) {
		if (take_lock(db, err, sizeof(err)) != JAMB_OK)
			goto fail;
		if (db_exec(db, create_sql, "") != JAMB_OK) {
			snprintf(err, sizeof(err), "cannot create "
			    "schema_migrations: %s", db_error(db));
			goto fail;
		}
	}
	if (plan_load(&p, db, err, sizeof(err)) != JAMB_OK ||
	    plan_verify(&p, err, sizeof(err)) != JAMB_OK)
		goto fail;
	if (dry_run) {
		print_dry_run(&p);
		rc = 0;
		goto out;
	}

	for (i = 0; i < p.n; i++) {
		m = &p.v[i];
		if (m->applied_at != NULL)
			continue;
		printf("applying %s\n", m->name);
		fflush(stdout);
		t0 = clock_us();
		if (apply(db, m, &n, err, sizeof(err)) != JAMB_OK)
			goto fail;
		printf("applied %s: %zu statement%s in %.3f s\n", m->name, n,
		    plural(n), (double)(clock_us() - t0) / 1e6);
		fflush(stdout);
		done++;
	}
	if (done == 0)
		printf("nothing to apply: all %zu migration%s applied\n", p.n,
		    p.n == 1 ? " is" : "s are");
	/* On failure, closing the connection releases the lock. */
	db_unlock(db, LOCK_NAME);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "jamb: migrate: %s\n", err);
out:
	db_free(db);
	plan_free(&p);
	return rc;
}

static void
print_status(const struct plan *p)
{
	const struct migration	*m;
	const char		*note;
	size_t			 i, w = 0;

	for (i = 0; i < p->n; i++)
		if (strlen(p->v[i].name) > w)
			w = strlen(p->v[i].name);
	for (i = 0; i < p->n; i++) {
		m = &p->v[i];
		if (m->applied_at == NULL) {
			printf("%-*s  pending\n", (int)w, m->name);
			continue;
		}
		note = "";
		if (m->sql == NULL)
			note = "  (file missing)";
		else if (strcmp(m->sum, m->recorded) != 0)
			note = "  (file changed since)";
		printf("%-*s  applied %s%s\n", (int)w, m->name, m->applied_at,
		    note);
	}
	printf("%zu applied, %zu pending in %s\n", p->n - plan_pending(p),
	    plan_pending(p), p->dir);
}

/* jamb migrate status: the exit status, 1 when up would refuse. */
static int
migrate_status(const struct conf *c)
{
	struct plan	 p;
	struct db_conn	*db = NULL;
	char		 err[ERR_LEN];
	int		 rc = 1;

	if (plan_scan(&p, c->db_migrations, 1, err, sizeof(err)) != JAMB_OK)
		goto fail;
	db = db_new(c);
	if (connect_db(db, err, sizeof(err)) != JAMB_OK ||
	    plan_load(&p, db, err, sizeof(err)) != JAMB_OK)
		goto fail;
	print_status(&p);
	if (plan_verify(&p, err, sizeof(err)) != JAMB_OK)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "jamb: migrate: %s\n", err);
out:
	db_free(db);
	plan_free(&p);
	return rc;
}

int
migrate_main(const struct conf *c, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "status") == 0)
		return migrate_status(c);
	if (argc == 1 && strcmp(argv[0], "up") == 0)
		return migrate_up(c, 0);
	if (argc == 2 && strcmp(argv[0], "up") == 0 &&
	    strcmp(argv[1], "--dry-run") == 0)
		return migrate_up(c, 1);
	fprintf(stderr, "usage: jamb migrate [-c file] status | up "
	    "[--dry-run]\n");
	return 2;
}

enum jamb_status
migrate_pending(const struct conf *c, int *n, char *err, size_t errlen)
{
	struct plan	 p;
	struct db_conn	*db = NULL;
	enum jamb_status st;

	*n = 0;
	if ((st = plan_scan(&p, c->db_migrations, 0, err, errlen)) !=
	    JAMB_OK)
		goto out;
	db = db_new(c);
	if ((st = connect_db(db, err, errlen)) != JAMB_OK ||
	    (st = plan_load(&p, db, err, errlen)) != JAMB_OK ||
	    (st = plan_verify(&p, err, errlen)) != JAMB_OK)
		goto out;
	*n = (int)plan_pending(&p);
out:
	db_free(db);
	plan_free(&p);
	return st;
}
