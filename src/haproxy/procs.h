/* The HAProxy processes, a part of the supervisor: the one that serves,
 * the check and the new one of a reload, and the old ones that drain.
 * Start and readiness (the new one answers on the stats socket with its
 * own pid), restart with backoff on the same sockets, soft-stop and a cap
 * on how many drain, stop, and adoption of those a replaced proxymgrd
 * handed over. */
#ifndef PM_HAP_PROCS_H
#define PM_HAP_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct hap_proc;
struct snapshot;
struct stats_query;
struct sup_handoff;
struct supervisor;

struct procs {
	struct hap_proc		*current;	/* serves live */
	struct hap_proc		*checking;	/* haproxy -c of next */
	struct hap_proc		*starting;	/* next, or live again */
	struct hap_proc		*old;		/* soft-stopped, draining */
	struct stats_query	*ready_query;	/* show info, then show stat */
	uint64_t		 start_deadline_ms;
	uv_timer_t		 ready_timer;
	uv_timer_t		 restart_timer;
	uv_timer_t		 stop_timer;
	int			 restart_backoff_ms;
	uint64_t		 generations;	/* HAProxy processes that served */
	uint64_t		 restart_start_us;	/* of the one out */
	bool			 restart_wanted;	/* once idle again */
	bool			 hard_kill_sent;
	unsigned long		 adopted_fingerprint;	/* SUP_ADOPTED */
	/* -p: HAProxy's pid file (RAProxy's), the serving pid, or NULL. */
	const char		*pidfile;
	int			 record_pid;	/* what the serving record */
	unsigned long		 record_fp;	/* says now */
};

void procs_init(struct supervisor *s);
void procs_close(struct supervisor *s);
/* The on_done of every process the supervisor spawns or adopts. */
void procs_on_done(struct hap_proc *p);
/* Start a HAProxy on snap and poll until it answers (the caller enters
 * the state that says why). Returns -1 with *err. */
int procs_start(struct supervisor *s, const struct snapshot *snap,
    char **err);
/* The new HAProxy answers and runs what it should: it serves. */
void procs_start_ok(struct supervisor *s);
/* A new HAProxy that will not serve (why) is soft-stopped; another
 * start may follow. */
void procs_start_rejected(struct supervisor *s, const char *why);
/* Restart after the current backoff, and double it. */
void procs_restart_later(struct supervisor *s);
/* Start the live snapshot again once idle, while the current one
 * serves: a new HAProxy that failed took the stats socket from it. */
void procs_retake_later(struct supervisor *s);
/* Once idle: a restart that waited. Returns true if one was started. */
bool procs_restart_wanted(struct supervisor *s);
/* No process left. */
bool procs_none(const struct supervisor *s);
/* Soft-stop every HAProxy (SIGUSR1), hard-stop past stop_timeout_ms. */
void procs_stop(struct supervisor *s);
void procs_stop_now(struct supervisor *s);
/* The serving record names the HAProxy that serves and what it runs, for
 * a proxymgrd that takes it over after this one died (takeover.h); known
 * is false while a runtime batch may have changed it halfway. */
void procs_record(struct supervisor *s, bool known);
/* The same, known, with live's fingerprint computed already. */
void procs_record_known(struct supervisor *s, unsigned long fingerprint);
/* What to hand over to the next proxymgrd (pids and pipes). */
void procs_handoff(struct supervisor *s, struct sup_handoff *h);
void procs_adopt(struct supervisor *s, const struct sup_handoff *h);
/* After an upgrade: if the adopted HAProxy runs exactly what was built
 * (snapshot_fingerprint), next becomes live instead of reloading. */
bool procs_adopt_live(struct supervisor *s);
/* See sup_adopt_strays. */
size_t procs_adopt_strays(struct supervisor *s);

#endif
