/* The control socket: a unix stream socket (mode 0600) on the daemon's
 * loop, one request per line, one JSON reply per line (control_proto.h,
 * README "Control socket"). What each command answers is control_cmds.c;
 * this is the I/O, made safe against clients that misbehave:
 *   - a request line is at most CTL_MAX_LINE bytes: past it the client
 *     gets an error and is closed, and input is read into a fixed buffer,
 *     so a 1 MB line costs no memory;
 *   - one request is answered at a time per client, and the next is not
 *     read until the reply is written out: a client that sends but never
 *     reads holds one reply at most, and is dropped when that reply has
 *     not gone out within CTL_WRITE_TIMEOUT_MS;
 *   - at most CTL_MAX_CLIENTS at once: one more gets an error and is
 *     closed at once, so a flood costs one fd for a moment, never the fds
 *     HAProxy's reloads need; an idle client is closed after
 *     CTL_IDLE_TIMEOUT_MS. */
#ifndef PM_CONTROL_H
#define PM_CONTROL_H

#include <jansson.h>
#include <uv.h>

#include "control_proto.h"
#include "log.h"

#define CTL_MAX_CLIENTS		64
#define CTL_IDLE_TIMEOUT_MS	30000
#define CTL_WRITE_TIMEOUT_MS	10000

struct control;
/* A request being answered. */
struct ctl_call;

/* Answer req (now or later) with ctl_answer or ctl_fail, exactly once. */
typedef void (*ctl_handler)(void *ctx, struct ctl_call *call,
    const struct ctl_request *req);

/* Listen on path (a stale socket of a dead proxymgrd is replaced; a live
 * one is not). Returns NULL with *err. */
struct control *control_start(uv_loop_t *loop, const char *path,
    ctl_handler handler, void *ctx, char **err);
/* Close the socket and every client; removes the socket file. */
void control_stop(struct control *c);
const char *control_path(const struct control *c);

/* The reply (an object, taken over): "ok":true is added. The call is
 * over; if its client went meanwhile, the reply is dropped. */
void ctl_answer(struct ctl_call *call, json_t *reply);
void ctl_fail(struct ctl_call *call, const char *fmt, ...) PM_PRINTF(2, 3);

#endif
