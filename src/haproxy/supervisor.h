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

struct hap_proc;
struct pm_config;
struct service_def;
struct snapshot;
struct stats_query;

struct sup_hooks {
	/* Build and render the next snapshot. */
	struct snapshot *(*build)(void *ctx, const struct snapshot *live);
	/* HAProxy refused this service's definition. */
	void	(*reject)(void *ctx, const char *service,
		    const struct service_def *def);
	/* The global/defaults settings failed (why says how); return true
	 * if they were put back to the previous ones (worth a retry). */
	bool	(*settings_rollback)(void *ctx, const char *why);
	/* A new HAProxy serves the snapshot built last: what it was built
	 * from is proven good. */
	void	(*committed)(void *ctx);
	/* Every HAProxy process is gone after sup_stop(). */
	void	(*stopped)(void *ctx);
	void	*ctx;
};

enum sup_state { SUP_IDLE, SUP_CHECKING, SUP_STARTING, SUP_STOPPING };

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
	bool			 starting_is_restart;
	uint64_t		 start_deadline_ms;
	int			 check_attempts;

	uv_timer_t		 reload_timer;
	uv_timer_t		 ready_timer;
	uv_timer_t		 restart_timer;
	uv_timer_t		 stop_timer;
	int			 open_timers;

	bool			 reload_wanted;
	char			*reasons;	/* why the next reload */
	char			*cur_reasons;	/* why the one in flight */
	uint64_t		 last_reload_ms;
	int			 restart_backoff_ms;
	bool			 restart_wanted;
	bool			 retake_socket;	/* see sup_start_failed */
	bool			 hard_kill_sent;

	/* Counters, logged with each reload. */
	uint64_t		 reloads;
	uint64_t		 reload_failures;
	uint64_t		 restarts;
};

void sup_init(struct supervisor *s, uv_loop_t *loop,
    const struct pm_config *cfg, const struct sup_hooks *hooks);
void sup_set_config(struct supervisor *s, const struct pm_config *cfg);
void sup_request_reload(struct supervisor *s, const char *why);
/* Soft-stop every HAProxy, hard-stop past stop_timeout_ms, then call
 * hooks.stopped and release everything. */
void sup_stop(struct supervisor *s);
/* A second stop request: skip the grace period. */
void sup_stop_now(struct supervisor *s);
/* pid of the HAProxy that serves, or 0. */
int sup_current_pid(const struct supervisor *s);

#endif
