#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "util.h"

/* Queues an email; call it inside the transaction of the change. */
enum jamb_status
outbox_email(struct db_conn *db, const char *to, const char *subject,
    const char *text)
{
	unsigned char	 raw[16];
	char		 id[33], *payload;
	json_t		*doc;
	enum jamb_status st;

	if (!mail_address_valid(to))
		return JAMB_EINVAL;
	random_bytes(raw, sizeof(raw));
	hex_encode(id, raw, sizeof(raw));
	doc = json_pack("{s:s, s:s, s:s}", "to", to, "subject", subject,
	    "text", text);
	if (doc == NULL)
		return JAMB_EINVAL;
	payload = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	st = db_exec(db, "INSERT INTO outbox (kind, message_id, payload) "
	    "VALUES ('email', ?, ?)", "ss", id, payload);
	free(payload);
	return st;
}

static enum jamb_status
deliver(const struct conf *c, const char *kind, const char *msgid,
    const char *payload, char *err, size_t errlen)
{
	json_t		*doc;
	const char	*to, *subject, *text;
	enum jamb_status st;

	if (strcmp(kind, "email") != 0) {
		snprintf(err, errlen, "no deliverer for kind %s", kind);
		return JAMB_EINVAL;
	}
	if ((doc = json_loads(payload, 0, NULL)) == NULL) {
		snprintf(err, errlen, "unreadable payload");
		return JAMB_EINVAL;
	}
	to = json_string_value(json_object_get(doc, "to"));
	subject = json_string_value(json_object_get(doc, "subject"));
	text = json_string_value(json_object_get(doc, "text"));
	if (to == NULL || subject == NULL || text == NULL) {
		snprintf(err, errlen, "payload lacks to, subject or text");
		st = JAMB_EINVAL;
	} else
		st = mail_send(c, to, subject, text, msgid, err, errlen);
	json_decref(doc);
	return st;
}

struct claim {
	const struct conf	*conf;
	int			 done;	/* 1 when an item was handled */
};

/*
 * Claims one due item, skipping those another host holds, delivers it
 * and records the outcome, all while its row stays locked: no other
 * host sends it meanwhile.  A failure is retried after backoff * 2^n
 * seconds; an item that cannot ever succeed, or has had max_attempts,
 * is marked dead.  Delivery is at least once: if the commit after a
 * send fails, the item is sent again later with the same Message-ID,
 * by which receivers can tell.
 */
static enum jamb_status
claim_one(struct db_conn *db, void *arg)
{
	struct claim	*cl = arg;
	struct db_rows	*r;
	char		 err[512] = "", *kind = NULL, *msgid = NULL;
	char		*payload = NULL;
	int64_t		 id = 0, attempts = 0, delay;
	enum jamb_status st, sent;

	cl->done = 0;
	st = db_query(db, &r, "SELECT id, kind, message_id, payload, attempts "
	    "FROM outbox WHERE status = 'pending' AND next_attempt_at <= "
	    "NOW(6) ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE "
	    "SKIP LOCKED", "");
	if (st != JAMB_OK)
		return st;
	if (db_next(r)) {
		id = db_int(r, 0);
		kind = xstrdup(db_str(r, 1, NULL));
		msgid = xstrdup(db_str(r, 2, NULL));
		payload = xstrdup(db_str(r, 3, NULL));
		attempts = db_int(r, 4) + 1;
	}
	db_rows_free(r);
	if (id == 0)
		return JAMB_OK;

	cl->done = 1;
	sent = deliver(cl->conf, kind, msgid, payload, err, sizeof(err));
	if (sent == JAMB_OK) {
		st = db_exec(db, "UPDATE outbox SET status = 'sent', attempts "
		    "= ?, sent_at = NOW(6), last_error = NULL WHERE id = ?",
		    "ii", attempts, id);
		log_info(NULL, "outbox %lld: %s %s sent", (long long)id, kind,
		    msgid);
	} else if (sent == JAMB_EINVAL ||
	    attempts >= cl->conf->jobs_max_attempts) {
		st = db_exec(db, "UPDATE outbox SET status = 'dead', attempts "
		    "= ?, last_error = ? WHERE id = ?", "isi", attempts, err,
		    id);
		log_error(NULL, "outbox %lld: %s %s dead after %lld attempts: "
		    "%s", (long long)id, kind, msgid, (long long)attempts,
		    err);
	} else {
		delay = cl->conf->jobs_backoff << (attempts - 1 < 16 ?
		    attempts - 1 : 16);
		st = db_exec(db, "UPDATE outbox SET attempts = ?, last_error = "
		    "?, next_attempt_at = NOW(6) + INTERVAL ? SECOND WHERE "
		    "id = ?", "isii", attempts, err, delay, id);
		log_warn(NULL, "outbox %lld: %s %s attempt %lld failed, next "
		    "in %lld s: %s", (long long)id, kind, msgid,
		    (long long)attempts, (long long)delay, err);
	}
	free(kind);
	free(msgid);
	free(payload);
	return st;
}

/*
 * Delivers due items one transaction each until none is left or the
 * batch is done.  *handled is how many were tried.
 */
enum jamb_status
outbox_run(struct db_conn *db, const struct conf *c, int *handled)
{
	struct claim	 cl;
	enum jamb_status st = JAMB_OK;
	int		 i;

	cl.conf = c;
	*handled = 0;
	for (i = 0; i < 50; i++) {
		if ((st = db_tx(db, claim_one, &cl)) != JAMB_OK || !cl.done)
			break;
		(*handled)++;
	}
	return st;
}
