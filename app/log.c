#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char *const level_names[LOG_LEVEL__MAX] = {
	"debug", "info", "warn", "error"
};

static struct {
	enum log_level	 level;
	enum log_format	 format;
	char		*file;
	int		 fd;
	char		 context[80];
} lg = { LOG_LEVEL_INFO, LOG_FORMAT_JSON, NULL, STDERR_FILENO, "" };

/*
 * The request being served, named in every line logged meanwhile, so
 * that code below the handlers (db, cache) need not pass it around.
 */
void
log_context(const char *reqid)
{
	snprintf(lg.context, sizeof(lg.context), "%s", reqid ? reqid : "");
}

static int
log_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/*
 * Applies the [log] section.  A log file that cannot be opened leaves
 * logging on stderr and says so there, so the message is not lost.
 */
void
log_setup(const struct conf *c)
{
	int	 fd;

	lg.level = (enum log_level)c->log_level;
	lg.format = (enum log_format)c->log_format;
	free(lg.file);
	lg.file = NULL;
	if (lg.fd != STDERR_FILENO)
		close(lg.fd);
	lg.fd = STDERR_FILENO;
	if (*c->log_file == '\0')
		return;
	if ((fd = log_open(c->log_file)) == -1) {
		log_error(NULL, "cannot open log file %s: %s; logging to "
		    "stderr", c->log_file, strerror(errno));
		return;
	}
	lg.fd = fd;
	lg.file = xstrdup(c->log_file);
}

/* Reopens the log file after rotation (SIGUSR1). */
void
log_reopen(void)
{
	int	 fd;

	if (lg.file == NULL)
		return;
	if ((fd = log_open(lg.file)) == -1) {
		log_error(NULL, "cannot reopen log file %s: %s", lg.file,
		    strerror(errno));
		return;
	}
	close(lg.fd);
	lg.fd = fd;
}

int
log_enabled(enum log_level level)
{
	return level >= lg.level;
}

/*
 * A JSON string for any C string: invalid UTF-8 bytes become \xNN text
 * instead of making the whole line unencodable.
 */
json_t *
log_string(const char *s)
{
	struct buf	 b;
	json_t		*j;
	size_t		 n = strlen(s), i;

	if (utf8_valid(s, n))
		return json_stringn(s, n);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80)
			buf_addc(&b, (char)c);
		else
			buf_printf(&b, "\\x%02x", c);
	}
	j = json_stringn(b.data, b.len);
	buf_free(&b);
	return j;
}

static void
timestamp(char *out, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

/* key=value text: values quoted when needed, control bytes escaped. */
static void
text_value(struct buf *b, json_t *v)
{
	const char	*s;
	char		*dump;
	int		 quote;

	if (!json_is_string(v)) {
		dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_adds(b, dump ? dump : "?");
		free(dump);
		return;
	}
	s = json_string_value(v);
	quote = *s == '\0' || strpbrk(s, " \"=\\") != NULL;
	if (quote)
		buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else if (quote && (c == '"' || c == '\\')) {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
		} else
			buf_addc(b, (char)c);
	}
	if (quote)
		buf_addc(b, '"');
}

static void
emit(json_t *line)
{
	struct buf	 b;
	const char	*key;
	json_t		*v;
	char		*dump;
	ssize_t		 w;
	size_t		 off = 0;

	if (lg.format == LOG_FORMAT_JSON) {
		dump = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (dump == NULL)
			return;
		buf_init(&b);
		buf_adds(&b, dump);
		free(dump);
	} else {
		buf_init(&b);
		json_object_foreach(line, key, v) {
			if (b.len > 0)
				buf_addc(&b, ' ');
			buf_printf(&b, "%s=", key);
			text_value(&b, v);
		}
	}
	buf_addc(&b, '\n');
	/* One write per line keeps lines of concurrent workers whole. */
	while (off < b.len) {
		w = write(lg.fd, b.data + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	buf_free(&b);
}

/*
 * Logs msg with extra fields (a JSON object, which this call takes
 * over; may be NULL).  reqid may be NULL outside requests.
 */
void
log_fields(enum log_level level, const char *reqid, const char *msg,
    json_t *fields)
{
	char	 ts[40];
	json_t	*line;

	if (!log_enabled(level)) {
		json_decref(fields);
		return;
	}
	timestamp(ts, sizeof(ts));
	line = json_object();
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "level", json_string(level_names[level]));
	json_object_set_new(line, "pid", json_integer(getpid()));
	if (reqid == NULL && lg.context[0] != '\0')
		reqid = lg.context;
	if (reqid != NULL)
		json_object_set_new(line, "request_id", log_string(reqid));
	json_object_set_new(line, "msg", log_string(msg));
	if (fields != NULL) {
		json_object_update(line, fields);
		json_decref(fields);
	}
	emit(line);
	json_decref(line);
}

void
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	char	 msg[2048];
	va_list	 ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fields(level, reqid, msg, NULL);
}
