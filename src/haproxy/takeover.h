/* Crash-only start. A proxymgrd that starts while a HAProxy it ran before
 * still serves (proxymgrd was killed, crashed, or was restarted) takes
 * that HAProxy over instead of starting a second one beside it:
 *
 * - every HAProxy running CONFIG_PATH is found (orphans_find);
 * - the one that answers "show info" on the stats socket is the one that
 *   serves; the others are draining, or serving generations whose
 *   soft-stop was lost with the old proxymgrd, and are soft-stopped;
 * - the listen sockets are copied out of it with pidfd_getfd(2): HAProxy
 *   does not export inherited ("bind fd@N") sockets over _getsocks;
 * - the serving record (CONFIG_PATH.serving: the pid and the fingerprint
 *   of what it runs, kept by the supervisor) says whether the HAProxy
 *   runs what the model builds, so that it is kept without a reload.
 *
 * What is found becomes a sup_handoff, the same one a SIGUSR2 upgrade
 * passes: one adoption path for both. */
#ifndef PM_TAKEOVER_H
#define PM_TAKEOVER_H

#include <uv.h>

struct pm_config;
struct sup_handoff;

/* Returns 1 with h filled (the sockets go to the "takeover" pool), 0 if
 * no HAProxy of this configuration runs, -1 (err set) if one runs that
 * cannot be taken over: starting a second one beside it would serve a
 * subset of the services. Runs loop until it knows. */
int takeover_find(uv_loop_t *loop, const struct pm_config *cfg,
    struct sup_handoff *h, char **err);

/* The serving record: pid serves what fingerprint describes (0: unknown,
 * while a runtime batch may have changed it halfway). Not fsynced: it
 * describes processes that a power loss ends too. pid 0 removes it. */
void takeover_record(const struct pm_config *cfg, int pid,
    unsigned long fingerprint);

#endif
