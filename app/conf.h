#ifndef JAMB_CONF_H
#define JAMB_CONF_H

#include <stdio.h>

#include "status.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL__MAX
};

enum log_format {
	LOG_FORMAT_JSON,
	LOG_FORMAT_TEXT,
	LOG_FORMAT__MAX
};

/*
 * An external identity provider whose tokens are accepted, from a
 * section [issuer NAME] (several may be given).
 */
#define CONF_ISSUERS_MAX	8

struct conf_issuer {
	char		*name;
	char		*url;		/* the tokens' "iss" */
	char		*audience;	/* their "aud"; empty: none expected */
	char		*jwks_url;
	char		*jwks_file;
	char		*algs;
	long		 refresh;	/* least seconds between fetches */
	long		 ttl;		/* seconds a fetched JWKS is kept */
};

/*
 * The effective configuration: defaults, then the file, then the
 * environment (JAMB_<SECTION>_<KEY>).  Every key is documented with its
 * default in conf/jamb.conf.example and in the table in conf.c.
 */
struct conf {
	char		*path;

	char		*server_listen;
	long		 server_socket_mode;
	long		 server_backlog;
	long		 server_workers;
	long		 server_max_requests;
	long		 server_grace;
	long		 server_body_limit;
	long		 server_json_depth;
	char		*server_pidfile;

	long		 log_level;
	long		 log_format;
	char		*log_file;

	char		*db_host;
	long		 db_port;
	char		*db_socket;
	char		*db_user;
	char		*db_password;
	char		*db_name;
	long		 db_connect_timeout;
	long		 db_read_timeout;
	long		 db_write_timeout;
	char		*db_replicas;
	long		 db_slow_ms;
	long		 db_tls;
	char		*db_tls_ca;
	char		*db_migrations;
	long		 db_allow_pending;

	char		*cache_servers;
	long		 cache_timeout_ms;
	char		*cache_prefix;
	long		 cache_responses;
	long		 cache_response_ttl;

	char		*cors_origins;
	long		 cors_credentials;
	long		 cors_max_age;

	long		 http_max_age;
	long		 http_s_maxage;
	long		 http_stale_while_revalidate;
	char		*http_trusted_proxies;

	long		 rl_enabled;
	long		 rl_window;
	long		 rl_read_per_address;
	long		 rl_api_per_address;
	long		 rl_strict_per_address;
	long		 rl_per_account;
	long		 rl_read_fail;		/* enum ratelimit_fail */
	long		 rl_api_fail;
	long		 rl_strict_fail;

	long		 auth_argon2_memory_kib;
	long		 auth_argon2_iterations;
	long		 auth_argon2_parallelism;
	char		*auth_issuer;
	char		*auth_audience;
	long		 auth_access_ttl;
	long		 auth_refresh_ttl;
	long		 auth_leeway;
	char		*auth_signing_alg;
	char		*auth_signing_key;
	char		*auth_verify_keys;
	char		*auth_hmac_secret;
	long		 auth_login_max_account;
	long		 auth_login_max_address;
	long		 auth_login_window;
	long		 auth_link_ttl;
	long		 auth_link_signup;
	char		*auth_link_base;
	char		*auth_verify_link_base;
	char		*auth_reset_link_base;
	char		*auth_site_name;
	long		 auth_link_max_email;
	long		 auth_link_max_client;
	long		 auth_link_window;

	char		*mail_smtp_url;
	char		*mail_smtp_user;
	char		*mail_smtp_password;
	char		*mail_from;
	long		 mail_timeout;
	char		*mail_templates;

	long		 jobs_enabled;
	long		 jobs_interval_ms;
	long		 jobs_max_attempts;
	long		 jobs_backoff;

	long		 content_revisions_keep;
	long		 content_preview_ttl;

	long		 debug_routes;

	struct conf_issuer issuers[CONF_ISSUERS_MAX];
	size_t		 nissuers;

	/* Set when a secret came from a file that others may read. */
	int		 secret_exposed;
};

enum jamb_status conf_load(const char *, struct conf **, char *, size_t);
void		 conf_free(struct conf *);
void		 conf_print(const struct conf *, FILE *);
int		 conf_list_has(const char *, const char *);
const char	*conf_default_path(void);

#endif
