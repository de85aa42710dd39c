/* Service-config source "file": a directory of NAME.json files, one per
 * service. The directory is watched (by path, see dirwatch.h), so an
 * added, edited, atomically replaced or removed file adds, changes or
 * removes its service. A file renamed in or closed after writing is read
 * at once, alone; anything else (an in-place write not closed yet, a
 * removal) reads the whole directory again once it has settled. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dirwatch.h"
#include "service.h"
#include "service_config/source.h"
#include "util.h"

struct scdir {
	struct dirwatch		*dw;
	uv_timer_t		 settle;
	uv_check_t		 rescan;	/* read all after this poll */
	int			 open_handles;
	struct svcsrc_set	 set;
	bool			 unreadable_logged;
};

static void
scdir_load_file(struct svcsrc *src, struct scdir *d, const char *fname)
{
	size_t len = 0;
	char *name = xstrdup(fname), *path, *text, *err = NULL, *why = NULL;

	name[strlen(fname) - 5] = '\0';	/* strip ".json" */
	path = xasprintf("%s/%s", src->path, fname);
	if ((text = read_file(path, SVCDEF_MAX_SIZE, &len, &why)) == NULL)
		err = xasprintf("%s: cannot read: %s", path, why);
	svcsrc_set_offer(src, &d->set, name, text, len, path, err);
	free(why);
	free(err);
	free(text);
	free(path);
	free(name);
}

/* Dot files are editors' and atomic writers' temp files. */
static bool
scdir_wanted(const char *fname)
{
	size_t len = strlen(fname);

	return fname[0] != '.' && len > 5 &&
	    strcmp(fname + len - 5, ".json") == 0;
}

static void
scdir_health_detail(struct svcsrc *src, struct scdir *d)
{
	watcher_health_detail(&src->health, json_pack("{s:s, s:I, s:I}",
	    "path", src->path, "files", (json_int_t)d->set.n,
	    "invalid", (json_int_t)svcsrc_set_invalid(&d->set)));
}

static int
scdir_scan(struct svcsrc *src)
{
	struct scdir *d = src->priv;
	struct dirent *de;
	DIR *dir;

	if ((dir = opendir(src->path)) == NULL) {
		int saved = errno;
		if (!d->unreadable_logged)
			log_warn("service directory %s unreadable, keeping "
			    "every service as it is", src->path);
		watcher_health_fail(&src->health, WATCHER_ERROR, "service "
		    "directory %s unreadable: %s", src->path, strerror(saved));
		errno = saved;
		d->unreadable_logged = true;
		return -1;
	}
	d->unreadable_logged = false;
	svcsrc_set_begin(&d->set);
	while ((de = readdir(dir)) != NULL)
		if (scdir_wanted(de->d_name))
			scdir_load_file(src, d, de->d_name);
	closedir(dir);
	svcsrc_set_end(src, &d->set);
	watcher_health_ok(&src->health);
	scdir_health_detail(src, d);
	return 0;
}

static void
scdir_rescan(struct svcsrc *src)
{
	struct scdir *d = src->priv;

	if (scdir_scan(src) == 0)
		log_debug("service definitions: %zu files in %s, read again",
		    d->set.n, src->path);
}

static void
scdir_on_settle(uv_timer_t *t)
{
	scdir_rescan(t->data);
}

static void
scdir_on_rescan(uv_check_t *c)
{
	uv_check_stop(c);
	scdir_rescan(c->data);
}

static void
scdir_on_change(void *arg, const char *filename, enum dirwatch_kind kind)
{
	struct svcsrc *src = arg;
	struct scdir *d = src->priv;

	if (filename != NULL && !scdir_wanted(filename))
		return;
	if (!dirwatch_complete(kind)) {
		uv_timer_start(&d->settle, scdir_on_settle,
		    (uint64_t)src->settle_ms, 0);
		return;
	}
	/* Once for all the events of this poll; a settle under way goes on,
	 * for a writer that may not be done. */
	if (filename == NULL) {
		uv_check_start(&d->rescan, scdir_on_rescan);
		return;
	}
	/* The settle under way, if any, is for other files: it goes on. */
	log_debug("service definitions: %s/%s read at once (%s)", src->path,
	    filename, dirwatch_kind_name(kind));
	scdir_load_file(src, d, filename);
	scdir_health_detail(src, d);
}

static int
scdir_start(struct svcsrc *src, char **err)
{
	struct scdir *d = xcalloc(1, sizeof(*d));
	char *inner = NULL;

	src->priv = d;
	uv_timer_init(src->loop, &d->settle);
	uv_check_init(src->loop, &d->rescan);
	d->settle.data = d->rescan.data = src;
	d->open_handles = 3;		/* settle, rescan, and the dirwatch */
	if (dirwatch_start(src->loop, src->path, NULL, scdir_on_change, src,
	    &d->dw, &inner) == -1) {
		set_err(err, "service_config.path: %s", inner);
		free(inner);
		return -1;
	}
	if (scdir_scan(src) == -1)
		return set_err(err, "service_config.path: cannot read %s: %s",
		    src->path, strerror(errno));
	log_info("service definitions: %zu files in %s", d->set.n, src->path);
	if (src->cbs.synced != NULL)
		src->cbs.synced(src->cbs.ctx);
	return 0;
}

static void
scdir_release(void *arg)
{
	struct svcsrc *src = arg;
	struct scdir *d = src->priv;

	if (--d->open_handles > 0)
		return;
	svcsrc_set_free(&d->set);
	free(d);
	svcsrc_free(src);
}

static void
scdir_on_close(uv_handle_t *h)
{
	scdir_release(h->data);
}

static void
scdir_stop(struct svcsrc *src)
{
	struct scdir *d = src->priv;

	if (d == NULL) {
		svcsrc_free(src);
		return;
	}
	uv_close((uv_handle_t *)&d->settle, scdir_on_close);
	uv_close((uv_handle_t *)&d->rescan, scdir_on_close);
	if (d->dw != NULL)
		dirwatch_stop(d->dw, scdir_release);
	else
		scdir_release(src);
}

const struct svcsrc_ops svcsrc_dir_ops = {
	.type = "file",
	.start = scdir_start,
	.stop = scdir_stop,
};
