#ifndef JAMB_LOG_H
#define JAMB_LOG_H

#include <jansson.h>

#include "conf.h"

/*
 * One line per event: UTC time, level, pid, request id (when there is
 * one), message and fields.  JSON by default, key=value for terminals.
 * Strings that came from a request are escaped; callers never pass
 * secrets.
 */
void	 log_setup(const struct conf *);
void	 log_reopen(void);
void	 log_context(const char *);
int	 log_enabled(enum log_level);
void	 log_msg(enum log_level, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 log_fields(enum log_level, const char *, const char *, json_t *);
json_t	*log_string(const char *);

#define log_debug(id, ...)	log_msg(LOG_LEVEL_DEBUG, id, __VA_ARGS__)
#define log_info(id, ...)	log_msg(LOG_LEVEL_INFO, id, __VA_ARGS__)
#define log_warn(id, ...)	log_msg(LOG_LEVEL_WARN, id, __VA_ARGS__)
#define log_error(id, ...)	log_msg(LOG_LEVEL_ERROR, id, __VA_ARGS__)

#endif
