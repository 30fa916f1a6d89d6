#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "log.h"
#include "worker.h"

extern char	**environ;

static volatile sig_atomic_t	stopping;
static volatile sig_atomic_t	reopen_log;

static void
on_stop(int sig)
{
	stopping = 1;
}

static void
on_usr1(int sig)
{
	reopen_log = 1;
}

/*
 * Signals stay blocked while a request runs, so SIGTERM never cuts one
 * short; they are let in only while the worker waits for the next
 * connection (see the ppoll in worker_run).  *waitmask is that mask.
 */
static void
worker_signals(sigset_t *waitmask)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGUSR1);
}

static int
fcgi_read(void *ctx, char *buf, size_t len)
{
	FCGX_Request	*fr = ctx;
	int		 n;

	n = FCGX_GetStr(buf, (int)len, fr->in);
	if (n == 0 && FCGX_GetError(fr->in) != 0)
		return -1;
	return n;
}

static int
fcgi_write(void *ctx, const char *buf, size_t len)
{
	FCGX_Request	*fr = ctx;

	return FCGX_PutStr(buf, (int)len, fr->out) == (int)len ? 0 : -1;
}

/*
 * Waits for the next request while letting signals in.  The listening
 * socket is non-blocking and shared by all workers, so the accept that
 * follows may find the connection taken by another: FCGX_Accept_r then
 * returns -EAGAIN and the caller waits again.  A connection the web
 * server keeps open between requests is waited on instead.
 */
static int
wait_next(const FCGX_Request *fr, int lfd, const sigset_t *mask)
{
	struct pollfd	 pfd;

	pfd.fd = fr->ipcFd >= 0 ? fr->ipcFd : lfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (ppoll(&pfd, 1, NULL, mask) == -1)
		return -1;
	return 0;
}

/*
 * A FastCGI worker on the listening socket lfd: serves requests until
 * SIGTERM or max_requests, finishing the one in flight.  ready_fd, when
 * not -1, gets one byte once the worker is ready to accept.  Returns the
 * process exit status.
 */
int
worker_run(const struct conf *c, int lfd, int ready_fd)
{
	FCGX_Request	 fr;
	struct app	*app;
	struct io	 io;
	sigset_t	 waitmask;
	long		 served = 0;
	int		 rc, flags;

	worker_signals(&waitmask);
	if ((flags = fcntl(lfd, F_GETFL)) == -1 ||
	    fcntl(lfd, F_SETFL, flags | O_NONBLOCK) == -1) {
		log_error(NULL, "listening socket: %s", strerror(errno));
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, lfd, 0) != 0) {
		log_error(NULL, "cannot initialise libfcgi");
		return 1;
	}
	app = app_new(c);
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) != 1)
			log_warn(NULL, "cannot signal readiness: %s",
			    strerror(errno));
		close(ready_fd);
	}

	while (!stopping) {
		if (reopen_log) {
			reopen_log = 0;
			log_reopen();
		}
		if (wait_next(&fr, lfd, &waitmask) == -1)
			continue;
		if ((rc = FCGX_Accept_r(&fr)) < 0) {
			if (rc != -EAGAIN && rc != -EWOULDBLOCK &&
			    rc != -EINTR) {
				log_warn(NULL, "accept: %s", strerror(-rc));
				usleep(10000);
			}
			continue;
		}
		io.envp = fr.envp;
		io.read = fcgi_read;
		io.write = fcgi_write;
		io.ctx = &fr;
		app_handle(app, &io);
		FCGX_Finish_r(&fr);
		if (c->server_max_requests > 0 &&
		    ++served >= c->server_max_requests) {
			log_info(NULL, "worker retiring after %ld requests",
			    served);
			break;
		}
	}
	FCGX_Free(&fr, 1);
	app_free(app);
	return 0;
}

static int
cgi_read(void *ctx, char *buf, size_t len)
{
	ssize_t	 n;

	do
		n = read(STDIN_FILENO, buf, len);
	while (n == -1 && errno == EINTR);
	return (int)n;
}

static int
cgi_write(void *ctx, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Plain CGI: the request is in the environment and on stdin. */
int
worker_cgi(const struct conf *c)
{
	struct app	*app;
	struct io	 io;

	signal(SIGPIPE, SIG_IGN);
	app = app_new(c);
	io.envp = environ;
	io.read = cgi_read;
	io.write = cgi_write;
	io.ctx = NULL;
	app_handle(app, &io);
	app_free(app);
	return 0;
}
