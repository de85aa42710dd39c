/* A server is one address:port of a service. Lists are kept sorted by
 * name and free of duplicates so that two lists compare with one pass.
 * In the model's lists the name is HOST:PORT. In a snapshot it is the
 * name of the slot (the HAProxy server) that serves the address: the
 * HOST:PORT it was created for, which stays while the slot lives even
 * when the slot is given another address (snapshot_carry). */
#ifndef PM_SERVER_H
#define PM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server {
	char	*host;		/* IPv4/IPv6 literal or host name, no brackets */
	int	 port;
	char	*name;		/* HAProxy server name: HOST:PORT, or a slot's */
	int	 weight;	/* 0: HAProxy's default (SRV records set it) */
	/* Set in snapshots only (0/false in the model's lists): */
	int	 id;		/* HAProxy server id, stable while it is rendered */
	bool	 disabled;	/* retired: rendered "disabled", may come back */
	uint64_t retired_seq;	/* when it was retired (higher: later) */
};

struct server_list {
	struct server	*v;
	size_t		 n;
	size_t		 cap;
};

void srvlist_init(struct server_list *l);
void srvlist_free(struct server_list *l);
/* Append a server; host must already be validated. */
void srvlist_add(struct server_list *l, const char *host, int port);
void srvlist_add_weighted(struct server_list *l, const char *host, int port,
    int weight);
/* Sort by name and drop duplicates; call once after the last add. */
void srvlist_finish(struct server_list *l);
/* Names, ids and retired state included. */
void srvlist_copy(struct server_list *dst, const struct server_list *src);
/* Give l->v[i] the name of a slot (a snapshot's list; sort it again). */
void srvlist_rename(struct server_list *l, size_t i, const char *name);
/* The server of that name among the first n of l (sorted by name, as
 * srvlist_finish leaves it), or NULL. */
const struct server *srvlist_find_n(const struct server_list *l, size_t n,
    const char *name);
/* The same among all of l. */
const struct server *srvlist_find(const struct server_list *l,
    const char *name);
bool srvlist_equal(const struct server_list *a, const struct server_list *b);
void srvlist_move(struct server_list *dst, struct server_list *src);

/* The name of today for a server named HOST_PORT by proxymgrd before
 * it took ProxyMgr's HOST:PORT: a server-state file written by an older
 * proxymgrd keeps its lines. False if name is not of that form. */
bool server_name_from_legacy(const char *name, char *buf, size_t len);

/* The servers of a list by address (host, then port), for a list sorted
 * by name whose names are not all HOST:PORT (a snapshot's). Points into
 * the list: valid while it is not changed. */
struct server_index {
	const struct server	**v;
	size_t			  n;
};

void srvindex_build(struct server_index *ix, const struct server_list *l);
const struct server *srvindex_find(const struct server_index *ix,
    const char *host, int port);
void srvindex_free(struct server_index *ix);

/* The name HOST:PORT, or with n > 1 HOST:PORT-n: the name of a new slot
 * for an address whose HOST:PORT a slot serving another address holds.
 * HAProxy takes only [A-Za-z0-9._:-] in a name; '_' would read as the
 * HOST_PORT names of old (server_name_from_legacy), and no address ends
 * in "-n" after its last ':'. malloc'ed. */
char *server_slot_name(const char *host, int port, unsigned n);

/* An IP literal as inet_ntop writes it (as HAProxy prints addresses):
 * false if host is not an IP literal. */
bool server_ip_canonical(const char *host, char *buf, size_t len);
/* host and other are the same IP (in any spelling), or the same name. */
bool server_host_same(const char *host, const char *other);

/* "host:port" as HAProxy's server line takes it ("[v6]:port" for IPv6).
 * Writes into buf, returns buf. */
char *server_addr(const struct server *s, char *buf, size_t len);

#endif
