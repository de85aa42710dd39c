/* Unit tests for the Prometheus text rendering: names, types, labels and
 * their escaping, histogram buckets. (promtool checks a real scrape in
 * tests/integration/metrics.sh.) */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/supervisor.h"
#include "histogram.h"
#include "metrics_render.h"
#include "util.h"

static void
assert_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len == n && strncmp(p, line, n) == 0)
			return;
		p = nl != NULL ? nl + 1 : NULL;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static const double bounds[] = { 0.01, 0.1, 1 };
static const char *const zk_states[] = { "connecting", "connected",
    "reconnecting", "expired" };

static char *
render(const struct metrics_input *in)
{
	struct sbuf sb;

	sbuf_init(&sb);
	metrics_render(&sb, in);
	return sbuf_take(&sb);
}

static void
test_render(void **state)
{
	(void)state;
	struct sup_counters c;
	struct histogram rt, rl, dur;
	struct metrics_count services[] = { { "ok", 3 }, { "stale", 1 },
	    { "rejected", 0 } };
	struct metrics_count servers[] = { { "active", 40 },
	    { "retired", 2 } };
	struct metrics_count watchers[] = { { "ok", 3 }, { "stale", 1 } };
	struct metrics_zk zk[] = { { "zk1:2181,zk2:2181/chroot",
	    "reconnecting" } };
	struct metrics_source sources[] = {
		{ "web", "zookeeper", 1000000 },
		{ "never", "dns", 0 },
		{ NULL, "zookeeper", 1001500 },
	};
	struct metrics_input in = {
		.version = "0.1.0", .start_ms = 990000, .now_ms = 1002000,
		.counters = &c,
		.services = services, .nservices = 3,
		.servers = servers, .nservers = 2,
		.watchers = watchers, .nwatchers = 2,
		.haproxy_serving = 1, .haproxy_draining = 2,
		.zk_states = zk_states, .nzk_states = 4,
		.zk = zk, .nzk = 1,
		.sources = sources, .nsources = 3,
		.change_runtime = &rt, .change_reload = &rl,
		.reload_duration = &dur,
	};
	char *text;

	memset(&c, 0, sizeof(c));
	c.reloads_by[PLAN_START] = 1;
	c.reloads_by[PLAN_SERVICES] = 4;
	c.reload_failures = 2;
	c.rt_batches = 10;
	c.rt_commands = 25;
	c.rt_failures = 1;
	c.servers_added = 5;
	histogram_init(&rt, bounds, 3);
	histogram_init(&rl, bounds, 3);
	histogram_init(&dur, bounds, 3);
	histogram_observe(&rt, 0.005);
	histogram_observe(&rt, 0.01);	/* le is inclusive */
	histogram_observe(&rt, 0.5);
	histogram_observe(&rt, 7);

	text = render(&in);
	assert_has_line(text, "# TYPE proxymgrd_build_info gauge");
	assert_has_line(text, "proxymgrd_build_info{version=\"0.1.0\"} 1");
	assert_has_line(text, "proxymgrd_start_time_seconds 990.000");
	assert_has_line(text, "# TYPE proxymgrd_reloads_total counter");
	assert_has_line(text, "proxymgrd_reloads_total{reason=\"start\"} 1");
	assert_has_line(text, "proxymgrd_reloads_total{reason=\"services\"} 4");
	assert_has_line(text, "proxymgrd_reloads_total{reason=\"refused\"} 0");
	assert_null(strstr(text, "reason=\"runtime\""));
	assert_has_line(text, "proxymgrd_reload_failures_total 2");
	assert_has_line(text, "proxymgrd_runtime_batches_total 10");
	assert_has_line(text, "proxymgrd_runtime_commands_total 25");
	assert_has_line(text, "proxymgrd_runtime_batch_failures_total 1");
	assert_has_line(text,
	    "proxymgrd_runtime_server_changes_total{change=\"added\"} 5");
	assert_has_line(text, "proxymgrd_services{state=\"stale\"} 1");
	assert_has_line(text, "proxymgrd_services{state=\"rejected\"} 0");
	assert_has_line(text, "proxymgrd_servers{state=\"retired\"} 2");
	assert_has_line(text, "proxymgrd_watchers{state=\"ok\"} 3");
	assert_has_line(text,
	    "proxymgrd_haproxy_processes{role=\"draining\"} 2");
	assert_has_line(text, "proxymgrd_zookeeper_session_state{servers="
	    "\"zk1:2181,zk2:2181/chroot\",state=\"reconnecting\"} 1");
	assert_has_line(text, "proxymgrd_zookeeper_session_state{servers="
	    "\"zk1:2181,zk2:2181/chroot\",state=\"connected\"} 0");
	assert_has_line(text, "proxymgrd_watcher_last_sync_age_seconds{"
	    "service=\"web\",type=\"zookeeper\"} 2.000");
	assert_null(strstr(text, "service=\"never\""));
	assert_has_line(text, "proxymgrd_service_config_last_sync_age_seconds"
	    "{type=\"zookeeper\"} 0.500");
	assert_has_line(text,
	    "# TYPE proxymgrd_change_to_live_seconds histogram");
	assert_has_line(text, "proxymgrd_change_to_live_seconds_bucket{"
	    "path=\"runtime\",le=\"0.01\"} 2");
	assert_has_line(text, "proxymgrd_change_to_live_seconds_bucket{"
	    "path=\"runtime\",le=\"0.1\"} 2");
	assert_has_line(text, "proxymgrd_change_to_live_seconds_bucket{"
	    "path=\"runtime\",le=\"1\"} 3");
	assert_has_line(text, "proxymgrd_change_to_live_seconds_bucket{"
	    "path=\"runtime\",le=\"+Inf\"} 4");
	assert_has_line(text,
	    "proxymgrd_change_to_live_seconds_count{path=\"runtime\"} 4");
	assert_has_line(text,
	    "proxymgrd_change_to_live_seconds_sum{path=\"runtime\"} 7.515");
	assert_has_line(text,
	    "proxymgrd_change_to_live_seconds_count{path=\"reload\"} 0");
	assert_has_line(text,
	    "proxymgrd_reload_duration_seconds_bucket{le=\"+Inf\"} 0");
	assert_has_line(text, "proxymgrd_reload_duration_seconds_count 0");
	/* Every family has one TYPE line, and every line ends. */
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void
test_label_escaping(void **state)
{
	(void)state;
	struct sbuf sb;

	sbuf_init(&sb);
	metrics_label_value(&sb, "a\"b\\c\nd\te\xc3\xa9");
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\nd?e??\"");
	sbuf_free(&sb);
}

static void
test_histogram(void **state)
{
	(void)state;
	struct histogram h;

	histogram_init(&h, bounds, 3);
	histogram_observe(&h, 0.0 / 0.0);	/* NaN: ignored */
	histogram_observe(&h, -1);
	histogram_observe(&h, 1);
	histogram_observe(&h, 1.5);
	assert_int_equal(h.count, 3);
	assert_int_equal(histogram_cumulative(&h, 0), 1);
	assert_int_equal(histogram_cumulative(&h, 2), 2);
	assert_int_equal(histogram_cumulative(&h, 3), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
