/* The oracles and helpers of the fuzz targets (see fuzz.h). */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "haproxy/listener.h"
#include "haproxy/planner.h"
#include "haproxy/runtime.h"
#include "pmconfig.h"
#include "server.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz oracle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void
fuzz_check_message(const char *msg)
{
	if (strpbrk(msg, "\n\r") != NULL)
		fuzz_fail("a line end in the message '%s'", msg);
}

struct pm_config *
fuzz_config(void)
{
	static struct pm_config *cfg;
	static const char yml[] =
	    "haproxy:\n"
	    "  config_path: /run/proxymgr/haproxy.cfg\n"
	    "  socket_path: /run/proxymgr/haproxy.sock\n"
	    "  global: [\"maxconn 4096\"]\n"
	    "  defaults: [\"mode http\", \"timeout connect 5s\",\n"
	    "    \"timeout client 1m\", \"timeout server 1m\"]\n";
	char *err = NULL;

	if (cfg == NULL && pmconfig_parse(yml, sizeof(yml) - 1, "fuzz.yml",
	    &cfg, &err) != 0)
		fuzz_fail("the targets' own config: %s", err);
	return cfg;
}

struct service_def *
fuzz_service_def(void)
{
	static struct service_def *def;
	static const char blob[] = "{\"type\": \"static\", \"port\": 8080, "
	    "\"servers\": [], \"server_options\": [\"check\"]}";
	char *err = NULL;

	if (def == NULL && svcdef_parse("web", blob, sizeof(blob) - 1,
	    "fuzz.json", &def, &err) != 0)
		fuzz_fail("the targets' own service: %s", err);
	return def;
}

/* Every section keyword of HAProxy 2.6 to 3.3 (REGISTER_CONFIG_SECTION
 * and cfg_register_section in its sources), kept apart from
 * src/haproxy/keywords.c on purpose: the oracle must not share the code
 * it checks. */
static const char *const fuzz_sections[] = {
	"acme", "backend", "cache", "crt-store", "defaults", "fcgi-app",
	"frontend", "global", "http-errors", "listen", "log-forward",
	"log-profile", "mailers", "namespace_list", "ot-group", "ot-scope",
	"ot-tracer", "peers", "program", "resolvers", "ring", "spoe-agent",
	"spoe-group", "spoe-message", "traces", "userlist", NULL
};

/* The first word of line as HAProxy matches it: indentation skipped,
 * quotes and backslashes removed (HAProxy unquotes before matching). */
static void
fuzz_first_word(const char *line, char *w, size_t len)
{
	size_t n = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	for (; *line != '\0' && *line != ' ' && *line != '\t'; line++)
		if (*line != '"' && *line != '\'' && *line != '\\' &&
		    n + 1 < len)
			w[n++] = *line;
	w[n] = '\0';
}

static bool
fuzz_opens_section(const char *line)
{
	char w[64];

	fuzz_first_word(line, w, sizeof(w));
	for (size_t i = 0; fuzz_sections[i] != NULL; i++)
		if (strcasecmp(w, fuzz_sections[i]) == 0)
			return true;
	return false;
}

/* HAProxy's server and section names, and proxymgrd's server names. */
static bool
fuzz_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.:-", s[i]) ==
		    NULL)
			return false;
	return true;
}

/* Split text into lines (modified in place). */
static char **
fuzz_lines(char *text, size_t *n)
{
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	for (char *p = text; *p != '\0'; ) {
		char *nl = strchr(p, '\n');
		if (nl == NULL)
			fuzz_fail("the text does not end with a newline");
		*nl = '\0';
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = p;
		p = nl + 1;
	}
	return v;
}

static void
fuzz_check_service(const struct snapshot_service *e, int first_line,
    int last_line, char **lines, size_t nlines)
{
	const struct service_def *def = e->def;
	size_t l = (size_t)first_line - 1, nopt = 0;
	char want[128], w[64];

	if (first_line < 1 || (size_t)last_line > nlines)
		fuzz_fail("service %s: lines %d-%d of %zu", def->name,
		    first_line, last_line, nlines);
	if (!fuzz_name_ok(def->name, strlen(def->name)) ||
	    strlen(def->name) > 64)
		fuzz_fail("service name '%s' rendered", def->name);
	snprintf(want, sizeof(want), "listen %s", def->name);
	if (strcmp(lines[l++], want) != 0)
		fuzz_fail("line %zu: '%s', not '%s'", l, lines[l - 1], want);
	snprintf(want, sizeof(want), "    bind fd@%d", e->child_fd);
	if (strcmp(lines[l++], want) != 0)
		fuzz_fail("line %zu: '%s', not '%s'", l, lines[l - 1], want);
	/* proxymgrd's own line (keep-alive safe reloads in HTTP mode): at
	 * most one, before the listen options. */
	{
		size_t k = 0, want_opts = 0;

		while (def->listen_options[want_opts] != NULL)
			want_opts++;
		while (l + k < (size_t)last_line &&
		    strncmp(lines[l + k], "    server ", 11) != 0)
			k++;
		if (k == want_opts + 1 && strcmp(lines[l],
		    "    option idle-close-on-response") == 0)
			l++;
	}
	for (; def->listen_options[nopt] != NULL; nopt++, l++) {
		const char *o = def->listen_options[nopt];
		if (strncmp(lines[l], "    ", 4) != 0 ||
		    strcmp(lines[l] + 4, o) != 0)
			fuzz_fail("line %zu: '%s', not listen option %zu",
			    l + 1, lines[l], nopt + 1);
		fuzz_first_word(o, w, sizeof(w));
		if (fuzz_opens_section(o) || strcasecmp(w, "bind") == 0 ||
		    strcasecmp(w, "server") == 0 ||
		    strcasecmp(w, "server-template") == 0 || w[0] == '.' ||
		    w[0] == '\0')
			fuzz_fail("line %zu: listen option '%s' rendered",
			    l + 1, o);
	}
	for (size_t j = 0; j < e->servers.n; j++, l++) {
		const struct server *sv = &e->servers.v[j];
		const char *p = lines[l], *sp;
		if (strncmp(p, "    server ", 11) != 0)
			fuzz_fail("line %zu: '%s', not server %s", l + 1, p,
			    sv->name);
		p += 11;
		sp = strchr(p, ' ');
		if (sp == NULL || (size_t)(sp - p) != strlen(sv->name) ||
		    strncmp(p, sv->name, strlen(sv->name)) != 0 ||
		    !fuzz_name_ok(p, (size_t)(sp - p)))
			fuzz_fail("line %zu: server name in '%s'", l + 1,
			    lines[l]);
		/* The address: a host name, an IPv4 or a [v6], then :port. */
		for (p = sp + 1; *p != '\0' && *p != ' '; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr(".-_:[]", *p) == NULL)
				fuzz_fail("line %zu: address in '%s'", l + 1,
				    lines[l]);
	}
	if (l != (size_t)last_line)
		fuzz_fail("service %s: ends at %d, its lines at %zu",
		    def->name, last_line, l);
}

void
fuzz_check_snapshot(const struct snapshot *s)
{
	char *text = xstrdup(s->text), **lines;
	size_t n, sections = 0, expect_end;

	for (const char *p = text; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f ||
		    (unsigned char)*p >= 0x80)
			fuzz_fail("byte 0x%02x at offset %zu of the rendered "
			    "text", (unsigned char)*p, (size_t)(p - text));
	lines = fuzz_lines(text, &n);
	for (size_t i = 0; i < n; i++)
		if (fuzz_opens_section(lines[i]))
			sections++;
	if (sections != 2 + s->n)
		fuzz_fail("%zu sections for %zu services:\n%s", sections,
		    s->n, s->text);
	if (n < 2 || strcmp(lines[1], "global") != 0)
		fuzz_fail("line 2 is not 'global'");
	/* Global and defaults: the config's lines and proxymgrd's own. */
	for (size_t i = 2; i < (size_t)s->settings_last_line; i++)
		if (lines[i][0] != '\0' && strcmp(lines[i], "defaults") != 0 &&
		    strncmp(lines[i], "    ", 4) != 0)
			fuzz_fail("line %zu: '%s' in global/defaults", i + 1,
			    lines[i]);
	expect_end = (size_t)s->settings_last_line;
	for (size_t i = 0; i < s->n; i++) {
		/* One blank line between sections. */
		int first = snapshot_first_line(s, i);
		int last = snapshot_last_line(s, i);
		if ((size_t)first != expect_end + 2 ||
		    lines[expect_end][0] != '\0')
			fuzz_fail("service %zu starts at line %d after %zu",
			    i, first, expect_end);
		fuzz_check_service(s->v[i], first, last, lines, n);
		expect_end = (size_t)last;
	}
	if (expect_end != n)
		fuzz_fail("%zu lines, the last section ends at %zu", n,
		    expect_end);
	free(lines);
	free(text);
}

void
fuzz_render_service(struct service_def *def, const struct server_list *servers)
{
	struct pm_config *cfg = fuzz_config();
	struct snapshot *live, *next;
	struct server_list none;
	struct listener *l;
	struct plan p;
	const char *why;

	l = listener_want(def->bind_address ? def->bind_address :
	    cfg->bind_address, def->port);
	srvlist_init(&none);
	srvlist_finish(&none);
	live = snapshot_new(cfg);
	snapshot_carry(snapshot_add(live, def, &none, l), NULL, true,
	    cfg->max_disabled_servers);
	snapshot_render(live);
	fuzz_check_snapshot(live);
	next = snapshot_new(cfg);
	snapshot_carry(snapshot_add(next, def, servers, l),
	    snapshot_find(live, def->name), false, cfg->max_disabled_servers);
	snapshot_render(next);
	fuzz_check_snapshot(next);

	plan_build(&p, live, next);
	/* Validation refuses what would make an unsafe command; the
	 * planner's own guard is the last line, never the one that acts. */
	if (p.reason == PLAN_UNSAFE)
		fuzz_fail("the planner had to refuse a command: %s", p.why);
	for (size_t i = 0; i < p.n; i++)
		if ((why = rt_cmd_unsafe(p.v[i].cmd)) != NULL)
			fuzz_fail("runtime command '%s': %s", p.v[i].cmd, why);
	plan_free(&p);
	snapshot_free(next);
	snapshot_free(live);
	srvlist_free(&none);
	listener_release(l);
	if (listener_count() != 0)
		fuzz_fail("%d listeners left", listener_count());
}
