#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dirwatch.h"
#include "util.h"

#define DIRWATCH_CHECK_MS	2000

/* A Kubernetes ConfigMap or Secret volume holds "KEY -> ..data/KEY"
 * symlinks, and the kubelet updates it by renaming a new "..data_tmp"
 * symlink over "..data": every file may have changed, and no event names
 * one of them (the kubelet's AtomicWriter). */
#define DIRWATCH_K8S_DATA	"..data"

struct dirwatch {
	uv_fs_event_t	 event;
	uv_timer_t	 check;
	char		*dir;
	const char	*self;		/* the name inotify gives dir itself */
	dirwatch_cb	 cb;
	void		*arg;
	void		(*closed)(void *arg);
	int		 open_handles;
	bool		 armed;
	dev_t		 dev;
	ino_t		 ino;
};

static void dirwatch_on_self(struct dirwatch *);

static void
dirwatch_on_event(uv_fs_event_t *ev, const char *filename, int events,
    int status)
{
	struct dirwatch *dw = ev->data;

	(void)events;
	if (status < 0) {
		log_warnx("watching %s: %s", dw->dir, uv_strerror(status));
		return;
	}
	if (filename != NULL && strcmp(filename, dw->self) == 0)
		dirwatch_on_self(dw);
	if (filename != NULL && strcmp(filename, DIRWATCH_K8S_DATA) == 0)
		filename = NULL;
	dw->cb(dw->arg, filename);
}

static int
dirwatch_arm(struct dirwatch *dw, char **err)
{
	struct stat st;
	int rc;

	if (uv_is_active((uv_handle_t *)&dw->event))
		uv_fs_event_stop(&dw->event);
	dw->armed = false;
	if (stat(dw->dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return set_err(err, "cannot watch %s: not a directory, or "
		    "missing", dw->dir);
	if ((rc = uv_fs_event_start(&dw->event, dirwatch_on_event, dw->dir,
	    0)) < 0)
		return set_err(err, "cannot watch %s: %s", dw->dir,
		    uv_strerror(rc));
	dw->armed = true;
	dw->dev = st.st_dev;
	dw->ino = st.st_ino;
	return 0;
}

/* inotify names the watched directory by its own name when it is removed
 * or moved away (and a file in it may have that name too). Re-arm on the
 * directory at the path now, without trusting inode numbers: ext4 gives
 * a directory made anew the number of the one just removed, which the
 * periodic check would take for the old one and never watch again. When
 * the path goes through a swapped symlink ("KEY -> ..data/KEY" of a
 * Kubernetes volume, whose old target the kubelet removes right away), a
 * new directory is there already and is followed now (and the user told
 * to look at everything again); with no directory there, the periodic
 * check waits for one. */
static void
dirwatch_on_self(struct dirwatch *dw)
{
	bool was_armed = dw->armed;
	dev_t dev = dw->dev;
	ino_t ino = dw->ino;

	if (dirwatch_arm(dw, NULL) == -1) {
		if (was_armed)
			log_warnx("directory %s is gone; watching for it to "
			    "come back", dw->dir);
		return;
	}
	if (!was_armed || dw->dev != dev || dw->ino != ino)
		log_info("watching %s again (a new directory at that path)",
		    dw->dir);
	dw->cb(dw->arg, NULL);
}

static void
dirwatch_on_check(uv_timer_t *t)
{
	struct dirwatch *dw = t->data;
	struct stat st;
	bool gone = stat(dw->dir, &st) == -1 || !S_ISDIR(st.st_mode);

	if (gone) {
		if (dw->armed) {
			log_warnx("directory %s is gone; watching for it to "
			    "come back", dw->dir);
			uv_fs_event_stop(&dw->event);
			dw->armed = false;
		}
		return;
	}
	if (dw->armed && st.st_dev == dw->dev && st.st_ino == dw->ino)
		return;
	if (dirwatch_arm(dw, NULL) == 0) {
		log_info("watching %s again (a new directory at that path)",
		    dw->dir);
		dw->cb(dw->arg, NULL);
	}
}

int
dirwatch_start(uv_loop_t *loop, const char *dir, dirwatch_cb cb, void *arg,
    struct dirwatch **out, char **err)
{
	struct dirwatch *dw = xcalloc(1, sizeof(*dw));

	dw->dir = xstrdup(dir);
	/* As libuv names it: what follows the last slash. */
	dw->self = strrchr(dw->dir, '/') ? strrchr(dw->dir, '/') + 1 : dw->dir;
	dw->cb = cb;
	dw->arg = arg;
	uv_fs_event_init(loop, &dw->event);
	uv_timer_init(loop, &dw->check);
	dw->event.data = dw->check.data = dw;
	dw->open_handles = 2;
	uv_timer_start(&dw->check, dirwatch_on_check, DIRWATCH_CHECK_MS,
	    DIRWATCH_CHECK_MS);
	*out = dw;
	return dirwatch_arm(dw, err);
}

static void
dirwatch_on_close(uv_handle_t *h)
{
	struct dirwatch *dw = h->data;

	if (--dw->open_handles > 0)
		return;
	if (dw->closed != NULL)
		dw->closed(dw->arg);
	free(dw->dir);
	free(dw);
}

void
dirwatch_stop(struct dirwatch *dw, void (*closed)(void *arg))
{
	dw->closed = closed;
	uv_close((uv_handle_t *)&dw->event, dirwatch_on_close);
	uv_close((uv_handle_t *)&dw->check, dirwatch_on_close);
}
