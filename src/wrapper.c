#include "config.h"

#include <errno.h>
#include <stdbool.h>
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
	/* The user's file as read when it last changed, configure or
	 * SIGHUP: a build copies it and reads nothing. */
	char			*text_path;
	char			*text;		/* NULL: unreadable */
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

/* Read the user's file (path, or none) into w->text. */
static void
wrapper_read(struct wrapper *w, const char *path)
{
	char *why = NULL, *copy = path ? xstrdup(path) : NULL;
	size_t len;

	/* path may be w->text_path itself. */
	free(w->text);
	free(w->text_path);
	w->text = NULL;
	w->text_path = copy;
	if (copy == NULL)
		return;
	w->text = read_file(copy, READ_FILE_CONFIG_MAX, &len, &why);
	if (w->text == NULL)
		log_warnx("cannot read %s: %s", copy, why);
	free(why);
}

/* An event naming the file is reported as a change even if the text is
 * the same (touching the file retries a reload that failed). An event
 * naming no file (a Kubernetes "..data" swap, a new directory) is
 * reported only if the text differs: a swap of the volume's other keys
 * leaves haproxy.cfg as it was. */
static void
wrapper_on_dir(void *arg, const char *filename)
{
	struct wrapper *w = arg;
	char *why, *before;
	bool same;

	/* Editors' and atomic writers' temp files are not the config. */
	if (filename != NULL && strcmp(filename, w->base) != 0)
		return;
	if (w->on_change == NULL)
		return;
	before = w->text;
	w->text = NULL;
	wrapper_read(w, w->watched);
	same = before == NULL ? w->text == NULL :
	    w->text != NULL && strcmp(before, w->text) == 0;
	free(before);
	if (filename == NULL && same) {
		log_debug("%s read again: unchanged", w->watched);
		return;
	}
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

void
wrapper_configure(struct wrapper *w, const struct pm_config *cfg)
{
	struct wrapper_held *held;

	/* Wanted before the old ones are let go: a listener both lists name
	 * keeps its socket. */
	held = xcalloc(cfg->nlisteners ? cfg->nlisteners : 1, sizeof(*held));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		held[i].name = xstrdup(cfg->listeners[i].name);
		held[i].listener = listener_want(cfg->listeners[i].addr,
		    cfg->listeners[i].port);
	}
	for (size_t i = 0; i < w->nheld; i++) {
		free(w->held[i].name);
		listener_release(w->held[i].listener);
	}
	free(w->held);
	w->held = held;
	w->nheld = cfg->nlisteners;
	wrapper_watch(w, cfg->user_config);
	wrapper_read(w, cfg->user_config);
}

int
wrapper_claim(struct wrapper *w, char **err)
{
	int rc = 0;

	for (size_t i = 0; i < w->nheld; i++) {
		char *why = NULL;

		if (listener_claim(w->held[i].listener, &why) == 0)
			continue;
		if (rc == 0)
			set_err(err, "listener %s: %s", w->held[i].name, why);
		else
			log_warnx("listener %s: %s", w->held[i].name, why);
		free(why);
		rc = -1;
	}
	return rc;
}

void
wrapper_bump(struct wrapper *w)
{
	w->generation++;
	wrapper_read(w, w->text_path);
}

void
wrapper_attach(struct wrapper *w, struct snapshot *snap,
    const struct pm_config *cfg)
{
	snap->generation = w->generation;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct pm_listener *pl = &cfg->listeners[i];
		struct listener *l = listener_want(pl->addr, pl->port);
		const char *why = listener_failure(l);

		/* The reload claims it; if that failed, the next one
		 * tries again. */
		if (why != NULL)
			log_warnx("listener %s: %s; ${%s} stays unset", pl->name,
			    why, pl->name);
		else
			snapshot_add_named(snap, pl->name, l);
		listener_release(l);
	}
	if (cfg->user_config != NULL) {
		snap->user_config = xstrdup(cfg->user_config);
		if (w->text != NULL && strcmp(w->text_path,
		    cfg->user_config) == 0)
			snap->user_text = xstrdup(w->text);
		/* What proxymgrd's part holds depends on the user's text. */
		snapshot_render(snap);
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
	free(w->text_path);
	free(w->text);
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
