/* One HAProxy child: a config check (`haproxy -c`) or a running process.
 * Both get the snapshot's listeners as fds 3.. and a minimal environment:
 * PATH, TZ and a variable per named listener, nothing else. Output
 * is captured: a check's is kept for the error report, a running one's is
 * logged line by line. */
#ifndef PM_HAP_PROC_H
#define PM_HAP_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "util.h"

struct snapshot;
struct hap_proc;

/* Called once the process has exited and its output is fully read. */
typedef void (*hap_proc_done_cb)(struct hap_proc *p);

enum hap_proc_kind { HAP_PROC_CHECK, HAP_PROC_RUN };

struct hap_proc {
	enum hap_proc_kind	 kind;
	uv_process_t		 process;
	/* Adopted from the proxymgrd this one replaced: still our child
	 * after an upgrade (SIGUSR2), not after a takeover. Not libuv's
	 * either way: followed by its pidfd. */
	bool			 adopted;
	int			 pidfd;
	uv_poll_t		 exit_poll;
	bool			 status_unknown;	/* not our child */
	uv_pipe_t		 out[2];	/* stdout, stderr */
	struct sbuf		 partial[2];	/* unfinished line */
	struct sbuf		 output;	/* HAP_PROC_CHECK only */
	int			 pid;
	int			 pending;	/* exit + two EOFs */
	int			 open_handles;
	bool			 exited;
	int64_t			 exit_status;
	int			 term_signal;
	uint64_t		 started_ms;	/* now_ms() clock */
	/* The how-manieth HAProxy to serve under this proxymgrd (1 the
	 * first); 0 for one adopted, or not serving yet. */
	uint64_t		 generation;
	uint64_t		 serving_ms;	/* since (now_ms() clock), or 0 */
	/* Runs with "expose-fd listeners" on its stats socket: a new one
	 * may fetch its listeners with -x. */
	bool			 exposes_fds;
	bool			 soft_stopped;
	uint64_t		 soft_stop_ms;
	hap_proc_done_cb	 on_done;
	void			*arg;
	struct hap_proc		*next;
};

/* xfer: for HAP_PROC_RUN, the stats socket of a serving HAProxy that
 * exposes its listeners, to start with "-x xfer", or NULL. */
struct hap_proc *hap_proc_spawn(uv_loop_t *loop, enum hap_proc_kind kind,
    const char *haproxy, const char *config_file, const struct snapshot *snap,
    const char *xfer, hap_proc_done_cb on_done, void *arg, char **err);
/* Take over a running HAProxy by pid, our child or not, with its output
 * pipes (either fd may be -1). One that is gone already, with no output
 * left to read, gets its on_done before this returns. */
struct hap_proc *hap_proc_adopt(uv_loop_t *loop, int pid, int out_fd,
    int err_fd, hap_proc_done_cb on_done, void *arg);
/* Its stdout and stderr fds (-1 when gone), to hand it over. */
void hap_proc_fds(struct hap_proc *p, int *out_fd, int *err_fd);
int hap_proc_signal(struct hap_proc *p, int sig);
/* Release handles; frees p once they are closed. on_done is not called. */
void hap_proc_release(struct hap_proc *p);
/* "exit status 1" / "killed by signal 9", for log lines. */
const char *hap_proc_status(const struct hap_proc *p, char *buf, size_t len);

#endif
