#include "config.h"

#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/stats.h"
#include "haproxy/supervisor.h"
#include "haproxy/takeover.h"
#include "log.h"
#include "orphans.h"
#include "pmconfig.h"
#include "sdlisten.h"
#include "util.h"

#define TAKEOVER_RECORD_VERSION	1
#define TAKEOVER_MAX_PROCS	64
/* How long a HAProxy that runs this configuration may take to answer on
 * the stats socket (one that is still starting binds it in well under a
 * second), and how often to ask. */
#define TAKEOVER_ANSWER_MS	3000
#define TAKEOVER_POLL_MS	50

static char *
takeover_record_path(const struct pm_config *cfg)
{
	return xasprintf("%s.serving", cfg->config_path);
}

void
takeover_record(const struct pm_config *cfg, int pid,
    unsigned long fingerprint)
{
	char *path = takeover_record_path(cfg), *tmp, line[64];
	int fd, n;

	if (pid <= 0) {
		unlink(path);
		free(path);
		return;
	}
	n = snprintf(line, sizeof(line), "%d %d %lu\n",
	    TAKEOVER_RECORD_VERSION, pid, fingerprint);
	tmp = xasprintf("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, line, (size_t)n) != n ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		log_warn("serving record %s", path);
		unlink(tmp);
	}
	free(tmp);
	free(path);
}

/* What the record says runs in pid, or 0 (no record, another pid). */
static unsigned long
takeover_record_read(const struct pm_config *cfg, int pid)
{
	char *path = takeover_record_path(cfg), *text;
	unsigned long fp = 0;
	int version, rpid;

	text = read_file(path, 256, NULL, NULL);
	if (text != NULL && sscanf(text, "%d %d %lu", &version, &rpid,
	    &fp) == 3 && (version != TAKEOVER_RECORD_VERSION || rpid != pid))
		fp = 0;
	free(text);
	free(path);
	return fp;
}

struct takeover_ask {
	bool	 done;
	int	 pid;
};

static void
takeover_on_info(int status, const char *reply, void *arg)
{
	struct takeover_ask *a = arg;

	a->done = true;
	a->pid = status == 0 ? stats_info_pid(reply) : -1;
}

static void
takeover_on_timer(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Which pid answers "show info" on the stats socket, or -1. */
static int
takeover_ask_pid(uv_loop_t *loop, const struct pm_config *cfg)
{
	struct takeover_ask a = { false, -1 };

	stats_query(loop, cfg->socket_path, "show info", 1000,
	    takeover_on_info, &a);
	while (!a.done)
		uv_run(loop, UV_RUN_ONCE);
	return a.pid;
}

static void
takeover_pause(uv_loop_t *loop, unsigned ms)
{
	uv_timer_t timer;
	bool fired = false;

	uv_timer_init(loop, &timer);
	timer.data = &fired;
	uv_timer_start(&timer, takeover_on_timer, ms, 0);
	while (!fired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static bool
takeover_is_listening_tcp(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), olen = sizeof(int);
	int type = 0, listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    type != SOCK_STREAM)
		return false;
	olen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) ==
	    -1 || !listening)
		return false;
	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

/* Copy every listening TCP socket of pid into the "takeover" pool (one
 * copy per socket: inodes already taken are skipped). Returns how many,
 * or -1 with err set. */
static int
takeover_sockets(int pid, ino_t *seen, size_t *nseen, size_t maxseen,
    char **err)
{
	char dir[64], link[384], target[64];
	struct dirent *de;
	DIR *d;
	int pidfd, n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	if ((pidfd = pidfd_open(pid, 0)) == -1)
		return set_err(err, "haproxy[%d]: pidfd_open: %s", pid,
		    strerror(errno));
	if ((d = opendir(dir)) == NULL) {
		close(pidfd);
		return set_err(err, "haproxy[%d]: %s: %s", pid, dir,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long target_fd = strtol(de->d_name, &end, 10);
		struct stat st;
		ssize_t len;
		int fd;
		bool dup_seen = false;

		if (*end != '\0' || end == de->d_name)
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len == -1 && (errno == EACCES || errno == EPERM)) {
			/* Not a socket it lacks, but the right to look: as
			 * root over a HAProxy that dropped to another uid,
			 * without CAP_SYS_PTRACE. Going on with none would
			 * start a HAProxy that cannot bind the ports. */
			set_err(err, "haproxy[%d]: cannot read %s (%s): taking "
			    "a HAProxy over needs the same user, or "
			    "CAP_SYS_PTRACE", pid, link, strerror(errno));
			closedir(d);
			close(pidfd);
			return -1;
		}
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, "socket:", 7) != 0)
			continue;
		if ((fd = pidfd_getfd(pidfd, (int)target_fd, 0)) == -1 &&
		    errno == EBADF)
			continue;	/* a connection it closed meanwhile */
		if (fd == -1) {
			set_err(err, "haproxy[%d]: cannot copy its socket fd "
			    "%ld (pidfd_getfd: %s): taking a HAProxy over needs "
			    "the same user, or CAP_SYS_PTRACE", pid, target_fd,
			    strerror(errno));
			closedir(d);
			close(pidfd);
			return -1;
		}
		if (!takeover_is_listening_tcp(fd) || fstat(fd, &st) == -1) {
			close(fd);
			continue;
		}
		for (size_t i = 0; i < *nseen; i++)
			if (seen[i] == st.st_ino)
				dup_seen = true;
		if (dup_seen || *nseen == maxseen) {
			close(fd);
			continue;
		}
		seen[(*nseen)++] = st.st_ino;
		sdlisten_adopt(fd, "takeover");
		n++;
	}
	closedir(d);
	close(pidfd);
	return n;
}

/* A read end of the pipe that pid's fd (1 or 2) writes to, or -1. The
 * pipes die with the proxymgrd that read them only in that end: HAProxy
 * keeps the write end (its writes fail meanwhile, SIGPIPE is ignored),
 * and opening /proc/PID/fd/N of a pipe gives a new end of the same pipe.
 * Anything else (a terminal, a file) is left alone. */
static int
takeover_pipe(int pid, int fd)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (stat(path, &st) == -1 || !S_ISFIFO(st.st_mode))
		return -1;
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static bool
takeover_pid_in(int pid, const int *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* The newest of pids (the highest start time): the one most likely to
 * run the latest configuration. */
static int
takeover_newest(const int *pids, size_t n)
{
	unsigned long long best = 0;
	int newest = pids[0];

	for (size_t i = 0; i < n; i++) {
		char path[64], *text, *p;
		unsigned long long start = 0;
		snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
		if ((text = read_file(path, 4096, NULL, NULL)) == NULL)
			continue;
		/* Field 22, counted after the ")" that ends the name. */
		if ((p = strrchr(text, ')')) != NULL) {
			int field = 2;
			for (p++; *p != '\0' && field < 22; p++)
				if (*p == ' ')
					field++;
			start = strtoull(p, NULL, 10);
		}
		if (start >= best) {
			best = start;
			newest = pids[i];
		}
		free(text);
	}
	return newest;
}

int
takeover_find(uv_loop_t *loop, const struct pm_config *cfg,
    struct sup_handoff *h, char **err)
{
	int pids[TAKEOVER_MAX_PROCS], answer = -1;
	ino_t seen[1024];
	size_t n, nseen = 0;
	uint64_t deadline = now_ms() + TAKEOVER_ANSWER_MS;
	int nsock;

	memset(h, 0, sizeof(*h));
	n = orphans_find(cfg->config_path, pids, TAKEOVER_MAX_PROCS);
	if (n == 0) {
		/* Nothing of ours: whatever answers on the stats socket
		 * belongs to someone else. */
		if ((answer = takeover_ask_pid(loop, cfg)) > 0)
			return set_err(err, "%s is answered by haproxy[%d], "
			    "which does not run %s: it is not this proxymgrd's "
			    "to take over; stop it, or give proxymgrd another "
			    "haproxy.socket_path", cfg->socket_path, answer,
			    cfg->config_path);
		return 0;
	}
	/* The newest one serves once it is up, as it would have if the old
	 * proxymgrd had lived: one that is still starting (a reload or the
	 * first start in flight) binds the stats socket in a moment. */
	for (;;) {
		answer = takeover_ask_pid(loop, cfg);
		if (answer == takeover_newest(pids, n) || now_ms() >= deadline)
			break;
		takeover_pause(loop, TAKEOVER_POLL_MS);
		n = orphans_find(cfg->config_path, pids, TAKEOVER_MAX_PROCS);
		if (n == 0)
			return 0;	/* they all went meanwhile */
	}
	if (!takeover_pid_in(answer, pids, n)) {
		h->pid = takeover_newest(pids, n);
		log_warnx("%zu HAProxy processes run %s but none answers on %s "
		    "within %d ms: taking over haproxy[%d], the newest; a new "
		    "HAProxy replaces it", n, cfg->config_path,
		    cfg->socket_path, TAKEOVER_ANSWER_MS, h->pid);
	} else {
		/* The newest, or one that answers while the newest never
		 * came up in time. */
		h->pid = answer;
		h->fingerprint = takeover_record_read(cfg, answer);
	}
	if ((nsock = takeover_sockets(h->pid, seen, &nseen,
	    sizeof(seen) / sizeof(seen[0]), err)) == -1)
		return -1;
	h->out_fd = takeover_pipe(h->pid, 1);
	h->err_fd = takeover_pipe(h->pid, 2);
	for (size_t i = 0; i < n; i++) {
		if (pids[i] == h->pid)
			continue;
		/* Draining, or a generation whose soft-stop was lost with
		 * the old proxymgrd: either way it soft-stops now. */
		kill(pids[i], SIGUSR1);
		h->old = xrealloc(h->old, (h->nold + 1) * sizeof(*h->old));
		h->old[h->nold].pid = pids[i];
		h->old[h->nold].out_fd = takeover_pipe(pids[i], 1);
		h->old[h->nold].err_fd = takeover_pipe(pids[i], 2);
		h->nold++;
	}
	log_info("taking over haproxy[%d] (%s), %d listen sockets, %zu other "
	    "HAProxy processes soft-stopped to drain", h->pid,
	    h->fingerprint != 0 ? "runs what the serving record says" :
	    "what it runs is not known: a reload follows", nsock, h->nold);
	return 1;
}
