/* The HAProxy processes (procs.h). */
#include "config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/proc.h"
#include "haproxy/stats.h"
#include "haproxy/supervisor.h"
#include "haproxy/takeover.h"
#include "orphans.h"
#include "pmconfig.h"
#include "snapshot.h"
#include "util.h"

#define PROCS_READY_POLL_MS	20
#define PROCS_RESTART_MIN_MS	100
#define PROCS_RESTART_MAX_MS	10000
#define PROCS_STABLE_MS		10000	/* ran this long: backoff resets */
#define PROCS_KILL_AFTER_MS	2000	/* SIGTERM, then SIGKILL */

void
procs_init(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	pr->restart_backoff_ms = PROCS_RESTART_MIN_MS;
	uv_timer_init(s->loop, &pr->ready_timer);
	uv_timer_init(s->loop, &pr->restart_timer);
	uv_timer_init(s->loop, &pr->stop_timer);
	pr->ready_timer.data = pr->restart_timer.data = s;
	pr->stop_timer.data = s;
	s->open_handles += 3;
}

void
procs_close(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	uv_close((uv_handle_t *)&pr->ready_timer, sup_on_handle_close);
	uv_close((uv_handle_t *)&pr->restart_timer, sup_on_handle_close);
	uv_close((uv_handle_t *)&pr->stop_timer, sup_on_handle_close);
}

bool
procs_none(const struct supervisor *s)
{
	const struct procs *pr = &s->procs;

	return pr->current == NULL && pr->starting == NULL &&
	    pr->checking == NULL && pr->old == NULL;
}

/* A new HAProxy was started and has not answered yet. */
static bool
procs_starting(const struct supervisor *s)
{
	return s->state == SUP_STARTING || s->state == SUP_RESTARTING ||
	    s->state == SUP_RETAKING;
}

/* The snapshot the starting HAProxy runs: the next one for a reload, the
 * live one again for a restart. */
static const struct snapshot *
procs_starting_snap(const struct supervisor *s)
{
	return s->state == SUP_STARTING || s->state == SUP_VERIFYING ?
	    s->next : s->live;
}

/* The backoff after restart_ms: it doubles, up to a bound. */
static int
procs_backoff_next(int restart_ms)
{
	return restart_ms >= PROCS_RESTART_MAX_MS / 2 ? PROCS_RESTART_MAX_MS :
	    restart_ms * 2;
}

/* Draining: it finishes the requests in flight, then exits. */
static void
procs_soft_stop(struct supervisor *s, struct hap_proc *p)
{
	p->soft_stopped = true;
	p->soft_stop_ms = now_ms();
	hap_proc_signal(p, SIGUSR1);
	p->next = s->procs.old;
	s->procs.old = p;
}

static bool
procs_unlink_old(struct supervisor *s, struct hap_proc *p)
{
	for (struct hap_proc **pp = &s->procs.old; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return true;
		}
	}
	return false;
}

/* Old processes drain their connections; bound how many may linger. */
static void
procs_cap_old(struct supervisor *s)
{
	int n = 0, max = s->cfg->max_old_processes;

	for (struct hap_proc *p = s->procs.old; p != NULL; p = p->next) {
		if (p->exited)
			continue;
		/* The list is newest first: everything past the cap is the
		 * oldest and is stopped hard. */
		if (++n > max && p->term_signal == 0) {
			log_warnx("haproxy[%d]: more than %d old processes are "
			    "draining, stopping the oldest now", p->pid, max);
			hap_proc_signal(p, SIGTERM);
		}
	}
}

static void procs_on_ready_timer(uv_timer_t *t);

int
procs_start(struct supervisor *s, const struct snapshot *snap, char **err)
{
	struct procs *pr = &s->procs;
	const struct pm_config *cfg = snap->cfg;

	/* Plain binds of a hand-written config get HAProxy's own socket
	 * transfer from the serving process, if it exposes its listeners
	 * (not one started by an older proxymgrd): without -x the new
	 * process binds beside it, and what waits in the old one's accept
	 * queue is reset when it stops. -x with no process answering would
	 * stop the new one: none after a crash. Asked where the serving one
	 * listens (a SIGHUP may have moved socket_path). */
	const char *xfer = snapshot_exposes_fds(snap) && pr->current != NULL &&
	    !pr->current->exited && pr->current->exposes_fds ?
	    (s->live != NULL ? s->live->cfg : s->cfg)->socket_path : NULL;

	pr->starting = hap_proc_spawn(s->loop, HAP_PROC_RUN, cfg->haproxy_path,
	    cfg->config_path, snap, xfer, procs_on_done, s, err);
	if (pr->starting == NULL)
		return -1;
	pr->start_deadline_ms = now_ms() + (uint64_t)cfg->start_timeout_ms;
	uv_timer_start(&pr->ready_timer, procs_on_ready_timer,
	    PROCS_READY_POLL_MS, PROCS_READY_POLL_MS);
	return 0;
}

void
procs_start_ok(struct supervisor *s)
{
	struct procs *pr = &s->procs;
	struct hap_proc *p = pr->starting;

	uv_timer_stop(&pr->ready_timer);
	pr->starting = NULL;
	s->live_in_doubt = false;
	/* A restart asked for while nothing ran (and the supervisor was
	 * busy) is done by this start: left set, it would show as pending
	 * forever, since it only acts with no process. */
	pr->restart_wanted = false;
	if (pr->current != NULL) {
		log_info("haproxy[%d] soft-stopped, draining its connections",
		    pr->current->pid);
		procs_soft_stop(s, pr->current);
	}
	pr->current = p;
	p->generation = ++pr->generations;
	p->serving_ms = now_ms();
	/* Runtime commands go to the new process from now on. */
	applier_reset(s);
	if (s->state == SUP_STARTING || s->state == SUP_VERIFYING)
		reload_commit(s);
	else {
		sup_record(s, HISTORY_RESTART, pr->restart_start_us, NULL, 0);
		log_info("haproxy[%d] serves (restart on the running "
		    "configuration)", p->pid);
	}
	procs_record(s, true);
	procs_cap_old(s);
	sup_become_idle(s, SUP_EV_SERVE);
}

void
procs_start_rejected(struct supervisor *s, const char *why)
{
	struct procs *pr = &s->procs;
	struct hap_proc *p = pr->starting;

	uv_timer_stop(&pr->ready_timer);
	pr->starting = NULL;
	log_warnx("new haproxy[%d] soft-stopped: %s", p->pid, why);
	procs_soft_stop(s, p);
}

/* A new HAProxy that did not come up (why): it is killed, haproxy.cfg
 * goes back to what runs, and a reload is given up; a restart that
 * failed waits for its backoff, or, if it was to retake the stats
 * socket, for the next reload. */
static void
procs_start_failed(struct supervisor *s, const char *why)
{
	struct procs *pr = &s->procs;
	struct hap_proc *p = pr->starting;
	char *err = NULL;

	uv_timer_stop(&pr->ready_timer);
	/* A reply for it must not be taken for the next one's. */
	stats_query_cancel(pr->ready_query);
	pr->ready_query = NULL;
	pr->starting = NULL;
	if (!p->exited) {
		hap_proc_signal(p, SIGKILL);
		p->soft_stopped = true;
		p->soft_stop_ms = now_ms();
		p->next = pr->old;
		pr->old = p;
	} else
		hap_proc_release(p);
	log_warnx("new haproxy[%d] %s", p->pid, why);
	if (s->live != NULL && snapshot_write(s->live,
	    s->live->cfg->config_path, &err) == -1) {
		log_warnx("%s", err);
		free(err);
	}
	if (s->state == SUP_RESTARTING || s->state == SUP_RETAKING) {
		sup_record(s, HISTORY_RESTART, pr->restart_start_us, why, 0);
		sup_enter(s, SUP_EV_FAIL);
		if (pr->current != NULL) {
			/* It was to take the stats socket back: the running
			 * HAProxy serves on, the next reload retakes it. */
			log_warnx("haproxy[%d] serves on; its stats socket comes "
			    "back with the next reload", pr->current->pid);
		} else {
			log_warnx("restarting it in %d ms",
			    pr->restart_backoff_ms);
			procs_restart_later(s);
		}
		sched_kick(s);
		return;
	}
	/* -c passed, so new settings are the likely cause (a socket that
	 * cannot be bound, a limit): go back to the proven ones. */
	reload_abandon(s, "the new HAProxy did not come up",
	    "the new HAProxy did not start");
}

static void
procs_on_ready_reply(int status, const char *reply, void *arg)
{
	struct supervisor *s = arg;
	struct procs *pr = &s->procs;

	pr->ready_query = NULL;
	if (!procs_starting(s) || pr->starting == NULL || status != 0)
		return;
	if (stats_info_pid(reply) != pr->starting->pid)
		return;
	/* A restart runs the live snapshot, verified when it started; with
	 * no service there is nothing to verify. */
	if (s->state != SUP_STARTING || s->next->n == 0) {
		procs_start_ok(s);
		return;
	}
	sup_enter(s, SUP_EV_ANSWER);
	reload_verify(s);
}

/* Poll the stats socket until the new HAProxy answers with its own pid
 * (it takes the socket path over once it is up), or the start timeout of
 * what it runs has passed. */
static void
procs_on_ready_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	struct procs *pr = &s->procs;
	const struct pm_config *cfg;
	char *why;

	if (!procs_starting(s) || pr->ready_query != NULL)
		return;
	cfg = procs_starting_snap(s)->cfg;
	if (now_ms() > pr->start_deadline_ms) {
		why = xasprintf("did not answer on %s within %d ms",
		    cfg->socket_path, cfg->start_timeout_ms);
		procs_start_failed(s, why);
		free(why);
		return;
	}
	pr->ready_query = stats_query(s->loop, cfg->socket_path, "show info",
	    1000, procs_on_ready_reply, s);
}

/* Start a HAProxy on the live snapshot again, after a crash (timer armed
 * by procs_restart_later) or to take the stats socket back (retake, armed
 * by procs_retake_later); either waits until nothing is in flight. */
static void
procs_restart(struct supervisor *s, bool retake)
{
	struct procs *pr = &s->procs;

	if (!sup_idle(s) || (pr->current != NULL && !retake)) {
		pr->restart_wanted = pr->current == NULL;
		return;
	}
	if (s->live == NULL) {
		/* Nothing ever started: try the whole reload again. */
		sched_want_reload(s, PLAN_START, "retrying the first start");
		return;
	}
	const struct pm_config *cfg = s->live->cfg;
	char *err = NULL;
	/* What the dead process knew of its servers is lost with it. */
	reload_write_state(s->live, "1\n");
	/* The file on disk may hold a config that failed; put back the
	 * one the live snapshot was checked with. */
	if (snapshot_write(s->live, cfg->config_path, &err) == -1) {
		log_warnx("restart: %s", err);
		free(err);
	}
	s->counters.restarts++;
	pr->restart_start_us = now_us();
	if (procs_start(s, s->live, &err) == -1) {
		log_warnx("restart: %s", err);
		free(err);
		procs_restart_later(s);
		return;
	}
	if (pr->current != NULL) {
		log_info("haproxy[%d] started on the running configuration to "
		    "take %s back", pr->starting->pid, cfg->socket_path);
		sup_enter(s, SUP_EV_RETAKE);
	} else {
		log_info("haproxy[%d] started to replace the one that died",
		    pr->starting->pid);
		sup_enter(s, SUP_EV_RESTART);
	}
}

static void
procs_on_restart_timer(uv_timer_t *t)
{
	procs_restart(t->data, false);
}

static void
procs_on_retake_timer(uv_timer_t *t)
{
	procs_restart(t->data, true);
}

void
procs_restart_later(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	uv_timer_start(&pr->restart_timer, procs_on_restart_timer,
	    (uint64_t)pr->restart_backoff_ms, 0);
	pr->restart_backoff_ms = procs_backoff_next(pr->restart_backoff_ms);
}

void
procs_retake_later(struct supervisor *s)
{
	uv_timer_start(&s->procs.restart_timer, procs_on_retake_timer, 0, 0);
}

bool
procs_restart_wanted(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	if (!pr->restart_wanted || pr->current != NULL)
		return false;
	pr->restart_wanted = false;
	uv_timer_start(&pr->restart_timer, procs_on_restart_timer, 0, 0);
	return true;
}

void
procs_on_done(struct hap_proc *p)
{
	struct supervisor *s = p->arg;
	struct procs *pr = &s->procs;
	char status[64], *why;

	if (p->kind == HAP_PROC_CHECK) {
		pr->checking = NULL;
		if (s->state == SUP_STOPPING) {
			hap_proc_release(p);
			sup_maybe_stopped(s);
			return;
		}
		reload_check_done(s, p);
		return;
	}
	hap_proc_status(p, status, sizeof(status));
	if (s->state == SUP_STOPPING) {
		if (p == pr->starting)
			pr->starting = NULL;
		else if (p == pr->current)
			pr->current = NULL;
		else
			procs_unlink_old(s, p);
		log_info("haproxy[%d] stopped (%s)", p->pid, status);
		hap_proc_release(p);
		sup_maybe_stopped(s);
		return;
	}
	if (p == pr->starting) {
		why = xasprintf("exited (%s) before it was ready", status);
		procs_start_failed(s, why);
		free(why);
	} else if (p == pr->current) {
		uint64_t ran = now_ms() - p->started_ms;
		pr->current = NULL;
		hap_proc_release(p);
		if (ran >= PROCS_STABLE_MS)
			pr->restart_backoff_ms = PROCS_RESTART_MIN_MS;
		log_warnx("haproxy[%d] died unexpectedly (%s); restarting it "
		    "in %d ms on the same sockets", p->pid, status,
		    pr->restart_backoff_ms);
		procs_restart_later(s);
	} else if (procs_unlink_old(s, p)) {
		double drained = (double)(now_ms() - p->soft_stop_ms) / 1000.0;
		/* HAProxy 2.6.12 now and then segfaults as it exits after a
		 * soft-stop; the signal was not ours, so say so louder. */
		if (p->term_signal != 0 && p->term_signal != SIGTERM &&
		    p->term_signal != SIGKILL)
			log_warnx("haproxy[%d] crashed while draining after "
			    "%.1f s (%s)", p->pid, drained, status);
		else
			log_info("haproxy[%d] finished draining after %.1f s "
			    "(%s)", p->pid, drained, status);
		hap_proc_release(p);
	} else
		hap_proc_release(p);
	sup_maybe_stopped(s);
}

static void
procs_signal_all(struct supervisor *s, int sig)
{
	struct procs *pr = &s->procs;

	if (pr->current != NULL)
		hap_proc_signal(pr->current, sig);
	if (pr->starting != NULL)
		hap_proc_signal(pr->starting, sig);
	for (struct hap_proc *p = pr->old; p != NULL; p = p->next)
		hap_proc_signal(p, sig);
}

static void
procs_on_stop_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	struct procs *pr = &s->procs;

	if (!pr->hard_kill_sent) {
		log_warnx("HAProxy still draining after %d ms: stopping it now",
		    s->cfg->stop_timeout_ms);
		procs_signal_all(s, SIGTERM);
		pr->hard_kill_sent = true;
		uv_timer_start(&pr->stop_timer, procs_on_stop_timer,
		    PROCS_KILL_AFTER_MS, 0);
	} else
		procs_signal_all(s, SIGKILL);
}

void
procs_stop(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	uv_timer_stop(&pr->ready_timer);
	uv_timer_stop(&pr->restart_timer);
	stats_query_cancel(pr->ready_query);
	pr->ready_query = NULL;
	if (pr->checking != NULL)
		hap_proc_signal(pr->checking, SIGKILL);
	if (pr->starting != NULL)
		hap_proc_signal(pr->starting, SIGTERM);
	/* SIGUSR1: finish the requests in flight, then exit. */
	procs_signal_all(s, SIGUSR1);
	uv_timer_start(&pr->stop_timer, procs_on_stop_timer,
	    (uint64_t)s->cfg->stop_timeout_ms, 0);
}

void
procs_stop_now(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	procs_signal_all(s, SIGTERM);
	pr->hard_kill_sent = true;	/* the stop timer sends SIGKILL next */
	uv_timer_start(&pr->stop_timer, procs_on_stop_timer,
	    PROCS_KILL_AFTER_MS, 0);
}

void
procs_record(struct supervisor *s, bool known)
{
	procs_record_known(s, known && s->live != NULL ?
	    snapshot_fingerprint(s->live) : 0);
}

void
procs_record_known(struct supervisor *s, unsigned long fp)
{
	struct procs *pr = &s->procs;
	int pid = sup_current_pid(s);

	if (pid == pr->record_pid && fp == pr->record_fp)
		return;
	if (pid != pr->record_pid && pid > 0 && pr->pidfile != NULL) {
		char buf[32], *err = NULL;
		int n = snprintf(buf, sizeof(buf), "%d\n", pid);
		/* Readable by all, as HAProxy's own -p file is. */
		if (write_file_atomic_mode(pr->pidfile, buf, (size_t)n, 0644,
		    &err) == -1) {
			log_warnx("%s", err);
			free(err);
		}
	}
	takeover_record(s->cfg, pid, fp);
	pr->record_pid = pid;
	pr->record_fp = fp;
}

void
procs_handoff(struct supervisor *s, struct sup_handoff *h)
{
	struct procs *pr = &s->procs;

	h->pid = pr->current->pid;
	hap_proc_fds(pr->current, &h->out_fd, &h->err_fd);
	for (struct hap_proc *p = pr->old; p != NULL; p = p->next) {
		if (p->exited)
			continue;
		h->old = xrealloc(h->old, (h->nold + 1) * sizeof(*h->old));
		h->old[h->nold].pid = p->pid;
		hap_proc_fds(p, &h->old[h->nold].out_fd,
		    &h->old[h->nold].err_fd);
		h->nold++;
	}
}

/* Whether the config an adopted HAProxy was started with (proxymgrd's
 * part, as on disk) exposes its listeners: one an older proxymgrd
 * started does not, and a -x against it would stop the new process. */
static bool
procs_config_exposes(const char *path)
{
	char *text = read_file(path, READ_FILE_CONFIG_MAX, NULL, NULL);
	bool yes = text != NULL && strstr(text, " expose-fd listeners\n");

	free(text);
	return yes;
}

/* Follow a HAProxy this proxymgrd did not start. One that is gone
 * already (and has no output left to read) is reported by hap_proc_adopt
 * before it returns, to procs_on_done, which releases a process it does
 * not know yet: NULL then, and it must not be linked anywhere. */
static struct hap_proc *
procs_follow(struct supervisor *s, int pid, int out_fd, int err_fd)
{
	struct hap_proc *p = hap_proc_adopt(s->loop, pid, out_fd, err_fd,
	    procs_on_done, s);

	if (p->on_done != NULL)		/* hap_proc_release clears it */
		return p;
	log_info("haproxy[%d] is gone already", pid);
	return NULL;
}

void
procs_adopt(struct supervisor *s, const struct sup_handoff *h)
{
	struct procs *pr = &s->procs;

	for (size_t i = 0; i < h->nold; i++) {
		struct hap_proc *p = procs_follow(s, h->old[i].pid,
		    h->old[i].out_fd, h->old[i].err_fd);
		if (p == NULL)
			continue;
		p->soft_stopped = true;
		p->soft_stop_ms = now_ms();
		p->next = pr->old;
		pr->old = p;
	}
	if (h->pid <= 0)
		return;
	pr->current = procs_follow(s, h->pid, h->out_fd, h->err_fd);
	if (pr->current == NULL)
		return;
	pr->current->exposes_fds = procs_config_exposes(s->cfg->config_path);
	pr->adopted_fingerprint = h->fingerprint;
	log_info("haproxy[%d] adopted from the replaced proxymgrd, with %zu "
	    "draining", h->pid, h->nold);
}

bool
procs_adopt_live(struct supervisor *s)
{
	struct procs *pr = &s->procs;

	if (pr->current == NULL || s->live != NULL)
		return false;
	if (snapshot_fingerprint(s->next) != pr->adopted_fingerprint) {
		log_info("haproxy[%d] runs another configuration than the one "
		    "built now: reloading it (on the same sockets)",
		    pr->current->pid);
		return false;
	}
	s->live = s->next;
	s->next = NULL;
	log_info("haproxy[%d] runs the current configuration: adopted "
	    "without a reload", pr->current->pid);
	procs_record(s, true);
	if (s->hooks.committed != NULL)
		s->hooks.committed(s->hooks.ctx);
	return true;
}

static bool
procs_knows_pid(const struct supervisor *s, int pid)
{
	const struct procs *pr = &s->procs;

	if ((pr->current != NULL && pr->current->pid == pid) ||
	    (pr->starting != NULL && pr->starting->pid == pid))
		return true;
	for (const struct hap_proc *p = pr->old; p != NULL; p = p->next)
		if (p->pid == pid)
			return true;
	return false;
}

size_t
procs_adopt_strays(struct supervisor *s)
{
	int pids[64];
	size_t n, strays = 0;

	n = orphans_find(s->cfg->config_path, pids, 64);
	for (size_t i = 0; i < n; i++) {
		if (procs_knows_pid(s, pids[i]))
			continue;
		struct hap_proc *p = procs_follow(s, pids[i], -1, -1);
		if (p == NULL)
			continue;
		log_warnx("haproxy[%d] runs %s but this proxymgrd neither started "
		    "nor took it over (the one that died spawned it as it "
		    "died): soft-stopped", pids[i], s->cfg->config_path);
		procs_soft_stop(s, p);
		strays++;
	}
	if (strays > 0)
		procs_cap_old(s);
	return strays;
}
