/*
 * The floor of the host lateness benchmark on this machine: the same probe
 * at the same instants as runbook's jobs, started the cheapest way there
 * is, with no sandbox, no store and no runbook. Reads "INSTANT COUNT" lines
 * (unix seconds, ascending) on stdin; a quarter of a second before each
 * instant it forks COUNT children that wait on a pipe each, and at the
 * instant it writes to every pipe, so each child execs `bash PROBE INSTANT`
 * then. This is what runbook does with a readied job (runbook-init waiting
 * at its start gate), minus everything else runbook does.
 *   gate_floor PROBE < instants
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static void sleep_until(double instant) {
    struct timespec at = { (time_t)instant, (long)((instant - (double)(time_t)instant) * 1e9) };
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) != 0) {}
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: gate_floor PROBE < instants\n"); return 2; }
    double instant;
    int count;
    while (scanf("%lf %d", &instant, &count) == 2) {
        if (count > 1024) count = 1024;
        int gates[1024];
        pid_t children[1024];
        char argument[32];
        snprintf(argument, sizeof argument, "%.0f", instant);
        sleep_until(instant - 0.25);
        for (int i = 0; i < count; i++) {
            int fds[2];
            if (pipe(fds) != 0) { perror("pipe"); return 1; }
            children[i] = fork();
            if (children[i] == 0) {
                char byte;
                close(fds[1]);
                if (read(fds[0], &byte, 1) != 1) _exit(1);
                char *args[] = { "bash", argv[1], argument, NULL };
                execv("/bin/bash", args);
                _exit(127);
            }
            close(fds[0]);
            gates[i] = fds[1];
        }
        sleep_until(instant);
        for (int i = 0; i < count; i++) {
            if (write(gates[i], "x", 1) != 1) perror("write");
            close(gates[i]);
        }
        for (int i = 0; i < count; i++) waitpid(children[i], NULL, 0);
    }
    return 0;
}
