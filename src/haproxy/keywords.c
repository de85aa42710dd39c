#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "haproxy/keywords.h"

/* The first words of the "4.1. Proxy keywords matrix" of HAProxy's
 * configuration manual (doc/configuration.txt), 2.6 and 3.0 together,
 * plus the two that only its section 4.2 lists (dynamic-cookie-key, and
 * hash-balance-factor in 2.6). "no" and "default" are modifiers, below.
 * Sorted as strcmp sorts, for bsearch. A keyword of a later version goes
 * here once that version is supported; until then `haproxy -c` would
 * refuse it anyway. */
static const char *const hkw_proxy[] = {
	"acl", "backlog", "balance", "bind", "bind-process", "capture",
	"clitcpka-cnt", "clitcpka-idle", "clitcpka-intvl", "compression",
	"cookie", "declare", "default-server", "default_backend",
	"description", "disabled", "dispatch", "dynamic-cookie-key",
	"email-alert", "enabled", "error-log-format", "errorfile",
	"errorfiles", "errorloc", "errorloc302", "errorloc303",
	"external-check", "filter", "force-persist", "fullconn", "guid",
	"hash-balance-factor", "hash-key", "hash-type",
	"http-after-response", "http-check", "http-error", "http-request",
	"http-response", "http-reuse", "http-send-name-header", "id",
	"ignore-persist", "load-server-state-from-file", "log", "log-format",
	"log-format-sd", "log-tag", "max-keep-alive-queue",
	"max-session-srv-conns", "maxconn", "mode", "monitor", "monitor-uri",
	"option", "persist", "rate-limit", "redirect", "retries",
	"retry-on", "server", "server-state-file-name", "server-template",
	"source", "srvtcpka-cnt", "srvtcpka-idle", "srvtcpka-intvl", "stats",
	"stick", "stick-table", "tcp-check", "tcp-request", "tcp-response",
	"timeout", "transparent", "unique-id-format", "unique-id-header",
	"use-fcgi-app", "use-server", "use_backend",
};

/* Every word that opens a section in HAProxy 2.6 to 3.3, whatever the
 * build (REGISTER_CONFIG_SECTION and cfg_register_section in its sources:
 * namespace_list exists only with USE_NS, ot-* and spoe-* are sections of
 * filter configuration files). None is a proxy keyword; the global
 * section, which has no allowlist, refuses them by name. */
static const char *const hkw_sections[] = {
	"acme", "backend", "cache", "crt-store", "defaults", "fcgi-app",
	"frontend", "global", "http-errors", "listen", "log-forward",
	"log-profile", "mailers", "namespace_list", "ot-group", "ot-scope",
	"ot-tracer", "peers", "program", "resolvers", "ring", "spoe-agent",
	"spoe-group", "spoe-message", "traces", "userlist", NULL,
};

#define HKW_WHY_SECTION	"its first word opens a HAProxy section, which " \
	"would take the lines after it out of their own section"
#define HKW_WHY_DIRECTIVE "a '.' directive (.if, .endif, ...) or a '[' " \
	"scope is not an option"
#define HKW_WHY_UNKNOWN	"its first word is not a keyword of a HAProxy " \
	"proxy section (configuration manual, 4.1)"
#define HKW_WHY_MODIFIER "'no' and 'default' go only before 'option' " \
	"or 'log'"
#define HKW_WHY_RESERVED "'bind', 'server' and 'server-template' are " \
	"proxymgrd's: it holds the service's socket, and its servers come " \
	"from discovery"
#define HKW_WHY_QUOTED	"its first word has a quote or backslash, which " \
	"HAProxy would take away before it matches keywords"

/* Skip the spaces at *p, which then points at a word of the length
 * returned. */
static size_t
hkw_word(const char **p)
{
	while (**p == ' ')
		(*p)++;
	return strcspn(*p, " ");
}

static bool
hkw_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncmp(w, kw, n) == 0;
}

static int
hkw_cmp(const void *key, const void *elem)
{
	const char *const *k = key;
	const char *kw = *(const char *const *)elem;
	size_t n = strcspn(*k, " ");
	int c = strncmp(*k, kw, n);

	return c != 0 ? c : (kw[n] == '\0' ? 0 : -1);
}

static bool
hkw_is_proxy(const char *w)
{
	return bsearch(&w, hkw_proxy, sizeof(hkw_proxy) / sizeof(*hkw_proxy),
	    sizeof(*hkw_proxy), hkw_cmp) != NULL;
}

/* HAProxy matches section names exactly; any case is refused here, which
 * costs nothing and does not depend on that. */
static bool
hkw_is_section(const char *w, size_t n)
{
	for (size_t i = 0; hkw_sections[i] != NULL; i++)
		if (strlen(hkw_sections[i]) == n &&
		    strncasecmp(w, hkw_sections[i], n) == 0)
			return true;
	return false;
}

static bool
hkw_is_modifier(const char *w, size_t n)
{
	return hkw_is(w, n, "no") || hkw_is(w, n, "default");
}

/* HAProxy reads "no" and "default" before a keyword, then matches the
 * word after them (sections included): check that one. */
static const char *
hkw_proxy_line(const char *line, bool listen)
{
	const char *p = line;
	size_t n = hkw_word(&p);

	if (*p == '.' || *p == '[')
		return HKW_WHY_DIRECTIVE;
	if (hkw_is_modifier(p, n)) {
		p += n;
		n = hkw_word(&p);
		if (!hkw_is(p, n, "option") && !hkw_is(p, n, "log"))
			return hkw_is_section(p, n) ? HKW_WHY_SECTION :
			    HKW_WHY_MODIFIER;
	}
	if (hkw_is_section(p, n))
		return HKW_WHY_SECTION;
	if (!hkw_is_proxy(p))
		return HKW_WHY_UNKNOWN;
	if (listen && (hkw_is(p, n, "bind") || hkw_is(p, n, "server") ||
	    hkw_is(p, n, "server-template")))
		return HKW_WHY_RESERVED;
	return NULL;
}

const char *
hkw_listen_line(const char *line)
{
	return hkw_proxy_line(line, true);
}

const char *
hkw_defaults_line(const char *line)
{
	return hkw_proxy_line(line, false);
}

const char *
hkw_global_line(const char *line)
{
	const char *p = line;
	size_t n = hkw_word(&p);

	if (*p == '.' || *p == '[')
		return HKW_WHY_DIRECTIVE;
	if (strcspn(p, "\"'\\") < n)
		return HKW_WHY_QUOTED;
	if (hkw_is_modifier(p, n)) {
		p += n;
		n = hkw_word(&p);
		if (strcspn(p, "\"'\\") < n)
			return HKW_WHY_QUOTED;
	}
	return hkw_is_section(p, n) ? HKW_WHY_SECTION : NULL;
}

static const char *
hkw_skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

bool
hkw_line_is(const char *line, const char *kw, const char **args)
{
	size_t n = strlen(kw);

	line = hkw_skip_blanks(line);
	if (strncmp(line, kw, n) != 0 || (line[n] != ' ' && line[n] != '\t' &&
	    line[n] != '\0'))
		return false;
	if (args != NULL)
		*args = hkw_skip_blanks(line + n);
	return true;
}

bool
hkw_lines_have(char *const *lines, const char *kw)
{
	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
		if (hkw_line_is(lines[i], kw, NULL))
			return true;
	return false;
}

bool
hkw_text_global_has(const char *text, const char *kw)
{
	bool global = false;
	const char *line, *p;
	size_t n;

	for (line = text; line != NULL && *line != '\0';
	    line = (p = strchr(line, '\n')) != NULL ? p + 1 : NULL) {
		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t\r\n");
		if (hkw_is_section(p, n))
			global = hkw_is(p, n, "global");
		else if (global && n == strlen(kw) && strncmp(p, kw, n) == 0)
			return true;
	}
	return false;
}

const char *
hkw_last(char *const *defaults, char *const *listen, const char *kw)
{
	const char *found = NULL, *args;

	for (size_t i = 0; listen != NULL && listen[i] != NULL; i++)
		if (hkw_line_is(listen[i], kw, &args))
			found = args;
	if (found != NULL)
		return found;
	for (size_t i = 0; defaults != NULL && defaults[i] != NULL; i++)
		if (hkw_line_is(defaults[i], kw, &args))
			found = args;
	return found;
}

bool
hkw_has_word(char *const *opts, const char *w)
{
	size_t n = strlen(w);

	for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
		const char *s = opts[i];
		while (*s != '\0') {
			s = hkw_skip_blanks(s);
			size_t len = strcspn(s, " \t");
			if (len == n && strncmp(s, w, n) == 0)
				return true;
			s += len;
		}
	}
	return false;
}

bool
hkw_option_named(char *const *lines, const char *opt)
{
	const char *args;

	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++) {
		const char *l = lines[i];
		if (hkw_line_is(l, "no", &args) ||
		    hkw_line_is(l, "default", &args))
			l = args;
		if (hkw_line_is(l, "option", &args) &&
		    hkw_line_is(args, opt, NULL))
			return true;
	}
	return false;
}

bool
hkw_mode_http(char *const *defaults, char *const *listen)
{
	const char *mode = hkw_last(defaults, listen, "mode");

	/* HAProxy's default mode is tcp. */
	return mode != NULL && hkw_line_is(mode, "http", NULL);
}

/* An algorithm name at the start of a balance line's arguments:
 * "random(2)" and "hdr(host)" take arguments in parentheses. */
static bool
hkw_algorithm_is(const char *args, const char *name)
{
	size_t n = strlen(name);

	return strncmp(args, name, n) == 0 && (args[n] == '\0' ||
	    args[n] == ' ' || args[n] == '\t' || args[n] == '(');
}

bool
hkw_balance_dynamic(char *const *defaults, char *const *listen,
    const char **why)
{
	static const char *const dynamic[] = { "roundrobin", "leastconn",
	    "first", "random", NULL };
	static const char *const hashed[] = { "source", "uri", "url_param",
	    "hdr", "rdp-cookie", "hash", NULL };
	const char *balance, *hash;

	balance = hkw_last(defaults, listen, "balance");
	if (balance == NULL)
		return true;	/* roundrobin */
	for (size_t i = 0; dynamic[i] != NULL; i++)
		if (hkw_algorithm_is(balance, dynamic[i]))
			return true;
	for (size_t i = 0; hashed[i] != NULL; i++) {
		if (!hkw_algorithm_is(balance, hashed[i]))
			continue;
		hash = hkw_last(defaults, listen, "hash-type");
		if (hash != NULL && hkw_algorithm_is(hash, "consistent"))
			return true;
		*why = "a hash balance algorithm without hash-type consistent";
		return false;
	}
	*why = "a balance algorithm that takes no dynamic server";
	return false;
}

const char *
hkw_add_server_refused(char *const *server_options)
{
	static const char *const refused[] = { "enabled", "cookie",
	    "resolvers", "init-addr", "resolve-prefer", "resolve-net",
	    "resolve-opts", "redir", "max-reuse", "socks4", "namespace",
	    "log-proto", "proto", "track", NULL };

	for (size_t i = 0; refused[i] != NULL; i++)
		if (hkw_has_word(server_options, refused[i]))
			return refused[i];
	return NULL;
}
