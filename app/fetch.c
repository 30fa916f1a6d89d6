#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "fetch.h"

struct sink {
	struct buf	*out;
	size_t		 max;
	int		 over;
};

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;

	if (s->out->len + size * n > s->max) {
		s->over = 1;
		return 0;
	}
	buf_add(s->out, p, size * n);
	return size * n;
}

enum jamb_status
fetch_get(const char *url, size_t max, long timeout, struct buf *out,
    char *err, size_t errlen)
{
	CURL		*curl;
	struct sink	 s = { out, max, 0 };
	char		 cerr[CURL_ERROR_SIZE] = "";
	long		 status = 0;
	CURLcode	 rc;

	buf_reset(out);
	if ((curl = curl_easy_init()) == NULL)
		abort();
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "jamb/" PACKAGE_VERSION);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);

	if (s.over) {
		snprintf(err, errlen, "%s: answer larger than %zu bytes", url,
		    max);
		return JAMB_ETOOBIG;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, *cerr ? cerr :
		    curl_easy_strerror(rc));
		return JAMB_EUNAVAIL;
	}
	if (status != 200) {
		snprintf(err, errlen, "%s: HTTP status %ld", url, status);
		return JAMB_EUNAVAIL;
	}
	return JAMB_OK;
}
