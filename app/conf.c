#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clientip.h"
#include "conf.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef JAMB_SQLDIR
#define JAMB_SQLDIR "/usr/share/jamb/sql"
#endif
#ifndef JAMB_MAILDIR
#define JAMB_MAILDIR "/usr/share/jamb/mail"
#endif

enum conf_type {
	CONF_STR,
	CONF_INT,
	CONF_BOOL,
	CONF_MODE,
	CONF_SIZE,
	CONF_ENUM
};

#define CONF_SECRET	0x01

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	const char	*def;
	long		 min;
	long		 max;
	int		 flags;
	const char	*const *choices;
};

static const char *const levels[] = { "debug", "info", "warn", "error",
    NULL };
static const char *const formats[] = { "json", "text", NULL };
/* In the order of enum ratelimit_fail (ratelimit.h). */
static const char *const fail_modes[] = { "open", "closed", NULL };

#define O(f)	offsetof(struct conf, f)

static const struct conf_key keys[] = {
	{ "server", "listen", CONF_STR, O(server_listen),
	    "/run/jamb/jamb.sock", 0, 0, 0, NULL },
	{ "server", "socket_mode", CONF_MODE, O(server_socket_mode),
	    "0660", 0, 0777, 0, NULL },
	{ "server", "backlog", CONF_INT, O(server_backlog),
	    "128", 1, 65535, 0, NULL },
	{ "server", "workers", CONF_INT, O(server_workers),
	    "4", 1, 256, 0, NULL },
	{ "server", "max_requests", CONF_INT, O(server_max_requests),
	    "10000", 0, LONG_MAX, 0, NULL },
	{ "server", "grace", CONF_INT, O(server_grace),
	    "30", 0, 3600, 0, NULL },
	{ "server", "body_limit", CONF_SIZE, O(server_body_limit),
	    "1M", 0, 1024L * 1024 * 1024, 0, NULL },
	{ "server", "json_depth", CONF_INT, O(server_json_depth),
	    "32", 1, 1000, 0, NULL },
	{ "server", "pidfile", CONF_STR, O(server_pidfile),
	    "", 0, 0, 0, NULL },
	{ "log", "level", CONF_ENUM, O(log_level),
	    "info", 0, 0, 0, levels },
	{ "log", "format", CONF_ENUM, O(log_format),
	    "json", 0, 0, 0, formats },
	{ "log", "file", CONF_STR, O(log_file),
	    "", 0, 0, 0, NULL },
	{ "db", "host", CONF_STR, O(db_host),
	    "127.0.0.1", 0, 0, 0, NULL },
	{ "db", "port", CONF_INT, O(db_port),
	    "3306", 1, 65535, 0, NULL },
	{ "db", "socket", CONF_STR, O(db_socket),
	    "", 0, 0, 0, NULL },
	{ "db", "user", CONF_STR, O(db_user),
	    "jamb", 0, 0, 0, NULL },
	{ "db", "password", CONF_STR, O(db_password),
	    "", 0, 0, CONF_SECRET, NULL },
	{ "db", "name", CONF_STR, O(db_name),
	    "jamb", 0, 0, 0, NULL },
	{ "db", "connect_timeout", CONF_INT, O(db_connect_timeout),
	    "5", 1, 300, 0, NULL },
	{ "db", "read_timeout", CONF_INT, O(db_read_timeout),
	    "30", 1, 3600, 0, NULL },
	{ "db", "write_timeout", CONF_INT, O(db_write_timeout),
	    "30", 1, 3600, 0, NULL },
	{ "db", "replicas", CONF_STR, O(db_replicas),
	    "", 0, 0, 0, NULL },
	{ "db", "slow_ms", CONF_INT, O(db_slow_ms),
	    "500", 0, 3600000, 0, NULL },
	{ "db", "tls", CONF_BOOL, O(db_tls),
	    "no", 0, 1, 0, NULL },
	{ "db", "tls_ca", CONF_STR, O(db_tls_ca),
	    "", 0, 0, 0, NULL },
	{ "db", "migrations", CONF_STR, O(db_migrations),
	    JAMB_SQLDIR, 0, 0, 0, NULL },
	{ "db", "allow_pending_migrations", CONF_BOOL, O(db_allow_pending),
	    "no", 0, 1, 0, NULL },
	{ "cache", "servers", CONF_STR, O(cache_servers),
	    "127.0.0.1:11211", 0, 0, 0, NULL },
	{ "cache", "prefix", CONF_STR, O(cache_prefix),
	    "jamb:", 0, 0, 0, NULL },
	{ "cache", "timeout_ms", CONF_INT, O(cache_timeout_ms),
	    "250", 1, 60000, 0, NULL },
	{ "cache", "responses", CONF_BOOL, O(cache_responses),
	    "yes", 0, 1, 0, NULL },
	{ "cache", "response_ttl", CONF_INT, O(cache_response_ttl),
	    "300", 1, 2592000, 0, NULL },
	{ "cors", "origins", CONF_STR, O(cors_origins),
	    "", 0, 0, 0, NULL },
	{ "cors", "credentials", CONF_BOOL, O(cors_credentials),
	    "yes", 0, 1, 0, NULL },
	{ "cors", "max_age", CONF_INT, O(cors_max_age),
	    "600", 0, 86400, 0, NULL },
	{ "http", "max_age", CONF_INT, O(http_max_age),
	    "60", 0, 31536000, 0, NULL },
	{ "http", "s_maxage", CONF_INT, O(http_s_maxage),
	    "300", 0, 31536000, 0, NULL },
	{ "http", "stale_while_revalidate", CONF_INT,
	    O(http_stale_while_revalidate), "60", 0, 31536000, 0, NULL },
	{ "http", "trusted_proxies", CONF_STR, O(http_trusted_proxies),
	    "", 0, 0, 0, NULL },
	{ "ratelimit", "enabled", CONF_BOOL, O(rl_enabled),
	    "yes", 0, 1, 0, NULL },
	{ "ratelimit", "window", CONF_INT, O(rl_window),
	    "60", 1, 86400, 0, NULL },
	{ "ratelimit", "read_per_address", CONF_INT, O(rl_read_per_address),
	    "600", 1, 100000000, 0, NULL },
	{ "ratelimit", "api_per_address", CONF_INT, O(rl_api_per_address),
	    "300", 1, 100000000, 0, NULL },
	{ "ratelimit", "strict_per_address", CONF_INT,
	    O(rl_strict_per_address), "20", 1, 100000000, 0, NULL },
	{ "ratelimit", "per_account", CONF_INT, O(rl_per_account),
	    "1200", 1, 100000000, 0, NULL },
	{ "ratelimit", "read_fail", CONF_ENUM, O(rl_read_fail),
	    "open", 0, 0, 0, fail_modes },
	{ "ratelimit", "api_fail", CONF_ENUM, O(rl_api_fail),
	    "open", 0, 0, 0, fail_modes },
	{ "ratelimit", "strict_fail", CONF_ENUM, O(rl_strict_fail),
	    "closed", 0, 0, 0, fail_modes },
	{ "auth", "argon2_memory_kib", CONF_INT, O(auth_argon2_memory_kib),
	    "19456", 8, 4194304, 0, NULL },
	{ "auth", "argon2_iterations", CONF_INT, O(auth_argon2_iterations),
	    "2", 1, 100, 0, NULL },
	{ "auth", "argon2_parallelism", CONF_INT,
	    O(auth_argon2_parallelism), "1", 1, 64, 0, NULL },
	{ "auth", "issuer", CONF_STR, O(auth_issuer),
	    "jamb", 0, 0, 0, NULL },
	{ "auth", "audience", CONF_STR, O(auth_audience),
	    "jamb", 0, 0, 0, NULL },
	{ "auth", "access_ttl", CONF_INT, O(auth_access_ttl),
	    "900", 30, 86400, 0, NULL },
	{ "auth", "refresh_ttl", CONF_INT, O(auth_refresh_ttl),
	    "2592000", 300, 31622400, 0, NULL },
	{ "auth", "leeway", CONF_INT, O(auth_leeway),
	    "60", 0, 600, 0, NULL },
	{ "auth", "signing_alg", CONF_STR, O(auth_signing_alg),
	    "RS256", 0, 0, 0, NULL },
	{ "auth", "signing_key", CONF_STR, O(auth_signing_key),
	    "", 0, 0, 0, NULL },
	{ "auth", "verify_keys", CONF_STR, O(auth_verify_keys),
	    "", 0, 0, 0, NULL },
	{ "auth", "hmac_secret", CONF_STR, O(auth_hmac_secret),
	    "", 0, 0, CONF_SECRET, NULL },
	{ "auth", "login_max_failures_per_account", CONF_INT,
	    O(auth_login_max_account), "10", 1, 1000000, 0, NULL },
	{ "auth", "login_max_failures_per_address", CONF_INT,
	    O(auth_login_max_address), "50", 1, 1000000, 0, NULL },
	{ "auth", "login_failure_window", CONF_INT, O(auth_login_window),
	    "900", 1, 86400, 0, NULL },
	{ "auth", "magic_link_ttl", CONF_INT, O(auth_link_ttl),
	    "900", 60, 86400, 0, NULL },
	{ "auth", "magic_link_signup", CONF_BOOL, O(auth_link_signup),
	    "yes", 0, 1, 0, NULL },
	{ "auth", "link_base", CONF_STR, O(auth_link_base),
	    "http://localhost:3000/auth/callback", 0, 0, 0, NULL },
	{ "auth", "verify_link_base", CONF_STR, O(auth_verify_link_base),
	    "http://localhost:3000/auth/verify-email", 0, 0, 0, NULL },
	{ "auth", "reset_link_base", CONF_STR, O(auth_reset_link_base),
	    "http://localhost:3000/auth/reset-password", 0, 0, 0, NULL },
	{ "auth", "site_name", CONF_STR, O(auth_site_name),
	    "jamb", 0, 0, 0, NULL },
	{ "auth", "link_requests_per_email", CONF_INT,
	    O(auth_link_max_email), "5", 1, 1000000, 0, NULL },
	{ "auth", "link_requests_per_client", CONF_INT,
	    O(auth_link_max_client), "20", 1, 1000000, 0, NULL },
	{ "auth", "link_request_window", CONF_INT, O(auth_link_window),
	    "900", 1, 86400, 0, NULL },
	{ "mail", "smtp_url", CONF_STR, O(mail_smtp_url),
	    "smtp://127.0.0.1:25", 0, 0, 0, NULL },
	{ "mail", "smtp_user", CONF_STR, O(mail_smtp_user),
	    "", 0, 0, 0, NULL },
	{ "mail", "smtp_password", CONF_STR, O(mail_smtp_password),
	    "", 0, 0, CONF_SECRET, NULL },
	{ "mail", "from", CONF_STR, O(mail_from),
	    "jamb@localhost", 0, 0, 0, NULL },
	{ "mail", "timeout", CONF_INT, O(mail_timeout),
	    "30", 1, 600, 0, NULL },
	{ "mail", "templates", CONF_STR, O(mail_templates),
	    JAMB_MAILDIR, 0, 0, 0, NULL },
	{ "jobs", "enabled", CONF_BOOL, O(jobs_enabled),
	    "yes", 0, 1, 0, NULL },
	{ "jobs", "interval_ms", CONF_INT, O(jobs_interval_ms),
	    "1000", 10, 600000, 0, NULL },
	{ "jobs", "max_attempts", CONF_INT, O(jobs_max_attempts),
	    "10", 1, 100, 0, NULL },
	{ "jobs", "backoff", CONF_INT, O(jobs_backoff),
	    "30", 1, 86400, 0, NULL },
	{ "content", "revisions_keep", CONF_INT, O(content_revisions_keep),
	    "50", 0, 100000, 0, NULL },
	{ "content", "preview_ttl", CONF_INT, O(content_preview_ttl),
	    "3600", 1, 604800, 0, NULL },
	{ "debug", "routes", CONF_BOOL, O(debug_routes),
	    "no", 0, 1, 0, NULL },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

#define I(f)	offsetof(struct conf_issuer, f)

/* The keys of each [issuer NAME] section; offsets into its struct. */
static const struct conf_key issuer_keys[] = {
	{ "issuer", "url", CONF_STR, I(url), "", 0, 0, 0, NULL },
	{ "issuer", "audience", CONF_STR, I(audience), "", 0, 0, 0, NULL },
	{ "issuer", "jwks_url", CONF_STR, I(jwks_url), "", 0, 0, 0, NULL },
	{ "issuer", "jwks_file", CONF_STR, I(jwks_file), "", 0, 0, 0, NULL },
	{ "issuer", "algs", CONF_STR, I(algs),
	    "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA",
	    0, 0, 0, NULL },
	{ "issuer", "refresh", CONF_INT, I(refresh), "60", 1, 86400, 0,
	    NULL },
	{ "issuer", "ttl", CONF_INT, I(ttl), "3600", 10, 604800, 0, NULL },
};

#define NISSUER_KEYS	(sizeof(issuer_keys) / sizeof(issuer_keys[0]))

const char *
conf_default_path(void)
{
	return SYSCONFDIR "/jamb.conf";
}

static const struct conf_key *
conf_find(const char *section, const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
parse_long(const char *s, int base, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Sizes take an optional k, M or G suffix (powers of 1024). */
static int
parse_size(const char *s, long *out)
{
	char	*end;
	long	 v, mul = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		mul = 1024;
		break;
	case 'm':
		mul = 1024 * 1024;
		break;
	case 'g':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0' &&
	    !(tolower((unsigned char)end[1]) == 'b' && end[2] == '\0'))
		return -1;
	if (v > LONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int
parse_bool(const char *s, long *out)
{
	if (str_case_eq(s, "yes") || str_case_eq(s, "true") ||
	    str_case_eq(s, "on") || strcmp(s, "1") == 0)
		*out = 1;
	else if (str_case_eq(s, "no") || str_case_eq(s, "false") ||
	    str_case_eq(s, "off") || strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Stores one value; on failure writes why into err. */
static enum jamb_status
conf_set(void *target, const struct conf_key *k, const char *val,
    char *err, size_t errlen)
{
	char	*base = target;
	long	 v = 0;
	size_t	 i;
	int	 bad = 0;

	switch (k->type) {
	case CONF_STR:
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(val);
		return JAMB_OK;
	case CONF_INT:
		bad = parse_long(val, 10, &v);
		break;
	case CONF_MODE:
		bad = parse_long(val, 8, &v);
		break;
	case CONF_SIZE:
		bad = parse_size(val, &v);
		break;
	case CONF_BOOL:
		bad = parse_bool(val, &v);
		break;
	case CONF_ENUM:
		bad = -1;
		for (i = 0; k->choices[i] != NULL; i++)
			if (str_case_eq(k->choices[i], val)) {
				v = (long)i;
				bad = 0;
			}
		break;
	}
	if (bad == 0 && k->type != CONF_ENUM && (v < k->min || v > k->max))
		bad = -1;
	if (bad != 0) {
		snprintf(err, errlen, "[%s] %s: invalid value \"%s\"",
		    k->section, k->name, val);
		return JAMB_ECONFIG;
	}
	*(long *)(base + k->off) = v;
	return JAMB_OK;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Cuts a comment: ';' or '#' at the start or after a blank. */
static char *
strip_comment(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if ((*p == '#' || *p == ';') &&
		    (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	return trim(s);
}

static int
section_known(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, name) == 0)
			return 1;
	return 0;
}

static const struct conf_key *
issuer_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NISSUER_KEYS; i++)
		if (strcmp(issuer_keys[i].name, name) == 0)
			return &issuer_keys[i];
	return NULL;
}

/* Starts [issuer NAME]: a new entry with the defaults. */
static enum jamb_status
issuer_section(struct conf *c, const char *name, const char *path,
    int lineno, char *err, size_t errlen)
{
	struct conf_issuer	*is;
	size_t			 i;

	name += strspn(name, " \t");
	if (*name == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(name)) {
		snprintf(err, errlen, "%s:%d: [issuer NAME] needs a name of "
		    "letters, digits, '_', '-' and '.'", path, lineno);
		return JAMB_ECONFIG;
	}
	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].name, name) == 0) {
			snprintf(err, errlen, "%s:%d: [issuer %s] given twice",
			    path, lineno, name);
			return JAMB_ECONFIG;
		}
	if (c->nissuers == CONF_ISSUERS_MAX) {
		snprintf(err, errlen, "%s:%d: more than %d issuers", path,
		    lineno, CONF_ISSUERS_MAX);
		return JAMB_ECONFIG;
	}
	is = &c->issuers[c->nissuers++];
	is->name = xstrdup(name);
	for (i = 0; i < NISSUER_KEYS; i++)
		conf_set(is, &issuer_keys[i], issuer_keys[i].def, err, errlen);
	return JAMB_OK;
}

/*
 * Parses one "key = value" line.  A value may be quoted with double
 * quotes to keep leading or trailing blanks or a comment character;
 * only a comment may follow the closing quote.
 */
static enum jamb_status
conf_line(struct conf *c, const char *path, int lineno, char *line,
    char *section, size_t seclen, int *secret_seen, char *err, size_t errlen)
{
	const struct conf_key	*k;
	char			*eq, *key, *val, *end;
	void			*target;

	line = trim(line);
	if (*line == '\0' || *line == '#' || *line == ';')
		return JAMB_OK;
	if (*line == '[') {
		line = strip_comment(line);
		if ((end = strchr(line, ']')) == NULL || end[1] != '\0') {
			snprintf(err, errlen, "%s:%d: malformed section",
			    path, lineno);
			return JAMB_ECONFIG;
		}
		*end = '\0';
		snprintf(section, seclen, "%s", trim(line + 1));
		if (strncmp(section, "issuer ", 7) == 0)
			return issuer_section(c, section + 7, path, lineno,
			    err, errlen);
		if (!section_known(section)) {
			snprintf(err, errlen, "%s:%d: unknown section [%s]",
			    path, lineno, section);
			return JAMB_ECONFIG;
		}
		return JAMB_OK;
	}
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(err, errlen, "%s:%d: expected key = value",
		    path, lineno);
		return JAMB_ECONFIG;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (*val == '"') {
		if ((end = strchr(val + 1, '"')) == NULL ||
		    *strip_comment(end + 1) != '\0') {
			snprintf(err, errlen, "%s:%d: unterminated quote, or "
			    "text after the closing quote", path, lineno);
			return JAMB_ECONFIG;
		}
		*end = '\0';
		val++;
	} else
		val = strip_comment(val);
	target = c;
	if (strncmp(section, "issuer ", 7) == 0) {
		target = &c->issuers[c->nissuers - 1];
		k = issuer_find(key);
	} else
		k = conf_find(section, key);
	if (k == NULL) {
		snprintf(err, errlen, "%s:%d: unknown key [%s] %s",
		    path, lineno, section, key);
		return JAMB_ECONFIG;
	}
	if ((k->flags & CONF_SECRET) && *val != '\0')
		*secret_seen = 1;
	if (conf_set(target, k, val, err, errlen) != JAMB_OK) {
		/* Prefix the location, keep the key and value text. */
		char	tmp[512];

		snprintf(tmp, sizeof(tmp), "%s:%d: %s", path, lineno, err);
		snprintf(err, errlen, "%s", tmp);
		return JAMB_ECONFIG;
	}
	return JAMB_OK;
}

static enum jamb_status
conf_read_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE		*f;
	struct stat	 st;
	char		 line[4096], section[64] = "";
	int		 lineno = 0, secret_seen = 0;
	enum jamb_status rc = JAMB_OK;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return JAMB_ECONFIG;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long",
			    path, lineno);
			rc = JAMB_ECONFIG;
			break;
		}
		rc = conf_line(c, path, lineno, line, section,
		    sizeof(section), &secret_seen, err, errlen);
		if (rc != JAMB_OK)
			break;
	}
	if (rc == JAMB_OK && fstat(fileno(f), &st) == 0 &&
	    (st.st_mode & S_IROTH) && secret_seen)
		c->secret_exposed = 1;
	fclose(f);
	return rc;
}

/* JAMB_<SECTION>_<KEY> overrides the file for every key. */
static enum jamb_status
conf_read_env(struct conf *c, char *err, size_t errlen)
{
	char		 name[128], *p;
	const char	*val;
	size_t		 i;

	for (i = 0; i < NKEYS; i++) {
		snprintf(name, sizeof(name), "JAMB_%s_%s", keys[i].section,
		    keys[i].name);
		for (p = name; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		if ((val = getenv(name)) == NULL)
			continue;
		if (conf_set(c, &keys[i], val, err, errlen) != JAMB_OK) {
			char	tmp[512];

			snprintf(tmp, sizeof(tmp), "%s: %s", name, err);
			snprintf(err, errlen, "%s", tmp);
			return JAMB_ECONFIG;
		}
	}
	return JAMB_OK;
}

/* Whether a comma-separated list contains the item exactly. */
int
conf_list_has(const char *list, const char *item)
{
	const char	*p = list, *end;
	size_t		 n = strlen(item), len;

	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		end = p;
		while (*end != '\0' && *end != ',')
			end++;
		len = (size_t)(end - p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == n && len > 0 && memcmp(p, item, n) == 0)
			return 1;
		p = end;
	}
	return 0;
}

/*
 * Whether s can start the links jamb emails: an http or https URL with
 * no blank, control character or fragment, to which "?token=" (or
 * "&token=") is appended.
 */
static int
link_base_valid(const char *s)
{
	const char	*p;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#')
			return 0;
	return 1;
}

static enum jamb_status
conf_check(const struct conf *c, char *err, size_t errlen)
{
	const struct conf_issuer	*is;
	const char			*links[3];
	size_t				 i;

	if (*c->server_listen == '\0') {
		snprintf(err, errlen, "[server] listen: must not be empty");
		return JAMB_ECONFIG;
	}
	/* Browsers refuse a wildcard origin on credentialed requests. */
	if (c->cors_credentials && conf_list_has(c->cors_origins, "*")) {
		snprintf(err, errlen, "[cors] origins: \"*\" cannot be used "
		    "with credentials = yes; list the origins");
		return JAMB_ECONFIG;
	}
	/* Argon2 needs at least 8 KiB of memory per lane. */
	if (c->auth_argon2_memory_kib < 8 * c->auth_argon2_parallelism) {
		snprintf(err, errlen, "[auth] argon2_memory_kib: must be at "
		    "least 8 times argon2_parallelism");
		return JAMB_ECONFIG;
	}
	for (i = 0; i < c->nissuers; i++) {
		is = &c->issuers[i];
		if (*is->url == '\0' || (*is->jwks_url == '\0') ==
		    (*is->jwks_file == '\0')) {
			snprintf(err, errlen, "[issuer %s]: url and exactly one "
			    "of jwks_url and jwks_file are required",
			    is->name);
			return JAMB_ECONFIG;
		}
		if (strcmp(is->url, c->auth_issuer) == 0) {
			snprintf(err, errlen, "[issuer %s]: url is jamb's own "
			    "[auth] issuer", is->name);
			return JAMB_ECONFIG;
		}
	}
	links[0] = c->auth_link_base;
	links[1] = c->auth_verify_link_base;
	links[2] = c->auth_reset_link_base;
	for (i = 0; i < 3; i++)
		if (!link_base_valid(links[i])) {
			snprintf(err, errlen, "[auth] link bases must be http "
			    "or https URLs without blanks or '#', got \"%s\"",
			    links[i]);
			return JAMB_ECONFIG;
		}
	/* The site name goes into subject lines. */
	for (i = 0; c->auth_site_name[i] != '\0'; i++)
		if ((unsigned char)c->auth_site_name[i] < 0x20 ||
		    c->auth_site_name[i] == 0x7f)
			break;
	if (c->auth_site_name[i] != '\0' || !utf8_valid(c->auth_site_name,
	    i)) {
		snprintf(err, errlen, "[auth] site_name: must be UTF-8 "
		    "without control characters");
		return JAMB_ECONFIG;
	}
	if (!clientip_list_valid(c->http_trusted_proxies)) {
		snprintf(err, errlen, "[http] trusted_proxies: expected a "
		    "list of IP addresses or CIDR blocks, got \"%s\"",
		    c->http_trusted_proxies);
		return JAMB_ECONFIG;
	}
	if (*c->cache_servers == '\0' ||
	    !cache_servers_valid(c->cache_servers)) {
		snprintf(err, errlen, "[cache] servers: expected a list of "
		    "HOST:PORT, got \"%s\"", c->cache_servers);
		return JAMB_ECONFIG;
	}
	return JAMB_OK;
}

/*
 * Loads the configuration from path (NULL: defaults and environment
 * only).  On failure, *out is NULL and err says which key or line is at
 * fault.  The caller frees *out with conf_free.
 */
enum jamb_status
conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct conf	*c;
	size_t		 i;
	enum jamb_status rc;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	for (i = 0; i < NKEYS; i++)
		if ((rc = conf_set(c, &keys[i], keys[i].def, err,
		    errlen)) != JAMB_OK)
			goto fail;
	if (path != NULL) {
		c->path = xstrdup(path);
		if ((rc = conf_read_file(c, path, err, errlen)) != JAMB_OK)
			goto fail;
	}
	if ((rc = conf_read_env(c, err, errlen)) != JAMB_OK)
		goto fail;
	if ((rc = conf_check(c, err, errlen)) != JAMB_OK)
		goto fail;
	*out = c;
	return JAMB_OK;
fail:
	conf_free(c);
	return rc;
}

void
conf_free(struct conf *c)
{
	size_t	 i, j;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == CONF_STR)
			free(*(char **)((char *)c + keys[i].off));
	for (i = 0; i < c->nissuers; i++) {
		for (j = 0; j < NISSUER_KEYS; j++)
			if (issuer_keys[j].type == CONF_STR)
				free(*(char **)((char *)&c->issuers[i] +
				    issuer_keys[j].off));
		free(c->issuers[i].name);
	}
	free(c->path);
	free(c);
}

static void
print_value(FILE *f, const struct conf_key *k, const char *base)
{
	const char	*s;
	long		 v;

	if (k->type == CONF_STR) {
		s = *(char *const *)(base + k->off);
		if ((k->flags & CONF_SECRET) && *s != '\0')
			s = "********";
		fprintf(f, "%s = %s\n", k->name, s);
		return;
	}
	v = *(const long *)(base + k->off);
	if (k->type == CONF_BOOL)
		fprintf(f, "%s = %s\n", k->name, v ? "yes" : "no");
	else if (k->type == CONF_ENUM)
		fprintf(f, "%s = %s\n", k->name, k->choices[v]);
	else if (k->type == CONF_MODE)
		fprintf(f, "%s = %04lo\n", k->name, v);
	else
		fprintf(f, "%s = %ld\n", k->name, v);
}

/* Prints the effective configuration; secrets are masked. */
void
conf_print(const struct conf *c, FILE *f)
{
	const char	*section = "";
	size_t		 i, j;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			fprintf(f, "%s[%s]\n", i ? "\n" : "", keys[i].section);
			section = keys[i].section;
		}
		print_value(f, &keys[i], (const char *)c);
	}
	for (i = 0; i < c->nissuers; i++) {
		fprintf(f, "\n[issuer %s]\n", c->issuers[i].name);
		for (j = 0; j < NISSUER_KEYS; j++)
			print_value(f, &issuer_keys[j],
			    (const char *)&c->issuers[i]);
	}
}
