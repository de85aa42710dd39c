/* The supervisor owns the HAProxy processes. A reload renders the next
 * snapshot, checks it with `haproxy -c` (with the same fds), installs it,
 * starts a new HAProxy on the held sockets and soft-stops the old one only
 * once the new one answers on the stats socket with its own pid. Reloads
 * are rate-limited and coalesced; a HAProxy that dies is restarted with
 * backoff on the same sockets; on any failure the old process keeps
 * serving.
 *
 * It is split by job, each part with its own fields below:
 *   sched.c       when: debounce, min interval with jitter, and the change
 *                 log that says why
 *   applier.c     runtime-API batches that bring the running HAProxy to
 *                 the next snapshot without a reload
 *   reload.c      a reload: build, check, server state, start, verify,
 *                 commit, or give up and roll back
 *   procs.c       the HAProxy processes: start and readiness, restart with
 *                 backoff, drain and its cap, stop, adoption after an
 *                 upgrade
 *   supervisor.c  this API, and the one function that changes state. */
#ifndef PM_SUPERVISOR_H
#define PM_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "haproxy/applier.h"
#include "haproxy/history.h"
#include "haproxy/planner.h"
#include "haproxy/procs.h"
#include "haproxy/reload.h"
#include "haproxy/sched.h"
#include "histogram.h"

struct pm_config;
struct sbuf;
struct service_def;
struct snapshot;

struct sup_hooks {
	/* Build and render the next snapshot with cfg (the snapshot takes a
	 * reference); for_reload trims retired servers (snapshot_carry). */
	struct snapshot *(*build)(void *ctx, struct pm_config *cfg,
	    const struct snapshot *live, bool for_reload);
	/* A reload is decided on next (built for_reload): bind or take from
	 * their pools the sockets it needs. Returns next, or, if a port
	 * cannot be had, a snapshot built again without it (next freed). A
	 * build binds nothing: one thrown away costs no socket. */
	struct snapshot *(*claim)(void *ctx, struct snapshot *next,
	    const struct snapshot *live);
	/* HAProxy refused this service's definition (why says how). */
	void	(*reject)(void *ctx, const char *service,
		    const struct service_def *def, const char *why);
	/* HAProxy refused the global/defaults settings of a re-read
	 * proxymgr.yml: the supervisor went back to cfg, the config the
	 * running HAProxy was built from, and builds with it from now on. */
	void	(*settings_rollback)(void *ctx, struct pm_config *cfg);
	/* A new HAProxy serves the snapshot built last: what it was built
	 * from is proven good. */
	void	(*committed)(void *ctx);
	/* A reload failed; the running HAProxy (if any) serves on. */
	void	(*reload_failed)(void *ctx, const char *why);
	/* The very first start of a configuration HAProxy refuses (a
	 * hand-written one, or proxymgr.yml's global/defaults): nothing
	 * runs, and retrying would not help. Does not return (NULL: the
	 * start is retried as any failed start). */
	void	(*start_refused)(void *ctx, const char *why);
	/* Every HAProxy process is gone after sup_stop(). */
	void	(*stopped)(void *ctx);
	void	*ctx;
};

/* What is in flight, one thing at a time. The states and the events
 * that move between them are the table SUP_TRANSITIONS below, and
 * sup_enter() is the only writer of the state.
 *
 *   IDLE        nothing in flight; a HAProxy serves live, or none runs
 *               yet (the first start, or a restart waiting its backoff)
 *   ADOPTED     idle too, but the HAProxy serving was handed over by the
 *               proxymgrd this one replaced: what it runs is known only
 *               once the first build is compared with its fingerprint
 *   APPLYING    a runtime batch is out on the stats socket
 *   CHECKING    `haproxy -c` runs on the next snapshot
 *   SAVING      the server state of the running HAProxy is being dumped
 *               for the next one
 *   STARTING    a new HAProxy runs the next snapshot; waiting for it to
 *               answer on the stats socket with its pid
 *   VERIFYING   it answered: its `show stat` is being compared with what
 *               was rendered
 *   RESTARTING  a HAProxy runs the live snapshot again, to replace one
 *               that died
 *   RETAKING    a HAProxy runs the live snapshot again while the current
 *               one serves, to take back the stats socket that a new one
 *               which failed took from it
 *   STOPPING    every HAProxy is being stopped
 *   STOPPED     all are gone and every handle is closed (final)
 *
 * Events:
 *   ADOPT       a HAProxy was handed over by an upgrade
 *   APPLY       a runtime batch went out        APPLIED  it was answered
 *   CHECK       `haproxy -c` started on the next snapshot
 *   SAVE        the check passed; `show servers state` asked
 *   START       a new HAProxy started on the next snapshot
 *   ANSWER      it answered with its pid
 *   SERVE       the new (or adopted) HAProxy serves
 *   RESTART     a HAProxy started on live to replace one that died
 *   RETAKE      a HAProxy started on live to retake the stats socket
 *   UNCHANGED   the next snapshot is what runs: nothing to do
 *   FAIL        the reload or restart failed; what served serves on
 *   STOP        sup_stop()                      STOPPED  all gone
 *
 *          ADOPT            APPLY            APPLIED
 *   ADOPTED <----- IDLE ----------> APPLYING ---------> IDLE
 *      |           | |
 *      | CHECK     | | RESTART, RETAKE            SERVE, FAIL
 *      +---------->| +----------> RESTARTING, RETAKING ------> IDLE
 *                  v
 *   +--CHECK--> CHECKING ---SAVE---> SAVING
 *   |              |                   |
 *   |              +-START-> STARTING <-START
 *   |                           |
 *   |                         ANSWER                SERVE
 *   |                           v
 *   +------------------- VERIFYING --------------------> IDLE
 *
 *   CHECK again from CHECKING and VERIFYING (the arrow on the left): a
 *   retry without what HAProxy refused. Back to IDLE also: SERVE from
 *   ADOPTED (it runs what was built) and STARTING (no service to
 *   verify); UNCHANGED from IDLE and CHECKING (a retry without the
 *   refused services may build what runs); FAIL from every state that
 *   does something. STOP from every state but STOPPING and STOPPED;
 *   STOPPING --STOPPED--> STOPPED.
 */
#define SUP_STATES(S)		\
	S(IDLE,		"idle")		\
	S(ADOPTED,	"adopted")	\
	S(APPLYING,	"applying")	\
	S(CHECKING,	"checking")	\
	S(SAVING,	"saving")	\
	S(STARTING,	"starting")	\
	S(VERIFYING,	"verifying")	\
	S(RESTARTING,	"restarting")	\
	S(RETAKING,	"retaking")	\
	S(STOPPING,	"stopping")	\
	S(STOPPED,	"stopped")

#define SUP_EVENTS(E)		\
	E(ADOPT,	"adopt")	\
	E(APPLY,	"apply")	\
	E(APPLIED,	"applied")	\
	E(CHECK,	"check")	\
	E(SAVE,		"save")		\
	E(START,	"start")	\
	E(ANSWER,	"answer")	\
	E(SERVE,	"serve")	\
	E(RESTART,	"restart")	\
	E(RETAKE,	"retake")	\
	E(UNCHANGED,	"unchanged")	\
	E(FAIL,		"fail")		\
	E(STOP,		"stop")		\
	E(STOPPED,	"stopped")

/*  from		event		to */
#define SUP_TRANSITIONS(T)				\
	T(IDLE,		ADOPT,		ADOPTED)	\
	T(IDLE,		APPLY,		APPLYING)	\
	T(IDLE,		CHECK,		CHECKING)	\
	T(IDLE,		UNCHANGED,	IDLE)		\
	T(IDLE,		FAIL,		IDLE)		\
	T(IDLE,		RESTART,	RESTARTING)	\
	T(IDLE,		RETAKE,		RETAKING)	\
	T(IDLE,		STOP,		STOPPING)	\
	T(ADOPTED,	SERVE,		IDLE)		\
	T(ADOPTED,	CHECK,		CHECKING)	\
	T(ADOPTED,	FAIL,		IDLE)		\
	T(ADOPTED,	STOP,		STOPPING)	\
	T(APPLYING,	APPLIED,	IDLE)		\
	T(APPLYING,	STOP,		STOPPING)	\
	T(CHECKING,	CHECK,		CHECKING)	\
	T(CHECKING,	SAVE,		SAVING)		\
	T(CHECKING,	START,		STARTING)	\
	T(CHECKING,	UNCHANGED,	IDLE)		\
	T(CHECKING,	FAIL,		IDLE)		\
	T(CHECKING,	STOP,		STOPPING)	\
	T(SAVING,	START,		STARTING)	\
	T(SAVING,	FAIL,		IDLE)		\
	T(SAVING,	STOP,		STOPPING)	\
	T(STARTING,	ANSWER,		VERIFYING)	\
	T(STARTING,	SERVE,		IDLE)		\
	T(STARTING,	FAIL,		IDLE)		\
	T(STARTING,	STOP,		STOPPING)	\
	T(VERIFYING,	SERVE,		IDLE)		\
	T(VERIFYING,	CHECK,		CHECKING)	\
	T(VERIFYING,	FAIL,		IDLE)		\
	T(VERIFYING,	STOP,		STOPPING)	\
	T(RESTARTING,	SERVE,		IDLE)		\
	T(RESTARTING,	FAIL,		IDLE)		\
	T(RESTARTING,	STOP,		STOPPING)	\
	T(RETAKING,	SERVE,		IDLE)		\
	T(RETAKING,	FAIL,		IDLE)		\
	T(RETAKING,	STOP,		STOPPING)	\
	T(STOPPING,	STOPPED,	STOPPED)

#define SUP_STATE_ENUM(name, text)	SUP_##name,
#define SUP_EVENT_ENUM(name, text)	SUP_EV_##name,
enum sup_state { SUP_STATES(SUP_STATE_ENUM) SUP_NSTATES };
enum sup_event { SUP_EVENTS(SUP_EVENT_ENUM) SUP_NEVENTS };

struct sup_transition {
	enum sup_state	from;
	enum sup_event	event;
	enum sup_state	to;
};

/* SUP_TRANSITIONS as data, for the unit test that walks it. */
extern const struct sup_transition sup_transitions[];
extern const size_t sup_ntransitions;

/* The state the table gives for event in from, or -1 if it has none. */
int sup_transition(enum sup_state from, enum sup_event event);
const char *sup_state_name(enum sup_state st);
const char *sup_event_name(enum sup_event ev);

struct sup_counters {
	uint64_t	 rt_batches;	/* applied without a reload */
	uint64_t	 rt_commands;	/* commands HAProxy did as asked */
	uint64_t	 rt_failures;	/* batches that turned into a reload */
	uint64_t	 servers_added, servers_retired, servers_returned;
	uint64_t	 reloads;	/* first start included */
	uint64_t	 reloads_by[PLAN_REASONS];
	uint64_t	 reload_failures;
	uint64_t	 restarts;
	/* Seconds from the first change a runtime batch or reload carried
	 * to HAProxy running it, and of each reload that went live. */
	struct histogram change_runtime;
	struct histogram change_reload;
	struct histogram reload_duration;
};

struct supervisor {
	uv_loop_t		*loop;
	/* A reference: what the next build uses, and the supervisor's own
	 * knobs (debounce, intervals, timeouts, caps). What runs is built
	 * from the config its snapshot holds. */
	struct pm_config	*cfg;
	struct sup_hooks	 hooks;
	enum sup_state		 state;

	struct snapshot		*live;		/* what procs.current runs */
	struct snapshot		*next;		/* being checked or started */
	/* A runtime batch failed, or a new HAProxy took the stats socket
	 * and was stopped: what the running HAProxy does is not known for
	 * sure, so the next reload is not skipped and carries no server
	 * state. */
	bool			 live_in_doubt;

	struct sched		 sched;
	struct applier		 applier;
	struct reload		 reload;
	struct procs		 procs;

	struct sup_counters	 counters;
	/* The last reloads, runtime batches and restarts, and the last
	 * haproxy -c (history.h). */
	struct history		 history;
	int			 open_handles;	/* the parts' timers */
};

/* Both take a reference on cfg. */
void sup_init(struct supervisor *s, uv_loop_t *loop, struct pm_config *cfg,
    const struct sup_hooks *hooks);
void sup_set_config(struct supervisor *s, struct pm_config *cfg);
/* Something in the model changed (why says what) at since_us (now_us()
 * clock, for the change-to-live time): plan it at once, as runtime
 * commands or a reload. */
void sup_request_change(struct supervisor *s, const char *why,
    uint64_t since_us);
/* One log line with every counter, and what is in flight or waits:
 * "now idle", "now busy (...)" or "now stopped". outside names what waits
 * before the supervisor sees it (the daemon's), or NULL. */
void sup_log_counters(const struct supervisor *s, const char *outside);
/* Reload HAProxy (reason PLAN_OPERATOR, why in words) even if what it
 * runs is what would be built. */
void sup_force_reload(struct supervisor *s, const char *why);
/* What is in flight or waits, as sup_log_counters says it: "idle",
 * "busy (...)" or "stopped". */
void sup_describe(const struct supervisor *s, const char *outside,
    struct sbuf *sb);
/* Soft-stop every HAProxy, hard-stop past stop_timeout_ms, then call
 * hooks.stopped and release everything. */
void sup_stop(struct supervisor *s);
/* A second stop request: skip the grace period. */
void sup_stop_now(struct supervisor *s);
/* pid of the HAProxy that serves, or 0. */
int sup_current_pid(const struct supervisor *s);

/* Upgrading proxymgrd in place (SIGUSR2). */
struct sup_handoff_proc {
	int		 pid;
	int		 out_fd, err_fd;	/* its stdout and stderr, or -1 */
};

struct sup_handoff {
	int		 pid;		/* the HAProxy that serves, or 0 */
	int		 out_fd, err_fd;
	/* Draining ones: their pipes too, or they would write into
	 * closed ones. malloc'ed. */
	struct sup_handoff_proc *old;
	size_t		 nold;
	unsigned long	 fingerprint;	/* snapshot_fingerprint of live */
};

/* Whether a hand-over can happen now (idle, a HAProxy serves), and what
 * to hand over. */
bool sup_handoff(struct supervisor *s, struct sup_handoff *h);
/* Take over what the replaced proxymgrd ran. The first reload compares
 * the snapshot with the config file on disk: if HAProxy runs it already,
 * it becomes live with no reload; otherwise a (hitless) reload follows. */
void sup_adopt(struct supervisor *s, const struct sup_handoff *h);
/* HAProxy processes that run this configuration but are neither ours
 * nor adopted: one a dying proxymgrd had just forked shows up only after
 * the takeover looked. Each is soft-stopped and followed as draining.
 * Returns how many. */
size_t sup_adopt_strays(struct supervisor *s);

/* For the supervisor's parts. */

/* Record the end of a reload, runtime batch or restart that started at
 * start_us (now_us() clock): reason and why from the scheduler for a
 * reload, error NULL if it went well. */
void sup_record(struct supervisor *s, enum history_kind kind,
    uint64_t start_us, const char *error, size_t commands);

/* Move to the state the table gives for ev; a pair it lacks is refused:
 * logged, the state stays, and a debug build (PM_DEBUG) aborts. */
bool sup_enter(struct supervisor *s, enum sup_event ev);
/* Nothing in flight (IDLE or ADOPTED). */
bool sup_idle(const struct supervisor *s);
/* What was in flight is over (ev says how): the change log entries it
 * carried are done, and whatever waited is scheduled. */
void sup_become_idle(struct supervisor *s, enum sup_event ev);
/* While stopping: once every process is gone, close everything. */
void sup_maybe_stopped(struct supervisor *s);
/* The close callback of every part's timers (handle->data is s). */
void sup_on_handle_close(uv_handle_t *h);

#endif
