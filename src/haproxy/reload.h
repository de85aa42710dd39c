/* A reload, a part of the supervisor: build the next snapshot, check it
 * with `haproxy -c` (with the same fds), dump the server state of the
 * running HAProxy for it, start a new HAProxy on the held sockets
 * (procs.c), verify with `show stat` what it built, and commit: it
 * serves, the old one drains. On any failure the running HAProxy serves
 * on. Services HAProxy refused are blamed and the reload is tried again
 * without them; settings it refused roll back to the config of the live
 * snapshot. */
#ifndef PM_HAP_RELOAD_H
#define PM_HAP_RELOAD_H

#include <stdbool.h>

struct hap_proc;
struct pm_config;
struct snapshot;
struct stats_query;
struct supervisor;

struct reload {
	int			 attempts;	/* checks and starts of it */
	uint64_t		 start_us;	/* reload_begin, now_us() */
	uint64_t		 change_us;	/* the oldest change it carries */
	bool			 force;		/* sup_force_reload, not begun */
	bool			 forcing;	/* the one in flight is forced */
	struct stats_query	*save_query;	/* show servers state */
};

/* The reload the scheduler wanted. */
void reload_begin(struct supervisor *s);
void reload_stop(struct supervisor *s);
/* The `haproxy -c` of next has exited (procs.c dispatches). */
void reload_check_done(struct supervisor *s, struct hap_proc *p);
/* The new HAProxy answered with its pid: compare what it built. */
void reload_verify(struct supervisor *s);
/* The new HAProxy serves next: it becomes live. */
void reload_commit(struct supervisor *s);
/* The new HAProxy did not come up: give up the reload. */
void reload_abandon(struct supervisor *s, const char *why,
    const char *rollback_why);
/* The server-state file that the HAProxy running snap loads at start. */
void reload_write_state(const struct snapshot *snap, const char *text);

#endif
