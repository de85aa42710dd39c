#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/supervisor.h"
#include "log.h"
#include "sdlisten.h"
#include "upgrade.h"
#include "util.h"

#define UPGRADE_ENV	"PROXYMGRD_UPGRADE"

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

int
upgrade_exec(const struct sup_handoff *h, const int *listener_fds, int nfds,
    char **err)
{
	struct sbuf env;
	int keep[2] = { h->out_fd, h->err_fd };

	if (upgrade_exe[0] == '\0' || upgrade_argv == NULL)
		return set_err(err, "the path of proxymgrd's binary is unknown");
	if (access(upgrade_exe, X_OK) == -1)
		return set_err(err, "%s: %s", upgrade_exe, strerror(errno));
	/* v1 pid out err hash old,old,... fd,fd,... */
	sbuf_init(&env);
	sbuf_printf(&env, "1 %d %d %d %lu ", h->pid, h->out_fd, h->err_fd,
	    h->user_hash);
	for (size_t i = 0; i < h->nold; i++)
		sbuf_printf(&env, "%s%d", i ? "," : "", h->old_pids[i]);
	sbuf_puts(&env, h->nold ? " " : "- ");
	for (int i = 0; i < nfds; i++)
		sbuf_printf(&env, "%s%d", i ? "," : "", listener_fds[i]);
	if (nfds == 0)
		sbuf_puts(&env, "-");
	for (int i = 0; i < nfds; i++)
		upgrade_set_cloexec(listener_fds[i], false);
	for (int i = 0; i < 2; i++)
		if (keep[i] >= 0)
			upgrade_set_cloexec(keep[i], false);
	setenv(UPGRADE_ENV, env.buf, 1);
	log_info("SIGUSR2: re-executing %s, handing over haproxy[%d] and %d "
	    "listen sockets", upgrade_exe, h->pid, nfds);
	execv(upgrade_exe, upgrade_argv);
	/* Still here: nothing changed hands. */
	set_err(err, "cannot execute %s: %s", upgrade_exe, strerror(errno));
	unsetenv(UPGRADE_ENV);
	for (int i = 0; i < nfds; i++)
		upgrade_set_cloexec(listener_fds[i], true);
	for (int i = 0; i < 2; i++)
		if (keep[i] >= 0)
			upgrade_set_cloexec(keep[i], true);
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
			*out = xrealloc(*out, (n + 1) * sizeof(**out));
			(*out)[n++] = atoi(tok);
		}
	free(copy);
	return n;
}

bool
upgrade_take(struct sup_handoff *h)
{
	const char *v = getenv(UPGRADE_ENV);
	char olds[4096], fds[4096];
	int version, *listen_fds = NULL;
	size_t nfds;

	memset(h, 0, sizeof(*h));
	if (v == NULL)
		return false;
	if (sscanf(v, "%d %d %d %d %lu %4095s %4095s", &version, &h->pid,
	    &h->out_fd, &h->err_fd, &h->user_hash, olds, fds) != 7 ||
	    version != 1) {
		log_warnx("%s='%s' is not a hand-over this proxymgrd reads: "
		    "starting afresh", UPGRADE_ENV, v);
		unsetenv(UPGRADE_ENV);
		memset(h, 0, sizeof(*h));
		return false;
	}
	h->nold = upgrade_ints(olds, &h->old_pids);
	nfds = upgrade_ints(fds, &listen_fds);
	for (size_t i = 0; i < nfds; i++)
		sdlisten_adopt(listen_fds[i], "upgrade");
	for (int fd = 0; fd < 2; fd++) {
		int f = fd == 0 ? h->out_fd : h->err_fd;
		if (f >= 0)
			upgrade_set_cloexec(f, true);
	}
	free(listen_fds);
	unsetenv(UPGRADE_ENV);
	log_info("upgraded in place: taking over haproxy[%d], %zu draining, "
	    "%zu listen sockets", h->pid, h->nold, nfds);
	return true;
}
