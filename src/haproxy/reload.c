/* A reload (reload.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/check_report.h"
#include "haproxy/proc.h"
#include "haproxy/stats.h"
#include "haproxy/supervisor.h"
#include "haproxy/verify.h"
#include "pmconfig.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

/* Checks and starts of one reload, each after blaming what failed. */
#define RELOAD_ATTEMPTS	3

static void reload_check(struct supervisor *s);

/* Where a snapshot's config is checked before it replaces the one that
 * runs. */
static char *
reload_new_path(const struct snapshot *snap)
{
	return xasprintf("%s.new", snap->cfg->config_path);
}

void
reload_begin(struct supervisor *s)
{
	s->reload.attempts = 0;
	s->reload.start_us = now_us();
	s->reload.forcing = s->reload.force;
	s->reload.force = false;
	log_event(LOG_LVL_INFO, "reload_start", NULL,
	    plan_reason_name(sched_reason(s)), "reload: checking the new "
	    "configuration (%s)", sched_why(s, "start"));
	applier_forget_write(s);	/* the reload writes the file */
	reload_check(s);
}

void
reload_stop(struct supervisor *s)
{
	stats_query_cancel(s->reload.save_query);
	s->reload.save_query = NULL;
}

/* The one way to give up on a reload: the running HAProxy, if any, serves
 * on, and haproxy.cfg on disk goes back to what it runs. */
static void
reload_fail(struct supervisor *s, const char *why)
{
	s->counters.reload_failures++;
	sup_record(s, HISTORY_RELOAD, s->reload.start_us, why, 0);
	if (s->procs.current != NULL)
		log_event(LOG_LVL_WARNING, "reload_failed", NULL,
		    plan_reason_name(sched_reason(s)), "reload failed (%s): "
		    "%s; haproxy[%d] keeps serving the previous configuration",
		    sched_why(s, "restart"), why, s->procs.current->pid);
	else
		log_event(LOG_LVL_WARNING, "reload_failed", NULL,
		    plan_reason_name(sched_reason(s)), "reload failed (%s): "
		    "%s; no HAProxy is running", sched_why(s, "start"), why);
	if (s->next != NULL) {
		char *newpath = reload_new_path(s->next);
		unlink(newpath);
		free(newpath);
	}
	snapshot_free(s->next);
	s->next = NULL;
	if (s->hooks.reload_failed != NULL)
		s->hooks.reload_failed(s->hooks.ctx, why);
	if (s->live != NULL)
		applier_write_later(s);	/* runtime changes since the last one */
	if (s->procs.current == NULL && s->live == NULL)
		procs_restart_later(s);	/* nothing serves: try again */
	sup_become_idle(s, SUP_EV_FAIL);
}

/* HAProxy refused settings of failed (why says how): go back to those
 * the running HAProxy was built from, the proven ones. A rollback is a
 * build with the live snapshot's config: the supervisor builds with it
 * from now on, and the daemon is told. Returns false when there are no
 * other settings to go back to (nothing runs, or it runs these). */
static bool
reload_rollback(struct supervisor *s, const struct pm_config *failed,
    const char *why)
{
	struct pm_config *good = s->live != NULL ? s->live->cfg : NULL;

	if (good == NULL || good == failed) {
		log_event(LOG_LVL_WARNING, "settings_refused", NULL, NULL,
		    "%s: if haproxy.global or haproxy.defaults in %s are the "
		    "cause, fix them and send SIGHUP", why, failed->file);
		return false;
	}
	log_event(LOG_LVL_WARNING, "settings_refused", NULL, NULL, "%s with "
	    "the haproxy settings of the re-read %s: going back to the "
	    "previous ones", why, failed->file);
	sup_set_config(s, good);
	s->hooks.settings_rollback(s->hooks.ctx, good);
	return true;
}

/* Build next and check it with `haproxy -c`, unless it is what runs. */
static void
reload_check(struct supervisor *s)
{
	char *newpath, *err = NULL;

	s->next = s->hooks.build(s->hooks.ctx, s->cfg, s->live, true);
	s->next = s->hooks.claim(s->hooks.ctx, s->next, s->live);
	if (s->state == SUP_ADOPTED && procs_adopt_live(s)) {
		sup_become_idle(s, SUP_EV_SERVE);
		return;
	}
	if (s->procs.current != NULL && !s->live_in_doubt &&
	    !s->reload.forcing && snapshot_same(s->next, s->live)) {
		log_debug("haproxy.cfg unchanged (%s): no reload",
		    sched_why(s, ""));
		snapshot_free(s->next);
		s->next = NULL;
		sup_become_idle(s, SUP_EV_UNCHANGED);
		return;
	}
	newpath = reload_new_path(s->next);
	if (mkdir_parents(newpath, &err) == -1 ||
	    snapshot_write(s->next, newpath, &err) == -1) {
		free(newpath);
		reload_fail(s, err);
		free(err);
		return;
	}
	s->procs.checking = hap_proc_spawn(s->loop, HAP_PROC_CHECK,
	    s->next->cfg->haproxy_path, newpath, s->next, NULL, procs_on_done,
	    s, &err);
	free(newpath);
	if (s->procs.checking == NULL) {
		reload_fail(s, err);
		free(err);
		return;
	}
	sup_enter(s, SUP_EV_CHECK);
}

/* Drop next and try again: services were refused, or settings rolled
 * back, since it was built. */
static void
reload_retry(struct supervisor *s)
{
	snapshot_free(s->next);
	s->next = NULL;
	reload_check(s);
}

/* Trace the alerts back to services, refuse their new definitions and
 * return true if anything was refused (so that a retry makes sense).
 * Only HAProxy's positions count (a line of the rendered file, in its
 * service's range, or the proxy a line-less alert starts with): what a
 * service wrote, echoed further on in an alert, must not refuse another. */
static bool
reload_blame(struct supervisor *s, const struct check_report *r)
{
	bool blamed = false;
	struct sbuf why;

	/* What HAProxy said, for the operator (control socket). */
	sbuf_init(&why);
	sbuf_puts(&why, "HAProxy refused its section (haproxy -c)");
	for (size_t j = 0; j < r->nalerts && why.len < 1024; j++)
		sbuf_printf(&why, "%s%s", j == 0 ? ": " : "; ", r->alerts[j]);

	for (size_t i = 0; i < s->next->n; i++) {
		const struct snapshot_service *e = s->next->v[i];
		bool hit = false;
		for (size_t j = 0; j < r->nlines; j++)
			if (r->lines[j] >= snapshot_first_line(s->next, i) &&
			    r->lines[j] <= snapshot_last_line(s->next, i))
				hit = true;
		for (size_t j = 0; j < r->nproxies; j++)
			if (strcmp(r->proxies[j], e->def->name) == 0)
				hit = true;
		if (!hit)
			continue;
		log_event(LOG_LVL_WARNING, "service_rejected", e->def->name,
		    "haproxy-check", "service %s: HAProxy refused its section "
		    "(from %s and its servers); until either changes it keeps "
		    "what the running HAProxy has, if anything", e->def->name,
		    e->def->source);
		s->hooks.reject(s->hooks.ctx, e->def->name, e->def, why.buf);
		blamed = true;
	}
	sbuf_free(&why);
	return blamed;
}

static bool
reload_settings_blamed(const struct supervisor *s,
    const struct check_report *r)
{
	for (size_t j = 0; j < r->nlines; j++)
		if (r->lines[j] <= s->next->settings_last_line)
			return true;
	return false;
}

void
reload_write_state(const struct snapshot *snap, const char *text)
{
	char *path = snapshot_state_path(snap->cfg), *err = NULL;

	if (write_file_atomic(path, text, strlen(text), &err) == -1) {
		log_warnx("server state: %s", err);
		free(err);
	}
	free(path);
}

/* Install next's haproxy.cfg and start a HAProxy on it. */
static void
reload_start(struct supervisor *s)
{
	const struct pm_config *cfg = s->next->cfg;
	char *newpath = reload_new_path(s->next), *err = NULL;

	if (rename(newpath, cfg->config_path) == -1) {
		err = xasprintf("cannot rename %s to %s: %s", newpath,
		    cfg->config_path, strerror(errno));
		free(newpath);
		reload_fail(s, err);
		free(err);
		return;
	}
	free(newpath);
	if (procs_start(s, s->next, &err) == -1) {
		reload_fail(s, err);
		free(err);
		return;
	}
	sup_enter(s, SUP_EV_START);
}

static void
reload_on_state_dump(int status, const char *reply, void *arg)
{
	struct supervisor *s = arg;
	char *text, *taken = NULL;

	s->reload.save_query = NULL;
	if (s->state != SUP_SAVING)
		return;
	if (status != 0)
		log_warnx("haproxy[%d]: show servers state: %s; the new HAProxy "
		    "starts without the servers' state", sup_current_pid(s),
		    uv_strerror(status));
	if (s->live == NULL) {
		/* The haproxy.cfg of the HAProxy taken over: not yet
		 * replaced (reload_start renames next's over it). */
		char *err = NULL;
		taken = read_file(s->next->cfg->config_path,
		    READ_FILE_CONFIG_MAX, NULL, &err);
		if (taken == NULL) {
			log_warnx("server state: %s; the new HAProxy starts "
			    "without the servers' state", err);
			free(err);
		}
	}
	text = status != 0 || (s->live == NULL && taken == NULL) ?
	    xstrdup("1\n") : plan_state_file(reply, s->live, taken, s->next);
	free(taken);
	reload_write_state(s->next, text);
	free(text);
	reload_start(s);
}

/* Health-check results and maint flags carry over to the new process:
 * dump them from the running one just before it starts. Version 1 with
 * no line (HAProxy starts from the config alone) when there is nothing
 * to dump or it is in doubt. */
static void
reload_save(struct supervisor *s)
{
	/* A HAProxy taken over (no live snapshot) has its state saved
	 * too: an upgrade or a crash of proxymgrd keeps its maint flags. */
	if (s->procs.current == NULL || s->live_in_doubt) {
		reload_write_state(s->next, "1\n");
		reload_start(s);
		return;
	}
	sup_enter(s, SUP_EV_SAVE);
	/* Asked where the running HAProxy listens. */
	s->reload.save_query = stats_query(s->loop, (s->live != NULL ?
	    s->live : s->next)->cfg->socket_path,
	    "show servers state", 1000, reload_on_state_dump, s);
}

/* Nothing ever served, nor was adopted: what fails now has no older
 * configuration to fall back on. */
static bool
reload_first_start(const struct supervisor *s)
{
	return s->live == NULL && s->procs.current == NULL &&
	    s->counters.reloads == 0 && s->counters.restarts == 0;
}

void
reload_check_done(struct supervisor *s, struct hap_proc *p)
{
	struct check_report r;
	char status[64], *newpath;
	bool retry = false;

	newpath = reload_new_path(s->next);
	if (p->exit_status == 0 && p->term_signal == 0) {
		history_set_check(&s->history, wall_ms(), newpath, true, NULL);
		free(newpath);
		hap_proc_release(p);
		reload_save(s);
		return;
	}
	/* Only lines of the rendered file point at services or settings;
	 * a hand-written config's lines are the user's to fix. */
	check_report_parse(p->output.buf ? p->output.buf : "", p->pid, newpath,
	    &r);
	struct sbuf alerts;
	sbuf_init(&alerts);
	for (size_t i = 0; i < r.nalerts; i++) {
		log_event(LOG_LVL_WARNING, "haproxy_check", NULL, NULL,
		    "haproxy -c: %s", r.alerts[i]);
		sbuf_printf(&alerts, "%s%s", i > 0 ? "\n" : "", r.alerts[i]);
	}
	if (r.nalerts == 0 && p->output.len > 0) {
		log_event(LOG_LVL_WARNING, "haproxy_check", NULL, NULL,
		    "haproxy -c: %s", p->output.buf);
		sbuf_puts(&alerts, p->output.buf);
	}
	history_set_check(&s->history, wall_ms(), newpath, false,
	    alerts.len > 0 ? alerts.buf : "haproxy -c failed");
	sbuf_free(&alerts);
	free(newpath);
	if (++s->reload.attempts < RELOAD_ATTEMPTS) {
		if (reload_blame(s, &r))
			retry = true;
		else if (reload_settings_blamed(s, &r) &&
		    reload_rollback(s, s->next->cfg, "HAProxy refused the "
		    "haproxy.global or haproxy.defaults lines"))
			retry = true;
	}
	hap_proc_status(p, status, sizeof(status));
	hap_proc_release(p);
	if (!retry && reload_first_start(s) && s->hooks.start_refused != NULL &&
	    (s->next->user_config != NULL || reload_settings_blamed(s, &r))) {
		check_report_free(&r);
		s->hooks.start_refused(s->hooks.ctx, "HAProxy refused the "
		    "configuration at the first start (haproxy -c, see "
		    "above)");
	}
	check_report_free(&r);
	if (retry) {
		reload_retry(s);
		return;
	}
	char *why = xasprintf("the new configuration failed haproxy -c (%s)",
	    status);
	reload_fail(s, why);
	free(why);
}

/* A new HAProxy that will not serve: the reload fails (why), the settings
 * go back to the proven ones (rollback_why), and since the process that
 * failed may have bound the stats socket, taking its path from the one
 * that serves, the running configuration is started once more to take
 * it back (once: a restart does not retake). */
void
reload_abandon(struct supervisor *s, const char *why,
    const char *rollback_why)
{
	struct pm_config *failed = pmconfig_ref(s->next->cfg);

	reload_fail(s, why);
	reload_rollback(s, failed, rollback_why);
	pmconfig_unref(failed);
	if (s->procs.current != NULL && s->live != NULL)
		procs_retake_later(s);
}

/* The new HAProxy did not build what was rendered for some services,
 * which are refused as a section `haproxy -c` refuses. It is soft-stopped
 * (it may have taken connections already) and the reload is tried again
 * without them, while the old process serves on. */
static void
reload_verify_failed(struct supervisor *s)
{
	const char *why = "the new HAProxy did not build what was rendered";

	procs_start_rejected(s, why);
	/* It took the stats socket path from the one that serves: as after
	 * a failed runtime batch, the next start must happen even for the
	 * running text, and without a dump of the servers' state. */
	s->live_in_doubt = true;
	if (++s->reload.attempts < RELOAD_ATTEMPTS) {
		reload_retry(s);
		return;
	}
	reload_abandon(s, why, why);
}

/* HAProxy's own view (show stat of the proxies, show servers state of
 * the servers) against the snapshot it was started with: every service's
 * frontend and backend, with exactly its servers.
 * A reply that cannot be read proves nothing either way: logged, and the
 * new process serves. */
static void
reload_on_verify_reply(int status, const char *reply, void *arg)
{
	struct supervisor *s = arg;
	struct hap_proc *p = s->procs.starting;
	struct verify_view view;
	const char *stat;
	char *err = NULL;
	bool blamed = false;

	s->procs.ready_query = NULL;
	if (s->state != SUP_VERIFYING || p == NULL)
		return;
	/* With the stats socket exposed, the new process took the serving
	 * one's socket over (-x): until that one is soft-stopped, either
	 * may answer. Asked again until the new one does. */
	if (status == 0 && stats_info_pid(reply) != p->pid) {
		if (now_ms() < s->procs.start_deadline_ms) {
			reload_verify(s);
			return;
		}
		log_warnx("haproxy[%d]: show stat answered by another process "
		    "until the start timeout; what it built is not verified",
		    p->pid);
		procs_start_ok(s);
		return;
	}
	if (status == 0 && (stat = strstr(reply, "\n\n")) != NULL)
		reply = stat + 2;	/* after show info's */
	if (status != 0 || verify_parse_stat(reply, &view, &err) == -1) {
		log_warnx("haproxy[%d]: show stat: %s; what it built is not "
		    "verified", p->pid, status != 0 ? uv_strerror(status) :
		    err);
		free(err);
		procs_start_ok(s);
		return;
	}
	for (size_t i = 0; i < s->next->n; i++) {
		const struct snapshot_service *e = s->next->v[i];
		char *why = verify_service(&view, e->def->name, &e->servers);
		if (why == NULL)
			continue;
		log_event(LOG_LVL_WARNING, "service_rejected", e->def->name,
		    "haproxy-built-otherwise", "service %s: haproxy[%d] did "
		    "not build what was rendered from %s: %s; refused as if "
		    "haproxy -c had refused it: until its definition or "
		    "servers change it keeps what the running HAProxy has, if "
		    "anything", e->def->name, p->pid, e->def->source, why);
		char *rwhy = xasprintf("HAProxy did not build what was "
		    "rendered: %s", why);
		free(why);
		s->hooks.reject(s->hooks.ctx, e->def->name, e->def, rwhy);
		free(rwhy);
		blamed = true;
	}
	verify_view_free(&view);
	if (blamed)
		reload_verify_failed(s);
	else
		procs_start_ok(s);
}

void
reload_verify(struct supervisor *s)
{
	/* The query is the start's: procs.c cancels it if the new HAProxy
	 * goes meanwhile. */
	s->procs.ready_query = stats_query(s->loop, s->next->cfg->socket_path,
	    "show info;show stat -1 3 -1;show servers state",
	    (unsigned)s->next->cfg->runtime_timeout_ms,
	    reload_on_verify_reply, s);
}

void
reload_commit(struct supervisor *s)
{
	snapshot_free(s->live);
	s->live = s->next;
	s->next = NULL;
	s->counters.reloads++;
	s->counters.reloads_by[sched_reason(s)]++;
	sup_record(s, HISTORY_RELOAD, s->reload.start_us, NULL, 0);
	uint64_t t = now_us();
	histogram_observe(&s->counters.reload_duration,
	    (double)(t - s->reload.start_us) / 1e6);
	histogram_observe(&s->counters.change_reload,
	    (double)(t - s->reload.change_us) / 1e6);
	s->hooks.committed(s->hooks.ctx);
	log_event(LOG_LVL_INFO, "reload_done", NULL,
	    plan_reason_name(sched_reason(s)), "haproxy[%d] serves %zu "
	    "services (reload %llu: %s)", s->procs.current->pid, s->live->n,
	    (unsigned long long)s->counters.reloads, sched_why(s, "start"));
}
