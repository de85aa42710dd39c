/* One-shot queries on HAProxy's stats socket: connect, send one command,
 * read the reply to EOF. Used to learn which process answers on the
 * socket path (a new HAProxy takes the path over when it is up). */
#ifndef PM_HAP_STATS_H
#define PM_HAP_STATS_H

#include <uv.h>

/* status is 0 or a libuv error; reply is NUL-terminated (empty on error). */
typedef void (*stats_reply_cb)(int status, const char *reply, void *arg);

struct stats_query;

struct stats_query *stats_query(uv_loop_t *loop, const char *path,
    const char *command, unsigned timeout_ms, stats_reply_cb cb, void *arg);
/* Cancel: cb is not called any more. */
void stats_query_cancel(struct stats_query *q);
/* The "Pid: N" of a "show info" reply (1 to INT_MAX), or -1. */
int stats_info_pid(const char *reply);

#endif
