/* proxymgrd as a hitless-reload wrapper around a hand-written haproxy.cfg
 * (RAProxy, multibinder, haproxy-reload-wrapper): named listeners held by
 * proxymgrd and passed as "bind fd@${NAME}", the user's file watched on
 * disk, and SIGHUP reloading even when nothing differs (certificates and
 * map files the config names are not watched). */
#ifndef PM_WRAPPER_H
#define PM_WRAPPER_H

#include <uv.h>

struct pm_config;
struct snapshot;
struct wrapper;

typedef void (*wrapper_change_cb)(void *ctx, const char *why);

struct wrapper *wrapper_new(uv_loop_t *loop, wrapper_change_cb on_change,
    void *ctx);
/* Hold the listeners cfg names (binding new ones) and watch its
 * user_config. Returns -1 with *err if a listener cannot be had; those
 * that could are held all the same. */
int wrapper_configure(struct wrapper *w, const struct pm_config *cfg,
    char **err);
/* SIGHUP: the next snapshot differs from the live one. */
void wrapper_bump(struct wrapper *w);
/* Add the named listeners, the user config and the generation to snap. */
void wrapper_attach(struct wrapper *w, struct snapshot *snap,
    const struct pm_config *cfg);
/* Release everything; w is freed once the watch is closed. */
void wrapper_free(struct wrapper *w);

/* The pid file of RAProxy's -p: proxymgrd's own pid, so that
 * `kill -HUP $(cat FILE)` reloads. */
int wrapper_pidfile_write(const char *path, char **err);
void wrapper_pidfile_remove(const char *path);

#endif
