/* The control socket's commands (control_cmds.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "control_cmds.h"
#include "haproxy/check_report.h"
#include "haproxy/proc.h"
#include "haproxy/stats.h"
#include "haproxy/supervisor.h"
#include "model.h"
#include "pmconfig.h"
#include "service.h"
#include "service_config/source.h"
#include "snapshot.h"
#include "util.h"
#include "watchers/watcher.h"

/* HAProxy's server admin flags (srv_admin_state). */
#define SRV_ADMF_MAINT	(0x01 | 0x02 | 0x04 | 0x20 | 0x40)
#define SRV_ADMF_DRAIN	(0x08 | 0x10)
/* CHK_ST_CONFIGURED of srv_check_state: the server has a check. */
#define CHK_ST_CONFIGURED	0x0002

json_t *
ctlcmd_str(const char *s)
{
	json_t *j;
	char *copy;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	copy = xstrdup(s);
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j != NULL ? j : json_null();
}

json_t *
ctlcmd_time(int64_t ms)
{
	return ms != 0 ? json_integer((json_int_t)ms) : json_null();
}

/* Seconds since a wall-clock ms, ms precision; null for never. */
static json_t *
ctlcmd_age(int64_t ms, int64_t now)
{
	if (ms == 0)
		return json_null();
	return json_real((double)(now - ms) / 1000.0);
}

/* A now_ms() time on the wall clock. */
static int64_t
ctlcmd_mono_to_wall(uint64_t mono_ms)
{
	if (mono_ms == 0)
		return 0;
	return wall_ms() - (int64_t)(now_ms() - mono_ms);
}

static json_t *
ctlcmd_entry(const struct history_entry *e)
{
	if (e == NULL)
		return json_null();
	return json_pack("{s:I, s:I, s:s, s:s, s:o, s:f, s:o, s:b, s:b, s:o, "
	    "s:I, s:o}",
	    "seq", (json_int_t)e->seq,
	    "time_ms", (json_int_t)e->time_ms,
	    "kind", history_kind_name(e->kind),
	    "reason", plan_reason_name(e->reason),
	    "why", ctlcmd_str(e->why),
	    "duration_ms", (double)e->duration_us / 1000.0,
	    "change_to_live_ms", e->change_to_live_us != 0 ?
	    json_real((double)e->change_to_live_us / 1000.0) : json_null(),
	    "ok", e->ok,
	    "forced", e->forced,
	    "error", ctlcmd_str(e->error),
	    "commands", (json_int_t)e->commands,
	    "pid", e->pid > 0 ? json_integer(e->pid) : json_null());
}

static json_t *
ctlcmd_counters(const struct sup_counters *c)
{
	json_t *by = json_object();

	for (int r = PLAN_START; r < PLAN_REASONS; r++)
		json_object_set_new(by, plan_reason_name((enum plan_reason)r),
		    json_integer((json_int_t)c->reloads_by[r]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I}",
	    "runtime_batches", (json_int_t)c->rt_batches,
	    "runtime_commands", (json_int_t)c->rt_commands,
	    "runtime_failures", (json_int_t)c->rt_failures,
	    "servers_added", (json_int_t)c->servers_added,
	    "servers_retired", (json_int_t)c->servers_retired,
	    "servers_returned", (json_int_t)c->servers_returned,
	    "reloads", (json_int_t)c->reloads,
	    "reloads_by_reason", by,
	    "reload_failures", (json_int_t)c->reload_failures,
	    "restarts", (json_int_t)c->restarts);
}

static json_t *
ctlcmd_proc(const struct hap_proc *p, bool draining)
{
	return json_pack("{s:i, s:o, s:o, s:b}",
	    "pid", p->pid,
	    "generation", p->generation > 0 ?
	    json_integer((json_int_t)p->generation) : json_null(),
	    draining ? "draining_since_ms" : "since_ms",
	    ctlcmd_time(ctlcmd_mono_to_wall(draining ? p->soft_stop_ms :
	    p->serving_ms != 0 ? p->serving_ms : p->started_ms)),
	    "adopted", p->adopted || p->generation == 0);
}

json_t *
ctlcmd_status(const struct ctlcmd_env *e)
{
	const struct supervisor *s = e->sup;
	const struct history *h = &s->history;
	const char *outside = e->pending ? e->pending(e->ctx) : NULL;
	json_t *draining = json_array(), *changes = json_array(), *cur;
	json_t *check = json_null();
	size_t counts[MODEL_STATES] = { 0 };
	int64_t now = wall_ms();
	struct sbuf activity;

	for (const struct hap_proc *p = s->procs.old; p != NULL; p = p->next)
		if (!p->exited)
			json_array_append_new(draining, ctlcmd_proc(p, true));
	for (size_t i = 0; i < s->sched.nlog; i++)
		if (s->sched.log[i].stage == SCHED_PENDING)
			json_array_append_new(changes,
			    ctlcmd_str(s->sched.log[i].text));
	cur = s->procs.current != NULL ? ctlcmd_proc(s->procs.current, false) :
	    json_null();
	if (s->procs.current != NULL && s->live != NULL)
		json_object_set_new(cur, "services",
		    json_integer((json_int_t)s->live->n));
	if (h->check.time_ms != 0)
		check = json_pack("{s:I, s:b, s:o, s:o}",
		    "time_ms", (json_int_t)h->check.time_ms,
		    "ok", h->check.ok,
		    "error", ctlcmd_str(h->check.error),
		    "path", ctlcmd_str(h->check.path));
	for (size_t i = 0; i < e->model->n; i++) {
		struct model_status st;
		model_service_status(e->model, e->model->v[i], &st);
		counts[st.state]++;
	}
	for (size_t i = 0; i < e->model->ninvalid; i++)
		if (model_find(e->model, e->model->invalid[i].name) == NULL)
			counts[MODEL_REJECTED]++;
	sbuf_init(&activity);
	sup_describe(s, outside, &activity);
	json_t *out = json_pack("{s:s, s:i, s:o, s:I, s:f, s:o, s:o, s:o, "
	    "s:{s:o, s:b, s:o, s:o}, s:o, s:o, s:o, s:{s:I, s:I, s:I}, s:o}",
	    "version", PACKAGE_VERSION,
	    "pid", (int)getpid(),
	    "config", ctlcmd_str(e->config_file ? e->config_file :
	    (*e->cfg)->user_config),
	    "started_ms", (json_int_t)e->started_ms,
	    "uptime_s", (double)(now - e->started_ms) / 1000.0,
	    "state", ctlcmd_str(activity.buf),
	    "haproxy", cur,
	    "draining", draining,
	    "pending",
	    "changes", changes,
	    "reload_wanted", s->sched.reload_wanted,
	    "collecting", ctlcmd_str(outside),
	    "reload_reason", s->sched.reload_wanted && s->sched.nlog > 0 ?
	    json_string(plan_reason_name(sched_reason(s))) : json_null(),
	    "last_reload", ctlcmd_entry(history_last(h, HISTORY_RELOAD)),
	    "last_change", ctlcmd_entry(history_last(h, HISTORY_KINDS)),
	    "last_check", check,
	    "services",
	    "ok", (json_int_t)counts[MODEL_OK],
	    "stale", (json_int_t)counts[MODEL_STALE],
	    "rejected", (json_int_t)counts[MODEL_REJECTED],
	    "counters", ctlcmd_counters(&s->counters));
	sbuf_free(&activity);
	return out;
}

json_t *
ctlcmd_services(const struct ctlcmd_env *e)
{
	struct model *m = e->model;
	json_t *list = json_array();
	int64_t now = wall_ms();
	size_t i = 0, j = 0;

	/* Both lists are sorted by name: merged, a refused newcomer shows
	 * among the services. */
	while (i < m->n || j < m->ninvalid) {
		const struct model_invalid *iv = j < m->ninvalid ?
		    &m->invalid[j] : NULL;
		int c = i == m->n ? 1 : iv == NULL ? -1 :
		    strcmp(m->v[i]->name, iv->name);
		if (c > 0) {
			/* Never had a good definition. */
			json_array_append_new(list, json_pack("{s:o, s:n, s:n, "
			    "s:n, s:o, s:s, s:o, s:i, s:o, s:o}",
			    "name", ctlcmd_str(iv->name), "type", "port",
			    "bind_address", "source", ctlcmd_str(iv->source),
			    "state", "rejected", "reason", ctlcmd_str(iv->error),
			    "servers", 0, "changed_ms", ctlcmd_time(iv->since_ms),
			    "age_s", ctlcmd_age(iv->since_ms, now)));
			j++;
			continue;
		}
		if (c == 0)
			j++;
		struct model_service *ms = m->v[i++];
		struct model_status st;
		model_service_status(m, ms, &st);
		json_array_append_new(list, json_pack("{s:o, s:s, s:i, s:o, "
		    "s:o, s:s, s:o, s:I, s:o, s:o}",
		    "name", ctlcmd_str(ms->name),
		    "type", ms->def->watcher->type,
		    "port", ms->def->port,
		    "bind_address", ctlcmd_str(ms->def->bind_address ?
		    ms->def->bind_address : (*e->cfg)->bind_address),
		    "source", ctlcmd_str(st.source),
		    "state", model_state_name(st.state),
		    "reason", ctlcmd_str(st.reason),
		    "servers", (json_int_t)ms->servers.n,
		    "changed_ms", ctlcmd_time(st.changed_ms),
		    "age_s", ctlcmd_age(st.changed_ms, now)));
	}
	return json_pack("{s:o}", "services", list);
}

static json_t *
ctlcmd_health(const char *kind, const char *service, const char *type,
    const struct watcher_health *h, int64_t now)
{
	return json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "kind", kind,
	    "service", ctlcmd_str(service),
	    "type", type,
	    "state", watcher_state_name(h->state),
	    "last_sync_ms", ctlcmd_time(h->last_sync_ms),
	    "last_sync_age_s", ctlcmd_age(h->last_sync_ms, now),
	    "last_change_ms", ctlcmd_time(h->last_change_ms),
	    "last_error", ctlcmd_str(h->last_error),
	    "last_error_ms", ctlcmd_time(h->last_error_ms),
	    "detail", h->detail != NULL ? json_deep_copy(h->detail) :
	    json_null());
}

json_t *
ctlcmd_watchers(const struct ctlcmd_env *e)
{
	json_t *list = json_array();
	int64_t now = wall_ms();
	struct svcsrc *src = *e->source;

	if (src != NULL)
		json_array_append_new(list, ctlcmd_health("service_config",
		    NULL, src->ops->type, svcsrc_health(src), now));
	for (size_t i = 0; i < e->model->n; i++) {
		struct model_service *ms = e->model->v[i];
		if (ms->watcher == NULL)
			continue;
		json_array_append_new(list, ctlcmd_health("watcher", ms->name,
		    ms->def->watcher->type, watcher_health(ms->watcher), now));
	}
	return json_pack("{s:o}", "watchers", list);
}

json_t *
ctlcmd_reloads(const struct ctlcmd_env *e)
{
	const struct history *h = &e->sup->history;
	json_t *list = json_array();

	for (size_t i = 0; i < h->n; i++)
		json_array_append_new(list, ctlcmd_entry(history_get(h, i)));
	return json_pack("{s:o, s:I}", "reloads", list,
	    "total", (json_int_t)h->seq);
}

int
ctlcmd_parse_srvstate(const char *line, struct ctlcmd_srvstate *out)
{
	char *copy, *f[32], *save = NULL, *tok;
	size_t nf = 0;

	memset(out, 0, sizeof(*out));
	if (line[0] == '#' || line[0] == '\0')
		return -1;
	copy = xstrdup(line);
	for (tok = strtok_r(copy, " ", &save); tok != NULL && nf < 32;
	    tok = strtok_r(NULL, " ", &save))
		f[nf++] = tok;
	if (nf < 19) {
		free(copy);
		return -1;
	}
	snprintf(out->backend, sizeof(out->backend), "%s", f[1]);
	out->id = atoi(f[2]);
	snprintf(out->server, sizeof(out->server), "%s", f[3]);
	snprintf(out->addr, sizeof(out->addr), "%s", f[4]);
	out->op_state = atoi(f[5]);
	out->admin_state = atoi(f[6]);
	out->weight = atoi(f[7]);
	out->check_status = atoi(f[10]);
	out->check_result = atoi(f[11]);
	out->check_state = atoi(f[13]);
	out->port = atoi(f[18]);
	free(copy);
	return 0;
}

const char *
ctlcmd_op_state_name(int op)
{
	static const char *const names[] = { "stopped", "starting", "running",
	    "stopping" };

	return op >= 0 && op < 4 ? names[op] : "unknown";
}

const char *
ctlcmd_admin_name(int admin)
{
	if (admin & SRV_ADMF_MAINT)
		return "maint";
	if (admin & SRV_ADMF_DRAIN)
		return "drain";
	return "ready";
}

const char *
ctlcmd_check_name(int result, int check_state)
{
	static const char *const names[] = { "unknown", "neutral", "failed",
	    "passed", "condpass" };

	if (!(check_state & CHK_ST_CONFIGURED))
		return "none";
	return result >= 0 && result < 5 ? names[result] : "unknown";
}

/* servers SERVICE: the model's servers and the live snapshot's (retired
 * ones too), beside `show servers state` of the HAProxy that serves. */
struct ctlcmd_servers {
	struct ctl_call		*call;
	const struct ctlcmd_env	*env;
	char			*service;
	int			 pid;
	struct stats_query	*q;
};

static json_t *
ctlcmd_server_row(const char *name, const char *host, int port, int weight,
    const char *wanted)
{
	return json_pack("{s:o, s:o, s:i, s:o, s:s, s:n}",
	    "name", ctlcmd_str(name), "address", ctlcmd_str(host),
	    "port", port,
	    "weight", weight > 0 ? json_integer(weight) : json_null(),
	    "wanted", wanted, "haproxy");
}

static json_t *
ctlcmd_find_row(json_t *rows, const char *name)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) {
		const char *n = json_string_value(json_object_get(row, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return row;
	}
	return NULL;
}

static void
ctlcmd_on_servers_state(int status, const char *reply, void *arg)
{
	struct ctlcmd_servers *cs = arg;
	const struct ctlcmd_env *e = cs->env;
	struct model_service *ms = model_find(e->model, cs->service);
	const struct snapshot *live = e->sup->live;
	const struct snapshot_service *le = snapshot_find(live, cs->service);
	json_t *rows = json_array(), *herr = json_null();

	if (ms == NULL && le == NULL) {
		json_decref(rows);
		ctl_fail(cs->call, "no service %s", cs->service);
		goto out;
	}
	/* What proxymgrd wants: the model's servers are to serve, each in
	 * the slot (HAProxy server) that serves its address, named after
	 * the address it was created for; one with no slot yet has no name.
	 * What the running HAProxy has besides is retired (maint), or waits
	 * for the model's change to go live. */
	struct server_index ix = { NULL, 0 };
	bool *seen = NULL;
	if (le != NULL) {
		srvindex_build(&ix, &le->servers);
		seen = xcalloc(le->servers.n + 1, sizeof(*seen));
	}
	for (size_t i = 0; ms != NULL && i < ms->servers.n; i++) {
		const struct server *sv = &ms->servers.v[i];
		const struct server *ls = le ? srvindex_find(&ix, sv->host,
		    sv->port) : NULL;
		if (ls != NULL)
			seen[ls - le->servers.v] = true;
		json_array_append_new(rows, ctlcmd_server_row(ls ? ls->name :
		    NULL, sv->host, sv->port, sv->weight, ls == NULL ?
		    "pending" : ls->disabled ? "ready (pending)" : "ready"));
	}
	for (size_t i = 0; le != NULL && i < le->servers.n; i++) {
		const struct server *sv = &le->servers.v[i];
		if (seen[i])
			continue;
		json_array_append_new(rows, ctlcmd_server_row(sv->name,
		    sv->host, sv->port, sv->weight, sv->disabled ? "retired" :
		    "removed (pending)"));
	}
	srvindex_free(&ix);
	free(seen);
	if (status != 0)
		herr = json_string(uv_strerror(status));
	else if (strncmp(reply, "1\n", 2) != 0) {
		/* "Can't find backend." and the like. */
		char *first = xstrdup(reply);
		first[strcspn(first, "\n")] = '\0';
		herr = ctlcmd_str(first[0] ? first : "empty reply");
		free(first);
	} else {
		char *copy = xstrdup(reply), *save = NULL;
		for (char *line = strtok_r(copy, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			struct ctlcmd_srvstate st;
			if (ctlcmd_parse_srvstate(line, &st) == -1 ||
			    strcmp(st.backend, cs->service) != 0)
				continue;
			json_t *row = ctlcmd_find_row(rows, st.server);
			if (row == NULL) {
				row = ctlcmd_server_row(st.server, st.addr,
				    st.port, 0, "none");
				json_array_append_new(rows, row);
			}
			json_object_set_new(row, "haproxy", json_pack("{s:i, "
			    "s:o, s:i, s:s, s:s, s:i, s:i, s:s, s:i}",
			    "id", st.id,
			    "address", ctlcmd_str(st.addr), "port", st.port,
			    "op_state", ctlcmd_op_state_name(st.op_state),
			    "admin_state", ctlcmd_admin_name(st.admin_state),
			    "admin_flags", st.admin_state,
			    "weight", st.weight,
			    "check", ctlcmd_check_name(st.check_result,
			    st.check_state),
			    "check_status", st.check_status));
		}
		free(copy);
	}
	ctl_answer(cs->call, json_pack("{s:o, s:o, s:o, s:o}",
	    "service", ctlcmd_str(cs->service),
	    "haproxy_pid", cs->pid > 0 ? json_integer(cs->pid) : json_null(),
	    "haproxy_error", herr,
	    "servers", rows));
out:
	free(cs->service);
	free(cs);
}

static void
ctlcmd_servers(const struct ctlcmd_env *e, struct ctl_call *call,
    const char *name)
{
	const struct snapshot *live = e->sup->live;
	struct ctlcmd_servers *cs;
	char *cmd;

	if (model_find(e->model, name) == NULL &&
	    snapshot_find(live, name) == NULL) {
		ctl_fail(call, "no service %s", name);
		return;
	}
	cs = xcalloc(1, sizeof(*cs));
	cs->call = call;
	cs->env = e;
	cs->service = xstrdup(name);
	cs->pid = sup_current_pid(e->sup);
	if (live == NULL || cs->pid == 0) {
		ctlcmd_on_servers_state(UV_ENOTCONN, "", cs);
		return;
	}
	/* Names are checked when a definition is read: one word of
	 * [A-Za-z0-9_.-], nothing for HAProxy's CLI to misread. */
	cmd = xasprintf("show servers state %s", name);
	stats_query(e->loop, live->cfg->socket_path, cmd,
	    (unsigned)live->cfg->runtime_timeout_ms, ctlcmd_on_servers_state,
	    cs);
	free(cmd);
}

/* check: `haproxy -c` of what runs, on the sockets it runs with. One at
 * a time. */
struct ctlcmd_check {
	struct ctl_call		*call;
	struct supervisor	*sup;
	char			*path;
	uint64_t		 start_us;
};

static bool ctlcmd_checking;

static void
ctlcmd_on_check_done(struct hap_proc *p)
{
	struct ctlcmd_check *cc = p->arg;
	bool ok = p->exit_status == 0 && p->term_signal == 0;
	const char *output = p->output.buf ? p->output.buf : "";
	struct check_report r;
	struct sbuf alerts;
	char status[64];

	ctlcmd_checking = false;
	check_report_parse(output, p->pid, cc->path, &r);
	sbuf_init(&alerts);
	for (size_t i = 0; i < r.nalerts; i++)
		sbuf_printf(&alerts, "%s%s", i > 0 ? "\n" : "", r.alerts[i]);
	if (!ok && alerts.len == 0)
		sbuf_puts(&alerts, output[0] ? output :
		    hap_proc_status(p, status, sizeof(status)));
	check_report_free(&r);
	/* Not once the supervisor is gone (a stop while it ran). */
	if (cc->sup->state != SUP_STOPPED)
		history_set_check(&cc->sup->history, wall_ms(), cc->path, ok,
		    alerts.buf);
	log_info("control: haproxy -c %s: %s", cc->path, ok ? "valid" :
	    "refused");
	ctl_answer(cc->call, json_pack("{s:b, s:o, s:o, s:f}",
	    "valid", ok, "path", ctlcmd_str(cc->path),
	    "error", ok ? json_null() : ctlcmd_str(alerts.buf),
	    "duration_ms", (double)(now_us() - cc->start_us) / 1000.0));
	sbuf_free(&alerts);
	hap_proc_release(p);
	free(cc->path);
	free(cc);
}

static void
ctlcmd_check(const struct ctlcmd_env *e, struct ctl_call *call)
{
	struct supervisor *s = e->sup;
	struct ctlcmd_check *cc;
	struct hap_proc *p;
	char *err = NULL;

	if (s->live == NULL || sup_current_pid(s) == 0) {
		ctl_fail(call, "no HAProxy serves yet: nothing to check");
		return;
	}
	if (ctlcmd_checking) {
		ctl_fail(call, "a check is already running");
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->call = call;
	cc->sup = s;
	cc->path = xstrdup(s->live->cfg->config_path);
	cc->start_us = now_us();
	/* With the sockets it runs with, as a reload's check. */
	p = hap_proc_spawn(e->loop, HAP_PROC_CHECK, s->live->cfg->haproxy_path,
	    cc->path, s->live, NULL, ctlcmd_on_check_done, cc, &err);
	if (p == NULL) {
		ctl_fail(call, "haproxy -c: %s", err);
		free(err);
		free(cc->path);
		free(cc);
		return;
	}
	ctlcmd_checking = true;
}

void
ctlcmd_handle(void *ctx, struct ctl_call *call, const struct ctl_request *req)
{
	struct ctlcmd_env *e = ctx;
	char *err = NULL;
	uint64_t seq;

	switch (req->cmd) {
	case CTL_STATUS:
		ctl_answer(call, ctlcmd_status(e));
		break;
	case CTL_SERVICES:
		ctl_answer(call, ctlcmd_services(e));
		break;
	case CTL_SERVERS:
		ctlcmd_servers(e, call, req->arg);
		break;
	case CTL_WATCHERS:
		ctl_answer(call, ctlcmd_watchers(e));
		break;
	case CTL_RELOADS:
		ctl_answer(call, ctlcmd_reloads(e));
		break;
	case CTL_RELOAD:
		seq = e->sup->history.seq;
		if (e->reload(e->ctx, &err) == -1) {
			ctl_fail(call, "%s", err);
			free(err);
			break;
		}
		/* Its outcome: the first forced reload entry past seq. */
		ctl_answer(call, json_pack("{s:b, s:I}", "queued", 1,
		    "after_seq", (json_int_t)seq));
		break;
	case CTL_CHECK:
		ctlcmd_check(e, call);
		break;
	case CTL_HELP:
	default:
		ctl_answer(call, ctl_help());
		break;
	}
}
