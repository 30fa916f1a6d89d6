#ifndef JAMB_WORKER_H
#define JAMB_WORKER_H

#include "conf.h"

int	 worker_run(const struct conf *, int, int);
int	 worker_cgi(const struct conf *);

#endif
