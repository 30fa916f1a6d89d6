#ifndef JAMB_LISTEN_H
#define JAMB_LISTEN_H

#include <stddef.h>

#include "conf.h"

int	 listen_open(const struct conf *, int *, char *, size_t);
void	 listen_close(const struct conf *, int, int);
int	 listen_on_stdin(void);

#endif
