/* Tables HAProxy answers on its stats socket: `show stat` as verify.c
 * reads it to check what a new HAProxy built, and `show servers state`
 * as the planner turns it into the next HAProxy's server-state file,
 * whose every line must be one of a server the next HAProxy has. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "haproxy/listener.h"
#include "haproxy/planner.h"
#include "haproxy/verify.h"
#include "pmconfig.h"
#include "server.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

static struct snapshot *live, *next;

/* Service w: live has .1-.4, next .1, .2 and .5 (.3, .4 retired). */
static struct snapshot *
build(const struct snapshot *from, const char *hosts)
{
	struct pm_config *cfg = fuzz_config();
	static const char blob[] = "{\"type\": \"static\", \"port\": 8007, "
	    "\"servers\": []}";
	struct snapshot *s = snapshot_new(cfg);
	struct service_def *def = NULL;
	struct server_list list;
	struct listener *l;
	char *err = NULL, *copy = xstrdup(hosts), *tok, *save = NULL;

	if (svcdef_parse("w", blob, sizeof(blob) - 1, "fuzz", &def, &err) != 0)
		fuzz_fail("%s", err);
	srvlist_init(&list);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		srvlist_add(&list, tok, 80);
	srvlist_finish(&list);
	l = listener_want("127.0.0.1", 8007);
	snapshot_carry(snapshot_add(s, def, &list, l),
	    from ? snapshot_find(from, "w") : NULL, false,
	    cfg->max_disabled_servers);
	snapshot_render(s);
	listener_release(l);
	svcdef_unref(def);
	srvlist_free(&list);
	free(copy);
	return s;
}

static void
check_state_file(const char *out)
{
	const struct snapshot_service *e = snapshot_find(next, "w");
	char *copy = xstrdup(out), *line, *save = NULL;
	size_t n = 0;

	if (strncmp(out, "1\n", 2) != 0)
		fuzz_fail("state file without version 1");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		char be[64], srv[128];
		if (n == 0 || line[0] == '#')
			continue;
		for (const char *p = line; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				fuzz_fail("state file line with byte 0x%02x",
				    (unsigned char)*p);
		if (sscanf(line, "%*s %63s %*s %127s", be, srv) != 2 ||
		    strcmp(be, "w") != 0 || srvlist_find(&e->servers, srv) ==
		    NULL)
			fuzz_fail("state file line '%s'", line);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verify_view view;
	char *s = fuzz_str(data, size), *err = NULL, *why, *out;

	if (live == NULL) {
		struct snapshot *s0 = build(NULL,
		    "10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4");
		live = build(s0, "10.0.0.1 10.0.0.3 10.0.0.4");
		next = build(live, "10.0.0.1 10.0.0.2 10.0.0.5");
		snapshot_free(s0);
	}
	if (verify_parse_stat(s, &view, &err) == 0) {
		if (err != NULL)
			fuzz_fail("parsed, yet with an error");
		for (size_t i = 0; i < view.n; i++)
			if (i > 0 && strcmp(view.v[i - 1].name,
			    view.v[i].name) >= 0)
				fuzz_fail("proxies not sorted");
		why = verify_service(&view, "w",
		    &snapshot_find(next, "w")->servers);
		if (why != NULL) {
			fuzz_check_message(why);
			free(why);
		}
		verify_view_free(&view);
	} else {
		if (err == NULL || view.n != 0)
			fuzz_fail("refused without a reason, or not empty");
		fuzz_check_message(err);
		free(err);
	}
	out = plan_state_file(s, live, NULL, next);
	check_state_file(out);
	free(out);
	/* A HAProxy taken over: its haproxy.cfg instead of a live snapshot. */
	out = plan_state_file(s, NULL, live->text, next);
	check_state_file(out);
	free(out);
	free(s);
	return 0;
}
