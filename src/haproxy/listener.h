/* Listen sockets held by proxymgrd and handed to every HAProxy process as
 * inherited fds ("bind fd@N"). The kernel socket and its accept queue
 * outlive each HAProxy, so a reload never refuses a connection. Listeners
 * are shared by address and port and reference-counted. A listener is
 * only wanted while a snapshot is built, and gets its socket (claimed)
 * only once a reload is decided; it lets go of it when nothing (wrapper,
 * live or pending snapshot) uses it any more. */
#ifndef PM_LISTENER_H
#define PM_LISTENER_H

#include <stdbool.h>

struct listener {
	char		*addr;
	int		 port;
	int		 fd;	/* -1 until claimed */
	int		 backlog;	/* wanted listen() backlog, 0: SOMAXCONN */
	int		 backlog_fd;	/* what fd listens with */
	/* The sdlisten pool fd was taken from (LISTEN_FDS name, "upgrade",
	 * "takeover"), or NULL for a socket bound here. */
	char		*pool;
	int		 refs;
	struct listener	*next;
};

/* In placeholder mode (--check) sockets are bound to an ephemeral loopback
 * port: HAProxy's check needs a real listening fd, not the real port. */
void listener_set_placeholder(bool on);
/* The listener for addr and port, with a reference: the one every
 * snapshot shares, claimed or not, or a new unclaimed one (fd -1). No
 * socket is bound and no pool is touched: a build may want a port it
 * throws away. */
struct listener *listener_want(const char *addr, int port);
struct listener *listener_ref(struct listener *l);
/* The accept queue l is to have (0: SOMAXCONN): applied by the next
 * claim, to a socket l holds already too (listen() again). */
void listener_set_backlog(struct listener *l, int backlog);
/* Give l its socket, once a reload is decided: the one a pool holds for
 * its address and port (sdlisten_take), else a new bound one. Does
 * nothing if l has one. On failure returns -1 with *err, and the failure
 * is remembered for that address and port (listener_failure) until a
 * claim of it succeeds or listener_forget_failures(). */
int listener_claim(struct listener *l, char **err);
/* Why the last claim of l's address and port failed, or NULL (also when
 * l holds its socket): a build leaves out what it cannot have. */
const char *listener_failure(const struct listener *l);
/* A reload tries every port again. */
void listener_forget_failures(void);
/* Whether a port is remembered as one a claim could not have. */
bool listener_has_failures(void);
/* Drop a reference. With the last one the socket goes back to the pool
 * it came from (a plan that lets go of it may want it again: systemd or
 * the process that handed it over still hold the port), and one bound
 * here is closed. */
void listener_release(struct listener *l);
/* How many listeners there are, wanted or claimed. */
int listener_count(void);
/* The fds of every held socket, up to max; returns how many. */
int listener_fds(int *out, int max);

#endif
