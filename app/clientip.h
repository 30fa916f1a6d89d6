#ifndef JAMB_CLIENTIP_H
#define JAMB_CLIENTIP_H

#include <stddef.h>

/* Room for any address clientip_resolve writes, with its NUL. */
#define CLIENTIP_MAX	64

int	 clientip_list_valid(const char *);
int	 clientip_in_list(const char *, const char *);
int	 clientip_normalize(const char *, size_t, char *, size_t);
void	 clientip_resolve(const char *, const char *, const char *,
	    const char *, char *, size_t);

#endif
