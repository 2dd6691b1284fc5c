#define _GNU_SOURCE
#include "rb_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Arguments of the child; lives on the parent's stack during the clone. */
typedef struct child_args {
    const rb_spawn_config *config;
    int error_fd;            /* close-on-exec: EOF means execve succeeded */
    pid_t parent;            /* to notice a parent that died before PDEATHSIG was set */
    sigset_t parent_mask;    /* the parent's mask, restored in the parent after the clone */
} child_args;

static void report(int fd, int step, int error) {
    int message[2] = { step, error };
    ssize_t ignored = write(fd, message, sizeof message);
    (void)ignored;
    _exit(127);
}

/*
 * The child. Runs on its own small stack while the parent is suspended
 * (CLONE_VFORK), sharing its memory: only raw system calls from here on.
 * The order of the steps is fixed:
 *   1. session: setsid(), so the job is a process group of its own and a
 *      Ctrl-C on the terminal's foreground group no longer reaches it
 *   2. parent-death signal, if asked for, then a check that the parent did
 *      not die before it was set
 *   3. signals: every disposition back to the default (ignored ones too:
 *      a job started under nohup must still be stoppable), then an empty
 *      mask (the parent blocked everything around the clone so that no
 *      Swift handler could run on this stack)
 *   4. descriptors: the mappings, then every other descriptor marked
 *      close-on-exec
 *   5. directory
 *   6. execve
 */
static int child_main(void *opaque) {
    child_args *args = opaque;
    const rb_spawn_config *config = args->config;

    if (config->new_session && setsid() < 0) report(args->error_fd, RB_STEP_SESSION, errno);

    if (config->death_signal) {
        if (prctl(PR_SET_PDEATHSIG, config->death_signal) != 0) report(args->error_fd, RB_STEP_SESSION, errno);
        if (getppid() != args->parent) report(args->error_fd, RB_STEP_SESSION, ESRCH);
    }

    struct sigaction reset;
    memset(&reset, 0, sizeof reset);
    reset.sa_handler = SIG_DFL;
    for (int signo = 1; signo < NSIG; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        sigaction(signo, &reset, NULL);
    }
    sigset_t empty;
    sigemptyset(&empty);
    if (sigprocmask(SIG_SETMASK, &empty, NULL) != 0) report(args->error_fd, RB_STEP_SIGNALS, errno);

    /* Move every source above the targets first, so that one mapping can
     * never overwrite the source of a later one. */
    int lifted[16];
    if (config->fd_count > 16) report(args->error_fd, RB_STEP_FDS, EINVAL);
    int floor = config->fd_count > args->error_fd ? config->fd_count : args->error_fd + 1;
    for (int i = 0; i < config->fd_count; i++) {
        lifted[i] = fcntl(config->fds[i].source, F_DUPFD_CLOEXEC, floor);
        if (lifted[i] < 0) report(args->error_fd, RB_STEP_FDS, errno);
    }
    for (int i = 0; i < config->fd_count; i++) {
        if (dup2(lifted[i], config->fds[i].target) < 0) report(args->error_fd, RB_STEP_FDS, errno);
    }
    /* Everything else closes at execve; the error pipe must stay open
     * until then, so mark the rest close-on-exec instead of closing. */
    if (syscall(SYS_close_range, (unsigned)config->fd_count, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) != 0) {
        struct rlimit files;
        long last = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY ? (long)files.rlim_cur : 65536;
        for (long fd = config->fd_count; fd < last; fd++) {
            if (fd != args->error_fd) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        }
    }

    if (config->directory && chdir(config->directory) != 0) report(args->error_fd, RB_STEP_DIRECTORY, errno);

    execve(config->path, config->argv, config->envp);
    report(args->error_fd, RB_STEP_EXEC, errno);
    return 127;
}

int rb_spawn(const rb_spawn_config *config, pid_t *pid, int *step) {
    *step = RB_STEP_NONE;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return errno;

    const size_t stack_size = 256 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        int error = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return error;
    }

    child_args args;
    args.config = config;
    args.error_fd = pipe_fds[1];
    args.parent = getpid();

    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &args.parent_mask);

    /* CLONE_VM|CLONE_VFORK: no page-table copy (cost independent of the
     * parent's size), and the parent sleeps until the child execs or exits. */
    pid_t child = clone(child_main, (char *)stack + stack_size,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    int clone_error = child < 0 ? errno : 0;

    pthread_sigmask(SIG_SETMASK, &args.parent_mask, NULL);
    munmap(stack, stack_size);
    close(pipe_fds[1]);

    if (child < 0) {
        close(pipe_fds[0]);
        return clone_error;
    }

    int message[2];
    ssize_t got;
    do {
        got = read(pipe_fds[0], message, sizeof message);
    } while (got < 0 && errno == EINTR);
    close(pipe_fds[0]);

    if (got == (ssize_t)sizeof message) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *step = message[0];
        return message[1] ? message[1] : EIO;
    }
    *pid = child;
    return 0;
}

static int signal_pipe_write_end = -1;
static int signal_pipe_read_end = -1;

static void on_signal(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    ssize_t ignored = write(signal_pipe_write_end, &byte, 1);
    (void)ignored;
    errno = saved;
}

int rb_signal_pipe(const int *signals, int count, int *read_fd) {
    if (signal_pipe_read_end < 0) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return errno;
        signal_pipe_read_end = fds[0];
        signal_pipe_write_end = fds[1];
    }
    for (int i = 0; i < count; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_signal;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[i], &action, NULL) != 0) return errno;
    }
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int i = 0; i < count; i++) sigaddset(&unblock, signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    *read_fd = signal_pipe_read_end;
    return 0;
}

int rb_signal_default(const int *signals, int count) {
    for (int i = 0; i < count; i++) {
        if (signal(signals[i], SIG_DFL) == SIG_ERR) return errno;
    }
    return 0;
}

int rb_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int rb_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
}
