/* GET /metrics over HTTP (metrics.listen), served by libmicrohttpd in
 * its external event-loop mode: no thread of its own, its epoll fd is
 * watched by the libuv loop and its timeouts are a uv timer, so that the
 * page is rendered on the loop thread from proxymgrd's state without a
 * lock. Connections are bounded in number, memory and idle time: a
 * flood or a client that never reads costs a few slots, not proxymgrd. */
#ifndef PM_METRICS_H
#define PM_METRICS_H

#include <uv.h>

struct metrics_http;
struct sbuf;

/* Append the whole page to out. */
typedef void (*metrics_page_cb)(void *ctx, struct sbuf *out);

/* Listen on addr:port. NULL with *err saying why (the address and
 * strerror) if it cannot. */
struct metrics_http *metrics_http_start(uv_loop_t *loop, const char *addr,
    int port, metrics_page_cb page, void *ctx, char **err);
/* Close every connection and the socket; m is freed once its handles
 * are closed. NULL is fine. */
void metrics_http_stop(struct metrics_http *m);

/* The bounds, for the README and the tests. */
#define METRICS_MAX_CONNECTIONS		64
#define METRICS_IDLE_TIMEOUT_S		10
#define METRICS_CONNECTION_MEMORY	(32 * 1024)

#endif
