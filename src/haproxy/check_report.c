#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "haproxy/check_report.h"
#include "util.h"

static void
check_report_add_line(struct check_report *r, int line)
{
	r->lines = xrealloc(r->lines, (r->nlines + 1) * sizeof(int));
	r->lines[r->nlines++] = line;
}

static void
check_report_add_str(char ***v, size_t *n, const char *s, size_t len)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[*n] = xmalloc(len + 1);
	memcpy((*v)[*n], s, len);
	(*v)[*n][len] = '\0';
	(*n)++;
}

/* Where the message of an alert of process pid starts: after HAProxy's
 * header "[ALERT]    (PID) : " and its "config : " context. NULL for any
 * other line, so that a line that only looks like an alert (a service's
 * text after a line break) is not read as one. */
static const char *
check_report_message(const char *line, int pid)
{
	const char *p;
	char *end;
	long n;

	if (strncmp(line, "[ALERT] ", 8) != 0)
		return NULL;
	p = line + 8;
	while (*p == ' ')
		p++;
	if (*p++ != '(' || !isdigit((unsigned char)*p))
		return NULL;
	n = strtol(p, &end, 10);
	if (n != pid || strncmp(end, ") : ", 4) != 0)
		return NULL;
	p = end + 4;
	if (strncmp(p, "config : ", 9) == 0)
		p += 9;
	return p;
}

/* The message starts with "[FILE:N]" (a parse error, or a server's
 * context) or "parsing [FILE:N]": the position HAProxy gives. FILE is
 * compared whole, so ':' or ']' in its path do not matter. */
static void
check_report_scan_line(struct check_report *r, const char *msg,
    const char *file)
{
	size_t flen = strlen(file);
	const char *p = msg, *d;

	if (strncmp(p, "parsing ", 8) == 0)
		p += 8;
	if (p[0] != '[' || strncmp(p + 1, file, flen) != 0 ||
	    p[1 + flen] != ':')
		return;
	p += 2 + flen;
	for (d = p; isdigit((unsigned char)*d); d++)
		;
	if (d > p && d - p < 10 && *d == ']')
		check_report_add_line(r, atoi(p));
}

/* The message starts with "Proxy 'NAME'" (either case): HAProxy's checks
 * after parsing, which have no line, name the section there. */
static void
check_report_scan_proxy(struct check_report *r, const char *msg)
{
	const char *end;

	if (strncasecmp(msg, "proxy '", 7) != 0 ||
	    (end = strchr(msg + 7, '\'')) == NULL || end == msg + 7)
		return;
	check_report_add_str(&r->proxies, &r->nproxies, msg + 7,
	    (size_t)(end - (msg + 7)));
}

void
check_report_parse(const char *output, int pid, const char *file,
    struct check_report *r)
{
	const char *p = output;

	memset(r, 0, sizeof(*r));
	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n'), *msg;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xmalloc(len + 1);

		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "[ALERT]", 7) == 0)
			check_report_add_str(&r->alerts, &r->nalerts, line, len);
		if ((msg = check_report_message(line, pid)) != NULL) {
			check_report_scan_line(r, msg, file);
			check_report_scan_proxy(r, msg);
		}
		free(line);
		p = eol ? eol + 1 : NULL;
	}
}

void
check_report_free(struct check_report *r)
{
	for (size_t i = 0; i < r->nproxies; i++)
		free(r->proxies[i]);
	for (size_t i = 0; i < r->nalerts; i++)
		free(r->alerts[i]);
	free(r->lines);
	free(r->proxies);
	free(r->alerts);
	memset(r, 0, sizeof(*r));
}
