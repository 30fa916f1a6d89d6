#ifndef JAMB_SEED_H
#define JAMB_SEED_H

#include "conf.h"

/* jamb seed demo | bulk N; returns the exit status. */
int	 seed_main(const struct conf *, int, char **);

#endif
