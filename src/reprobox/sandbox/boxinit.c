/*
 * boxinit: the init (PID 1) of a reprobox box. It keeps a box's deadline and idle lifetime
 * inside the box itself, so they hold when the process that owns the box dies.
 *
 * Why it cannot be defeated from inside the box: the kernel never delivers SIGKILL or SIGSTOP
 * to a PID namespace's init from inside that namespace (kill -9 -1 skips it too), every other
 * signal is blocked here, and the process is not dumpable, so a same-uid process can neither
 * ptrace it nor open its /proc files. When it exits, for whatever reason, the kernel kills
 * every process left in the namespace, and the engine removes the container (AutoRemove).
 *
 * Usage: boxinit [-f BYTES] [-n FILES] [-i IDLE_MS] [-t DEADLINE_MS] [-w] [-r] [-- COMMAND ARGS...]
 *   -- COMMAND  run COMMAND now (a one-shot box); exit with its status
 *   -w          wait for the command on stdin (a pool box): "R<deadline_ms>\0arg\0...\0\0"
 *   neither     serve execs (a session box): run nothing, only keep the lifetime
 *   -t MS       the command's deadline, counted from its start (0: none)
 *   -i MS       idle lifetime: exit after MS without a message from the owner (0: none)
 *   -f BYTES    file-size limit (RLIMIT_FSIZE), soft and hard, set on boxinit itself before
 *               anything runs, so every command it starts inherits it; a process without
 *               CAP_SYS_RESOURCE can never raise a hard limit. For engines that drop a box's
 *               ulimits (rootless Podman's Docker API). Not settable: exit 125, nothing runs.
 *   -n FILES    open-file limit (RLIMIT_NOFILE), the same way
 *   -r          report: the last bytes on stderr are RECORD_OOM when the kernel's OOM killer
 *               killed a process of the box (its memory cgroup's oom_kill counter, read-only
 *               in the box, grew since boxinit started), else RECORD_END. Written after every
 *               other process of the box is dead and reaped, so nothing in the box can write
 *               after it: a record the command wrote itself is never the last one.
 *
 * Stdin is the owner's lifeline (the engine closes it when the owner's attach connection
 * ends, e.g. because the owner was SIGKILLed): end of file ends the box at once. Messages:
 *   "."        heartbeat: stay at least the idle lifetime from now
 *   "L<ms>\n"  lease: stay until now + ms (ms < 0: until the next lease), e.g. one run's
 *              timeout while it runs in a session, then the idle lifetime again
 *   "R..."     the command of a -w box (above)
 * Exit status: the command's (128 + signal when killed); 137 at the deadline; 0 at the end of
 * the lifeline or the idle lifetime without a command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FOREVER (-1LL)
#define RECORD_END "\0[reprobox-init end]\0"
#define RECORD_OOM "\0[reprobox-init oom]\0"
#define RECORD_SIZE (sizeof RECORD_END - 1)
#define MAX_MESSAGE 65536
#define MAX_ARGS 4096

static long long idle_ms = 0;
static long long lease_until = FOREVER; /* monotonic ms; FOREVER: no limit */
static pid_t child = 0;
static sigset_t blocked;
static int report = 0;
static long long oom_kills_at_start = 0;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long after(long long ms) { return ms > 0 ? now_ms() + ms : FOREVER; }

/* OOM kills in the box's memory cgroup (v1: memory.oom_control, v2: memory.events); -1 when
 * the engine shows the box no cgroup. */
static long long oom_kills(void) {
    static const char *files[] = {"/sys/fs/cgroup/memory/memory.oom_control",
                                  "/sys/fs/cgroup/memory.events"};
    char text[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int fd = open(files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n <= 0)
            continue;
        text[n] = 0;
        for (char *line = text; line; line = strchr(line, '\n')) {
            line += *line == '\n';
            if (strncmp(line, "oom_kill ", 9) == 0)
                return atoll(line + 9);
        }
    }
    return -1;
}

/* The last words on stderr (-r): whether the OOM killer struck, once no one else can write. */
static void last_words(void) {
    int status;
    kill(-1, SIGKILL);
    while (waitpid(-1, &status, 0) > 0 || errno == EINTR) {
    }
    long long now = oom_kills();
    int oom = oom_kills_at_start >= 0 && now > oom_kills_at_start;
    const char *record = oom ? RECORD_OOM : RECORD_END;
    int flags = fcntl(2, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK))
        fcntl(2, F_SETFL, flags & ~O_NONBLOCK); /* the command may have set it on the pipe */
    size_t done = 0;
    while (done < RECORD_SIZE) {
        ssize_t n = write(2, record + done, RECORD_SIZE - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
}

static void end(int status) {
    if (report)
        last_words();
    else
        kill(-1, SIGKILL); /* everything this init may signal; exiting kills the rest anyway */
    _exit(status);
}

static void start(char **argv, long long deadline_ms, long long *deadline) {
    child = fork();
    if (child < 0)
        end(125);
    if (child == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
            if (null != 0)
                close(null);
        } else {
            close(0);
        }
        sigprocmask(SIG_UNBLOCK, &blocked, NULL);
        execvp(argv[0], argv);
        int error = errno;
        dprintf(2, "reprobox: cannot run %s: %s\n", argv[0], strerror(error));
        _exit(error == ENOENT ? 127 : 126);
    }
    *deadline = after(deadline_ms);
    lease_until = FOREVER; /* a running command is bounded by its deadline alone */
}

static int status_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (child > 0 && pid == child)
            end(status_of(status));
    }
}

/* Act on the complete messages in buf; returns how many bytes were used. */
static size_t handle(char *buf, size_t len, int waiting, long long *deadline) {
    size_t used = 0;
    while (used < len) {
        char *p = buf + used;
        size_t left = len - used;
        if (*p == '.') {
            long long renewed = after(idle_ms);
            if (child == 0 && lease_until != FOREVER && (renewed == FOREVER || renewed > lease_until))
                lease_until = renewed;
            used += 1;
        } else if (*p == 'L') {
            char *nl = memchr(p, '\n', left);
            if (!nl)
                break;
            *nl = 0;
            long long ms = atoll(p + 1);
            if (child == 0)
                lease_until = ms < 0 ? FOREVER : now_ms() + ms;
            used += (size_t)(nl - p) + 1;
        } else if (*p == 'R' && waiting && child == 0) {
            char *args[MAX_ARGS + 1];
            int n = 0;
            char *q = memchr(p, '\0', left);
            if (!q)
                break;
            long long ms = atoll(p + 1);
            char *end_of = p + left;
            for (q = q + 1; q < end_of && *q && n < MAX_ARGS; q += strlen(q) + 1) {
                if (!memchr(q, '\0', (size_t)(end_of - q)))
                    return used; /* incomplete */
                args[n++] = q;
            }
            if (q >= end_of)
                break; /* the terminating empty argument has not arrived yet */
            if (*q)
                end(125); /* more arguments than MAX_ARGS */
            if (n == 0)
                end(127);
            args[n] = NULL;
            start(args, ms, deadline);
            used = (size_t)(q - buf) + 1;
        } else {
            used += 1; /* unknown byte: ignored */
        }
    }
    return used;
}

static void limit(int resource, const char *value) {
    char *rest;
    errno = 0;
    unsigned long long n = strtoull(value, &rest, 10);
    struct rlimit rl = {(rlim_t)n, (rlim_t)n};
    if (errno || *value == '\0' || *rest != '\0' || setrlimit(resource, &rl) != 0) {
        dprintf(2, "reprobox: cannot set resource limit %s: %s\n", value, strerror(errno));
        _exit(125);
    }
}

int main(int argc, char **argv) {
    long long deadline_ms = 0, deadline = FOREVER;
    int waiting = 0, opt;
    static char buf[MAX_MESSAGE];
    size_t have = 0;

    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    sigfillset(&blocked);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    while ((opt = getopt(argc, argv, "+f:n:i:t:wr")) != -1) {
        if (opt == 'i')
            idle_ms = atoll(optarg);
        else if (opt == 't')
            deadline_ms = atoll(optarg);
        else if (opt == 'w')
            waiting = 1;
        else if (opt == 'r')
            report = 1;
        else if (opt == 'f')
            limit(RLIMIT_FSIZE, optarg);
        else if (opt == 'n')
            limit(RLIMIT_NOFILE, optarg);
        else
            _exit(125);
    }
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        _exit(125);
    fcntl(0, F_SETFD, FD_CLOEXEC);
    if (report)
        oom_kills_at_start = oom_kills();
    lease_until = after(idle_ms);
    if (optind < argc)
        start(argv + optind, deadline_ms, &deadline);

    for (;;) {
        long long limit = deadline;
        if (lease_until != FOREVER && (limit == FOREVER || lease_until < limit))
            limit = lease_until;
        int timeout = -1;
        if (limit != FOREVER) {
            long long left = limit - now_ms();
            if (left <= 0)
                end(child > 0 ? 137 : 0);
            timeout = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd fds[2] = {{sfd, POLLIN, 0}, {0, POLLIN, 0}};
        int r = poll(fds, 2, timeout);
        if (r < 0 && errno != EINTR)
            end(125);
        if (r <= 0)
            continue;
        if (fds[0].revents) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) > 0) {
            }
            reap();
        }
        if (fds[1].revents) {
            ssize_t n = read(0, buf + have, sizeof buf - have);
            if (n <= 0)
                end(child > 0 ? 137 : 0); /* the owner is gone */
            have += (size_t)n;
            size_t used = handle(buf, have, waiting, &deadline);
            memmove(buf, buf + used, have - used);
            have -= used;
            if (have == sizeof buf)
                end(125); /* a message larger than the buffer */
        }
    }
}
