#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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
#include "haproxy/verify.h"
#include "pmconfig.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

#define SUP_READY_POLL_MS	20
#define SUP_RESTART_MIN_MS	100
#define SUP_RESTART_MAX_MS	10000
#define SUP_STABLE_MS		10000	/* ran this long: backoff resets */
#define SUP_CHECK_ATTEMPTS	3
#define SCHED_LOG_MAX		64	/* entries, unless all are in use */
#define SCHED_WHY_MAX		400	/* changes named in a log line */

static void sup_schedule(struct supervisor *s);
static void sup_begin_check(struct supervisor *s);
static void sup_on_proc_done(struct hap_proc *p);
static void sup_ready_poll_start(struct supervisor *s);
static void sup_restart_later(struct supervisor *s);
static void sup_maybe_stopped(struct supervisor *s);
static void sup_write_empty_state(const struct snapshot *snap);
static void sup_become_idle(struct supervisor *s, enum sup_event ev);
static void sup_write_later(struct supervisor *s);

#define SUP_STATE_NAME(name, text)	[SUP_##name] = text,
#define SUP_EVENT_NAME(name, text)	[SUP_EV_##name] = text,
#define SUP_TRANSITION(from, ev, to)	\
	{ SUP_##from, SUP_EV_##ev, SUP_##to },

static const char *const sup_state_names[] = { SUP_STATES(SUP_STATE_NAME) };
static const char *const sup_event_names[] = { SUP_EVENTS(SUP_EVENT_NAME) };

const struct sup_transition sup_transitions[] = {
	SUP_TRANSITIONS(SUP_TRANSITION)
};
const size_t sup_ntransitions = sizeof(sup_transitions) /
    sizeof(sup_transitions[0]);

const char *
sup_state_name(enum sup_state st)
{
	return st < SUP_NSTATES ? sup_state_names[st] : "?";
}

const char *
sup_event_name(enum sup_event ev)
{
	return ev < SUP_NEVENTS ? sup_event_names[ev] : "?";
}

int
sup_transition(enum sup_state from, enum sup_event ev)
{
	for (size_t i = 0; i < sup_ntransitions; i++)
		if (sup_transitions[i].from == from &&
		    sup_transitions[i].event == ev)
			return (int)sup_transitions[i].to;
	return -1;
}

/* The one writer of s->state: a transition the table lacks is a bug, and
 * is refused rather than leaving the supervisor in a state no code
 * expects (a debug build stops right there). */
bool
sup_enter(struct supervisor *s, enum sup_event ev)
{
	int to = sup_transition(s->state, ev);

	if (to < 0) {
		log_warnx("supervisor: no transition from %s on %s; staying "
		    "%s", sup_state_name(s->state), sup_event_name(ev),
		    sup_state_name(s->state));
#ifdef PM_DEBUG
		abort();
#endif
		return false;
	}
	if ((enum sup_state)to != s->state)
		log_debug("supervisor: %s -> %s (%s)", sup_state_name(s->state),
		    sup_state_name((enum sup_state)to), sup_event_name(ev));
	s->state = (enum sup_state)to;
	return true;
}

bool
sup_idle(const struct supervisor *s)
{
	return s->state == SUP_IDLE || s->state == SUP_ADOPTED;
}

/* A new HAProxy was started and has not answered yet. */
static bool
sup_starting(const struct supervisor *s)
{
	return s->state == SUP_STARTING || s->state == SUP_RESTARTING ||
	    s->state == SUP_RETAKING;
}

/* Where a snapshot's config is checked before it replaces the one that
 * runs. */
static char *
sup_new_path(const struct snapshot *snap)
{
	return xasprintf("%s.new", snap->cfg->config_path);
}

void
sup_init(struct supervisor *s, uv_loop_t *loop, struct pm_config *cfg,
    const struct sup_hooks *hooks)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfg = pmconfig_ref(cfg);
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
sup_set_config(struct supervisor *s, struct pm_config *cfg)
{
	pmconfig_ref(cfg);
	pmconfig_unref(s->cfg);
	s->cfg = cfg;
}

int
sup_current_pid(const struct supervisor *s)
{
	return s->current ? s->current->pid : 0;
}

/* Add an entry to the change log. When it is full the oldest done entry
 * goes; when none is done, a change is merged into the last pending one,
 * which then ends its line with "; ..." (a reload's reason always gets an
 * entry: there are at most two, pending and in flight). */
static void
sched_log_add(struct supervisor *s, enum plan_reason r, const char *text,
    uint64_t time_us)
{
	struct sched_entry *e;
	size_t i;

	if (s->nlog >= SCHED_LOG_MAX) {
		for (i = 0; i < s->nlog && s->log[i].stage != SCHED_DONE; i++)
			;
		if (i < s->nlog) {
			free(s->log[i].text);
			memmove(&s->log[i], &s->log[i + 1],
			    (s->nlog - i - 1) * sizeof(*s->log));
			s->nlog--;
		} else if (r == PLAN_RUNTIME) {
			for (i = s->nlog; i-- > 0;) {
				e = &s->log[i];
				if (e->stage == SCHED_PENDING &&
				    e->reason == PLAN_RUNTIME) {
					e->more++;
					return;
				}
			}
		}
	}
	s->log = xrealloc(s->log, (s->nlog + 1) * sizeof(*s->log));
	e = &s->log[s->nlog++];
	e->time_us = time_us;
	e->reason = r;
	e->text = xstrdup(text);
	e->stage = SCHED_PENDING;
	e->more = 0;
}

/* Move every entry in stage from to stage to. */
static void
sched_log_move(struct supervisor *s, enum sched_stage from,
    enum sched_stage to)
{
	for (size_t i = 0; i < s->nlog; i++)
		if (s->log[i].stage == from)
			s->log[i].stage = to;
}

static void
sched_log_free(struct supervisor *s)
{
	for (size_t i = 0; i < s->nlog; i++)
		free(s->log[i].text);
	free(s->log);
	s->log = NULL;
	s->nlog = 0;
	free(s->why);
	s->why = NULL;
}

/* Whatever is pending goes out, in a runtime batch or a reload: returns
 * when the oldest change of it was seen (now if there is none). */
static uint64_t
sched_take(struct supervisor *s)
{
	uint64_t oldest = 0;

	for (size_t i = 0; i < s->nlog; i++) {
		struct sched_entry *e = &s->log[i];
		if (e->stage != SCHED_PENDING)
			continue;
		e->stage = SCHED_IN_FLIGHT;
		if (e->reason == PLAN_RUNTIME && (oldest == 0 ||
		    e->time_us < oldest))
			oldest = e->time_us;
	}
	return oldest != 0 ? oldest : now_us();
}

/* What is in flight is pending again: the reload that comes next carries
 * it in its log line. */
static void
sched_requeue(struct supervisor *s)
{
	sched_log_move(s, SCHED_IN_FLIGHT, SCHED_PENDING);
}

/* What was in flight is over: applied, reloaded, failed, or nothing to
 * do. */
static void
sched_done(struct supervisor *s)
{
	sched_log_move(s, SCHED_IN_FLIGHT, SCHED_DONE);
}

/* The reason the reload in flight is counted under: its first. */
static enum plan_reason
sched_reason(const struct supervisor *s)
{
	for (size_t i = 0; i < s->nlog; i++)
		if (s->log[i].stage == SCHED_IN_FLIGHT &&
		    s->log[i].reason != PLAN_RUNTIME)
			return s->log[i].reason;
	return PLAN_START;
}

/* What is in flight, in words: "WHY [reason]; changes: A; B" for a
 * reload, "A; B" for a runtime batch, or none when nothing is. Changes
 * are named up to SCHED_WHY_MAX characters, then "; ...". Valid until
 * the next call. */
static const char *
sched_why(struct supervisor *s, const char *none)
{
	const struct sched_entry *cause = NULL;
	struct sbuf sb;
	size_t start = 0;
	bool first = true, cut = false;

	for (size_t i = 0; i < s->nlog && cause == NULL; i++)
		if (s->log[i].stage == SCHED_IN_FLIGHT &&
		    s->log[i].reason != PLAN_RUNTIME)
			cause = &s->log[i];
	sbuf_init(&sb);
	if (cause != NULL)
		sbuf_printf(&sb, "%s [%s]", cause->text,
		    plan_reason_name(cause->reason));
	for (size_t i = 0; i < s->nlog; i++) {
		const struct sched_entry *e = &s->log[i];
		if (e->stage != SCHED_IN_FLIGHT || e->reason != PLAN_RUNTIME)
			continue;
		if (first) {
			if (cause != NULL)
				sbuf_puts(&sb, "; changes: ");
			start = sb.len;
			sbuf_puts(&sb, e->text);
			first = false;
		} else if (sb.len - start < SCHED_WHY_MAX)
			sbuf_printf(&sb, "; %s", e->text);
		else
			cut = true;
		if (e->more > 0)
			cut = true;
	}
	if (cut)
		sbuf_puts(&sb, "; ...");
	free(s->why);
	s->why = sbuf_take(&sb);
	return s->why != NULL ? s->why : none;
}

void
sup_request_change(struct supervisor *s, const char *why, uint64_t since_us)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	sched_log_add(s, PLAN_RUNTIME, why, since_us);
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
		sched_log_add(s, r, why, now_us());
	}
	sup_schedule(s);
}

/* What each state is doing, for operators. */
static const char *const sup_activity[] = {
	[SUP_IDLE] = "idle", [SUP_ADOPTED] = "idle",
	[SUP_APPLYING] = "applying a runtime batch",
	[SUP_CHECKING] = "checking a config",
	[SUP_SAVING] = "saving server state",
	[SUP_STARTING] = "starting HAProxy",
	[SUP_VERIFYING] = "verifying what HAProxy built",
	[SUP_RESTARTING] = "restarting HAProxy",
	[SUP_RETAKING] = "restarting HAProxy to retake its stats socket",
	[SUP_STOPPING] = "stopping", [SUP_STOPPED] = "stopped",
};

/* "idle", or what is in flight and what waits: tests and operators wait
 * for idle instead of guessing how long a change takes. */
static void
sup_describe_activity(const struct supervisor *s, struct sbuf *sb)
{
	const char *sep = "";

	if (sup_idle(s) && !s->reload_wanted && !s->change_wanted &&
	    !s->write_wanted && !s->restart_wanted) {
		sbuf_printf(sb, "idle");
		return;
	}
	sbuf_printf(sb, "busy (");
	if (!sup_idle(s)) {
		sbuf_printf(sb, "%s", sup_activity[s->state]);
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
	sched_take(s);	/* the reason and every change */
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

	if (!sup_idle(s))
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

	if (!sup_idle(s) || (!s->reload_wanted && !s->change_wanted))
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
	if (!s->write_wanted || s->live == NULL || (!sup_idle(s) &&
	    s->state != SUP_APPLYING))
		return;
	s->write_wanted = false;
	if (write_file_atomic(s->live->cfg->config_path, s->live->text,
	    strlen(s->live->text), &err) == -1) {
		log_warnx("runtime: %s", err);
		free(err);
	}
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
	const struct pm_config *cfg = s->applying->cfg;

	if (rt_send(s->rt, cfg->socket_path, s->current->pid,
	    &s->plan.v[from], s->phase_end - from,
	    (unsigned)cfg->runtime_timeout_ms, sup_on_applied, s) == -1)
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
	double live_ms = (double)(t - s->change_us) / 1000.0;

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
		    sched_why(s, "change"));
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
		sched_requeue(s);
	}
	plan_free(&s->plan);
	sup_become_idle(s, SUP_EV_APPLIED);
}

/* Plan the changes against what runs: runtime commands when the rules
 * allow, else a reload. */
static void
sup_apply_changes(struct supervisor *s)
{
	struct snapshot *next;

	s->change_wanted = false;
	s->change_us = sched_take(s);
	if (s->current == NULL || s->live == NULL) {
		sup_want_reload(s, PLAN_START, s->live == NULL ? "start" :
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
	plan_build(&s->plan, s->live, next);
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
		    sched_why(s, ""));
		plan_free(&s->plan);
		snapshot_free(s->live);
		s->live = next;
		sup_write_later(s);
		sched_done(s);
		return;
	}
	s->applying = next;
	sup_enter(s, SUP_EV_APPLY);
	s->apply_start_us = now_us();
	s->plan_us = s->apply_start_us - t_plan;
	log_debug("runtime: sending %zu commands to haproxy[%d]", s->plan.n,
	    s->current->pid);
	s->applied = 0;
	s->phase_end = s->plan.first_phase > 0 ? s->plan.first_phase :
	    s->plan.n;
	sup_send_phase(s, 0);
	return;
requeue:
	/* The reload carries the changes in its log line. */
	sched_requeue(s);
}

/* Start a HAProxy on the live snapshot again, after a crash (timer armed
 * by sup_restart_later) or to take the stats socket back (retake, armed by
 * sup_abandon_reload); either waits until nothing is in flight. */
static void
sup_restart(struct supervisor *s, bool retake)
{
	if (!sup_idle(s) || (s->current != NULL && !retake)) {
		s->restart_wanted = s->current == NULL;
		return;
	}
	if (s->live == NULL) {
		/* Nothing ever started: try the whole reload again. */
		sup_want_reload(s, PLAN_START, "retrying the first start");
		return;
	}
	const struct pm_config *cfg = s->live->cfg;
	char *err = NULL;
	/* What the dead process knew of its servers is lost with it. */
	sup_write_empty_state(s->live);
	/* The file on disk may hold a config that failed; put back the
	 * one the live snapshot was checked with. */
	if (write_file_atomic(cfg->config_path, s->live->text,
	    strlen(s->live->text), &err) == -1) {
		log_warnx("restart: %s", err);
		free(err);
	}
	s->counters.restarts++;
	s->starting = hap_proc_spawn(s->loop, HAP_PROC_RUN, cfg->haproxy_path,
	    cfg->config_path, s->live, sup_on_proc_done, s, &err);
	if (s->starting == NULL) {
		log_warnx("restart: %s", err);
		free(err);
		sup_restart_later(s);
		return;
	}
	if (s->current != NULL) {
		log_info("haproxy[%d] started on the running configuration to "
		    "take %s back", s->starting->pid, cfg->socket_path);
		sup_enter(s, SUP_EV_RETAKE);
	} else {
		log_info("haproxy[%d] started to replace the one that died",
		    s->starting->pid);
		sup_enter(s, SUP_EV_RESTART);
	}
	s->start_deadline_ms = now_ms() + (uint64_t)cfg->start_timeout_ms;
	sup_ready_poll_start(s);
}

static void
sup_on_restart_timer(uv_timer_t *t)
{
	sup_restart(t->data, false);
}

static void
sup_on_retake_timer(uv_timer_t *t)
{
	sup_restart(t->data, true);
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
sup_become_idle(struct supervisor *s, enum sup_event ev)
{
	sup_enter(s, ev);
	sched_done(s);
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
	s->counters.reload_failures++;
	if (s->current != NULL)
		log_warnx("reload failed (%s): %s; haproxy[%d] keeps serving "
		    "the previous configuration", sched_why(s, "restart"), why,
		    s->current->pid);
	else
		log_warnx("reload failed (%s): %s; no HAProxy is running",
		    sched_why(s, "start"), why);
	if (s->next != NULL) {
		char *newpath = sup_new_path(s->next);
		unlink(newpath);
		free(newpath);
	}
	snapshot_free(s->next);
	s->next = NULL;
	if (s->hooks.reload_failed != NULL)
		s->hooks.reload_failed(s->hooks.ctx, why);
	if (s->live != NULL)
		sup_write_later(s);	/* runtime changes since the last one */
	if (s->current == NULL && s->live == NULL)
		sup_restart_later(s);	/* nothing serves: try again */
	sup_become_idle(s, SUP_EV_FAIL);
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
	h->fingerprint = snapshot_fingerprint(s->live);
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
	s->adopted_fingerprint = h->fingerprint;
	sup_enter(s, SUP_EV_ADOPT);
	log_info("haproxy[%d] adopted from the replaced proxymgrd, with %zu "
	    "draining", h->pid, h->nold);
}

/* After an upgrade: if the adopted HAProxy runs exactly what was built
 * (the same text, the same socket behind each fd), take it as live
 * instead of reloading. */
static bool
sup_adopt_live(struct supervisor *s)
{
	if (s->current == NULL || s->live != NULL)
		return false;
	if (snapshot_fingerprint(s->next) != s->adopted_fingerprint) {
		log_info("haproxy[%d] runs another configuration than the one "
		    "built now: reloading it (on the same sockets)",
		    s->current->pid);
		return false;
	}
	s->live = s->next;
	s->next = NULL;
	log_info("haproxy[%d] runs the current configuration: adopted "
	    "without a reload", s->current->pid);
	if (s->hooks.committed != NULL)
		s->hooks.committed(s->hooks.ctx);
	return true;
}

static void
sup_begin_check(struct supervisor *s)
{
	char *newpath, *err = NULL;

	s->next = s->hooks.build(s->hooks.ctx, s->cfg, s->live, true);
	if (s->state == SUP_ADOPTED && sup_adopt_live(s)) {
		sup_become_idle(s, SUP_EV_SERVE);
		return;
	}
	if (s->current != NULL && !s->rt_dirty &&
	    snapshot_same(s->next, s->live)) {
		log_debug("haproxy.cfg unchanged (%s): no reload",
		    sched_why(s, ""));
		snapshot_free(s->next);
		s->next = NULL;
		sup_become_idle(s, SUP_EV_UNCHANGED);
		return;
	}
	newpath = sup_new_path(s->next);
	if (mkdir_parents(newpath, &err) == -1 ||
	    write_file_atomic(newpath, s->next->text, strlen(s->next->text),
	    &err) == -1) {
		free(newpath);
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	s->checking = hap_proc_spawn(s->loop, HAP_PROC_CHECK,
	    s->next->cfg->haproxy_path, newpath, s->next, sup_on_proc_done, s,
	    &err);
	free(newpath);
	if (s->checking == NULL) {
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	sup_enter(s, SUP_EV_CHECK);
}

/* HAProxy refused settings of failed (why says how): go back to those
 * the running HAProxy was built from, the proven ones. A rollback is a
 * build with the live snapshot's config: the supervisor builds with it
 * from now on, and the daemon is told. Returns false when there are no
 * other settings to go back to (nothing runs, or it runs these). */
static bool
sup_rollback(struct supervisor *s, const struct pm_config *failed,
    const char *why)
{
	struct pm_config *good = s->live != NULL ? s->live->cfg : NULL;

	if (good == NULL || good == failed) {
		log_warnx("%s: if haproxy.global or haproxy.defaults in %s "
		    "are the cause, fix them and send SIGHUP", why,
		    failed->file);
		return false;
	}
	log_warnx("%s with the haproxy settings of the re-read %s: going "
	    "back to the previous ones", why, failed->file);
	sup_set_config(s, good);
	s->hooks.settings_rollback(s->hooks.ctx, good);
	return true;
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

/* The server-state file the HAProxy that runs snap loads at start. */
static void
sup_write_state(const struct snapshot *snap, const char *text)
{
	char *path = snapshot_state_path(snap->cfg), *err = NULL;

	if (write_file_atomic(path, text, strlen(text), &err) == -1) {
		log_warnx("server state: %s", err);
		free(err);
	}
	free(path);
}

/* Version 1 with no line: HAProxy starts from the config alone. */
static void
sup_write_empty_state(const struct snapshot *snap)
{
	sup_write_state(snap, "1\n");
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
	sup_write_state(s->next, text);
	free(text);
	sup_spawn_next(s);
}

/* Health-check results and maint flags carry over to the new process:
 * dump them from the running one just before it starts. */
static void
sup_begin_start(struct supervisor *s)
{
	if (s->current == NULL || s->live == NULL || s->rt_dirty) {
		sup_write_empty_state(s->next);
		sup_spawn_next(s);
		return;
	}
	sup_enter(s, SUP_EV_SAVE);
	/* Asked where the running HAProxy listens. */
	s->save_query = stats_query(s->loop, s->live->cfg->socket_path,
	    "show servers state", 1000, sup_on_state_dump, s);
}

static void
sup_spawn_next(struct supervisor *s)
{
	const struct pm_config *cfg = s->next->cfg;
	char *newpath = sup_new_path(s->next), *err = NULL;

	if (rename(newpath, cfg->config_path) == -1) {
		err = xasprintf("cannot rename %s to %s: %s", newpath,
		    cfg->config_path, strerror(errno));
		free(newpath);
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	free(newpath);
	s->starting = hap_proc_spawn(s->loop, HAP_PROC_RUN, cfg->haproxy_path,
	    cfg->config_path, s->next, sup_on_proc_done, s, &err);
	if (s->starting == NULL) {
		sup_fail_reload(s, err);
		free(err);
		return;
	}
	sup_enter(s, SUP_EV_START);
	s->start_deadline_ms = now_ms() + (uint64_t)cfg->start_timeout_ms;
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
	newpath = sup_new_path(s->next);
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
		    sup_rollback(s, s->next->cfg, "HAProxy refused the "
		    "haproxy.global or haproxy.defaults lines"))
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
	if (s->state == SUP_STARTING || s->state == SUP_VERIFYING) {
		snapshot_free(s->live);
		s->live = s->next;
		s->next = NULL;
		s->counters.reloads++;
		s->counters.reloads_by[sched_reason(s)]++;
		s->hooks.committed(s->hooks.ctx);
		log_info("haproxy[%d] serves %zu services (reload %llu: %s)",
		    p->pid, s->live->n, (unsigned long long)s->counters.reloads,
		    sched_why(s, "start"));
	} else
		log_info("haproxy[%d] serves (restart on the running "
		    "configuration)", p->pid);
	sup_cap_old(s);
	sup_become_idle(s, SUP_EV_SERVE);
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
	struct pm_config *failed = pmconfig_ref(s->next->cfg);

	sup_fail_reload(s, why);
	sup_rollback(s, failed, rollback_why);
	pmconfig_unref(failed);
	if (s->current != NULL && s->live != NULL)
		uv_timer_start(&s->restart_timer, sup_on_retake_timer, 0, 0);
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
	if (s->live != NULL && write_file_atomic(s->live->cfg->config_path,
	    s->live->text, strlen(s->live->text), &err) == -1) {
		log_warnx("%s", err);
		free(err);
	}
	if (s->state == SUP_RESTARTING || s->state == SUP_RETAKING) {
		sup_enter(s, SUP_EV_FAIL);
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
	if (s->state != SUP_VERIFYING || s->starting == NULL)
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
	if (!sup_starting(s) || s->starting == NULL || status != 0)
		return;
	if (stats_info_pid(reply) != s->starting->pid)
		return;
	/* A restart runs the live snapshot, verified when it started; with
	 * no service there is nothing to verify. */
	if (s->state != SUP_STARTING || s->next->n == 0) {
		sup_start_ok(s);
		return;
	}
	sup_enter(s, SUP_EV_ANSWER);
	s->ready_query = stats_query(s->loop, s->next->cfg->socket_path,
	    "show stat", (unsigned)s->next->cfg->runtime_timeout_ms,
	    sup_on_verify_reply, s);
}

static void
sup_on_ready_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	const struct pm_config *cfg;
	char *why;

	if (!sup_starting(s) || s->ready_query != NULL)
		return;
	/* A reload starts the next snapshot, a restart the live one. */
	cfg = s->state == SUP_STARTING ? s->next->cfg : s->live->cfg;
	if (now_ms() > s->start_deadline_ms) {
		why = xasprintf("did not answer on %s within %d ms",
		    cfg->socket_path, cfg->start_timeout_ms);
		sup_start_failed(s, why);
		free(why);
		return;
	}
	s->ready_query = stats_query(s->loop, cfg->socket_path, "show info",
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
	snapshot_free(s->live);
	s->live = NULL;
	sched_log_free(s);
	pmconfig_unref(s->cfg);
	s->cfg = NULL;
	sup_enter(s, SUP_EV_STOPPED);
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
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	sup_enter(s, SUP_EV_STOP);
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
	if (s->state == SUP_STOPPED)
		return;
	sup_stop(s);
	sup_signal_all(s, SIGTERM);
	s->hard_kill_sent = true;	/* the stop timer sends SIGKILL next */
	uv_timer_start(&s->stop_timer, sup_on_stop_timer, 2000, 0);
}
