#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "mail.h"
#include "util.h"

struct upload {
	const char	*data;
	size_t		 len;
	size_t		 off;
};

static size_t
upload_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload	*u = arg;
	size_t		 want = size * n;

	if (want > u->len - u->off)
		want = u->len - u->off;
	memcpy(buf, u->data + u->off, want);
	u->off += want;
	return want;
}

/*
 * An address fit for an SMTP envelope and a header: one '@', no blanks,
 * no control characters, none of the characters that would end the
 * address early in "<...>".
 */
int
mail_address_valid(const char *a)
{
	const char	*at = strchr(a, '@'), *p;

	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (p = a; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' ||
		    *p == '>' || *p == '"' || *p == ',' || *p == ';')
			return 0;
	return strlen(a) <= 254;
}

/* RFC 2047 encoded-word for a subject that is not plain ASCII. */
static void
add_subject(struct buf *b, const char *subject)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*s = (const unsigned char *)subject;
	size_t			 n = strlen(subject), i;
	int			 ascii = 1;

	for (i = 0; i < n; i++)
		if (s[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		buf_printf(b, "Subject: %s\r\n", subject);
		return;
	}
	buf_adds(b, "Subject: =?UTF-8?B?");
	for (i = 0; i < n; i += 3) {
		unsigned int v = (unsigned int)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned int)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		buf_addc(b, b64[v >> 18 & 63]);
		buf_addc(b, b64[v >> 12 & 63]);
		buf_addc(b, i + 1 < n ? b64[v >> 6 & 63] : '=');
		buf_addc(b, i + 2 < n ? b64[v & 63] : '=');
	}
	buf_adds(b, "?=\r\n");
}

/* The message: headers, then the body with CRLF line ends. */
static void
compose(struct buf *b, const struct conf *c, const char *to,
    const char *subject, const char *text, const char *msgid)
{
	char		 date[64];
	time_t		 now = time(NULL);
	struct tm	 tm;
	const char	*p;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(b, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\n", date,
	    c->mail_from, to);
	add_subject(b, subject);
	buf_printf(b, "Message-ID: <%s@jamb>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", msgid);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			buf_addc(b, '\r');
		buf_addc(b, *p);
	}
	buf_adds(b, "\r\n");
}

enum jamb_status
mail_send(const struct conf *c, const char *to, const char *subject,
    const char *text, const char *msgid, char *err, size_t errlen)
{
	CURL			*curl;
	struct curl_slist	*rcpt = NULL;
	struct upload		 up;
	struct buf		 msg;
	char			 from[300], cerr[CURL_ERROR_SIZE] = "";
	CURLcode		 rc;

	if (!mail_address_valid(to) || !mail_address_valid(c->mail_from) ||
	    strpbrk(subject, "\r\n") != NULL || !utf8_valid(subject,
	    strlen(subject))) {
		snprintf(err, errlen, "recipient, sender or subject cannot "
		    "be sent");
		return JAMB_EINVAL;
	}
	if ((curl = curl_easy_init()) == NULL)
		abort();
	buf_init(&msg);
	compose(&msg, c, to, subject, text, msgid);
	up.data = msg.data;
	up.len = msg.len;
	up.off = 0;
	snprintf(from, sizeof(from), "<%s>", c->mail_from);
	rcpt = curl_slist_append(rcpt, to);

	curl_easy_setopt(curl, CURLOPT_URL, c->mail_smtp_url);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->mail_timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	if (*c->mail_smtp_user != '\0') {
		curl_easy_setopt(curl, CURLOPT_USERNAME, c->mail_smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD,
		    c->mail_smtp_password);
	}
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		/* Not the URL: it may carry credentials. */
		snprintf(err, errlen, "SMTP delivery failed: %s",
		    *cerr ? cerr : curl_easy_strerror(rc));

	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	buf_free(&msg);
	return rc == CURLE_OK ? JAMB_OK : JAMB_EUNAVAIL;
}
