#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

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
		if (c != ' ')
			blank = false;
	}
	return !blank;
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
	return label == 0 || s[n - 1] != '-';
}
