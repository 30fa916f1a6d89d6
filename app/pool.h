#ifndef JAMB_POOL_H
#define JAMB_POOL_H

#include "conf.h"

int	 pool_run(struct conf *);

#endif
