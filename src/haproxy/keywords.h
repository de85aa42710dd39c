/* HAProxy's configuration keywords, in one place: which words may start a
 * line of a proxy section (listen, frontend, backend, defaults) and which
 * open a section. HAProxy ignores indentation, so a line that starts with
 * a section keyword leaves the section proxymgrd rendered it in; an
 * allowlist of proxy keywords, unlike a list of section names, does not
 * trail new HAProxy versions (namespace_list, crt-store, traces, acme...).
 *
 * Each function takes a line that already passed val_option and returns
 * NULL if it may be rendered there, else why not: a fixed text that quotes
 * nothing of the line (it may come from a file that holds secrets). */
#ifndef PM_HAP_KEYWORDS_H
#define PM_HAP_KEYWORDS_H

/* A line of a service's listen section (listen_options): a proxy keyword,
 * and not one proxymgrd renders itself (bind, server, server-template). */
const char *hkw_listen_line(const char *line);
/* A line of the defaults section (haproxy.defaults): a proxy keyword. */
const char *hkw_defaults_line(const char *line);
/* A line of the global section (haproxy.global, the operator's): any word
 * but a section keyword, a '.' directive or a '[' scope, and a first word
 * without quotes or backslashes (HAProxy unquotes it before matching). */
const char *hkw_global_line(const char *line);

#endif
