#ifndef JAMB_JOBS_H
#define JAMB_JOBS_H

#include "conf.h"

int	 jobs_run(const struct conf *);

#endif
