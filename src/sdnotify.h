/* systemd's notification protocol (sd_notify(3)), without libsystemd:
 * one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket named by
 * NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). */
#ifndef PM_SDNOTIFY_H
#define PM_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

/* Fill *sa from a NOTIFY_SOCKET value. Returns -1 if it is not usable
 * (empty, relative, too long). */
int sdnotify_addr(const char *value, struct sockaddr_un *sa,
    socklen_t *len);
/* Send state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..."):
 * 1 if sent, 0 when not run by systemd (no NOTIFY_SOCKET), -1 on error
 * (logged). */
int sdnotify(const char *state);
/* Printf form; the text is sent as it is formatted. */
int sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
