#ifndef JAMB_MAIL_H
#define JAMB_MAIL_H

#include <stddef.h>

#include "conf.h"
#include "status.h"

/*
 * Sends one plain-text message over SMTP with libcurl, per [mail].
 * JAMB_EINVAL for an address or subject that cannot be put in a header
 * (line breaks, no '@'); JAMB_EUNAVAIL when the server cannot be reached
 * or refuses, with its reason in err.
 */
enum jamb_status mail_send(const struct conf *, const char *, const char *,
		    const char *, const char *, char *, size_t);
int		 mail_address_valid(const char *);

#endif
