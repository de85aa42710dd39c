/* Upgrading proxymgrd in place, on SIGUSR2: it re-executes its own binary
 * (the one at the path it was started from, so a new package's), with the
 * same arguments and pid. The held listen sockets and the pipes of the
 * running HAProxy stay open across the exec; an environment variable says
 * which fds they are and which HAProxy processes run, and the new
 * proxymgrd adopts them: no reload, no refused connection. */
#ifndef PM_UPGRADE_H
#define PM_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

struct sup_handoff;

/* The hand-over this version writes and reads; `proxymgrd
 * --upgrade-protocol` prints it. */
#define UPGRADE_PROTOCOL	"1"

/* Remember how proxymgrd was started (call first thing in main). */
void upgrade_init(int argc, char **argv);
/* Hand over and re-execute; returns only on failure (with *err set), and
 * proxymgrd goes on as it was. listener_fds are the held sockets. */
int upgrade_exec(const struct sup_handoff *h, const int *listener_fds,
    int nfds, char **err);
/* In the new proxymgrd: what was handed over, if anything (the listen
 * sockets go to the pool that listeners are taken from first). The
 * variable is removed so that no child sees it. */
bool upgrade_take(struct sup_handoff *h);
/* The parsing part of upgrade_take, without side effects: false if v is
 * not a hand-over of this protocol. h->old and *listen_fds are
 * malloc'ed. */
bool upgrade_parse(const char *v, struct sup_handoff *h, int **listen_fds,
    size_t *nfds);
/* The signals blocked across the exec: unblock once they are handled. */
void upgrade_unblock_signals(void);

#endif
