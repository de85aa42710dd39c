/* Pluggable watchers: each finds the servers of one service and reports the
 * full list (never a delta) whenever it changes. A watcher that cannot read
 * its source keeps quiet, so the service keeps its last known servers. */
#ifndef PM_WATCHER_H
#define PM_WATCHER_H

#include <stdbool.h>

#include <jansson.h>
#include <uv.h>

#include "server.h"

struct service_def;
struct watcher;

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
};

const struct watcher_ops *watcher_ops_find(const char *type);
/* Comma-separated list of known types, for error messages. */
const char *watcher_types(void);

struct watcher *watcher_start(uv_loop_t *loop, const struct service_def *def,
    watcher_update_cb on_update, void *ctx, char **err);
/* Stop reporting and release the watcher (asynchronously). */
void watcher_stop(struct watcher *w);

/* For implementations. */
void watcher_report(struct watcher *w, struct server_list *servers);
void watcher_free(struct watcher *w);

extern const struct watcher_ops watcher_dns_ops;
extern const struct watcher_ops watcher_file_ops;
extern const struct watcher_ops watcher_static_ops;
extern const struct watcher_ops watcher_zookeeper_ops;

#endif
