#define _GNU_SOURCE
#include "rb_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* struct mount_attr, spelled out for headers that predate it. */
typedef struct rb_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
} rb_mount_attr;

static int set_mount_attr(int dirfd, const char *path, unsigned flags, uint64_t set, uint64_t clear) {
    rb_mount_attr attr = { set, clear, 0, 0 };
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr);
}

/* Arguments of the child; lives on the parent's stack during the clone. */
typedef struct child_args {
    const rb_spawn_config *config;
    int error_fd;            /* close-on-exec: EOF means execve succeeded */
    pid_t parent;            /* to notice a parent that died before PDEATHSIG was set */
    sigset_t parent_mask;    /* the parent's mask, restored in the parent after the clone */
} child_args;

static void report_detail(int fd, int step, int error, int detail) {
    int message[3] = { step, error, detail };
    ssize_t ignored = write(fd, message, sizeof message);
    (void)ignored;
    _exit(127);
}

static void report(int fd, int step, int error) {
    int message[3] = { step, error, 0 };
    ssize_t ignored = write(fd, message, sizeof message);
    (void)ignored;
    _exit(127);
}

/*
 * The seccomp deny-list: system calls a runbook has no business making,
 * which are the kernel's usual attack surface or would undo the sandbox
 * (mounting, new namespaces, kernel modules, keyrings, BPF, perf, clock
 * and reboot). They fail with EPERM; everything else is allowed. clone3
 * fails with ENOSYS (its flags live in memory a filter cannot read), so
 * libc falls back to clone, whose namespace flags are checked here.
 */
#define DENY(name) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_##name, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)
#if defined(__x86_64__)
#define RB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define RB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#define RB_NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

#ifdef RB_AUDIT_ARCH
static struct sock_filter deny_list[] = {
    /* Another architecture's calling convention (int 0x80, x32): refuse. */
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RB_AUDIT_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
#endif
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    /* clone: allowed without namespace flags (argument 0 on x86_64 and arm64). */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, RB_NAMESPACE_FLAGS, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    DENY(mount), DENY(umount2), DENY(pivot_root), DENY(chroot), DENY(unshare), DENY(setns),
    DENY(open_tree), DENY(move_mount), DENY(fsopen), DENY(fsconfig), DENY(fsmount), DENY(fspick),
    DENY(mount_setattr), DENY(swapon), DENY(swapoff), DENY(reboot), DENY(kexec_load), DENY(kexec_file_load),
    DENY(init_module), DENY(finit_module), DENY(delete_module), DENY(acct), DENY(bpf), DENY(perf_event_open),
    DENY(userfaultfd), DENY(open_by_handle_at), DENY(keyctl), DENY(add_key), DENY(request_key),
    DENY(settimeofday), DENY(clock_settime), DENY(clock_adjtime), DENY(adjtimex), DENY(quotactl),
    DENY(syslog), DENY(vhangup), DENY(sethostname), DENY(setdomainname),
#if defined(__x86_64__)
    DENY(iopl), DENY(ioperm),
#endif
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
#endif

int rb_seccomp_supported(void) {
#ifdef RB_AUDIT_ARCH
    return 1;
#else
    return 0;
#endif
}

/* write() all of a NUL-terminated string to a file opened here. */
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    int error = written == (ssize_t)length ? 0 : (written < 0 ? errno : EIO);
    close(fd);
    return error;
}

/* Runs the mount plan; returns 0 or an errno with `*failed` the step index. */
static int apply_mounts(const rb_sandbox *sandbox, int *failed) {
    int slots[16];
    for (int i = 0; i < 16; i++) slots[i] = -1;
    int error = 0;
    for (int i = 0; i < sandbox->mount_count && !error; i++) {
        const rb_mount_step *step = &sandbox->mounts[i];
        *failed = i;
        struct stat info;
        if ((step->flags & RB_MOUNT_OPTIONAL) && step->path && lstat(step->path, &info) != 0) continue;
        if ((step->kind == RB_MOUNT_CLONE || step->kind == RB_MOUNT_ATTACH) && (step->slot < 0 || step->slot >= 16)) return EINVAL;
        switch (step->kind) {
        case RB_MOUNT_PRIVATE:
            if (mount(NULL, step->path, NULL, MS_REC | MS_PRIVATE, NULL) != 0) error = errno;
            break;
        case RB_MOUNT_CLONE:
            slots[step->slot] = (int)syscall(SYS_open_tree, AT_FDCWD, step->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
            if (slots[step->slot] < 0) error = errno;
            break;
        case RB_MOUNT_READ_ONLY:
            if (set_mount_attr(AT_FDCWD, step->path, AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) != 0) error = errno;
            break;
        case RB_MOUNT_TMPFS:
            if (mount("tmpfs", step->path, "tmpfs", MS_NOSUID | MS_NODEV, step->data) != 0) error = errno;
            break;
        case RB_MOUNT_HIDE_FILE:
            if (mount("/dev/null", step->path, NULL, MS_BIND, NULL) != 0) error = errno;
            break;
        case RB_MOUNT_MKDIR:
            if (mkdir(step->path, 0755) != 0 && errno != EEXIST) error = errno;
            break;
        case RB_MOUNT_MKFILE: {
            int fd = open(step->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) error = errno; else close(fd);
            break;
        }
        case RB_MOUNT_SEAL:
            if (set_mount_attr(AT_FDCWD, step->path, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) != 0) error = errno;
            break;
        case RB_MOUNT_ATTACH: {
            int fd = slots[step->slot];
            if (fd < 0) { error = EBADF; break; }
            uint64_t set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | ((step->flags & RB_MOUNT_WRITABLE) ? 0 : MOUNT_ATTR_RDONLY);
            uint64_t clear = (step->flags & RB_MOUNT_WRITABLE) ? MOUNT_ATTR_RDONLY : 0;
            if (set_mount_attr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, set, clear) != 0) { error = errno; break; }
            if (syscall(SYS_move_mount, fd, "", AT_FDCWD, step->path, MOVE_MOUNT_F_EMPTY_PATH) != 0) error = errno;
            close(fd);
            slots[step->slot] = -1;
            break;
        }
        case RB_MOUNT_PROC:
            if (mount("proc", step->path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) error = errno;
            break;
        default:
            error = EINVAL;
        }
    }
    for (int i = 0; i < 16; i++) if (slots[i] >= 0) close(slots[i]);
    return error;
}

/*
 * The child. Runs on its own small stack while the parent is suspended
 * (CLONE_VFORK), sharing its memory: only raw system calls from here on
 * (no libc wrapper that takes a lock or, like setuid(), signals the
 * parent's threads). It starts in the namespaces clone() made for it (see
 * rb_spawn). The order of the steps is fixed:
 *   1. session: setsid(), so the job is a process group of its own and a
 *      Ctrl-C on the terminal's foreground group no longer reaches it
 *   2. namespaces: with a user namespace, its uid/gid maps (setgroups
 *      denied first), so that later steps act as a mapped user
 *   3. cgroups: write "0" (this process) into each job cgroup's
 *      cgroup.procs, then a cgroup namespace rooted there
 *   4. mounts: the plan prepared by SandboxPolicy (private propagation,
 *      clones of what stays visible, read-only root, tmpfs and /dev/null
 *      over what is hidden, the clones attached, a fresh /proc)
 *   5. rlimits: not here; runbook-init sets them in the job's process only
 *      (an init with RLIMIT_CPU could be killed before its job)
 *   6. no-new-privs, then the seccomp deny-list (which needs it unless
 *      the caller has CAP_SYS_ADMIN)
 *   7. uid/gid: supplementary groups dropped, then gid, then uid, by raw
 *      system calls (see above)
 *   8. parent-death signal, after the uid change (which clears it), then a
 *      check that the parent did not die before it was set
 *   9. signals: every disposition back to the default (ignored ones too:
 *      a job started under nohup must still be stoppable), then an empty
 *      mask (the parent blocked everything around the clone so that no
 *      Swift handler could run on this stack)
 *  10. directory (after the uid change: the job's user must be able to enter it)
 *  11. descriptors: the mappings, then every other descriptor marked
 *      close-on-exec (close_range)
 *  12. execve
 */
static int child_main(void *opaque) {
    child_args *args = opaque;
    const rb_spawn_config *config = args->config;
    const rb_sandbox *sandbox = config->sandbox;

    if (config->new_session && setsid() < 0) report(args->error_fd, RB_STEP_SESSION, errno);

    if (sandbox) {
        if ((sandbox->namespaces & CLONE_NEWUSER) && sandbox->uid_map) {
            int error = write_file("/proc/self/setgroups", "deny");
            if (!error) error = write_file("/proc/self/uid_map", sandbox->uid_map);
            if (!error && sandbox->gid_map) error = write_file("/proc/self/gid_map", sandbox->gid_map);
            if (error) report(args->error_fd, RB_STEP_USER_MAP, error);
        }
        for (int i = 0; i < sandbox->cgroup_fd_count; i++) {
            if (write(sandbox->cgroup_fds[i], "0", 1) != 1) report_detail(args->error_fd, RB_STEP_CGROUP, errno, i);
        }
        if (sandbox->cgroup_namespace && unshare(CLONE_NEWCGROUP) != 0) report(args->error_fd, RB_STEP_NAMESPACES, errno);
        if (sandbox->mount_count > 0) {
            mode_t mask = umask(022);
            int failed = 0;
            int error = apply_mounts(sandbox, &failed);
            if (error) report_detail(args->error_fd, RB_STEP_MOUNT, error, failed);
            umask(mask);
        }
        if ((sandbox->no_new_privs || sandbox->seccomp) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            report(args->error_fd, RB_STEP_NO_NEW_PRIVS, errno);
        }
        if (sandbox->seccomp) {
#ifdef RB_AUDIT_ARCH
            struct sock_fprog program = { (unsigned short)(sizeof deny_list / sizeof deny_list[0]), deny_list };
            if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) report(args->error_fd, RB_STEP_SECCOMP, errno);
#else
            report(args->error_fd, RB_STEP_SECCOMP, ENOSYS);
#endif
        }
        if (sandbox->switch_user) {
            if (syscall(SYS_setgroups, 0, NULL) != 0) report(args->error_fd, RB_STEP_USER, errno);
            if (syscall(SYS_setresgid, sandbox->gid, sandbox->gid, sandbox->gid) != 0) report(args->error_fd, RB_STEP_USER, errno);
            if (syscall(SYS_setresuid, sandbox->uid, sandbox->uid, sandbox->uid) != 0) report(args->error_fd, RB_STEP_USER, errno);
        }
    }

    if (config->death_signal) {
        if (prctl(PR_SET_PDEATHSIG, config->death_signal) != 0) report(args->error_fd, RB_STEP_SESSION, errno);
        /* In a new PID namespace the parent is outside it and getppid() is 0. */
        pid_t parent = getppid();
        if (parent != args->parent && parent != 0) report(args->error_fd, RB_STEP_SESSION, ESRCH);
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

    if (config->directory && chdir(config->directory) != 0) report(args->error_fd, RB_STEP_DIRECTORY, errno);

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

    execve(config->path, config->argv, config->envp);
    report(args->error_fd, RB_STEP_EXEC, errno);
    return 127;
}

int rb_spawn(const rb_spawn_config *config, pid_t *pid, int *step, int *detail) {
    *step = RB_STEP_NONE;
    *detail = 0;
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
    int namespaces = config->sandbox ? config->sandbox->namespaces & ~CLONE_NEWCGROUP : 0;
    pid_t child = clone(child_main, (char *)stack + stack_size,
                        CLONE_VM | CLONE_VFORK | SIGCHLD | namespaces, &args);
    int clone_error = child < 0 ? errno : 0;

    pthread_sigmask(SIG_SETMASK, &args.parent_mask, NULL);
    munmap(stack, stack_size);
    close(pipe_fds[1]);

    if (child < 0) {
        close(pipe_fds[0]);
        if (namespaces) *step = RB_STEP_NAMESPACES;
        return clone_error;
    }

    int message[3];
    ssize_t got;
    do {
        got = read(pipe_fds[0], message, sizeof message);
    } while (got < 0 && errno == EINTR);
    close(pipe_fds[0]);

    if (got == (ssize_t)sizeof message) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *step = message[0];
        *detail = message[2];
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


int rb_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
}

int rb_poll(struct pollfd *fds, unsigned long count, long long nanoseconds) {
    struct timespec timeout = { (time_t)(nanoseconds / 1000000000LL), (long)(nanoseconds % 1000000000LL) };
    return ppoll(fds, (nfds_t)count, nanoseconds < 0 ? NULL : &timeout, NULL);
}

int rb_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int rb_lower_thread_priority(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) == 0 ? 0 : errno;
}

int rb_timerfd(void) {
    return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

int rb_timerfd_set(int fd, long long nanoseconds) {
    struct itimerspec at;
    memset(&at, 0, sizeof at);
    if (nanoseconds > 0) {
        at.it_value.tv_sec = (time_t)(nanoseconds / 1000000000LL);
        at.it_value.tv_nsec = (long)(nanoseconds % 1000000000LL);
    }
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &at, NULL) == 0 ? 0 : errno;
}
