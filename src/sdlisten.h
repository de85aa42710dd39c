/* systemd socket activation (sd_listen_fds(3)), without libsystemd: the
 * sockets systemd passes as fds 3.. (LISTEN_FDS, for LISTEN_PID) are used
 * for the listener with the same address and port instead of binding a
 * new one, so the sockets outlive proxymgrd itself. */
#ifndef PM_SDLISTEN_H
#define PM_SDLISTEN_H

#include <stddef.h>

/* Take the passed fds (if LISTEN_PID is ours) and unset the variables so
 * that no child sees them. Returns how many were taken. */
int sdlisten_init(void);
/* Add fd (an inherited listening socket) to the pool, under name (the
 * pool it belongs to: LISTEN_FDNAMES' name, "upgrade", ...). Also how a
 * socket taken from the pool goes back once nothing uses it. */
void sdlisten_adopt(int fd, const char *name);
/* Close the pooled sockets of that name nobody took. */
void sdlisten_close_unclaimed(const char *name);
/* A passed listening socket bound to addr:port (removed from the pool,
 * CLOEXEC set), or -1. *name (malloc'ed) is the pool it came from, for
 * sdlisten_adopt to give it back. */
int sdlisten_take(const char *addr, int port, char **name);

#endif
