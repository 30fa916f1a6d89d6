#ifndef JAMB_STATUS_H
#define JAMB_STATUS_H

/*
 * The one status type of jamb: 0 is success everywhere.  A callee
 * returns one of these and, where useful, a message for the caller; the
 * HTTP boundary maps them to statuses in status_http().
 */
enum jamb_status {
	JAMB_OK = 0,
	JAMB_EINVAL,		/* malformed input */
	JAMB_ETOOBIG,		/* input over a configured limit */
	JAMB_ENOTFOUND,
	JAMB_EMETHOD,		/* resource exists, method does not */
	JAMB_EMEDIA,		/* unsupported content type */
	JAMB_ECONFLICT,		/* a unique key or a stale version */
	JAMB_EUNAVAIL,		/* a backend (MySQL, memcached) is down */
	JAMB_EIO,		/* reading or writing the client failed */
	JAMB_ECONFIG,		/* invalid configuration */
	JAMB_EINTERNAL,		/* a bug or an unexpected backend answer */
	JAMB_STATUS__MAX
};

const char	*status_name(enum jamb_status);
int		 status_http(enum jamb_status);
const char	*status_problem_type(enum jamb_status);

#endif
