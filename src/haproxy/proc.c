#include "config.h"

#include <sys/pidfd.h>
#include <sys/wait.h>

#include <poll.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/listener.h"
#include "haproxy/proc.h"
#include "pmconfig.h"
#include "snapshot.h"
#include "util.h"

/* All HAProxy gets of proxymgrd's environment: PATH (external checks,
 * programs) and TZ (the time of its log lines). A service's option could
 * read any variable with env() or in a log format, and proxymgrd's may
 * hold secrets; HAPROXY_MWORKER_* and HAPROXY_PROCESSES would switch
 * HAProxy 2.6 into master-worker mode by their mere presence, and
 * NOTIFY_SOCKET and LISTEN_* are proxymgrd's own systemd protocol. */
static const char *const hap_proc_kept_env[] = { "PATH", "TZ", NULL };

/* Whether env (NAME=VALUE strings, or NULL) sets name. */
static bool
hap_proc_env_has(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return true;
	return false;
}

/* The environment for HAProxy: the kept variables, those of the
 * wrapper's --env-file (which may override them), and NAME=fd for each
 * named listener ("bind fd@${NAME}"). The strings are malloc'ed. */
static char **
hap_proc_env(const struct snapshot *snap)
{
	size_t out = 0, nextra = strv_len(snap->env);
	/* Room for the kept ones, the env file's, the named ones and the
	 * final NULL. */
	char **env = xcalloc(sizeof(hap_proc_kept_env) /
	    sizeof(hap_proc_kept_env[0]) + nextra + snap->nnamed,
	    sizeof(*env));
	const char *v;

	for (size_t i = 0; hap_proc_kept_env[i] != NULL; i++)
		if (!hap_proc_env_has(snap->env, hap_proc_kept_env[i]) &&
		    (v = getenv(hap_proc_kept_env[i])) != NULL)
			env[out++] = xasprintf("%s=%s", hap_proc_kept_env[i],
			    v);
	for (size_t i = 0; i < nextra; i++)
		env[out++] = xstrdup(snap->env[i]);
	for (size_t j = 0; j < snap->nnamed; j++)
		env[out++] = xasprintf("%s=%d", snap->named[j].name,
		    snap->named[j].child_fd);
	return env;
}

static void
hap_proc_maybe_done(struct hap_proc *p)
{
	if (--p->pending == 0 && p->on_done != NULL)
		p->on_done(p);
}

/* Lines every HAProxy prints at each start or soft-stop: debug, so that
 * the info log shows what changed rather than routine. */
static bool
hap_proc_routine(const char *line)
{
	return strstr(line, "stopped (cumulated conns:") != NULL ||
	    strstr(line, "haproxy version is ") != NULL ||
	    strstr(line, "path to executable is ") != NULL;
}

static void
hap_proc_line(struct hap_proc *p, const char *line)
{
	if (p->kind == HAP_PROC_CHECK) {
		sbuf_puts(&p->output, line);
		sbuf_puts(&p->output, "\n");
	} else if (line[0] == '\0')
		return;
	else if (hap_proc_routine(line))
		log_haproxy(LOG_LVL_DEBUG, p->pid, line);
	else if (strncmp(line, "[ALERT]", 7) == 0 ||
	    strncmp(line, "[WARNING]", 9) == 0)
		/* HAProxy's own severity, for whoever filters on level. */
		log_haproxy(LOG_LVL_WARNING, p->pid, line);
	else
		log_haproxy(LOG_LVL_INFO, p->pid, line);
}

static void
hap_proc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = xmalloc(suggested);
	buf->len = suggested;
}

static void
hap_proc_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct hap_proc *p = s->data;
	struct sbuf *part = &p->partial[(uv_pipe_t *)s == &p->out[0] ? 0 : 1];

	if (nread > 0) {
		sbuf_add(part, buf->base, (size_t)nread);
		char *start = part->buf, *nl;
		while ((nl = memchr(start, '\n', part->len -
		    (size_t)(start - part->buf))) != NULL) {
			*nl = '\0';
			hap_proc_line(p, start);
			start = nl + 1;
		}
		size_t rest = part->len - (size_t)(start - part->buf);
		memmove(part->buf, start, rest);
		part->len = rest;
		part->buf[rest] = '\0';
	}
	free(buf->base);
	if (nread < 0) {
		if (part->len > 0)
			hap_proc_line(p, part->buf);
		part->len = 0;
		uv_read_stop(s);
		hap_proc_maybe_done(p);
	}
}

static void
hap_proc_on_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct hap_proc *p = proc->data;

	p->exited = true;
	p->exit_status = status;
	p->term_signal = sig;
	hap_proc_maybe_done(p);
}

static void
hap_proc_on_close(uv_handle_t *h)
{
	struct hap_proc *p = h->data;

	if (--p->open_handles > 0)
		return;
	sbuf_free(&p->partial[0]);
	sbuf_free(&p->partial[1]);
	sbuf_free(&p->output);
	if (p->pidfd >= 0)
		close(p->pidfd);	/* pidfds are close-on-exec */
	free(p);
}

struct hap_proc *
hap_proc_spawn(uv_loop_t *loop, enum hap_proc_kind kind, const char *haproxy,
    const char *config_file, const struct snapshot *snap, const char *xfer,
    hap_proc_done_cb on_done, void *arg, char **err)
{
	struct hap_proc *p = xcalloc(1, sizeof(*p));
	char *const *extra = snap->cfg->haproxy_args;
	uv_process_options_t opt;
	uv_stdio_container_t *stdio;
	const char **args = xcalloc(12 + strv_len(extra), sizeof(*args));
	size_t nargs = 0, nstdio = SNAPSHOT_FIRST_FD + snap->n + snap->nnamed;
	char **env;
	int rc, outpipe[2][2];

	p->kind = kind;
	p->pidfd = -1;
	p->on_done = on_done;
	p->arg = arg;
	p->pending = 3;
	sbuf_init(&p->output);
	sbuf_init(&p->partial[0]);
	sbuf_init(&p->partial[1]);

	args[nargs++] = haproxy;
	if (kind == HAP_PROC_CHECK)
		args[nargs++] = "-c";
	if (snap->user_config != NULL) {
		/* The hand-written file first, then proxymgrd's part. */
		args[nargs++] = "-f";
		args[nargs++] = snap->user_config;
	}
	/* The wrapper's arguments after "--", as given: more -f, a
	 * directory, -L... */
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		args[nargs++] = extra[i];
	args[nargs++] = "-f";
	args[nargs++] = config_file;
	if (kind == HAP_PROC_RUN)
		args[nargs++] = "-db";	/* stay in the foreground, our child */
	/* HAProxy's own socket transfer for the binds it makes itself: the
	 * serving process's listeners, fetched over its stats socket
	 * (_getsocks), instead of new sockets beside them. */
	if (kind == HAP_PROC_RUN && xfer != NULL) {
		args[nargs++] = "-x";
		args[nargs++] = xfer;
	}
	args[nargs] = NULL;
	p->exposes_fds = snapshot_exposes_fds(snap);

	stdio = xcalloc(nstdio, sizeof(*stdio));
	stdio[0].flags = UV_IGNORE;
	/* Real pipes, not libuv's socketpairs: if proxymgrd dies, the one
	 * that takes HAProxy over opens /proc/PID/fd/2 for a new read end
	 * of the same pipe (takeover.c); a socketpair's end cannot be had
	 * again. */
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(loop, &p->out[i], 0);
		p->out[i].data = p;
		if (pipe2(outpipe[i], O_CLOEXEC) == -1) {
			outpipe[i][0] = outpipe[i][1] = -1;
			stdio[i + 1].flags = UV_IGNORE;
			continue;
		}
		uv_pipe_open(&p->out[i], outpipe[i][0]);
		stdio[i + 1].flags = UV_INHERIT_FD;
		stdio[i + 1].data.fd = outpipe[i][1];
	}
	p->open_handles = 2;
	/* libuv dup2()s each listener to its slot; dup2 clears CLOEXEC. */
	for (size_t i = 0; i < snap->n; i++) {
		stdio[snap->v[i]->child_fd].flags = UV_INHERIT_FD;
		stdio[snap->v[i]->child_fd].data.fd = snap->v[i]->listener->fd;
	}
	for (size_t i = 0; i < snap->nnamed; i++) {
		stdio[snap->named[i].child_fd].flags = UV_INHERIT_FD;
		stdio[snap->named[i].child_fd].data.fd =
		    snap->named[i].listener->fd;
	}

	env = hap_proc_env(snap);
	memset(&opt, 0, sizeof(opt));
	opt.file = haproxy;
	opt.args = (char **)args;
	opt.env = env;
	opt.stdio = stdio;
	opt.stdio_count = (int)nstdio;
	opt.exit_cb = hap_proc_on_exit;
	/* Its own session: a Ctrl-C or SIGTERM to proxymgrd's process group
	 * must not hard-stop HAProxy; proxymgrd soft-stops it itself. */
	opt.flags = UV_PROCESS_DETACHED;
	p->process.data = p;
	rc = uv_spawn(loop, &p->process, &opt);
	strv_free(env);
	free(stdio);
	free(args);
	for (int i = 0; i < 2; i++)
		if (outpipe[i][1] != -1)
			close(outpipe[i][1]);	/* HAProxy's end */
	if (rc < 0) {
		set_err(err, "cannot run %s: %s", haproxy, uv_strerror(rc));
		/* A failed uv_spawn still leaves the handle to be closed. */
		p->open_handles++;
		p->on_done = NULL;
		hap_proc_release(p);
		return NULL;
	}
	p->open_handles++;
	p->pid = p->process.pid;
	p->started_ms = now_ms();
	for (int i = 0; i < 2; i++) {
		if (outpipe[i][0] != -1)
			uv_read_start((uv_stream_t *)&p->out[i],
			    hap_proc_alloc, hap_proc_on_read);
		else
			p->pending--;	/* no output to wait for */
	}
	return p;
}

/* An adopted process: our child after an upgrade (reaped here, with its
 * status), or not our child after a takeover (its status is not ours to
 * know). */
static void
hap_proc_reap(struct hap_proc *p)
{
	int status;
	pid_t r;

	if (p->exited)
		return;
	r = waitpid(p->pid, &status, WNOHANG);
	if (r == 0 || (r == -1 && errno == EINTR))
		return;
	if (r == -1 && errno == ECHILD && p->pidfd >= 0) {
		/* Not our child: gone once its pidfd says so. */
		struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
		if (poll(&pfd, 1, 0) != 1)
			return;
		p->status_unknown = true;
	}
	p->exited = true;
	if (r == p->pid && WIFSIGNALED(status))
		p->term_signal = WTERMSIG(status);
	else if (r == p->pid)
		p->exit_status = WEXITSTATUS(status);
	if (uv_is_active((uv_handle_t *)&p->exit_poll))
		uv_poll_stop(&p->exit_poll);
	hap_proc_maybe_done(p);
}

static void
hap_proc_on_pidfd(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	hap_proc_reap(h->data);
}

struct hap_proc *
hap_proc_adopt(uv_loop_t *loop, int pid, int out_fd, int err_fd,
    hap_proc_done_cb on_done, void *arg)
{
	struct hap_proc *p = xcalloc(1, sizeof(*p));
	int fds[2] = { out_fd, err_fd };

	p->kind = HAP_PROC_RUN;
	p->adopted = true;
	p->pid = pid;
	p->on_done = on_done;
	p->arg = arg;
	p->started_ms = now_ms();
	p->pending = 3;
	sbuf_init(&p->output);
	sbuf_init(&p->partial[0]);
	sbuf_init(&p->partial[1]);
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(loop, &p->out[i], 0);
		p->out[i].data = p;
		if (fds[i] >= 0 && uv_pipe_open(&p->out[i], fds[i]) == 0)
			uv_read_start((uv_stream_t *)&p->out[i],
			    hap_proc_alloc, hap_proc_on_read);
		else {
			if (fds[i] >= 0)
				close(fds[i]);
			p->pending--;	/* no output to wait for */
		}
	}
	/* A pidfd follows the process whether it is our child (upgrade)
	 * or not (takeover), and signals it without the risk of a pid
	 * reused meanwhile. */
	p->pidfd = pidfd_open(pid, 0);
	p->exit_poll.data = p;
	if (p->pidfd >= 0) {
		uv_poll_init(loop, &p->exit_poll, p->pidfd);
		uv_poll_start(&p->exit_poll, UV_READABLE, hap_proc_on_pidfd);
		p->open_handles = 3;
		hap_proc_reap(p);	/* it may be gone already */
	} else {
		/* Gone already (ESRCH): nothing to follow. */
		p->open_handles = 2;
		p->exited = true;
		p->status_unknown = true;
		hap_proc_maybe_done(p);
	}
	return p;
}

void
hap_proc_fds(struct hap_proc *p, int *out_fd, int *err_fd)
{
	uv_os_fd_t fd;

	*out_fd = uv_fileno((uv_handle_t *)&p->out[0], &fd) == 0 ? fd : -1;
	*err_fd = uv_fileno((uv_handle_t *)&p->out[1], &fd) == 0 ? fd : -1;
}

int
hap_proc_signal(struct hap_proc *p, int sig)
{
	if (p->exited)
		return 0;
	if (p->adopted)
		return pidfd_send_signal(p->pidfd, sig, NULL, 0) == 0 ? 0 :
		    -errno;
	return uv_process_kill(&p->process, sig);
}

void
hap_proc_release(struct hap_proc *p)
{
	p->on_done = NULL;
	uv_close((uv_handle_t *)&p->out[0], hap_proc_on_close);
	uv_close((uv_handle_t *)&p->out[1], hap_proc_on_close);
	if (p->adopted && p->pidfd >= 0)
		uv_close((uv_handle_t *)&p->exit_poll, hap_proc_on_close);
	else if (!p->adopted)
		uv_close((uv_handle_t *)&p->process, hap_proc_on_close);
}

const char *
hap_proc_status(const struct hap_proc *p, char *buf, size_t len)
{
	if (p->status_unknown)
		snprintf(buf, len, "exit status unknown: not proxymgrd's "
		    "child");
	else if (p->term_signal != 0)
		snprintf(buf, len, "killed by signal %d (%s)", p->term_signal,
		    strsignal(p->term_signal));
	else
		snprintf(buf, len, "exit status %lld",
		    (long long)p->exit_status);
	return buf;
}
