/* A snapshot is everything one HAProxy process runs: the services with
 * their definitions, servers and held listeners, and the haproxy.cfg text
 * rendered from them. The live snapshot is what the current HAProxy runs;
 * a restart after a crash reuses it as it is. */
#ifndef PM_SNAPSHOT_H
#define PM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

struct service_def;
struct listener;
struct pm_config;

#define SNAPSHOT_FIRST_FD 3	/* child fds 0-2 are stdio */

/* One service as a HAProxy runs it. An entry is shared, read-only, by
 * every snapshot that runs the service alike: a change to one service
 * builds one new entry, and the next snapshot takes the others from the
 * live one as they are (model_snapshot), so that neither building nor
 * planning nor rendering costs more as the fleet grows. */
struct snapshot_service {
	int			 refs;
	struct service_def	*def;
	struct server_list	 servers;
	struct listener		*listener;
	int			 child_fd;
	uint64_t		 gen;	/* the model's, when built from it */
	/* Its section of haproxy.cfg, from the blank line before it. */
	char			*text;
	int			 nlines;
};

/* A named listener: the child gets it at child_fd and NAME=child_fd in
 * its environment, for "bind fd@${NAME}" in a hand-written config. */
struct snapshot_named {
	char			*name;
	struct listener		*listener;
	int			 child_fd;	/* after the services' fds */
};

struct snapshot {
	int			 refs;	/* snapshot_hold; snapshot_free */
	struct pm_config	*cfg;	/* built from it (a reference) */
	struct snapshot_service	**v;	/* sorted by name */
	size_t			 n;
	size_t			 cap;
	struct snapshot_named	*named;
	size_t			 nnamed;
	char			*user_config;	/* path, or NULL (managed) */
	char			*user_text;	/* its content when built */
	char			**env;		/* --env-file's NAME=VALUE, or NULL */
	unsigned long		 generation;	/* SIGHUP: reload even if same */
	char			*settings_text;	/* global and defaults */
	int			 settings_last_line;
	int			*first_line;	/* of v[i]'s section, 1-based */
	char			*text;	/* snapshot_text's, or NULL */
};

/* Takes a reference on cfg: what the snapshot is rendered and run with. */
struct snapshot *snapshot_new(struct pm_config *cfg);
/* Takes a ref on def and listener, copies servers. Returns the entry,
 * the snapshot's own until it is rendered; add in name order. */
struct snapshot_service *snapshot_add(struct snapshot *s,
    struct service_def *def, const struct server_list *servers,
    struct listener *listener);
/* Whether e, an entry of another snapshot, can be taken as it is as the
 * next one added to s: rendered with s's config, at the child fd it
 * would get. */
bool snapshot_can_share(const struct snapshot *s,
    const struct snapshot_service *e);
/* Add e, rendered, as it is (a reference). */
void snapshot_share(struct snapshot *s, struct snapshot_service *e);
/* Room for n entries, so that adding them one by one reallocates
 * nothing. */
void snapshot_reserve(struct snapshot *s, size_t n);
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
/* Drop a reference (the last one frees s). Releasing a listener nothing
 * else uses gives its socket back to the pool it came from, or closes it
 * (listener_release). */
void snapshot_free(struct snapshot *s);
/* Another reference, on the loop's thread: s stays as it is for as long,
 * so that a worker thread may read it (snapshot_write_tmp,
 * snapshot_fingerprint). */
struct snapshot *snapshot_hold(struct snapshot *s);

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

/* Render haproxy.cfg with s->cfg: the global and defaults sections, and
 * the section of each entry s alone has (a shared one was rendered with
 * the same config); assemble it whole into s->text and record the line
 * ranges. Pure: the same config and snapshot always give the same text. */
void snapshot_render(struct snapshot *s);
/* The same, but only the sections not rendered yet, and the whole text
 * is left to snapshot_text: what a change to a few services costs. */
void snapshot_render_new(struct snapshot *s);
/* The whole haproxy.cfg (assembled once, then kept in s->text until
 * snapshot_forget_text). */
const char *snapshot_text(struct snapshot *s);
void snapshot_forget_text(struct snapshot *s);
/* Write the whole text to path atomically (write_file_atomic's steps),
 * section by section: at 100,000 servers the text is megabytes, which
 * need never be in memory at once. */
int snapshot_write(const struct snapshot *s, const char *path, char **err);
/* Its first half: into tmp, fsync'ed (rename_durable puts it in place).
 * Reads s only: a worker thread may call it on a held snapshot. */
int snapshot_write_tmp(const struct snapshot *s, const char *tmp,
    char **err);
/* v[i]'s section: its first line (the listen line) and its last. */
int snapshot_first_line(const struct snapshot *s, size_t i);
int snapshot_last_line(const struct snapshot *s, size_t i);
/* The service whose section holds line, or NULL (global/defaults). */
const struct snapshot_service *snapshot_service_at_line(
    const struct snapshot *s, int line);

#endif
