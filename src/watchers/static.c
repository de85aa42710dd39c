/* Watcher "static": the servers are listed in the service blob itself,
 * "servers": [{"address": "10.0.0.1", "port": 80}, ...]. */
#include "config.h"

#include <string.h>

#include "util.h"
#include "validate.h"
#include "watchers/watcher.h"

static const char *const staticw_keys[] = { "servers", NULL };
static const char *const staticw_server_keys[] = { "address", "port", NULL };

static int
staticw_validate(json_t *blob, char **err)
{
	json_t *list = json_object_get(blob, "servers"), *item, *v;
	const char *key;
	size_t i;

	if (!json_is_array(list))
		return set_err(err, "key 'servers' is required: a list of "
		    "{\"address\": ..., \"port\": ...}");
	json_array_foreach(list, i, item) {
		if (!json_is_object(item))
			return set_err(err, "servers[%zu]: expected an object",
			    i);
		json_object_foreach(item, key, v) {
			if (!str_in(key, staticw_server_keys))
				return set_err(err, "servers[%zu]: unknown key "
				    "'%s'", i, key);
		}
		v = json_object_get(item, "address");
		if (!json_is_string(v) || !val_host(json_string_value(v)))
			return set_err(err, "servers[%zu]: key 'address': "
			    "expected a host name or IP address", i);
		v = json_object_get(item, "port");
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535)
			return set_err(err, "servers[%zu]: key 'port': "
			    "expected an integer 1-65535", i);
	}
	return 0;
}

static int
staticw_start(struct watcher *w, char **err)
{
	struct server_list list;
	json_t *item;
	size_t i;

	(void)err;
	srvlist_init(&list);
	json_array_foreach(json_object_get(w->blob, "servers"), i, item)
		srvlist_add(&list,
		    json_string_value(json_object_get(item, "address")),
		    (int)json_integer_value(json_object_get(item, "port")));
	srvlist_finish(&list);
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
