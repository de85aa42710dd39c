/* Watcher "dns": servers from A/AAAA records of names and from SRV
 * records, resolved by c-ares on the libuv loop (no threads, no blocking
 * resolver). c-ares tells which sockets to watch through its socket-state
 * callback (one uv_poll each) and when to wake up (ares_timeout, one
 * timer). Every name keeps its last good answer: a failure never empties
 * the service. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "util.h"
#include "validate.h"
#include "watchers/hostfile.h"
#include "watchers/watcher.h"

#define DNSW_DEFAULT_INTERVAL_S	5
#define DNSW_MIN_REFRESH_MS	1000	/* however short the TTL */
#define DNSW_QUERY_TIMEOUT_MS	2000
#define DNSW_TRIES		2
#define DNSW_MAX_WEIGHT		256	/* HAProxy's highest */

static const char *const dnsw_keys[] = {
	"backends", "nameserver", "interval", NULL,
};
static const char *const dnsw_backend_keys[] = { "name", "port", "srv", NULL };

/* One entry of "backends": a name (A/AAAA, with a port) or an SRV name.
 * SRV targets are looked up as sub-queries of their entry. */
struct dnsw_entry {
	char			*name;
	bool			 srv;
	int			 port;
	bool			 resolved;	/* ever */
	bool			 failed_logged;
	bool			 partial;	/* some SRV targets failed */
	struct server_list	 known;		/* last good answer */
	/* For operators (watcher health): */
	int			 ttl;		/* of the last good answer, or
						 * -1 */
	int64_t			 answered_ms;	/* its wall clock, or 0 */
	char			*error;		/* of the last round, or NULL */
	bool			 out_of_reach;	/* that error is a timeout */
	/* In flight: */
	int			 pending;
	int			 status;	/* ARES_SUCCESS or first error */
	struct server_list	 fresh;
	int			 min_ttl;
};

struct dnsw_poll {
	uv_poll_t		 poll;
	ares_socket_t		 fd;
	struct watcher		*w;
	struct dnsw_poll	*next;
};

struct dnsw {
	ares_channel		 channel;
	bool			 channel_ok;
	uv_timer_t		 ares_timer;	/* c-ares timeouts */
	uv_timer_t		 refresh;	/* next round */
	struct dnsw_poll	*polls;
	int			 open_handles;
	struct dnsw_entry	*entries;
	size_t			 nentries;
	int			 round_pending;	/* entries still resolving */
	int			 interval_ms;
	int			 round_min_ttl;
	bool			 round_failed;	/* a name failed this round */
	uint64_t		 retry_ms;	/* next retry after a failure */
	bool			 stopping;
};

/* A query's context: which entry, and for SRV targets, which port and
 * weight the addresses get. */
struct dnsw_query {
	struct watcher		*w;
	struct dnsw_entry	*e;
	int			 port;
	int			 weight;
};

static int
dnsw_parse_nameserver(const char *s, char **csv)
{
	char host[VAL_HOST_MAX + 1];
	int port = 53;

	if (val_ip(s)) {
		*csv = val_ipv6(s) ? xasprintf("[%s]:53", s) : xstrdup(s);
		return 0;
	}
	if (hostfile_parse_entry(s, host, sizeof(host), &port, NULL) == -1 ||
	    !val_ip(host))
		return -1;
	*csv = val_ipv6(host) ? xasprintf("[%s]:%d", host, port) :
	    xasprintf("%s:%d", host, port);
	return 0;
}

static int
dnsw_validate(json_t *blob, char **err)
{
	json_t *list = json_object_get(blob, "backends"), *item, *v;
	const char *key;
	char *csv;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return set_err(err, "key 'backends' is required: a list of "
		    "{\"name\": NAME, \"port\": PORT} or {\"srv\": NAME}");
	json_array_foreach(list, i, item) {
		if (!json_is_object(item))
			return set_err(err, "backends[%zu]: expected an object",
			    i);
		json_object_foreach(item, key, v) {
			if (!str_in(key, dnsw_backend_keys))
				return set_err(err, "backends[%zu]: unknown key "
				    "'%s'", i, key);
		}
		if ((v = json_object_get(item, "srv")) != NULL) {
			if (json_object_get(item, "name") != NULL ||
			    json_object_get(item, "port") != NULL)
				return set_err(err, "backends[%zu]: 'srv' takes "
				    "neither 'name' nor 'port' (the SRV record "
				    "gives them)", i);
		} else if ((v = json_object_get(item, "name")) != NULL) {
			json_t *p = json_object_get(item, "port");
			if (!json_is_integer(p) || json_integer_value(p) < 1 ||
			    json_integer_value(p) > 65535)
				return set_err(err, "backends[%zu]: key 'port' "
				    "is required: an integer 1-65535", i);
		} else
			return set_err(err, "backends[%zu]: needs 'name' (with "
			    "'port') or 'srv'", i);
		if (!json_is_string(v) || !(json_object_get(item, "srv") ?
		    val_srv_name(json_string_value(v)) :
		    val_host(json_string_value(v))))
			return set_err(err, "backends[%zu]: '%s' is not a DNS "
			    "name", i, json_is_string(v) ?
			    json_string_value(v) : "?");
	}
	if ((v = json_object_get(blob, "nameserver")) != NULL) {
		if (!json_is_string(v) ||
		    dnsw_parse_nameserver(json_string_value(v), &csv) == -1)
			return set_err(err, "key 'nameserver': expected IP, "
			    "IP:PORT or [IPv6]:PORT");
		free(csv);
	}
	if ((v = json_object_get(blob, "interval")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 3600))
		return set_err(err, "key 'interval': expected seconds, an "
		    "integer 1-3600");
	return 0;
}

static void dnsw_arm_ares_timer(struct watcher *w);
static void dnsw_round(struct watcher *w);
static void dnsw_entry_done(struct watcher *w, struct dnsw_entry *e);

static void
dnsw_on_close(uv_handle_t *h)
{
	struct watcher *w = h->data;
	struct dnsw *d = w->priv;

	if (h->type == UV_POLL)
		free(h);	/* a struct dnsw_poll: poll is its first member */
	if (--d->open_handles > 0)
		return;
	for (size_t i = 0; i < d->nentries; i++) {
		free(d->entries[i].name);
		free(d->entries[i].error);
		srvlist_free(&d->entries[i].known);
		srvlist_free(&d->entries[i].fresh);
	}
	free(d->entries);
	free(d);
	watcher_free(w);
}

static void
dnsw_on_poll(uv_poll_t *h, int status, int events)
{
	struct dnsw_poll *p = (struct dnsw_poll *)h;
	struct dnsw *d = p->w->priv;

	/* On an error let c-ares read the socket: it sees the error. */
	if (status < 0)
		events = UV_READABLE;
	ares_process_fd(d->channel,
	    (events & UV_READABLE) ? p->fd : ARES_SOCKET_BAD,
	    (events & UV_WRITABLE) ? p->fd : ARES_SOCKET_BAD);
	dnsw_arm_ares_timer(p->w);
}

/* c-ares opens, watches and closes its sockets through this. */
static void
dnsw_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct watcher *w = data;
	struct dnsw *d = w->priv;
	struct dnsw_poll **pp, *p;

	for (pp = &d->polls; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->fd == fd)
			break;
	p = *pp;
	if (!readable && !writable) {
		if (p != NULL) {
			*pp = p->next;
			uv_poll_stop(&p->poll);
			uv_close((uv_handle_t *)&p->poll, dnsw_on_close);
		}
		return;
	}
	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		p->fd = fd;
		p->w = w;
		if (uv_poll_init_socket(w->loop, &p->poll, fd) != 0) {
			log_event(LOG_LVL_WARNING, "watcher_error", w->service,
			    NULL, "service %s: dns: cannot watch a resolver "
			    "socket", w->service);
			free(p);
			return;
		}
		p->poll.data = w;
		d->open_handles++;
		p->next = d->polls;
		d->polls = p;
	}
	uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) |
	    (writable ? UV_WRITABLE : 0), dnsw_on_poll);
}

static void
dnsw_on_ares_timer(uv_timer_t *t)
{
	struct watcher *w = t->data;
	struct dnsw *d = w->priv;

	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dnsw_arm_ares_timer(w);
}

static void
dnsw_arm_ares_timer(struct watcher *w)
{
	struct dnsw *d = w->priv;
	struct timeval tv, *tvp;

	if (d->stopping)
		return;
	if ((tvp = ares_timeout(d->channel, NULL, &tv)) == NULL) {
		uv_timer_stop(&d->ares_timer);
		return;
	}
	uv_timer_start(&d->ares_timer, dnsw_on_ares_timer,
	    (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000 + 1,
	    0);
}

/* Add the addresses of an answer to the entry's fresh list. */
static void
dnsw_add_addresses(struct dnsw_entry *e, struct ares_addrinfo *ai, int port,
    int weight)
{
	char addr[INET6_ADDRSTRLEN];

	for (struct ares_addrinfo_node *n = ai->nodes; n != NULL;
	    n = n->ai_next) {
		const void *src;
		if (n->ai_family == AF_INET)
			src = &((struct sockaddr_in *)n->ai_addr)->sin_addr;
		else if (n->ai_family == AF_INET6)
			src = &((struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(n->ai_family, src, addr, sizeof(addr)) == NULL)
			continue;
		srvlist_add_weighted(&e->fresh, addr, port, weight);
		if (e->min_ttl < 0 || n->ai_ttl < e->min_ttl)
			e->min_ttl = n->ai_ttl;
	}
}

static void
dnsw_on_addrinfo(void *arg, int status, int timeouts,
    struct ares_addrinfo *result)
{
	struct dnsw_query *q = arg;
	struct dnsw_entry *e = q->e;
	struct watcher *w = q->w;

	(void)timeouts;
	if (status == ARES_SUCCESS && result != NULL)
		dnsw_add_addresses(e, result, q->port, q->weight);
	else if (e->srv)
		e->partial = true;	/* one SRV target; the others count */
	else if (e->status == ARES_SUCCESS)
		e->status = status;
	if (result != NULL)
		ares_freeaddrinfo(result);
	free(q);
	if (status == ARES_EDESTRUCTION)
		return;
	if (--e->pending == 0)
		dnsw_entry_done(w, e);
}

static void
dnsw_lookup(struct watcher *w, struct dnsw_entry *e, const char *name,
    int port, int weight)
{
	struct dnsw *d = w->priv;
	struct ares_addrinfo_hints hints;
	struct dnsw_query *q = xcalloc(1, sizeof(*q));

	q->w = w;
	q->e = e;
	q->port = port;
	q->weight = weight;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = ARES_AI_NOSORT;
	e->pending++;
	ares_getaddrinfo(d->channel, name, NULL, &hints, dnsw_on_addrinfo, q);
}

/* SRV weights are 0-65535, HAProxy's 1-256; an SRV weight of 0 still
 * means "some traffic", which HAProxy's 0 does not. */
static int
dnsw_weight(unsigned short srv_weight)
{
	if (srv_weight == 0)
		return 1;
	return srv_weight > DNSW_MAX_WEIGHT ? DNSW_MAX_WEIGHT : srv_weight;
}

static void
dnsw_on_srv(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dnsw_query *q = arg;
	struct dnsw_entry *e = q->e;
	struct watcher *w = q->w;
	struct ares_srv_reply *srv = NULL;

	(void)timeouts;
	free(q);
	if (status == ARES_EDESTRUCTION)
		return;
	if (status == ARES_SUCCESS)
		status = ares_parse_srv_reply(abuf, alen, &srv);
	if (status != ARES_SUCCESS)
		e->status = status;
	else {
		for (struct ares_srv_reply *r = srv; r != NULL; r = r->next) {
			/* RFC 2782: a target of "." means not offered here. */
			if (r->host[0] == '\0' || strcmp(r->host, ".") == 0)
				continue;
			if (!val_host(r->host)) {
				log_event(LOG_LVL_WARNING, "watcher_error",
				    w->service, NULL,
				    "service %s: dns: SRV %s names '%s', "
				    "not a host name; target skipped",
				    w->service, e->name, r->host);
				continue;
			}
			dnsw_lookup(w, e, r->host, r->port,
			    dnsw_weight(r->weight));
		}
		ares_free_data(srv);
	}
	if (--e->pending == 0)
		dnsw_entry_done(w, e);
}

static void
dnsw_on_refresh(uv_timer_t *t)
{
	dnsw_round(t->data);
}

/* A round with a failed name is STALE if every failure was the
 * resolver out of reach, ERROR otherwise; the names' answers are in the
 * detail (watcher.h). */
static void
dnsw_round_health(struct watcher *w)
{
	struct dnsw *d = w->priv;
	json_t *names = json_array();
	const char *first = NULL, *first_name = NULL;
	bool all_reach = true;

	for (size_t i = 0; i < d->nentries; i++) {
		struct dnsw_entry *e = &d->entries[i];
		json_t *addrs = json_array();
		for (size_t j = 0; j < e->known.n; j++) {
			const struct server *sv = &e->known.v[j];
			char *a = strchr(sv->host, ':') != NULL ?
			    xasprintf("[%s]:%d", sv->host, sv->port) :
			    xasprintf("%s:%d", sv->host, sv->port);
			json_array_append_new(addrs, json_string(a));
			free(a);
		}
		json_array_append_new(names, json_pack("{s:s, s:b, s:o, s:o, "
		    "s:o, s:o}", "name", e->name, "srv", e->srv,
		    "addresses", addrs,
		    "ttl", e->answered_ms != 0 && e->ttl >= 0 ?
		    json_integer(e->ttl) : json_null(),
		    "answered", e->answered_ms != 0 ?
		    json_integer((json_int_t)e->answered_ms) : json_null(),
		    "error", e->error != NULL ? json_string(e->error) :
		    json_null()));
		if (e->error != NULL && first == NULL) {
			first = e->error;
			first_name = e->name;
		}
		if (e->error != NULL && !e->out_of_reach)
			all_reach = false;
	}
	watcher_health_detail(&w->health, json_pack("{s:o}", "names", names));
	if (first != NULL)
		watcher_health_fail(&w->health, all_reach ? WATCHER_STALE :
		    WATCHER_ERROR, "dns: %s: %s", first_name, first);
}

/* Report the union of every name's servers, once at least one name has
 * ever resolved, and schedule the next round: every interval, sooner if
 * a TTL is shorter, never sooner than DNSW_MIN_REFRESH_MS. After a failed
 * round, retry with backoff (1 s, doubling up to the interval, with
 * jitter) so that a name follows its records soon after DNS returns. */
static void
dnsw_round_done(struct watcher *w)
{
	struct dnsw *d = w->priv;
	struct server_list all;
	uint64_t next = (uint64_t)d->interval_ms;
	bool any = false;

	srvlist_init(&all);
	for (size_t i = 0; i < d->nentries; i++) {
		struct dnsw_entry *e = &d->entries[i];
		any = any || e->resolved;
		for (size_t j = 0; j < e->known.n; j++)
			srvlist_add_weighted(&all, e->known.v[j].host,
			    e->known.v[j].port, e->known.v[j].weight);
	}
	srvlist_finish(&all);
	if (d->round_min_ttl >= 0 && (uint64_t)d->round_min_ttl * 1000 < next)
		next = (uint64_t)d->round_min_ttl * 1000;
	if (d->round_failed) {
		uint64_t retry = d->retry_ms + (uint64_t)rand() %
		    (d->retry_ms / 10 + 1);
		if (retry < next)
			next = retry;
		d->retry_ms = d->retry_ms * 2 > (uint64_t)d->interval_ms ?
		    (uint64_t)d->interval_ms : d->retry_ms * 2;
	} else
		d->retry_ms = DNSW_MIN_REFRESH_MS;
	if (next < DNSW_MIN_REFRESH_MS)
		next = DNSW_MIN_REFRESH_MS;
	uv_timer_start(&d->refresh, dnsw_on_refresh, next, 0);
	if (any)
		watcher_report(w, &all);
	else
		srvlist_free(&all);
	dnsw_round_health(w);
	/* A whole round, even a failed one (timeouts, NXDOMAIN), is an
	 * answer: the first start does not wait for the next. */
	watcher_answered(w);
}

/* One name is fully answered (SRV targets included): take the answer, or
 * keep the last good one and say why. */
static void
dnsw_entry_done(struct watcher *w, struct dnsw_entry *e)
{
	struct dnsw *d = w->priv;

	if (e->status == ARES_SUCCESS && e->fresh.n > 0) {
		if (e->partial) {
			/* Which old addresses came from the failed targets is
			 * not known: keep them all until a complete answer. */
			if (!e->failed_logged)
				log_event(LOG_LVL_WARNING, "watcher_error",
				    w->service, NULL,
				    "service %s: dns: %s: some SRV targets "
				    "did not resolve; keeping its last known "
				    "addresses beside the new ones", w->service,
				    e->name);
			e->failed_logged = true;
			d->round_failed = true;
			for (size_t i = 0; i < e->known.n; i++)
				srvlist_add_weighted(&e->fresh,
				    e->known.v[i].host, e->known.v[i].port,
				    e->known.v[i].weight);
		}
		srvlist_finish(&e->fresh);
		srvlist_free(&e->known);
		srvlist_move(&e->known, &e->fresh);
		if (e->failed_logged && !e->partial)
			log_event(LOG_LVL_INFO, "watcher_recovered", w->service,
			    NULL, "service %s: dns: %s resolves again (%zu "
			    "addresses)", w->service, e->name, e->known.n);
		log_debug("service %s: dns: %s: %zu addresses, ttl %d",
		    w->service, e->name, e->known.n, e->min_ttl);
		e->resolved = true;
		e->failed_logged = e->partial;
		e->ttl = e->min_ttl;
		e->answered_ms = wall_ms();
		free(e->error);
		e->error = e->partial ? xstrdup("some SRV targets did not "
		    "resolve") : NULL;
		e->out_of_reach = false;
		if (e->min_ttl >= 0 && (d->round_min_ttl < 0 ||
		    e->min_ttl < d->round_min_ttl))
			d->round_min_ttl = e->min_ttl;
	} else {
		const char *why = e->status != ARES_SUCCESS ?
		    ares_strerror(e->status) : "no address in the answer";
		d->round_failed = true;
		srvlist_free(&e->fresh);
		free(e->error);
		e->error = xstrdup(why);
		e->out_of_reach = e->status == ARES_ETIMEOUT ||
		    e->status == ARES_ECONNREFUSED ||
		    e->status == ARES_ESERVFAIL;
		if (!e->failed_logged) {
			if (e->resolved)
				log_event(LOG_LVL_WARNING, "watcher_error",
				    w->service, NULL,
				    "service %s: dns: %s: %s; keeping its "
				    "last known addresses (%zu)", w->service,
				    e->name, why, e->known.n);
			else
				log_event(LOG_LVL_WARNING, "watcher_error",
				    w->service, NULL,
				    "service %s: dns: %s has never "
				    "resolved: %s", w->service, e->name, why);
		}
		e->failed_logged = true;
	}
	if (--d->round_pending == 0)
		dnsw_round_done(w);
}

static void
dnsw_round(struct watcher *w)
{
	struct dnsw *d = w->priv;

	d->round_pending = (int)d->nentries;
	d->round_min_ttl = -1;
	d->round_failed = false;
	for (size_t i = 0; i < d->nentries; i++) {
		struct dnsw_entry *e = &d->entries[i];
		struct dnsw_query *q;

		e->status = ARES_SUCCESS;
		e->partial = false;
		e->min_ttl = -1;
		srvlist_free(&e->fresh);
		e->pending = 0;
		if (!e->srv) {
			dnsw_lookup(w, e, e->name, e->port, 0);
			continue;
		}
		q = xcalloc(1, sizeof(*q));
		q->w = w;
		q->e = e;
		e->pending = 1;
		ares_query(d->channel, e->name, 1 /* class IN */,
		    33 /* type SRV */, dnsw_on_srv, q);
	}
	dnsw_arm_ares_timer(w);
}

static int
dnsw_start(struct watcher *w, char **err)
{
	struct dnsw *d = xcalloc(1, sizeof(*d));
	struct ares_options opts;
	json_t *list = json_object_get(w->blob, "backends"), *item, *v;
	char *csv = NULL;
	size_t i;
	int rc;

	w->priv = d;
	uv_timer_init(w->loop, &d->ares_timer);
	uv_timer_init(w->loop, &d->refresh);
	d->ares_timer.data = d->refresh.data = w;
	d->open_handles = 2;
	v = json_object_get(w->blob, "interval");
	d->interval_ms = 1000 * (v ? (int)json_integer_value(v) :
	    DNSW_DEFAULT_INTERVAL_S);
	d->retry_ms = DNSW_MIN_REFRESH_MS;

	d->nentries = json_array_size(list);
	d->entries = xcalloc(d->nentries, sizeof(*d->entries));
	json_array_foreach(list, i, item) {
		struct dnsw_entry *e = &d->entries[i];
		srvlist_init(&e->known);
		srvlist_init(&e->fresh);
		e->ttl = -1;
		if ((v = json_object_get(item, "srv")) != NULL) {
			e->srv = true;
			e->name = xstrdup(json_string_value(v));
		} else {
			e->name = xstrdup(json_string_value(
			    json_object_get(item, "name")));
			e->port = (int)json_integer_value(
			    json_object_get(item, "port"));
		}
	}

	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = dnsw_sock_state;
	opts.sock_state_cb_data = w;
	opts.timeout = DNSW_QUERY_TIMEOUT_MS;
	opts.tries = DNSW_TRIES;
	opts.lookups = (char *)"b";	/* DNS only, never /etc/hosts */
	rc = ares_init_options(&d->channel, &opts, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS)
		return set_err(err, "dns: cannot start the resolver: %s",
		    ares_strerror(rc));
	d->channel_ok = true;
	if ((v = json_object_get(w->blob, "nameserver")) != NULL) {
		dnsw_parse_nameserver(json_string_value(v), &csv);
		rc = ares_set_servers_ports_csv(d->channel, csv);
		free(csv);
		if (rc != ARES_SUCCESS)
			return set_err(err, "dns: nameserver: %s",
			    ares_strerror(rc));
	}
	dnsw_round(w);
	return 0;
}

static void
dnsw_stop(struct watcher *w)
{
	struct dnsw *d = w->priv;

	if (d == NULL) {
		watcher_free(w);
		return;
	}
	d->stopping = true;
	/* Cancels the queries (their callbacks see ARES_EDESTRUCTION) and
	 * closes the sockets through dnsw_sock_state. */
	if (d->channel_ok)
		ares_destroy(d->channel);
	uv_close((uv_handle_t *)&d->ares_timer, dnsw_on_close);
	uv_close((uv_handle_t *)&d->refresh, dnsw_on_close);
}

const struct watcher_ops watcher_dns_ops = {
	.type = "dns",
	.keys = dnsw_keys,
	.validate = dnsw_validate,
	.start = dnsw_start,
	.stop = dnsw_stop,
};
