/* The supervisor owns the HAProxy processes. A reload renders the next
 * snapshot, checks it with `haproxy -c` (with the same fds), installs it,
 * starts a new HAProxy on the held sockets and soft-stops the old one only
 * once the new one answers on the stats socket with its own pid. Reloads
 * are rate-limited and coalesced; a HAProxy that dies is restarted with
 * backoff on the same sockets; on any failure the old process keeps
 * serving. */
#ifndef PM_SUPERVISOR_H
#define PM_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "haproxy/planner.h"

struct hap_proc;
struct rt_conn;
struct pm_config;
struct service_def;
struct snapshot;
struct stats_query;

struct sup_hooks {
	/* Build and render the next snapshot; for_reload trims retired
	 * servers (snapshot_carry). */
	struct snapshot *(*build)(void *ctx, const struct snapshot *live,
	    bool for_reload);
	/* A reload is decided on next (built for_reload): bind or take from
	 * their pools the sockets it needs. Returns next, or, if a port
	 * cannot be had, a snapshot built again without it (next freed). A
	 * build binds nothing: one thrown away costs no socket. */
	struct snapshot *(*claim)(void *ctx, struct snapshot *next,
	    const struct snapshot *live);
	/* HAProxy refused this service's definition. */
	void	(*reject)(void *ctx, const char *service,
		    const struct service_def *def);
	/* The global/defaults settings failed (why says how); return true
	 * if they were put back to the previous ones (worth a retry). */
	bool	(*settings_rollback)(void *ctx, const char *why);
	/* A new HAProxy serves the snapshot built last: what it was built
	 * from is proven good. */
	void	(*committed)(void *ctx);
	/* A reload failed; the running HAProxy (if any) serves on. */
	void	(*reload_failed)(void *ctx, const char *why);
	/* Every HAProxy process is gone after sup_stop(). */
	void	(*stopped)(void *ctx);
	void	*ctx;
};

/* APPLYING: a runtime batch is out. SAVING: the server state of the
 * running HAProxy is being dumped for the next one. */
enum sup_state { SUP_IDLE, SUP_APPLYING, SUP_CHECKING, SUP_SAVING,
	SUP_STARTING, SUP_STOPPING };

struct sup_counters {
	uint64_t	 rt_batches;	/* applied without a reload */
	uint64_t	 rt_commands;	/* commands HAProxy did as asked */
	uint64_t	 rt_failures;	/* batches that turned into a reload */
	uint64_t	 servers_added, servers_retired, servers_returned;
	uint64_t	 reloads;	/* first start included */
	uint64_t	 reloads_by[PLAN_REASONS];
	uint64_t	 reload_failures;
	uint64_t	 restarts;
};

struct supervisor {
	uv_loop_t		*loop;
	const struct pm_config	*cfg;
	struct sup_hooks	 hooks;
	enum sup_state		 state;

	struct snapshot		*live;		/* what `current` runs */
	struct snapshot		*next;		/* being checked or started */
	struct hap_proc		*current;
	struct hap_proc		*checking;
	struct hap_proc		*starting;
	struct hap_proc		*old;		/* soft-stopped, draining */
	struct stats_query	*ready_query;
	struct stats_query	*save_query;	/* show servers state */
	struct rt_conn		*rt;
	struct snapshot		*applying;	/* runtime batch in flight */
	struct plan		 plan;
	size_t			 phase_end;	/* of the phase in flight */
	size_t			 applied;	/* commands answered right */
	/* A runtime batch failed: HAProxy may have run part of it, so the
	 * next reload is not skipped and carries no server state. */
	bool			 rt_dirty;
	uint64_t		 apply_start_us;
	uint64_t		 plan_us;	/* build + plan of the batch out */
	uint64_t		 change_since_us;	/* oldest unplanned change */
	uint64_t		 cur_change_since_us;	/* of the batch out */
	/* Adopted from the proxymgrd this one replaced: until the first
	 * snapshot is compared with what it runs, live is unknown. */
	bool			 adopted;
	unsigned long		 adopted_fingerprint;
	bool			 starting_is_restart;
	uint64_t		 start_deadline_ms;
	int			 check_attempts;

	uv_timer_t		 reload_timer;
	uv_timer_t		 ready_timer;
	uv_timer_t		 restart_timer;
	uv_timer_t		 stop_timer;
	uv_timer_t		 write_timer;	/* haproxy.cfg after runtime */
	bool			 write_wanted;
	int			 open_timers;

	bool			 change_wanted;	/* plan at the next turn */
	bool			 reload_wanted;
	uint64_t		 reload_since_ms;
	uint64_t		 reload_due_ms;
	enum plan_reason	 reload_reason;	/* of the next reload */
	char			*reload_why;
	enum plan_reason	 cur_reason;	/* of the one in flight */
	char			*reasons;	/* changes since the last plan */
	char			*cur_reasons;	/* why the one in flight */
	uint64_t		 last_reload_ms;
	int			 restart_backoff_ms;
	bool			 restart_wanted;
	bool			 retake_socket;	/* see sup_start_failed */
	bool			 hard_kill_sent;
	int			 record_pid;	/* what the serving record */
	unsigned long		 record_fp;	/* says now */

	struct sup_counters	 counters;
};

void sup_init(struct supervisor *s, uv_loop_t *loop,
    const struct pm_config *cfg, const struct sup_hooks *hooks);
void sup_set_config(struct supervisor *s, const struct pm_config *cfg);
/* Something in the model changed (why says what) at since_us (now_us()
 * clock, for the change-to-live time): plan it at once, as runtime
 * commands or a reload. */
void sup_request_change(struct supervisor *s, const char *why,
    uint64_t since_us);
/* One log line with every counter. */
void sup_log_counters(const struct supervisor *s);
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
	unsigned long	 fingerprint;	/* of what it runs */
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
/* What a snapshot runs, as one number (FNV-1a). */
unsigned long sup_snapshot_fingerprint(const struct snapshot *snap);

#endif
