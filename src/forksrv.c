/*
 * forksrv.c: the fork server and the worker processes it forks.
 *
 * Forking from a threaded process can deadlock (a lock held by another
 * thread at fork time stays locked forever in the child), so corun forks one
 * small server first thing, before the loop or any thread exists, and every
 * worker, first or replacement, is forked by that server instead.
 *
 * Three processes run code from this file:
 *
 * - corun (loop thread): forksrv_start, then forksrv_send/recv on its end
 *   of a SOCK_SEQPACKET socket, one struct fs_msg per packet, and at the
 *   end forksrv_stop. Nothing else in corun touches the server.
 * - the server: one thread, its own process group, default signal
 *   dispositions, only SIGCHLD blocked (it is read from a signalfd),
 *   standard input and output on /dev/null, no fd but 0-2 and the socket.
 *   It polls the socket and the signalfd. FS_SPAWN: two pipes and a fork
 *   (the worker makes itself as much nicer as the message's status says);
 *   the worker's pid and corun's ends of the pipes go back over the socket
 *   (SCM_RIGHTS) and the server closes its copies. FS_KILL: SIGKILL to the
 *   group of a worker it has not reaped yet, so a pid is never signalled
 *   after it could have been reused. SIGCHLD: reap, and report FS_EXITED.
 *   The process groups of corun's exec and sh children are in a table
 *   shared with corun (forksrv_watch): corun writes it, with no message
 *   and no wakeup, and the server reads it only once corun is gone, to
 *   kill the groups corun did not stop.
 *   End of file on the socket (corun exited, however it died): SIGKILL
 *   every worker's group, reap them all, exit.
 * - a worker: its own process group, default signals, empty mask, fds 0-2
 *   and its two pipes only. It reads job frames (frame.h) in big chunks,
 *   runs each with its kind's run function and writes the result frame as
 *   soon as the job ends, so corun's clock for the next job is right. It
 *   exits 0 at end of file on its job pipe. A run function that crashes
 *   just kills the worker; corun fails the job and asks for another.
 *
 * - the watchdog, for the server killed first (kill -9): corun forks it
 *   right after the server, before any thread exists, and it only waits
 *   (process name corun-watchdog; default signals, its own process group,
 *   /dev/null on 0-2). It reads two pipes: one whose write end only
 *   corun holds, and one whose write end only the server holds, where the
 *   server writes a byte once it has done its end-of-run work. When corun
 *   is gone (end of file, however it died) and the server has ended, it
 *   kills the groups left in the watch table if the server ended without
 *   that byte, and exits. It shares the table with corun (the mapping is
 *   inherited, so it sees every group corun watches). Process-pool jobs
 *   fail once the server is gone (pool_slot.c): only a fork server may
 *   fork workers.
 *
 * Pid reuse: a group is signalled only while provably corun's. The server
 * kills a worker's group only before reaping the worker. corun keeps its
 * children unreaped until it is done with their groups (child.c) and
 * unwatches each group before the reap. The server and the watchdog read
 * the table only once corun is gone and signal each group at once; the
 * one window left is a child that exited just before corun died, whose
 * group had no member left: init reaps it, and its number would have to
 * be handed out again (pids are allocated in a cycle) in the moment
 * before the kill. The same holds for the workers corun kills itself when
 * the server has died (pool_slot.c): a worker that exited just before is
 * reaped by init.
 *
 * The server, the watchdog and the workers leave with _exit, never
 * flushing stdio buffers that are copies of corun's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_CLOSE_RANGE
#include <linux/close_range.h>
#endif

#include "corun.h"
#include "forksrv.h"
#include "frame.h"
#include "executors.h"
#include "kinds.h"
#include "util.h"

#define SERVER_FD 3	     /* where the server keeps its socket */
#define SERVER_DONE_FD 4     /* the server's end of the watchdog's pipe */
#define SERVER_MAX_FDS 65536 /* fds closed one by one without close_range */

/* Corun's side: the socket and the server's pid. */
static int fs_fd = -1;
static pid_t fs_pid;
static int fs_reaped;
/* Corun's side: the watchdog, forked with the server. */
static pid_t fs_dog;
static int fs_dogfd = -1; /* the pipe's write end: EOF when corun exits */

/* The server's side: workers forked and not yet reaped. */
/* Server: a set of pids (small: a linear scan is fine). */
struct pidset {
	pid_t *pids;
	size_t n, cap;
};

static struct pidset srv_workers; /* workers not yet reaped */

/*
 * The watch table: the process groups of corun's running children, in
 * memory shared by corun and the server (MAP_SHARED, made before the
 * fork). Open addressing by pid, 0 empty, -1 a deleted entry. Only corun
 * writes it; the server reads it after corun has died, so there is never
 * a writer and a reader at once.
 */
#define FS_WATCH_SLOTS 65536 /* entries (a power of two): children watched */
static pid_t *fs_watch;

/* A worker's reusable buffers. */
struct wk {
	struct buf in;	  /* job bytes read and not yet run */
	struct buf out;	  /* the result frame being written */
	struct buf value; /* the value of the job being run */
	char **argv;
	size_t argvcap;
};

static void forksrv_main(int sock, int done) CORUN_ATTR_NORETURN;
static void forksrv_dog(int corunfd, int serverfd) CORUN_ATTR_NORETURN;
static void forksrv_worker(int jobfd, int resfd) CORUN_ATTR_NORETURN;

/* Fork the watchdog beside the server (no thread runs yet either); it
 * reads serverfd, the server's pipe. Without it (out of processes) the
 * watch goes with the server. */
static void
forksrv_dog_start(int serverfd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0)
		forksrv_dog(p[0], serverfd);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return;
	}
	setpgid(pid, pid);
	fs_dog = pid;
	fs_dogfd = p[1];
}

/* Fork the fork server (corun, at start-up, before any thread exists):
 * 0, or -1 with errno (nothing is left started then). */
int
forksrv_start(void)
{
	int sv[2], done[2] = {-1, -1}, err;
	pid_t pid;

	if (fs_fd >= 0)
		fatalx("fork server started twice");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (fd_nonblock(sv[0]) < 0 || pipe2(done, O_CLOEXEC) < 0)
		goto fail;
	if (fs_watch == NULL) {
		void *p = mmap(NULL, FS_WATCH_SLOTS * sizeof *fs_watch,
			       PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			goto fail;
		fs_watch = p;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		close(sv[0]);
		close(done[0]);
		forksrv_main(sv[1], done[1]);
	}
	close(sv[1]);
	close(done[1]);
	/* The server does it too; whichever runs first wins the race. */
	setpgid(pid, pid);
	fs_fd = sv[0];
	fs_pid = pid;
	fs_reaped = 0;
	forksrv_dog_start(done[0]);
	close(done[0]);
	return 0;
fail:
	err = errno;
	close(sv[0]);
	close(sv[1]);
	if (done[0] >= 0) {
		close(done[0]);
		close(done[1]);
	}
	errno = err;
	return -1;
}

/* The first slot to try for pid. */
static size_t
forksrv_slot(pid_t pid)
{
	return ((size_t)pid * 2654435761u) & (FS_WATCH_SLOTS - 1);
}

/* Have the server kill pid's process group should corun die first.
 * 0, or -1 when there is no server or the table is full. */
int
forksrv_watch(pid_t pid)
{
	size_t i = forksrv_slot(pid);

	if (fs_watch == NULL)
		return -1;
	for (size_t n = 0; n < FS_WATCH_SLOTS; n++) {
		if (fs_watch[i] <= 0) {
			fs_watch[i] = pid;
			return 0;
		}
		i = (i + 1) & (FS_WATCH_SLOTS - 1);
	}
	return -1;
}

/* pid's group needs no watching any more (its child was reaped). */
void
forksrv_unwatch(pid_t pid)
{
	size_t i = forksrv_slot(pid);

	if (fs_watch == NULL)
		return;
	for (size_t n = 0; n < FS_WATCH_SLOTS && fs_watch[i] != 0; n++) {
		if (fs_watch[i] == pid) {
			fs_watch[i] = -1;
			return;
		}
		i = (i + 1) & (FS_WATCH_SLOTS - 1);
	}
}

/* Corun's end of the socket, or -1. */
int
forksrv_fd(void)
{
	return fs_fd;
}

/* The server's pid, or 0. */
pid_t
forksrv_pid(void)
{
	return fs_pid;
}

/* Send one request without blocking. */
int
forksrv_send(const struct fs_msg *m)
{
	ssize_t r;

	if (fs_fd < 0) {
		errno = EPIPE;
		return -1;
	}
	do
		r = send(fs_fd, m, sizeof *m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	return 0;
}

/* Close the fds a control message carried. */
static void
forksrv_close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* Receive one message without blocking; fds are the caller's. */
int
forksrv_recv(struct fs_msg *m, int fds[2])
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} cbuf;
	struct iovec iov = {m, sizeof *m};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	int got[4];
	size_t ngot = 0;
	ssize_t r;

	fds[0] = fds[1] = -1;
	if (fs_fd < 0)
		return -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.space;
	mh.msg_controllen = sizeof cbuf.space;
	do
		r = recvmsg(fs_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > 4 - ngot)
			n = 4 - ngot;
		memcpy(got + ngot, CMSG_DATA(c), n * sizeof(int));
		ngot += n;
	}
	if ((size_t)r != sizeof *m) {
		forksrv_close_fds(got, ngot);
		return -1;
	}
	if (m->type == FS_SPAWNED && ngot == 2 &&
	    (mh.msg_flags & MSG_CTRUNC) == 0) {
		fds[0] = got[0];
		fds[1] = got[1];
		return 1;
	}
	forksrv_close_fds(got, ngot);
	return 1;
}

/* Remember that the loop's child watcher reaped the server. */
void
forksrv_reaped(void)
{
	fs_reaped = 1;
}

/* Close the socket and wait for the server, which kills its workers;
 * close the watchdog's pipe and wait for it. */
void
forksrv_stop(void)
{
	if (fs_fd >= 0) {
		close(fs_fd);
		fs_fd = -1;
	}
	if (fs_pid > 0 && !fs_reaped)
		while (waitpid(fs_pid, NULL, 0) < 0 && errno == EINTR)
			;
	fs_pid = 0;
	if (fs_dogfd >= 0) {
		close(fs_dogfd);
		fs_dogfd = -1;
	}
	if (fs_dog > 0)
		while (waitpid(fs_dog, NULL, 0) < 0 && errno == EINTR)
			;
	fs_dog = 0;
}


/* Server: a pipe pair, close-on-exec. */
static int
forksrv_pipe(int p[2])
{
	return pipe2(p, O_CLOEXEC);
}

/* Server: add pid to a set. */
static void
pidset_add(struct pidset *set, pid_t pid)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 16;
		set->pids = xrealloc(set->pids, set->cap * sizeof *set->pids);
	}
	set->pids[set->n++] = pid;
}

/* Server: remove pid from a set, if there. */
static void
pidset_del(struct pidset *set, pid_t pid)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->pids[i] == pid) {
			set->pids[i] = set->pids[--set->n];
			return;
		}
	}
}

/* Server: is pid in the set? */
static int
pidset_has(const struct pidset *set, pid_t pid)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->pids[i] == pid)
			return 1;
	return 0;
}

/* SIGKILL the groups of corun's children still watched (corun is gone:
 * nothing else would stop them). Async-signal-safe. */
static void
forksrv_kill_watched(void)
{
	for (size_t i = 0; fs_watch != NULL && i < FS_WATCH_SLOTS; i++)
		if (fs_watch[i] > 0)
			kill(-fs_watch[i], SIGKILL);
}

/* Server: SIGKILL every worker's group and the watched groups, reap the
 * workers and exit. */
static void
forksrv_quit(void)
{
	for (size_t i = 0; i < srv_workers.n; i++)
		kill(-srv_workers.pids[i], SIGKILL);
	forksrv_kill_watched();
	for (;;) {
		if (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			continue;
		break;
	}
	/* The watchdog: the watch is kept, it need not take over. */
	while (write(SERVER_DONE_FD, "d", 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Server: send one message, with fds if given; quit if corun is gone. */
static void
forksrv_reply(int sock, int type, pid_t pid, int status, const int fds[2])
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct fs_msg m = {type, pid, status};
	struct iovec iov = {&m, sizeof m};
	struct msghdr mh = {0};
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fds != NULL) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf.space;
		mh.msg_controllen = sizeof cbuf.space;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(c), fds, 2 * sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		forksrv_quit();
}

/* Server: reap every dead worker and report it. A dead worker's group is
 * killed before the reap, while its pid cannot have been reused, so
 * nothing it forked outlives it. */
static void
forksrv_reap(int sock)
{
	for (;;) {
		siginfo_t si;
		int st;

		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		kill(-si.si_pid, SIGKILL);
		while (waitpid(si.si_pid, &st, 0) < 0)
			if (errno != EINTR)
				return;
		pidset_del(&srv_workers, si.si_pid);
		forksrv_reply(sock, FS_EXITED, si.si_pid, st, NULL);
	}
}

/* Server: fork one worker, incr nice values below the server, and hand
 * corun its pipes. */
static void
forksrv_spawn(int sock, int sigfd, int incr)
{
	int jp[2], rp[2], fds[2], e;
	sigset_t none;
	pid_t pid;

	if (forksrv_pipe(jp) < 0) {
		forksrv_reply(sock, FS_FAILED, 0, errno, NULL);
		return;
	}
	if (forksrv_pipe(rp) < 0) {
		e = errno;
		close(jp[0]);
		close(jp[1]);
		forksrv_reply(sock, FS_FAILED, 0, e, NULL);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(sock);
		close(sigfd);
		close(SERVER_DONE_FD);
		close(jp[1]);
		close(rp[0]);
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		nice_self(incr);
		forksrv_worker(jp[0], rp[1]);
	}
	e = errno;
	close(jp[0]);
	close(rp[1]);
	if (pid < 0) {
		close(jp[1]);
		close(rp[0]);
		forksrv_reply(sock, FS_FAILED, 0, e, NULL);
		return;
	}
	setpgid(pid, pid);
	pidset_add(&srv_workers, pid);
	fds[0] = jp[1];
	fds[1] = rp[0];
	forksrv_reply(sock, FS_SPAWNED, pid, 0, fds);
	close(jp[1]);
	close(rp[0]);
}

/* Server and watchdog: close every fd but 0-2, a and b (b may be -1),
 * moving a to SERVER_FD and b to SERVER_FD + 1. */
static void
forksrv_close_all(int a, int b)
{
	int hi = SERVER_FD + 2;

	/* Copies above both places first: a and b may be 3 or 4. */
	if ((a = fcntl(a, F_DUPFD, hi)) < 0 ||
	    (b >= 0 && (b = fcntl(b, F_DUPFD, hi)) < 0))
		_exit(2);
	if (dup2(a, SERVER_FD) < 0 || (b >= 0 && dup2(b, SERVER_FD + 1) < 0))
		_exit(2);
	hi = b >= 0 ? SERVER_FD + 2 : SERVER_FD + 1;
#ifdef HAVE_CLOSE_RANGE
	if (close_range((unsigned)hi, ~0U, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > SERVER_MAX_FDS)
		max = SERVER_MAX_FDS;
	for (int fd = hi; fd < max; fd++)
		close(fd);
}

/* Server: default signals, SIGCHLD on a signalfd, fds 0-2 sane. */
static int
forksrv_setup(void)
{
	struct sigaction sa;
	sigset_t chld;
	int nul, sigfd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	nul = open("/dev/null", O_RDWR);
	if (nul < 0)
		_exit(2);
	dup2(nul, 0);
	dup2(nul, 1);
	/* No stderr: a worker's messages must not land in a pipe. */
	if (fcntl(2, F_GETFD) < 0)
		dup2(nul, 2);
	if (nul > 2)
		close(nul);
	sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		_exit(2);
	return sigfd;
}

/* Server: serve corun until its end of the socket closes. */
static void
forksrv_main(int sock, int done)
{
	struct pollfd pfd[2];
	int sigfd;

	setpgid(0, 0);
	forksrv_close_all(sock, done);
	sock = SERVER_FD;
	sigfd = forksrv_setup();
	pfd[0].fd = sock;
	pfd[0].events = POLLIN;
	pfd[1].fd = sigfd;
	pfd[1].events = POLLIN;
	for (;;) {
		struct signalfd_siginfo ssi;
		struct fs_msg m;
		ssize_t r;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			forksrv_quit();
		}
		if (pfd[1].revents != 0) {
			while (read(sigfd, &ssi, sizeof ssi) > 0)
				;
			forksrv_reap(sock);
		}
		if (pfd[0].revents == 0)
			continue;
		r = recv(sock, &m, sizeof m, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			forksrv_quit();
		if (r != sizeof m)
			continue;
		if (m.type == FS_SPAWN)
			forksrv_spawn(sock, sigfd, m.status);
		else if (m.type == FS_KILL && pidset_has(&srv_workers, m.pid))
			kill(-m.pid, SIGKILL);
	}
}

/* Watchdog: wait until corun is gone (end of file on corunfd) and the
 * server has ended; if the server died without doing its end-of-run work
 * (no byte on serverfd before its end of file), kill the watched groups
 * in its stead. Exit. */
static void
forksrv_dog(int corunfd, int serverfd)
{
	struct sigaction sa;
	struct pollfd pfd[2];
	sigset_t none;
	int nul, corun_gone = 0, server = 0; /* 1 done its work, 2 died */
	char c;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_NAME, "corun-watchdog");
	forksrv_close_all(corunfd, serverfd);
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	pfd[0].fd = SERVER_FD;
	pfd[1].fd = SERVER_FD + 1;
	pfd[0].events = pfd[1].events = POLLIN;
	while (!corun_gone || server == 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(2);
		}
		if (pfd[0].revents != 0) {
			ssize_t r = read(SERVER_FD, &c, 1);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				corun_gone = 1;
				pfd[0].fd = -1;
			}
		}
		if (pfd[1].revents != 0) {
			ssize_t r = read(SERVER_FD + 1, &c, 1);

			if (r < 0 && errno == EINTR)
				continue;
			server = r == 1 ? 1 : 2;
			pfd[1].fd = -1;
		}
	}
	if (server == 2)
		forksrv_kill_watched();
	_exit(0);
}

/* Worker: run one job frame and write its result at once. */
static void
forksrv_run_job(struct wk *wk, const struct frame *f, int resfd)
{
	struct frame_job j;
	struct frame_result r = {0};
	const struct kind *k = NULL;
	kind_run_fn run = NULL;
	char err[1024] = "";
	int rc = -1;

	buf_reset(&wk->value);
	if (frame_job_decode(f->payload, f->len, &j) < 0)
		errfmt(err, sizeof err, "worker: malformed job");
	else if (j.kind >= KIND_COUNT ||
		 (run = exec_run_fn((enum kind_id)j.kind)) == NULL)
		errfmt(err, sizeof err, "worker: no kind #%u",
		       (unsigned)j.kind);
	else
		k = &kind_table[j.kind];
	if (k != NULL) {
		if (j.argc + 1 > wk->argvcap) {
			wk->argvcap = j.argc + 1;
			wk->argv =
			    xrealloc(wk->argv, wk->argvcap * sizeof *wk->argv);
		}
		frame_job_argv(&j, wk->argv);
		rc = run((int)j.argc, wk->argv, &wk->value, err, sizeof err);
		if (rc != 0 && err[0] == '\0')
			errfmt(err, sizeof err, "%s: failed", k->name);
	}
	r.ok = rc == 0;
	if (r.ok) {
		r.truncated = wk->value.len > CORUN_OUTPUT_CAP;
		r.value = wk->value.data;
		r.vlen = r.truncated ? CORUN_OUTPUT_CAP : wk->value.len;
	} else {
		r.error = err;
		r.elen = strlen(err);
	}
	buf_reset(&wk->out);
	if (frame_put_result(&wk->out, f->tag, &r) < 0 ||
	    write_all(resfd, wk->out.data, wk->out.len) < 0)
		_exit(1);
}

/* Worker: run jobs from jobfd until it closes. */
static void
forksrv_worker(int jobfd, int resfd)
{
	struct wk wk = {BUF_INIT, BUF_INIT, BUF_INIT, NULL, 0};

	for (;;) {
		struct frame f;
		size_t pos = 0;
		ssize_t r, n;

		buf_reserve(&wk.in, IO_CHUNK);
		r = read(jobfd, wk.in.data + wk.in.len,
			 wk.in.cap - wk.in.len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(r == 0 ? 0 : 1);
		wk.in.len += (size_t)r;
		wk.in.data[wk.in.len] = '\0';
		while ((n = frame_decode(wk.in.data + pos, wk.in.len - pos,
					 &f)) > 0) {
			if (f.type != FRAME_JOB)
				_exit(3);
			forksrv_run_job(&wk, &f, resfd);
			pos += (size_t)n;
		}
		if (n < 0)
			_exit(3);
		buf_consume(&wk.in, pos);
	}
}
