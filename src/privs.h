/* proxymgrd's capabilities. A proxymgrd that is not root runs with the
 * few it was given (systemd's AmbientCapabilities=, setpriv
 * --ambient-caps): CAP_NET_BIND_SERVICE, to bind ports below 1024. They
 * sit in its permitted and effective sets, which is all it needs; the
 * ambient set only passes them on to every program it executes. HAProxy
 * gets its listen sockets from proxymgrd and needs none, so the ambient
 * set is cleared at start and raised again only for proxymgrd's own
 * re-exec (SIGUSR2), which must bind as before. (A root proxymgrd's
 * HAProxy loses every capability when it drops to haproxy.user.) */
#ifndef PM_PRIVS_H
#define PM_PRIVS_H

#include <stdbool.h>

/* Remember the ambient capabilities and clear them. */
void privs_init(void);
/* Just before proxymgrd's own exec: raise them again. */
void privs_raise_ambient(void);
/* After an exec that failed: clear them again. */
void privs_clear_ambient(void);
/* Whether capability cap (CAP_*) is in proxymgrd's effective set. */
bool privs_have(int cap);

#endif
