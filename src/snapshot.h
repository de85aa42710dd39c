/* A snapshot is everything one HAProxy process runs: the services with
 * their definitions, servers and held listeners, and the haproxy.cfg text
 * rendered from them. The live snapshot is what the current HAProxy runs;
 * a restart after a crash reuses it as it is. */
#ifndef PM_SNAPSHOT_H
#define PM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

struct service_def;
struct listener;
struct pm_config;

#define SNAPSHOT_FIRST_FD 3	/* child fds 0-2 are stdio */

struct snapshot_service {
	struct service_def	*def;
	struct server_list	 servers;
	struct listener		*listener;
	int			 child_fd;
	int			 first_line;	/* in text, 1-based */
	int			 last_line;
};

/* A named listener: the child gets it at child_fd and NAME=child_fd in
 * its environment, for "bind fd@${NAME}" in a hand-written config. */
struct snapshot_named {
	char			*name;
	struct listener		*listener;
	int			 child_fd;	/* after the services' fds */
};

struct snapshot {
	struct pm_config	*cfg;	/* built from it (a reference) */
	struct snapshot_service	*v;
	size_t			 n;
	struct snapshot_named	*named;
	size_t			 nnamed;
	char			*user_config;	/* path, or NULL (managed) */
	char			*user_text;	/* its content when built */
	char			**env;		/* --env-file's NAME=VALUE, or NULL */
	unsigned long		 generation;	/* SIGHUP: reload even if same */
	char			*text;
	int			 settings_last_line; /* global and defaults */
};

/* Takes a reference on cfg: what the snapshot is rendered and run with. */
struct snapshot *snapshot_new(struct pm_config *cfg);
/* Takes a ref on def and listener, copies servers. Returns the entry. */
struct snapshot_service *snapshot_add(struct snapshot *s,
    struct service_def *def, const struct server_list *servers,
    struct listener *listener);
/* Takes a ref on listener. Call after the last snapshot_add. */
void snapshot_add_named(struct snapshot *s, const char *name,
    struct listener *listener);
const struct snapshot_service *snapshot_find(const struct snapshot *s,
    const char *name);
/* A reload is decided on s: claim the socket of each of its listeners
 * (listener_claim). Building a snapshot binds nothing; this is the step
 * that does. Returns 0, or -1 if some could not be had: those are
 * remembered (listener_failure), so that a snapshot built again leaves
 * them out as it should, and the others stay claimed. */
int snapshot_claim(struct snapshot *s);
/* Releasing a listener nothing else uses gives its socket back to the
 * pool it came from, or closes it (listener_release). */
void snapshot_free(struct snapshot *s);

/* Whether the operator says who HAProxy runs as: user, uid, group or gid
 * in haproxy.global or in a global section of the hand-written file. */
bool snapshot_sets_identity(const struct snapshot *s);

/* Give e's servers their slots (HAProxy servers: name and id) and keep
 * retired ones. Slots are matched by address: an address a slot of the
 * live entry serves keeps that slot, its name and id. A new IP address
 * takes the retired slot retired longest ago, if any (the planner sends
 * `set server addr`), else a new slot named HOST:PORT (HOST:PORT-2, ...
 * if a slot serving another address has that name) with an id above
 * every id the live entry used (an id is never given to another slot
 * while a state file may name it). A slot of live that serves nothing
 * wanted stays, rendered "disabled", so that it can come back or be
 * reused without a reload; for a reload (trim) only the max_disabled/2
 * most recently retired stay, so that the next reload for the same
 * reason is not the very next retirement. */
void snapshot_carry(struct snapshot_service *e,
    const struct snapshot_service *live, bool trim, int max_disabled);
/* Number of retired (disabled) servers of e. */
size_t snapshot_disabled_count(const struct snapshot_service *e);
/* The server-state-file HAProxy loads at start: CONFIG_PATH.state. */
char *snapshot_state_path(const struct pm_config *cfg);

/* What a HAProxy runs is, and is only: the rendered text, the
 * hand-written config (path and text) and which socket (address and
 * port) sits behind each child fd, for services and named listeners. The
 * text alone is not enough: "bind fd@4" reads the same on another port.
 * snapshot_diff says which of these differ between a and b, as bits;
 * the sameness check, the planner and the upgrade fingerprint all read
 * what runs through it. */
#define SNAPSHOT_DIFF_SETTINGS	 0x01	/* text: global and defaults */
#define SNAPSHOT_DIFF_SECTIONS	 0x02	/* text: the services' sections */
#define SNAPSHOT_DIFF_SOCKETS	 0x04	/* a service's name, socket or fd */
#define SNAPSHOT_DIFF_NAMED	 0x08	/* a named listener's, likewise */
#define SNAPSHOT_DIFF_USER	 0x10	/* hand-written config (unreadable:
					   never the same), its env file */
/* Not what runs but a request: SIGHUP reloads even if nothing differs. */
#define SNAPSHOT_DIFF_GENERATION 0x20
#define SNAPSHOT_DIFF_ALL	 0x3f
unsigned snapshot_diff(const struct snapshot *a, const struct snapshot *b);
/* Nothing to reload: snapshot_diff finds nothing (false if either is
 * NULL). */
bool snapshot_same(const struct snapshot *a, const struct snapshot *b);
/* What a snapshot runs (everything snapshot_diff compares but the
 * generation), as one number that survives an exec: sockets by address
 * and port, not by pointer. */
unsigned long snapshot_fingerprint(const struct snapshot *s);
/* The same socket: the same address and port (listeners are shared by
 * address and port, so within a process this is pointer equality). */
bool snapshot_same_socket(const struct listener *a, const struct listener *b);

/* Whether s's stats socket exposes its listeners (expose-fd listeners):
 * with a hand-written config, whose plain binds HAProxy hands from one
 * process to the next (-x). */
bool snapshot_exposes_fds(const struct snapshot *s);

/* Render haproxy.cfg into s->text with s->cfg and record line ranges.
 * Pure: the same config and snapshot always give the same text. */
void snapshot_render(struct snapshot *s);
/* The service whose section holds line, or NULL (global/defaults). */
const struct snapshot_service *snapshot_service_at_line(
    const struct snapshot *s, int line);

#endif
