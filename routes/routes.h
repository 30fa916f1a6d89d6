#ifndef JAMB_ROUTES_H
#define JAMB_ROUTES_H

#include "router.h"

/* Each file of routes/ exports one table; routes.c lists them all. */
extern const struct route health_routes[];
extern const struct route debug_routes[];

extern const struct route *const route_tables[];

#endif
