#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "haproxy/keywords.h"
#include "log.h"
#include "pmconfig.h"
#include "util.h"
#include "validate.h"

enum cfg_kind { CFG_STR, CFG_INT, CFG_STRLIST, CFG_BOOL };

struct cfg_key {
	const char	*name;
	enum cfg_kind	 kind;
	size_t		 offset;
	long		 min, max;	/* CFG_INT only */
	/* CFG_STR: a further check, and what the value must be if it fails */
	bool		(*valid)(const char *);
	const char	*valid_what;
	/* CFG_STRLIST: NULL if an item may be rendered, else why not */
	const char	*(*refuse)(const char *);
};

static bool
cfg_valid_path(const char *s)
{
	return strpbrk(s, " \t\"'") == NULL;
}

static bool
cfg_valid_sc_type(const char *s)
{
	return strcmp(s, "file") == 0 || strcmp(s, "zookeeper") == 0 ||
	    strcmp(s, "none") == 0;
}

static bool
cfg_valid_log_format(const char *s)
{
	return log_format_from_name(s) != -1;
}

static bool
cfg_valid_facility(const char *s)
{
	return log_facility_from_name(s) != -1;
}

#define STR(n, f)	{ n, CFG_STR, offsetof(struct pm_config, f), 0, 0, \
			  NULL, NULL, NULL }
#define STRV(n, f, v, w) { n, CFG_STR, offsetof(struct pm_config, f), 0, 0, \
			  v, w, NULL }
#define INT(n, f, lo, hi) { n, CFG_INT, offsetof(struct pm_config, f), lo, hi, \
			  NULL, NULL, NULL }
#define BOOL(n, f)	{ n, CFG_BOOL, offsetof(struct pm_config, f), 0, 0, \
			  NULL, NULL, NULL }
#define LIST(n, f, r)	{ n, CFG_STRLIST, offsetof(struct pm_config, f), 0, 0, \
			  NULL, NULL, r }
#define CFG_PATH_WHAT	"a path without spaces or quotes"

static const struct cfg_key cfg_haproxy_keys[] = {
	STR("path", haproxy_path),
	STRV("config_path", config_path, cfg_valid_path, CFG_PATH_WHAT),
	STRV("socket_path", socket_path, cfg_valid_path, CFG_PATH_WHAT),
	STRV("bind_address", bind_address, val_ip,
	    "an IPv4 or IPv6 address"),
	LIST("global", global, val_global_line),
	LIST("defaults", defaults, val_defaults_line),
	STR("hard_stop_after", hard_stop_after),
	INT("max_old_processes", max_old_processes, 1, 64),
	INT("start_timeout_ms", start_timeout_ms, 100, 600000),
	INT("stop_timeout_ms", stop_timeout_ms, 0, 600000),
	BOOL("runtime_api", runtime_api),
	INT("max_disabled_servers", max_disabled_servers, 0, 10000),
	INT("runtime_timeout_ms", runtime_timeout_ms, 10, 600000),
	BOOL("managed", managed),
	STR("user", hap_user),
	STR("group", hap_group),
	STRV("rendered_path", rendered_path, cfg_valid_path, CFG_PATH_WHAT),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key cfg_reload_keys[] = {
	INT("debounce_ms", debounce_ms, 0, 60000),
	INT("min_interval_ms", min_interval_ms, 0, 600000),
	INT("runtime_debounce_ms", runtime_debounce_ms, 0, 60000),
	INT("initial_sync_timeout_ms", initial_sync_timeout_ms, 0, 600000),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key cfg_service_config_keys[] = {
	STRV("type", sc_type, cfg_valid_sc_type, "a known type (known: file, zookeeper, none)"),
	STR("path", sc_path),
	STR("servers", sc_servers),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key cfg_log_keys[] = {
	STRV("format", log_format, cfg_valid_log_format,
	    "a known format (known: text, json)"),
	BOOL("syslog", log_syslog),
	STRV("facility", log_facility, cfg_valid_facility,
	    "a syslog facility (daemon, user, local0 to local7)"),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

/* metrics.listen is parsed into metrics_addr and metrics_port. */
static const struct cfg_key cfg_metrics_keys[] = {
	STR("listen", metrics_addr),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key cfg_control_keys[] = {
	STRV("socket", control_socket, cfg_valid_path, CFG_PATH_WHAT),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

struct cfg_section {
	const char		*name;
	const struct cfg_key	*keys;
};

static const struct cfg_section cfg_sections[] = {
	{ "haproxy", cfg_haproxy_keys },
	{ "log", cfg_log_keys },
	{ "metrics", cfg_metrics_keys },
	{ "reload", cfg_reload_keys },
	{ "service_config", cfg_service_config_keys },
	{ "control", cfg_control_keys },
	{ NULL, NULL },
};

struct cfg_parse {
	yaml_document_t	*doc;
	const char	*source;
	char		**err;
	/* Where each key was written, for checks across keys. */
	struct cfg_seen {
		const char	*section;
		const char	*key;	/* NULL: the section itself */
		int		 line;
		bool		 empty;	/* written with no value */
	}		 seen[64];
	size_t		 nseen;
};

static void
cfg_note_seen(struct cfg_parse *cp, const char *section, const char *key,
    int line, bool empty)
{
	if (cp->nseen < sizeof(cp->seen) / sizeof(cp->seen[0]))
		cp->seen[cp->nseen++] =
		    (struct cfg_seen){ section, key, line, empty };
}

static const struct cfg_seen *
cfg_seen_find(const struct cfg_parse *cp, const char *section,
    const char *key)
{
	for (size_t i = 0; i < cp->nseen; i++)
		if (strcmp(cp->seen[i].section, section) == 0 &&
		    (key == NULL ? cp->seen[i].key == NULL :
		    cp->seen[i].key != NULL && strcmp(cp->seen[i].key, key) == 0))
			return &cp->seen[i];
	return NULL;
}

/* The line where section.key (or the section, for a NULL key) was set to
 * a value, or 0 if it was not: a key written with no value is as good as
 * absent (it keeps its default). */
static int
cfg_seen_line(const struct cfg_parse *cp, const char *section,
    const char *key)
{
	const struct cfg_seen *s = cfg_seen_find(cp, section, key);

	return s != NULL && !s->empty ? s->line : 0;
}

/* A key that has no usable default here (why says when it is needed):
 * absent, it is reported at line; written with no value, at its own. */
static int
cfg_require(struct cfg_parse *cp, const char *section, const char *key,
    int line, const char *why)
{
	const struct cfg_seen *s = cfg_seen_find(cp, section, key);

	if (s != NULL && !s->empty)
		return 0;
	if (s != NULL)
		return set_err(cp->err, "%s:%d: %s.%s: no value, but it is "
		    "required %s", cp->source, s->line, section, key, why);
	return set_err(cp->err, "%s:%d: %s.%s is required %s", cp->source,
	    line, section, key, why);
}

static int
cfg_line(yaml_node_t *node)
{
	return (int)node->start_mark.line + 1;
}

/* The line of node as written under parent (its key, or its list). An
 * alias is the very node its anchor names, with the anchor's position,
 * which always comes earlier: then name the parent's line, where the
 * alias was written, not a line of some other key. */
static int
cfg_line_under(yaml_node_t *parent, yaml_node_t *node)
{
	return node->start_mark.index < parent->start_mark.index ?
	    cfg_line(parent) : cfg_line(node);
}

/* libyaml loads "<<" as an ordinary key; a merge would have to be done
 * here. Say so rather than call it an unknown key. */
static bool
cfg_is_merge_key(yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)k->data.scalar.value, "<<") == 0;
}

static const char *
cfg_node_kind(yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* A plain "", "~" or "null" scalar: the key is present but has no value,
 * which means "use the default". */
static bool
cfg_is_null(yaml_node_t *node)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)node->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

static int
cfg_set_value(struct cfg_parse *cp, struct pm_config *cfg,
    const char *section, const struct cfg_key *key, yaml_node_t *node,
    int line)
{
	void *field = (char *)cfg + key->offset;
	yaml_node_item_t *it;

	if (cfg_is_null(node))
		return 0;
	switch (key->kind) {
	case CFG_STR: {
		const char *v;
		if (node->type != YAML_SCALAR_NODE)
			return set_err(cp->err, "%s:%d: %s.%s: expected a "
			    "string, found %s", cp->source, line,
			    section, key->name, cfg_node_kind(node));
		v = (const char *)node->data.scalar.value;
		if (strlen(v) != node->data.scalar.length || !val_option(v))
			return set_err(cp->err, "%s:%d: %s.%s: refused value "
			    "(control character, ';', '#' or '$NAME')",
			    cp->source, line, section, key->name);
		if (key->valid != NULL && !key->valid(v))
			return set_err(cp->err, "%s:%d: %s.%s: '%s' is not %s",
			    cp->source, line, section, key->name, v,
			    key->valid_what);
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return 0;
	}
	case CFG_INT: {
		const char *v = (const char *)node->data.scalar.value;
		char *end;
		long n;
		if (node->type != YAML_SCALAR_NODE ||
		    strlen(v) != node->data.scalar.length)
			goto bad_int;
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < key->min ||
		    n > key->max)
			goto bad_int;
		*(int *)field = (int)n;
		return 0;
bad_int:
		return set_err(cp->err, "%s:%d: %s.%s: expected an integer "
		    "from %ld to %ld", cp->source, line, section,
		    key->name, key->min, key->max);
	}
	case CFG_BOOL: {
		const char *v = (const char *)node->data.scalar.value;
		if (node->type == YAML_SCALAR_NODE &&
		    node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    strlen(v) == node->data.scalar.length) {
			if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
			    strcmp(v, "on") == 0) {
				*(bool *)field = true;
				return 0;
			}
			if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
			    strcmp(v, "off") == 0) {
				*(bool *)field = false;
				return 0;
			}
		}
		return set_err(cp->err, "%s:%d: %s.%s: expected true or false",
		    cp->source, line, section, key->name);
	}
	case CFG_STRLIST: {
		size_t n = 0, i = 0;
		char **list;
		if (node->type != YAML_SEQUENCE_NODE)
			return set_err(cp->err, "%s:%d: %s.%s: expected a list "
			    "of strings, found %s", cp->source, line,
			    section, key->name, cfg_node_kind(node));
		for (it = node->data.sequence.items.start;
		    it < node->data.sequence.items.top; it++)
			n++;
		list = xcalloc(n + 1, sizeof(*list));
		for (it = node->data.sequence.items.start;
		    it < node->data.sequence.items.top; it++, i++) {
			yaml_node_t *item = yaml_document_get_node(cp->doc, *it);
			const char *v = (const char *)item->data.scalar.value;
			const char *why;
			/* An aliased list, or item: where the list is. */
			int at = line != cfg_line(node) ? line :
			    cfg_line_under(node, item);
			if (cfg_is_null(item)) {
				strv_free(list);
				return set_err(cp->err, "%s:%d: %s.%s item %zu: "
				    "no value", cp->source, at, section,
				    key->name, i + 1);
			}
			if (item->type != YAML_SCALAR_NODE ||
			    strlen(v) != item->data.scalar.length ||
			    !val_option(v)) {
				strv_free(list);
				return set_err(cp->err, "%s:%d: %s.%s item %zu: "
				    "expected one line of text without ';', "
				    "'#' or '$NAME'", cp->source, at, section,
				    key->name, i + 1);
			}
			if ((why = key->refuse(v)) != NULL) {
				strv_free(list);
				return set_err(cp->err, "%s:%d: %s.%s item %zu: "
				    "refused: %s", cp->source, at, section,
				    key->name, i + 1, why);
			}
			list[i] = xstrdup(v);
		}
		strv_free(*(char ***)field);
		*(char ***)field = list;
		return 0;
	}
	}
	return -1;
}

/* YAML leaves duplicate keys to the application; a repeated key is most
 * likely a copy-paste slip, so refuse it rather than let the last win. */
static const char *
cfg_duplicate_key(yaml_document_t *doc, yaml_node_pair_t *first,
    yaml_node_pair_t *pair)
{
	yaml_node_t *k = yaml_document_get_node(doc, pair->key);

	if (k->type != YAML_SCALAR_NODE)
		return NULL;
	for (yaml_node_pair_t *p = first; p < pair; p++) {
		yaml_node_t *o = yaml_document_get_node(doc, p->key);
		if (o->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)o->data.scalar.value,
		    (const char *)k->data.scalar.value) == 0)
			return (const char *)k->data.scalar.value;
	}
	return NULL;
}

/* A section written at line; when it is an alias, its keys are named
 * there too, not at the anchor's lines. */
static int
cfg_parse_section(struct cfg_parse *cp, struct pm_config *cfg,
    const struct cfg_section *sec, yaml_node_t *node, int line)
{
	bool aliased = line != cfg_line(node);
	yaml_node_pair_t *pair;

	if (cfg_is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return set_err(cp->err, "%s:%d: %s: expected a mapping of keys, "
		    "found %s", cp->source, line, sec->name,
		    cfg_node_kind(node));
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(cp->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(cp->doc, pair->value);
		const struct cfg_key *key = NULL;
		int kline = aliased ? line : cfg_line(k);
		const char *dup;

		if ((dup = cfg_duplicate_key(cp->doc,
		    node->data.mapping.pairs.start, pair)) != NULL)
			return set_err(cp->err, "%s:%d: duplicate key '%s.%s'",
			    cp->source, kline, sec->name, dup);
		if (cfg_is_merge_key(k))
			return set_err(cp->err, "%s:%d: %s.<<: YAML merge keys "
			    "are not supported, write the keys out", cp->source,
			    kline, sec->name);
		if (k->type == YAML_SCALAR_NODE)
			for (key = sec->keys; key->name != NULL; key++)
				if (strcmp(key->name,
				    (const char *)k->data.scalar.value) == 0)
					break;
		if (key == NULL || key->name == NULL)
			return set_err(cp->err, "%s:%d: unknown key '%s.%s'",
			    cp->source, kline, sec->name,
			    k->type == YAML_SCALAR_NODE ?
			    (const char *)k->data.scalar.value : "?");
		if (cfg_set_value(cp, cfg, sec->name, key, v,
		    aliased ? line : cfg_line_under(k, v)) == -1)
			return -1;
		cfg_note_seen(cp, sec->name, key->name, kline, cfg_is_null(v));
	}
	return 0;
}

struct pm_config *
pmconfig_defaults(const char *source)
{
	struct pm_config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->refs = 1;
	cfg->file = xstrdup(source);
	cfg->haproxy_path = xstrdup("haproxy");
	cfg->config_path = xstrdup("/run/proxymgr/haproxy.cfg");
	cfg->socket_path = xstrdup("/run/proxymgr/haproxy.sock");
	cfg->bind_address = xstrdup("0.0.0.0");
	cfg->global = xcalloc(1, sizeof(char *));
	/* HAProxy warns about proxies without timeouts: give working ones.
	 * A defaults list in the file replaces these. */
	cfg->defaults = xcalloc(4, sizeof(char *));
	cfg->defaults[0] = xstrdup("timeout connect 5s");
	cfg->defaults[1] = xstrdup("timeout client 1m");
	cfg->defaults[2] = xstrdup("timeout server 1m");
	cfg->hard_stop_after = xstrdup("60s");
	cfg->max_old_processes = 4;
	cfg->start_timeout_ms = 10000;
	cfg->stop_timeout_ms = 10000;
	cfg->runtime_api = true;
	cfg->max_disabled_servers = 16;
	cfg->runtime_timeout_ms = 2000;
	cfg->managed = true;
	cfg->debounce_ms = 20;
	cfg->min_interval_ms = 500;
	cfg->runtime_debounce_ms = 0;
	cfg->initial_sync_timeout_ms = 10000;
	cfg->log_format = xstrdup("text");
	cfg->log_facility = xstrdup("daemon");
	cfg->sc_type = xstrdup("file");
	cfg->sc_path = xstrdup("/etc/proxymgr/services");
	return cfg;
}

static bool
cfg_valid_name(const char *s)
{
	if (*s == '\0' || *s == '-' || strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			return false;
	return true;
}

int
pmconfig_check_identity(const char *name, bool group, char **err)
{
	const char *what = group ? "group" : "user";
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	unsigned long id, own;

	/* Rendered as a word of haproxy.cfg: a name, never more words. */
	if (!cfg_valid_name(name))
		return set_err(err, "'%s' is not a %s name ([A-Za-z0-9_.-], "
		    "at most 64)", name, what);
	if (group ? (gr = getgrnam(name)) == NULL :
	    (pw = getpwnam(name)) == NULL)
		return set_err(err, "no %s '%s' on this system", what, name);
	id = group ? (unsigned long)gr->gr_gid : (unsigned long)pw->pw_uid;
	own = group ? (unsigned long)getegid() : (unsigned long)geteuid();
	if (geteuid() != 0 && id != own)
		return set_err(err, "proxymgrd runs as uid %lu, not root: "
		    "HAProxy runs as proxymgrd's own user and group and "
		    "cannot be started as %s '%s' (leave the key out, or run "
		    "proxymgrd as root)", (unsigned long)geteuid(), what, name);
	return 0;
}

void
pmconfig_identity(struct pm_config *cfg, bool defaults)
{
	const char *user = cfg->hap_user;
	struct passwd *pw = NULL;
	struct group *gr;

	free(cfg->drop_user);
	free(cfg->drop_group);
	free(cfg->drop_note);
	cfg->drop_user = cfg->drop_group = cfg->drop_note = NULL;
	/* Not root: HAProxy can only be proxymgrd's own uid. */
	if (geteuid() != 0)
		return;
	/* The operator's own lines: left alone, a user without a group
	 * said. (Those of a hand-written haproxy.cfg are seen at render.) */
	if (hkw_lines_have(cfg->global, "user") ||
	    hkw_lines_have(cfg->global, "uid") ||
	    hkw_lines_have(cfg->global, "group") ||
	    hkw_lines_have(cfg->global, "gid")) {
		if (!hkw_lines_have(cfg->global, "group") &&
		    !hkw_lines_have(cfg->global, "gid"))
			cfg->drop_note = xstrdup("haproxy.global sets user but "
			    "no group: HAProxy keeps gid 0 and root's "
			    "supplementary groups (add 'group NAME')");
		return;
	}
	if (user == NULL && defaults) {
		if ((pw = getpwnam("haproxy")) != NULL)
			user = "haproxy";
		else
			cfg->drop_note = xstrdup("haproxy.user: no user "
			    "'haproxy' on this system, so HAProxy runs as root "
			    "(create it, e.g. `useradd --system haproxy`, or "
			    "name another with haproxy.user)");
	} else if (user != NULL)
		pw = getpwnam(user);
	/* root by name: HAProxy stays root, as asked. */
	if (pw != NULL && pw->pw_uid != 0)
		cfg->drop_user = xasprintf("user %s", user);
	if (cfg->hap_group != NULL)
		cfg->drop_group = xasprintf("group %s", cfg->hap_group);
	else if (cfg->drop_user != NULL) {
		/* Without "group" HAProxy keeps gid 0 and root's
		 * supplementary groups: always render one. */
		if ((gr = getgrgid(pw->pw_gid)) != NULL)
			cfg->drop_group = xasprintf("group %s", gr->gr_name);
		else
			cfg->drop_group = xasprintf("gid %lu",
			    (unsigned long)pw->pw_gid);
	}
}

/* Checks that need more than one key. */
static int
cfg_check(struct pm_config *cfg, struct cfg_parse *cp)
{
	int line;
	char *why = NULL;

	for (int g = 0; g < 2; g++) {
		const char *v = g ? cfg->hap_group : cfg->hap_user;
		if (v == NULL ||
		    pmconfig_check_identity(v, g == 1, &why) == 0)
			continue;
		set_err(cp->err, "%s:%d: haproxy.%s: %s", cp->source,
		    cfg_seen_line(cp, "haproxy", g ? "group" : "user"), g ?
		    "group" : "user", why);
		free(why);
		return -1;
	}
	pmconfig_identity(cfg, false);

	if (!cfg->managed) {
		if (cfg_require(cp, "haproxy", "config_path",
		    cfg_seen_line(cp, "haproxy", "managed"), "with managed: "
		    "false (the haproxy.cfg you write)") == -1)
			return -1;
		/* Only named listeners unless services are asked for. */
		if (cfg_seen_line(cp, "service_config", NULL) == 0) {
			free(cfg->sc_type);
			cfg->sc_type = xstrdup("none");
		}
	} else if ((line = cfg_seen_line(cp, "haproxy", "rendered_path")) > 0)
		return set_err(cp->err, "%s:%d: haproxy.rendered_path: only "
		    "used with managed: false", cp->source, line);
	if (!cfg->log_syslog &&
	    (line = cfg_seen_line(cp, "log", "facility")) > 0)
		return set_err(cp->err, "%s:%d: log.facility: only used with "
		    "syslog: true", cp->source, line);
	if (cfg->metrics_addr != NULL) {
		char *spec = cfg->metrics_addr, *why = NULL;
		cfg->metrics_addr = NULL;
		if (pmconfig_parse_addr(spec, &cfg->metrics_addr,
		    &cfg->metrics_port, &why) == -1) {
			set_err(cp->err, "%s:%d: metrics.listen: %s", cp->source,
			    cfg_seen_line(cp, "metrics", "listen"), why);
			free(why);
			free(spec);
			return -1;
		}
		free(spec);
	}
	if (strcmp(cfg->sc_type, "none") == 0)
		return 0;
	if (strcmp(cfg->sc_type, "file") == 0) {
		if ((line = cfg_seen_line(cp, "service_config", "servers")) > 0)
			return set_err(cp->err, "%s:%d: service_config.servers: "
			    "not used by type 'file' (it takes 'path', a "
			    "directory of NAME.json files)", cp->source, line);
		return 0;
	}
	/* zookeeper: both keys are needed, the defaults are for 'file'. */
	line = cfg_seen_line(cp, "service_config", "type");
	if (cfg_require(cp, "service_config", "servers", line, "by type "
	    "'zookeeper' (host:port[,host:port...])") == -1)
		return -1;
	if (!val_zk_servers(cfg->sc_servers))
		return set_err(cp->err, "%s:%d: service_config.servers: "
		    "expected host:port[,host:port...], found '%s'", cp->source,
		    cfg_seen_line(cp, "service_config", "servers"),
		    cfg->sc_servers);
	if (cfg_require(cp, "service_config", "path", line, "by type "
	    "'zookeeper' (the node whose children are the services, e.g. "
	    "/service_config)") == -1)
		return -1;
	if (!val_zk_path(cfg->sc_path))
		return set_err(cp->err, "%s:%d: service_config.path: expected "
		    "an absolute ZooKeeper path such as /service_config, found "
		    "'%s'", cp->source, cfg_seen_line(cp, "service_config",
		    "path"), cfg->sc_path);
	return 0;
}

bool
pmconfig_valid_listener_name(const char *name)
{
	static const char *const reserved[] = {
		"PATH", "HOME", "SHELL", "USER", "TMPDIR", "TZ", "LANG",
		"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
		NULL,
	};

	if (name[0] == '\0' || strlen(name) > 64 ||
	    !((name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return !str_in(name, reserved) && strncmp(name, "HAPROXY_", 8) != 0 &&
	    strncmp(name, "LD_", 3) != 0 && strncmp(name, "LC_", 3) != 0 &&
	    strncmp(name, "PROXYMGRD_", 10) != 0;
}

int
pmconfig_parse_addr(const char *spec, char **addr, int *port, char **err)
{
	const char *p, *colon;
	char *host, *end;
	long n;

	if (spec[0] == '[') {
		if ((p = strchr(spec, ']')) == NULL || p[1] != ':')
			return set_err(err, "'%s': expected [IPv6]:PORT", spec);
		host = xasprintf("%.*s", (int)(p - spec - 1), spec + 1);
		colon = p + 1;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		host = xasprintf("%.*s", (int)(colon - spec), spec);
		if (strchr(host, ':') != NULL) {
			free(host);
			return set_err(err, "'%s': write an IPv6 address in "
			    "brackets, [ADDR]:PORT", spec);
		}
	} else {
		host = xstrdup("0.0.0.0");
		colon = spec - 1;
	}
	if (host[0] == '\0' || strcmp(host, "*") == 0) {
		free(host);
		host = xstrdup("0.0.0.0");
	}
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || n < 1 ||
	    n > 65535) {
		free(host);
		return set_err(err, "'%s': expected ADDR:PORT with a port from "
		    "1 to 65535", spec);
	}
	if (!val_ip(host)) {
		set_err(err, "'%s': '%s' is not an IPv4 or IPv6 address", spec,
		    host);
		free(host);
		return -1;
	}
	*addr = host;
	*port = (int)n;
	return 0;
}

bool
pmconfig_parse_backlog(const char *s, int *backlog)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || !isdigit((unsigned char)*s) || *end != '\0' ||
	    n < 1 || n > 65535)
		return false;
	*backlog = (int)n;
	return true;
}

int
pmconfig_parse_listen(const char *spec, char **addr, int *port,
    int *backlog, char **err)
{
	const char *at = strrchr(spec, '@');
	char *hostport;
	int rc;

	*backlog = 0;
	if (at == NULL)
		return pmconfig_parse_addr(spec, addr, port, err);
	if (!pmconfig_parse_backlog(at + 1, backlog))
		return set_err(err, "'%s': expected ADDR:PORT@BACKLOG with a "
		    "backlog from 1 to 65535", spec);
	hostport = xasprintf("%.*s", (int)(at - spec), spec);
	rc = pmconfig_parse_addr(hostport, addr, port, err);
	free(hostport);
	return rc;
}

int
pmconfig_add_listener(struct pm_config *cfg, const char *name,
    const char *addr, int port, int backlog, char **err)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (strcmp(cfg->listeners[i].name, name) == 0)
			return set_err(err, "listener %s is given twice", name);
		if (cfg->listeners[i].port == port &&
		    strcmp(cfg->listeners[i].addr, addr) == 0)
			return set_err(err, "listeners %s and %s both have %s "
			    "port %d", cfg->listeners[i].name, name, addr, port);
	}
	cfg->listeners = xrealloc(cfg->listeners,
	    (cfg->nlisteners + 1) * sizeof(*cfg->listeners));
	cfg->listeners[cfg->nlisteners].name = xstrdup(name);
	cfg->listeners[cfg->nlisteners].addr = xstrdup(addr);
	cfg->listeners[cfg->nlisteners].port = port;
	cfg->listeners[cfg->nlisteners].backlog = backlog;
	cfg->nlisteners++;
	return 0;
}

/* name in the directory of the stats socket. */
static char *
cfg_beside_socket(const struct pm_config *cfg, const char *name)
{
	const char *slash = strrchr(cfg->socket_path, '/');

	return slash == NULL ? xstrdup(name) : xasprintf("%.*s/%s",
	    (int)(slash - cfg->socket_path), cfg->socket_path, name);
}

char *
pmconfig_control_path(const struct pm_config *cfg)
{
	if (cfg->control_socket != NULL)
		return xstrdup(cfg->control_socket);
	return cfg_beside_socket(cfg, "proxymgrd.sock");
}

void
pmconfig_set_unmanaged(struct pm_config *cfg)
{
	cfg->managed = false;
	free(cfg->user_config);
	cfg->user_config = cfg->config_path;
	if (cfg->rendered_path != NULL)
		cfg->config_path = xstrdup(cfg->rendered_path);
	else
		cfg->config_path = cfg_beside_socket(cfg, "proxymgrd.cfg");
}

/* listeners: a mapping of NAME: ADDR:PORT, written at line (see
 * cfg_parse_section for an aliased one). */
static int
cfg_parse_listeners(struct cfg_parse *cp, struct pm_config *cfg,
    yaml_node_t *node, int line)
{
	bool aliased = line != cfg_line(node);
	yaml_node_pair_t *pair;

	if (cfg_is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return set_err(cp->err, "%s:%d: listeners: expected a mapping "
		    "of NAME: ADDR:PORT[@BACKLOG], found %s", cp->source, line,
		    cfg_node_kind(node));
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(cp->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(cp->doc, pair->value);
		const char *name = (const char *)k->data.scalar.value;
		int kline = aliased ? line : cfg_line(k);
		int vline = aliased ? line : cfg_line_under(k, v);
		char *addr = NULL, *why = NULL;
		int port, backlog, rc;

		if (cfg_is_merge_key(k))
			return set_err(cp->err, "%s:%d: listeners.<<: YAML "
			    "merge keys are not supported, write the keys out",
			    cp->source, kline);
		if (k->type != YAML_SCALAR_NODE ||
		    !pmconfig_valid_listener_name(name))
			return set_err(cp->err, "%s:%d: listeners: '%s' is not a "
			    "usable name ([A-Za-z_][A-Za-z0-9_]*, at most 64, "
			    "not PATH, HOME, HAPROXY_*, LD_*, LC_*, LISTEN_*, "
			    "...)", cp->source, kline,
			    k->type == YAML_SCALAR_NODE ? name : "?");
		if (cfg_is_null(v))
			return set_err(cp->err, "%s:%d: listeners.%s: no value "
			    "(expected ADDR:PORT)", cp->source, vline, name);
		if (v->type != YAML_SCALAR_NODE ||
		    strlen((const char *)v->data.scalar.value) !=
		    v->data.scalar.length)
			return set_err(cp->err, "%s:%d: listeners.%s: expected "
			    "ADDR:PORT, found %s", cp->source, vline, name,
			    v->type == YAML_SCALAR_NODE ? "a NUL byte" :
			    cfg_node_kind(v));
		if (pmconfig_parse_listen((const char *)v->data.scalar.value,
		    &addr, &port, &backlog, &why) == -1) {
			set_err(cp->err, "%s:%d: listeners.%s: %s", cp->source,
			    vline, name, why);
			free(why);
			return -1;
		}
		rc = pmconfig_add_listener(cfg, name, addr, port, backlog,
		    &why);
		free(addr);
		if (rc == -1) {
			set_err(cp->err, "%s:%d: listeners.%s: %s", cp->source,
			    kline, name, why);
			free(why);
			return -1;
		}
	}
	return 0;
}

int
pmconfig_parse(const char *text, size_t len, const char *source,
    struct pm_config **out, char **err)
{
	struct pm_config *cfg = pmconfig_defaults(source);
	struct cfg_parse cp = { .source = source, .err = err };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pair;
	int rc = -1;

	*out = NULL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		set_err(err, "%s:%zu:%zu: invalid YAML: %s%s%s", source,
		    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "parse error",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		pmconfig_unref(cfg);
		return -1;
	}
	cp.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !cfg_is_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			set_err(err, "%s:%d: expected a mapping with the keys "
			    "haproxy, reload and service_config", source,
			    cfg_line(root));
			goto done;
		}
		for (pair = root->data.mapping.pairs.start;
		    pair < root->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
			yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
			const struct cfg_section *sec;
			const char *dup;

			if ((dup = cfg_duplicate_key(&doc,
			    root->data.mapping.pairs.start, pair)) != NULL) {
				set_err(err, "%s:%d: duplicate key '%s'", source,
				    cfg_line(k), dup);
				goto done;
			}
			if (cfg_is_merge_key(k)) {
				set_err(err, "%s:%d: <<: YAML merge keys are "
				    "not supported, write the keys out", source,
				    cfg_line(k));
				goto done;
			}
			if (k->type == YAML_SCALAR_NODE && strcmp("listeners",
			    (const char *)k->data.scalar.value) == 0) {
				cfg_note_seen(&cp, "listeners", NULL,
				    cfg_line(k), cfg_is_null(v));
				if (cfg_parse_listeners(&cp, cfg, v,
				    cfg_line_under(k, v)) == -1)
					goto done;
				continue;
			}
			for (sec = cfg_sections; sec->name != NULL; sec++)
				if (k->type == YAML_SCALAR_NODE &&
				    strcmp(sec->name,
				    (const char *)k->data.scalar.value) == 0)
					break;
			if (sec->name == NULL) {
				set_err(err, "%s:%d: unknown key '%s' (known: "
				    "control, haproxy, listeners, log, metrics, "
				    "reload, service_config)", source,
				    cfg_line(k), k->type == YAML_SCALAR_NODE ?
				    (const char *)k->data.scalar.value : "?");
				goto done;
			}
			cfg_note_seen(&cp, sec->name, NULL, cfg_line(k),
			    cfg_is_null(v));
			if (cfg_parse_section(&cp, cfg, sec, v,
			    cfg_line_under(k, v)) == -1)
				goto done;
		}
	}
	if (cfg_check(cfg, &cp) == -1)
		goto done;
	if (!cfg->managed)
		pmconfig_set_unmanaged(cfg);
	*out = cfg;
	cfg = NULL;
	rc = 0;
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	pmconfig_unref(cfg);
	return rc;
}

/* HAProxy takes only absolute unix socket paths; make both paths absolute
 * against the directory proxymgrd was started in. */
void
pmconfig_absolutize(char **path)
{
	char cwd[4096];

	if ((*path)[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return;
	char *abs = xasprintf("%s/%s", cwd, *path);
	free(*path);
	*path = abs;
}

int
pmconfig_load(const char *path, struct pm_config **out, char **err)
{
	size_t len;
	char *text, *why = NULL;
	int rc;

	*out = NULL;
	text = read_file(path, READ_FILE_CONFIG_MAX, &len, &why);
	if (text == NULL) {
		set_err(err, "cannot read %s: %s", path, why);
		free(why);
		return -1;
	}
	rc = pmconfig_parse(text, len, path, out, err);
	free(text);
	if (rc == 0) {
		pmconfig_identity(*out, true);
		pmconfig_absolutize(&(*out)->config_path);
		pmconfig_absolutize(&(*out)->socket_path);
		if ((*out)->control_socket != NULL)
			pmconfig_absolutize(&(*out)->control_socket);
		if ((*out)->user_config != NULL)
			pmconfig_absolutize(&(*out)->user_config);
	}
	return rc;
}

struct pm_config *
pmconfig_ref(struct pm_config *cfg)
{
	cfg->refs++;
	return cfg;
}

void
pmconfig_unref(struct pm_config *cfg)
{
	if (cfg == NULL || --cfg->refs > 0)
		return;
	free(cfg->file);
	free(cfg->haproxy_path);
	free(cfg->config_path);
	free(cfg->socket_path);
	free(cfg->bind_address);
	strv_free(cfg->global);
	strv_free(cfg->defaults);
	free(cfg->hard_stop_after);
	free(cfg->user_config);
	free(cfg->rendered_path);
	free(cfg->hap_user);
	free(cfg->hap_group);
	free(cfg->drop_user);
	free(cfg->drop_group);
	free(cfg->drop_note);
	free(cfg->control_socket);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		free(cfg->listeners[i].name);
		free(cfg->listeners[i].addr);
	}
	free(cfg->listeners);
	strv_free(cfg->haproxy_args);
	strv_free(cfg->watch);
	free(cfg->env_file);
	free(cfg->log_format);
	free(cfg->log_facility);
	free(cfg->metrics_addr);
	free(cfg->sc_type);
	free(cfg->sc_path);
	free(cfg->sc_servers);
	free(cfg);
}
