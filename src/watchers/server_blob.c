#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"
#include "validate.h"
#include "watchers/server_blob.h"

static const char *const srvblob_keys[] = {
	"address", "host", "port", "weight", "name", NULL
};

int
srvblob_parse(json_t *obj, bool strict, struct srvblob *out, char **err)
{
	json_t *addr, *host, *v;
	const char *key;

	if (!json_is_object(obj))
		return set_err(err, "expected a JSON object");
	if (strict)
		json_object_foreach(obj, key, v)
			if (!str_in(key, srvblob_keys))
				return set_err(err, "unknown key '%s'", key);
	addr = json_object_get(obj, "address");
	host = json_object_get(obj, "host");
	if (addr != NULL && host != NULL)
		return set_err(err, "both 'address' and 'host' given");
	key = addr != NULL ? "address" : "host";
	if (addr == NULL)
		addr = host;
	if (addr == NULL)
		return set_err(err, "key 'address' (or nerve's 'host') is "
		    "required");
	if (!json_is_string(addr) || !val_host(json_string_value(addr)))
		return set_err(err, "key '%s': expected a host name or IP "
		    "address", key);
	out->host = json_string_value(addr);
	v = json_object_get(obj, "port");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 65535)
		return set_err(err, "key 'port': expected an integer 1-65535");
	out->port = (int)json_integer_value(v);
	out->weight = 0;
	if ((v = json_object_get(obj, "weight")) != NULL) {
		/* HAProxy's range; 0 would mean "no traffic", which a
		 * registrar does not mean by it. */
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 256)
			return set_err(err, "key 'weight': expected an integer "
			    "1-256");
		out->weight = (int)json_integer_value(v);
	}
	if ((v = json_object_get(obj, "name")) != NULL && !json_is_string(v))
		return set_err(err, "key 'name': expected a string");
	return 0;
}
