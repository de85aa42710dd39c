/* Listen sockets held by proxymgrd and handed to every HAProxy process as
 * inherited fds ("bind fd@N"). The kernel socket and its accept queue
 * outlive each HAProxy, so a reload never refuses a connection. Listeners
 * are shared by address and port and reference-counted: a socket closes
 * when nothing (model, live or pending snapshot) uses it any more. */
#ifndef PM_LISTENER_H
#define PM_LISTENER_H

#include <stdbool.h>

struct listener {
	char		*addr;
	int		 port;
	int		 fd;
	int		 refs;
	struct listener	*next;
};

/* In placeholder mode (--check) sockets are bound to an ephemeral loopback
 * port: HAProxy's check needs a real listening fd, not the real port. */
void listener_set_placeholder(bool on);
int listener_acquire(const char *addr, int port, struct listener **out,
    char **err);
struct listener *listener_ref(struct listener *l);
void listener_release(struct listener *l);
int listener_count(void);
/* The fds of every held socket, up to max; returns how many. */
int listener_fds(int *out, int max);

#endif
