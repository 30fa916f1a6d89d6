#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "listen.h"
#include "log.h"
#include "pool.h"
#include "util.h"
#include "worker.h"

/* How long a new worker may take to become ready. */
#define READY_TIMEOUT_MS	10000
/* A worker that dies sooner than this after its start is failing. */
#define QUICK_DEATH_US		1000000
#define BACKOFF_MAX_US		30000000

struct slot {
	pid_t	 pid;		/* 0: waiting to be started */
	int64_t	 started;	/* clock_us() at fork */
	int64_t	 restart_at;	/* when to start a replacement */
	int	 failures;	/* quick deaths in a row */
};

/* The master's state.  Old workers being drained are in `retiring`. */
struct pool {
	struct conf	*conf;
	int		 lfd;
	int		 inherited;
	struct slot	*slots;
	size_t		 nslots;
	struct slot	 jobs;		/* the background process */
	pid_t		*retiring;
	size_t		 nretiring;
};

static void
retire_add(struct pool *p, pid_t pid)
{
	p->retiring = xrealloc(p->retiring,
	    (p->nretiring + 1) * sizeof(*p->retiring));
	p->retiring[p->nretiring++] = pid;
}

/*
 * Forks one worker with configuration c and waits until it says it is
 * ready, so that a reload never has fewer ready workers than before.
 * Returns the pid, or -1 if it could not start.
 */
static pid_t
spawn(struct pool *p, const struct conf *c)
{
	struct pollfd	 pfd;
	char		 b;
	pid_t		 pid;
	int		 fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_error(NULL, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error(NULL, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* Workers must not outlive a master that was killed. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		close(fds[0]);
		_exit(worker_run(c, p->lfd, fds[1]));
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	do
		rc = poll(&pfd, 1, READY_TIMEOUT_MS);
	while (rc == -1 && errno == EINTR);
	if (rc != 1 || read(fds[0], &b, 1) != 1) {
		log_error(NULL, "worker %d did not become ready", (int)pid);
		kill(pid, SIGKILL);
		retire_add(p, pid);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

static void
start_slot(struct pool *p, struct slot *s)
{
	pid_t	 pid;

	if ((pid = spawn(p, p->conf)) == -1) {
		s->pid = 0;
		s->failures++;
		s->restart_at = clock_us() + 1000000;
		return;
	}
	s->pid = pid;
	s->started = clock_us();
	s->restart_at = 0;
}

/*
 * The background process (outbox deliveries).  It needs no readiness
 * handshake: nothing waits for it.
 */
static void
start_jobs(struct pool *p)
{
	pid_t	 pid;

	p->jobs.restart_at = 0;
	if (!p->conf->jobs_enabled)
		return;
	if ((pid = fork()) == -1) {
		log_error(NULL, "fork: %s", strerror(errno));
		p->jobs.restart_at = clock_us() + 1000000;
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		close(p->lfd);
		_exit(jobs_run(p->conf));
	}
	p->jobs.pid = pid;
	p->jobs.started = clock_us();
}

static void
log_exit(pid_t pid, int status, const char *what)
{
	if (WIFSIGNALED(status))
		log_warn(NULL, "%s %d killed by signal %d", what, (int)pid,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		log_warn(NULL, "%s %d exited with status %d", what, (int)pid,
		    WEXITSTATUS(status));
}

/*
 * A worker that exits 0 retired (max_requests) and is replaced at once.
 * One that died is replaced at once too, unless it keeps dying right
 * after its start: then each restart waits twice as long, up to 30 s.
 */
static void
slot_exited(struct slot *s, int status)
{
	int64_t	 now = clock_us(), delay;
	int	 clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	log_exit(s->pid, status, "worker");
	s->pid = 0;
	if (clean || now - s->started >= QUICK_DEATH_US) {
		s->failures = 0;
		s->restart_at = now;
		return;
	}
	s->failures++;
	delay = 100000LL << (s->failures < 9 ? s->failures : 9);
	if (delay > BACKOFF_MAX_US)
		delay = BACKOFF_MAX_US;
	s->restart_at = now + delay;
	log_warn(NULL, "worker failing at start; next attempt in %lld ms",
	    (long long)(delay / 1000));
}

static void
reap(struct pool *p)
{
	pid_t	 pid;
	size_t	 i;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == p->jobs.pid) {
			slot_exited(&p->jobs, status);
			continue;
		}
		for (i = 0; i < p->nslots; i++)
			if (p->slots[i].pid == pid) {
				slot_exited(&p->slots[i], status);
				break;
			}
		for (i = 0; i < p->nretiring; i++)
			if (p->retiring[i] == pid) {
				log_exit(pid, status, "retired worker");
				p->retiring[i] = p->retiring[--p->nretiring];
				break;
			}
	}
}

static void
restart_due(struct pool *p)
{
	int64_t	 now = clock_us();
	size_t	 i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid == 0 && p->slots[i].restart_at <= now)
			start_slot(p, &p->slots[i]);
	if (p->jobs.pid == 0 && p->jobs.restart_at != 0 &&
	    p->jobs.restart_at <= now)
		start_jobs(p);
}

/* Microseconds until the next slot is due, for the wait's timeout. */
static int64_t
next_due(const struct pool *p)
{
	int64_t	 now = clock_us(), best = 1000000, d;
	size_t	 i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid == 0) {
			d = p->slots[i].restart_at - now;
			if (d < best)
				best = d < 0 ? 0 : d;
		}
	if (p->jobs.pid == 0 && p->jobs.restart_at != 0) {
		d = p->jobs.restart_at - now;
		if (d < best)
			best = d < 0 ? 0 : d;
	}
	return best;
}

/*
 * SIGHUP: load the file again and, if it is valid, replace the workers
 * one at a time, each new one ready before an old one is told to
 * finish.  An invalid file changes nothing.
 */
static void
reload(struct pool *p)
{
	struct conf	*nc;
	struct slot	*ns;
	size_t		 i, n, most;
	char		 err[512];

	if (conf_load(p->conf->path, &nc, err, sizeof(err)) != JAMB_OK) {
		log_error(NULL, "configuration reload refused: %s; keeping "
		    "the running configuration", err);
		return;
	}
	if (strcmp(nc->server_listen, p->conf->server_listen) != 0) {
		log_warn(NULL, "[server] listen changed; the new address "
		    "takes effect at the next restart");
		free(nc->server_listen);
		nc->server_listen = xstrdup(p->conf->server_listen);
	}
	log_setup(nc);
	n = (size_t)nc->server_workers;
	ns = xcalloc(n, sizeof(*ns));
	most = n > p->nslots ? n : p->nslots;
	for (i = 0; i < most; i++) {
		if (i < n) {
			ns[i].pid = spawn(p, nc);
			if (ns[i].pid == -1 && i == 0) {
				log_error(NULL, "configuration reload refused: "
				    "a worker with it did not start; keeping "
				    "the running configuration");
				free(ns);
				conf_free(nc);
				log_setup(p->conf);
				return;
			}
			if (ns[i].pid == -1)
				ns[i].pid = 0;
			ns[i].started = ns[i].restart_at = clock_us();
		}
		if (i < p->nslots && p->slots[i].pid > 0) {
			kill(p->slots[i].pid, SIGTERM);
			retire_add(p, p->slots[i].pid);
		}
	}
	free(p->slots);
	p->slots = ns;
	p->nslots = n;
	if (p->jobs.pid > 0) {
		kill(p->jobs.pid, SIGTERM);
		retire_add(p, p->jobs.pid);
		p->jobs.pid = 0;
	}
	conf_free(p->conf);
	p->conf = nc;
	start_jobs(p);
	log_info(NULL, "configuration reloaded; %zu workers", n);
}

static void
signal_all(struct pool *p, int sig)
{
	size_t	 i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid > 0)
			kill(p->slots[i].pid, sig);
	for (i = 0; i < p->nretiring; i++)
		kill(p->retiring[i], sig);
	if (p->jobs.pid > 0)
		kill(p->jobs.pid, sig);
}

static size_t
alive(const struct pool *p)
{
	size_t	 i, n = p->nretiring + (p->jobs.pid > 0);

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid > 0)
			n++;
	return n;
}

/*
 * SIGTERM: stop listening, let every worker finish its request, and
 * kill what is still running when the grace time is over.
 */
static void
drain(struct pool *p, const sigset_t *set)
{
	struct timespec	 ts = { 0, 100000000 };
	int64_t		 deadline;

	listen_close(p->conf, p->lfd, p->inherited);
	signal_all(p, SIGTERM);
	deadline = clock_us() + p->conf->server_grace * 1000000LL;
	while (alive(p) > 0 && clock_us() < deadline) {
		sigtimedwait(set, NULL, &ts);
		reap(p);
	}
	if (alive(p) > 0) {
		log_warn(NULL, "grace time over; killing %zu workers",
		    alive(p));
		signal_all(p, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0)
			continue;
	}
}

static void
write_pidfile(const struct conf *c)
{
	FILE	*f;

	if (*c->server_pidfile == '\0')
		return;
	if ((f = fopen(c->server_pidfile, "w")) == NULL) {
		log_warn(NULL, "pidfile %s: %s", c->server_pidfile,
		    strerror(errno));
		return;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

static void
master_loop(struct pool *p, const sigset_t *set)
{
	struct timespec	 ts;
	int64_t		 wait;
	int		 sig;

	for (;;) {
		wait = next_due(p);
		ts.tv_sec = (time_t)(wait / 1000000);
		ts.tv_nsec = (long)(wait % 1000000) * 1000;
		sig = sigtimedwait(set, NULL, &ts);
		switch (sig) {
		case SIGCHLD:
			reap(p);
			break;
		case SIGHUP:
			reap(p);
			reload(p);
			break;
		case SIGUSR1:
			log_reopen();
			signal_all(p, SIGUSR1);
			break;
		case SIGTERM:
		case SIGINT:
			log_info(NULL, "shutting down: finishing requests in "
			    "flight (grace %ld s)", p->conf->server_grace);
			drain(p, set);
			return;
		default:
			break;
		}
		restart_due(p);
	}
}

/*
 * The master: opens the listening socket, keeps server_workers workers
 * running and handles the signals of jamb(8).  Takes over c.  Returns
 * the exit status.
 */
int
pool_run(struct conf *c)
{
	struct pool	 p;
	sigset_t	 set;
	char		 err[512];
	size_t		 i;

	memset(&p, 0, sizeof(p));
	p.conf = c;
	if ((p.lfd = listen_open(c, &p.inherited, err, sizeof(err))) == -1) {
		log_error(NULL, "cannot listen: %s", err);
		conf_free(c);
		return 1;
	}
	/* Signals are taken synchronously with sigtimedwait, not handled. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	write_pidfile(c);

	p.nslots = (size_t)c->server_workers;
	p.slots = xcalloc(p.nslots, sizeof(*p.slots));
	for (i = 0; i < p.nslots; i++)
		start_slot(&p, &p.slots[i]);
	start_jobs(&p);
	log_info(NULL, "jamb %s serving on %s with %zu workers",
	    PACKAGE_VERSION, p.inherited ? "an inherited socket" :
	    c->server_listen, p.nslots);

	master_loop(&p, &set);

	if (*p.conf->server_pidfile != '\0')
		unlink(p.conf->server_pidfile);
	log_info(NULL, "stopped");
	free(p.slots);
	free(p.retiring);
	conf_free(p.conf);
	return 0;
}
