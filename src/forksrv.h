/*
 * forksrv.h: the fork server, as the process pool (pool_slot.c) sees it.
 *
 * forksrv_start forks the server at start-up. The pool then talks to it
 * over a SOCK_SEQPACKET socket, one struct fs_msg per packet: it asks for
 * workers and for kills, and hears about new workers (their pipes ride
 * along as SCM_RIGHTS) and about reaped ones. These calls
 * run on the loop thread; the socket is non-blocking on corun's side.
 */
#ifndef CORUN_FORKSRV_H
#define CORUN_FORKSRV_H

#include <stdint.h>
#include <sys/types.h>

enum fs_type {
	FS_SPAWN = 1, /* corun -> server: fork one worker, status nicer */
	FS_KILL,      /* corun -> server: SIGKILL pid's group if not reaped */
	FS_SPAWNED,   /* server -> corun: worker pid, fds {jobs, results} */
	FS_FAILED,    /* server -> corun: a spawn failed, status is errno */
	FS_EXITED,    /* server -> corun: pid reaped, status is wait status */
};

struct fs_msg {
	int32_t type;
	int32_t pid;
	int32_t status;
};

/* Fork the fork server. Must run before any thread exists; once. 0, or -1
 * with errno when it could not be started. Most callers want
 * ppool_forksrv (pool_proc.h). */
int forksrv_start(void);
/* Have the server kill pid's process group if corun dies first: 0, or -1
 * (no server, or too many children watched). No message, no syscall. */
int forksrv_watch(pid_t pid);
/* Stop watching pid's group (its child was reaped). */
void forksrv_unwatch(pid_t pid);
/* Corun's end of the socket (non-blocking, close-on-exec), or -1. */
int forksrv_fd(void);
/* The server's pid, or 0 when there is none. */
pid_t forksrv_pid(void);
/* Send one request: 0, or -1 with errno (EAGAIN: try when writable). */
int forksrv_send(const struct fs_msg *);
/* Receive one message: 1, 0 if none is waiting, -1 if the server is gone.
 * For FS_SPAWNED, fds gets the worker's job (write) and result (read)
 * ends, close-on-exec, owned by the caller; otherwise both are -1. */
int forksrv_recv(struct fs_msg *, int fds[2]);
/* Note that the server has been reaped (by the loop's child watcher). */
void forksrv_reaped(void);
/* Close the socket, so the server kills its workers and exits, then reap
 * it unless forksrv_reaped said so; the same for the watchdog. Waits;
 * safe to call twice. */
void forksrv_stop(void);

#endif
