#include "config.h"

#include "routes.h"

/* Every route table the server answers, in no particular order. */
const struct route *const route_tables[] = {
	health_routes,
	apikeys_routes,
	debug_routes,
	auth_routes,
	me_routes,
	links_routes,
	admin_posts_routes,
	posts_routes,
	preview_routes,
	NULL
};
