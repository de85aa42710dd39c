#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "haproxy/verify.h"
#include "server.h"
#include "util.h"

/* `show stat` row types (its "type" column). */
#define VERIFY_FRONTEND	0
#define VERIFY_BACKEND	1
#define VERIFY_SERVER	2
#define VERIFY_LISTENER	3

struct verify_row {
	char	*px, *sv;
	int	 type;
};

/* One CSV field at p, quoted as HAProxy's csv_enc_append quotes (a field
 * with a comma, quote or newline between quotes, a quote doubled). Its
 * value goes to out (if not NULL). Returns where it ends (',', '\n' or
 * the end), or NULL if a quote is not closed or text follows it. */
static const char *
verify_field(const char *p, struct sbuf *out)
{
	const char *q;

	if (*p != '"') {
		size_t n = strcspn(p, ",\n");
		if (out != NULL)
			sbuf_add(out, p, n);
		return p + n;
	}
	for (p++; (q = strchr(p, '"')) != NULL; p = q + 2) {
		if (out != NULL)
			sbuf_add(out, p, (size_t)(q - p));
		if (q[1] != '"') {
			p = q + 1;
			return *p == ',' || *p == '\n' || *p == '\0' ? p : NULL;
		}
		if (out != NULL)
			sbuf_add(out, "\"", 1);
	}
	return NULL;
}

/* What HAProxy takes in proxy and server names (invalid_char()). */
static bool
verify_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

static int
verify_row_cmp(const void *a, const void *b)
{
	const struct verify_row *x = a, *y = b;
	int c = strcmp(x->px, y->px);

	if (c != 0)
		return c;
	if (x->type != y->type)
		return x->type - y->type;
	return strcmp(x->sv, y->sv);
}

static void
verify_rows_free(struct verify_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].px);
		free(rows[i].sv);
	}
	free(rows);
}

/* The column numbers of pxname, svname and type in the "# a,b,..."
 * header; *p moves past its line. */
static int
verify_header(const char **p, int col[3], char **err)
{
	static const char *const names[3] = { "pxname", "svname", "type" };
	const char *s = *p;

	col[0] = col[1] = col[2] = -1;
	if (strncmp(s, "# ", 2) != 0)
		return set_err(err, "not a show stat table (no '# ' header)");
	s += 2;
	for (int i = 0; *s != '\n'; i++) {
		size_t n = strcspn(s, ",\n");
		if (s[n] == '\0')
			return set_err(err, "header cut short");
		for (int k = 0; k < 3; k++)
			if (col[k] < 0 && strlen(names[k]) == n &&
			    strncmp(s, names[k], n) == 0)
				col[k] = i;
		s += n;
		if (*s == ',')
			s++;
	}
	for (int k = 0; k < 3; k++)
		if (col[k] < 0)
			return set_err(err, "no %s column", names[k]);
	*p = s + 1;
	return 0;
}

/* Sorted rows into proxies. */
static void
verify_build(struct verify_row *rows, size_t n, struct verify_view *view)
{
	size_t j;

	if (n > 1)
		qsort(rows, n, sizeof(*rows), verify_row_cmp);
	view->v = xcalloc(n > 0 ? n : 1, sizeof(*view->v));
	for (size_t i = 0; i < n; i = j) {
		struct verify_proxy *px = &view->v[view->n++];

		for (j = i; j < n && strcmp(rows[j].px, rows[i].px) == 0; j++)
			;
		px->name = xstrdup(rows[i].px);
		px->servers = xcalloc(j - i, sizeof(*px->servers));
		for (size_t k = i; k < j; k++) {
			if (rows[k].type == VERIFY_FRONTEND)
				px->frontend = true;
			else if (rows[k].type == VERIFY_BACKEND)
				px->backend = true;
			else if (rows[k].type == VERIFY_SERVER) {
				px->servers[px->nservers++] = rows[k].sv;
				rows[k].sv = NULL;
			}
		}
	}
}

static void
verify_row_add(struct verify_row **rows, size_t *n, size_t *cap, char *px,
    char *sv, int type)
{
	if (*n == *cap) {
		*cap = *cap > 0 ? 2 * *cap : 64;
		*rows = xrealloc(*rows, *cap * sizeof(**rows));
	}
	(*rows)[*n].px = px;
	(*rows)[*n].sv = sv;
	(*rows)[(*n)++].type = type;
}

static char *
verify_dup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* The servers of a `show servers state` reply (version 1: "1", a "# "
 * header, then "BE_ID BE_NAME SRV_ID SRV_NAME ..." lines, an empty line
 * last), as server rows: a fifth of show stat's bytes per server. */
static int
verify_servers_state(const char *p, struct verify_row **rows, size_t *n,
    size_t *cap, char **err)
{
	size_t line = 2;

	if (strncmp(p, "1\n# ", 4) != 0)
		return set_err(err, "text after the table, and not a servers "
		    "state dump of version 1");
	if ((p = strchr(p + 2, '\n')) == NULL)
		return set_err(err, "the servers state dump is cut short in "
		    "its header");
	p++;
	while (*p != '\n') {
		const char *w[4], *eol = strchr(p, '\n');
		size_t len[4];
		int k = 0;

		line++;
		if (eol == NULL)
			return set_err(err, "the servers state dump is cut "
			    "short at line %zu", line);
		for (const char *q = p; q < eol && k < 4; k++) {
			q += strspn(q, " ");
			w[k] = q;
			len[k] = strcspn(q, " \n");
			q += len[k];
		}
		if (k < 4 || len[3] == 0)
			return set_err(err, "servers state line %zu has fewer "
			    "than 4 fields", line);
		char *px = verify_dup(w[1], len[1]), *sv = verify_dup(w[3],
		    len[3]);
		if (verify_name_ok(px) && verify_name_ok(sv))
			verify_row_add(rows, n, cap, px, sv, VERIFY_SERVER);
		else {
			free(px);
			free(sv);
		}
		p = eol + 1;
	}
	if (p[strspn(p, "\n")] != '\0')
		return set_err(err, "text after the servers state dump");
	return 0;
}

int
verify_parse_stat(const char *reply, struct verify_view *view, char **err)
{
	struct verify_row *rows = NULL;
	size_t nrows = 0, cap = 0, record = 1;
	const char *p = reply;
	int col[3], need;

	memset(view, 0, sizeof(*view));
	if (verify_header(&p, col, err) == -1)
		return -1;
	need = col[0] > col[1] ? col[0] : col[1];
	need = need > col[2] ? need : col[2];
	/* HAProxy ends the table with an empty line: without it, the reply
	 * was cut, maybe between two records. */
	while (*p != '\n') {
		struct sbuf f[3];
		int i;

		record++;
		for (int k = 0; k < 3; k++)
			sbuf_init(&f[k]);
		for (i = 0; p != NULL; i++) {
			struct sbuf *out = NULL;
			for (int k = 0; k < 3; k++)
				if (col[k] == i)
					out = &f[k];
			p = verify_field(p, out);
			if (p == NULL || *p != ',')
				break;
			p++;
		}
		char *px = sbuf_take(&f[0]), *sv = sbuf_take(&f[1]);
		char *type = sbuf_take(&f[2]), *end;
		long t = strtol(type, &end, 10);
		bool ok = *type != '\0' && *end == '\0';
		free(type);
		if (p == NULL || *p == '\0' || p[1] == '\0' || i < need) {
			free(px);
			free(sv);
			verify_rows_free(rows, nrows);
			if (p == NULL)
				return set_err(err, "record %zu: a quoted field "
				    "is not closed, or text follows its closing "
				    "quote", record);
			if (*p == '\0' || p[1] == '\0')
				return set_err(err, "the table is cut short at "
				    "record %zu", record);
			return set_err(err, "record %zu has %d fields, fewer "
			    "than the columns need", record, i + 1);
		}
		p++;
		if (!ok || t < VERIFY_FRONTEND || t > VERIFY_LISTENER ||
		    !verify_name_ok(px) || !verify_name_ok(sv)) {
			free(px);
			free(sv);
			continue;
		}
		verify_row_add(&rows, &nrows, &cap, px, sv, (int)t);
	}
	p += strspn(p, "\n");
	if (*p != '\0' && verify_servers_state(p, &rows, &nrows, &cap,
	    err) == -1) {
		verify_rows_free(rows, nrows);
		return -1;
	}
	verify_build(rows, nrows, view);
	verify_rows_free(rows, nrows);
	return 0;
}

void
verify_view_free(struct verify_view *view)
{
	for (size_t i = 0; i < view->n; i++) {
		for (size_t j = 0; j < view->v[i].nservers; j++)
			free(view->v[i].servers[j]);
		free(view->v[i].servers);
		free(view->v[i].name);
	}
	free(view->v);
	view->v = NULL;
	view->n = 0;
}

static int
verify_proxy_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct verify_proxy *)elem)->name);
}

static int
verify_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Up to 3 names of a list, then how many more. */
static void
verify_list(struct sbuf *sb, const char *what, char **names, size_t n)
{
	if (n == 0)
		return;
	sbuf_printf(sb, "%s%s %zu (", sb->len > 0 ? "; " : "", what, n);
	for (size_t i = 0; i < n && i < 3; i++)
		sbuf_printf(sb, "%s%s", i > 0 ? ", " : "", names[i]);
	sbuf_puts(sb, n > 3 ? ", ...)" : ")");
}

char *
verify_service(const struct verify_view *view, const char *name,
    const struct server_list *servers)
{
	const struct verify_proxy *px = bsearch(name, view->v, view->n,
	    sizeof(*view->v), verify_proxy_cmp);
	char **want, **missing, **extra;
	size_t nmissing = 0, nextra = 0, i = 0, j = 0;
	struct sbuf sb;

	if (px == NULL || (!px->frontend && !px->backend))
		return xstrdup("HAProxy has no proxy of that name");
	if (!px->frontend || !px->backend)
		return xasprintf("HAProxy has no %s of that name",
		    px->frontend ? "backend" : "frontend");
	want = xcalloc(servers->n + 1, sizeof(*want));
	for (size_t k = 0; k < servers->n; k++)
		want[k] = servers->v[k].name;
	qsort(want, servers->n, sizeof(*want), verify_str_cmp);
	missing = xcalloc(servers->n + 1, sizeof(*missing));
	extra = xcalloc(px->nservers + 1, sizeof(*extra));
	/* Both sorted: one merge. A name HAProxy lists twice is extra. */
	while (i < servers->n || j < px->nservers) {
		int c = i == servers->n ? 1 : j == px->nservers ? -1 :
		    strcmp(want[i], px->servers[j]);
		if (c < 0)
			missing[nmissing++] = want[i++];
		else if (c > 0)
			extra[nextra++] = px->servers[j++];
		else {
			i++;
			j++;
		}
	}
	sbuf_init(&sb);
	verify_list(&sb, "servers rendered but not built:", missing, nmissing);
	verify_list(&sb, "servers built but not rendered:", extra, nextra);
	free(want);
	free(missing);
	free(extra);
	if (sb.len == 0) {
		sbuf_free(&sb);
		return NULL;
	}
	return sbuf_take(&sb);
}
