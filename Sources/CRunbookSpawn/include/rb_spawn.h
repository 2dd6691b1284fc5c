#ifndef RB_SPAWN_H
#define RB_SPAWN_H

/*
 * What runbook cannot do safely in Swift.
 *
 * rb_spawn: the code between clone() and execve() must not allocate, take
 * locks or touch Swift runtime state, because the child shares the parent's
 * memory (CLONE_VM) until it executes. Swift prepares every string first;
 * this file only makes raw system calls on that prepared data.
 *
 * rb_signal_pipe: a signal handler must be a C function that only does
 * async-signal-safe work; ours writes the signal number into a pipe that the
 * Swift side polls.
 *
 * Every function returns 0 or an errno value and sets no globals.
 */

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One descriptor to install in the child: `source` becomes `target`. */
typedef struct rb_fd_mapping {
    int source;
    int target;
} rb_fd_mapping;

/* Everything the child needs, prepared by the parent. */
typedef struct rb_spawn_config {
    const char *path;            /* absolute path of the program */
    char *const *argv;           /* NULL-terminated */
    char *const *envp;           /* NULL-terminated; the whole environment */
    const char *directory;       /* working directory, or NULL to keep */
    const rb_fd_mapping *fds;    /* the child's descriptors 0..n-1 */
    int fd_count;                /* every descriptor >= fd_count is closed */
    int new_session;             /* non-zero: setsid() in the child */
    int death_signal;            /* non-zero: PR_SET_PDEATHSIG in the child */
} rb_spawn_config;

/* Which setup step failed in the child (reported with its errno). */
typedef enum rb_spawn_step {
    RB_STEP_NONE = 0,
    RB_STEP_SESSION = 1,
    RB_STEP_SIGNALS = 2,
    RB_STEP_FDS = 3,
    RB_STEP_DIRECTORY = 4,
    RB_STEP_EXEC = 5,
} rb_spawn_step;

/*
 * Starts `config->path` in a new process. On success stores the child's pid
 * and returns 0. If the child fails before execve, it is reaped here, `*step`
 * names the failing step and its errno is returned.
 */
int rb_spawn(const rb_spawn_config *config, pid_t *pid, int *step);

/*
 * Installs handlers for `signals` that write each delivered signal number as
 * one byte into a new non-blocking pipe, whose read end is stored in
 * `*read_fd`. Calling it again adds signals to the same pipe. The signals
 * are unblocked in the calling thread (a parent may have left them blocked).
 */
int rb_signal_pipe(const int *signals, int count, int *read_fd);

/* Restores the default action for `signals` (after a run has ended). */
int rb_signal_default(const int *signals, int count);

/* pipe2(2) with O_CLOEXEC: both ends close-on-exec. */
int rb_pipe(int fds[2]);

/* pidfd_open(2) without relying on the libc wrapper; -1 and errno on failure. */
int rb_pidfd_open(pid_t pid);

#ifdef __cplusplus
}
#endif

#endif
