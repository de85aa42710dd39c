/* ZooKeeper server nodes (ProxyMgr's {"address", "port"} and nerve's
 * {"host", "port", "name", "weight"}): parsed as the zookeeper watcher
 * does (not strict: registrars add keys) and as a static list does
 * (strict); a JSON array is a list of nodes. What is accepted is rendered
 * with the oracles of common.c. */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "server.h"
#include "watchers/server_blob.h"

static void
one(json_t *obj, struct server_list *servers)
{
	struct srvblob lax, strict;
	char *err = NULL;

	if (srvblob_parse(obj, false, &lax, &err) == 0)
		srvlist_add_weighted(servers, lax.host, lax.port, lax.weight);
	else {
		fuzz_check_message(err);
		free(err);
		err = NULL;
	}
	if (srvblob_parse(obj, true, &strict, &err) == 0) {
		if (srvblob_parse(obj, false, &lax, NULL) != 0)
			fuzz_fail("accepted strictly, refused laxly");
	} else {
		fuzz_check_message(err);
		free(err);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_list servers;
	json_error_t jerr;
	json_t *v, *item;
	size_t i;

	v = json_loadb((const char *)data, size, 0, &jerr);
	if (v == NULL)
		return 0;
	srvlist_init(&servers);
	if (json_is_array(v))
		json_array_foreach(v, i, item)
			one(item, &servers);
	else
		one(v, &servers);
	srvlist_finish(&servers);
	fuzz_render_service(fuzz_service_def(), &servers);
	srvlist_free(&servers);
	json_decref(v);
	return 0;
}
