/* Watcher "static": the servers are listed in the service blob itself,
 * "servers": [{"address": "10.0.0.1", "port": 80}, ...]. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "watchers/server_blob.h"
#include "watchers/watcher.h"

static const char *const staticw_keys[] = { "servers", NULL };

static int
staticw_validate(json_t *blob, char **err)
{
	json_t *list = json_object_get(blob, "servers"), *item;
	struct srvblob sb;
	char *inner = NULL;
	size_t i;

	if (!json_is_array(list))
		return set_err(err, "key 'servers' is required: a list of "
		    "{\"address\": ..., \"port\": ...}");
	json_array_foreach(list, i, item) {
		if (srvblob_parse(item, true, &sb, &inner) == -1) {
			set_err(err, "servers[%zu]: %s", i, inner);
			free(inner);
			return -1;
		}
	}
	return 0;
}

static int
staticw_start(struct watcher *w, char **err)
{
	struct server_list list;
	struct srvblob sb;
	json_t *item;
	size_t i;

	(void)err;
	srvlist_init(&list);
	/* Validated when the definition was parsed. */
	json_array_foreach(json_object_get(w->blob, "servers"), i, item)
		if (srvblob_parse(item, true, &sb, NULL) == 0)
			srvlist_add_weighted(&list, sb.host, sb.port,
			    sb.weight);
	srvlist_finish(&list);
	watcher_health_detail(&w->health, json_pack("{s:I}", "servers",
	    (json_int_t)list.n));
	watcher_report(w, &list);
	return 0;
}

static void
staticw_stop(struct watcher *w)
{
	watcher_free(w);
}

const struct watcher_ops watcher_static_ops = {
	.type = "static",
	.keys = staticw_keys,
	.validate = staticw_validate,
	.start = staticw_start,
	.stop = staticw_stop,
};
