/*
 * runbook-init: the first process of every job.
 *
 * The runbook process starts this program in a new session; it starts the
 * job's real program in a process group of its own and stays beside it, so
 * that whatever happens to the job or to its owner, nothing the job started
 * is left running:
 *   - it is a child subreaper: orphaned grandchildren (daemons, setsid
 *     escapees) are re-parented to it, and it reaps them;
 *   - when the job's main process ends, it kills the job's process group and
 *     every remaining descendant, waits for all of them, and only then
 *     reports the main process's status;
 *   - it forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGUSR2 to the job's
 *     process group; SIGUSR1 means "kill everything now";
 *   - SIGUSR1 is also its parent-death signal: if the runbook process that
 *     owns the job dies (even by SIGKILL), the job dies with it.
 *
 * In the sandbox it is pid 1 of the job's PID namespace: the runbook
 * process has already confined it (namespaces, mounts, cgroups, seccomp,
 * user) before executing it, and the job inherits all of that.
 *
 * Usage: runbook-init -p OWNER_PID [-g] [-l RESOURCE=SOFT[:HARD]]... -- PATH ARG0 ARG...
 * With -g, descriptor 4 is the start gate: everything is ready (namespaces,
 * mounts, cgroups, this process), but the job starts only once one byte
 * arrives on it. The host readies a scheduled job this way a moment before
 * its instant and opens the gate at the instant, so the instant costs only
 * the job's own exec. Should the gate close without a byte, or a signal
 * arrive first, the job never starts: "not-started" is reported instead.
 * Once a gated job is over and reported, this process stays until the gate
 * closes (or a signal comes): its exit unmounts and frees the job's
 * namespaces, which the host puts off while other jobs are starting.
 * Descriptor 3 is the status channel. It receives "started PID" once the job
 * runs (PID is also the job's process group, so the owner can kill the group
 * itself should this init ever die first), and one line at the end:
 *   exit CODE MAXRSS_KB USER_US SYSTEM_US
 *   signal SIGNO MAXRSS_KB USER_US SYSTEM_US
 * and, before it, "exec-error ERRNO" if the program could not be started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATUS_FD 3
#define GATE_FD 4

/*
 * Every job pays for this program's start, so it stays small: no stdio on
 * the way (formatting and /proc parsing by hand), vfork for the job, and
 * no Swift runtime. SwiftPM links every executable with swiftc, which adds
 * swiftrt.o: its constructor registers Swift metadata with the runtime and
 * so pulls the whole runtime in (9 MB, and start-up work of its own: the
 * backtracer's set-up, a read of /proc/self/maps), which measured 0.1-0.2 ms
 * of every job. A C program has no Swift metadata to register: these two
 * definitions satisfy swiftrt.o, and the static runtime is not linked.
 */
void swift_addNewDSOImage(const void *header) { (void)header; }
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }

/* Appends the decimal digits of `value` to `out`; returns the new end. */
static char *append_number(char *out, long long value) {
    char digits[24];
    int count = 0;
    unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do { digits[count++] = (char)('0' + magnitude % 10); magnitude /= 10; } while (magnitude);
    if (value < 0) *out++ = '-';
    while (count) *out++ = digits[--count];
    return out;
}

static char *append_text(char *out, const char *text) {
    while (*text) *out++ = *text++;
    return out;
}

/* Writes "WORD N1 N2 ...\n" (at most 4 numbers) to the status channel with
 * one write: no stdio, so it is also safe in the vfork child. */
static void report(const char *word, int count, const long long *numbers) {
    char line[128];
    char *end = append_text(line, word);
    for (int i = 0; i < count; i++) { *end++ = ' '; end = append_number(end, numbers[i]); }
    *end++ = '\n';
    ssize_t ignored = write(STATUS_FD, line, (size_t)(end - line));
    (void)ignored;
}

static int parse_resource(const char *name) {
    static const struct { const char *name; int resource; } table[] = {
        { "CPU", RLIMIT_CPU }, { "FSIZE", RLIMIT_FSIZE }, { "NOFILE", RLIMIT_NOFILE },
        { "NPROC", RLIMIT_NPROC }, { "AS", RLIMIT_AS }, { "CORE", RLIMIT_CORE },
        { "DATA", RLIMIT_DATA }, { "STACK", RLIMIT_STACK },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) == 0) return table[i].resource;
    }
    return -1;
}

/* Kills every process that is still a child of this one (reparented
 * orphans included), reading them from /proc. */
static void kill_children(void) {
    char path[64];
    char *end = append_text(path, "/proc/self/task/");
    end = append_number(end, getpid());
    end = append_text(end, "/children");
    *end = '\0';
    int file = open(path, O_RDONLY | O_CLOEXEC);
    if (file < 0) return;
    char buffer[4096];
    long long pid = -1;
    ssize_t got;
    while ((got = read(file, buffer, sizeof buffer)) > 0 || (got < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < got; i++) {
            if (buffer[i] >= '0' && buffer[i] <= '9') {
                pid = (pid < 0 ? 0 : pid * 10) + (buffer[i] - '0');
            } else if (pid >= 0) {
                kill((pid_t)pid, SIGKILL);
                pid = -1;
            }
        }
    }
    if (pid >= 0) kill((pid_t)pid, SIGKILL);
    close(file);
}

static void report_status(int status) {
    struct rusage usage;
    getrusage(RUSAGE_CHILDREN, &usage);
    long long numbers[4] = {
        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
        usage.ru_maxrss,
        usage.ru_utime.tv_sec * 1000000LL + usage.ru_utime.tv_usec,
        usage.ru_stime.tv_sec * 1000000LL + usage.ru_stime.tv_usec,
    };
    report(WIFSIGNALED(status) ? "signal" : "exit", 4, numbers);
}

struct limit { int resource; rlim_t soft, hard; };

/* Reads the start gate (-g): 1 for its byte; 0 when it closed without one
 * (the owner closed it, or died), cannot be read, or a signal other than
 * SIGCHLD came first (a cancellation, the owner's death). Signals are
 * already blocked and arrive on `signals`. */
static int read_gate(int signals) {
    for (;;) {
        struct pollfd watched[2] = { { GATE_FD, POLLIN, 0 }, { signals, POLLIN, 0 } };
        if (poll(watched, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        if (watched[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (read(signals, &info, sizeof info) == (ssize_t)sizeof info && info.ssi_signo == SIGCHLD) continue;
            return 0;
        }
        if (watched[0].revents) {
            char byte;
            ssize_t got = read(GATE_FD, &byte, 1);
            if (got < 0 && errno == EINTR) continue;
            return got == 1;
        }
    }
}

/* Waits at the start gate: 1 when the job may start, 0 when it must not
 * (the gate closed without a byte, or a signal came first). The gate stays
 * open for `linger`. */
static int wait_at_gate(int signals) {
    if (read_gate(signals)) return 1;
    close(GATE_FD);
    return 0;
}

/* After a gated job's final report: waits until the owner closes the gate
 * or a signal comes. The exit that follows tears down the job's namespaces. */
static void linger(int signals) {
    while (read_gate(signals)) {}
}

/* The vfork child: its own frame, below main's, so that nothing it writes
 * lands in a variable the parent reads once it resumes. System calls only. */
__attribute__((noinline, noreturn))
static void start_job(const char *path, char **job_argv, const struct limit *limits, int limit_count, const sigset_t *mask) {
    setpgid(0, 0);
    for (int i = 0; i < limit_count; i++) {
        struct rlimit limit = { limits[i].soft, limits[i].hard };
        if (setrlimit(limits[i].resource, &limit) != 0) {
            long long code = errno;
            report("exec-error", 1, &code);
            _exit(127);
        }
    }
    sigprocmask(SIG_SETMASK, mask, NULL);
    execv(path, job_argv);
    long long code = errno;
    report("exec-error", 1, &code);
    _exit(127);
}

int main(int argc, char **argv) {
    pid_t owner = 0;
    int gated = 0;
    struct limit limits[16];
    int limit_count = 0;
    int index = 1;
    for (; index < argc; index++) {
        if (strcmp(argv[index], "--") == 0) { index++; break; }
        if (strcmp(argv[index], "-p") == 0 && index + 1 < argc) {
            owner = (pid_t)atol(argv[++index]);
        } else if (strcmp(argv[index], "-g") == 0) {
            gated = 1;
        } else if (strcmp(argv[index], "-l") == 0 && index + 1 < argc && limit_count < 16) {
            char *spec = argv[++index];
            char *equals = strchr(spec, '=');
            if (!equals) { fprintf(stderr, "runbook-init: bad limit %s\n", spec); return 125; }
            *equals = '\0';
            int resource = parse_resource(spec);
            if (resource < 0) { fprintf(stderr, "runbook-init: unknown limit %s\n", spec); return 125; }
            char *colon = NULL;
            limits[limit_count].resource = resource;
            limits[limit_count].soft = (rlim_t)strtoull(equals + 1, &colon, 10);
            limits[limit_count].hard = (colon && *colon == ':') ? (rlim_t)strtoull(colon + 1, NULL, 10)
                                                                : limits[limit_count].soft;
            limit_count++;
        } else {
            fprintf(stderr, "runbook-init: unexpected argument %s\n", argv[index]);
            return 125;
        }
    }
    if (index + 1 >= argc) {
        fprintf(stderr, "usage: runbook-init -p OWNER_PID [-g] [-l RESOURCE=VALUE]... -- PATH ARG0 [ARG...]\n");
        return 125;
    }
    const char *path = argv[index];
    char **job_argv = &argv[index + 1];

    /* The status channel and the gate must not leak into the job. */
    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
    if (gated) fcntl(GATE_FD, F_SETFD, FD_CLOEXEC);

    /* Die with the owner; if it is already gone, do not start at all. As
     * pid 1 of the job's PID namespace (the sandbox), the owner is outside
     * the namespace and getppid() is 0: then the status pipe tells, as its
     * reading end closes with the owner. Its death also ends this init, and
     * with it, by the kernel's hand, every process of the namespace. */
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    pid_t parent = getppid();
    if (owner > 0 && parent != owner) {
        struct pollfd status = { STATUS_FD, POLLOUT, 0 };
        if (!(parent == 0 && getpid() == 1)) return 125;
        if (poll(&status, 1, 0) < 0 || (status.revents & (POLLERR | POLLHUP))) return 125;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    sigset_t handled, previous;
    sigemptyset(&handled);
    int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR2 };
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&handled, forwarded[i]);
    sigaddset(&handled, SIGUSR1);
    sigaddset(&handled, SIGCHLD);
    sigprocmask(SIG_BLOCK, &handled, &previous);
    int signals = signalfd(-1, &handled, SFD_CLOEXEC);
    if (signals < 0) { perror("runbook-init: signalfd"); return 125; }
    if (gated && !wait_at_gate(signals)) {
        report("not-started", 0, NULL);
        return 125;
    }

    /* vfork: the child shares this process's memory until it execs, so
     * nothing is copied and no page of this one is faulted in again
     * afterwards; it only makes system calls and writes to its own stack.
     * The rlimits are set in the child alone (it has its own rlimits once
     * it exists), so this init is never subject to them. */
    sigset_t none;
    sigemptyset(&none);
    pid_t job = vfork();
    if (job < 0) { perror("runbook-init: vfork"); return 125; }
    if (job == 0) start_job(path, job_argv, limits, limit_count, &none);
    setpgid(job, job);
    long long started = job;
    report("started", 1, &started);

    int job_status = 0;
    int job_running = 1;
    int killing = 0;
    for (;;) {
        if (!job_running) {
            /* The main process is gone: nothing it started may outlive it. */
            kill(-job, SIGKILL);
            kill_children();
            int status;
            pid_t reaped = waitpid(-1, &status, 0);
            if (reaped < 0 && errno == ECHILD) break;
            continue;
        }
        struct signalfd_siginfo info;
        ssize_t got = read(signals, &info, sizeof info);
        if (got != (ssize_t)sizeof info) {
            if (got < 0 && errno == EINTR) continue;
            /* Cannot watch the job any more: end it rather than leave it. */
            kill(-job, SIGKILL);
            kill_children();
            job_status = SIGKILL; /* reported as killed by SIGKILL */
            job_running = 0;
            continue;
        }
        int signo = (int)info.ssi_signo;
        if (signo == SIGCHLD) {
            int status;
            pid_t reaped;
            while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
                if (reaped == job) { job_status = status; job_running = 0; }
            }
        } else if (signo == SIGUSR1) {
            killing = 1;
            kill(-job, SIGKILL);
            kill_children();
        } else if (!killing) {
            kill(-job, signo);
        }
    }
    report_status(job_status);
    /* The job is over and reported. What is left is this process's exit,
     * which tears down the job's namespaces: let other jobs' starts go first,
     * by priority and, for a gated job, by waiting until the owner says. */
    setpriority(PRIO_PROCESS, 0, 10);
    if (gated) linger(signals);
    return 0;
}
