/* Prometheus text format 0.0.4 (metrics_render.h). */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "haproxy/planner.h"
#include "haproxy/supervisor.h"
#include "histogram.h"
#include "metrics_render.h"
#include "util.h"

void
metrics_label_value(struct sbuf *sb, const char *v)
{
	sbuf_add(sb, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '\\' || *p == '"') {
			sbuf_add(sb, "\\", 1);
			sbuf_add(sb, (const char *)p, 1);
		} else if (*p == '\n')
			sbuf_puts(sb, "\\n");
		else if (*p < 0x20 || *p >= 0x7f)
			/* Names are ASCII by validation; anything else could
			 * be bad UTF-8, which breaks the whole scrape. */
			sbuf_add(sb, "?", 1);
		else
			sbuf_add(sb, (const char *)p, 1);
	}
	sbuf_add(sb, "\"", 1);
}

static void
mr_head(struct sbuf *sb, const char *name, const char *type,
    const char *help)
{
	sbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
mr_u64(struct sbuf *sb, const char *name, const char *label,
    const char *value, uint64_t v)
{
	sbuf_puts(sb, name);
	if (label != NULL) {
		sbuf_printf(sb, "{%s=", label);
		metrics_label_value(sb, value);
		sbuf_add(sb, "}", 1);
	}
	sbuf_printf(sb, " %" PRIu64 "\n", v);
}

static void
mr_counter(struct sbuf *sb, const char *name, const char *help, uint64_t v)
{
	mr_head(sb, name, "counter", help);
	mr_u64(sb, name, NULL, NULL, v);
}

static void
mr_counts(struct sbuf *sb, const char *name, const char *type,
    const char *help, const char *label, const struct metrics_count *v,
    size_t n)
{
	mr_head(sb, name, type, help);
	for (size_t i = 0; i < n; i++)
		mr_u64(sb, name, label, v[i].label, v[i].value);
}

/* A histogram's series; label/value (or NULL) tell it from the others of
 * its family. */
static void
mr_histogram(struct sbuf *sb, const char *name, const char *label,
    const char *value, const struct histogram *h)
{
	for (size_t i = 0; i <= h->nbounds; i++) {
		sbuf_printf(sb, "%s_bucket{", name);
		if (label != NULL) {
			sbuf_printf(sb, "%s=", label);
			metrics_label_value(sb, value);
			sbuf_add(sb, ",", 1);
		}
		if (i < h->nbounds)
			sbuf_printf(sb, "le=\"%g\"} ", h->bounds[i]);
		else
			sbuf_puts(sb, "le=\"+Inf\"} ");
		sbuf_printf(sb, "%" PRIu64 "\n", histogram_cumulative(h, i));
	}
	sbuf_printf(sb, "%s_sum", name);
	if (label != NULL) {
		sbuf_printf(sb, "{%s=", label);
		metrics_label_value(sb, value);
		sbuf_add(sb, "}", 1);
	}
	sbuf_printf(sb, " %.9g\n%s_count", h->sum, name);
	if (label != NULL) {
		sbuf_printf(sb, "{%s=", label);
		metrics_label_value(sb, value);
		sbuf_add(sb, "}", 1);
	}
	sbuf_printf(sb, " %" PRIu64 "\n", h->count);
}

static void
mr_sources(struct sbuf *sb, const struct metrics_input *in)
{
	const char *name = "proxymgrd_watcher_last_sync_age_seconds";

	mr_head(sb, name, "gauge", "Seconds since the service's watcher last "
	    "read its servers successfully (absent: never).");
	for (size_t i = 0; i < in->nsources; i++) {
		const struct metrics_source *src = &in->sources[i];
		if (src->service == NULL || src->last_sync_ms == 0)
			continue;
		sbuf_printf(sb, "%s{service=", name);
		metrics_label_value(sb, src->service);
		sbuf_puts(sb, ",type=");
		metrics_label_value(sb, src->type);
		sbuf_printf(sb, "} %.3f\n", (double)(in->now_ms -
		    src->last_sync_ms) / 1000.0);
	}
	name = "proxymgrd_service_config_last_sync_age_seconds";
	mr_head(sb, name, "gauge", "Seconds since the service-config source "
	    "last read the service definitions successfully (absent: "
	    "never).");
	for (size_t i = 0; i < in->nsources; i++) {
		const struct metrics_source *src = &in->sources[i];
		if (src->service != NULL || src->last_sync_ms == 0)
			continue;
		sbuf_printf(sb, "%s{type=", name);
		metrics_label_value(sb, src->type);
		sbuf_printf(sb, "} %.3f\n", (double)(in->now_ms -
		    src->last_sync_ms) / 1000.0);
	}
}

static void
mr_zookeeper(struct sbuf *sb, const struct metrics_input *in)
{
	const char *name = "proxymgrd_zookeeper_session_state";

	mr_head(sb, name, "gauge", "1 for the state each ZooKeeper session "
	    "is in, 0 for the others; one session per server list.");
	for (size_t i = 0; i < in->nzk; i++)
		for (size_t j = 0; j < in->nzk_states; j++) {
			sbuf_printf(sb, "%s{servers=", name);
			metrics_label_value(sb, in->zk[i].servers);
			sbuf_puts(sb, ",state=");
			metrics_label_value(sb, in->zk_states[j]);
			sbuf_printf(sb, "} %d\n",
			    strcmp(in->zk[i].state, in->zk_states[j]) == 0);
		}
}

void
metrics_render(struct sbuf *sb, const struct metrics_input *in)
{
	const struct sup_counters *c = in->counters;
	const char *name;

	mr_head(sb, "proxymgrd_build_info", "gauge",
	    "Always 1; the version of proxymgrd in its label.");
	mr_u64(sb, "proxymgrd_build_info", "version", in->version, 1);
	mr_head(sb, "proxymgrd_start_time_seconds", "gauge",
	    "When proxymgrd started, in seconds since the Unix epoch.");
	sbuf_printf(sb, "proxymgrd_start_time_seconds %.3f\n",
	    (double)in->start_ms / 1000.0);

	name = "proxymgrd_reloads_total";
	mr_head(sb, name, "counter", "HAProxy reloads that went live (the "
	    "first start included), by the reason they were needed.");
	for (int r = 0; r < PLAN_REASONS; r++)
		if (r != PLAN_RUNTIME)
			mr_u64(sb, name, "reason",
			    plan_reason_name((enum plan_reason)r),
			    c->reloads_by[r]);
	mr_counter(sb, "proxymgrd_reload_failures_total", "Reloads that "
	    "failed; the running HAProxy served on.", c->reload_failures);
	mr_counter(sb, "proxymgrd_haproxy_restarts_total", "HAProxy started "
	    "again on the running configuration (one died, or the stats "
	    "socket was taken back).", c->restarts);
	mr_counter(sb, "proxymgrd_runtime_batches_total", "Batches of "
	    "runtime-API commands applied without a reload.", c->rt_batches);
	mr_counter(sb, "proxymgrd_runtime_commands_total", "Runtime-API "
	    "commands HAProxy carried out as asked.", c->rt_commands);
	mr_counter(sb, "proxymgrd_runtime_batch_failures_total", "Runtime "
	    "batches that failed and became a reload.", c->rt_failures);
	name = "proxymgrd_runtime_server_changes_total";
	mr_head(sb, name, "counter", "Servers changed over the runtime API, "
	    "by change.");
	mr_u64(sb, name, "change", "added", c->servers_added);
	mr_u64(sb, name, "change", "retired", c->servers_retired);
	mr_u64(sb, name, "change", "returned", c->servers_returned);

	mr_counts(sb, "proxymgrd_services", "gauge", "Services known, by "
	    "state: ok, stale (its watcher cannot read its servers) or "
	    "rejected (its definition was refused).", "state", in->services,
	    in->nservices);
	mr_counts(sb, "proxymgrd_servers", "gauge", "Servers in the "
	    "configuration HAProxy runs, by state: active, or retired (kept "
	    "disabled so that it can come back without a reload).", "state",
	    in->servers, in->nservers);
	mr_counts(sb, "proxymgrd_watchers", "gauge", "Watchers (one per "
	    "service), by health state.", "state", in->watchers,
	    in->nwatchers);
	name = "proxymgrd_haproxy_processes";
	mr_head(sb, name, "gauge", "HAProxy processes proxymgrd runs, by "
	    "role: the one serving, and old ones still draining.");
	mr_u64(sb, name, "role", "serving", in->haproxy_serving);
	mr_u64(sb, name, "role", "draining", in->haproxy_draining);
	mr_zookeeper(sb, in);
	mr_sources(sb, in);

	name = "proxymgrd_change_to_live_seconds";
	mr_head(sb, name, "histogram", "From a change seen by a watcher or "
	    "source to HAProxy running it, by path: runtime (API commands) "
	    "or reload.");
	mr_histogram(sb, name, "path", "runtime", in->change_runtime);
	mr_histogram(sb, name, "path", "reload", in->change_reload);
	name = "proxymgrd_reload_duration_seconds";
	mr_head(sb, name, "histogram", "Duration of reloads that went live, "
	    "from the check of the new configuration to the new HAProxy "
	    "serving.");
	mr_histogram(sb, name, NULL, NULL, in->reload_duration);
}
