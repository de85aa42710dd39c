/* The Prometheus text format (0.0.4) of what proxymgrd knows, from a
 * plain description the daemon fills at each scrape (metrics_input).
 * Pure: no I/O, no loop, for the unit test. The metric names, types and
 * labels are listed in the README; labels are bounded by the
 * configuration (reasons, states, service names, ZooKeeper server
 * lists), never a server address. */
#ifndef PM_METRICS_RENDER_H
#define PM_METRICS_RENDER_H

#include <stddef.h>
#include <stdint.h>

struct histogram;
struct sbuf;
struct sup_counters;

/* A label value and how many have it. */
struct metrics_count {
	const char	*label;
	uint64_t	 value;
};

/* A source of servers (a service's watcher) or of service definitions. */
struct metrics_source {
	const char	*service;	/* NULL: the service-config source */
	const char	*type;		/* zookeeper, file, dns, static */
	int64_t		 last_sync_ms;	/* wall clock; 0: never */
};

struct metrics_zk {
	const char	*servers;	/* the session's host:port list */
	const char	*state;		/* one of zk_states */
};

struct metrics_input {
	const char		 *version;
	int64_t			  start_ms;	/* wall clock */
	int64_t			  now_ms;
	const struct sup_counters *counters;
	/* Services and servers by state; every state is listed (a zero
	 * count too), so that a series does not vanish. */
	const struct metrics_count *services;
	size_t			  nservices;
	const struct metrics_count *servers;
	size_t			  nservers;
	const struct metrics_count *watchers;	/* by health state */
	size_t			  nwatchers;
	unsigned		  haproxy_serving, haproxy_draining;
	const char *const	 *zk_states;	/* every state name */
	size_t			  nzk_states;
	const struct metrics_zk	 *zk;
	size_t			  nzk;
	const struct metrics_source *sources;
	size_t			  nsources;
	const struct histogram	 *change_runtime;	/* change to live */
	const struct histogram	 *change_reload;
	const struct histogram	 *reload_duration;
};

void metrics_render(struct sbuf *sb, const struct metrics_input *in);
/* Append v as a label value, quoted, with \, " and newline escaped. */
void metrics_label_value(struct sbuf *sb, const char *v);

#endif
