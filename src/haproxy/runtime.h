/* The runtime API: one kept connection to the stats socket of the HAProxy
 * that serves, in prompt mode (in the default mode HAProxy closes once it
 * has drained its input and a later write is lost). Commands go out as
 * one batch; replies are split on the prompt and each is checked against
 * the expected one. A new connection first sends `prompt` and `show info`
 * and checks that the pid is the one proxymgrd started, so that commands
 * never reach another process that took the socket path. */
#ifndef PM_HAP_RUNTIME_H
#define PM_HAP_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

struct plan_cmd;
struct rt_conn;

enum rt_status {
	RT_OK,		/* every reply as expected */
	RT_REFUSED,	/* a reply differs: why names the command and reply */
	RT_NO_ANSWER,	/* no connection, closed, timeout or another pid */
};

/* applied: how many commands got their expected reply (in order, up to
 * the first that did not). why is NULL on RT_OK. */
typedef void (*rt_done_cb)(void *arg, enum rt_status st, size_t applied,
    const char *why);

struct rt_conn *rt_new(uv_loop_t *loop);
/* Send n commands to the HAProxy with this pid on path; cb is called once.
 * One batch at a time: returns -1 if one is in flight. timeout_ms bounds
 * the wait for the next reply, not the whole batch. */
int rt_send(struct rt_conn *c, const char *path, int pid,
    const struct plan_cmd *cmds, size_t n, unsigned timeout_ms,
    rt_done_cb cb, void *arg);
bool rt_busy(const struct rt_conn *c);
/* Drop the connection (HAProxy was replaced); a batch in flight ends with
 * RT_NO_ANSWER. */
void rt_reset(struct rt_conn *c);
/* Close everything and free c once its handles are closed; no callback. */
void rt_free(struct rt_conn *c);

/* Split buf on the prompt ("\n> "): each complete reply, without its
 * trailing newlines, goes into replies[] (malloc'ed), up to max. Returns
 * the number of complete replies; *used is the bytes they took. */
size_t rt_split_replies(const char *buf, size_t len, char **replies,
    size_t max, size_t *used);
/* A reply matches the expected one, trailing whitespace aside; a '*' in
 * expect stands for any text within a line (replies that quote what
 * HAProxy had before, such as `set server addr`'s). */
bool rt_reply_ok(const char *expect, const char *reply);
/* NULL if cmd is one line of a shape proxymgrd sends (a known verb on
 * BACKEND/SERVER, printable, no ';', no "<<", no trailing '\\'), else
 * why not: such a command could end early, join the next one or switch
 * HAProxy's CLI to payload mode, where the batch would stall. */
const char *rt_cmd_unsafe(const char *cmd);

#endif
