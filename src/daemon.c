#include "config.h"

#include <linux/capability.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "control.h"
#include "control_cmds.h"
#include "daemon.h"
#include "haproxy/listener.h"
#include "haproxy/proc.h"
#include "haproxy/supervisor.h"
#include "haproxy/takeover.h"
#include "metrics.h"
#include "metrics_collect.h"
#include "model.h"
#include "pmconfig.h"
#include "orphans.h"
#include "portowner.h"
#include "privs.h"
#include "sdlisten.h"
#include "sdnotify.h"
#include "service.h"
#include "service_config/source.h"
#include "snapshot.h"
#include "upgrade.h"
#include "util.h"
#include "watchers/watcher.h"
#include "wrapper.h"

struct daemon {
	uv_loop_t		*loop;
	char			*config_file;
	struct pm_config	*cfg;	/* the last read; a reference */
	struct model		 model;
	struct svcsrc		*source;
	struct supervisor	 sup;
	uv_timer_t		 debounce;
	char			*pending_why;
	int			 pending_count;
	uint64_t		 pending_since_us;	/* first change */
	uv_signal_t		 sig_term, sig_int, sig_hup, sig_usr1, sig_usr2;
	uv_timer_t		 adopt_wait;	/* after an adoption */
	uv_timer_t		 stray_check;	/* after a takeover */
	uv_timer_t		 port_retry;	/* a port that was busy */
	int			 port_retry_ms;
	int			 stray_checks;
	int			 adopt_waited_ms;
	bool			 adopting;	/* until discovery answered */
	const char		*adopted_by;	/* "upgrade", "takeover" */
	bool			 stopping;
	bool			 synced;	/* the source reported once */
	/* The first start waits for every source to answer once
	 * (reload.initial_sync_timeout_ms): until then changes are
	 * collected, not planned. */
	bool			 holding;
	uv_timer_t		 first_sync;	/* its bound */
	uv_idle_t		 first_sync_check;	/* after an answer */
	uint64_t		 hold_since_us;
	struct wrapper		*wrapper;	/* named listeners, user cfg */
	const char		*pidfile;
	bool			 ready_sent;	/* sd_notify READY=1 */
	int64_t			 start_ms;	/* wall clock */
	struct metrics_http	*metrics;	/* metrics.listen, or NULL */
	char			*metrics_addr;	/* what it listens on, or */
	int			 metrics_port;	/* tries to */
	uv_timer_t		 metrics_retry;
	int			 metrics_retry_ms;
	struct control		*control;	/* the control socket */
	struct ctlcmd_env	 ctl_env;
};

/* log.format and log.syslog, at start and after each re-read. */
static void
daemon_configure_log(const struct pm_config *cfg)
{
	log_configure((enum log_format)log_format_from_name(cfg->log_format),
	    cfg->log_syslog ? log_facility_from_name(cfg->log_facility) : -1);
}

static void
daemon_metrics_page(void *ctx, struct sbuf *out)
{
	struct daemon *d = ctx;

	metrics_collect(out, &d->model, &d->sup, d->source, d->cfg->sc_type,
	    d->start_ms);
}

/* A metrics port that cannot be had costs the metrics, not proxymgrd:
 * tried again after 5 s, doubling to a minute. */
#define DAEMON_METRICS_RETRY_MIN_MS	5000
#define DAEMON_METRICS_RETRY_MAX_MS	60000

static void daemon_metrics_start(struct daemon *d);

static void
daemon_on_metrics_retry(uv_timer_t *t)
{
	daemon_metrics_start(t->data);
}

static void
daemon_metrics_start(struct daemon *d)
{
	char *err = NULL;

	d->metrics = metrics_http_start(d->loop, d->metrics_addr,
	    d->metrics_port, daemon_metrics_page, d, &err);
	if (d->metrics != NULL) {
		d->metrics_retry_ms = 0;
		log_event(LOG_LVL_INFO, "metrics", NULL, NULL, "metrics: "
		    "serving GET /metrics on %s%s%s:%d",
		    strchr(d->metrics_addr, ':') ? "[" : "", d->metrics_addr,
		    strchr(d->metrics_addr, ':') ? "]" : "", d->metrics_port);
		return;
	}
	d->metrics_retry_ms = d->metrics_retry_ms == 0 ?
	    DAEMON_METRICS_RETRY_MIN_MS : d->metrics_retry_ms * 2;
	if (d->metrics_retry_ms > DAEMON_METRICS_RETRY_MAX_MS)
		d->metrics_retry_ms = DAEMON_METRICS_RETRY_MAX_MS;
	log_event(LOG_LVL_WARNING, "metrics_error", NULL, NULL, "metrics."
	    "listen: %s; serving on without metrics, trying again in %d s",
	    err, d->metrics_retry_ms / 1000);
	free(err);
	uv_timer_start(&d->metrics_retry, daemon_on_metrics_retry,
	    (uint64_t)d->metrics_retry_ms, 0);
}

/* metrics.listen as d->cfg has it now: started, moved or stopped. */
static void
daemon_metrics_configure(struct daemon *d)
{
	const struct pm_config *cfg = d->cfg;

	if (cfg->metrics_addr == NULL ? d->metrics_addr == NULL :
	    d->metrics_addr != NULL && strcmp(cfg->metrics_addr,
	    d->metrics_addr) == 0 && cfg->metrics_port == d->metrics_port)
		return;
	metrics_http_stop(d->metrics);
	d->metrics = NULL;
	uv_timer_stop(&d->metrics_retry);
	d->metrics_retry_ms = 0;
	free(d->metrics_addr);
	d->metrics_addr = NULL;
	if (cfg->metrics_addr == NULL)
		return;
	d->metrics_addr = xstrdup(cfg->metrics_addr);
	d->metrics_port = cfg->metrics_port;
	daemon_metrics_start(d);
}

static void
daemon_on_debounce(uv_timer_t *t)
{
	struct daemon *d = t->data;
	char *why;

	if (d->pending_count > 1)
		why = xasprintf("%s (and %d more changes)", d->pending_why,
		    d->pending_count - 1);
	else
		why = xstrdup(d->pending_why ? d->pending_why : "change");
	free(d->pending_why);
	d->pending_why = NULL;
	d->pending_count = 0;
	sup_request_change(&d->sup, why, d->pending_since_us);
	free(why);
}

/* Changes are collected for runtime_debounce_ms from the first one (by
 * default 0: until the next turn of the loop, so that what was read
 * together is one runtime batch; a batch out holds the next), then
 * planned;
 * the supervisor debounces and rate-limits the reloads. */
static void
daemon_plan_later(struct daemon *d)
{
	if (!uv_is_active((uv_handle_t *)&d->debounce))
		uv_timer_start(&d->debounce, daemon_on_debounce,
		    (uint64_t)d->cfg->runtime_debounce_ms, 0);
}

static void
daemon_on_change(void *ctx, const char *why)
{
	struct daemon *d = ctx;

	log_debug("%s", why);
	if (d->pending_why == NULL) {
		d->pending_why = xstrdup(why);
		d->pending_since_us = now_us();
	}
	d->pending_count++;
	/* After an upgrade, nothing is planned until discovery has answered:
	 * a half-read model must not replace the adopted HAProxy. Nor before
	 * the first start: it starts once, with everything. */
	if (d->adopting || d->holding)
		return;
	daemon_plan_later(d);
}

static void
daemon_src_set(void *ctx, struct service_def *def)
{
	struct daemon *d = ctx;

	model_set_def(&d->model, def);
}

static void
daemon_src_remove(void *ctx, const char *name)
{
	struct daemon *d = ctx;

	model_remove(&d->model, name);
}

static void
daemon_src_invalid(void *ctx, const char *name, const char *where,
    const char *err)
{
	struct daemon *d = ctx;

	model_set_invalid(&d->model, name, where, err);
}

static void daemon_first_sync_poke(void *ctx);

static void
daemon_src_synced(void *ctx)
{
	struct daemon *d = ctx;

	d->synced = true;
	model_sweep_unseen(&d->model);
	daemon_first_sync_poke(d);
}

/* The first start goes ahead: the changes collected meanwhile are
 * planned as one. */
static void
daemon_first_sync_release(struct daemon *d)
{
	d->holding = false;
	watcher_on_answer(NULL, NULL);
	uv_timer_stop(&d->first_sync);
	uv_idle_stop(&d->first_sync_check);
	if (!d->stopping)
		daemon_plan_later(d);
}

static void
daemon_on_first_sync_check(uv_idle_t *h)
{
	struct daemon *d = h->data;
	size_t servers = 0, watchers = 0;

	uv_idle_stop(h);
	if (!d->holding || !d->synced || watcher_unanswered() > 0)
		return;
	for (size_t i = 0; i < d->model.n; i++) {
		servers += d->model.v[i]->servers.n;
		watchers += d->model.v[i]->watcher != NULL;
	}
	log_event(LOG_LVL_INFO, "first_sync", NULL, NULL, "first sync: %zu "
	    "services, %zu servers from %zu watchers in %.0f ms", d->model.n,
	    servers, watchers,
	    (double)(now_us() - d->hold_since_us) / 1000.0);
	daemon_first_sync_release(d);
}

/* A source answered: whether that was the last one is seen once what it
 * reported has been taken in (an idle handle: at the end of this turn
 * of the loop, after every report it brought). */
static void
daemon_first_sync_poke(void *ctx)
{
	struct daemon *d = ctx;

	if (d->holding && d->synced && watcher_unanswered() == 0)
		uv_idle_start(&d->first_sync_check,
		    daemon_on_first_sync_check);
}

/* The bound passed: HAProxy starts with what has answered; the others
 * come in the normal way when they do. */
/* Append to sb the services whose watcher has not answered yet, after
 * the named already there: ten by name, then how many more. */
static void
daemon_name_unanswered(const struct daemon *d, struct sbuf *sb,
    size_t named)
{
	size_t more = 0;

	for (size_t i = 0; i < d->model.n; i++) {
		const struct model_service *ms = d->model.v[i];
		if (ms->watcher == NULL || ms->watcher->answered)
			continue;
		if (named < 10)
			sbuf_printf(sb, "%s%s", named++ > 0 ? ", " : "",
			    ms->name);
		else
			more++;
	}
	if (more > 0)
		sbuf_printf(sb, " (and %zu more)", more);
}

static void
daemon_on_first_sync_bound(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct sbuf sb;

	sbuf_init(&sb);
	if (!d->synced)
		sbuf_printf(&sb, "service_config %s", d->cfg->sc_servers ?
		    d->cfg->sc_servers : d->cfg->sc_path);
	daemon_name_unanswered(d, &sb, d->synced ? 0 : 1);
	log_event(LOG_LVL_INFO, "first_sync", NULL, "bound", "first sync: "
	    "bound of %d ms reached; still waiting on: %s; starting HAProxy "
	    "with the %zu services known, the others follow as they answer",
	    d->cfg->initial_sync_timeout_ms, sb.len > 0 ? sb.buf : "nothing",
	    d->model.n);
	sbuf_free(&sb);
	daemon_first_sync_release(d);
}

/* The desired state built with cfg, with no side effect: ports are
 * wanted, not bound, and no file is read. */
static struct snapshot *
daemon_snapshot(struct daemon *d, struct pm_config *cfg,
    const struct snapshot *live, bool for_reload)
{
	struct snapshot *snap = model_snapshot(&d->model, cfg, live,
	    for_reload);

	if (d->wrapper != NULL) {
		wrapper_attach(d->wrapper, snap, cfg);
		/* Rendered before the hand-written file was attached: its
		 * own user or group means none of ours. */
		if ((cfg->drop_user != NULL || cfg->drop_group != NULL) &&
		    snapshot_sets_identity(snap))
			snapshot_render(snap);
	}
	return snap;
}

static struct snapshot *
daemon_build(void *ctx, struct pm_config *cfg, const struct snapshot *live,
    bool for_reload)
{
	struct daemon *d = ctx;

	/* A reload tries again every port a claim could not have: one may
	 * be free now. Between reloads builds leave them out, so that the
	 * changes of the others still go over the runtime API. */
	if (for_reload)
		listener_forget_failures();
	return daemon_snapshot(d, cfg, live, for_reload);
}

/* A port that could not be had (held by another process) is tried again
 * without waiting for the next change: after 5 s, doubling to a minute.
 * If it still cannot be had, the reload it asks for ends as "unchanged". */
#define DAEMON_PORT_RETRY_MIN_MS	5000
#define DAEMON_PORT_RETRY_MAX_MS	60000

static void daemon_on_change(void *ctx, const char *why);

static void
daemon_on_port_retry(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (d->stopping || !listener_has_failures())
		return;
	listener_forget_failures();
	daemon_on_change(d, "retrying the ports that could not be bound");
}

static void
daemon_port_retry_later(struct daemon *d)
{
	d->port_retry_ms = d->port_retry_ms == 0 ? DAEMON_PORT_RETRY_MIN_MS :
	    d->port_retry_ms * 2;
	if (d->port_retry_ms > DAEMON_PORT_RETRY_MAX_MS)
		d->port_retry_ms = DAEMON_PORT_RETRY_MAX_MS;
	uv_timer_start(&d->port_retry, daemon_on_port_retry,
	    (uint64_t)d->port_retry_ms, 0);
}

/* At the first start, a port held by a HAProxy that is not this
 * proxymgrd's (the takeover found none running CONFIG_PATH): starting
 * one beside it would serve a subset of the services, some of them in
 * two versions. Said plainly, and proxymgrd exits. */
static void
daemon_refuse_foreign(struct daemon *d, const struct snapshot *next)
{
	for (size_t i = 0; i < next->n; i++) {
		const struct listener *l = next->v[i]->listener;
		struct portowner o;
		if (listener_failure(l) == NULL ||
		    !portowner_find(l->port, &o) || !o.haproxy)
			continue;
		if (orphans_runs(o.pid, d->cfg->config_path))
			fatalx("service %s: port %d is held by %s[%d], which "
			    "runs %s but was not yet running when proxymgrd "
			    "looked (a proxymgrd that died was starting it): "
			    "start proxymgrd again to take it over",
			    next->v[i]->def->name, l->port, o.comm, o.pid,
			    d->cfg->config_path);
		fatalx("service %s: port %d is held by %s[%d], which does not "
		    "run %s: it is not this proxymgrd's to take over, and "
		    "proxymgrd does not start a HAProxy serving the other "
		    "services beside it; stop it, or move the service",
		    next->v[i]->def->name, l->port, o.comm, o.pid,
		    d->cfg->config_path);
	}
}

/* A reload is decided on next: claim its sockets. A port that cannot be
 * had is remembered (listener_failure) and next is built again, which
 * leaves it out or keeps what the running HAProxy has, and says so. The
 * new one is built before next is freed, so that the sockets both have
 * stay claimed. Each round remembers one more failed port: it ends. */
static struct snapshot *
daemon_claim(void *ctx, struct snapshot *next, const struct snapshot *live)
{
	struct daemon *d = ctx;

	while (snapshot_claim(next) == -1) {
		if (live == NULL && sup_current_pid(&d->sup) == 0)
			daemon_refuse_foreign(d, next);
		struct snapshot *again = daemon_snapshot(d, next->cfg, live,
		    true);
		snapshot_free(next);
		next = again;
	}
	if (!listener_has_failures())
		d->port_retry_ms = 0;
	else if (d->port_retry.data != NULL &&
	    !uv_is_active((uv_handle_t *)&d->port_retry))
		daemon_port_retry_later(d);
	return next;
}

static void
daemon_reject(void *ctx, const char *service, const struct service_def *def,
    const char *why)
{
	struct daemon *d = ctx;

	model_reject(&d->model, service, def, why);
}

/* The re-read proxymgr.yml's settings failed: cfg, the one the running
 * HAProxy was built from, is the daemon's again. */
static void
daemon_settings_rollback(void *ctx, struct pm_config *cfg)
{
	struct daemon *d = ctx;

	pmconfig_ref(cfg);
	pmconfig_unref(d->cfg);
	d->cfg = cfg;
}

static void
daemon_committed(void *ctx)
{
	struct daemon *d = ctx;

	/* Sockets handed over by an upgrade that no service or listener
	 * took (it went meanwhile), or gave back since: nothing would serve
	 * them, and their ports would take connections that wait forever.
	 * systemd's (LISTEN_FDS) stay: systemd holds those ports anyway, and
	 * a service may come for one later. */
	sdlisten_close_unclaimed("upgrade");
	sdlisten_close_unclaimed("takeover");
	/* systemd (Type=notify): ready once a HAProxy serves, and again
	 * after each reload. */
	sdnotifyf("READY=1\nSTATUS=haproxy[%d] serves\nMAINPID=%ld",
	    sup_current_pid(&d->sup), (long)getpid());
	if (!d->ready_sent)
		log_debug("ready (first HAProxy serves)");
	d->ready_sent = true;
}

/* systemd waits for READY=1 after RELOADING=1, also when it failed. */
static void
daemon_reload_failed(void *ctx, const char *why)
{
	(void)ctx;
	sdnotifyf("READY=1\nSTATUS=reload failed: %s", why);
}

static void
daemon_start_refused(void *ctx, const char *why)
{
	struct daemon *d = ctx;

	wrapper_pidfile_remove(d->pidfile);
	sdnotifyf("STATUS=%s", why);
	fatalx("%s: not starting", why);
}

static void
daemon_on_close(uv_handle_t *h)
{
	(void)h;
}

static void
daemon_stopped(void *ctx)
{
	struct daemon *d = ctx;

	control_stop(d->control);
	d->control = NULL;
	svcsrc_stop(d->source);
	d->source = NULL;
	wrapper_free(d->wrapper);
	d->wrapper = NULL;
	model_free(&d->model);
	uv_close((uv_handle_t *)&d->debounce, daemon_on_close);
	uv_close((uv_handle_t *)&d->sig_term, daemon_on_close);
	uv_close((uv_handle_t *)&d->sig_int, daemon_on_close);
	uv_close((uv_handle_t *)&d->sig_hup, daemon_on_close);
	uv_close((uv_handle_t *)&d->sig_usr1, daemon_on_close);
	uv_close((uv_handle_t *)&d->sig_usr2, daemon_on_close);
	uv_close((uv_handle_t *)&d->adopt_wait, daemon_on_close);
	uv_close((uv_handle_t *)&d->stray_check, daemon_on_close);
	uv_close((uv_handle_t *)&d->port_retry, daemon_on_close);
	uv_close((uv_handle_t *)&d->first_sync, daemon_on_close);
	uv_close((uv_handle_t *)&d->first_sync_check, daemon_on_close);
	metrics_http_stop(d->metrics);
	d->metrics = NULL;
	uv_close((uv_handle_t *)&d->metrics_retry, daemon_on_close);
	sup_log_counters(&d->sup, NULL);
	log_event(LOG_LVL_INFO, "stop", NULL, NULL, "stopped");
}

static const struct svcsrc_cbs daemon_src_cbs_template = {
	.set = daemon_src_set,
	.remove = daemon_src_remove,
	.synced = daemon_src_synced,
	.invalid = daemon_src_invalid,
};

static int
daemon_start_source(struct daemon *d, char **err)
{
	struct svcsrc_cbs cbs = daemon_src_cbs_template;
	struct svcsrc *src;

	cbs.ctx = d;
	model_mark_unseen(&d->model);
	/* Refusals belong to the source that made them, and the new one
	 * reports its own as it starts: a stale one would show a service
	 * that serves as rejected. */
	model_forget_invalid(&d->model);
	/* A new source has listed nothing yet: the first start and an
	 * adoption wait for it, not for the one it replaces. */
	bool was_synced = d->synced;
	d->synced = false;
	if ((src = svcsrc_start(d->loop, d->cfg, &cbs, err)) == NULL) {
		d->synced = was_synced;
		return -1;
	}
	svcsrc_stop(d->source);
	d->source = src;
	return 0;
}

/* SIGUSR2: hand the sockets and the running HAProxy to a fresh copy of
 * proxymgrd's binary, which adopts them. */
static void
daemon_upgrade(struct daemon *d)
{
	struct sup_handoff h;
	int fds[4096], n;
	char *err = NULL;

	if (d->stopping)
		return;
	if (!sup_handoff(&d->sup, &h)) {
		log_warnx("SIGUSR2: HAProxy is being started or changed: not "
		    "now, send SIGUSR2 again in a moment");
		return;
	}
	n = listener_fds(fds, (int)(sizeof(fds) / sizeof(fds[0])));
	sdnotify("RELOADING=1");
	if (upgrade_exec(&h, fds, n, &err) == -1) {
		log_warnx("SIGUSR2: %s; going on as before", err);
		free(err);
		sdnotifyf("READY=1\nMAINPID=%ld", (long)getpid());
	}
	free(h.old);
}

/* What waits before the supervisor sees it: "idle" must mean that every
 * change seen so far is live. */
static const char *
daemon_pending(const struct daemon *d)
{
	if (d->adopting)
		return "waiting for discovery before comparing the adopted "
		    "HAProxy";
	if (d->holding)
		return "waiting for every source to answer before the first "
		    "start";
	if (d->pending_count > 0)
		return "changes being collected";
	return NULL;
}

/* SIGHUP reloads even if nothing differs (certificates, map files), and
 * tries again the ports that could not be had. */
static void
daemon_hup_reload(struct daemon *d)
{
	if (d->wrapper != NULL)
		wrapper_bump(d->wrapper);
	listener_forget_failures();
}

/* SIGHUP, or `reload` on the control socket (who): re-read proxymgr.yml
 * and apply it. Returns -1 with *err if it does not load (or its new
 * source does not start): the running configuration stays. */
static int
daemon_reread(struct daemon *d, const char *who, char **err)
{
	struct pm_config *cfg = NULL, *old;

	if (d->stopping)
		return set_err(err, "proxymgrd is stopping");
	if (d->config_file == NULL) {
		daemon_hup_reload(d);
		log_event(LOG_LVL_INFO, "signal", NULL, who, "%s: reloading %s",
		    who, d->cfg->user_config);
		sdnotify("RELOADING=1");
		daemon_on_change(d, who);
		return 0;
	}
	log_event(LOG_LVL_INFO, "signal", NULL, who, "%s: re-reading %s", who,
	    d->config_file);
	if (pmconfig_load(d->config_file, &cfg, err) == -1)
		return -1;
	/* Only a file that parsed forces a reload: a refused one
	 * changes nothing. */
	daemon_hup_reload(d);
	old = d->cfg;
	d->cfg = cfg;
	if (!svcsrc_same(d->source, cfg) &&
	    daemon_start_source(d, err) == -1) {
		d->cfg = old;
		pmconfig_unref(cfg);
		return -1;
	}
	/* The proven settings stay with the live snapshot, which
	 * holds the config it was built from. */
	pmconfig_unref(old);
	daemon_configure_log(d->cfg);
	daemon_metrics_configure(d);
	sup_set_config(&d->sup, d->cfg);
	(void)wrapper_configure(d->wrapper, d->cfg, NULL);
	sdnotify("RELOADING=1");
	daemon_on_change(d, "proxymgr.yml re-read");
	return 0;
}

/* `reload` on the control socket: SIGHUP's, and a reload of HAProxy even
 * if nothing changed. */
static int
daemon_ctl_reload(void *ctx, char **err)
{
	struct daemon *d = ctx;

	if (daemon_reread(d, "control socket reload", err) == -1)
		return -1;
	sup_force_reload(&d->sup, "reload asked on the control socket");
	return 0;
}

static const char *
daemon_ctl_pending(void *ctx)
{
	return daemon_pending(ctx);
}

/* The control socket, beside the stats socket unless control.socket
 * says otherwise. Without it proxymgrd still runs: it is said loudly. */
static void
daemon_start_control(struct daemon *d)
{
	char *path = pmconfig_control_path(d->cfg), *err = NULL;

	d->ctl_env = (struct ctlcmd_env){
		.loop = d->loop,
		.model = &d->model,
		.sup = &d->sup,
		.source = &d->source,
		.cfg = &d->cfg,
		.config_file = d->config_file,
		.started_ms = wall_ms(),
		.pending = daemon_ctl_pending,
		.reload = daemon_ctl_reload,
		.ctx = d,
	};
	d->control = control_start(d->loop, path, ctlcmd_handle, &d->ctl_env,
	    &err);
	if (d->control == NULL) {
		log_warnx("%s; running without a control socket", err);
		free(err);
	}
	free(path);
}

static void
daemon_on_signal(uv_signal_t *sig, int signum)
{
	struct daemon *d = sig->data;

	if (signum == SIGUSR2) {
		daemon_upgrade(d);
		return;
	}
	if (signum == SIGUSR1) {
		sup_log_counters(&d->sup, daemon_pending(d));
		return;
	}
	if (signum == SIGHUP) {
		char *err = NULL;

		if (daemon_reread(d, "SIGHUP", &err) == -1) {
			log_event(LOG_LVL_WARNING, "config_error", NULL, NULL,
			    "%s; keeping the running configuration", err);
			free(err);
		}
		return;
	}
	if (d->stopping) {
		log_info("second stop signal: stopping HAProxy now");
		sup_stop_now(&d->sup);
		return;
	}
	log_event(LOG_LVL_INFO, "signal", NULL, signum == SIGTERM ?
	    "SIGTERM" : "SIGINT", "%s: stopping HAProxy gracefully",
	    strsignal(signum));
	sdnotify("STOPPING=1");
	d->stopping = true;
	uv_timer_stop(&d->debounce);
	uv_timer_stop(&d->stray_check);
	uv_timer_stop(&d->port_retry);
	if (d->holding)
		daemon_first_sync_release(d);
	sup_stop(&d->sup);
}

/* Where the binary is, for a clear message at start rather than an
 * endless series of failed reloads. Returns 0, or why not (an errno). */
static int
daemon_find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	int why = ENOENT;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0 ? 0 : errno;
	copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir != NULL && why != 0;
	    dir = strtok_r(NULL, ":", &save)) {
		char *full = xasprintf("%s/%s", dir, prog);
		if (access(full, X_OK) == 0)
			why = 0;
		free(full);
	}
	free(copy);
	return why;
}

/* After an upgrade or a takeover: how long discovery may settle before
 * the adopted HAProxy is compared with the model (then again each time,
 * until the source and the watchers answered), and when to say that a
 * source (ZooKeeper) has not answered yet. */
#define DAEMON_ADOPT_SETTLE_MS	300
#define DAEMON_ADOPT_WARN_MS	10000

static void
daemon_on_adopt_wait(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->adopt_waited_ms += DAEMON_ADOPT_SETTLE_MS;
	if (!d->synced) {
		/* The adopted HAProxy serves on meanwhile, however long. */
		if (d->adopt_waited_ms >= DAEMON_ADOPT_WARN_MS &&
		    d->adopt_waited_ms - DAEMON_ADOPT_SETTLE_MS <
		    DAEMON_ADOPT_WARN_MS)
			log_warnx("%s: no answer from the service-config "
			    "source yet; the adopted HAProxy serves on as it "
			    "is until there is one", d->adopted_by);
		uv_timer_start(t, daemon_on_adopt_wait, DAEMON_ADOPT_SETTLE_MS,
		    0);
		return;
	}
	/* Nor before the watchers answered (bounded as the first start): a
	 * model without their servers would differ, and cost a reload. */
	if (watcher_unanswered() > 0 &&
	    d->adopt_waited_ms < d->cfg->initial_sync_timeout_ms) {
		uv_timer_start(t, daemon_on_adopt_wait, DAEMON_ADOPT_SETTLE_MS,
		    0);
		return;
	}
	d->adopting = false;
	daemon_on_change(d, strcmp(d->adopted_by, "upgrade") == 0 ?
	    "start (upgraded)" : "start (taken over)");
}

/* After a takeover, look again for HAProxy processes of this
 * configuration: one that the dead proxymgrd forked as it died may have
 * been too young to be found (between fork and exec, or behind a wrapper
 * script). */
static const unsigned daemon_stray_check_ms[] = { 1000, 3000, 10000 };

static void
daemon_on_stray_check(uv_timer_t *t)
{
	struct daemon *d = t->data;
	size_t next = (size_t)++d->stray_checks;

	sup_adopt_strays(&d->sup);
	if (next < sizeof(daemon_stray_check_ms) /
	    sizeof(daemon_stray_check_ms[0]) && !d->stopping)
		uv_timer_start(t, daemon_on_stray_check,
		    daemon_stray_check_ms[next] -
		    daemon_stray_check_ms[next - 1], 0);
}

/* Who HAProxy serves as, once at start. */
static void
daemon_log_identity(const struct pm_config *cfg)
{
	if (cfg->drop_note != NULL)
		log_warnx("%s", cfg->drop_note);
	else if (cfg->drop_user != NULL || cfg->drop_group != NULL)
		log_info("HAProxy binds and reads its files as root, then "
		    "serves as %s%s%s%s", cfg->user_config != NULL ?
		    "(unless the global section of your file says otherwise) " :
		    "", cfg->drop_user ? cfg->drop_user : "",
		    cfg->drop_user && cfg->drop_group ? ", " : "",
		    cfg->drop_group ? cfg->drop_group : "");
	if (cfg->drop_user != NULL && !privs_have(CAP_SYS_PTRACE))
		log_warnx("no CAP_SYS_PTRACE: should proxymgrd die, a "
		    "restarted one could not take over a HAProxy that runs as "
		    "another user (haproxy.user: root keeps HAProxy root and "
		    "the takeover without it)");
	else if (cfg->drop_user == NULL && cfg->drop_group == NULL &&
	    geteuid() != 0)
		log_info("HAProxy runs as proxymgrd's uid %lu, with no "
		    "capability", (unsigned long)geteuid());
}

int
daemon_run(const char *config_file)
{
	return daemon_run_with(config_file, NULL, NULL, NULL);
}

int
daemon_run_with(const char *config_file, struct pm_config *cfg,
    const char *pidfile, const char *hap_pidfile)
{
	struct daemon d;
	struct sup_hooks hooks = {
		.build = daemon_build,
		.claim = daemon_claim,
		.reject = daemon_reject,
		.settings_rollback = daemon_settings_rollback,
		.committed = daemon_committed,
		.reload_failed = daemon_reload_failed,
		.start_refused = daemon_start_refused,
		.stopped = daemon_stopped,
		.ctx = &d,
	};
	struct sup_handoff handoff;
	bool adopted;
	char *err = NULL;
	int why;

	memset(&d, 0, sizeof(d));
	d.loop = uv_default_loop();
	d.start_ms = wall_ms();
	d.config_file = config_file ? xstrdup(config_file) : NULL;
	d.pidfile = pidfile;
	if (cfg != NULL)
		d.cfg = cfg;
	else if (pmconfig_load(config_file, &d.cfg, &err) == -1)
		fatalx("%s", err);
	if (config_file == NULL)
		config_file = d.cfg->file;
	daemon_configure_log(d.cfg);
	if ((why = daemon_find_program(d.cfg->haproxy_path)) != 0)
		fatalx("%s: haproxy.path: '%s' is not a program uid %u can run: "
		    "%s (install haproxy, or set haproxy.path)", config_file,
		    d.cfg->haproxy_path, (unsigned)getuid(), strerror(why));
	if (mkdir_parents(d.cfg->config_path, &err) == -1 ||
	    mkdir_parents(d.cfg->socket_path, &err) == -1)
		fatalx("%s", err);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid() ^ (unsigned)now_ms());
	sdlisten_init();
	if ((adopted = upgrade_take(&handoff)))
		d.adopted_by = "upgrade";
	else {
		/* Before anything binds: a HAProxy left running by a
		 * proxymgrd that died holds the ports. */
		int r = takeover_find(d.loop, d.cfg, &handoff, &err);
		if (r == -1)
			fatalx("%s", err);
		adopted = r == 1;
		d.adopted_by = "takeover";
	}
	d.wrapper = wrapper_new(d.loop, daemon_on_change, &d);
	if (wrapper_configure(d.wrapper, d.cfg, &err) == -1 ||
	    wrapper_claim(d.wrapper, &err) == -1)
		fatalx("%s", err);
	if (pidfile != NULL && wrapper_pidfile_write(pidfile, &err) == -1)
		fatalx("%s", err);

	uv_timer_init(d.loop, &d.debounce);
	d.debounce.data = &d;
	uv_signal_init(d.loop, &d.sig_term);
	uv_signal_init(d.loop, &d.sig_int);
	uv_signal_init(d.loop, &d.sig_hup);
	uv_signal_init(d.loop, &d.sig_usr1);
	uv_signal_init(d.loop, &d.sig_usr2);
	d.sig_usr2.data = &d;
	uv_signal_start(&d.sig_usr2, daemon_on_signal, SIGUSR2);
	uv_timer_init(d.loop, &d.adopt_wait);
	d.adopt_wait.data = &d;
	uv_timer_init(d.loop, &d.stray_check);
	d.stray_check.data = &d;
	uv_timer_init(d.loop, &d.port_retry);
	d.port_retry.data = &d;
	uv_timer_init(d.loop, &d.metrics_retry);
	d.metrics_retry.data = &d;
	uv_timer_init(d.loop, &d.first_sync);
	d.first_sync.data = &d;
	uv_idle_init(d.loop, &d.first_sync_check);
	d.first_sync_check.data = &d;
	d.sig_term.data = d.sig_int.data = d.sig_hup.data = &d;
	d.sig_usr1.data = &d;
	uv_signal_start(&d.sig_term, daemon_on_signal, SIGTERM);
	uv_signal_start(&d.sig_int, daemon_on_signal, SIGINT);
	uv_signal_start(&d.sig_hup, daemon_on_signal, SIGHUP);
	uv_signal_start(&d.sig_usr1, daemon_on_signal, SIGUSR1);
	/* Handled from here on: what came during an upgrade's exec waited. */
	upgrade_unblock_signals();

	model_init(&d.model, d.loop, daemon_on_change, &d);
	sup_init(&d.sup, d.loop, d.cfg, &hooks);
	daemon_start_control(&d);
	d.sup.procs.pidfile = hap_pidfile;
	log_event(LOG_LVL_INFO, "start", NULL, NULL, "starting: %s, HAProxy "
	    "%s, config %s%s%s, stats socket %s",
	    config_file, d.cfg->haproxy_path,
	    d.cfg->user_config ? d.cfg->user_config : "",
	    d.cfg->user_config ? " + " : "", d.cfg->config_path,
	    d.cfg->socket_path);
	daemon_log_identity(d.cfg);
	daemon_metrics_configure(&d);
	d.adopting = adopted;
	/* A takeover or an upgrade adopts the running HAProxy at once; a
	 * hand-written haproxy.cfg alone (the wrapper) has nothing to wait
	 * for. */
	if (!adopted && d.config_file != NULL &&
	    d.cfg->initial_sync_timeout_ms > 0) {
		d.holding = true;
		d.hold_since_us = now_us();
		watcher_on_answer(daemon_first_sync_poke, &d);
		/* Start HAProxy even with no service: planned on release. */
		daemon_on_change(&d, "start");
	}
	if (daemon_start_source(&d, &err) == -1)
		fatalx("%s: %s", config_file, err);
	if (d.holding) {
		uv_timer_start(&d.first_sync, daemon_on_first_sync_bound,
		    (uint64_t)d.cfg->initial_sync_timeout_ms, 0);
		daemon_first_sync_poke(&d);
	} else if (adopted) {
		sup_adopt(&d.sup, &handoff);
		free(handoff.old);
		/* Compare with what HAProxy runs once discovery has told
		 * everything, or a half-read model would cost a reload. */
		uv_timer_start(&d.adopt_wait, daemon_on_adopt_wait,
		    DAEMON_ADOPT_SETTLE_MS, 0);
		if (strcmp(d.adopted_by, "takeover") == 0)
			uv_timer_start(&d.stray_check, daemon_on_stray_check,
			    daemon_stray_check_ms[0], 0);
	} else
		/* Start HAProxy even with no service yet. */
		daemon_on_change(&d, "start");

	uv_run(d.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(d.loop) != 0)
		log_warnx("event loop closed with handles still open");
	wrapper_pidfile_remove(pidfile);
	wrapper_pidfile_remove(hap_pidfile);	/* no HAProxy is left */
	pmconfig_unref(d.cfg);
	free(d.pending_why);
	free(d.config_file);
	free(d.metrics_addr);
	return 0;
}

/* How long --check waits for a source that answers later (ZooKeeper)
 * and for the watchers' first server lists, in all. */
#define DAEMON_CHECK_SYNC_MS	10000

static void
daemon_check_on_timer(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Run the loop until the source and then every watcher has answered
 * once. Returns -1 if the source did not answer in time; watchers that
 * did not are named, and their services rendered with no server. */
static int
daemon_check_wait(struct daemon *d)
{
	uv_timer_t timer;
	bool fired = false;
	int rc = 0;

	uv_timer_init(d->loop, &timer);
	timer.data = &fired;
	uv_timer_start(&timer, daemon_check_on_timer, DAEMON_CHECK_SYNC_MS, 0);
	while (!d->synced && !fired)
		uv_run(d->loop, UV_RUN_ONCE);
	while (d->synced && watcher_unanswered() > 0 && !fired)
		uv_run(d->loop, UV_RUN_ONCE);
	if (!d->synced) {
		log_warnx("service_config: no answer from %s within %d s",
		    d->cfg->sc_servers ? d->cfg->sc_servers : d->cfg->sc_path,
		    DAEMON_CHECK_SYNC_MS / 1000);
		rc = -1;
	} else if (watcher_unanswered() > 0) {
		struct sbuf sb;

		sbuf_init(&sb);
		daemon_name_unanswered(d, &sb, 0);
		log_info("no server list within %d s from %s: rendered with "
		    "none", DAEMON_CHECK_SYNC_MS / 1000,
		    sb.len > 0 ? sb.buf : "?");
		sbuf_free(&sb);
	}
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(d->loop, UV_RUN_NOWAIT);
	return rc;
}

struct daemon_check_state {
	bool	done;
	bool	ok;
	char	*output;
};

static void
daemon_check_done(struct hap_proc *p)
{
	struct daemon_check_state *st = p->arg;

	st->done = true;
	st->ok = p->exit_status == 0 && p->term_signal == 0;
	st->output = xstrdup(p->output.buf ? p->output.buf : "");
	hap_proc_release(p);
}

int
daemon_check(const char *config_file)
{
	struct daemon_check_state st = { false, false, NULL };
	struct pm_config *cfg = NULL;
	struct svcsrc_cbs cbs = daemon_src_cbs_template;
	struct daemon d;
	struct snapshot *snap;
	struct hap_proc *p;
	char *err = NULL, *tmp, *tmpdir;
	int warnings, rc = 1;

	memset(&d, 0, sizeof(d));
	d.loop = uv_default_loop();
	if (pmconfig_load(config_file, &cfg, &err) == -1) {
		log_warnx("%s", err);
		free(err);
		return 1;
	}
	d.cfg = cfg;
	/* Said, but no problem of the file: --check still passes. */
	daemon_log_identity(cfg);
	listener_set_placeholder(true);
	model_init(&d.model, d.loop, NULL, NULL);
	cbs.ctx = &d;
	warnings = log_warning_count();
	if ((d.source = svcsrc_start(d.loop, cfg, &cbs, &err)) == NULL) {
		log_warnx("%s: %s", config_file, err);
		free(err);
		goto out;
	}
	if (daemon_check_wait(&d) == -1)
		goto out;
	d.wrapper = wrapper_new(d.loop, NULL, NULL);
	(void)wrapper_configure(d.wrapper, cfg, NULL);
	/* Placeholder sockets: haproxy -c needs listening fds. */
	snap = daemon_claim(&d, daemon_snapshot(&d, cfg, NULL, true), NULL);
	fputs(snapshot_text(snap), stdout);
	fflush(stdout);
	/* In a directory of its own: a name guessable in /tmp could be a
	 * link planted by another user for root to write through. */
	tmpdir = xasprintf("%s/proxymgrd-check.XXXXXX", getenv("TMPDIR") &&
	    *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	tmp = NULL;
	if (mkdtemp(tmpdir) == NULL)
		log_warnx("%s: %s", tmpdir, strerror(errno));
	else if (snapshot_write(snap, (tmp = xasprintf("%s/haproxy.cfg",
	    tmpdir)), &err) == -1)
		log_warnx("%s", err);
	else if ((p = hap_proc_spawn(d.loop, HAP_PROC_CHECK, cfg->haproxy_path,
	    tmp, snap, NULL, daemon_check_done, &st, &err)) == NULL)
		log_warnx("%s", err);
	else {
		while (!st.done)
			uv_run(d.loop, UV_RUN_ONCE);
		if (!st.ok)
			log_warnx("HAProxy refused the configuration:\n%s",
			    st.output);
		else if (log_warning_count() == warnings)
			rc = 0;
	}
	if (log_warning_count() != warnings && st.ok)
		log_warnx("%d problems found (see above)",
		    log_warning_count() - warnings);
	free(err);
	free(st.output);
	if (tmp != NULL) {
		unlink(tmp);
		rmdir(tmpdir);
	}
	free(tmp);
	free(tmpdir);
	snapshot_free(snap);
	wrapper_free(d.wrapper);
out:
	svcsrc_stop(d.source);
	model_free(&d.model);
	uv_run(d.loop, UV_RUN_NOWAIT);
	uv_loop_close(d.loop);
	pmconfig_unref(cfg);
	if (rc == 0)
		log_info("%s: configuration OK", config_file);
	return rc;
}
