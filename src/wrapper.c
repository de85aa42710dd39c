#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A --watch path, a -f after "--" or the --env-file: a file (its
 * directory watched, events for its name or a "..data" swap count if its
 * content changed) or a directory (any event for a file in it). */
struct wrapper_xwatch {
	struct wrapper		*w;
	char			*path;
	char			*base;		/* NULL: a directory */
	unsigned long		 hash;		/* a file's content */
	bool			 env;		/* the --env-file */
	struct dirwatch		*dw;
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
	struct wrapper_xwatch	**xw;		/* each the arg of its dirwatch */
	size_t			 nxw;
	/* --env-file as last read well, for HAProxy's environment. */
	char			*env_path;
	char			**env;
	bool			 env_read;	/* once, well */
	struct pm_config	*cfg;		/* the last configured (a ref) */
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

static int wrapper_read_env(struct wrapper *w, const struct pm_config *cfg,
    char **err);

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
wrapper_on_dir(void *arg, const char *filename, enum dirwatch_kind kind)
{
	struct wrapper *w = arg;
	char *why, *before;
	bool same;

	(void)kind;
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
	if (w->cfg != NULL)
		(void)wrapper_read_env(w, w->cfg, NULL);
	why = xasprintf("%s changed on disk", w->watched);
	w->on_change(w->ctx, why);
	free(why);
}

static void
wrapper_dw_closed(void *arg)
{
	(void)arg;
}

/* Names proxymgrd, HAProxy or the system give a meaning of their own. */
static bool
wrapper_env_reserved(const char *name)
{
	static const char *const exact[] = { "NOTIFY_SOCKET", NULL };
	static const char *const prefix[] = { "HAPROXY_", "LISTEN_", "LD_",
	    "PROXYMGRD_", NULL };

	if (str_in(name, exact))
		return true;
	for (size_t i = 0; prefix[i] != NULL; i++)
		if (strncmp(name, prefix[i], strlen(prefix[i])) == 0)
			return true;
	return false;
}

int
wrapper_env_parse(const char *path, const char *text, size_t len,
    const struct pm_config *cfg, char ***out, char **err)
{
	char **env = xcalloc(1, sizeof(*env));
	size_t n = 0;
	int lineno = 0;

	*out = NULL;
	if (strlen(text) != len) {
		for (const char *p = text; p < text + strlen(text); p++)
			lineno += *p == '\n';
		strv_free(env);
		return set_err(err, "%s:%d: a NUL byte", path, lineno + 1);
	}
	for (const char *p = text; *p != '\0'; ) {
		const char *nl = strchr(p, '\n'), *eq, *name;
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xasprintf("%.*s", (int)ll, p), *v, *k;
		size_t vl, nl2;

		p += ll + (nl != NULL);
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		name = line + strspn(line, " \t");
		if (*name == '\0' || *name == '#') {
			free(line);
			continue;
		}
		if (strncmp(name, "export ", 7) == 0)
			name += 7 + strspn(name + 7, " \t");
		if ((eq = strchr(name, '=')) == NULL) {
			set_err(err, "%s:%d: expected NAME=VALUE", path, lineno);
			goto fail_line;
		}
		k = xasprintf("%.*s", (int)(eq - name), name);
		if (k[0] == '\0' || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k) ||
		    (k[0] >= '0' && k[0] <= '9')) {
			set_err(err, "%s:%d: '%s' is not a variable name "
			    "([A-Za-z_][A-Za-z0-9_]*)", path, lineno, k);
			free(k);
			goto fail_line;
		}
		if (wrapper_env_reserved(k)) {
			set_err(err, "%s:%d: %s is proxymgrd's or HAProxy's own "
			    "(HAPROXY_*, LISTEN_*, LD_*, PROXYMGRD_*, "
			    "NOTIFY_SOCKET): not settable here", path, lineno, k);
			free(k);
			goto fail_line;
		}
		for (size_t i = 0; cfg != NULL && i < cfg->nlisteners; i++) {
			if (strcmp(cfg->listeners[i].name, k) != 0)
				continue;
			set_err(err, "%s:%d: %s is the named listener's fd "
			    "(-s %s=...): not settable here", path, lineno, k,
			    k);
			free(k);
			goto fail_line;
		}
		/* A value in matching quotes loses them. */
		v = xstrdup(eq + 1);
		vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[vl - 1] == v[0]) {
			memmove(v, v + 1, vl - 2);
			v[vl - 2] = '\0';
		}
		/* A name given again: the later line counts. */
		nl2 = strlen(k);
		size_t j;
		for (j = 0; j < n; j++)
			if (strncmp(env[j], k, nl2) == 0 && env[j][nl2] == '=')
				break;
		if (j == n) {
			env = xrealloc(env, (n + 2) * sizeof(*env));
			env[++n] = NULL;
		} else
			free(env[j]);
		env[j] = xasprintf("%s=%s", k, v);
		free(k);
		free(v);
		free(line);
		continue;
fail_line:
		free(line);
		strv_free(env);
		return -1;
	}
	*out = env;
	return 0;
}

/* Read the --env-file again. A file that cannot be read or parsed keeps
 * the last good environment (logged), and is an error with *err at the
 * first read. */
static int
wrapper_read_env(struct wrapper *w, const struct pm_config *cfg, char **err)
{
	char *text, *why = NULL, **env;
	size_t len;

	if (cfg->env_file == NULL) {
		strv_free(w->env);
		w->env = NULL;
		free(w->env_path);
		w->env_path = NULL;
		return 0;
	}
	if (w->env_path == NULL || strcmp(w->env_path, cfg->env_file) != 0) {
		free(w->env_path);
		w->env_path = xstrdup(cfg->env_file);
		w->env_read = false;
	}
	text = read_file(cfg->env_file, READ_FILE_CONFIG_MAX, &len, &why);
	if (text == NULL) {
		char *m = xasprintf("--env-file %s: %s", cfg->env_file, why);
		free(why);
		why = m;
	} else if (wrapper_env_parse(cfg->env_file, text, len, cfg, &env,
	    &why) == 0) {
		free(text);
		strv_free(w->env);
		w->env = env;
		w->env_read = true;
		return 0;
	}
	free(text);
	if (!w->env_read) {
		set_err(err, "%s", why);
		if (err == NULL)
			log_warnx("%s", why);
	} else
		log_warnx("%s; HAProxy keeps the environment last read",
		    why);
	free(why);
	return -1;
}

static unsigned long
wrapper_hash_file(const char *path)
{
	char *text = read_file(path, READ_FILE_CONFIG_MAX, NULL, NULL);
	unsigned long h = 2166136261UL;

	if (text == NULL)
		return 0;
	for (const unsigned char *c = (unsigned char *)text; *c; c++)
		h = (h ^ *c) * 16777619UL;
	free(text);
	return h;
}

static void
wrapper_on_xdir(void *arg, const char *filename, enum dirwatch_kind kind)
{
	struct wrapper_xwatch *x = arg;
	struct wrapper *w = x->w;
	unsigned long h;
	char *why;

	(void)kind;
	if (x->base != NULL) {
		if ((h = wrapper_hash_file(x->path)) == x->hash)
			return;
		x->hash = h;
	} else if (filename != NULL && filename[0] == '.')
		return;		/* editors' and atomic writers' temp files */
	if (x->env && w->cfg != NULL)
		(void)wrapper_read_env(w, w->cfg, NULL);
	/* Not a part of the snapshot (but the env): reload all the same. */
	w->generation++;
	why = xasprintf("%s changed on disk", filename != NULL && x->base ==
	    NULL ? filename : x->path);
	w->on_change(w->ctx, why);
	free(why);
}

static void
wrapper_xwatch_stop(struct wrapper *w)
{
	for (size_t i = 0; i < w->nxw; i++) {
		if (w->xw[i]->dw != NULL)
			dirwatch_stop(w->xw[i]->dw, wrapper_dw_closed);
		free(w->xw[i]->path);
		free(w->xw[i]->base);
		free(w->xw[i]);
	}
	free(w->xw);
	w->xw = NULL;
	w->nxw = 0;
}

/* A directory at start is watched as one; anything else (a file, or
 * nothing yet) as a file in its directory. */
static void
wrapper_xwatch_add(struct wrapper *w, const char *path, bool env)
{
	struct wrapper_xwatch *x;
	struct stat st;
	const char *slash = strrchr(path, '/');
	char *dir, *err = NULL;

	w->xw = xrealloc(w->xw, (w->nxw + 1) * sizeof(*w->xw));
	x = w->xw[w->nxw++] = xcalloc(1, sizeof(*x));
	x->w = w;
	x->env = env;
	x->path = xstrdup(path);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		dir = xstrdup(path);
	else {
		x->base = xstrdup(slash ? slash + 1 : path);
		x->hash = wrapper_hash_file(path);
		dir = slash == NULL ? xstrdup(".") : slash == path ?
		    xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
	}
	if (dirwatch_start(w->loop, dir, x->base, wrapper_on_xdir, x, &x->dw,
	    &err) == -1) {
		log_warnx("%s (retrying)", err);
		free(err);
	}
	free(dir);
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
	/* Editors' and atomic writers' temp files are not the config. */
	if (dirwatch_start(w->loop, dir, w->base, wrapper_on_dir, w, &w->dw,
	    &err) == -1) {
		log_warnx("%s (retrying)", err);
		free(err);
	}
	free(dir);
}

int
wrapper_configure(struct wrapper *w, const struct pm_config *cfg, char **err)
{
	struct wrapper_held *held;
	int rc;

	/* Wanted before the old ones are let go: a listener both lists name
	 * keeps its socket. */
	held = xcalloc(cfg->nlisteners ? cfg->nlisteners : 1, sizeof(*held));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		held[i].name = xstrdup(cfg->listeners[i].name);
		held[i].listener = listener_want(cfg->listeners[i].addr,
		    cfg->listeners[i].port);
		listener_set_backlog(held[i].listener,
		    cfg->listeners[i].backlog);
	}
	for (size_t i = 0; i < w->nheld; i++) {
		free(w->held[i].name);
		listener_release(w->held[i].listener);
	}
	free(w->held);
	w->held = held;
	w->nheld = cfg->nlisteners;
	pmconfig_ref((struct pm_config *)cfg);
	pmconfig_unref(w->cfg);
	w->cfg = (struct pm_config *)cfg;
	wrapper_watch(w, cfg->no_watch ? NULL : cfg->user_config);
	wrapper_read(w, cfg->user_config);
	rc = wrapper_read_env(w, cfg, err);
	/* The command line's: set once. */
	if (w->nxw == 0 && w->on_change != NULL && !cfg->no_watch) {
		for (size_t i = 0; cfg->watch != NULL && cfg->watch[i] != NULL;
		    i++)
			wrapper_xwatch_add(w, cfg->watch[i], false);
		if (cfg->env_file != NULL)
			wrapper_xwatch_add(w, cfg->env_file, true);
	}
	return rc;
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
	if (w->cfg != NULL)
		(void)wrapper_read_env(w, w->cfg, NULL);
}

void
wrapper_attach(struct wrapper *w, struct snapshot *snap,
    const struct pm_config *cfg)
{
	snap->generation = w->generation;
	if (cfg->env_file != NULL && w->env != NULL)
		snap->env = strv_dup(w->env);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct pm_listener *pl = &cfg->listeners[i];
		struct listener *l = listener_want(pl->addr, pl->port);
		const char *why = listener_failure(l);

		listener_set_backlog(l, pl->backlog);
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
	wrapper_xwatch_stop(w);
	free(w->watched);
	free(w->base);
	free(w->text_path);
	free(w->text);
	free(w->env_path);
	strv_free(w->env);
	pmconfig_unref(w->cfg);
	free(w);
}

int
wrapper_pidfile_write(const char *path, char **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	/* Readable, as pidfiles are, for `kill -HUP $(cat FILE)`. */
	return write_file_atomic_mode(path, buf, (size_t)n, 0644, err);
}

void
wrapper_pidfile_remove(const char *path)
{
	if (path != NULL && unlink(path) == -1 && errno != ENOENT)
		log_warn("removing %s", path);
}
