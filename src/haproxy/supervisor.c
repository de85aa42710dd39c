#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/check_report.h"
#include "haproxy/listener.h"
#include "haproxy/planner.h"
#include "haproxy/proc.h"
#include "haproxy/runtime.h"
#include "haproxy/stats.h"
#include "haproxy/supervisor.h"
#include "haproxy/takeover.h"
#include "haproxy/verify.h"
#include "orphans.h"
#include "pmconfig.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

#define SUP_READY_POLL_MS	20
#define SUP_RESTART_MIN_MS	100
#define SUP_RESTART_MAX_MS	10000
#define SUP_STABLE_MS		10000	/* ran this long: backoff resets */
#define SUP_CHECK_ATTEMPTS	3
#define SUP_REASONS_MAX		400

static void sup_schedule(struct supervisor *s);
static void sup_begin_check(struct supervisor *s);
static void sup_on_proc_done(struct hap_proc *p);
static void sup_soft_stop(struct supervisor *s, struct hap_proc *p);
static void sup_cap_old(struct supervisor *s);
static void sup_ready_poll_start(struct supervisor *s);
static void sup_restart_later(struct supervisor *s);
static void sup_maybe_stopped(struct supervisor *s);
static void sup_write_empty_state(struct supervisor *s);
static void sup_become_idle(struct supervisor *s);
static void sup_write_later(struct supervisor *s);

static char *
sup_new_path(const struct supervisor *s)
{
	return xasprintf("%s.new", s->cfg->config_path);
}

void
sup_init(struct supervisor *s, uv_loop_t *loop, const struct pm_config *cfg,
    const struct sup_hooks *hooks)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfg = cfg;
	s->hooks = *hooks;
	s->restart_backoff_ms = SUP_RESTART_MIN_MS;
	uv_timer_init(loop, &s->reload_timer);
	uv_timer_init(loop, &s->ready_timer);
	uv_timer_init(loop, &s->restart_timer);
	uv_timer_init(loop, &s->stop_timer);
	uv_timer_init(loop, &s->write_timer);
	s->reload_timer.data = s->ready_timer.data = s;
	s->restart_timer.data = s->stop_timer.data = s;
	s->write_timer.data = s;
	s->open_timers = 5;
	s->rt = rt_new(loop);
}

void
sup_set_config(struct supervisor *s, const struct pm_config *cfg)
{
	s->cfg = cfg;
}

int
sup_current_pid(const struct supervisor *s)
{
	return s->current ? s->current->pid : 0;
}

/* The serving record names the HAProxy that serves and what it runs, for
 * a proxymgrd that takes it over after this one died (takeover.h);
 * known false while a runtime batch may have changed it halfway. */
static void
sup_record(struct supervisor *s, bool known)
{
	int pid = sup_current_pid(s);
	unsigned long fp = known && s->live != NULL ?
	    sup_snapshot_fingerprint(s->live) : 0;

	if (pid == s->record_pid && fp == s->record_fp)
		return;
	takeover_record(s->cfg, pid, fp);
	s->record_pid = pid;
	s->record_fp = fp;
}

static void
sup_append(char **list, const char *why)
{
	if (*list == NULL)
		*list = xstrdup(why);
	else if (strlen(*list) < SUP_REASONS_MAX) {
		char *r = xasprintf("%s; %s", *list, why);
		free(*list);
		*list = r;
	} else if (strstr(*list, "; ...") == NULL) {
		char *r = xasprintf("%s; ...", *list);
		free(*list);
		*list = r;
	}
}

void
sup_request_change(struct supervisor *s, const char *why, uint64_t since_us)
{
	if (s->state == SUP_STOPPING)
		return;
	if (s->change_since_us == 0 || since_us < s->change_since_us)
		s->change_since_us = since_us;
	sup_append(&s->reasons, why);
	s->change_wanted = true;
	sup_schedule(s);
}

/* The first reason of a reload is the one it is counted under. */
static void
sup_want_reload(struct supervisor *s, enum plan_reason r, const char *why)
{
	if (!s->reload_wanted) {
		s->reload_wanted = true;
		s->reload_since_ms = now_ms();
		s->reload_reason = r;
		free(s->reload_why);
		s->reload_why = xstrdup(why);
	}
	sup_schedule(s);
}

static const char *const sup_state_names[] = {
	[SUP_IDLE] = "idle", [SUP_APPLYING] = "applying a runtime batch",
	[SUP_CHECKING] = "checking a config", [SUP_SAVING] = "saving "
	"server state", [SUP_STARTING] = "starting HAProxy",
	[SUP_STOPPING] = "stopping",
};

/* "idle", or what is in flight and what waits: tests and operators wait
 * for idle instead of guessing how long a change takes. */
static void
sup_describe_activity(const struct supervisor *s, struct sbuf *sb)
{
	const char *sep = "";

	if (s->state == SUP_IDLE && !s->reload_wanted && !s->change_wanted &&
	    !s->write_wanted && !s->restart_wanted) {
		sbuf_printf(sb, "idle");
		return;
	}
	sbuf_printf(sb, "busy (");
	if (s->state != SUP_IDLE) {
		sbuf_printf(sb, "%s", sup_state_names[s->state]);
		sep = ", ";
	}
	if (s->reload_wanted) {
		sbuf_printf(sb, "%sreload pending", sep);
		sep = ", ";
	}
	if (s->change_wanted) {
		sbuf_printf(sb, "%schanges pending", sep);
		sep = ", ";
	}
	if (s->restart_wanted) {
		sbuf_printf(sb, "%srestart pending", sep);
		sep = ", ";
	}
	if (s->write_wanted)
		sbuf_printf(sb, "%shaproxy.cfg write pending", sep);
	sbuf_printf(sb, ")");
}

void
sup_log_counters(const struct supervisor *s)
{
	const struct sup_counters *c = &s->counters;
	struct sbuf sb, activity;

	sbuf_init(&activity);
	sup_describe_activity(s, &activity);
	sbuf_init(&sb);
	for (int r = PLAN_START; r < PLAN_REASONS; r++)
		sbuf_printf(&sb, "%s%s %llu", r == PLAN_START ? "" : ", ",
		    plan_reason_name((enum plan_reason)r),
		    (unsigned long long)c->reloads_by[r]);
	log_info("counters: runtime batches %llu, commands %llu, failed "
	    "batches %llu; servers added %llu, retired %llu, returned %llu; "
	    "reloads %llu (%s); failed reloads %llu; restarts %llu; now %s",
	    (unsigned long long)c->rt_batches,
	    (unsigned long long)c->rt_commands,
	    (unsigned long long)c->rt_failures,
	    (unsigned long long)c->servers_added,
	    (unsigned long long)c->servers_retired,
	    (unsigned long long)c->servers_returned,
	    (unsigned long long)c->reloads, sb.buf,
	    (unsigned long long)c->reload_failures,
	    (unsigned long long)c->restarts, activity.buf);
	sbuf_free(&sb);
	sbuf_free(&activity);
}

static void
sup_begin_reload(struct supervisor *s)
{
	s->reload_wanted = false;
	s->change_wanted = false;	/* the reload builds from the model */
	free(s->cur_reasons);
	if (s->reasons != NULL)
		s->cur_reasons = xasprintf("%s [%s]; changes: %s",
		    s->reload_why, plan_reason_name(s->reload_reason),
		    s->reasons);
	else
		s->cur_reasons = xasprintf("%s [%s]", s->reload_why,
		    plan_reason_name(s->reload_reason));
	s->cur_reason = s->reload_reason;
	free(s->reasons);
	s->reasons = NULL;
	s->check_attempts = 0;
	s->last_reload_ms = now_ms();
	s->write_wanted = false;	/* the reload writes the file */
	sup_begin_check(s);
}

static void sup_apply_changes(struct supervisor *s);

static void
sup_on_reload_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;

	if (s->state != SUP_IDLE)
		return;
	if (s->reload_wanted) {
		uint64_t now = now_ms();
		/* The timer may have been set for a change before the
		 * reload was wanted: keep the reload's own time. */
		if (now < s->reload_due_ms) {
			uv_timer_start(&s->reload_timer, sup_on_reload_timer,
			    s->reload_due_ms - now, 0);
			return;
		}
		sup_begin_reload(s);
	} else if (s->change_wanted)
		sup_apply_changes(s);
}

/* Reloads wait debounce_ms from the first change that needs one (a
 * burst is one reload), and at most one per min_interval_ms, with up to
 * 10% of jitter so that a fleet does not reload in lockstep. Changes
 * that need no reload are planned at the next turn of the loop. */
static void
sup_schedule(struct supervisor *s)
{
	uint64_t now = now_ms(), at, delay = 0;
	uint64_t interval = (uint64_t)s->cfg->min_interval_ms;

	if (s->state != SUP_IDLE || (!s->reload_wanted && !s->change_wanted))
		return;
	if (s->reload_wanted) {
		at = s->reload_since_ms + (uint64_t)s->cfg->debounce_ms;
		if (at > now)
			delay = at - now;
		if (s->live != NULL) {
			at = s->last_reload_ms + interval;
			if (at > now && at - now > delay)
				delay = at - now + (uint64_t)rand() %
				    (interval / 10 + 1);
		}
		s->reload_due_ms = now + delay;
	}
	if (uv_is_active((uv_handle_t *)&s->reload_timer) &&
	    uv_timer_get_due_in(&s->reload_timer) <= delay)
		return;
	uv_timer_start(&s->reload_timer, sup_on_reload_timer, delay, 0);
}

#define SUP_WRITE_DELAY_MS	20

static void
sup_on_write_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	char *err = NULL;

	/* A reload in flight writes the file itself. */
	if (!s->write_wanted || s->live == NULL || (s->state != SUP_IDLE &&
	    s->state != SUP_APPLYING))
		return;
	s->write_wanted = false;
	if (write_file_atomic(s->cfg->config_path, s->live->text,
	    strlen(s->live->text), &err) == -1) {
		log_warnx("runtime: %s", err);
		free(err);
	}
	/* Batches are not in flight now: what runs is live. */
	if (s->state == SUP_IDLE && !s->rt_dirty)
		sup_record(s, true);
}

/* haproxy.cfg follows what HAProxy runs after runtime commands (no check
 * needed: rendered alike, and the next reload checks it), at most once
 * per SUP_WRITE_DELAY_MS: the write fsyncs, which would hold up the loop
 * at every batch of a storm. A restart writes the live text itself. */
static void
sup_write_later(struct supervisor *s)
{
	s->write_wanted = true;
	if (!uv_is_active((uv_handle_t *)&s->write_timer))
		uv_timer_start(&s->write_timer, sup_on_write_timer,
		    SUP_WRITE_DELAY_MS, 0);
}

static void sup_on_applied(void *arg, enum rt_status st, size_t applied,
    const char *why);

/* Send the plan's commands [from, s->phase_end). */
static void
sup_send_phase(struct supervisor *s, size_t from)
{
	if (rt_send(s->rt, s->cfg->socket_path, s->current->pid,
	    &s->plan.v[from], s->phase_end - from,
	    (unsigned)s->cfg->runtime_timeout_ms, sup_on_applied, s) == -1)
		sup_on_applied(s, RT_NO_ANSWER, 0, "runtime connection busy");
}

static void
sup_on_applied(void *arg, enum rt_status st, size_t applied, const char *why)
{
	struct supervisor *s = arg;
	struct snapshot *next;

	s->applied += applied;
	if (st == RT_OK && s->state == SUP_APPLYING &&
	    s->phase_end < s->plan.n) {
		/* First phase answered right: now the retirements. */
		size_t from = s->phase_end;
		s->phase_end = s->plan.n;
		sup_send_phase(s, from);
		return;
	}
	applied = s->applied;
	next = s->applying;
	uint64_t t = now_us();
	double ms = (double)(t - s->apply_start_us) / 1000.0;
	double live_ms = (double)(t - s->cur_change_since_us) / 1000.0;

	s->applying = NULL;
	s->counters.rt_commands += applied;
	if (s->state != SUP_APPLYING) {
		snapshot_free(next);
		plan_free(&s->plan);
		return;
	}
	if (st == RT_OK) {
		s->counters.rt_batches++;
		s->counters.servers_added += s->plan.servers_added;
		s->counters.servers_retired += s->plan.servers_retired;
		s->counters.servers_returned += s->plan.servers_returned;
		log_info("haproxy[%d] runtime: %zu commands in %.2f ms, live "
		    "%.2f ms after the change (planned in %.2f ms), servers "
		    "added %zu, retired %zu, returned %zu, no reload (%s)",
		    sup_current_pid(s), s->plan.n, ms, live_ms,
		    (double)s->plan_us / 1000.0,
		    s->plan.servers_added,
		    s->plan.servers_retired, s->plan.servers_returned,
		    s->cur_reasons ? s->cur_reasons : "change");
		snapshot_free(s->live);
		s->live = next;
		sup_write_later(s);
	} else {
		s->counters.rt_failures++;
		/* Some commands may have been run: what HAProxy does is no
		 * longer known. The reload must happen, without the state
		 * of the servers that are in doubt. */
		s->rt_dirty = true;
		log_warnx("haproxy[%d] runtime: %s after %zu of %zu commands; "
		    "reloading instead", sup_current_pid(s), why, applied,
		    s->plan.n);
		snapshot_free(next);
		char *rwhy = xasprintf("runtime command failed: %s", why);
		sup_want_reload(s, st == RT_REFUSED ? PLAN_REFUSED :
		    PLAN_NO_ANSWER, rwhy);
		free(rwhy);
		/* The changes it carried are what the reload is for. */
		if (s->cur_reasons != NULL) {
			char *r = s->reasons;
			s->reasons = NULL;
			sup_append(&s->reasons, s->cur_reasons);
			if (r != NULL) {
				sup_append(&s->reasons, r);
				free(r);
			}
		}
	}
	plan_free(&s->plan);
	sup_become_idle(s);
}

/* Plan the changes against what runs: runtime commands when the rules
 * allow, else a reload. */
static void
sup_apply_changes(struct supervisor *s)
{
	struct snapshot *next;

	s->change_wanted = false;
	free(s->cur_reasons);
	s->cur_reasons = s->reasons;
	s->reasons = NULL;
	s->cur_change_since_us = s->change_since_us ? s->change_since_us :
	    now_us();
	s->change_since_us = 0;
	if (s->current == NULL || s->live == NULL) {
		sup_want_reload(s, PLAN_START, s->live == NULL ? "start" :
		    "no HAProxy runs");
		goto requeue;
	}
	uint64_t t_plan = now_us();
	next = s->hooks.build(s->hooks.ctx, s->live, false);
	if (snapshot_same(next, s->live)) {
		log_debug("haproxy.cfg unchanged (%s): nothing to do",
		    s->cur_reasons ? s->cur_reasons : "");
		snapshot_free(next);
		free(s->cur_reasons);
		s->cur_reasons = NULL;
		return;
	}
	plan_build(&s->plan, s->live, next, s->cfg);
	if (s->plan.why != NULL) {
		sup_want_reload(s, s->plan.reason, s->plan.why);
		plan_free(&s->plan);
		snapshot_free(next);
		goto requeue;
	}
	if (s->plan.n == 0) {
		/* The text differs in nothing HAProxy acts on (a discovered
		 * weight that server_options overrides): it is what runs. */
		log_debug("haproxy.cfg changed, HAProxy runs it as it is (%s)",
		    s->cur_reasons ? s->cur_reasons : "");
		plan_free(&s->plan);
		snapshot_free(s->live);
		s->live = next;
		sup_write_later(s);
		free(s->cur_reasons);
		s->cur_reasons = NULL;
		return;
	}
	s->applying = next;
	s->state = SUP_APPLYING;
	s->apply_start_us = now_us();
	s->plan_us = s->apply_start_us - t_plan;
	log_debug("runtime: sending %zu commands to haproxy[%d]", s->plan.n,
	    s->current->pid);
	s->applied = 0;
	s->phase_end = s->plan.first_phase > 0 ? s->plan.first_phase :
	    s->plan.n;
	sup_record(s, false);
	sup_send_phase(s, 0);
	return;
requeue:
	/* The reload carries the changes in its log line. */
	if (s->cur_reasons != NULL) {
		sup_append(&s->reasons, s->cur_reasons);
		free(s->cur_reasons);
		s->cur_reasons = NULL;
	}
}

static void
sup_on_restart_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;

	bool retake = s->retake_socket;

	s->retake_socket = false;
	if (s->state != SUP_IDLE || (s->current != NULL && !retake)) {
		s->restart_wanted = s->current == NULL;
		return;
	}
	if (s->live == NULL) {
		/* Nothing ever started: try the whole reload again. */
		sup_want_reload(s, PLAN_START, "retrying the first start");
		return;
	}
	char *err = NULL;
	/* What the dead process knew of its servers is lost with it. */
	sup_write_empty_state(s);
	/* The file on disk may hold a config that failed; put back the
	 * one the live snapshot was checked with. */
	if (write_file_atomic(s->cfg->config_path, s->live->text,
	    strlen(s->live->text), &err) == -1) {
		log_warnx("restart: %s", err);
		free(err);
	}
	s->counters.restarts++;
	s->starting_is_restart = true;
	s->starting = hap_proc_spawn(s->loop, HAP_PROC_RUN,
	    s->cfg->haproxy_path, s->cfg->config_path, s->live,
	    sup_on_proc_done, s, &err);
	if (s->starting == NULL) {
		log_warnx("restart: %s", err);
		free(err);
		sup_restart_later(s);
		return;
	}
	if (retake)
		log_info("haproxy[%d] started on the running configuration to "
		    "take %s back", s->starting->pid, s->cfg->socket_path);
	else
		log_info("haproxy[%d] started to replace the one that died",
		    s->starting->pid);
	s->state = SUP_STARTING;
	s->start_deadline_ms = now_ms() + (uint64_t)s->cfg->start_timeout_ms;
	sup_ready_poll_start(s);
}

/* Schedule a restart after the current backoff, and double it. */
static void
sup_restart_later(struct supervisor *s)
{
	uv_timer_start(&s->restart_timer, sup_on_restart_timer,
	    (uint64_t)s->restart_backoff_ms, 0);
	s->restart_backoff_ms *= 2;
	if (s->restart_backoff_ms > SUP_RESTART_MAX_MS)
		s->restart_backoff_ms = SUP_RESTART_MAX_MS;
}

static void
sup_become_idle(struct supervisor *s)
{
	s->state = SUP_IDLE;
	free(s->cur_reasons);
	s->cur_reasons = NULL;
	if (s->restart_wanted && s->current == NULL) {
		s->restart_wanted = false;
		uv_timer_start(&s->restart_timer, sup_on_restart_timer, 0, 0);
		return;
	}
	sup_schedule(s);
}

static void
sup_fail_reload(struct supervisor *s, const char *why)
{
	char *newpath = sup_new_path(s);

	s->counters.reload_failures++;
	if (s->current != NULL)
		log_warnx("reload failed (%s): %s; haproxy[%d] keeps serving "
		    "the previous configuration", s->cur_reasons ?
		    s->cur_reasons : "restart", why, s->current->pid);
	else
		log_warnx("reload failed (%s): %s; no HAProxy is running",
		    s->cur_reasons ? s->cur_reasons : "start", why);
	unlink(newpath);
	free(newpath);
	snapshot_free(s->next);
	s->next = NULL;
	if (s->hooks.reload_failed != NULL)
		s->hooks.reload_failed(s->hooks.ctx, why);
	if (s->live != NULL)
		sup_write_later(s);	/* runtime changes since the last one */
	if (s->current == NULL && s->live == NULL)
		sup_restart_later(s);	/* nothing serves: try again */
	sup_become_idle(s);
}

static unsigned long
sup_hash_add(unsigned long h, const char *text)
{
	for (const unsigned char *c = (const unsigned char *)(text ? text :
	    ""); *c; c++)
		h = (h ^ *c) * 16777619UL;
	return (h ^ 0xff) * 16777619UL;	/* a separator */
}

/* What a HAProxy runs, in one number: the rendered text, the hand-written
 * config, and which socket sits behind each fd ("bind fd@3" reads the
 * same whatever the port). */
unsigned long
sup_snapshot_fingerprint(const struct snapshot *snap)
{
	unsigned long h = 2166136261UL;
	char buf[400];

	h = sup_hash_add(h, snap->text);
	h = sup_hash_add(h, snap->user_text);
	for (size_t i = 0; i < snap->n; i++) {
		snprintf(buf, sizeof(buf), "%s %s %d %d",
		    snap->v[i].def->name, snap->v[i].listener->addr,
		    snap->v[i].listener->port, snap->v[i].child_fd);
		h = sup_hash_add(h, buf);
	}
	for (size_t i = 0; i < snap->nnamed; i++) {
		snprintf(buf, sizeof(buf), "%s %s %d %d", snap->named[i].name,
		    snap->named[i].listener->addr,
		    snap->named[i].listener->port, snap->named[i].child_fd);
		h = sup_hash_add(h, buf);
	}
	return h;
}

bool
sup_handoff(struct supervisor *s, struct sup_handoff *h)
{
	memset(h, 0, sizeof(*h));
	/* Not while HAProxy's state is in doubt (a failed runtime batch):
	 * the reload that repairs it comes first. */
	if (s->state != SUP_IDLE || s->current == NULL || s->live == NULL ||
	    s->starting != NULL || s->checking != NULL || s->rt_dirty ||
	    s->reload_wanted)
		return false;
	h->pid = s->current->pid;
	hap_proc_fds(s->current, &h->out_fd, &h->err_fd);
	for (struct hap_proc *p = s->old; p != NULL; p = p->next) {
		if (p->exited)
			continue;
		h->old = xrealloc(h->old, (h->nold + 1) * sizeof(*h->old));
		h->old[h->nold].pid = p->pid;
		hap_proc_fds(p, &h->old[h->nold].out_fd,
		    &h->old[h->nold].err_fd);
		h->nold++;
	}
	h->fingerprint = sup_snapshot_fingerprint(s->live);
	return true;
}

void
sup_adopt(struct supervisor *s, const struct sup_handoff *h)
{
	for (size_t i = 0; i < h->nold; i++) {
		struct hap_proc *p = hap_proc_adopt(s->loop, h->old[i].pid,
		    h->old[i].out_fd, h->old[i].err_fd, sup_on_proc_done, s);
		p->soft_stopped = true;
		p->soft_stop_ms = now_ms();
		p->next = s->old;
		s->old = p;
	}
	if (h->pid <= 0)
		return;
	s->current = hap_proc_adopt(s->loop, h->pid, h->out_fd, h->err_fd,
	    sup_on_proc_done, s);
	s->adopted = true;
	s->adopted_fingerprint = h->fingerprint;
	log_info("haproxy[%d] adopted from the replaced proxymgrd, with %zu "
	    "draining", h->pid, h->nold);
}

static bool
sup_knows_pid(const struct supervisor *s, int pid)
{
	if ((s->current != NULL && s->current->pid == pid) ||
	    (s->starting != NULL && s->starting->pid == pid))
		return true;
	for (const struct hap_proc *p = s->old; p != NULL; p = p->next)
		if (p->pid == pid)
			return true;
	return false;
}

size_t
sup_adopt_strays(struct supervisor *s)
{
	int pids[64];
	size_t n, strays = 0;

	if (s->state == SUP_STOPPING)
		return 0;
	n = orphans_find(s->cfg->config_path, pids, 64);
	for (size_t i = 0; i < n; i++) {
		if (sup_knows_pid(s, pids[i]))
			continue;
		struct hap_proc *p = hap_proc_adopt(s->loop, pids[i], -1, -1,
		    sup_on_proc_done, s);
		log_warnx("haproxy[%d] runs %s but this proxymgrd neither started "
		    "nor took it over (the one that died spawned it as it "
		    "died): soft-stopped", pids[i], s->cfg->config_path);
		sup_soft_stop(s, p);
		strays++;
	}
	if (strays > 0)
		sup_cap_old(s);
	return strays;
}

/* After an upgrade: if the adopted HAProxy runs exactly what was built
 * (the same text, the same socket behind each fd), take it as live
 * instead of reloading. */
static bool
sup_adopt_live(struct supervisor *s)
{
	s->adopted = false;
	if (s->current == NULL || s->live != NULL)
		return false;
	if (sup_snapshot_fingerprint(s->next) != s->adopted_fingerprint) {
		log_info("haproxy[%d] runs another configuration than the one "
		    "built now: reloading it (on the same sockets)",
		    s->current->pid);
		return false;
	}
	s->live = s->next;
	s->next = NULL;
	log_info("haproxy[%d] runs the current configuration: adopted "
	    "without a reload", s->current->pid);
	sup_record(s, true);
	if (s->hooks.committed != NULL)
		s->hooks.committed(s->hooks.ctx);
	return true;
}

static void
sup_begin_check(struct supervisor *s)
{
	char *newpath, *err = NULL;

	s->next = s->hooks.build(s->hooks.ctx, s->live, true);
	s->next = s->hooks.claim(s->hooks.ctx, s->next, s->live);
	if (s->adopted && sup_adopt_live(s)) {
		sup_become_idle(s);
		return;
	}
	if (s->current != NULL && !s->rt_dirty &&
	    snapshot_same(s->next, s->live)) {
		log_debug("haproxy.cfg unchanged (%s): no reload",
		    s->cur_reasons ? s->cur_reasons : "");
		snapshot_free(s->next);
		s->next = NULL;
		sup_become_idle(s);
		return;
	}
	newpath = sup_new_path(s);
	if (mkdir_parents(newpath, &err) == -1 ||
	    write_file_atomic(newpath, s->next->text, strlen(s->next->text),
	    &err) == -1) {
		free(newpath);
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	s->checking = hap_proc_spawn(s->loop, HAP_PROC_CHECK,
	    s->cfg->haproxy_path, newpath, s->next, sup_on_proc_done, s, &err);
	free(newpath);
	if (s->checking == NULL) {
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	s->state = SUP_CHECKING;
}

/* Trace the alerts back to services, refuse their new definitions and
 * return true if anything was refused (so that a retry makes sense).
 * Only HAProxy's positions count (a line of the rendered file, in its
 * service's range, or the proxy a line-less alert starts with): what a
 * service wrote, echoed further on in an alert, must not refuse another. */
static bool
sup_blame(struct supervisor *s, const struct check_report *r)
{
	bool blamed = false;

	for (size_t i = 0; i < s->next->n; i++) {
		const struct snapshot_service *e = &s->next->v[i];
		bool hit = false;
		for (size_t j = 0; j < r->nlines; j++)
			if (r->lines[j] >= e->first_line &&
			    r->lines[j] <= e->last_line)
				hit = true;
		for (size_t j = 0; j < r->nproxies; j++)
			if (strcmp(r->proxies[j], e->def->name) == 0)
				hit = true;
		if (!hit)
			continue;
		log_warnx("service %s: HAProxy refused its section (from %s "
		    "and its servers); until either changes it keeps what the "
		    "running HAProxy has, if anything", e->def->name,
		    e->def->source);
		s->hooks.reject(s->hooks.ctx, e->def->name, e->def);
		blamed = true;
	}
	return blamed;
}

static bool
sup_settings_blamed(const struct supervisor *s, const struct check_report *r)
{
	for (size_t j = 0; j < r->nlines; j++)
		if (r->lines[j] <= s->next->settings_last_line)
			return true;
	return false;
}

static void
sup_write_state(struct supervisor *s, const char *text)
{
	char *path = snapshot_state_path(s->cfg), *err = NULL;

	if (write_file_atomic(path, text, strlen(text), &err) == -1) {
		log_warnx("server state: %s", err);
		free(err);
	}
	free(path);
}

/* Version 1 with no line: HAProxy starts from the config alone. */
static void
sup_write_empty_state(struct supervisor *s)
{
	sup_write_state(s, "1\n");
}

static void sup_spawn_next(struct supervisor *s);

static void
sup_on_state_dump(int status, const char *reply, void *arg)
{
	struct supervisor *s = arg;
	char *text;

	s->save_query = NULL;
	if (s->state != SUP_SAVING)
		return;
	if (status != 0)
		log_warnx("haproxy[%d]: show servers state: %s; the new HAProxy "
		    "starts without the servers' state", sup_current_pid(s),
		    uv_strerror(status));
	text = plan_state_file(status == 0 ? reply : NULL, s->live, s->next);
	sup_write_state(s, text);
	free(text);
	sup_spawn_next(s);
}

/* Health-check results and maint flags carry over to the new process:
 * dump them from the running one just before it starts. */
static void
sup_begin_start(struct supervisor *s)
{
	if (s->current == NULL || s->live == NULL || s->rt_dirty) {
		sup_write_empty_state(s);
		sup_spawn_next(s);
		return;
	}
	s->state = SUP_SAVING;
	s->save_query = stats_query(s->loop, s->cfg->socket_path,
	    "show servers state", 1000, sup_on_state_dump, s);
}

static void
sup_spawn_next(struct supervisor *s)
{
	char *newpath = sup_new_path(s), *err = NULL;

	if (rename(newpath, s->cfg->config_path) == -1) {
		err = xasprintf("cannot rename %s to %s: %s", newpath,
		    s->cfg->config_path, strerror(errno));
		free(newpath);
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	free(newpath);
	s->starting_is_restart = false;
	s->starting = hap_proc_spawn(s->loop, HAP_PROC_RUN,
	    s->cfg->haproxy_path, s->cfg->config_path, s->next,
	    sup_on_proc_done, s, &err);
	if (s->starting == NULL) {
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	s->state = SUP_STARTING;
	s->start_deadline_ms = now_ms() + (uint64_t)s->cfg->start_timeout_ms;
	sup_ready_poll_start(s);
}

static void
sup_on_check_done(struct supervisor *s, struct hap_proc *p)
{
	struct check_report r;
	char status[64], *newpath;
	bool retry = false;

	s->checking = NULL;
	if (s->state == SUP_STOPPING) {
		hap_proc_release(p);
		sup_maybe_stopped(s);
		return;
	}
	if (p->exit_status == 0 && p->term_signal == 0) {
		hap_proc_release(p);
		sup_begin_start(s);
		return;
	}
	/* Only lines of the rendered file point at services or settings;
	 * a hand-written config's lines are the user's to fix. */
	newpath = sup_new_path(s);
	check_report_parse(p->output.buf ? p->output.buf : "", p->pid, newpath,
	    &r);
	free(newpath);
	for (size_t i = 0; i < r.nalerts; i++)
		log_warnx("haproxy -c: %s", r.alerts[i]);
	if (r.nalerts == 0 && p->output.len > 0)
		log_warnx("haproxy -c: %s", p->output.buf);
	if (++s->check_attempts < SUP_CHECK_ATTEMPTS) {
		if (sup_blame(s, &r))
			retry = true;
		else if (sup_settings_blamed(s, &r) &&
		    s->hooks.settings_rollback(s->hooks.ctx, "HAProxy refused "
		    "the haproxy.global or haproxy.defaults lines"))
			retry = true;
	}
	hap_proc_status(p, status, sizeof(status));
	hap_proc_release(p);
	check_report_free(&r);
	if (retry) {
		snapshot_free(s->next);
		s->next = NULL;
		sup_begin_check(s);
		return;
	}
	char *why = xasprintf("the new configuration failed haproxy -c (%s)",
	    status);
	sup_fail_reload(s, why);
	free(why);
}

static void
sup_soft_stop(struct supervisor *s, struct hap_proc *p)
{
	p->soft_stopped = true;
	p->soft_stop_ms = now_ms();
	hap_proc_signal(p, SIGUSR1);
	p->next = s->old;
	s->old = p;
}

/* Old processes drain their connections; bound how many may linger. */
static void
sup_cap_old(struct supervisor *s)
{
	int n = 0;

	for (struct hap_proc *p = s->old; p != NULL; p = p->next) {
		if (p->exited)
			continue;
		/* The list is newest first: everything past the cap is the
		 * oldest and is stopped hard. */
		if (++n > s->cfg->max_old_processes && p->term_signal == 0) {
			log_warnx("haproxy[%d]: more than %d old processes are "
			    "draining, stopping the oldest now", p->pid,
			    s->cfg->max_old_processes);
			hap_proc_signal(p, SIGTERM);
		}
	}
}

static void
sup_start_ok(struct supervisor *s)
{
	struct hap_proc *p = s->starting;

	uv_timer_stop(&s->ready_timer);
	s->starting = NULL;
	s->rt_dirty = false;
	if (s->current != NULL) {
		log_info("haproxy[%d] soft-stopped, draining its connections",
		    s->current->pid);
		sup_soft_stop(s, s->current);
	}
	s->current = p;
	/* Runtime commands go to the new process from now on. */
	rt_reset(s->rt);
	if (!s->starting_is_restart) {
		snapshot_free(s->live);
		s->live = s->next;
		s->next = NULL;
		s->counters.reloads++;
		s->counters.reloads_by[s->cur_reason]++;
		s->hooks.committed(s->hooks.ctx);
		log_info("haproxy[%d] serves %zu services (reload %llu: %s)",
		    p->pid, s->live->n, (unsigned long long)s->counters.reloads,
		    s->cur_reasons ? s->cur_reasons : "start");
	} else
		log_info("haproxy[%d] serves (restart on the running "
		    "configuration)", p->pid);
	sup_record(s, true);
	sup_cap_old(s);
	sup_become_idle(s);
}

/* A new HAProxy that will not serve: the reload fails (why), the settings
 * go back to the proven ones (rollback_why), and since the process that
 * failed may have bound the stats socket, taking its path from the one
 * that serves, the running configuration is started once more to take
 * it back (once: a restart does not retake). */
static void
sup_abandon_reload(struct supervisor *s, const char *why,
    const char *rollback_why)
{
	sup_fail_reload(s, why);
	s->hooks.settings_rollback(s->hooks.ctx, rollback_why);
	if (s->current != NULL && s->live != NULL) {
		s->retake_socket = true;
		uv_timer_start(&s->restart_timer, sup_on_restart_timer, 0, 0);
	}
}

static void
sup_start_failed(struct supervisor *s, const char *why)
{
	struct hap_proc *p = s->starting;
	char *err = NULL;

	uv_timer_stop(&s->ready_timer);
	/* A reply for it must not be taken for the next one's. */
	stats_query_cancel(s->ready_query);
	s->ready_query = NULL;
	s->starting = NULL;
	if (!p->exited) {
		hap_proc_signal(p, SIGKILL);
		p->soft_stopped = true;
		p->soft_stop_ms = now_ms();
		p->next = s->old;
		s->old = p;
	} else
		hap_proc_release(p);
	log_warnx("new haproxy[%d] %s", p->pid, why);
	if (s->live != NULL && write_file_atomic(s->cfg->config_path,
	    s->live->text, strlen(s->live->text), &err) == -1) {
		log_warnx("%s", err);
		free(err);
	}
	if (s->starting_is_restart) {
		s->state = SUP_IDLE;
		if (s->current != NULL) {
			/* It was to take the stats socket back: the running
			 * HAProxy serves on, the next reload retakes it. */
			log_warnx("haproxy[%d] serves on; its stats socket comes "
			    "back with the next reload", s->current->pid);
		} else {
			log_warnx("restarting it in %d ms",
			    s->restart_backoff_ms);
			sup_restart_later(s);
		}
		sup_schedule(s);
		return;
	}
	/* -c passed, so new settings are the likely cause (a socket that
	 * cannot be bound, a limit): go back to the proven ones. */
	sup_abandon_reload(s, "the new HAProxy did not come up",
	    "the new HAProxy did not start");
}

/* The new HAProxy did not build what was rendered for some services,
 * which are refused as a section `haproxy -c` refuses. It is soft-stopped
 * (it may have taken connections already) and the reload is tried again
 * without them, while the old process serves on. */
static void
sup_verify_failed(struct supervisor *s)
{
	struct hap_proc *p = s->starting;
	const char *why = "the new HAProxy did not build what was rendered";

	uv_timer_stop(&s->ready_timer);
	s->starting = NULL;
	log_warnx("new haproxy[%d] soft-stopped: %s", p->pid, why);
	sup_soft_stop(s, p);
	/* It took the stats socket path from the one that serves: as after
	 * a failed runtime batch, the next start must happen even for the
	 * running text, and without a dump of the servers' state. */
	s->rt_dirty = true;
	if (++s->check_attempts < SUP_CHECK_ATTEMPTS) {
		snapshot_free(s->next);
		s->next = NULL;
		sup_begin_check(s);
		return;
	}
	sup_abandon_reload(s, why, why);
}

/* HAProxy's own view (show stat) against the snapshot it was started
 * with: every service's frontend and backend, with exactly its servers.
 * A reply that cannot be read proves nothing either way: logged, and the
 * new process serves. */
static void
sup_on_verify_reply(int status, const char *reply, void *arg)
{
	struct supervisor *s = arg;
	struct verify_view view;
	char *err = NULL;
	bool blamed = false;

	s->ready_query = NULL;
	if (s->state != SUP_STARTING || s->starting == NULL)
		return;
	if (status != 0 || verify_parse_stat(reply, &view, &err) == -1) {
		log_warnx("haproxy[%d]: show stat: %s; what it built is not "
		    "verified", s->starting->pid, status != 0 ?
		    uv_strerror(status) : err);
		free(err);
		sup_start_ok(s);
		return;
	}
	for (size_t i = 0; i < s->next->n; i++) {
		const struct snapshot_service *e = &s->next->v[i];
		char *why = verify_service(&view, e->def->name, &e->servers);
		if (why == NULL)
			continue;
		log_warnx("service %s: haproxy[%d] did not build what was "
		    "rendered from %s: %s; refused as if haproxy -c had "
		    "refused it: until its definition or servers change it "
		    "keeps what the running HAProxy has, if anything",
		    e->def->name, s->starting->pid, e->def->source, why);
		free(why);
		s->hooks.reject(s->hooks.ctx, e->def->name, e->def);
		blamed = true;
	}
	verify_view_free(&view);
	if (blamed)
		sup_verify_failed(s);
	else
		sup_start_ok(s);
}

static void
sup_on_ready_reply(int status, const char *reply, void *arg)
{
	struct supervisor *s = arg;

	s->ready_query = NULL;
	if (s->state != SUP_STARTING || s->starting == NULL || status != 0)
		return;
	if (stats_info_pid(reply) != s->starting->pid)
		return;
	/* A restart runs the live snapshot, verified when it started; with
	 * no service there is nothing to verify. */
	if (s->starting_is_restart || s->next->n == 0) {
		sup_start_ok(s);
		return;
	}
	s->ready_query = stats_query(s->loop, s->cfg->socket_path, "show stat",
	    (unsigned)s->cfg->runtime_timeout_ms, sup_on_verify_reply, s);
}

static void
sup_on_ready_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	char *why;

	if (s->state != SUP_STARTING || s->ready_query != NULL)
		return;
	if (now_ms() > s->start_deadline_ms) {
		why = xasprintf("did not answer on %s within %d ms",
		    s->cfg->socket_path, s->cfg->start_timeout_ms);
		sup_start_failed(s, why);
		free(why);
		return;
	}
	s->ready_query = stats_query(s->loop, s->cfg->socket_path, "show info",
	    1000, sup_on_ready_reply, s);
}

static void
sup_ready_poll_start(struct supervisor *s)
{
	uv_timer_start(&s->ready_timer, sup_on_ready_timer, SUP_READY_POLL_MS,
	    SUP_READY_POLL_MS);
}

static bool
sup_unlink_old(struct supervisor *s, struct hap_proc *p)
{
	for (struct hap_proc **pp = &s->old; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return true;
		}
	}
	return false;
}

static void
sup_on_proc_done(struct hap_proc *p)
{
	struct supervisor *s = p->arg;
	char status[64], *why;

	if (p->kind == HAP_PROC_CHECK) {
		sup_on_check_done(s, p);
		return;
	}
	hap_proc_status(p, status, sizeof(status));
	if (s->state == SUP_STOPPING) {
		if (p == s->starting)
			s->starting = NULL;
		else if (p == s->current)
			s->current = NULL;
		else
			sup_unlink_old(s, p);
		log_info("haproxy[%d] stopped (%s)", p->pid, status);
		hap_proc_release(p);
		sup_maybe_stopped(s);
		return;
	}
	if (p == s->starting) {
		why = xasprintf("exited (%s) before it was ready", status);
		sup_start_failed(s, why);
		free(why);
	} else if (p == s->current) {
		uint64_t ran = now_ms() - p->started_ms;
		s->current = NULL;
		hap_proc_release(p);
		if (ran >= SUP_STABLE_MS)
			s->restart_backoff_ms = SUP_RESTART_MIN_MS;
		log_warnx("haproxy[%d] died unexpectedly (%s); restarting it "
		    "in %d ms on the same sockets", p->pid, status,
		    s->restart_backoff_ms);
		sup_restart_later(s);
	} else if (sup_unlink_old(s, p)) {
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
sup_on_timer_close(uv_handle_t *h)
{
	struct supervisor *s = h->data;

	if (--s->open_timers > 0)
		return;
	takeover_record(s->cfg, 0, 0);	/* nothing serves any more */
	snapshot_free(s->live);
	s->live = NULL;
	free(s->reasons);
	free(s->cur_reasons);
	free(s->reload_why);
	s->reasons = s->cur_reasons = s->reload_why = NULL;
	if (s->hooks.stopped != NULL)
		s->hooks.stopped(s->hooks.ctx);
}

static void
sup_maybe_stopped(struct supervisor *s)
{
	if (s->state != SUP_STOPPING || s->current != NULL ||
	    s->starting != NULL || s->checking != NULL || s->old != NULL)
		return;
	if (uv_is_closing((uv_handle_t *)&s->reload_timer))
		return;
	rt_free(s->rt);
	s->rt = NULL;
	uv_close((uv_handle_t *)&s->reload_timer, sup_on_timer_close);
	uv_close((uv_handle_t *)&s->ready_timer, sup_on_timer_close);
	uv_close((uv_handle_t *)&s->restart_timer, sup_on_timer_close);
	uv_close((uv_handle_t *)&s->stop_timer, sup_on_timer_close);
	uv_close((uv_handle_t *)&s->write_timer, sup_on_timer_close);
}

static void
sup_signal_all(struct supervisor *s, int sig)
{
	if (s->current != NULL)
		hap_proc_signal(s->current, sig);
	if (s->starting != NULL)
		hap_proc_signal(s->starting, sig);
	for (struct hap_proc *p = s->old; p != NULL; p = p->next)
		hap_proc_signal(p, sig);
}

static void
sup_on_stop_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;

	if (!s->hard_kill_sent) {
		log_warnx("HAProxy still draining after %d ms: stopping it now",
		    s->cfg->stop_timeout_ms);
		sup_signal_all(s, SIGTERM);
		s->hard_kill_sent = true;
		uv_timer_start(&s->stop_timer, sup_on_stop_timer, 2000, 0);
	} else
		sup_signal_all(s, SIGKILL);
}

void
sup_stop(struct supervisor *s)
{
	if (s->state == SUP_STOPPING)
		return;
	s->state = SUP_STOPPING;
	uv_timer_stop(&s->reload_timer);
	uv_timer_stop(&s->ready_timer);
	uv_timer_stop(&s->restart_timer);
	uv_timer_stop(&s->write_timer);
	stats_query_cancel(s->ready_query);
	s->ready_query = NULL;
	stats_query_cancel(s->save_query);
	s->save_query = NULL;
	rt_reset(s->rt);
	if (s->checking != NULL)
		hap_proc_signal(s->checking, SIGKILL);
	if (s->starting != NULL)
		hap_proc_signal(s->starting, SIGTERM);
	snapshot_free(s->next);
	s->next = NULL;
	/* SIGUSR1: finish the requests in flight, then exit. */
	sup_signal_all(s, SIGUSR1);
	uv_timer_start(&s->stop_timer, sup_on_stop_timer,
	    (uint64_t)s->cfg->stop_timeout_ms, 0);
	sup_maybe_stopped(s);
}

void
sup_stop_now(struct supervisor *s)
{
	if (s->state != SUP_STOPPING)
		sup_stop(s);
	sup_signal_all(s, SIGTERM);
	s->hard_kill_sent = true;	/* the stop timer sends SIGKILL next */
	uv_timer_start(&s->stop_timer, sup_on_stop_timer, 2000, 0);
}
