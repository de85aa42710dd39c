/* A service definition: the JSON blob of one service (from a file in the
 * service directory or a ZooKeeper node), parsed and validated. Immutable
 * and reference-counted so that the model, the live HAProxy snapshot and
 * a reload in flight can share one. */
#ifndef PM_SERVICE_H
#define PM_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct watcher_ops;

struct service_def {
	int			 refs;
	char			*name;		/* listen section name */
	char			*source;	/* file or node, for messages */
	const struct watcher_ops *watcher;
	int			 port;
	char			*bind_address;	/* NULL: haproxy.bind_address */
	/* An empty server list from discovery keeps the last servers. */
	bool			 keep_servers_on_empty;
	int			 backlog;	/* listen() backlog, 0: SOMAXCONN */
	char			**listen_options;
	char			**server_options;
	json_t			*blob;
	char			*canon;		/* whole blob, canonical JSON */
	char			*watcher_canon;	/* the watcher's keys only */
	/* Keys of the blob no one knows ("'owner', 'team'"), dropped from
	 * blob and canon; NULL if none. */
	char			*unknown;
	size_t			 nunknown;
};

/* The largest service file read (a blob this size holds thousands of
 * static servers; ZooKeeper's own node limit is about as large). */
#define SVCDEF_MAX_SIZE		((size_t)1 << 20)

/* Parse and validate the blob of service `name`. On error returns -1 and
 * sets *err to a message that names source and, for syntax errors, the
 * line and column. */
int svcdef_parse(const char *name, const char *text, size_t len,
    const char *source, struct service_def **out, char **err);
struct service_def *svcdef_ref(struct service_def *def);
void svcdef_unref(struct service_def *def);
bool svcdef_equal(const struct service_def *a, const struct service_def *b);
bool svcdef_same_watcher(const struct service_def *a,
    const struct service_def *b);

#endif
