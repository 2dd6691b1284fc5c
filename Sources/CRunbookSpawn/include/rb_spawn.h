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

/*
 * One step of the job's file-system view, applied in order inside the new
 * mount namespace. Swift builds the list (SandboxPolicy), so the order is
 * decided and unit-tested there; C only executes it.
 */
typedef enum rb_mount_kind {
    RB_MOUNT_PRIVATE = 1,    /* every mount private: nothing propagates to the host */
    RB_MOUNT_CLONE = 2,      /* open_tree(path, OPEN_TREE_CLONE) into `slot`, before anything is hidden */
    RB_MOUNT_READ_ONLY = 3,  /* mount_setattr(path, AT_RECURSIVE, RDONLY|NOSUID) */
    RB_MOUNT_TMPFS = 4,      /* a fresh tmpfs on path, options in `data` */
    RB_MOUNT_HIDE_FILE = 5,  /* bind /dev/null over path */
    RB_MOUNT_MKDIR = 6,      /* mkdir path 0755 (an existing one is fine) */
    RB_MOUNT_MKFILE = 7,     /* create an empty file at path (an existing one is fine) */
    RB_MOUNT_SEAL = 8,       /* mount_setattr(path, RDONLY|NOSUID|NODEV), not recursive */
    RB_MOUNT_ATTACH = 9,     /* move_mount the clone in `slot` onto path; RDONLY unless RB_MOUNT_WRITABLE */
    RB_MOUNT_PROC = 10,      /* a fresh proc on path (for the new PID namespace) */
} rb_mount_kind;

#define RB_MOUNT_OPTIONAL 1  /* skip the step when path does not exist */
#define RB_MOUNT_WRITABLE 2  /* ATTACH: keep the clone writable */

typedef struct rb_mount_step {
    int kind;
    int flags;
    int slot;                 /* CLONE/ATTACH: 0..15 */
    const char *path;
    const char *data;         /* TMPFS: mount options */
} rb_mount_step;

/* The kernel's CLONE_NEW* flags, for Swift (its Glibc module hides them). */
#define RB_NEW_MOUNT   0x00020000
#define RB_NEW_CGROUP  0x02000000
#define RB_NEW_UTS     0x04000000
#define RB_NEW_IPC     0x08000000
#define RB_NEW_USER    0x10000000
#define RB_NEW_PID     0x20000000
#define RB_NEW_NET     0x40000000

/*
 * The confinement of a job (NULL in rb_spawn_config: none). Every field is
 * prepared by the parent; the child only makes system calls with them.
 */
typedef struct rb_sandbox {
    int namespaces;             /* CLONE_NEW* flags for clone() (not CLONE_NEWCGROUP) */
    int cgroup_namespace;       /* non-zero: unshare(CLONE_NEWCGROUP) once in the cgroups */
    const int *cgroup_fds;      /* cgroup.procs files open for writing: the child writes "0" */
    int cgroup_fd_count;
    const char *uid_map;        /* with CLONE_NEWUSER: written to /proc/self/uid_map */
    const char *gid_map;        /* with CLONE_NEWUSER: written to /proc/self/gid_map (setgroups denied first) */
    const rb_mount_step *mounts;
    int mount_count;
    int no_new_privs;           /* PR_SET_NO_NEW_PRIVS */
    int seccomp;                /* install the deny-list filter (see rb_spawn.c) */
    int switch_user;            /* non-zero: drop supplementary groups, then gid, then uid */
    unsigned uid;
    unsigned gid;
} rb_sandbox;

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
    const rb_sandbox *sandbox;   /* NULL: no confinement */
} rb_spawn_config;

/* Which setup step failed in the child (reported with its errno). */
typedef enum rb_spawn_step {
    RB_STEP_NONE = 0,
    RB_STEP_SESSION = 1,
    RB_STEP_SIGNALS = 2,
    RB_STEP_FDS = 3,
    RB_STEP_DIRECTORY = 4,
    RB_STEP_EXEC = 5,
    RB_STEP_CGROUP = 6,
    RB_STEP_NAMESPACES = 7,
    RB_STEP_USER_MAP = 8,
    RB_STEP_MOUNT = 9,          /* `detail` is the index of the failing mount step */
    RB_STEP_NO_NEW_PRIVS = 10,
    RB_STEP_SECCOMP = 11,
    RB_STEP_USER = 12,
} rb_spawn_step;

/*
 * Starts `config->path` in a new process. On success stores the child's pid
 * and returns 0. If the child fails before execve, it is reaped here, `*step`
 * names the failing step, `*detail` says more (the mount step's index) and
 * its errno is returned.
 */
int rb_spawn(const rb_spawn_config *config, pid_t *pid, int *step, int *detail);

/*
 * Installs handlers for `signals` that write each delivered signal number as
 * one byte into a new non-blocking pipe, whose read end is stored in
 * `*read_fd`. Calling it again adds signals to the same pipe. The signals
 * are unblocked in the calling thread (a parent may have left them blocked).
 */
int rb_signal_pipe(const int *signals, int count, int *read_fd);

/* Restores the default action for `signals` (after a run has ended). */
int rb_signal_default(const int *signals, int count);

/* 1 if this build has a seccomp deny-list for the machine's architecture. */
int rb_seccomp_supported(void);

/* pipe2(2) with O_CLOEXEC: both ends close-on-exec. */
int rb_pipe(int fds[2]);

/*
 * poll(2) with a timeout in nanoseconds (ppoll, which Swift's Glibc module
 * does not declare): a job held for its instant starts on time, not at the
 * next millisecond. Returns poll's result; -1 with errno set on failure.
 */
struct pollfd;
int rb_poll(struct pollfd *fds, unsigned long count, long long nanoseconds);

/*
 * Lowers the calling thread's scheduling priority to `nice` (setpriority on
 * its thread id: on Linux, niceness is per thread). For a job's bookkeeping
 * after its processes end, so it yields to other jobs' starts.
 */
int rb_lower_thread_priority(int nice);

/* A non-blocking, close-on-exec eventfd (Glibc's module lacks it); -1 and errno on failure. */
int rb_eventfd(void);

/* A non-blocking, close-on-exec timerfd on CLOCK_MONOTONIC; -1 and errno on failure. */
int rb_timerfd(void);

/*
 * Arms `fd` to expire at `nanoseconds` on CLOCK_MONOTONIC (absolute; a time
 * already past expires at once), or disarms it when `nanoseconds` is 0. An
 * expired timerfd stays readable until it is read or set again.
 */
int rb_timerfd_set(int fd, long long nanoseconds);

#ifdef __cplusplus
}
#endif

#endif
