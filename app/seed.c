#include "config.h"

#include <stdio.h>

#include "seed.h"

int
seed_main(const struct conf *c, int argc, char **argv)
{
	fprintf(stderr, "jamb: seed is being written\n");
	return 1;
}
