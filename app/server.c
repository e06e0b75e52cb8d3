#include "config.h"
#include "server.h"
#include "app.h"
#include "arena.h"
#include "buf.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "log.h"
#include "migrate.h"
#include "tasks.h"
#include "xalloc.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SD_LISTEN_FDS_START 3
#define DRAIN_SECONDS 30
/* A leaving worker serves its kept connections until nginx closes them (the
 * upstream's keepalive_timeout and keepalive_time, 1 s and 3 s in nginx/),
 * and closes what is left itself after this long; below DRAIN_SECONDS. */
#define LEAVE_SECONDS 20

enum child_kind { CHILD_WORKER, CHILD_TASKS };

struct child {
	pid_t pid;
	enum child_kind kind;
	int generation;
	time_t started;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t child_stop;

static void on_master_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static void on_child_term(int sig)
{
	(void)sig;
	child_stop = 1;
	FCGX_ShutdownPending();
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* The listening socket: systemd's (LISTEN_FDS) or our own unix socket. */
static int open_listener(const struct conf *c, bool *own)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (pid && fds && atol(pid) == (long)getpid() && atoi(fds) >= 1) {
		*own = false;
		int fd = SD_LISTEN_FDS_START;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		log_info("using the socket passed by systemd (fd %d)", fd);
		return fd;
	}
	*own = true;
	struct stat st;
	if (lstat(c->fcgi_socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("%s exists and is not a socket; refusing to replace it", c->fcgi_socket);
			return -1;
		}
		unlink(c->fcgi_socket); /* left over from a previous run */
	}
	mode_t old = umask(0117); /* rw for owner and group: nginx's group connects */
	int fd = FCGX_OpenSocket(c->fcgi_socket, 256);
	umask(old);
	if (fd < 0) {
		log_err("cannot listen on %s: %s", c->fcgi_socket, strerror(errno));
		return -1;
	}
	log_info("listening on %s", c->fcgi_socket);
	return fd;
}

static long fcgx_read(void *ctx, char *buf, size_t n)
{
	int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
	return FCGX_GetStr(buf, chunk, ctx);
}

/* A worker answers one request at a time but keeps up to MAX_CONNS FastCGI
 * connections open: nginx's upstream keepalive (fastcgi_keep_conn) then sends
 * request after request on a connection, without a connect, accept and
 * lingering close for each.  An idle kept connection never pins the worker:
 * it polls the listening socket and every open connection, and serves
 * whichever has a request, in turn.  It never closes a kept connection
 * itself, not even when it is leaving: nginx may already be sending the next
 * request on it, and a POST would fail with 502 (nginx resends only
 * idempotent requests).  Only nginx closes kept connections race-free, when
 * they have been idle or open long enough (keepalive_timeout,
 * keepalive_time).  With all its slots in use a worker leaves new
 * connections to the other workers.
 * That cannot stall as long as nginx caches fewer idle connections than all
 * workers have slots (keepalive x nginx worker_processes < workers x
 * MAX_CONNS; see nginx/jobscope.conf).  Without keep_conn, libfcgi closes
 * each connection after its request, as before. */
#define MAX_CONNS 256

/* fr.ipcFd (the connection, < 0: none) and fr.keepConnection are below the
 * "don't use" line of fcgiapp.h's FCGX_Request, but part of the struct that
 * the header declares and libfcgi 2.4's ABI; nothing else of libfcgi's
 * internals is used. */
struct conn {
	FCGX_Request fr;
};

/* Reads the next request of a connection, or, for a free slot, accepts one.
 * false: no request (the peer closed the connection, or another worker took
 * the pending connection: the listening socket is non-blocking). */
static bool next_request(struct conn *c)
{
	if (FCGX_Accept_r(&c->fr) == 0)
		return true;
	if (c->fr.ipcFd >= 0) /* not to be reused after an error */
		FCGX_Free(&c->fr, 1);
	return false;
}

/* Writes the first n bytes of a response as FastCGI stdout records of up to
 * 64 KB with one writev, where libfcgi's 8 KB stream buffer would take a
 * write per 8 KB.  false: the connection failed. */
static bool write_stdout(int fd, int request_id, const char *p, size_t n)
{
	enum { REC = 65528, NREC = 64 }; /* content per record: a multiple of 8, no padding */
	unsigned char hdr[NREC][8];
	struct iovec iov[2 * NREC];
	while (n > 0) {
		int k = 0;
		size_t batch = 0;
		for (; k < NREC && batch < n; k++) {
			size_t len = n - batch < REC ? n - batch : REC;
			unsigned char *h = hdr[k];
			h[0] = 1, h[1] = 6 /* FCGI_STDOUT */, h[2] = (unsigned char)(request_id >> 8);
			h[3] = (unsigned char)request_id, h[4] = (unsigned char)(len >> 8), h[5] = (unsigned char)len;
			h[6] = 0, h[7] = 0;
			iov[2 * k] = (struct iovec){h, 8};
			iov[2 * k + 1] = (struct iovec){(void *)(p + batch), len};
			batch += len;
		}
		struct iovec *v = iov;
		int nv = 2 * k;
		while (nv > 0) {
			ssize_t w = writev(fd, v, nv);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return false;
			}
			while (nv > 0 && (size_t)w >= v->iov_len) {
				w -= (ssize_t)v->iov_len;
				v++, nv--;
			}
			if (nv > 0) {
				v->iov_base = (char *)v->iov_base + w;
				v->iov_len -= (size_t)w;
			}
		}
		p += batch;
		n -= batch;
	}
	return true;
}

static void serve(struct conn *c, struct arena *a, struct buf *out)
{
	arena_reset(a);
	buf_reset(out);
	dispatch_request(a, c->fr.envp, fcgx_read, c->fr.in, out);
	/* A large answer: all but its last 4 KB in 64 KB records at once; the
	 * rest, the end of stdout and FCGI_END_REQUEST in libfcgi's one write
	 * at FCGX_Finish_r (its buffer is still empty here) */
	size_t bulk = out->len > 8192 ? out->len - 4096 : 0;
	if (bulk && !write_stdout(c->fr.ipcFd, c->fr.requestId, out->data, bulk)) {
		c->fr.keepConnection = 0;
		bulk = out->len;
	}
	FCGX_PutStr(out->data + bulk, (int)(out->len - bulk), c->fr.out);
	/* The next request on a kept connection starts after this one's body:
	 * read what the handler left of it (an early refusal reads none), up to
	 * a bound, beyond which closing the connection is cheaper. */
	if (c->fr.keepConnection) {
		char rest[8192];
		size_t budget = 1 << 20;
		int n;
		while (budget >= sizeof(rest) && (n = FCGX_GetStr(rest, (int)sizeof(rest), c->fr.in)) > 0)
			budget -= (size_t)n;
		if (!FCGX_HasSeenEOF(c->fr.in))
			c->fr.keepConnection = 0;
	}
	FCGX_Finish_r(&c->fr); /* closes the connection unless nginx keeps it */
}

static void worker_main(int listen_fd)
{
	prctl(PR_SET_NAME, "jobscope-worker", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	set_handler(SIGTERM, on_child_term, 0);
	set_handler(SIGINT, SIG_IGN, 0);
	set_handler(SIGHUP, SIG_IGN, 0);
	set_handler(SIGPIPE, SIG_IGN, 0);
	set_handler(SIGCHLD, SIG_DFL, 0);
	/* SIGTERM is delivered only while the worker waits in ppoll(), never
	 * while a request is in hand */
	sigset_t term, waiting;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &waiting);
	sigdelset(&waiting, SIGTERM);
	db_setup(the_app->conf->db);

	/* accept() must not block when another worker took the connection */
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);

	struct arena a;
	arena_init(&a, 64 * 1024);
	struct buf out = BUF_INIT;
	FCGX_Init();
	struct conn *conns = xcalloc(MAX_CONNS, sizeof(*conns));
	for (int i = 0; i < MAX_CONNS; i++)
		FCGX_InitRequest(&conns[i].fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	struct pollfd pfd[MAX_CONNS + 1];
	int slot[MAX_CONNS + 1];
	int start = 0;		 /* round robin over the ready connections */
	struct timespec leave = {0}; /* once told to stop: when to close what is left */
	for (;;) {
		int n = 0, nopen = 0;
		for (int k = 0; k < MAX_CONNS; k++) {
			int i = (start + k) % MAX_CONNS;
			if (conns[i].fr.ipcFd >= 0) {
				pfd[n] = (struct pollfd){.fd = conns[i].fr.ipcFd, .events = POLLIN};
				slot[n++] = i;
				nopen++;
			}
		}
		struct timespec now, wait = {0}, *tmo = NULL;
		if (child_stop) {
			/* Leaving (SIGTERM, or a reload): no new connections; the
			 * kept ones are served until nginx closes them (closed here,
			 * one could meet a request nginx is sending on it), for at
			 * most LEAVE_SECONDS. */
			if (nopen == 0)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (!leave.tv_sec)
				leave = (struct timespec){now.tv_sec + LEAVE_SECONDS, now.tv_nsec};
			long ms = (leave.tv_sec - now.tv_sec) * 1000 + (leave.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0) {
				log_warn("leaving: closing %d kept connection%s that nginx did not close in %d s "
					 "(set the upstream's keepalive_timeout and keepalive_time below that)",
					 nopen, nopen == 1 ? "" : "s", LEAVE_SECONDS);
				break;
			}
			wait = (struct timespec){ms / 1000, ms % 1000 * 1000000};
			tmo = &wait;
		}
		if (nopen < MAX_CONNS && !child_stop) {
			pfd[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
			slot[n++] = -1;
		}
		int rc = ppoll(pfd, (nfds_t)n, tmo, &waiting);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			break;
		}
		start = (start + 1) % MAX_CONNS;
		for (int k = 0; k < n && rc > 0; k++) {
			if (!pfd[k].revents)
				continue;
			if (slot[k] >= 0) {
				struct conn *c = &conns[slot[k]];
				if (next_request(c))
					serve(c, &a, &out);
				continue;
			}
			/* a new connection, in a free slot (the listening socket is
			 * polled only when there is one) */
			int i = 0;
			while (conns[i].fr.ipcFd >= 0)
				i++;
			if (next_request(&conns[i]))
				serve(&conns[i], &a, &out);
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		FCGX_Free(&conns[i].fr, conns[i].fr.ipcFd >= 0);
	free(conns);
	arena_release(&a);
	buf_release(&out);
	db_close();
}

static void tasks_main(void)
{
	prctl(PR_SET_NAME, "jobscope-tasks", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	set_handler(SIGTERM, on_child_term, 0);
	set_handler(SIGINT, SIG_IGN, 0);
	set_handler(SIGHUP, SIG_IGN, 0);
	set_handler(SIGPIPE, SIG_IGN, 0);
	set_handler(SIGCHLD, SIG_DFL, 0);
	db_setup(the_app->conf->db);
	tasks_run(&child_stop);
	db_close();
}

static struct child *children;
static size_t nchildren, capchildren;

static void spawn(enum child_kind kind, int generation, int listen_fd)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		free(children);
		children = NULL;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (kind == CHILD_WORKER)
			worker_main(listen_fd);
		else
			tasks_main();
		app_release(the_app);
		conf_free(the_app->conf);
		free(the_app);
		_exit(0);
	}
	if (nchildren == capchildren) {
		capchildren = capchildren ? capchildren * 2 : 16;
		children = xrealloc(children, capchildren * sizeof(*children));
	}
	children[nchildren++] = (struct child){pid, kind, generation, time(NULL)};
}

static void signal_generation(int generation, int sig, bool older)
{
	for (size_t i = 0; i < nchildren; i++)
		if (older ? children[i].generation < generation : children[i].generation == generation)
			kill(children[i].pid, sig);
}

static int reload(const char *config_path, int *generation, int listen_fd)
{
	char err[1024];
	struct conf *nc = conf_load(config_path, err, sizeof(err));
	if (!nc || conf_load_env(nc, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		conf_free(nc);
		return -1;
	}
	struct app *na = xcalloc(1, sizeof(*na));
	if (app_init(na, nc, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		conf_free(nc);
		free(na);
		return -1;
	}
	if (nc->workers != the_app->conf->workers || strcmp(nc->fcgi_socket, the_app->conf->fcgi_socket) != 0)
		log_warn("reload: main.workers and main.fcgi-socket take effect at the next restart");
	int workers = the_app->conf->workers;
	app_release(the_app);
	conf_free(the_app->conf);
	free(the_app);
	the_app = na;
	the_app->conf->workers = workers;
	(*generation)++;
	for (int i = 0; i < workers; i++)
		spawn(CHILD_WORKER, *generation, listen_fd);
	spawn(CHILD_TASKS, *generation, listen_fd);
	/* old workers finish the request in hand, then leave */
	signal_generation(*generation, SIGTERM, true);
	log_info("reloaded configuration and templates (generation %d)", *generation);
	return 0;
}

static void reap(int generation, int listen_fd, bool respawn)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < nchildren; i++) {
			if (children[i].pid != pid)
				continue;
			struct child c = children[i];
			children[i] = children[--nchildren];
			bool current = c.generation == generation;
			bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			if (current && respawn) {
				if (WIFSIGNALED(status))
					log_err("%s %ld died from signal %d; starting a new one",
						c.kind == CHILD_WORKER ? "worker" : "task runner", (long)pid, WTERMSIG(status));
				else
					log_err("%s %ld exited with status %d; starting a new one",
						c.kind == CHILD_WORKER ? "worker" : "task runner", (long)pid,
						WIFEXITED(status) ? WEXITSTATUS(status) : -1);
				/* a child that dies at once must not make the master spin */
				if (time(NULL) - c.started < 1)
					sleep(1);
				spawn(c.kind, generation, listen_fd);
			} else if (!clean) {
				log_warn("old %s %ld ended with status %d", c.kind == CHILD_WORKER ? "worker" : "task runner",
					 (long)pid, status);
			}
			break;
		}
	}
}

int server_run(const char *config_path, struct conf *conf)
{
	(void)conf;
	bool own_socket;
	int fd = open_listener(the_app->conf, &own_socket);
	if (fd < 0)
		return 1;
	char *socket_path = xstrdup(the_app->conf->fcgi_socket);

	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	set_handler(SIGTERM, on_master_signal, 0);
	set_handler(SIGINT, on_master_signal, 0);
	set_handler(SIGHUP, on_master_signal, 0);
	set_handler(SIGCHLD, on_master_signal, SA_NOCLDSTOP);
	set_handler(SIGPIPE, SIG_IGN, 0);

	int generation = 1;
	for (int i = 0; i < the_app->conf->workers; i++)
		spawn(CHILD_WORKER, generation, fd);
	spawn(CHILD_TASKS, generation, fd);
	log_info("jobscope %s: master %ld with %d workers and a task runner", PACKAGE_VERSION,
		 (long)getpid(), the_app->conf->workers);

	sigset_t wait_mask = old;
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGHUP);
	sigdelset(&wait_mask, SIGCHLD);
	while (!got_term) {
		sigsuspend(&wait_mask);
		if (got_chld) {
			got_chld = 0;
			reap(generation, fd, !got_term);
		}
		if (got_hup && !got_term) {
			got_hup = 0;
			reload(config_path, &generation, fd);
		}
	}

	log_info("shutting down: letting %zu children finish their requests", nchildren);
	for (size_t i = 0; i < nchildren; i++)
		kill(children[i].pid, SIGTERM);
	time_t deadline = time(NULL) + DRAIN_SECONDS;
	while (nchildren > 0 && time(NULL) < deadline) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			for (size_t i = 0; i < nchildren; i++)
				if (children[i].pid == pid) {
					children[i] = children[--nchildren];
					break;
				}
		} else {
			usleep(20000);
		}
	}
	for (size_t i = 0; i < nchildren; i++) {
		log_warn("child %ld did not finish in %d s; killing it", (long)children[i].pid, DRAIN_SECONDS);
		kill(children[i].pid, SIGKILL);
		waitpid(children[i].pid, NULL, 0);
	}
	close(fd);
	if (own_socket)
		unlink(socket_path);
	free(socket_path);
	free(children);
	children = NULL;
	nchildren = 0;
	log_info("stopped");
	return 0;
}
