/* Follow the children of one ZooKeeper node and the data of each child:
 * the service-config source and the zookeeper watcher both want exactly
 * that. Every change is reported as the whole set, once no read is in
 * flight, so a report never mixes an old listing with new data. A read
 * that fails (connection lost, session expired) reports nothing: the
 * last report stands until the session is back and everything is re-read.
 * A child that vanishes between the listing and its read is simply gone. */
#ifndef PM_ZK_FOLLOW_H
#define PM_ZK_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "zk/session.h"

struct zk_follow;

struct zk_child {
	const char	*name;
	const char	*path;		/* for messages */
	const char	*data;		/* NUL-terminated */
	size_t		 len;
};

/* exists is false when the followed node itself does not exist (yet):
 * the report is then empty, and the node is watched for its creation. */
typedef void (*zkf_report_cb)(void *ctx, const struct zk_child *children,
    size_t n, bool exists);

struct zk_follow *zkf_start(uv_loop_t *loop, const char *servers,
    const char *path, zkf_report_cb report, void *ctx);
/* No report follows. */
void zkf_stop(struct zk_follow *f);

/* How the following goes, for operators (watcher health). */
struct zkf_info {
	struct zks_info	 session;
	const char	*servers;
	const char	*path;
	/* Wall clock (Unix ms) of the last read ZooKeeper answered (a
	 * listing or a child's data, changed or not), or 0: the last time
	 * what proxymgrd holds was confirmed. */
	int64_t		 last_sync_ms;
	const char	*last_error;	/* the last error that was not "out
					 * of reach", or NULL; valid until
					 * the next loop turn */
	int64_t		 last_error_ms;
	bool		 exists;	/* the followed node exists */
	size_t		 children;
};

void zkf_get_info(const struct zk_follow *f, struct zkf_info *out);

#endif
