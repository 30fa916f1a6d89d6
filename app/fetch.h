#ifndef JAMB_FETCH_H
#define JAMB_FETCH_H

#include <stddef.h>

#include "status.h"
#include "util.h"

/*
 * A GET with libcurl: the body of a 200 answer into out (at most max
 * bytes, else JAMB_ETOOBIG), within timeout seconds.  Anything else is
 * JAMB_EUNAVAIL with the reason in err.  Only http and https.
 */
enum jamb_status fetch_get(const char *, size_t, long, struct buf *, char *,
		    size_t);

#endif
