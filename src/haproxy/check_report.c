#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

/* "[file:N]" anywhere in the line; the file name may hold ':' itself but
 * holds a '/' (proxymgrd passes paths), which tells it from an address
 * such as "[::1]" or "[2001:db8::10]" quoted in the alert. */
static void
check_report_scan_lines(struct check_report *r, const char *line,
    const char *file)
{
	const char *p = line;

	while ((p = strchr(p, '[')) != NULL) {
		const char *close = strchr(p, ']'), *colon;
		if (close == NULL)
			return;
		colon = close;
		while (colon > p && colon[-1] != ':')
			colon--;
		if (colon > p + 1 && colon < close &&
		    isdigit((unsigned char)*colon) &&
		    memchr(p, '/', (size_t)(colon - p)) != NULL) {
			const char *d = colon;
			while (d < close && isdigit((unsigned char)*d))
				d++;
			if (d == close && (file == NULL ||
			    (strlen(file) == (size_t)(colon - 1 - (p + 1)) &&
			    strncmp(p + 1, file, strlen(file)) == 0)))
				check_report_add_line(r, atoi(colon));
		}
		p = close + 1;
	}
}

/* "proxy 'NAME'" in any case: alerts about a whole section. */
static void
check_report_scan_proxies(struct check_report *r, const char *line)
{
	const char *p = line;

	while ((p = strcasestr(p, "proxy '")) != NULL) {
		const char *start = p + 7, *end = strchr(start, '\'');
		if (end == NULL)
			return;
		check_report_add_str(&r->proxies, &r->nproxies, start,
		    (size_t)(end - start));
		p = end + 1;
	}
}

void
check_report_parse(const char *output, const char *file,
    struct check_report *r)
{
	const char *p = output;

	memset(r, 0, sizeof(*r));
	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xmalloc(len + 1);

		memcpy(line, p, len);
		line[len] = '\0';
		if (strstr(line, "[ALERT]") != NULL) {
			check_report_add_str(&r->alerts, &r->nalerts, line, len);
			check_report_scan_lines(r, line, file);
			check_report_scan_proxies(r, line);
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
