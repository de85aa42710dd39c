/* Runtime-API batches (applier.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/proc.h"
#include "haproxy/procs.h"
#include "haproxy/runtime.h"
#include "haproxy/supervisor.h"
#include "pmconfig.h"
#include "snapshot.h"
#include "util.h"

#define APPLIER_WRITE_DELAY_MS	20
/* A write waits this many times as long as the last one took: at
 * 100,000 servers a write (text and fingerprint) takes a core for tens
 * of ms, and a stream of changes would keep one busy writing files that
 * the next batch makes stale. */
#define APPLIER_WRITE_SPACING	4

void
applier_init(struct supervisor *s)
{
	struct applier *a = &s->applier;

	uv_timer_init(s->loop, &a->write_timer);
	a->write_timer.data = s;
	s->open_handles++;
	a->rt = rt_new(s->loop);
}

void
applier_stop(struct supervisor *s)
{
	uv_timer_stop(&s->applier.write_timer);
	rt_reset(s->applier.rt);
}

void
applier_close(struct supervisor *s)
{
	/* A write in flight ends without touching the file or s. */
	s->applier.closed = true;
	rt_free(s->applier.rt);
	s->applier.rt = NULL;
	uv_close((uv_handle_t *)&s->applier.write_timer, sup_on_handle_close);
}

void
applier_reset(struct supervisor *s)
{
	rt_reset(s->applier.rt);
}

void
applier_forget_write(struct supervisor *s)
{
	s->applier.write_wanted = false;
}

/* haproxy.cfg of a live snapshot, written on a worker thread: at
 * 100,000 servers writing, fsyncing and fingerprinting megabytes would
 * hold up the loop, and the changes behind it, for tens of ms. */
struct applier_write {
	uv_work_t		 req;
	struct supervisor	*s;
	struct snapshot		*snap;	/* held */
	char			*tmp;
	char			*err;
	int			 rc;
	unsigned long		 fingerprint;
	uint64_t		 took_us;	/* on the worker */
};

static void
applier_write_work(uv_work_t *req)
{
	struct applier_write *w = req->data;
	uint64_t t = now_us();

	w->rc = snapshot_write_tmp(w->snap, w->tmp, &w->err);
	w->fingerprint = snapshot_fingerprint(w->snap);
	w->took_us = now_us() - t;
}

static void applier_on_write_timer(uv_timer_t *t);

static void
applier_on_unlinked(uv_fs_t *req)
{
	uv_fs_req_cleanup(req);
	free(req->data);
	free(req);
}

/* Removing megabytes frees their blocks: not on the loop's thread. */
static void
applier_unlink_later(uv_loop_t *loop, char *path)
{
	uv_fs_t *req = xcalloc(1, sizeof(*req));

	req->data = path;
	if (uv_fs_unlink(loop, req, path, applier_on_unlinked) != 0) {
		free(path);
		free(req);
	}
}

static void
applier_write_done(uv_work_t *req, int status)
{
	struct applier_write *w = req->data;
	struct supervisor *s = w->s;
	struct applier *a = &s->applier;
	char *err = NULL;

	a->writing = NULL;
	a->write_cost_ms = w->took_us / 1000;
	if (status != 0 || w->rc == -1) {
		if (!a->closed)
			log_warnx("runtime: %s", w->err ? w->err :
			    uv_strerror(status));
	} else if (a->closed || s->live != w->snap) {
		/* A reload or a later batch wrote or will write its own. */
		applier_unlink_later(s->loop, w->tmp);
		w->tmp = NULL;
	} else if (rename_durable(w->tmp, w->snap->cfg->config_path,
	    &err) == -1) {
		log_warnx("runtime: %s", err);
		free(err);
	} else if (s->state == SUP_IDLE && !s->live_in_doubt)
		/* Batches are not in flight now: what runs is live. */
		procs_record_known(s, w->fingerprint);
	snapshot_free(w->snap);
	free(w->tmp);
	free(w->err);
	free(w);
	if (!a->closed && a->write_wanted)
		applier_write_later(s);
}

static void
applier_on_write_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	struct applier *a = &s->applier;
	struct applier_write *w;

	/* A reload in flight writes the file itself; one write at a time
	 * (the one in flight calls again when it is done). */
	if (!a->write_wanted || s->live == NULL || a->writing != NULL ||
	    (!sup_idle(s) && s->state != SUP_APPLYING))
		return;
	a->write_wanted = false;
	w = xcalloc(1, sizeof(*w));
	w->req.data = w;
	w->s = s;
	w->snap = snapshot_hold(s->live);
	w->tmp = xasprintf("%s.tmp.%ld.w", s->live->cfg->config_path,
	    (long)getpid());
	if (uv_queue_work(s->loop, &w->req, applier_write_work,
	    applier_write_done) != 0) {
		/* Never for a valid loop and request; write it here then. */
		applier_write_work(&w->req);
		applier_write_done(&w->req, 0);
		return;
	}
	a->writing = w;
}

/* haproxy.cfg follows what HAProxy runs after runtime commands (no check
 * needed: rendered alike, and the next reload checks it), at most once
 * per APPLIER_WRITE_DELAY_MS (or APPLIER_WRITE_SPACING times as long as
 * the last write took), and never more than one write at a time: a
 * storm of batches is a write now and then. A restart writes the live
 * text itself. */
void
applier_write_later(struct supervisor *s)
{
	struct applier *a = &s->applier;

	a->write_wanted = true;
	if (a->writing == NULL &&
	    !uv_is_active((uv_handle_t *)&a->write_timer)) {
		uint64_t delay = APPLIER_WRITE_SPACING * a->write_cost_ms;
		uv_timer_start(&a->write_timer, applier_on_write_timer,
		    delay > APPLIER_WRITE_DELAY_MS ? delay :
		    APPLIER_WRITE_DELAY_MS, 0);
	}
}

static void applier_on_applied(void *arg, enum rt_status st, size_t applied,
    const char *why);

/* Send the plan's commands [from, phase_end). */
static void
applier_send_phase(struct supervisor *s, size_t from)
{
	struct applier *a = &s->applier;
	const struct pm_config *cfg = a->applying->cfg;

	if (rt_send(a->rt, cfg->socket_path, s->procs.current->pid,
	    &a->plan.v[from], a->phase_end - from,
	    (unsigned)cfg->runtime_timeout_ms, applier_on_applied, s) == -1)
		applier_on_applied(s, RT_NO_ANSWER, 0,
		    "runtime connection busy");
}

static void
applier_on_applied(void *arg, enum rt_status st, size_t applied,
    const char *why)
{
	struct supervisor *s = arg;
	struct applier *a = &s->applier;
	struct snapshot *next;

	a->applied += applied;
	if (st == RT_OK && s->state == SUP_APPLYING &&
	    a->phase_end < a->plan.n) {
		/* First phase answered right: now the retirements. */
		size_t from = a->phase_end;
		a->phase_end = a->plan.n;
		applier_send_phase(s, from);
		return;
	}
	applied = a->applied;
	next = a->applying;
	uint64_t t = now_us();
	double ms = (double)(t - a->start_us) / 1000.0;
	double live_ms = (double)(t - a->change_us) / 1000.0;

	a->applying = NULL;
	s->counters.rt_commands += applied;
	if (s->state != SUP_APPLYING) {
		snapshot_free(next);
		plan_free(&a->plan);
		return;
	}
	sup_record(s, HISTORY_RUNTIME, a->start_us, st == RT_OK ? NULL : why,
	    applied);
	if (st == RT_OK) {
		s->counters.rt_batches++;
		histogram_observe(&s->counters.change_runtime, live_ms / 1000.0);
		s->counters.servers_added += a->plan.servers_added;
		s->counters.servers_retired += a->plan.servers_retired;
		s->counters.servers_returned += a->plan.servers_returned;
		log_event(LOG_LVL_INFO, "runtime_batch", NULL, NULL,
		    "haproxy[%d] runtime: %zu commands in %.2f ms, live "
		    "%.2f ms after the change (planned in %.2f ms), servers "
		    "added %zu, retired %zu, returned %zu, no reload (%s)",
		    sup_current_pid(s), a->plan.n, ms, live_ms,
		    (double)a->plan_us / 1000.0,
		    a->plan.servers_added,
		    a->plan.servers_retired, a->plan.servers_returned,
		    sched_why(s, "change"));
		snapshot_free(s->live);
		s->live = next;
		applier_write_later(s);
	} else {
		s->counters.rt_failures++;
		/* Some commands may have been run: what HAProxy does is no
		 * longer known. The reload must happen, without the state
		 * of the servers that are in doubt. */
		s->live_in_doubt = true;
		log_event(LOG_LVL_WARNING, "runtime_failed", NULL,
		    plan_reason_name(st == RT_REFUSED ? PLAN_REFUSED :
		    PLAN_NO_ANSWER), "haproxy[%d] runtime: %s after %zu of %zu "
		    "commands; reloading instead", sup_current_pid(s), why,
		    applied, a->plan.n);
		snapshot_free(next);
		char *rwhy = xasprintf("runtime command failed: %s", why);
		sched_want_reload(s, st == RT_REFUSED ? PLAN_REFUSED :
		    PLAN_NO_ANSWER, rwhy);
		free(rwhy);
		/* The changes it carried are what the reload is for. */
		sched_requeue(s);
	}
	plan_free(&a->plan);
	sup_become_idle(s, SUP_EV_APPLIED);
}

void
applier_apply(struct supervisor *s)
{
	struct applier *a = &s->applier;
	struct snapshot *next;

	s->sched.change_wanted = false;
	a->change_us = sched_take(s);
	if (s->procs.current == NULL || s->live == NULL) {
		sched_want_reload(s, PLAN_START, s->live == NULL ? "start" :
		    "no HAProxy runs");
		goto requeue;
	}
	uint64_t t_plan = now_us();
	next = s->hooks.build(s->hooks.ctx, s->cfg, s->live, false);
	if (snapshot_same(next, s->live)) {
		log_debug("haproxy.cfg unchanged (%s): nothing to do",
		    sched_why(s, ""));
		snapshot_free(next);
		sched_done(s);
		return;
	}
	plan_build(&a->plan, s->live, next);
	if (a->plan.why != NULL) {
		sched_want_reload(s, a->plan.reason, a->plan.why);
		plan_free(&a->plan);
		snapshot_free(next);
		goto requeue;
	}
	if (a->plan.n == 0) {
		/* The text differs in nothing HAProxy acts on (a discovered
		 * weight that server_options overrides): it is what runs. */
		log_debug("haproxy.cfg changed, HAProxy runs it as it is (%s)",
		    sched_why(s, ""));
		plan_free(&a->plan);
		snapshot_free(s->live);
		s->live = next;
		applier_write_later(s);
		sched_done(s);
		return;
	}
	a->applying = next;
	sup_enter(s, SUP_EV_APPLY);
	a->start_us = now_us();
	a->plan_us = a->start_us - t_plan;
	log_debug("runtime: sending %zu commands to haproxy[%d]", a->plan.n,
	    s->procs.current->pid);
	a->applied = 0;
	a->phase_end = a->plan.first_phase > 0 ? a->plan.first_phase :
	    a->plan.n;
	procs_record(s, false);
	applier_send_phase(s, 0);
	return;
requeue:
	/* The reload carries the changes in its log line. */
	sched_requeue(s);
}
