#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apikey.h"
#include "audit.h"
#include "db.h"
#include "keycli.h"
#include "util.h"

/*
 * jamb key: API keys from the server's shell.  This is how a site gets
 * its first owner key, before anyone can sign in to the admin routes,
 * and how a key is revoked when the site itself is unreachable.  What
 * the commands change is audited like the admin routes' changes, with
 * no actor and "source": "cli" in the details.
 */

/* Characters, as api_keys.name holds them (sql/0001_init.sql). */
#define KEYCLI_NAME_MAX	200

struct keycli_create {
	const char	*name;
	enum role	 role;
	char		*plain;
	int64_t		 id;
};

struct keycli_revoke {
	const char	*arg;
	int64_t		 id;
	char		 prefix[APIKEY_PREFIX_LEN + 1];
	int		 found;
	int		 changed;
};

static void
keycli_usage(void)
{
	fprintf(stderr, "usage: jamb key [-c file] create --role ROLE NAME\n"
	    "       jamb key [-c file] list\n"
	    "       jamb key [-c file] revoke ID_OR_PREFIX\n"
	    "ROLE is owner, admin, editor, author or member.\n");
}

/*
 * The rule of the admin route: 1 to KEYCLI_NAME_MAX characters of UTF-8
 * without control characters, which would garble the list.
 */
static int
keycli_name_ok(const char *s)
{
	size_t		 i, len = strlen(s), chars = 0;
	unsigned char	 c;

	if (!utf8_valid(s, len))
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
		if ((c & 0xc0) != 0x80)
			chars++;
	}
	return chars >= 1 && chars <= KEYCLI_NAME_MAX;
}

static enum jamb_status
keycli_create_tx(struct db_conn *db, void *arg)
{
	struct keycli_create	*k = arg;
	json_t			*details;
	enum jamb_status	 st;

	/* A rerun after a deadlock makes a new key; the old one is gone. */
	apikey_forget(&k->plain);
	if ((st = apikey_create(db, k->name, k->role, 0, &k->plain,
	    &k->id)) != JAMB_OK)
		return st;
	details = json_pack("{s:s, s:s}", "name", k->name, "role",
	    role_name(k->role));
	st = audit_write(db, NULL, "api_key.create", "api_key", k->id,
	    details);
	return st;
}

/*
 * Prints the key alone on stdout, so that a script can capture it, and
 * everything a person should read on stderr.
 */
static int
keycli_create(const struct conf *c, int argc, char **argv)
{
	struct keycli_create	 k;
	struct db_conn		*db = NULL;
	const char		*role = NULL;
	int			 i, rc = 1;

	memset(&k, 0, sizeof(k));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strncmp(argv[i], "--role=", 7) == 0)
			role = argv[i] + 7;
		else if (strcmp(argv[i], "--") == 0 && i + 2 == argc &&
		    k.name == NULL)
			k.name = argv[++i];
		else if (argv[i][0] != '-' && k.name == NULL)
			k.name = argv[i];
		else {
			keycli_usage();
			return 2;
		}
	}
	if (role == NULL || k.name == NULL) {
		keycli_usage();
		return 2;
	}
	if ((k.role = role_parse(role)) == ROLE_NONE) {
		fprintf(stderr, "jamb key create: unknown role \"%s\"; use "
		    "owner, admin, editor, author or member\n", role);
		return 2;
	}
	if (!keycli_name_ok(k.name)) {
		fprintf(stderr, "jamb key create: the name must be 1 to %d "
		    "characters of UTF-8 without control characters\n",
		    KEYCLI_NAME_MAX);
		return 2;
	}

	db = db_new(c);
	if (db_tx(db, keycli_create_tx, &k) != JAMB_OK) {
		fprintf(stderr, "jamb key create: the key was not created "
		    "(has `jamb migrate up` run?): %s\n", db_error(db));
		goto out;
	}
	printf("%s\n", k.plain);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "jamb key create: the key could not be "
		    "written out; revoke API key %lld\n", (long long)k.id);
		goto out;
	}
	fprintf(stderr, "API key %lld (%.*s, role %s) created.  It is shown "
	    "only this once: store it now.\n", (long long)k.id,
	    APIKEY_PREFIX_LEN, k.plain, role_name(k.role));
	rc = 0;
out:
	apikey_forget(&k.plain);
	db_free(db);
	return rc;
}

/* One cell of the list: text as it is, a number, or "-" for NULL. */
static void
keycli_cell(json_t *v, const char *sep)
{
	if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT "%s", json_integer_value(v),
		    sep);
	else if (json_is_string(v))
		printf("%s%s", json_string_value(v), sep);
	else
		printf("-%s", sep);
}

/* Tab-separated with a header, newest first; never the hash. */
static int
keycli_list(const struct conf *c, int argc, char **argv)
{
	static const char *const cols[] = { "id", "prefix", "name", "role",
	    "created", "last_used", "revoked" };
	struct db_conn	*db;
	json_t		*rows = NULL, *row;
	size_t		 i, j, n = sizeof(cols) / sizeof(cols[0]);
	int		 rc = 1;

	if (argc != 0) {
		keycli_usage();
		return 2;
	}
	db = db_new(c);
	if (db_query_json(db, &rows, "SELECT id, prefix, name, role, "
	    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') AS created, "
	    "DATE_FORMAT(last_used_at, '%Y-%m-%dT%H:%i:%sZ') AS last_used, "
	    "DATE_FORMAT(revoked_at, '%Y-%m-%dT%H:%i:%sZ') AS revoked "
	    "FROM api_keys ORDER BY id DESC", "") != JAMB_OK) {
		fprintf(stderr, "jamb key list: cannot read the keys (has "
		    "`jamb migrate up` run?): %s\n", db_error(db));
		goto out;
	}
	for (j = 0; j < n; j++)
		printf("%s%s", cols[j], j + 1 < n ? "\t" : "\n");
	json_array_foreach(rows, i, row)
		for (j = 0; j < n; j++)
			keycli_cell(json_object_get(row, cols[j]),
			    j + 1 < n ? "\t" : "\n");
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	json_decref(rows);
	db_free(db);
	return rc;
}

/* Finds the key by id or prefix and revokes it unless it already is. */
static enum jamb_status
keycli_revoke_tx(struct db_conn *db, void *arg)
{
	struct keycli_revoke	*r = arg;
	struct db_rows		*rows;
	const char		*prefix;
	json_t			*details;
	enum jamb_status	 st;
	int			 revoked = 0;

	r->found = r->changed = 0;
	st = r->id > 0 ?
	    db_query(db, &rows, "SELECT id, prefix, revoked_at IS NOT NULL "
	    "FROM api_keys WHERE id = ? FOR UPDATE", "i", r->id) :
	    db_query(db, &rows, "SELECT id, prefix, revoked_at IS NOT NULL "
	    "FROM api_keys WHERE prefix = ? FOR UPDATE", "s", r->prefix);
	if (st != JAMB_OK)
		return st;
	if (db_next(rows) && (prefix = db_str(rows, 1, NULL)) != NULL) {
		r->found = 1;
		r->id = db_int(rows, 0);
		snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
		revoked = db_int(rows, 2) != 0;
	}
	db_rows_free(rows);
	if (!r->found || revoked)
		return JAMB_OK;

	st = db_exec(db, "UPDATE api_keys SET revoked_at = NOW(6) "
	    "WHERE id = ?", "i", r->id);
	if (st != JAMB_OK)
		return st;
	r->changed = 1;
	details = json_object();
	st = audit_write(db, NULL, "api_key.revoke", "api_key", r->id,
	    details);
	return st;
}

/*
 * The argument is an id, a prefix ("jamb_" and eight characters), or a
 * whole key, whose prefix names it: a key that leaked can be revoked
 * from the very text that leaked.
 */
static int
keycli_revoke_arg(const char *s, struct keycli_revoke *r)
{
	size_t	 len = strlen(s);

	r->arg = s;
	if (len > 0 && len < 20 && strspn(s, "0123456789") == len &&
	    (r->id = strtoll(s, NULL, 10)) > 0)
		return 1;
	if ((len == APIKEY_PREFIX_LEN && strncmp(s, "jamb_", 5) == 0) ||
	    apikey_looks_like(s)) {
		memcpy(r->prefix, s, APIKEY_PREFIX_LEN);
		r->prefix[APIKEY_PREFIX_LEN] = '\0';
		return 1;
	}
	return 0;
}

static int
keycli_revoke(const struct conf *c, int argc, char **argv)
{
	struct keycli_revoke	 r;
	struct db_conn		*db;
	int			 rc = 1;

	memset(&r, 0, sizeof(r));
	if (argc != 1 || !keycli_revoke_arg(argv[0], &r)) {
		keycli_usage();
		return 2;
	}
	db = db_new(c);
	if (db_tx(db, keycli_revoke_tx, &r) != JAMB_OK) {
		fprintf(stderr, "jamb key revoke: the key was not revoked: "
		    "%s\n", db_error(db));
		goto out;
	}
	if (!r.found) {
		fprintf(stderr, "jamb key revoke: no API key %s\n", r.arg);
		goto out;
	}
	printf("API key %lld (%s) %s\n", (long long)r.id, r.prefix,
	    r.changed ? "revoked" : "was already revoked");
	rc = 0;
out:
	db_free(db);
	return rc;
}

int
keycli_main(const struct conf *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "create") == 0)
		return keycli_create(c, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return keycli_list(c, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
		return keycli_revoke(c, argc - 1, argv + 1);
	keycli_usage();
	return 2;
}
