#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

/* The first socket systemd passes (sd_listen_fds(3)). */
#define SD_LISTEN_FDS_START	3

static int
is_unix_path(const char *s)
{
	return *s == '/' || *s == '.';
}

/*
 * A unix socket path left over by a crashed master is removed; one that
 * still accepts connections belongs to a running jamb and is not.
 */
static int
unix_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, live;

	if (lstat(path, &st) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "%s is in use by another process", path);
		return -1;
	}
	unlink(path);
	return 0;
}

static int
open_unix(const struct conf *c, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	const char		*path = c->server_listen;
	int			 fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "[server] listen: path too long");
		return -1;
	}
	if (unix_stale(path, err, errlen) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	/* The web server's user connects; the mode says who may. */
	if (chmod(path, (mode_t)c->server_socket_mode) == -1)
		goto fail;
	if (listen(fd, (int)c->server_backlog) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* HOST:PORT, with [v6]:PORT for IPv6 literals. */
static int
open_tcp(const struct conf *c, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 host[256], *colon;
	const char	*spec = c->server_listen;
	int		 fd = -1, one = 1, gai;

	snprintf(host, sizeof(host), "%s", spec[0] == '[' ? spec + 1 : spec);
	if ((colon = strrchr(host, ':')) == NULL) {
		snprintf(err, errlen, "[server] listen: \"%s\" is neither a "
		    "socket path nor HOST:PORT", spec);
		return -1;
	}
	*colon = '\0';
	if (spec[0] == '[' && colon > host && colon[-1] == ']')
		colon[-1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(*host ? host : NULL, colon + 1, &hints,
	    &res)) != 0) {
		snprintf(err, errlen, "[server] listen: %s: %s", spec,
		    gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, (int)c->server_backlog) == 0)
			break;
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * The listening socket: systemd's when it passed one (*inherited is
 * then set and the socket is not ours to remove), else the configured
 * unix path or TCP address.  Returns -1 with the reason in err.
 */
int
listen_open(const struct conf *c, int *inherited, char *err, size_t errlen)
{
	const char	*pid = getenv("LISTEN_PID");
	const char	*fds = getenv("LISTEN_FDS");

	*inherited = 0;
	if (pid != NULL && fds != NULL && atol(pid) == (long)getpid() &&
	    atoi(fds) >= 1) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
		*inherited = 1;
		return SD_LISTEN_FDS_START;
	}
	if (is_unix_path(c->server_listen))
		return open_unix(c, err, errlen);
	return open_tcp(c, err, errlen);
}

/* Stops listening; a socket file of our own is removed. */
void
listen_close(const struct conf *c, int fd, int inherited)
{
	close(fd);
	if (!inherited && is_unix_path(c->server_listen))
		unlink(c->server_listen);
}

/* Whether stdin is a listening socket (spawn-fcgi, mod_fcgid). */
int
listen_on_stdin(void)
{
	int		 acc = 0;
	socklen_t	 len = sizeof(acc);

	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &acc,
	    &len) == -1)
		return 0;
	return acc != 0;
}
