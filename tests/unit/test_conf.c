/*
 * Unit tests for app/conf.c: defaults, the file format, value types and
 * their limits, error messages, environment overrides, the checks
 * across keys, printing with secrets masked and the exposed-secret flag.
 * Each test writes its configuration to a temporary file of its own.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

extern char **environ;

#define RUN_DIR_NAME	"jamb-test-conf"

/*
 * Every temporary file goes in a directory of the run's own, removed at
 * the end even when a failing test skipped its teardown.
 */
static char	 run_dir[PATH_MAX];

static int
run_dir_create(void)
{
	const char	*base = getenv("TMPDIR");

	snprintf(run_dir, sizeof(run_dir), "%s/%s-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp", RUN_DIR_NAME);
	if (mkdtemp(run_dir) == NULL) {
		perror(run_dir);
		return -1;
	}
	return 0;
}

static void
run_dir_remove(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[PATH_MAX + 256];

	if ((d = opendir(run_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", run_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(run_dir);
}

static char	 conf_path[PATH_MAX];

/* Removes every JAMB_* variable, so the caller's shell cannot leak in. */
static void
clear_jamb_env(void)
{
	struct kvlist	 names = { 0 };
	char		**e;
	size_t		 i, n;

	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, "JAMB_", 5) == 0) {
			n = strcspn(*e, "=");
			kv_addn(&names, *e, n, "", 0);
		}
	for (i = 0; i < names.n; i++)
		unsetenv(names.v[i].key);
	kv_free(&names);
}

static void
setup(void)
{
	clear_jamb_env();
	conf_path[0] = '\0';
}

static void
teardown(void)
{
	if (conf_path[0] != '\0')
		unlink(conf_path);
	clear_jamb_env();
}

/* Writes text to a new temporary file with mode; returns its path. */
static const char *
write_conf(const char *text, mode_t mode)
{
	size_t		 len = strlen(text);
	int		 fd;

	if (conf_path[0] != '\0')
		unlink(conf_path);
	ck_assert_int_lt(snprintf(conf_path, sizeof(conf_path),
	    "%s/conf-XXXXXX", run_dir), (int)sizeof(conf_path));
	fd = mkstemp(conf_path);
	ck_assert_msg(fd >= 0, "mkstemp %s failed", conf_path);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return conf_path;
}

/* Loads text as a 0600 file, which must succeed. */
static struct conf *
load_ok(const char *text)
{
	struct conf	*c;
	char		 err[512] = "";
	enum jamb_status st;

	st = conf_load(write_conf(text, 0600), &c, err, sizeof(err));
	ck_assert_msg(st == JAMB_OK, "refused: %s\n--\n%s", err, text);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Loads text as a 0600 file, which must fail; the message is in err. */
static void
load_fails(const char *text, char *err, size_t errlen)
{
	static struct conf	 unset;
	struct conf		*c = &unset;
	enum jamb_status	 st;

	err[0] = '\0';
	st = conf_load(write_conf(text, 0600), &c, err, errlen);
	ck_assert_msg(st == JAMB_ECONFIG, "accepted:\n%s", text);
	ck_assert_ptr_null(c);
	ck_assert_str_ne(err, "");
}

/* Whether err names the loaded file and line, as "path:line:". */
static int
names_line(const char *err, int line)
{
	char	 want[PATH_MAX + 32];

	snprintf(want, sizeof(want), "%s:%d:", conf_path, line);
	return strstr(err, want) != NULL;
}

START_TEST(defaults_apply_without_a_file)
{
	struct conf	*c;
	char		 err[512] = "";

	ck_assert_int_eq(conf_load(NULL, &c, err, sizeof(err)), JAMB_OK);
	ck_assert_ptr_null(c->path);
	ck_assert_str_eq(c->server_listen, "/run/jamb/jamb.sock");
	ck_assert_int_eq(c->server_socket_mode, 0660);
	ck_assert_int_eq(c->server_backlog, 128);
	ck_assert_int_eq(c->server_workers, 4);
	ck_assert_int_eq(c->server_max_requests, 10000);
	ck_assert_int_eq(c->server_grace, 30);
	ck_assert_int_eq(c->server_body_limit, 1024 * 1024);
	ck_assert_int_eq(c->server_json_depth, 32);
	ck_assert_str_eq(c->server_pidfile, "");
	ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
	ck_assert_int_eq(c->log_format, LOG_FORMAT_JSON);
	ck_assert_str_eq(c->log_file, "");
	ck_assert_str_eq(c->db_host, "127.0.0.1");
	ck_assert_int_eq(c->db_port, 3306);
	ck_assert_str_eq(c->db_user, "jamb");
	ck_assert_str_eq(c->db_password, "");
	ck_assert_str_eq(c->cache_servers, "127.0.0.1:11211");
	ck_assert_str_eq(c->cors_origins, "");
	ck_assert_int_eq(c->cors_credentials, 1);
	ck_assert_int_eq(c->cors_max_age, 600);
	ck_assert_int_eq(c->debug_routes, 0);
	ck_assert_int_eq(c->secret_exposed, 0);
	conf_free(c);
}
END_TEST

START_TEST(file_values_replace_defaults)
{
	struct conf	*c;

	c = load_ok("[server]\n"
	    "listen = /tmp/jamb.sock\n"
	    "workers = 8\n"
	    "backlog = 1\n"
	    "max_requests = 0\n"
	    "[db]\n"
	    "port = 65535\n"
	    "user = blog\n"
	    "[cache]\n"
	    "servers = 10.0.0.1:11211, 10.0.0.2:11212\n");
	ck_assert_str_eq(c->path, conf_path);
	ck_assert_str_eq(c->server_listen, "/tmp/jamb.sock");
	ck_assert_int_eq(c->server_workers, 8);
	ck_assert_int_eq(c->server_backlog, 1);
	ck_assert_int_eq(c->server_max_requests, 0);
	ck_assert_int_eq(c->db_port, 65535);
	ck_assert_str_eq(c->db_user, "blog");
	ck_assert_str_eq(c->cache_servers, "10.0.0.1:11211, 10.0.0.2:11212");
	/* Keys the file does not set keep their defaults. */
	ck_assert_int_eq(c->server_grace, 30);
	ck_assert_str_eq(c->db_name, "jamb");
	conf_free(c);
}
END_TEST

START_TEST(sizes_take_k_m_g_suffixes)
{
	static const struct {
		const char	*text;
		long		 want;
	} sizes[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "2k", 2048 },
		{ "2K", 2048 },
		{ "4kb", 4096 },
		{ "4KB", 4096 },
		{ "3M", 3L * 1024 * 1024 },
		{ "3m", 3L * 1024 * 1024 },
		{ "1G", 1024L * 1024 * 1024 },
	};
	struct conf	*c;
	char		 text[128];
	size_t		 i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "[server]\nbody_limit = %s\n",
		    sizes[i].text);
		c = load_ok(text);
		ck_assert_msg(c->server_body_limit == sizes[i].want,
		    "%s gave %ld", sizes[i].text, c->server_body_limit);
		conf_free(c);
	}
}
END_TEST

START_TEST(bools_take_yes_no_true_false_on_off)
{
	static const struct {
		const char	*text;
		long		 want;
	} bools[] = {
		{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
		{ "on", 1 }, { "off", 0 }, { "YES", 1 }, { "Off", 0 },
		{ "1", 1 }, { "0", 0 },
	};
	struct conf	*c;
	char		 text[128];
	size_t		 i;

	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		snprintf(text, sizeof(text), "[debug]\nroutes = %s\n"
		    "[cors]\ncredentials = %s\n", bools[i].text,
		    bools[i].text);
		c = load_ok(text);
		ck_assert_msg(c->debug_routes == bools[i].want,
		    "%s gave %ld", bools[i].text, c->debug_routes);
		ck_assert_int_eq(c->cors_credentials, bools[i].want);
		conf_free(c);
	}
}
END_TEST

START_TEST(socket_mode_is_octal)
{
	struct conf	*c;

	c = load_ok("[server]\nsocket_mode = 0600\n");
	ck_assert_int_eq(c->server_socket_mode, 0600);
	conf_free(c);

	c = load_ok("[server]\nsocket_mode = 777\n");
	ck_assert_int_eq(c->server_socket_mode, 0777);
	conf_free(c);
}
END_TEST

START_TEST(enums_take_their_names)
{
	static const struct {
		const char	*text;
		long		 want;
	} levels[] = {
		{ "debug", LOG_LEVEL_DEBUG },
		{ "info", LOG_LEVEL_INFO },
		{ "warn", LOG_LEVEL_WARN },
		{ "error", LOG_LEVEL_ERROR },
	};
	struct conf	*c;
	char		 text[128];
	size_t		 i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), "[log]\nlevel = %s\n",
		    levels[i].text);
		c = load_ok(text);
		ck_assert_msg(c->log_level == levels[i].want, "%s gave %ld",
		    levels[i].text, c->log_level);
		conf_free(c);
	}

	c = load_ok("[log]\nformat = text\n");
	ck_assert_int_eq(c->log_format, LOG_FORMAT_TEXT);
	conf_free(c);
	c = load_ok("[log]\nformat = json\n");
	ck_assert_int_eq(c->log_format, LOG_FORMAT_JSON);
	conf_free(c);
}
END_TEST

START_TEST(quoted_value_keeps_blanks_and_comment_characters)
{
	struct conf	*c;

	c = load_ok("[server]\nlisten = \"  /tmp/a #b ; c  \"\n"
	    "[db]\npassword = \"\"\n");
	ck_assert_str_eq(c->server_listen, "  /tmp/a #b ; c  ");
	ck_assert_str_eq(c->db_password, "");
	conf_free(c);
}
END_TEST

START_TEST(quoted_value_may_be_followed_by_a_comment)
{
	struct conf	*c;

	c = load_ok("[server]\nlisten = \"/tmp/x\"   # the socket\n");
	ck_assert_str_eq(c->server_listen, "/tmp/x");
	conf_free(c);

	/* A quote inside the comment does not extend the value. */
	c = load_ok("[server]\nlisten = \"/tmp/x\" # say \"hi\"\n"
	    "[log]\nlevel = WARN\n");
	ck_assert_str_eq(c->server_listen, "/tmp/x");
	ck_assert_int_eq(c->log_level, LOG_LEVEL_WARN);
	conf_free(c);
}
END_TEST

START_TEST(unquoted_value_ends_at_comment_after_a_blank)
{
	struct conf	*c;

	c = load_ok("[server]\n"
	    "workers = 7   # seven\n"
	    "pidfile = /run/j.pid ; semicolon comment\n"
	    "[db]\n"
	    "name = jamb;x\n"
	    "password = p#w\n"
	    "user = u\t# after a tab\n");
	ck_assert_int_eq(c->server_workers, 7);
	ck_assert_str_eq(c->server_pidfile, "/run/j.pid");
	ck_assert_str_eq(c->db_name, "jamb;x");
	ck_assert_str_eq(c->db_password, "p#w");
	ck_assert_str_eq(c->db_user, "u");
	conf_free(c);
}
END_TEST

START_TEST(comment_and_blank_lines_are_skipped)
{
	struct conf	*c;

	c = load_ok("# a comment\n"
	    "; another\n"
	    "\n"
	    "   \t\n"
	    "  [ server ]  \n"
	    "   workers=2   \n"
	    "\t# workers = 9\n");
	ck_assert_int_eq(c->server_workers, 2);
	conf_free(c);
}
END_TEST

START_TEST(later_value_replaces_earlier)
{
	struct conf	*c;

	c = load_ok("[server]\nworkers = 2\n[db]\nport = 1\n"
	    "[server]\nworkers = 3\n");
	ck_assert_int_eq(c->server_workers, 3);
	ck_assert_int_eq(c->db_port, 1);
	conf_free(c);
}
END_TEST

START_TEST(unknown_key_is_refused_naming_key_and_line)
{
	char	 err[512];

	load_fails("[server]\nworkers = 2\nworkerz = 3\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 3), "err: %s", err);
	ck_assert_msg(strstr(err, "workerz") != NULL, "err: %s", err);
}
END_TEST

START_TEST(unknown_section_is_refused_naming_section_and_line)
{
	char	 err[512];

	load_fails("[server]\nworkers = 2\n\n[sever]\nworkers = 3\n", err,
	    sizeof(err));
	ck_assert_msg(names_line(err, 4), "err: %s", err);
	ck_assert_msg(strstr(err, "[sever]") != NULL, "err: %s", err);

	/* Even with no key under it: a typo must not pass unnoticed. */
	load_fails("[sever]\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 1), "err: %s", err);
}
END_TEST

START_TEST(key_outside_any_section_is_refused)
{
	char	 err[512];

	load_fails("workers = 2\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 1), "err: %s", err);
	ck_assert_msg(strstr(err, "workers") != NULL, "err: %s", err);
}
END_TEST

START_TEST(malformed_lines_are_refused_naming_the_line)
{
	char	 err[512];

	load_fails("[server\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 1), "err: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "malformed section"));

	load_fails("[server] x\n", err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "malformed section"));

	load_fails("[server]\njust words\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 2), "err: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "expected key = value"));

	load_fails("[server]\n\nlisten = \"/tmp/open\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 3), "err: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "unterminated quote"));

	/* Only a comment may follow the closing quote. */
	load_fails("[server]\nlisten = \"/tmp/x\"junk\n", err, sizeof(err));
	ck_assert_msg(names_line(err, 2), "err: %s", err);
}
END_TEST

START_TEST(line_too_long_is_refused)
{
	char	 err[512];
	char	*text, *val;

	val = xmalloc(5001);
	memset(val, 'a', 5000);
	val[5000] = '\0';
	text = xasprintf("[server]\npidfile = %s\n", val);
	load_fails(text, err, sizeof(err));
	ck_assert_msg(names_line(err, 2), "err: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	free(text);
	free(val);
}
END_TEST

START_TEST(out_of_range_values_are_refused_naming_key)
{
	static const struct {
		const char	*section;
		const char	*key;
		const char	*val;
	} bad[] = {
		{ "server", "workers", "0" },
		{ "server", "workers", "257" },
		{ "server", "backlog", "65536" },
		{ "server", "grace", "-1" },
		{ "server", "socket_mode", "1000" },
		{ "server", "json_depth", "1001" },
		{ "server", "body_limit", "2G" },
		{ "server", "body_limit", "1025M" },
		{ "db", "port", "0" },
		{ "db", "port", "70000" },
		{ "db", "connect_timeout", "301" },
		{ "cache", "timeout_ms", "0" },
		{ "cors", "max_age", "86401" },
	};
	char	 text[256], want[128], err[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", bad[i].section,
		    bad[i].key, bad[i].val);
		load_fails(text, err, sizeof(err));
		snprintf(want, sizeof(want), "[%s] %s: invalid value \"%s\"",
		    bad[i].section, bad[i].key, bad[i].val);
		ck_assert_msg(strstr(err, want) != NULL, "err: %s", err);
		ck_assert_msg(names_line(err, 2), "err: %s", err);
	}
}
END_TEST

START_TEST(values_at_the_limits_are_accepted)
{
	struct conf	*c;

	c = load_ok("[server]\nworkers = 1\nbacklog = 65535\n"
	    "socket_mode = 0777\nbody_limit = 1G\njson_depth = 1000\n"
	    "[cors]\nmax_age = 0\n");
	ck_assert_int_eq(c->server_workers, 1);
	ck_assert_int_eq(c->server_backlog, 65535);
	ck_assert_int_eq(c->server_socket_mode, 0777);
	ck_assert_int_eq(c->server_body_limit, 1024L * 1024 * 1024);
	ck_assert_int_eq(c->server_json_depth, 1000);
	ck_assert_int_eq(c->cors_max_age, 0);
	conf_free(c);

	c = load_ok("[server]\nworkers = 256\n");
	ck_assert_int_eq(c->server_workers, 256);
	conf_free(c);
}
END_TEST

START_TEST(malformed_values_are_refused_naming_key)
{
	static const struct {
		const char	*section;
		const char	*key;
		const char	*val;
	} bad[] = {
		{ "server", "workers", "abc" },
		{ "server", "workers", "4x" },
		{ "server", "workers", "4.5" },
		{ "server", "workers", "" },
		{ "server", "workers", "99999999999999999999999" },
		{ "server", "body_limit", "10q" },
		{ "server", "body_limit", "1kk" },
		{ "server", "body_limit", "1kbx" },
		{ "server", "body_limit", "k" },
		{ "server", "body_limit", "-1" },
		{ "server", "socket_mode", "0689" },
		{ "debug", "routes", "maybe" },
		{ "debug", "routes", "" },
		{ "cors", "credentials", "2" },
		{ "log", "level", "loud" },
		{ "log", "format", "xml" },
	};
	char	 text[256], want[128], err[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[%s]\n\n%s = %s\n",
		    bad[i].section, bad[i].key, bad[i].val);
		load_fails(text, err, sizeof(err));
		snprintf(want, sizeof(want), "[%s] %s: invalid value \"%s\"",
		    bad[i].section, bad[i].key, bad[i].val);
		ck_assert_msg(strstr(err, want) != NULL, "err: %s", err);
		ck_assert_msg(names_line(err, 3), "err: %s", err);
	}
}
END_TEST

START_TEST(missing_file_is_refused_naming_the_path)
{
	struct conf	*c;
	char		 err[512] = "";

	ck_assert_int_eq(conf_load("/nonexistent/jamb.conf", &c, err,
	    sizeof(err)), JAMB_ECONFIG);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/jamb.conf"));
}
END_TEST

START_TEST(environment_overrides_the_file)
{
	struct conf	*c;

	ck_assert_int_eq(setenv("JAMB_SERVER_WORKERS", "12", 1), 0);
	c = load_ok("[server]\nworkers = 8\nbacklog = 9\n");
	ck_assert_int_eq(c->server_workers, 12);
	ck_assert_int_eq(c->server_backlog, 9);
	conf_free(c);
}
END_TEST

START_TEST(environment_applies_without_a_file)
{
	struct conf	*c;
	char		 err[512] = "";

	ck_assert_int_eq(setenv("JAMB_LOG_LEVEL", "debug", 1), 0);
	ck_assert_int_eq(setenv("JAMB_DB_PASSWORD", "from-env", 1), 0);
	ck_assert_int_eq(setenv("JAMB_SERVER_BODY_LIMIT", "2k", 1), 0);
	ck_assert_int_eq(setenv("JAMB_DEBUG_ROUTES", "on", 1), 0);
	ck_assert_int_eq(conf_load(NULL, &c, err, sizeof(err)), JAMB_OK);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(c->db_password, "from-env");
	ck_assert_int_eq(c->server_body_limit, 2048);
	ck_assert_int_eq(c->debug_routes, 1);
	ck_assert_int_eq(c->secret_exposed, 0);
	conf_free(c);
}
END_TEST

START_TEST(bad_environment_value_is_refused_naming_the_variable)
{
	struct conf	*c;
	char		 err[512] = "";

	ck_assert_int_eq(setenv("JAMB_SERVER_WORKERS", "lots", 1), 0);
	ck_assert_int_eq(conf_load(NULL, &c, err, sizeof(err)),
	    JAMB_ECONFIG);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "JAMB_SERVER_WORKERS") != NULL, "err: %s",
	    err);
	ck_assert_msg(strstr(err, "\"lots\"") != NULL, "err: %s", err);

	/* The file being valid does not help. */
	load_fails("[server]\nworkers = 8\n", err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "JAMB_SERVER_WORKERS"));
}
END_TEST

START_TEST(wildcard_origin_with_credentials_is_refused)
{
	struct conf	*c;
	char		 err[512];

	/* credentials defaults to yes. */
	load_fails("[cors]\norigins = *\n", err, sizeof(err));
	ck_assert_msg(strstr(err, "[cors] origins") != NULL, "err: %s", err);

	load_fails("[cors]\norigins = https://a.example, *\n"
	    "credentials = yes\n", err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "[cors] origins"));

	c = load_ok("[cors]\norigins = *\ncredentials = no\n");
	ck_assert_str_eq(c->cors_origins, "*");
	conf_free(c);
}
END_TEST

START_TEST(empty_listen_and_cache_servers_are_refused)
{
	char	 err[512];

	load_fails("[server]\nlisten = \"\"\n", err, sizeof(err));
	ck_assert_msg(strstr(err, "[server] listen") != NULL, "err: %s", err);

	load_fails("[cache]\nservers = \"\"\n", err, sizeof(err));
	ck_assert_msg(strstr(err, "[cache] servers") != NULL, "err: %s", err);
}
END_TEST

/* conf_print's output for c, to be freed. */
static char *
print_conf(const struct conf *c)
{
	FILE	*f;
	char	*out = NULL;
	size_t	 len = 0;

	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	conf_print(c, f);
	fclose(f);
	return out;
}

START_TEST(conf_print_masks_the_db_password)
{
	struct conf	*c;
	char		*out;

	c = load_ok("[server]\nworkers = 6\nsocket_mode = 0640\n"
	    "body_limit = 2k\n[log]\nlevel = warn\nformat = text\n"
	    "[db]\npassword = hunter2\n[debug]\nroutes = yes\n");
	out = print_conf(c);
	ck_assert_msg(strstr(out, "password = ********\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "hunter2") == NULL, "%s", out);

	ck_assert_ptr_nonnull(strstr(out, "[server]\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n[db]\n"));
	ck_assert_ptr_nonnull(strstr(out, "listen = /run/jamb/jamb.sock\n"));
	ck_assert_ptr_nonnull(strstr(out, "workers = 6\n"));
	ck_assert_ptr_nonnull(strstr(out, "socket_mode = 0640\n"));
	ck_assert_ptr_nonnull(strstr(out, "body_limit = 2048\n"));
	ck_assert_ptr_nonnull(strstr(out, "level = warn\n"));
	ck_assert_ptr_nonnull(strstr(out, "format = text\n"));
	ck_assert_ptr_nonnull(strstr(out, "user = jamb\n"));
	ck_assert_ptr_nonnull(strstr(out, "routes = yes\n"));
	ck_assert_ptr_nonnull(strstr(out, "credentials = yes\n"));
	free(out);
	conf_free(c);
}
END_TEST

START_TEST(conf_print_shows_an_empty_password_as_empty)
{
	struct conf	*c;
	char		*out;
	char		 err[512] = "";

	ck_assert_int_eq(conf_load(NULL, &c, err, sizeof(err)), JAMB_OK);
	out = print_conf(c);
	ck_assert_msg(strstr(out, "\npassword = \n") != NULL, "%s", out);
	ck_assert_ptr_null(strstr(out, "********"));
	free(out);
	conf_free(c);
}
END_TEST

/* secret_exposed for text in a file of the given mode. */
static int
exposed(const char *text, mode_t mode)
{
	struct conf	*c;
	char		 err[512] = "";
	int		 e;

	ck_assert_int_eq(conf_load(write_conf(text, mode), &c, err,
	    sizeof(err)), JAMB_OK);
	e = c->secret_exposed;
	conf_free(c);
	return e;
}

START_TEST(secret_in_world_readable_file_is_flagged)
{
	ck_assert_int_eq(exposed("[db]\npassword = s3cret\n", 0644), 1);
	ck_assert_int_eq(exposed("[db]\npassword = s3cret\n", 0604), 1);
}
END_TEST

START_TEST(secret_in_private_file_is_not_flagged)
{
	ck_assert_int_eq(exposed("[db]\npassword = s3cret\n", 0600), 0);
	ck_assert_int_eq(exposed("[db]\npassword = s3cret\n", 0400), 0);
}
END_TEST

START_TEST(world_readable_file_without_secret_is_not_flagged)
{
	ck_assert_int_eq(exposed("[server]\nworkers = 2\n", 0644), 0);
	ck_assert_int_eq(exposed("[db]\npassword = \"\"\n", 0644), 0);
}
END_TEST

START_TEST(conf_list_has_matches_whole_items)
{
	ck_assert(conf_list_has("a, b,c", "a"));
	ck_assert(conf_list_has("a, b,c", "b"));
	ck_assert(conf_list_has("a, b,c", "c"));
	ck_assert(conf_list_has("  a  ,b", "a"));
	ck_assert(conf_list_has("https://x.example, https://y.example",
	    "https://y.example"));
	ck_assert(conf_list_has("https://x.example, *", "*"));
}
END_TEST

START_TEST(conf_list_has_refuses_partial_items)
{
	ck_assert(!conf_list_has("a, b", "c"));
	ck_assert(!conf_list_has("ab", "a"));
	ck_assert(!conf_list_has("a", "ab"));
	ck_assert(!conf_list_has("https://x.example", "https://x.exam"));
	ck_assert(!conf_list_has("https://x.example.evil",
	    "https://x.example"));
	ck_assert(!conf_list_has("", "a"));
	ck_assert(!conf_list_has("", ""));
	ck_assert(!conf_list_has("a,,b", ""));
}
END_TEST

START_TEST(default_path_is_jamb_conf)
{
	const char	*p = conf_default_path();
	size_t		 n = strlen(p);

	ck_assert_uint_gt(n, strlen("/jamb.conf"));
	ck_assert_str_eq(p + n - strlen("/jamb.conf"), "/jamb.conf");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("conf");

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_apply_without_a_file);
	tcase_add_test(tc, file_values_replace_defaults);
	tcase_add_test(tc, sizes_take_k_m_g_suffixes);
	tcase_add_test(tc, bools_take_yes_no_true_false_on_off);
	tcase_add_test(tc, socket_mode_is_octal);
	tcase_add_test(tc, enums_take_their_names);
	tcase_add_test(tc, values_at_the_limits_are_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, quoted_value_keeps_blanks_and_comment_characters);
	tcase_add_test(tc, quoted_value_may_be_followed_by_a_comment);
	tcase_add_test(tc, unquoted_value_ends_at_comment_after_a_blank);
	tcase_add_test(tc, comment_and_blank_lines_are_skipped);
	tcase_add_test(tc, later_value_replaces_earlier);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_key_is_refused_naming_key_and_line);
	tcase_add_test(tc, unknown_section_is_refused_naming_section_and_line);
	tcase_add_test(tc, key_outside_any_section_is_refused);
	tcase_add_test(tc, malformed_lines_are_refused_naming_the_line);
	tcase_add_test(tc, line_too_long_is_refused);
	tcase_add_test(tc, out_of_range_values_are_refused_naming_key);
	tcase_add_test(tc, malformed_values_are_refused_naming_key);
	tcase_add_test(tc, missing_file_is_refused_naming_the_path);
	tcase_add_test(tc, wildcard_origin_with_credentials_is_refused);
	tcase_add_test(tc, empty_listen_and_cache_servers_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, environment_overrides_the_file);
	tcase_add_test(tc, environment_applies_without_a_file);
	tcase_add_test(tc,
	    bad_environment_value_is_refused_naming_the_variable);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, conf_print_masks_the_db_password);
	tcase_add_test(tc, conf_print_shows_an_empty_password_as_empty);
	tcase_add_test(tc, secret_in_world_readable_file_is_flagged);
	tcase_add_test(tc, secret_in_private_file_is_not_flagged);
	tcase_add_test(tc, world_readable_file_without_secret_is_not_flagged);
	suite_add_tcase(s, tc);

	tc = tcase_create("lists");
	tcase_add_test(tc, conf_list_has_matches_whole_items);
	tcase_add_test(tc, conf_list_has_refuses_partial_items);
	tcase_add_test(tc, default_path_is_jamb_conf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (run_dir_create() == -1)
		return EXIT_FAILURE;
	sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	run_dir_remove();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
