/* proxymgrd as a hitless-reload wrapper around a hand-written haproxy.cfg
 * (RAProxy, multibinder, haproxy-reload-wrapper): named listeners held by
 * proxymgrd and passed as "bind fd@${NAME}", the user's file watched on
 * disk, and SIGHUP reloading even when nothing differs (certificates and
 * map files the config names are not watched). */
#ifndef PM_WRAPPER_H
#define PM_WRAPPER_H

#include <stddef.h>

#include <uv.h>

struct pm_config;
struct snapshot;
struct wrapper;

typedef void (*wrapper_change_cb)(void *ctx, const char *why);

struct wrapper *wrapper_new(uv_loop_t *loop, wrapper_change_cb on_change,
    void *ctx);
/* Want the listeners cfg names (no socket yet: a reload claims them),
 * read its user_config and env_file and watch them, and the watch paths,
 * unless no_watch (a change is read, then reported). Returns -1 with
 * *err (or logged if err is NULL) if the env file cannot be read or
 * parsed the first time; later the last good one is kept. */
int wrapper_configure(struct wrapper *w, const struct pm_config *cfg,
    char **err);
/* Claim the sockets of the listeners wanted now: at start, so that a port
 * that cannot be had stops proxymgrd at once. Returns -1 with *err if one
 * cannot be had; those that could are held all the same. */
int wrapper_claim(struct wrapper *w, char **err);
/* SIGHUP: the next snapshot differs from the live one; the user config
 * is read again. */
void wrapper_bump(struct wrapper *w);
/* Add the named listeners (but one whose port could not be claimed:
 * listener_failure), the user config's text as last read, and the
 * generation to snap. Binds nothing, reads nothing. */
void wrapper_attach(struct wrapper *w, struct snapshot *snap,
    const struct pm_config *cfg);
/* Release everything; w is freed once the watch is closed. */
void wrapper_free(struct wrapper *w);

/* --env-file's text (len bytes, from path): NAME=VALUE lines, blank
 * lines and # comments, an optional "export ", a value in matching
 * quotes loses them, a later line for a name wins. Names of cfg's
 * listeners and those proxymgrd or HAProxy own are refused. *out gets
 * the NAME=VALUE strings, or -1 with *err naming path and line. */
int wrapper_env_parse(const char *path, const char *text, size_t len,
    const struct pm_config *cfg, char ***out, char **err);

/* The pid file of --pidfile: proxymgrd's own pid, so that
 * `kill -HUP $(cat FILE)` reloads. */
int wrapper_pidfile_write(const char *path, char **err);
void wrapper_pidfile_remove(const char *path);

#endif
