/* What a HAProxy really built, from its `show stat` reply, against what
 * was rendered for each service: a frontend and a backend of the service's
 * name, with exactly its servers. `haproxy -c` passes configurations that
 * HAProxy builds otherwise (a section keyword that slipped through takes
 * a service's servers into that section; `disabled` leaves the proxy out),
 * so a new HAProxy is checked before it replaces the old one. Parsing and
 * comparing are pure, for the unit tests. */
#ifndef PM_HAP_VERIFY_H
#define PM_HAP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

struct server_list;

struct verify_proxy {
	char		*name;
	bool		 frontend, backend;
	char		**servers;	/* sorted (strcmp), duplicates kept */
	size_t		 nservers;
};

/* Proxies sorted by name. */
struct verify_view {
	struct verify_proxy *v;
	size_t		 n;
};

/* Read a `show stat` (CSV) reply, optionally followed by a `show servers
 * state` reply whose lines add servers (at 100,000 servers, `show stat
 * -1 3 -1;show servers state` is a fifth of the bytes of show stat's
 * server rows). Rows whose names HAProxy could not have written
 * ([A-Za-z0-9_.:-] only) or of an unknown type are left out: a row left
 * out can only make a service differ, never match. Returns -1 with *err
 * (view empty) if the reply is not such a table: an error message, no
 * pxname/svname/type column, a record or line cut short. */
int verify_parse_stat(const char *reply, struct verify_view *view,
    char **err);
void verify_view_free(struct verify_view *view);
/* NULL if view has a frontend and a backend named name with exactly
 * these servers (by name), else why not (malloc'ed, one line). */
char *verify_service(const struct verify_view *view, const char *name,
    const struct server_list *servers);

#endif
