/* One ZooKeeper session per server list, shared by every reader that names
 * the same servers. libzookeeper_mt calls back on its own threads: what
 * it delivers is copied into a queue under a mutex and the loop is woken
 * with uv_async_send, so subscribers are only ever called on the loop
 * thread. The session outlives ZooKeeper outages: the client reconnects
 * by itself, and an expired session is replaced (backoff with jitter). */
#ifndef PM_ZK_SESSION_H
#define PM_ZK_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

struct zks;

enum zks_op {
	ZKS_CHILDREN,		/* list children, watch the list */
	ZKS_DATA,		/* read data, watch it */
	ZKS_EXISTS,		/* watch for the node's creation */
};

struct zks_reply {
	enum zks_op	 op;
	int		 rc;		/* ZOK, ZNONODE, ZCONNECTIONLOSS, ... */
	const char	*path;
	char *const	*children;	/* ZKS_CHILDREN with ZOK */
	const char	*data;		/* ZKS_DATA with ZOK; NUL-terminated */
	size_t		 len;
};

struct zks_sub {
	/* Connected (first time, after a reconnect, or on a new session):
	 * read everything again, which also re-arms every watch. */
	void	(*on_connected)(void *ctx);
	/* A watch fired: ZOO_CHILD_EVENT, ZOO_CHANGED_EVENT, ... on path. */
	void	(*on_watch)(void *ctx, int type, const char *path);
	void	(*on_reply)(void *ctx, const struct zks_reply *reply);
	void	*ctx;
	unsigned id;			/* set by zks_subscribe */
};

/* The session for servers ("host:port,host:port"), shared; never NULL. */
struct zks *zks_acquire(uv_loop_t *loop, const char *servers);
/* Drop the reference; the last one closes the session. */
void zks_release(struct zks *s);

/* sub must stay valid until zks_unsubscribe; no callback follows that. */
void zks_subscribe(struct zks *s, struct zks_sub *sub);
void zks_unsubscribe(struct zks *s, struct zks_sub *sub);

bool zks_connected(const struct zks *s);

/* What the session is doing, for operators (control socket, metrics). */
enum zks_state {
	ZKS_STATE_CONNECTING,	/* never connected yet */
	ZKS_STATE_CONNECTED,
	ZKS_STATE_RECONNECTING,	/* connection lost; the client retries on
				 * the same session */
	ZKS_STATE_EXPIRED,	/* session expired or refused: a new one is
				 * opened after a backoff */
};

struct zks_info {
	enum zks_state	 state;
	long long	 session_id;	/* the last connected session, or 0 */
	int64_t		 since_ms;	/* wall clock: in this state since */
};

void zks_get_info(const struct zks *s, struct zks_info *out);
const char *zks_state_name(enum zks_state st);	/* "connected", ... */
const char *zks_servers(const struct zks *s);

/* Send a request; its reply reaches sub->on_reply, exactly once, also when
 * the session is lost meanwhile (then as a failure). Returns -1 when it
 * could not be sent (no session): the caller waits for on_connected. */
int zks_request(struct zks *s, struct zks_sub *sub, enum zks_op op,
    const char *path);

#endif
