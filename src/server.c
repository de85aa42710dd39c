#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"
#include "validate.h"

void
srvlist_init(struct server_list *l)
{
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

void
srvlist_free(struct server_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].host);
		free(l->v[i].name);
	}
	free(l->v);
	srvlist_init(l);
}

/* HOST:PORT, as ProxyMgr names its servers: readable, stable across
 * restarts (HAProxy's server state file matches on it) and within
 * HAProxy's name character set, which allows letters, digits, '-', '_',
 * '.' and ':'. An IPv6 host goes in bare ("::1:80", as ProxyMgr's
 * "#{address}:#{port}" had it): the port is what follows the last ':',
 * so no two servers share a name. */
static char *
server_make_name(const char *host, int port)
{
	return xasprintf("%s:%d", host, port);
}

char *
server_slot_name(const char *host, int port, unsigned n)
{
	if (n <= 1)
		return server_make_name(host, port);
	return xasprintf("%s:%d-%u", host, port, n);
}

bool
server_ip_canonical(const char *host, char *buf, size_t len)
{
	unsigned char a[sizeof(struct in6_addr)];
	int af = inet_pton(AF_INET, host, a) == 1 ? AF_INET :
	    inet_pton(AF_INET6, host, a) == 1 ? AF_INET6 : AF_UNSPEC;

	return af != AF_UNSPEC && inet_ntop(af, a, buf, (socklen_t)len) !=
	    NULL;
}

bool
server_host_same(const char *host, const char *other)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (strcmp(host, other) == 0)
		return true;
	return server_ip_canonical(host, a, sizeof(a)) &&
	    server_ip_canonical(other, b, sizeof(b)) && strcmp(a, b) == 0;
}

bool
server_name_from_legacy(const char *name, char *buf, size_t len)
{
	const char *us = strrchr(name, '_');
	char *end;
	long port;

	/* Host names and addresses hold no '_': the last one is ours. */
	if (us == NULL || us == name || strchr(name, '_') != us)
		return false;
	port = strtol(us + 1, &end, 10);
	if (us[1] < '1' || us[1] > '9' || *end != '\0' || port > 65535)
		return false;
	return snprintf(buf, len, "%.*s:%ld", (int)(us - name), name,
	    port) < (int)len;
}

void
srvlist_add(struct server_list *l, const char *host, int port)
{
	srvlist_add_weighted(l, host, port, 0);
}

void
srvlist_add_weighted(struct server_list *l, const char *host, int port,
    int weight)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].host = xstrdup(host);
	l->v[l->n].port = port;
	l->v[l->n].name = server_make_name(host, port);
	l->v[l->n].weight = weight;
	l->v[l->n].id = 0;
	l->v[l->n].disabled = false;
	l->v[l->n].retired_seq = 0;
	l->n++;
}

/* By name, then highest weight first: of duplicates (one address found
 * twice, by an A and an SRV record, say) the same one is always kept. */
static int
server_cmp(const void *a, const void *b)
{
	const struct server *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return (y->weight > x->weight) - (y->weight < x->weight);
}

void
srvlist_finish(struct server_list *l)
{
	size_t out = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), server_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (out > 0 && strcmp(l->v[out - 1].name, l->v[i].name) == 0) {
			free(l->v[i].host);
			free(l->v[i].name);
			continue;
		}
		l->v[out++] = l->v[i];
	}
	l->n = out;
	/* The model keeps it until the next report: no slack. */
	l->cap = l->n;
	l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
}

void
srvlist_copy(struct server_list *dst, const struct server_list *src)
{
	srvlist_init(dst);
	/* A snapshot keeps its copy: exactly as many as it holds. */
	if (src->n > 0) {
		dst->cap = src->n;
		dst->v = xcalloc(dst->cap, sizeof(*dst->v));
	}
	for (size_t i = 0; i < src->n; i++) {
		srvlist_add_weighted(dst, src->v[i].host, src->v[i].port,
		    src->v[i].weight);
		srvlist_rename(dst, i, src->v[i].name);
		dst->v[i].id = src->v[i].id;
		dst->v[i].disabled = src->v[i].disabled;
		dst->v[i].retired_seq = src->v[i].retired_seq;
	}
}

void
srvlist_rename(struct server_list *l, size_t i, const char *name)
{
	if (strcmp(l->v[i].name, name) == 0)
		return;
	free(l->v[i].name);
	l->v[i].name = xstrdup(name);
}

void
srvlist_move(struct server_list *dst, struct server_list *src)
{
	*dst = *src;
	srvlist_init(src);
}

bool
srvlist_equal(const struct server_list *a, const struct server_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    a->v[i].port != b->v[i].port ||
		    strcmp(a->v[i].host, b->v[i].host) != 0 ||
		    a->v[i].weight != b->v[i].weight ||
		    a->v[i].disabled != b->v[i].disabled)
			return false;
	return true;
}

char *
server_addr(const struct server *s, char *buf, size_t len)
{
	if (val_ipv6(s->host))
		snprintf(buf, len, "[%s]:%d", s->host, s->port);
	else
		snprintf(buf, len, "%s:%d", s->host, s->port);
	return buf;
}

const struct server *
srvlist_find_n(const struct server_list *l, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l->v[mid].name, name);
		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct server *
srvlist_find(const struct server_list *l, const char *name)
{
	return srvlist_find_n(l, l->n, name);
}

static int
srvindex_cmp(const char *host, int port, const struct server *s)
{
	int c = strcmp(host, s->host);

	if (c != 0)
		return c;
	return (port > s->port) - (port < s->port);
}

static int
srvindex_sort_cmp(const void *a, const void *b)
{
	const struct server *x = *(const struct server *const *)a;
	const struct server *y = *(const struct server *const *)b;

	return srvindex_cmp(x->host, x->port, y);
}

void
srvindex_build(struct server_index *ix, const struct server_list *l)
{
	ix->n = l->n;
	ix->v = xcalloc(l->n ? l->n : 1, sizeof(*ix->v));
	for (size_t i = 0; i < l->n; i++)
		ix->v[i] = &l->v[i];
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof(*ix->v), srvindex_sort_cmp);
}

const struct server *
srvindex_find(const struct server_index *ix, const char *host, int port)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = srvindex_cmp(host, port, ix->v[mid]);
		if (c == 0)
			return ix->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
srvindex_free(struct server_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}
