/* Watcher "file": servers from a flat file of host:port lines. The file's
 * directory is watched rather than the file, so that an atomic replace
 * (write a temp file, rename it over) is seen like an in-place edit; and
 * by path (dirwatch.h), so that a directory made anew is followed too.
 * A file renamed in or closed after writing is read at once; one written
 * in place by a writer that keeps it open is read once its writes have
 * settled. */
#include "config.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "dirwatch.h"
#include "util.h"
#include "watchers/hostfile.h"
#include "watchers/watcher.h"

#define FILEW_SETTLE_MS		20	/* let in-place writes settle */

static const char *const filew_keys[] = { "file", NULL };

struct filew {
	char		*path;
	char		*dir;
	char		*base;
	struct dirwatch	*dw;
	uv_timer_t	 settle;
	enum dirwatch_kind settling;	/* what armed settle, for the log */
	uv_check_t	 now;		/* a whole file: read after this poll */
	enum dirwatch_kind whole;	/* what started now, for the log */
	int		 open_handles;
	char		*read_error;	/* why the last read failed, logged */
	size_t		 last_count;
};

static int
filew_validate(json_t *blob, char **err)
{
	json_t *v = json_object_get(blob, "file");

	if (!json_is_string(v) || json_string_length(v) == 0)
		return set_err(err, "key 'file' is required: the path of a "
		    "file of host:port lines");
	return 0;
}

static void
filew_log_line_error(const char *msg, void *arg)
{
	struct watcher *w = arg;

	log_event(LOG_LVL_WARNING, "watcher_error", w->service, NULL,
	    "service %s: %s (line skipped)", w->service, msg);
}

/* Read and parse the file; report only what is worth reporting, so that an
 * unreadable or garbled file never empties the service. */
static void
filew_read(struct watcher *w)
{
	struct filew *fw = w->priv;
	struct server_list list;
	char *text, *why = NULL;
	size_t len;
	int bad;

	watcher_health_detail(&w->health, json_pack("{s:s, s:I, s:I}",
	    "file", fw->path, "last_read", (json_int_t)wall_ms(),
	    "servers", (json_int_t)fw->last_count));
	if ((text = read_file(fw->path, HOSTFILE_MAX_SIZE, &len, &why)) ==
	    NULL) {
		/* Once per reason: a FIFO, then too big a file, is news. */
		if (fw->read_error == NULL || strcmp(fw->read_error, why) != 0)
			log_event(LOG_LVL_WARNING, "watcher_error", w->service,
			    NULL, "service %s: cannot read %s, keeping its %zu "
			    "known servers: %s", w->service, fw->path,
			    fw->last_count, why);
		watcher_health_fail(&w->health, WATCHER_ERROR,
		    "cannot read %s: %s", fw->path, why);
		free(fw->read_error);
		fw->read_error = why;
		watcher_answered(w);
		return;
	}
	free(fw->read_error);
	fw->read_error = NULL;
	srvlist_init(&list);
	bad = hostfile_parse(text, len, fw->path, &list, filew_log_line_error,
	    w);
	free(text);
	if (bad > 0 && list.n == 0) {
		log_event(LOG_LVL_WARNING, "watcher_error", w->service, NULL,
		    "service %s: no valid line in %s, keeping its %zu "
		    "known servers", w->service, fw->path, fw->last_count);
		watcher_health_fail(&w->health, WATCHER_ERROR,
		    "no valid line in %s (%d bad)", fw->path, bad);
		srvlist_free(&list);
		watcher_answered(w);
		return;
	}
	fw->last_count = list.n;
	json_object_set_new(w->health.detail, "servers",
	    json_integer((json_int_t)list.n));
	log_debug("service %s: %zu servers in %s", w->service, list.n,
	    fw->path);
	watcher_report(w, &list);
}

static void
filew_on_settle(uv_timer_t *t)
{
	struct watcher *w = t->data;
	struct filew *fw = w->priv;

	log_debug("hosts file %s: read after settling (%s)", fw->path,
	    dirwatch_kind_name(fw->settling));
	filew_read(w);
}

static void
filew_on_now(uv_check_t *c)
{
	struct watcher *w = c->data;
	struct filew *fw = w->priv;

	uv_check_stop(c);
	log_debug("hosts file %s: read at once (%s)", fw->path,
	    dirwatch_kind_name(fw->whole));
	filew_read(w);
}

/* A whole file is read in this loop turn, once however many events of
 * this poll say so (a burst of renames is one read); its name's own
 * event (renamed over, closed) ends a settle under way, a look at
 * everything (NULL) does not. Anything else waits for the writes to stop
 * (or for the close that ends them). */
static void
filew_on_change(void *arg, const char *filename, enum dirwatch_kind kind)
{
	struct watcher *w = arg;
	struct filew *fw = w->priv;

	if (dirwatch_complete(kind)) {
		if (filename != NULL)
			uv_timer_stop(&fw->settle);
		fw->whole = kind;
		uv_check_start(&fw->now, filew_on_now);
		return;
	}
	fw->settling = kind;
	uv_timer_start(&fw->settle, filew_on_settle, FILEW_SETTLE_MS, 0);
}

static void
filew_release(void *arg)
{
	struct watcher *w = arg;
	struct filew *fw = w->priv;

	if (--fw->open_handles > 0)
		return;
	free(fw->path);
	free(fw->dir);
	free(fw->base);
	free(fw->read_error);
	free(fw);
	watcher_free(w);
}

static void
filew_on_close(uv_handle_t *h)
{
	filew_release(h->data);
}

static int
filew_start(struct watcher *w, char **err)
{
	struct filew *fw = xcalloc(1, sizeof(*fw));
	char *copy, *inner = NULL;

	(void)err;
	w->priv = fw;
	fw->path = xstrdup(json_string_value(json_object_get(w->blob, "file")));
	copy = xstrdup(fw->path);
	fw->dir = xstrdup(dirname(copy));
	free(copy);
	copy = xstrdup(fw->path);
	fw->base = xstrdup(basename(copy));
	free(copy);

	uv_timer_init(w->loop, &fw->settle);
	uv_check_init(w->loop, &fw->now);
	fw->settle.data = fw->now.data = w;
	fw->open_handles = 3;		/* settle, now, and the dirwatch */
	if (dirwatch_start(w->loop, fw->dir, fw->base, filew_on_change, w,
	    &fw->dw, &inner) == -1) {
		log_event(LOG_LVL_WARNING, "watcher_error", w->service, NULL,
		    "service %s: %s; trying again", w->service, inner);
		free(inner);
	}
	filew_read(w);
	return 0;
}

static void
filew_stop(struct watcher *w)
{
	struct filew *fw = w->priv;

	if (fw == NULL) {
		watcher_free(w);
		return;
	}
	uv_close((uv_handle_t *)&fw->settle, filew_on_close);
	uv_close((uv_handle_t *)&fw->now, filew_on_close);
	dirwatch_stop(fw->dw, filew_release);
}

const struct watcher_ops watcher_file_ops = {
	.type = "file",
	.keys = filew_keys,
	.validate = filew_validate,
	.start = filew_start,
	.stop = filew_stop,
};
