/* Reload scheduling and the change log (sched.h). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/supervisor.h"
#include "pmconfig.h"
#include "util.h"

#define SCHED_LOG_MAX	64	/* entries, unless all are in use */
#define SCHED_WHY_MAX	400	/* changes named in a log line */

void
sched_init(struct supervisor *s)
{
	uv_timer_init(s->loop, &s->sched.timer);
	s->sched.timer.data = s;
	s->open_handles++;
}

void
sched_stop(struct supervisor *s)
{
	uv_timer_stop(&s->sched.timer);
}

void
sched_close(struct supervisor *s)
{
	uv_close((uv_handle_t *)&s->sched.timer, sup_on_handle_close);
}

void
sched_free(struct supervisor *s)
{
	struct sched *sc = &s->sched;

	for (size_t i = 0; i < sc->nlog; i++)
		free(sc->log[i].text);
	free(sc->log);
	sc->log = NULL;
	sc->nlog = 0;
	free(sc->why);
	sc->why = NULL;
}

/* Add an entry to the change log. When it is full the oldest done entry
 * goes; when none is done, a change is merged into the last pending one,
 * which then ends its line with "; ..." (a reload's reason always gets an
 * entry: there are at most two, pending and in flight). */
static void
sched_log_add(struct sched *sc, enum plan_reason r, const char *text,
    uint64_t time_us)
{
	struct sched_entry *e;
	size_t i;

	if (sc->nlog >= SCHED_LOG_MAX) {
		for (i = 0; i < sc->nlog && sc->log[i].stage != SCHED_DONE; i++)
			;
		if (i < sc->nlog) {
			free(sc->log[i].text);
			memmove(&sc->log[i], &sc->log[i + 1],
			    (sc->nlog - i - 1) * sizeof(*sc->log));
			sc->nlog--;
		} else if (r == PLAN_RUNTIME) {
			for (i = sc->nlog; i-- > 0;) {
				e = &sc->log[i];
				if (e->stage == SCHED_PENDING &&
				    e->reason == PLAN_RUNTIME) {
					e->more++;
					return;
				}
			}
		}
	}
	sc->log = xrealloc(sc->log, (sc->nlog + 1) * sizeof(*sc->log));
	e = &sc->log[sc->nlog++];
	e->time_us = time_us;
	e->reason = r;
	e->text = xstrdup(text);
	e->stage = SCHED_PENDING;
	e->more = 0;
}

/* Move every entry in stage from to stage to. */
static void
sched_log_move(struct sched *sc, enum sched_stage from, enum sched_stage to)
{
	for (size_t i = 0; i < sc->nlog; i++)
		if (sc->log[i].stage == from)
			sc->log[i].stage = to;
}

uint64_t
sched_take(struct supervisor *s)
{
	struct sched *sc = &s->sched;
	uint64_t oldest = 0;

	for (size_t i = 0; i < sc->nlog; i++) {
		struct sched_entry *e = &sc->log[i];
		if (e->stage != SCHED_PENDING)
			continue;
		e->stage = SCHED_IN_FLIGHT;
		if (e->reason == PLAN_RUNTIME && (oldest == 0 ||
		    e->time_us < oldest))
			oldest = e->time_us;
	}
	return oldest != 0 ? oldest : now_us();
}

void
sched_requeue(struct supervisor *s)
{
	sched_log_move(&s->sched, SCHED_IN_FLIGHT, SCHED_PENDING);
}

void
sched_done(struct supervisor *s)
{
	sched_log_move(&s->sched, SCHED_IN_FLIGHT, SCHED_DONE);
}

enum plan_reason
sched_reason(const struct supervisor *s)
{
	const struct sched *sc = &s->sched;

	for (size_t i = 0; i < sc->nlog; i++)
		if (sc->log[i].stage == SCHED_IN_FLIGHT &&
		    sc->log[i].reason != PLAN_RUNTIME)
			return sc->log[i].reason;
	return PLAN_START;
}

/* Changes are named up to SCHED_WHY_MAX characters, then "; ...". */
const char *
sched_why(struct supervisor *s, const char *none)
{
	struct sched *sc = &s->sched;
	const struct sched_entry *cause = NULL;
	struct sbuf sb;
	size_t start = 0;
	bool first = true, cut = false;

	for (size_t i = 0; i < sc->nlog && cause == NULL; i++)
		if (sc->log[i].stage == SCHED_IN_FLIGHT &&
		    sc->log[i].reason != PLAN_RUNTIME)
			cause = &sc->log[i];
	sbuf_init(&sb);
	if (cause != NULL)
		sbuf_printf(&sb, "%s [%s]", cause->text,
		    plan_reason_name(cause->reason));
	for (size_t i = 0; i < sc->nlog; i++) {
		const struct sched_entry *e = &sc->log[i];
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
	free(sc->why);
	sc->why = sbuf_take(&sb);
	return sc->why != NULL ? sc->why : none;
}

void
sched_change(struct supervisor *s, const char *why, uint64_t since_us)
{
	sched_log_add(&s->sched, PLAN_RUNTIME, why, since_us);
	s->sched.change_wanted = true;
	s->sched.last_change_ms = now_ms();
	sched_kick(s);
}

void
sched_want_reload(struct supervisor *s, enum plan_reason r, const char *why)
{
	struct sched *sc = &s->sched;

	if (!sc->reload_wanted) {
		sc->reload_wanted = true;
		sc->reload_since_ms = now_ms();
		sched_log_add(sc, r, why, now_us());
	}
	sched_kick(s);
}

static void
sched_begin_reload(struct supervisor *s)
{
	struct sched *sc = &s->sched;

	sc->reload_wanted = false;
	sc->change_wanted = false;	/* the reload builds from the model */
	/* The reason and every change; the oldest one's time. */
	s->reload.change_us = sched_take(s);
	sc->last_reload_ms = now_ms();
	reload_begin(s);
}

static void
sched_on_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	struct sched *sc = &s->sched;

	if (!sup_idle(s))
		return;
	if (sc->reload_wanted) {
		uint64_t now = now_ms();
		/* The timer may have been set for a change before the
		 * reload was wanted: keep the reload's own time. */
		if (now < sc->reload_due_ms) {
			uv_timer_start(&sc->timer, sched_on_timer,
			    sc->reload_due_ms - now, 0);
			return;
		}
		sched_begin_reload(s);
	} else if (sc->change_wanted)
		applier_apply(s);
}

uint64_t
sched_reload_due(const struct sched_times *t, uint64_t debounce,
    uint64_t interval, uint64_t jitter)
{
	uint64_t last = t->last_change > t->since ? t->last_change : t->since;
	uint64_t cap = t->since + (debounce > interval ? debounce : interval);
	uint64_t at = last + debounce;

	if (at > cap)
		at = cap;
	if (t->running && t->last_reload + interval > at)
		at = t->last_reload + interval + jitter;
	return at;
}

void
sched_kick(struct supervisor *s)
{
	struct sched *sc = &s->sched;
	uint64_t now = now_ms(), delay = 0;
	uint64_t interval = (uint64_t)s->cfg->min_interval_ms;

	if (!sup_idle(s) || (!sc->reload_wanted && !sc->change_wanted))
		return;
	if (sc->reload_wanted) {
		struct sched_times t = {
			.since = sc->reload_since_ms,
			.last_change = sc->last_change_ms,
			.last_reload = sc->last_reload_ms,
			.running = s->live != NULL,
		};
		uint64_t at = sched_reload_due(&t, (uint64_t)s->cfg->debounce_ms,
		    interval, (uint64_t)rand() % (interval / 10 + 1));
		if (at > now)
			delay = at - now;
		sc->reload_due_ms = now + delay;
	}
	if (uv_is_active((uv_handle_t *)&sc->timer) &&
	    uv_timer_get_due_in(&sc->timer) <= delay)
		return;
	uv_timer_start(&sc->timer, sched_on_timer, delay, 0);
}
