#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "validate.h"
#include "watchers/hostfile.h"

static int
hostfile_parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int
hostfile_parse_entry(const char *entry, char *host, size_t hostlen, int *port,
    char **err)
{
	const char *colon, *hstart;
	size_t hlen;

	if (entry[0] == '[') {
		const char *close = strchr(entry, ']');
		if (close == NULL || close[1] != ':')
			return set_err(err, "'%s' is not [IPv6]:port", entry);
		hstart = entry + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(entry, ':');
		if (colon == NULL)
			return set_err(err, "'%s' has no port (expected host:port)",
			    entry);
		if (memchr(entry, ':', (size_t)(colon - entry)) != NULL)
			return set_err(err, "'%s': write IPv6 addresses as "
			    "[address]:port", entry);
		hstart = entry;
		hlen = (size_t)(colon - entry);
	}
	if (hlen == 0 || hlen >= hostlen)
		return set_err(err, "'%s' has no valid host", entry);
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	if (entry[0] == '[' ? !val_ipv6(host) : !val_host(host))
		return set_err(err, "'%s' is not a valid host name or address",
		    host);
	if (hostfile_parse_port(colon + 1, port) == -1)
		return set_err(err, "'%s' is not a port (1-65535)", colon + 1);
	return 0;
}

/* Whether a rejected line may be quoted in the log. A service can point
 * the file watcher at any readable file; only text that could have been
 * meant as host:port is shown, never arbitrary content (password and key
 * files hold '$', '/', '=' or non-ASCII bytes). */
static bool
hostfile_quotable(const char *s)
{
	size_t n = strlen(s);

	if (n > VAL_HOST_MAX + 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(".:[]_;-+% \t", s[i]) == NULL)
			return false;
	return true;
}

int
hostfile_parse(const char *text, size_t textlen, const char *path,
    struct server_list *out, hostfile_error_cb on_error, void *arg)
{
	const char *p = text, *end = text + textlen;
	int lineno = 0, bad = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		char *line = xmalloc(len + 1), *s, *e;
		char host[VAL_HOST_MAX + 1], *err = NULL;
		bool nul = memchr(p, '\0', len) != NULL;
		int port;

		lineno++;
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (eol ? 1 : 0);

		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (*s == '\0' && !nul) {
			free(line);
			continue;
		}
		/* A NUL would cut the line (and, read as a C string, the
		 * file) short without a word: refuse the line instead. */
		if (nul)
			set_err(&err, "a NUL byte (line not shown)");
		else if (!hostfile_quotable(s))
			set_err(&err, "not a host:port entry (line not shown)");
		else if (strpbrk(s, " \t") != NULL)
			set_err(&err, "'%s': one host:port per line", s);
		else
			hostfile_parse_entry(s, host, sizeof(host), &port, &err);
		if (err != NULL) {
			char *msg = xasprintf("%s:%d: %s", path, lineno, err);
			bad++;
			if (on_error != NULL)
				on_error(msg, arg);
			free(msg);
			free(err);
		} else
			srvlist_add(out, host, port);
		free(line);
	}
	srvlist_finish(out);
	return bad;
}
