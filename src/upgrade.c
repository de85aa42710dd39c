#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "haproxy/supervisor.h"
#include "log.h"
#include "privs.h"
#include "sdlisten.h"
#include "upgrade.h"
#include "util.h"

#define UPGRADE_ENV	"PROXYMGRD_UPGRADE"
#define UPGRADE_PROBE_MS	3000

static char	 upgrade_exe[PATH_MAX];
static char	**upgrade_argv;

void
upgrade_init(int argc, char **argv)
{
	ssize_t n;

	/* Read now: once a package replaced the binary, /proc/self/exe
	 * names the deleted old one. */
	n = readlink("/proc/self/exe", upgrade_exe, sizeof(upgrade_exe) - 1);
	upgrade_exe[n > 0 ? n : 0] = '\0';
	upgrade_argv = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++)
		upgrade_argv[i] = xstrdup(argv[i]);
}

static int
upgrade_set_cloexec(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags == -1)
		return -1;
	return fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC :
	    flags & ~FD_CLOEXEC);
}

/* The signals that would kill proxymgrd between the exec and the moment
 * the new image handles them: blocked across the exec, they wait. */
static void
upgrade_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

/* Ask the binary which hand-over it reads ("--upgrade-protocol"): one
 * that cannot take over (an older version, or one that does not start at
 * all) must not be exec'd, or HAProxy would be left without a
 * supervisor. Blocks for at most UPGRADE_PROBE_MS. */
static int
upgrade_probe(char **err)
{
	int pfd[2], status = 0;
	char buf[16] = "";
	ssize_t n = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		return set_err(err, "pipe: %s", strerror(errno));
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return set_err(err, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char *const args[] = { upgrade_exe, "--upgrade-protocol", NULL };
		dup2(pfd[1], STDOUT_FILENO);
		execv(upgrade_exe, args);
		_exit(127);
	}
	close(pfd[1]);
	struct pollfd p = { .fd = pfd[0], .events = POLLIN };
	if (poll(&p, 1, UPGRADE_PROBE_MS) == 1)
		n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	kill(pid, SIGKILL);	/* harmless if it exited */
	waitpid(pid, &status, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (strcmp(buf, UPGRADE_PROTOCOL "\n") != 0)
		return set_err(err, "%s does not take over a running proxymgrd "
		    "(no hand-over protocol %s: an older version, or it does "
		    "not start)", upgrade_exe, UPGRADE_PROTOCOL);
	return 0;
}

int
upgrade_exec(const struct sup_handoff *h, const int *listener_fds, int nfds,
    char **err)
{
	sigset_t set;
	struct sbuf env;
	int *keep;
	size_t nkeep = 0;

	if (upgrade_exe[0] == '\0' || upgrade_argv == NULL)
		return set_err(err, "the path of proxymgrd's binary is unknown");
	if (access(upgrade_exe, X_OK) == -1)
		return set_err(err, "%s: %s", upgrade_exe, strerror(errno));
	if (upgrade_probe(err) == -1)
		return -1;
	/* The pipes of every HAProxy, which must stay open across the exec. */
	keep = xcalloc(2 + 2 * h->nold, sizeof(*keep));
	keep[nkeep++] = h->out_fd;
	keep[nkeep++] = h->err_fd;
	/* PROTOCOL pid out err fingerprint pid:out:err,... fd,fd,... */
	sbuf_init(&env);
	sbuf_printf(&env, UPGRADE_PROTOCOL " %d %d %d %lu ", h->pid,
	    h->out_fd, h->err_fd, h->fingerprint);
	for (size_t i = 0; i < h->nold; i++) {
		sbuf_printf(&env, "%s%d:%d:%d", i ? "," : "", h->old[i].pid,
		    h->old[i].out_fd, h->old[i].err_fd);
		keep[nkeep++] = h->old[i].out_fd;
		keep[nkeep++] = h->old[i].err_fd;
	}
	sbuf_puts(&env, h->nold ? " " : "- ");
	for (int i = 0; i < nfds; i++)
		sbuf_printf(&env, "%s%d", i ? "," : "", listener_fds[i]);
	if (nfds == 0)
		sbuf_puts(&env, "-");
	for (int i = 0; i < nfds; i++)
		upgrade_set_cloexec(listener_fds[i], false);
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= 0)
			upgrade_set_cloexec(keep[i], false);
	setenv(UPGRADE_ENV, env.buf, 1);
	log_info("SIGUSR2: re-executing %s, handing over haproxy[%d] and %d "
	    "listen sockets", upgrade_exe, h->pid, nfds);
	upgrade_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	privs_raise_ambient();	/* the new proxymgrd binds as this one */
	execv(upgrade_exe, upgrade_argv);
	privs_clear_ambient();
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	/* Still here: nothing changed hands. */
	set_err(err, "cannot execute %s: %s", upgrade_exe, strerror(errno));
	unsetenv(UPGRADE_ENV);
	for (int i = 0; i < nfds; i++)
		upgrade_set_cloexec(listener_fds[i], true);
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= 0)
			upgrade_set_cloexec(keep[i], true);
	free(keep);
	sbuf_free(&env);
	return -1;
}

/* "a,b,c" or "-" into ints; returns the count. */
static size_t
upgrade_ints(const char *s, int **out)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	size_t n = 0;

	*out = NULL;
	if (strcmp(s, "-") != 0)
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char *end;
			long fd = strtol(tok, &end, 10);
			if (*end != '\0' || fd < 0 || fd > INT_MAX)
				continue;
			*out = xrealloc(*out, (n + 1) * sizeof(**out));
			(*out)[n++] = (int)fd;
		}
	free(copy);
	return n;
}

/* "pid:out:err,..." or "-". */
static size_t
upgrade_procs(const char *s, struct sup_handoff_proc **out)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	size_t n = 0;

	*out = NULL;
	if (strcmp(s, "-") != 0)
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			struct sup_handoff_proc p = { 0, -1, -1 };
			if (sscanf(tok, "%d:%d:%d", &p.pid, &p.out_fd,
			    &p.err_fd) < 1 || p.pid <= 0)
				continue;
			*out = xrealloc(*out, (n + 1) * sizeof(**out));
			(*out)[n++] = p;
		}
	free(copy);
	return n;
}

bool
upgrade_parse(const char *v, struct sup_handoff *h, int **listen_fds,
    size_t *nfds)
{
	char *copy, *f[7], *save = NULL, *end;
	int nf = 0;
	long pid, out, errfd;
	unsigned long fp;

	memset(h, 0, sizeof(*h));
	*listen_fds = NULL;
	*nfds = 0;
	copy = xstrdup(v);
	for (char *t = strtok_r(copy, " ", &save); t != NULL && nf < 7;
	    t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	if (nf != 7 || strcmp(f[0], UPGRADE_PROTOCOL) != 0 ||
	    (pid = strtol(f[1], &end, 10)) <= 0 || pid > INT_MAX ||
	    *end != '\0' ||
	    (out = strtol(f[2], &end, 10)) < -1 || out > INT_MAX ||
	    *end != '\0' ||
	    (errfd = strtol(f[3], &end, 10)) < -1 || errfd > INT_MAX ||
	    *end != '\0' ||
	    ((fp = strtoul(f[4], &end, 10)), *end != '\0')) {
		free(copy);
		return false;
	}
	h->pid = (int)pid;
	h->out_fd = (int)out;
	h->err_fd = (int)errfd;
	h->fingerprint = fp;
	h->nold = upgrade_procs(f[5], &h->old);
	*nfds = upgrade_ints(f[6], listen_fds);
	free(copy);
	return true;
}

bool
upgrade_take(struct sup_handoff *h)
{
	const char *v = getenv(UPGRADE_ENV);
	int *listen_fds;
	size_t nfds;

	memset(h, 0, sizeof(*h));
	if (v == NULL)
		return false;
	if (!upgrade_parse(v, h, &listen_fds, &nfds)) {
		log_warnx("%s='%s' is not a hand-over this proxymgrd reads: "
		    "starting afresh", UPGRADE_ENV, v);
		unsetenv(UPGRADE_ENV);
		return false;
	}
	for (size_t i = 0; i < nfds; i++)
		sdlisten_adopt(listen_fds[i], "upgrade");
	if (h->out_fd >= 0)
		upgrade_set_cloexec(h->out_fd, true);
	if (h->err_fd >= 0)
		upgrade_set_cloexec(h->err_fd, true);
	for (size_t i = 0; i < h->nold; i++) {
		if (h->old[i].out_fd >= 0)
			upgrade_set_cloexec(h->old[i].out_fd, true);
		if (h->old[i].err_fd >= 0)
			upgrade_set_cloexec(h->old[i].err_fd, true);
	}
	free(listen_fds);
	unsetenv(UPGRADE_ENV);
	log_info("upgraded in place: taking over haproxy[%d], %zu draining, "
	    "%zu listen sockets", h->pid, h->nold, nfds);
	return true;
}

void
upgrade_unblock_signals(void)
{
	sigset_t set;

	upgrade_signals(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}
