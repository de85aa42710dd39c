#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jsonerr.h"
#include "service.h"
#include "util.h"
#include "validate.h"
#include "watchers/watcher.h"

/* Keys every service blob may carry, whatever its type. */
static const char *const svcdef_common_keys[] = {
	"type", "port", "bind_address", "listen_options", "server_options",
	"keep_servers_on_empty", "backlog", NULL,
};

/* refuse: NULL if an item may be rendered, else why not. runtime: the
 * options also go into runtime-API commands. */
static int
svcdef_options(json_t *blob, const char *key, const char *source,
    const char *(*refuse)(const char *), bool runtime, char ***out,
    char **err)
{
	json_t *arr = json_object_get(blob, key), *item;
	const char *why;
	size_t i;

	*out = xcalloc(1, sizeof(char *));
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return set_err(err, "%s: key '%s': expected a list of strings",
		    source, key);
	*out = xrealloc(*out, (json_array_size(arr) + 1) * sizeof(char *));
	(*out)[0] = NULL;
	json_array_foreach(arr, i, item) {
		if (!json_is_string(item))
			return set_err(err, "%s: key '%s' item %zu: expected a "
			    "string", source, key, i + 1);
		if ((why = refuse(json_string_value(item))) != NULL)
			return set_err(err, "%s: key '%s' item %zu: refused: %s",
			    source, key, i + 1, why);
		if ((why = val_option_unsafe(json_string_value(item),
		    runtime)) != NULL)
			return set_err(err, "%s: key '%s' item %zu: refused: it "
			    "holds %s", source, key, i + 1, why);
		(*out)[i] = xstrdup(json_string_value(item));
		(*out)[i + 1] = NULL;
	}
	return 0;
}

#define SVCDEF_UNKNOWN_SHOWN	5

static void
svcdef_quote_key(struct sbuf *sb, const char *key)
{
	size_t len = strlen(key);
	bool plain = len <= 64;

	for (size_t i = 0; plain && i < len; i++)
		if (key[i] < 0x20 || key[i] > 0x7e || key[i] == '\'')
			plain = false;
	if (sb->len > 0)
		sbuf_puts(sb, ", ");
	if (plain)
		sbuf_printf(sb, "'%s'", key);
	else
		sbuf_printf(sb, "a key of %zu bytes (not shown)", len);
}

/* ProxyMgr ignores keys it does not know, and registrars and people add
 * metadata keys to blobs: such keys are taken out of the blob (so that a
 * change to them alone changes nothing) and listed in def->unknown for
 * the caller to warn about. */
static void
svcdef_drop_unknown(struct service_def *def)
{
	struct sbuf sb;
	const char *key;
	json_t *v;
	void *tmp;

	size_t n = 0;

	sbuf_init(&sb);
	json_object_foreach_safe(def->blob, tmp, key, v) {
		if (str_in(key, svcdef_common_keys) ||
		    str_in(key, def->watcher->keys))
			continue;
		/* The blob is a service owner's: a key is quoted only if it
		 * is short and printable, and only a few of them. */
		if (++n <= SVCDEF_UNKNOWN_SHOWN)
			svcdef_quote_key(&sb, key);
		json_object_del(def->blob, key);
	}
	if (n > SVCDEF_UNKNOWN_SHOWN)
		sbuf_printf(&sb, " and %zu more", n - SVCDEF_UNKNOWN_SHOWN);
	def->unknown = sb.len > 0 ? sbuf_take(&sb) : NULL;
	def->nunknown = n;
	sbuf_free(&sb);
}

int
svcdef_parse(const char *name, const char *text, size_t len,
    const char *source, struct service_def **out, char **err)
{
	struct service_def *def;
	json_error_t jerr;
	json_t *blob, *v, *wblob;
	const char *type;

	*out = NULL;
	if (!val_name(name))
		return set_err(err, "%s: service name '%s' refused: use 1-%d of "
		    "[A-Za-z0-9_.-], starting with a letter or digit", source,
		    name, VAL_NAME_MAX);
	blob = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (blob == NULL)
		return set_err(err, "%s:%d:%d: invalid JSON: %s", source,
		    jerr.line, jerr.column, jsonerr_reason(&jerr));
	if (!json_is_object(blob)) {
		json_decref(blob);
		return set_err(err, "%s: expected a JSON object", source);
	}

	def = xcalloc(1, sizeof(*def));
	def->refs = 1;
	def->name = xstrdup(name);
	def->source = xstrdup(source);
	def->blob = blob;

	v = json_object_get(blob, "type");
	if (!json_is_string(v)) {
		set_err(err, "%s: key 'type' is required: a string, one of %s",
		    source, watcher_types());
		goto fail;
	}
	type = json_string_value(v);
	if ((def->watcher = watcher_ops_find(type)) == NULL) {
		set_err(err, "%s: key 'type': unknown watcher '%s' (known: %s)",
		    source, type, watcher_types());
		goto fail;
	}
	svcdef_drop_unknown(def);

	v = json_object_get(blob, "port");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 65535) {
		set_err(err, "%s: key 'port' is required: an integer 1-65535",
		    source);
		goto fail;
	}
	def->port = (int)json_integer_value(v);

	if ((v = json_object_get(blob, "bind_address")) != NULL) {
		if (!json_is_string(v) || !val_ip(json_string_value(v))) {
			set_err(err, "%s: key 'bind_address': expected an IPv4 "
			    "or IPv6 address", source);
			goto fail;
		}
		def->bind_address = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(blob, "keep_servers_on_empty")) != NULL) {
		if (!json_is_boolean(v)) {
			set_err(err, "%s: key 'keep_servers_on_empty': expected "
			    "true or false", source);
			goto fail;
		}
		def->keep_servers_on_empty = json_is_true(v);
	}
	if ((v = json_object_get(blob, "backlog")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535) {
			set_err(err, "%s: key 'backlog': expected an integer "
			    "1-65535", source);
			goto fail;
		}
		def->backlog = (int)json_integer_value(v);
	}
	if (svcdef_options(blob, "listen_options", source, val_listen_line,
	    false, &def->listen_options, err) == -1 ||
	    svcdef_options(blob, "server_options", source, val_option_why, true,
	    &def->server_options, err) == -1)
		goto fail;
	if (def->watcher->validate(blob, err) == -1) {
		char *inner = *err;
		*err = NULL;
		set_err(err, "%s: %s", source, inner);
		free(inner);
		goto fail;
	}

	def->canon = json_dumps(blob, JSON_COMPACT | JSON_SORT_KEYS);
	wblob = json_deep_copy(blob);
	for (size_t i = 0; svcdef_common_keys[i] != NULL; i++)
		if (strcmp(svcdef_common_keys[i], "type") != 0)
			json_object_del(wblob, svcdef_common_keys[i]);
	def->watcher_canon = json_dumps(wblob, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(wblob);
	if (def->canon == NULL || def->watcher_canon == NULL)
		fatalx("json_dumps failed");
	*out = def;
	return 0;
fail:
	svcdef_unref(def);
	return -1;
}

struct service_def *
svcdef_ref(struct service_def *def)
{
	if (def != NULL)
		def->refs++;
	return def;
}

void
svcdef_unref(struct service_def *def)
{
	if (def == NULL || --def->refs > 0)
		return;
	free(def->name);
	free(def->source);
	free(def->bind_address);
	strv_free(def->listen_options);
	strv_free(def->server_options);
	json_decref(def->blob);
	free(def->canon);
	free(def->watcher_canon);
	free(def->unknown);
	free(def);
}

bool
svcdef_equal(const struct service_def *a, const struct service_def *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return strcmp(a->canon, b->canon) == 0;
}

bool
svcdef_same_watcher(const struct service_def *a, const struct service_def *b)
{
	if (a == NULL || b == NULL)
		return false;
	return strcmp(a->watcher_canon, b->watcher_canon) == 0;
}
