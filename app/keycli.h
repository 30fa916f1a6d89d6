#ifndef JAMB_KEYCLI_H
#define JAMB_KEYCLI_H

#include "conf.h"

/*
 * jamb key create --role ROLE NAME | list | revoke ID_OR_PREFIX;
 * returns the exit status: 0, 1 on failure, 2 on bad usage.
 */
int	 keycli_main(const struct conf *, int, char **);

#endif
