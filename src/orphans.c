#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orphans.h"
#include "util.h"

/* HAProxy's command line is a few paths; past this much it is cut, and a
 * cut argument never matches. */
#define ORPHANS_CMDLINE_MAX	8192
/* The most processes one stop handles; more would be a bug elsewhere. */
#define ORPHANS_MAX		256
/* After SIGTERM, as proxymgrd's own stop waits before SIGKILL. */
#define ORPHANS_TERM_MS		2000
/* After SIGKILL: only the kernel is left to wait for. */
#define ORPHANS_KILL_MS		1000

/* Whether the n bytes at arg name a program whose file name starts with
 * "haproxy". */
static bool
orphans_is_haproxy(const char *arg, size_t n)
{
	const char *base = arg;

	for (const char *q = arg; q < arg + n; q++)
		if (*q == '/')
			base = q + 1;
	return (size_t)(arg + n - base) >= strlen("haproxy") &&
	    strncmp(base, "haproxy", strlen("haproxy")) == 0;
}

bool
orphans_cmdline_matches(const char *buf, size_t len, const char *config_path)
{
	size_t plen = strlen(config_path);
	const char *p = buf, *end = buf + len;
	bool after_f = false, haproxy = false;

	if (len == 0 || plen == 0)
		return false;
	for (int i = 0; p < end; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t n = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);

		/* The program, or the script an interpreter runs (a
		 * haproxy.path that is a wrapper script, until it execs
		 * HAProxy under the same pid). */
		if (i <= 1 && orphans_is_haproxy(p, n))
			haproxy = true;
		else if (i == 1 && !haproxy)
			return false;
		if (haproxy && after_f && nul != NULL && n == plen &&
		    memcmp(p, config_path, plen) == 0)
			return true;
		after_f = i > 0 && n == 2 && memcmp(p, "-f", 2) == 0;
		p += n + 1;
	}
	return false;
}

/* Up to ORPHANS_CMDLINE_MAX bytes of /proc/PID/cmdline into buf. */
static size_t
orphans_read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while (len < size && ((n = read(fd, buf + len, size - len)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	return len;
}

/* The real and effective uid from /proc/PID/status. */
static int
orphans_uids(pid_t pid, uid_t *ruid, uid_t *euid)
{
	char path[64], line[256];
	unsigned long r, e;
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2) {
			*ruid = (uid_t)r;
			*euid = (uid_t)e;
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

/* What one search looks for: the path as given and its realpath. */
struct orphans_target {
	const char	*path;
	char		*resolved;	/* NULL, or another spelling of path */
	uid_t		 uid;
};

static void
orphans_target_init(struct orphans_target *t, const char *config_path)
{
	t->path = config_path;
	t->resolved = realpath(config_path, NULL);
	if (t->resolved != NULL && strcmp(t->resolved, config_path) == 0) {
		free(t->resolved);
		t->resolved = NULL;
	}
	t->uid = geteuid();
}

static bool
orphans_pid_matches(const struct orphans_target *t, pid_t pid)
{
	char buf[ORPHANS_CMDLINE_MAX];
	uid_t ruid, euid;
	size_t len;

	if (pid == getpid())
		return false;
	if (t->uid != 0 && (orphans_uids(pid, &ruid, &euid) == -1 ||
	    (ruid != t->uid && euid != t->uid)))
		return false;
	/* A zombie's command line reads empty: it never matches. */
	len = orphans_read_cmdline(pid, buf, sizeof(buf));
	return orphans_cmdline_matches(buf, len, t->path) ||
	    (t->resolved != NULL &&
	    orphans_cmdline_matches(buf, len, t->resolved));
}

static size_t
orphans_scan(const struct orphans_target *t, int *pids, size_t max)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir("/proc")) == NULL) {
		log_warn("/proc");
		return 0;
	}
	while (n < max && (de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*de->d_name == '\0' || *end != '\0' || pid <= 0 ||
		    pid > INT_MAX)
			continue;
		if (orphans_pid_matches(t, (pid_t)pid))
			pids[n++] = (int)pid;
	}
	closedir(d);
	return n;
}

bool
orphans_runs(int pid, const char *config_path)
{
	struct orphans_target t;
	bool ours;

	orphans_target_init(&t, config_path);
	ours = orphans_pid_matches(&t, (pid_t)pid);
	free(t.resolved);
	return ours;
}

size_t
orphans_find(const char *config_path, int *pids, size_t max)
{
	struct orphans_target t;
	size_t n;

	orphans_target_init(&t, config_path);
	n = orphans_scan(&t, pids, max);
	free(t.resolved);
	return n;
}

bool
orphans_keep(const char *service_result, const char *exit_code,
    const char *exit_status, const char **why)
{
	static const struct {
		const char	*result;
		const char	*why;
	} died[] = {
		{ "signal", "proxymgrd was killed by a signal" },
		{ "core-dump", "proxymgrd crashed and dumped core" },
		{ "oom-kill", "the OOM killer struck proxymgrd's service" },
		{ "exit-code", "proxymgrd exited with an error" },
		{ "watchdog", "proxymgrd missed its watchdog deadline" },
	};
	const char *r = service_result;

	if (r == NULL || *r == '\0') {
		*why = "no $SERVICE_RESULT, so no crash that systemd saw";
		return false;
	}
	if (strcmp(r, "success") == 0) {
		*why = "a clean stop: anything still running is a straggler";
		return false;
	}
	if (strcmp(r, "timeout") == 0) {
		*why = "proxymgrd did not stop in time";
		return false;
	}
	for (size_t i = 0; i < sizeof(died) / sizeof(died[0]); i++) {
		if (strcmp(r, died[i].result) != 0)
			continue;
		/* OOMPolicy=stop: systemd stopped a healthy proxymgrd because
		 * some other process of the unit was killed. It exited 0,
		 * having stopped its HAProxy itself. */
		if (exit_code != NULL && strcmp(exit_code, "exited") == 0 &&
		    exit_status != NULL && strcmp(exit_status, "0") == 0) {
			*why = "proxymgrd exited cleanly (exit status 0): "
			    "anything still running is a straggler";
			return false;
		}
		*why = died[i].why;
		return true;
	}
	*why = "$SERVICE_RESULT does not say that proxymgrd died";
	return false;
}

struct orphan {
	pid_t	 pid;
	int	 pidfd;		/* -1 where the kernel has no pidfd_open */
	bool	 gone;
};

/* A pidfd pins the process: a pid reused meanwhile is never signalled. */
static int
orphans_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int
orphans_signal(const struct orphan *o, int sig)
{
#ifdef SYS_pidfd_send_signal
	if (o->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, o->pidfd, sig,
		    NULL, 0);
#endif
	return kill(o->pid, sig);
}

/* HAProxy has exited: its pidfd is readable (even while no one has reaped
 * it), or, without one, its command line no longer matches. */
static bool
orphans_exited(const struct orphans_target *t, const struct orphan *o)
{
	if (o->pidfd >= 0) {
		struct pollfd pfd = { .fd = o->pidfd, .events = POLLIN };

		return poll(&pfd, 1, 0) != 0;
	}
	return !orphans_pid_matches(t, o->pid);
}

/* Wait up to ms for every orphan to exit; returns how many still run. */
static size_t
orphans_wait(const struct orphans_target *t, struct orphan *v, size_t n,
    int ms, uint64_t since)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;
	struct pollfd fds[ORPHANS_MAX];

	for (;;) {
		size_t left = 0, nfds = 0;
		uint64_t now;

		for (size_t i = 0; i < n; i++) {
			if (v[i].gone)
				continue;
			if (orphans_exited(t, &v[i])) {
				v[i].gone = true;
				log_info("haproxy[%d] exited %llu ms after the "
				    "first signal", (int)v[i].pid,
				    (unsigned long long)(now_ms() - since));
				continue;
			}
			left++;
			if (v[i].pidfd >= 0) {
				fds[nfds].fd = v[i].pidfd;
				fds[nfds].events = POLLIN;
				fds[nfds].revents = 0;
				nfds++;
			}
		}
		now = now_ms();
		if (left == 0 || now >= deadline)
			return left;
		/* Wakes on the first exit; 50 ms polls those without one. */
		(void)poll(fds, nfds, deadline - now < 50 ? (int)(deadline -
		    now) : 50);
	}
}

static void
orphans_signal_all(struct orphan *v, size_t n, int sig, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].gone)
			continue;
		log_info("haproxy[%d]: %s", (int)v[i].pid, what);
		if (orphans_signal(&v[i], sig) == -1) {
			if (errno == ESRCH)
				v[i].gone = true;
			else
				log_warn("haproxy[%d]: %s", (int)v[i].pid,
				    strsignal(sig));
		}
	}
}

size_t
orphans_stop(const char *config_path, int soft_ms)
{
	struct orphans_target t;
	struct orphan v[ORPHANS_MAX];
	int pids[ORPHANS_MAX];
	size_t n, found, left = 0;
	uint64_t since;
	char *what;

	orphans_target_init(&t, config_path);
	found = orphans_scan(&t, pids, ORPHANS_MAX);
	n = 0;
	for (size_t i = 0; i < found; i++) {
		v[n].pid = (pid_t)pids[i];
		v[n].pidfd = orphans_pidfd_open(v[n].pid);
		v[n].gone = false;
		if (v[n].pidfd == -1 && errno == ESRCH)
			continue;
		/* The pid may have been reused between the scan and the
		 * pidfd: look at what the pidfd holds once more. */
		if (v[n].pidfd >= 0 && !orphans_pid_matches(&t, v[n].pid)) {
			close(v[n].pidfd);
			continue;
		}
		n++;
	}
	if (n == 0) {
		log_info("no HAProxy runs %s", config_path);
		goto done;
	}
	since = now_ms();
	what = xasprintf("SIGUSR1: finish the requests in flight (%d ms "
	    "at most)", soft_ms);
	orphans_signal_all(v, n, SIGUSR1, what);
	free(what);
	if (orphans_wait(&t, v, n, soft_ms, since) == 0)
		goto done;
	what = xasprintf("still running after %d ms: SIGTERM", soft_ms);
	orphans_signal_all(v, n, SIGTERM, what);
	free(what);
	if (orphans_wait(&t, v, n, ORPHANS_TERM_MS, since) == 0)
		goto done;
	orphans_signal_all(v, n, SIGKILL, "still running 2 s after SIGTERM: "
	    "SIGKILL");
	if ((left = orphans_wait(&t, v, n, ORPHANS_KILL_MS, since)) > 0)
		for (size_t i = 0; i < n; i++)
			if (!v[i].gone)
				log_warnx("haproxy[%d] still runs after SIGKILL",
				    (int)v[i].pid);
done:
	for (size_t i = 0; i < n; i++)
		if (v[i].pidfd >= 0)
			close(v[i].pidfd);
	free(t.resolved);
	return left;
}
