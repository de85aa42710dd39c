/* HAProxy's configuration keywords, in one place: which words may start a
 * line of a proxy section (listen, frontend, backend, defaults) and which
 * open a section; how to find a keyword's line and its arguments; and
 * which balance algorithms and server keywords HAProxy takes at runtime. HAProxy ignores indentation, so a line that starts with
 * a section keyword leaves the section proxymgrd rendered it in; an
 * allowlist of proxy keywords, unlike a list of section names, does not
 * trail new HAProxy versions (namespace_list, crt-store, traces, acme...).
 *
 * Each function takes a line that already passed val_option and returns
 * NULL if it may be rendered there, else why not: a fixed text that quotes
 * nothing of the line (it may come from a file that holds secrets). */
#ifndef PM_HAP_KEYWORDS_H
#define PM_HAP_KEYWORDS_H

#include <stdbool.h>

/* A line of a service's listen section (listen_options): a proxy keyword,
 * and not one proxymgrd renders itself (bind, server, server-template). */
const char *hkw_listen_line(const char *line);
/* A line of the defaults section (haproxy.defaults): a proxy keyword. */
const char *hkw_defaults_line(const char *line);
/* A line of the global section (haproxy.global, the operator's): any word
 * but a section keyword, a '.' directive or a '[' scope, and a first word
 * without quotes or backslashes (HAProxy unquotes it before matching). */
const char *hkw_global_line(const char *line);

/* Scanning lines that passed the checks above (HAProxy splits words on
 * spaces and tabs, and ignores indentation). */

/* Whether the first word of line is kw; if so and args is not NULL,
 * *args points at its arguments (past the blanks after kw). */
bool hkw_line_is(const char *line, const char *kw, const char **args);
/* Whether a line of lines (NULL-terminated, or NULL) starts with kw. */
bool hkw_lines_have(char *const *lines, const char *kw);
/* Whether a global section of a whole haproxy.cfg text (a hand-written
 * one; NULL: none) has a line that starts with kw. */
bool hkw_text_global_has(const char *text, const char *kw);
/* The arguments of the last line that starts with kw in listen (a
 * service's listen_options), else in defaults, or NULL: a section's own
 * line wins over the defaults. Either list may be NULL. */
const char *hkw_last(char *const *defaults, char *const *listen,
    const char *kw);
/* Whether an item of opts (each may hold several words, as
 * server_options do) holds the word w. */
bool hkw_has_word(char *const *opts, const char *w);

/* Whether a line of lines sets, unsets or resets `option OPT` (with or
 * without `no` or `default` before it). */
bool hkw_option_named(char *const *lines, const char *opt);
/* Whether a proxy with these defaults and listen lines runs in HTTP
 * mode: the last `mode` (listen, else defaults) says http. */
bool hkw_mode_http(char *const *defaults, char *const *listen);

/* Whether the last `balance` (listen, else defaults; roundrobin if none)
 * takes dynamic servers and weights other than 0% and 100% in HAProxy
 * 2.6: roundrobin, leastconn, first, random, or a hash one with
 * `hash-type consistent`. Fills *why if not. */
bool hkw_balance_dynamic(char *const *defaults, char *const *listen,
    const char **why);
/* The first keyword of server_options that HAProxy 2.6.12's `add server`
 * refuses (checked against it; "enabled" it takes but can leave the
 * backend with no active server), or NULL. */
const char *hkw_add_server_refused(char *const *server_options);

#endif
