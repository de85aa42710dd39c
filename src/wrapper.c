#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirwatch.h"
#include "haproxy/listener.h"
#include "log.h"
#include "pmconfig.h"
#include "snapshot.h"
#include "util.h"
#include "wrapper.h"

struct wrapper_held {
	char		*name;
	struct listener	*listener;
};

struct wrapper {
	uv_loop_t		*loop;
	wrapper_change_cb	 on_change;
	void			*ctx;
	struct wrapper_held	*held;
	size_t			 nheld;
	unsigned long		 generation;
	char			*watched;	/* user_config path */
	char			*base;		/* its basename */
	struct dirwatch		*dw;
};

struct wrapper *
wrapper_new(uv_loop_t *loop, wrapper_change_cb on_change, void *ctx)
{
	struct wrapper *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->on_change = on_change;
	w->ctx = ctx;
	return w;
}

static void
wrapper_on_dir(void *arg, const char *filename)
{
	struct wrapper *w = arg;
	char *why;

	/* Editors' and atomic writers' temp files are not the config. */
	if (filename != NULL && strcmp(filename, w->base) != 0)
		return;
	if (w->on_change == NULL)
		return;
	why = xasprintf("%s changed on disk", w->watched);
	w->on_change(w->ctx, why);
	free(why);
}

static void
wrapper_dw_closed(void *arg)
{
	(void)arg;
}

static void
wrapper_watch(struct wrapper *w, const char *path)
{
	char *dir, *err = NULL;
	const char *slash;

	if (w->watched != NULL && path != NULL && strcmp(w->watched, path) == 0)
		return;
	if (w->dw != NULL)
		dirwatch_stop(w->dw, wrapper_dw_closed);
	w->dw = NULL;
	free(w->watched);
	free(w->base);
	w->watched = w->base = NULL;
	if (path == NULL || w->on_change == NULL)
		return;
	w->watched = xstrdup(path);
	slash = strrchr(path, '/');
	w->base = xstrdup(slash ? slash + 1 : path);
	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xasprintf("%.*s", (int)(slash - path), path);
	/* dirwatch keeps trying a directory that is not there yet. */
	if (dirwatch_start(w->loop, dir, wrapper_on_dir, w, &w->dw, &err) == -1) {
		log_warnx("%s (retrying)", err);
		free(err);
	}
	free(dir);
}

static struct listener *
wrapper_find(struct wrapper *w, const struct pm_listener *pl)
{
	for (size_t i = 0; i < w->nheld; i++) {
		struct listener *l = w->held[i].listener;
		if (strcmp(w->held[i].name, pl->name) == 0 &&
		    l->port == pl->port && strcmp(l->addr, pl->addr) == 0)
			return l;
	}
	return NULL;
}

int
wrapper_configure(struct wrapper *w, const struct pm_config *cfg, char **err)
{
	struct wrapper_held *held;
	size_t n = 0;
	int rc = 0;

	held = xcalloc(cfg->nlisteners ? cfg->nlisteners : 1, sizeof(*held));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct pm_listener *pl = &cfg->listeners[i];
		struct listener *l = wrapper_find(w, pl);
		char *why = NULL;

		if (l != NULL)
			listener_ref(l);
		else if (listener_acquire(pl->addr, pl->port, &l, &why) == -1) {
			if (rc == 0)
				set_err(err, "listener %s: %s", pl->name, why);
			else
				log_warnx("listener %s: %s", pl->name, why);
			free(why);
			rc = -1;
			continue;
		}
		held[n].name = xstrdup(pl->name);
		held[n].listener = l;
		n++;
	}
	for (size_t i = 0; i < w->nheld; i++) {
		free(w->held[i].name);
		listener_release(w->held[i].listener);
	}
	free(w->held);
	w->held = held;
	w->nheld = n;
	wrapper_watch(w, cfg->user_config);
	return rc;
}

void
wrapper_bump(struct wrapper *w)
{
	w->generation++;
}

void
wrapper_attach(struct wrapper *w, struct snapshot *snap,
    const struct pm_config *cfg)
{
	snap->generation = w->generation;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct pm_listener *pl = &cfg->listeners[i];
		struct listener *l = wrapper_find(w, pl);
		char *err = NULL;

		if (l != NULL) {
			snapshot_add_named(snap, pl->name, l);
			continue;
		}
		/* Could not be bound when configured: try again now. */
		if (listener_acquire(pl->addr, pl->port, &l, &err) == -1) {
			log_warnx("listener %s: %s; ${%s} stays unset", pl->name,
			    err, pl->name);
			free(err);
			continue;
		}
		w->held = xrealloc(w->held, (w->nheld + 1) * sizeof(*w->held));
		w->held[w->nheld].name = xstrdup(pl->name);
		w->held[w->nheld].listener = l;
		w->nheld++;
		snapshot_add_named(snap, pl->name, l);
	}
	if (cfg->user_config != NULL) {
		size_t len;
		char *why = NULL;
		snap->user_config = xstrdup(cfg->user_config);
		snap->user_text = read_file(cfg->user_config,
		    READ_FILE_CONFIG_MAX, &len, &why);
		if (snap->user_text == NULL)
			log_warnx("cannot read %s: %s", cfg->user_config, why);
		free(why);
	}
}

void
wrapper_free(struct wrapper *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nheld; i++) {
		free(w->held[i].name);
		listener_release(w->held[i].listener);
	}
	free(w->held);
	if (w->dw != NULL)
		dirwatch_stop(w->dw, wrapper_dw_closed);
	free(w->watched);
	free(w->base);
	free(w);
}

int
wrapper_pidfile_write(const char *path, char **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	return write_file_atomic(path, buf, (size_t)n, err);
}

void
wrapper_pidfile_remove(const char *path)
{
	if (path != NULL && unlink(path) == -1 && errno != ENOENT)
		log_warn("removing %s", path);
}
