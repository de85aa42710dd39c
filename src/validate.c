#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/keywords.h"
#include "util.h"
#include "validate.h"

bool
val_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VAL_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

bool
val_option(const char *s)
{
	size_t n = strlen(s);
	bool blank = true;

	if (n == 0 || n > VAL_OPTION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* Control characters (newline above all) would start a new
		 * config line; ';' separates runtime-API commands; '#' would
		 * silently comment out the rest of a rendered line. */
		if (c < 0x20 || c > 0x7e || c == ';' || c == '#')
			return false;
		if (c == '$' && (s[i + 1] == '{' || s[i + 1] == '_' ||
		    isalpha((unsigned char)s[i + 1])))
			return false;
		if (c != ' ')
			blank = false;
	}
	return !blank;
}

#define VAL_OPTION_WHY	"empty, too long, or holds a newline or other " \
	"control character, ';', '#' or '$NAME'"

const char *
val_option_why(const char *s)
{
	return val_option(s) ? NULL : VAL_OPTION_WHY;
}

const char *
val_listen_line(const char *s)
{
	return val_option(s) ? hkw_listen_line(s) : VAL_OPTION_WHY;
}

const char *
val_defaults_line(const char *s)
{
	return val_option(s) ? hkw_defaults_line(s) : VAL_OPTION_WHY;
}

const char *
val_global_line(const char *s)
{
	return val_option(s) ? hkw_global_line(s) : VAL_OPTION_WHY;
}

/* What HAProxy's parse_line() makes of an option: quotes dropped and
 * backslash escapes resolved ("\x41", "\n", "\ "; none in '...'), into
 * out (room for strlen(s) + 1). Returns its length: "\x00" is a byte. */
static size_t
val_unquote(const char *s, char *out)
{
	char *o = out;
	bool sq = false, dq = false;

	for (; *s != '\0'; s++) {
		if (*s == '"' && !sq)
			dq = !dq;
		else if (*s == '\'' && !dq)
			sq = !sq;
		else if (*s != '\\' || sq)
			*o++ = *s;
		else if (s[1] == 'n' || s[1] == 'r' || s[1] == 't') {
			*o++ = s[1] == 'n' ? '\n' : s[1] == 'r' ? '\r' : '\t';
			s++;
		} else if (s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			char hex[3] = { s[2], s[3], '\0' };
			*o++ = (char)strtol(hex, NULL, 16);
			s += 3;
		} else if (s[1] != '\0' && strchr(" \\#'\"", s[1]) != NULL) {
			*o++ = s[1];
			s++;
		} else
			*o++ = '\\';
	}
	*o = '\0';
	return (size_t)(o - out);
}

const char *
val_option_unsafe(const char *s, bool runtime)
{
	char *u = xmalloc(strlen(s) + 1), prev = '\0';
	size_t n = val_unquote(s, u);
	const char *why = NULL;

	for (size_t i = 0; i < n && why == NULL; i++)
		if ((unsigned char)u[i] < 0x20 || (unsigned char)u[i] > 0x7e)
			why = "an escape that HAProxy turns into a control "
			    "character";
		else if (u[i] == '\\' && (u[i + 1] == 'n' || u[i + 1] == 'r' ||
		    u[i + 1] == 't'))
			why = "'\\n', '\\r' or '\\t' that a fetch argument turns "
			    "into a control character";
	if (why == NULL && strcasestr(u, "env(") != NULL)
		why = "the env() fetch (HAProxy's environment is not a "
		    "service's to read)";
	free(u);
	if (why != NULL || !runtime)
		return why;
	/* HAProxy's CLI drops backslashes before it looks for "<<" too. */
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '<' && prev == '<')
			return "'<<', which switches HAProxy's CLI to payload "
			    "mode";
		if (*c != '\\')
			prev = *c;
	}
	if (s[0] != '\0' && s[strlen(s) - 1] == '\\')
		return "a trailing '\\', which escapes the end of a runtime "
		    "command";
	return NULL;
}

bool
val_ipv6(const char *s)
{
	struct in6_addr a6;

	return inet_pton(AF_INET6, s, &a6) == 1;
}

bool
val_ip(const char *s)
{
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 || val_ipv6(s);
}

bool
val_host(const char *s)
{
	struct in_addr a4;
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > VAL_HOST_MAX)
		return false;
	if (inet_pton(AF_INET, s, &a4) == 1 || val_ipv6(s))
		return true;
	/* RFC 1123 host name: labels of [A-Za-z0-9-], 1..63, no leading or
	 * trailing '-'; a trailing dot is allowed. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	if (label > 0 && s[n - 1] == '-')
		return false;
	/* An all-numeric last label is a mistyped address ("10.0.0.300"),
	 * which the resolver would read in surprising ways ("10.1"). */
	size_t end = label == 0 ? n - 1 : n, start = end;
	while (start > 0 && s[start - 1] != '.')
		start--;
	for (size_t i = start; i < end; i++)
		if (!isdigit((unsigned char)s[i]))
			return true;
	return false;
}

bool
val_srv_name(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > VAL_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if ((!isalnum(c) && c != '-' && c != '_') || ++label > 63)
			return false;
	}
	return true;
}

bool
val_zk_path(const char *s)
{
	const char *p = s;

	if (s[0] != '/' || strlen(s) > 1024)
		return false;
	if (s[1] == '\0')
		return true;
	while (*p == '/') {
		const char *start = ++p;
		while (*p != '\0' && *p != '/') {
			if (*p <= ' ' || *p > '~')
				return false;
			p++;
		}
		size_t len = (size_t)(p - start);
		if (len == 0 || (len == 1 && start[0] == '.') ||
		    (len == 2 && start[0] == '.' && start[1] == '.'))
			return false;
	}
	return *p == '\0';
}

bool
val_zk_servers(const char *s)
{
	const char *chroot = strchr(s, '/');
	char *list = xstrdup(s), *item, *save = NULL;
	bool ok = true;
	int count = 0;

	if (chroot != NULL) {
		if (!val_zk_path(chroot)) {
			free(list);
			return false;
		}
		list[chroot - s] = '\0';
	}
	if (list[0] == '\0' || list[0] == ',' ||
	    list[strlen(list) - 1] == ',' || strstr(list, ",,") != NULL)
		ok = false;
	for (item = strtok_r(list, ",", &save); ok && item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(item, ':'), *end;
		long port;

		count++;
		if (colon == NULL) {
			ok = false;
			break;
		}
		*colon = '\0';
		port = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || port < 1 ||
		    port > 65535)
			ok = false;
		/* "[::1]:2181" as well as a bare host. */
		else if (item[0] == '[' && item[strlen(item) - 1] == ']') {
			item[strlen(item) - 1] = '\0';
			ok = val_ipv6(item + 1);
		} else
			ok = val_host(item);
	}
	free(list);
	return ok && count > 0;
}
