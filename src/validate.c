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
