#include "config.h"

#include <stdlib.h>

#include "audit.h"
#include "http.h"

enum jamb_status
audit_write(struct db_conn *db, const struct req *req, const char *action,
    const char *type, int64_t id, json_t *details)
{
	char		*text = NULL;
	int64_t		 user = 0, key = 0;
	enum jamb_status st;

	if (req == NULL) {
		if (details == NULL)
			details = json_object();
		json_object_set_new(details, "source", json_string("cli"));
	} else {
		user = req->who.user_id;
		if (req->who.kind == PRINCIPAL_API_KEY)
			key = req->who.api_key_id;
	}
	if (details != NULL)
		text = json_dumps(details, JSON_COMPACT);
	json_decref(details);
	/* 0 stands for "none": NULLIF keeps the types string fixed. */
	st = db_exec(db, "INSERT INTO audit_log (actor_user_id, "
	    "actor_api_key_id, action, object_type, object_id, request_id, "
	    "ip, details) VALUES (NULLIF(?, 0), NULLIF(?, 0), ?, ?, "
	    "NULLIF(?, 0), ?, ?, ?)", "iississs", user, key, action, type, id,
	    req ? req->id : NULL, req ? req->client_addr : NULL, text);
	free(text);
	return st;
}
