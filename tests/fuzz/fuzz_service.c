/* A service blob (a service file or ZooKeeper node), through svcdef_parse
 * and, when it is accepted, rendering and planning, with the oracles of
 * common.c: no blob adds a line, section or directive to haproxy.cfg.
 * An input that starts with '@' names the service on its first line
 * (names come from file and node names, which are hostile too). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server.h"
#include "service.h"
#include "util.h"
#include "watchers/server_blob.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_def *def = NULL;
	struct server_list servers;
	const char *text = (const char *)data;
	char *name, *err = NULL;
	json_t *item;
	size_t i;

	if (size > 0 && data[0] == '@') {
		const char *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - text) : size;
		name = fuzz_str(data + 1, n - 1);
		text += n + (nl != NULL);
		size -= n + (nl != NULL);
	} else
		name = xstrdup("svc");
	if (svcdef_parse(name, text, size, "fuzz.json", &def, &err) != 0) {
		if (err == NULL)
			fuzz_fail("refused without a reason");
		fuzz_check_message(err);
		free(err);
		free(name);
		return 0;
	}
	/* The servers a static list gives; other types render none here,
	 * their servers come from the other targets' inputs. */
	srvlist_init(&servers);
	json_array_foreach(json_object_get(def->blob, "servers"), i, item) {
		struct srvblob sb;
		if (srvblob_parse(item, true, &sb, NULL) == 0)
			srvlist_add_weighted(&servers, sb.host, sb.port,
			    sb.weight);
	}
	srvlist_finish(&servers);
	fuzz_render_service(def, &servers);
	srvlist_free(&servers);
	svcdef_unref(def);
	free(name);
	return 0;
}
