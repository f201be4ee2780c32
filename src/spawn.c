/*
 * spawn.c: how a child process of an exec or sh job is made.
 *
 * posix_spawn (a vfork-like clone in glibc: cheap in a big process) with
 * the child's fds and signals set up in the spawn itself: /dev/null (or,
 * with --pipe, the read end of its input pipe) on 0, the job's pipes on 1
 * and 2, every other fd closed, a process group of
 * its own, an empty signal mask and the signals corun ignores back to
 * their defaults. The program is looked up in PATH once per name and
 * remembered, as a shell's command hash does. A child of a job gets the
 * job's CORUN_SEQ, CORUN_SLOT and CORUN_ID (spawn_env) on top of corun's
 * environment, which is copied per spawn (pointers only) so that a
 * program using libcorun may change its own between runs.
 *
 * Threads: loop thread only (the PATH cache and the signal set are
 * static). child.c watches what this starts.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spawn.h"
#include "table.h"
#include "util.h"

/* Close every fd above 2 in the child. corun's own fds are close-on-exec
 * already; this also covers fds a library thread (curl's resolver) opens
 * without it while a child is being spawned. */
static int
spawn_closefrom(posix_spawn_file_actions_t *fa)
{
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	return posix_spawn_file_actions_addclosefrom_np(fa, 3);
#else
	(void)fa;
	return 0;
#endif
}

/*
 * The file a program name runs, searched in PATH once and remembered, as a
 * shell's command hash does: a name without a slash would otherwise cost
 * every child a failed exec for each PATH directory before its own (W1:
 * half of a trivial child's time here). NULL when no directory has it;
 * the caller then lets posix_spawnp report the error.
 */
static const char *
spawn_which(const char *name)
{
	static struct strtab seen;   /* name -> index + 1 in paths */
	static char **paths;
	static size_t npaths;
	const char *path = getenv("PATH");
	uint64_t i;

	if (strchr(name, '/') != NULL || name[0] == '\0')
		return name;
	if ((i = strtab_get(&seen, name)) != 0)
		return paths[i - 1];
	if (path == NULL)
		return NULL;
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dlen = end != NULL ? (size_t)(end - p) : strlen(p);
		struct buf file = BUF_INIT;
		struct stat st;

		/* An empty entry is the current directory: not cached. */
		if (dlen == 0)
			return NULL;
		buf_add(&file, p, dlen);
		buf_addc(&file, '/');
		buf_adds(&file, name);
		if (stat(file.data, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(file.data, X_OK) == 0) {
			paths = xrealloc(paths, (npaths + 1) * sizeof *paths);
			paths[npaths++] = buf_steal(&file);
			strtab_add(&seen, name, npaths);
			return paths[npaths - 1];
		}
		buf_free(&file);
		if (end == NULL)
			return NULL;
		p = end;
	}
}

/*
 * The signals a child must have reset to their default action: those
 * corun ignores (SIGPIPE, and any it inherited ignored), since exec keeps
 * an ignored signal ignored. Caught ones are reset by exec itself. Asking
 * posix_spawn to reset only these, rather than every signal, saves some
 * sixty sigaction calls in each child before its exec. Computed at the
 * first spawn: corun sets its dispositions once, at start-up.
 */
static const sigset_t *
spawn_sigdefault(void)
{
	static sigset_t set;
	static int ready;

	if (!ready) {
		sigemptyset(&set);
		for (int sig = 1; sig < NSIG; sig++) {
			struct sigaction sa;

			if (sig != SIGKILL && sig != SIGSTOP &&
			    sigaction(sig, NULL, &sa) == 0 &&
			    sa.sa_handler == SIG_IGN)
				sigaddset(&set, sig);
		}
		ready = 1;
	}
	return &set;
}

/* The job variables of the next spawn (spawn_env); set: not yet used. */
static struct {
	int set;
	char seq[40];
	char slot[32];
	struct buf id;
} spawn_job;

/* Set the job variables of the next spawn. */
void
spawn_env(uint64_t seq, unsigned slot, const char *id)
{
	snprintf(spawn_job.seq, sizeof spawn_job.seq, "CORUN_SEQ=%llu",
		 (unsigned long long)seq);
	snprintf(spawn_job.slot, sizeof spawn_job.slot, "CORUN_SLOT=%u", slot);
	buf_reset(&spawn_job.id);
	buf_adds(&spawn_job.id, "CORUN_ID=");
	buf_adds(&spawn_job.id, id != NULL ? id : "");
	spawn_job.set = 1;
}

/* The environment of the next child: environ, with the job variables in
 * place of inherited ones when spawn_env set them. The array is reused:
 * valid until the next call. */
static char *const *
spawn_environ(void)
{
	static char **envp;
	static size_t cap;
	size_t n = 3;

	if (!spawn_job.set)
		return environ;
	spawn_job.set = 0;
	for (char **e = environ; *e != NULL; e++)
		n++;
	if (n + 1 > cap) {
		cap = n + 1;
		envp = xrealloc(envp, cap * sizeof *envp);
	}
	n = 0;
	envp[n++] = spawn_job.seq;
	envp[n++] = spawn_job.slot;
	envp[n++] = spawn_job.id.data;
	for (char **e = environ; *e != NULL; e++)
		if (strncmp(*e, "CORUN_", 6) != 0 ||
		    (strncmp(*e + 6, "SEQ=", 4) != 0 &&
		     strncmp(*e + 6, "SLOT=", 5) != 0 &&
		     strncmp(*e + 6, "ID=", 3) != 0))
			envp[n++] = *e;
	envp[n] = NULL;
	return envp;
}

/* Spawn argv (its program searched in PATH) with in (-1: /dev/null), out
 * and err on 0, 1 and 2, in a new process group with default signals; 0 or
 * an errno value. in, out and err are 3 or above, or the fds they go to. */
int
spawn_child_in(pid_t *pid, char *const argv[], int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		      POSIX_SPAWN_SETSIGDEF;
	const char *file = spawn_which(argv[0]);
	char *const *envp = spawn_environ();
	sigset_t none;
	int rc;

	rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&at);
	if (rc != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&none);
	/* dup2 before the open: the pipe ends can be low fds when corun was
	 * started with 0, 1 or 2 closed, and a write end is never fd 0. */
	if ((rc = posix_spawn_file_actions_adddup2(&fa, out, 1)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, err, 2)) == 0 &&
	    (rc = in >= 0 ? posix_spawn_file_actions_adddup2(&fa, in, 0)
			  : posix_spawn_file_actions_addopen(
				&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (rc = spawn_closefrom(&fa)) == 0 &&
	    (rc = posix_spawnattr_setflags(&at, flags)) == 0 &&
	    (rc = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, spawn_sigdefault())) == 0)
		rc = file != NULL
			 ? posix_spawn(pid, file, &fa, &at, argv, envp)
			 : posix_spawnp(pid, argv[0], &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Spawn argv with /dev/null, out and err on 0, 1 and 2 (spawn_child_in). */
int
spawn_child(pid_t *pid, char *const argv[], int out, int err)
{
	return spawn_child_in(pid, argv, -1, out, err);
}
