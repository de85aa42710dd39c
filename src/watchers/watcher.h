/* Pluggable watchers: each finds the servers of one service and reports the
 * full list (never a delta) whenever it changes. A watcher that cannot read
 * its source keeps quiet, so the service keeps its last known servers. */
#ifndef PM_WATCHER_H
#define PM_WATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "log.h"
#include "server.h"

struct service_def;
struct watcher;

/* How a source of servers (a watcher) or of service definitions (a
 * service_config source, source.h) is doing, for operators: the control
 * socket's `watchers` and `services`, and the metrics. Kept up to date
 * by the implementation as it reads (watcher_health_ok/_fail below);
 * watcher_health() refreshes what only the implementation can tell
 * (ZooKeeper's session) before it is read. */
enum watcher_state {
	WATCHER_STARTING,	/* no answer from the source yet */
	WATCHER_OK,		/* the last read (or report) succeeded */
	WATCHER_STALE,		/* the source is out of reach (ZooKeeper
				 * session lost, DNS timeouts): what it last
				 * said is kept */
	WATCHER_ERROR,		/* the source answered, but not with
				 * anything usable (unreadable file, no valid
				 * entry, NXDOMAIN): what it last said
				 * usefully is kept */
	WATCHER_STATES
};

struct watcher_health {
	enum watcher_state	 state;
	/* Wall clock (Unix ms), 0 for never. */
	int64_t			 last_sync_ms;	/* last successful read */
	int64_t			 last_change_ms; /* last time what it reports
						  * changed (set by the model
						  * for a watcher) */
	int64_t			 last_error_ms;
	/* The last error, kept after the source recovers (state says
	 * whether it still holds); NULL if none ever. */
	char			*last_error;
	/* Type-specific, an object owned here (NULL if none):
	 *   zookeeper: {"servers", "path", "session_state" (zks_state_name),
	 *     "session_id" ("0x..." or null), "session_since" (Unix ms),
	 *     "exists", "children"}
	 *   dns: {"names": [{"name", "srv" (bool), "addresses": ["IP:PORT",
	 *     ...], "ttl" (s, or null), "answered" (Unix ms, or null),
	 *     "error" (or null)}]}
	 *   file: {"file", "last_read" (Unix ms, or null), "servers"}
	 *   static: {"servers"}
	 *   service_config file: {"path", "files", "invalid"}
	 *   service_config zookeeper: as zookeeper */
	json_t			*detail;
};

void watcher_health_init(struct watcher_health *h);
void watcher_health_free(struct watcher_health *h);
/* A successful read at this moment: OK, last_sync_ms is now. */
void watcher_health_ok(struct watcher_health *h);
/* A failed read: state (WATCHER_STALE or WATCHER_ERROR) and why. */
void watcher_health_fail(struct watcher_health *h, enum watcher_state state,
    const char *fmt, ...) PM_PRINTF(3, 4);
/* Replace the type-specific part (takes the reference on detail). */
void watcher_health_detail(struct watcher_health *h, json_t *detail);
const char *watcher_state_name(enum watcher_state st);	/* "ok", ... */
struct zkf_info;
/* For what follows ZooKeeper (the zookeeper watcher and service_config
 * source): stale while the session is not connected, else content (OK,
 * or ERROR when what was read could not be used); last sync, error and
 * the detail from info. */
void watcher_health_zk(struct watcher_health *h, const struct zkf_info *info,
    enum watcher_state content);

/* servers is handed over: the callee takes its contents. */
typedef void (*watcher_update_cb)(void *ctx, const char *service,
    struct server_list *servers);

struct watcher_ops {
	const char		*type;
	/* Keys of the service blob that belong to this type. */
	const char *const	*keys;
	/* Check the type's keys in blob; no side effects. */
	int	(*validate)(json_t *blob, char **err);
	int	(*start)(struct watcher *w, char **err);
	/* Close everything; call watcher_free() once the last handle is
	 * closed. No report may follow. */
	void	(*stop)(struct watcher *w);
	/* Optional: bring w->health up to date before it is read. */
	void	(*health)(struct watcher *w);
};

struct watcher {
	const struct watcher_ops *ops;
	uv_loop_t		*loop;
	char			*service;	/* for logs and reports */
	char			*source;	/* where the definition came from */
	json_t			*blob;
	watcher_update_cb	 on_update;
	void			*ctx;
	void			*priv;
	bool			 stopped;
	/* It reported once, or failed for good (watcher_answered). */
	bool			 answered;
	struct watcher_health	 health;
};

const struct watcher_ops *watcher_ops_find(const char *type);
/* Comma-separated list of known types, for error messages. */
const char *watcher_types(void);

struct watcher *watcher_start(uv_loop_t *loop, const struct service_def *def,
    watcher_update_cb on_update, void *ctx, char **err);
/* Stop reporting and release the watcher (asynchronously). */
void watcher_stop(struct watcher *w);
/* w's health, brought up to date; valid until the next loop turn. */
const struct watcher_health *watcher_health(struct watcher *w);
/* How many running watchers have not answered once yet: the first
 * HAProxy start waits for them (reload.initial_sync_timeout_ms). There
 * is one model per process, so the count is the process's. */
size_t watcher_unanswered(void);
/* Call cb(ctx) each time a watcher answers for the first time (NULL:
 * nobody); after its report has reached the model. */
void watcher_on_answer(void (*cb)(void *), void *ctx);

/* For implementations. A report is a successful read (health OK), and
 * an answer. */
void watcher_report(struct watcher *w, struct server_list *servers);
/* The source answered with something it will not take back soon (an
 * unreadable file, NXDOMAIN, a DNS timeout, no valid entry): waiting
 * longer for a first answer is pointless. Not for a source still out of
 * reach that may come any moment (ZooKeeper connecting). */
void watcher_answered(struct watcher *w);
void watcher_free(struct watcher *w);

extern const struct watcher_ops watcher_dns_ops;
extern const struct watcher_ops watcher_file_ops;
extern const struct watcher_ops watcher_static_ops;
extern const struct watcher_ops watcher_zookeeper_ops;

#endif
