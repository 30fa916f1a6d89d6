#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "jwt.h"
#include "keycli.h"
#include "listen.h"
#include "log.h"
#include "migrate.h"
#include "pool.h"
#include "seed.h"
#include "worker.h"

struct command {
	const char	*name;
	int		 (*run)(struct conf *, int, char **);
	const char	*usage;
};

static void
usage(FILE *f);

/*
 * Serves only a database whose schema matches the migrations shipped
 * with this jamb.  A database that cannot be reached is no reason to
 * stay down: the pool starts and /v1/ready reports it.
 */
static int
cmd_serve(struct conf *c, int argc, char **argv)
{
	char		 err[1024];
	int		 n;
	enum jamb_status st;

	st = migrate_pending(c, &n, err, sizeof(err));
	if (st == JAMB_EUNAVAIL)
		log_warn(NULL, "migrations not checked: %s", err);
	else if (st != JAMB_OK || (n > 0 && !c->db_allow_pending)) {
		if (st != JAMB_OK)
			fprintf(stderr, "jamb: %s\n", err);
		else
			fprintf(stderr, "jamb: %d migration%s pending; run "
			    "`jamb migrate up` (or set [db] "
			    "allow_pending_migrations = yes)\n", n,
			    n == 1 ? "" : "s");
		conf_free(c);
		return 1;
	} else if (n > 0)
		log_warn(NULL, "%d migration%s pending; serving anyway as "
		    "[db] allow_pending_migrations says", n, n == 1 ? "" : "s");
	return pool_run(c);
}

static int
cmd_migrate(struct conf *c, int argc, char **argv)
{
	int	 rc;

	rc = migrate_main(c, argc, argv);
	conf_free(c);
	return rc;
}

static int
cmd_seed(struct conf *c, int argc, char **argv)
{
	int	 rc;

	rc = seed_main(c, argc, argv);
	conf_free(c);
	return rc;
}

static int
cmd_key(struct conf *c, int argc, char **argv)
{
	int	 rc;

	rc = keycli_main(c, argc, argv);
	conf_free(c);
	return rc;
}

static int
cmd_check_config(struct conf *c, int argc, char **argv)
{
	conf_print(c, stdout);
	conf_free(c);
	return 0;
}

/* Works on the files it is given: c is NULL, see main(). */
static int
cmd_token(struct conf *c, int argc, char **argv)
{
	return jwt_cli_main(argc, argv);
}

static int
cmd_version(struct conf *c, int argc, char **argv)
{
	printf("jamb %s\n", PACKAGE_VERSION);
	conf_free(c);
	return 0;
}

static const struct command commands[] = {
	{ "serve", cmd_serve, "serve [-c file]" },
	{ "check-config", cmd_check_config, "check-config [-c file]" },
	{ "migrate", cmd_migrate, "migrate [-c file] status | up [--dry-run]" },
	{ "seed", cmd_seed, "seed [-c file] demo | bulk N" },
	{ "key", cmd_key, "key [-c file] create --role ROLE NAME | list | "
	    "revoke ID_OR_PREFIX" },
	{ "token", cmd_token, "token -h | verify | sign | jwks ..." },
	{ "version", cmd_version, "version" },
	{ NULL, NULL, NULL }
};

static void
usage(FILE *f)
{
	const struct command	*cmd;

	fprintf(f, "usage: jamb [-c file] command [args]\n");
	for (cmd = commands; cmd->name != NULL; cmd++)
		fprintf(f, "       jamb %s\n", cmd->usage);
	fprintf(f, "Without a command, jamb serves FastCGI on a listening "
	    "socket passed as stdin,\nor one CGI request.\n");
}

/*
 * The configuration file: -c, else $JAMB_CONFIG, else the installed
 * default if it exists; with none, defaults and the environment apply.
 */
static const char *
conf_path(const char *given)
{
	const char	*env = getenv("JAMB_CONFIG");

	if (given != NULL)
		return given;
	if (env != NULL && *env != '\0')
		return env;
	if (access(conf_default_path(), F_OK) == 0)
		return conf_default_path();
	return NULL;
}

static struct conf *
load(const char *given)
{
	struct conf	*c;
	char		 err[512];

	if (conf_load(conf_path(given), &c, err, sizeof(err)) != JAMB_OK) {
		fprintf(stderr, "jamb: %s\n", err);
		return NULL;
	}
	log_setup(c);
	if (c->secret_exposed)
		log_warn(NULL, "%s holds secrets and is readable by other "
		    "users; chmod o-r it", c->path);
	return c;
}

/*
 * Takes "-c FILE" out of a command's arguments, wherever it stands, so
 * that the command's own options are left to it.  Returns the new
 * argument count, or -1 when -c lacks its file.
 */
static int
take_conf_option(int argc, char **argv, const char **given)
{
	int	 i, j = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			if (i + 1 == argc)
				return -1;
			*given = argv[++i];
		} else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	return j;
}

/* Started by a web server, not by a person: FastCGI or CGI. */
static int
run_embedded(const char *given)
{
	struct conf	*c;
	int		 rc;

	if ((c = load(given)) == NULL)
		return 1;
	if (listen_on_stdin())
		rc = worker_run(c, STDIN_FILENO, -1);
	else
		rc = worker_cgi(c);
	conf_free(c);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct command	*cmd;
	const char		*given = NULL;
	struct conf		*c;
	int			 ch;

	/* Once, before any worker forks: libcurl's setup is not cheap. */
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* "+": options end at the command, which has options of its own. */
	while ((ch = getopt(argc, argv, "+c:hV")) != -1)
		switch (ch) {
		case 'c':
			given = optarg;
			break;
		case 'V':
			printf("jamb %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	argc -= optind;
	argv += optind;

	if (argc == 0) {
		if (listen_on_stdin() || getenv("GATEWAY_INTERFACE") != NULL)
			return run_embedded(given);
		usage(stderr);
		return 2;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[0]) == 0)
			break;
	if (cmd->name == NULL) {
		fprintf(stderr, "jamb: unknown command %s\n", argv[0]);
		usage(stderr);
		return 2;
	}
	/* token needs no configuration, so a broken one does not stop it. */
	if (cmd->run == cmd_token)
		return cmd->run(NULL, argc - 1, argv + 1);
	if ((argc = take_conf_option(argc, argv, &given)) < 0) {
		usage(stderr);
		return 2;
	}
	if ((c = load(given)) == NULL)
		return 1;
	return cmd->run(c, argc - 1, argv + 1);
}
