#include "config.h"

#include <errno.h>
#include <search.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirwatch.h"
#include "util.h"

#define DIRWATCH_CHECK_MS	2000
#define DIRWATCH_READS		16	/* reads per wake-up, then yield */

/* libuv's own mask plus IN_CLOSE_WRITE, which libuv does not watch:
 * uv_fs_event cannot tell a file closed after writing from one still
 * being written. */
#define DIRWATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
	IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR)

/* A Kubernetes ConfigMap or Secret volume holds "KEY -> ..data/KEY"
 * symlinks, and the kubelet updates it by renaming a new "..data_tmp"
 * symlink over "..data": every file may have changed, and no event names
 * one of them (the kubelet's AtomicWriter). */
#define DIRWATCH_K8S_DATA	"..data"

/* One inotify instance per loop, shared by every dirwatch as libuv
 * shares its own: one per directory would meet
 * fs.inotify.max_user_instances (128 by default) at the 128th host file.
 * A directory watched twice has one watch descriptor, held by a
 * dirwatch_wd. */
struct dirwatch_ino {
	uv_loop_t		*loop;
	uv_poll_t		 poll;
	int			 fd;
	int			 users;
	bool			 closing;
	struct dirwatch		*list;		/* every dirwatch */
	void			*wds;		/* tsearch: dirwatch_wd by wd */
	struct dirwatch_ino	*next;
};

/* The dirwatches holding one watch descriptor, by the file name each
 * wants: an event naming a file goes to that name's dirwatches and to
 * those of every name, so that a directory of a thousand host files
 * costs one lookup per event, not a thousand callbacks. */
struct dirwatch_wd {
	int			 wd;
	char			*dir;		/* as its first holder named it */
	size_t			 n;		/* dirwatches holding it */
	struct dirwatch		*any;		/* those of every name */
	void			*names;		/* tsearch: dirwatch_name */
};

struct dirwatch_name {
	char			*name;
	struct dirwatch		*list;
};

struct dirwatch {
	struct dirwatch_ino	*ino;
	struct dirwatch		*next, *prev;	/* in ino->list */
	struct dirwatch_wd	*held;		/* NULL: not armed */
	struct dirwatch_name	*bucket;	/* NULL: in held->any */
	struct dirwatch		*hnext, *hprev;	/* in held->any or bucket */
	uv_timer_t		 check;
	char			*dir;
	char			*name;		/* NULL: every name */
	dirwatch_cb		 cb;
	void			*arg;
	void			(*closed)(void *arg);
	int			 wd;		/* -1: not armed */
	bool			 stopped;
	dev_t			 dev;
	ino_t			 ino_nr;
};

static struct dirwatch_ino *dirwatch_inos;
static uint64_t dirwatch_check_ms = DIRWATCH_CHECK_MS;

enum dirwatch_kind
dirwatch_classify(uint32_t mask, mode_t mode)
{
	if (mask & IN_Q_OVERFLOW)
		return DIRWATCH_RESCAN;
	if (mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
		return DIRWATCH_SELF;
	if (mask & IN_MOVED_TO)
		return DIRWATCH_MOVED_IN;
	if (mask & IN_CLOSE_WRITE)
		return DIRWATCH_CLOSED;
	/* A regular file made by open() is written next and closed (an
	 * IN_CLOSE_WRITE follows); a symlink or a directory is whole at
	 * once. A name gone before lstat() is settled like a removal. */
	if (mask & IN_CREATE)
		return (mask & IN_ISDIR) || (mode != 0 && !S_ISREG(mode)) ?
		    DIRWATCH_MADE : DIRWATCH_CREATED;
	/* Nothing new to read, and a replacement often follows (rm, then
	 * mv): settling spares a reader a missing file. */
	if (mask & (IN_DELETE | IN_MOVED_FROM))
		return DIRWATCH_GONE;
	if (mask & IN_MODIFY)
		return DIRWATCH_WRITING;
	if (mask & IN_ATTRIB)
		return DIRWATCH_ATTRIB;
	return DIRWATCH_IGNORE;
}

bool
dirwatch_complete(enum dirwatch_kind kind)
{
	return kind == DIRWATCH_MOVED_IN || kind == DIRWATCH_CLOSED ||
	    kind == DIRWATCH_MADE || kind == DIRWATCH_RESCAN;
}

const char *
dirwatch_kind_name(enum dirwatch_kind kind)
{
	switch (kind) {
	case DIRWATCH_IGNORE:
		return "ignored";
	case DIRWATCH_SELF:
		return "directory changed";
	case DIRWATCH_MOVED_IN:
		return "moved in";
	case DIRWATCH_CLOSED:
		return "closed after writing";
	case DIRWATCH_MADE:
		return "made whole";
	case DIRWATCH_RESCAN:
		return "looked at again";
	case DIRWATCH_WRITING:
		return "written in place";
	case DIRWATCH_CREATED:
		return "created";
	case DIRWATCH_ATTRIB:
		return "attributes changed";
	case DIRWATCH_GONE:
		return "removed or moved away";
	}
	return "?";
}

static void	dirwatch_on_self(struct dirwatch *);

static int
dirwatch_wd_cmp(const void *a, const void *b)
{
	int x = ((const struct dirwatch_wd *)a)->wd;
	int y = ((const struct dirwatch_wd *)b)->wd;

	return (x > y) - (x < y);
}

static int
dirwatch_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dirwatch_name *)a)->name,
	    ((const struct dirwatch_name *)b)->name);
}

static struct dirwatch_wd *
dirwatch_wd_find(struct dirwatch_ino *ino, int wd)
{
	struct dirwatch_wd key = { .wd = wd };
	void *found = tfind(&key, &ino->wds, dirwatch_wd_cmp);

	return found != NULL ? *(struct dirwatch_wd **)found : NULL;
}

static struct dirwatch_name *
dirwatch_name_find(struct dirwatch_wd *held, const char *name)
{
	struct dirwatch_name key = { .name = (char *)name };
	void *found = tfind(&key, &held->names, dirwatch_name_cmp);

	return found != NULL ? *(struct dirwatch_name **)found : NULL;
}

/* dw now holds wd, as one of those of its name. */
static void
dirwatch_hold(struct dirwatch *dw, int wd)
{
	struct dirwatch_ino *ino = dw->ino;
	struct dirwatch_wd *held = dirwatch_wd_find(ino, wd);
	struct dirwatch **head;

	if (held == NULL) {
		held = xcalloc(1, sizeof(*held));
		held->wd = wd;
		held->dir = xstrdup(dw->dir);
		(void)tsearch(held, &ino->wds, dirwatch_wd_cmp);
	}
	held->n++;
	dw->held = held;
	dw->wd = wd;
	dw->bucket = NULL;
	if (dw->name != NULL &&
	    (dw->bucket = dirwatch_name_find(held, dw->name)) == NULL) {
		dw->bucket = xcalloc(1, sizeof(*dw->bucket));
		dw->bucket->name = xstrdup(dw->name);
		(void)tsearch(dw->bucket, &held->names, dirwatch_name_cmp);
	}
	head = dw->bucket != NULL ? &dw->bucket->list : &held->any;
	dw->hprev = NULL;
	dw->hnext = *head;
	if (*head != NULL)
		(*head)->hprev = dw;
	*head = dw;
}

/* dw lets go of its watch descriptor, which is removed with the last
 * dirwatch holding it (EINVAL when the kernel dropped it already: the
 * directory is gone). */
static void
dirwatch_release(struct dirwatch *dw)
{
	struct dirwatch_wd *held = dw->held;
	struct dirwatch **head;

	if (held == NULL)
		return;
	head = dw->bucket != NULL ? &dw->bucket->list : &held->any;
	if (dw->hprev != NULL)
		dw->hprev->hnext = dw->hnext;
	else
		*head = dw->hnext;
	if (dw->hnext != NULL)
		dw->hnext->hprev = dw->hprev;
	if (dw->bucket != NULL && dw->bucket->list == NULL) {
		(void)tdelete(dw->bucket, &held->names, dirwatch_name_cmp);
		free(dw->bucket->name);
		free(dw->bucket);
	}
	dw->held = NULL;
	dw->bucket = NULL;
	dw->wd = -1;
	if (--held->n > 0)
		return;
	(void)tdelete(held, &dw->ino->wds, dirwatch_wd_cmp);
	(void)inotify_rm_watch(dw->ino->fd, held->wd);
	free(held->dir);
	free(held);
}

static int
dirwatch_arm(struct dirwatch *dw, char **err)
{
	struct stat st;
	int wd;

	if (stat(dw->dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		dirwatch_release(dw);
		return set_err(err, "cannot watch %s: not a directory, or "
		    "missing", dw->dir);
	}
	if ((wd = inotify_add_watch(dw->ino->fd, dw->dir, DIRWATCH_MASK)) ==
	    -1) {
		int saved = errno;
		dirwatch_release(dw);
		return set_err(err, "cannot watch %s: %s", dw->dir,
		    strerror(saved));
	}
	if (wd != dw->wd) {
		dirwatch_release(dw);
		dirwatch_hold(dw, wd);
	}
	dw->dev = st.st_dev;
	dw->ino_nr = st.st_ino;
	return 0;
}

/* inotify tells when the watched directory itself is removed or moved
 * away. Re-arm on the directory at the path now, without trusting inode
 * numbers: ext4 gives a directory made anew the number of the one just
 * removed, which the periodic check would take for the old one and never
 * watch again. When the path goes through a swapped symlink ("KEY ->
 * ..data/KEY" of a Kubernetes volume, whose old target the kubelet
 * removes right away), a new directory is there already and is followed
 * now (and the user told to look at everything again); with no directory
 * there, the periodic check waits for one. */
static void
dirwatch_on_self(struct dirwatch *dw)
{
	bool was_armed = dw->wd >= 0;
	dev_t dev = dw->dev;
	ino_t ino = dw->ino_nr;

	if (dirwatch_arm(dw, NULL) == -1) {
		if (was_armed)
			log_warnx("directory %s is gone; watching for it to "
			    "come back", dw->dir);
		return;
	}
	if (!was_armed || dw->dev != dev || dw->ino_nr != ino)
		log_info("watching %s again (a new directory at that path)",
		    dw->dir);
	dw->cb(dw->arg, NULL, DIRWATCH_RESCAN);
}

/* Who gets an event: collected before any callback runs, since a
 * callback may stop or re-arm any dirwatch (a stopped one is freed only
 * when its timer closes, after this loop turn). */
struct dirwatch_to {
	struct dirwatch	**v;
	size_t		  n, cap;
};

static void
dirwatch_to_add(struct dirwatch_to *to, struct dirwatch *list)
{
	for (struct dirwatch *dw = list; dw != NULL; dw = dw->hnext) {
		if (to->n == to->cap) {
			to->cap = to->cap ? 2 * to->cap : 16;
			to->v = xrealloc(to->v, to->cap * sizeof(*to->v));
		}
		to->v[to->n++] = dw;
	}
}

static void
dirwatch_to_add_bucket(const void *node, VISIT visit, void *to)
{
	const struct dirwatch_name *bucket =
	    *(struct dirwatch_name *const *)node;

	if (visit == postorder || visit == leaf)
		dirwatch_to_add(to, bucket->list);
}

/* One event to the dirwatches holding its descriptor that want its name
 * (all of them for the directory itself or for no name). */
static void
dirwatch_dispatch(struct dirwatch_ino *ino, const struct inotify_event *ev)
{
	struct dirwatch_to to = { NULL, 0, 0 };
	struct dirwatch_wd *held;
	struct dirwatch_name *bucket;
	struct dirwatch *dw, *next;
	const char *name = ev->len > 0 && ev->name[0] != '\0' ? ev->name :
	    NULL;
	enum dirwatch_kind kind;
	struct stat st;
	mode_t mode = 0;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warnx("inotify queue overflowed (fs.inotify."
		    "max_queued_events): events were lost; reading every "
		    "watched directory again");
		for (dw = ino->list; dw != NULL && !ino->closing; dw = next) {
			next = dw->next;
			if (!dw->stopped)
				dw->cb(dw->arg, NULL, DIRWATCH_RESCAN);
		}
		return;
	}
	if ((held = dirwatch_wd_find(ino, ev->wd)) == NULL)
		return;
	if (name == NULL) {
		kind = DIRWATCH_SELF;
	} else {
		if ((ev->mask & (IN_CREATE | IN_ISDIR)) == IN_CREATE) {
			char *path = xasprintf("%s/%s", held->dir, name);
			if (lstat(path, &st) == 0)
				mode = st.st_mode;
			free(path);
		}
		kind = dirwatch_classify(ev->mask, mode);
		if (strcmp(name, DIRWATCH_K8S_DATA) == 0)
			name = NULL;
	}
	if (kind == DIRWATCH_IGNORE)
		return;
	dirwatch_to_add(&to, held->any);
	if (name == NULL)
		twalk_r(held->names, dirwatch_to_add_bucket, &to);
	else if ((bucket = dirwatch_name_find(held, name)) != NULL)
		dirwatch_to_add(&to, bucket->list);
	for (size_t i = 0; i < to.n && !ino->closing; i++) {
		dw = to.v[i];
		if (dw->stopped || dw->wd != ev->wd)
			continue;
		if (kind == DIRWATCH_SELF)
			dirwatch_on_self(dw);
		else
			dw->cb(dw->arg, name, kind);
	}
	free(to.v);
}

static void
dirwatch_on_readable(uv_poll_t *p, int status, int events)
{
	struct dirwatch_ino *ino = p->data;
	char buf[64 * 1024]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	(void)events;
	if (status < 0) {
		log_warnx("inotify: %s", uv_strerror(status));
		return;
	}
	/* Bounded, so that a flood of events cannot hold the loop: the
	 * poll is level-triggered and comes back for the rest. */
	for (int i = 0; i < DIRWATCH_READS && !ino->closing; i++) {
		if ((n = read(ino->fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("inotify: read");
			return;
		}
		for (char *q = buf; q < buf + n && !ino->closing;
		    q += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)q;
			dirwatch_dispatch(ino, ev);
		}
	}
}

static struct dirwatch_ino *
dirwatch_ino_get(uv_loop_t *loop, char **err)
{
	struct dirwatch_ino *ino;
	int fd, rc;

	for (ino = dirwatch_inos; ino != NULL; ino = ino->next)
		if (ino->loop == loop && !ino->closing)
			return ino;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		set_err(err, "inotify: %s", strerror(errno));
		return NULL;
	}
	ino = xcalloc(1, sizeof(*ino));
	ino->loop = loop;
	ino->fd = fd;
	if ((rc = uv_poll_init(loop, &ino->poll, fd)) < 0) {
		set_err(err, "inotify: %s", uv_strerror(rc));
		close(fd);
		free(ino);
		return NULL;
	}
	ino->poll.data = ino;
	uv_poll_start(&ino->poll, UV_READABLE, dirwatch_on_readable);
	ino->next = dirwatch_inos;
	dirwatch_inos = ino;
	return ino;
}

static void
dirwatch_ino_on_close(uv_handle_t *h)
{
	struct dirwatch_ino *ino = h->data;

	close(ino->fd);
	free(ino);
}

static void
dirwatch_ino_put(struct dirwatch_ino *ino)
{
	struct dirwatch_ino **pp;

	if (--ino->users > 0)
		return;
	ino->closing = true;
	for (pp = &dirwatch_inos; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ino) {
			*pp = ino->next;
			break;
		}
	uv_close((uv_handle_t *)&ino->poll, dirwatch_ino_on_close);
}

static int
dirwatch_attach(struct dirwatch *dw, char **err)
{
	if ((dw->ino = dirwatch_ino_get(dw->check.loop, err)) == NULL)
		return -1;
	dw->ino->users++;
	dw->next = dw->ino->list;
	if (dw->next != NULL)
		dw->next->prev = dw;
	dw->ino->list = dw;
	return 0;
}

static void
dirwatch_on_check(uv_timer_t *t)
{
	struct dirwatch *dw = t->data;
	struct stat st;
	bool gone = stat(dw->dir, &st) == -1 || !S_ISDIR(st.st_mode);
	char *err = NULL;

	/* No inotify instance at start (too many open files, or
	 * fs.inotify.max_user_instances reached): try again. */
	if (dw->ino == NULL && dirwatch_attach(dw, &err) == -1) {
		log_debug("watching %s: %s", dw->dir, err);
		free(err);
		return;
	}

	if (gone) {
		if (dw->wd >= 0) {
			log_warnx("directory %s is gone; watching for it to "
			    "come back", dw->dir);
			dirwatch_release(dw);
		}
		return;
	}
	if (dw->wd >= 0 && st.st_dev == dw->dev && st.st_ino == dw->ino_nr)
		return;
	if (dirwatch_arm(dw, NULL) == 0) {
		log_info("watching %s again (a new directory at that path)",
		    dw->dir);
		dw->cb(dw->arg, NULL, DIRWATCH_RESCAN);
	}
}

void
dirwatch_set_check_ms(uint64_t ms)
{
	dirwatch_check_ms = ms;
}

int
dirwatch_start(uv_loop_t *loop, const char *dir, const char *name,
    dirwatch_cb cb, void *arg, struct dirwatch **out, char **err)
{
	struct dirwatch *dw = xcalloc(1, sizeof(*dw));

	dw->dir = xstrdup(dir);
	dw->name = name != NULL ? xstrdup(name) : NULL;
	dw->cb = cb;
	dw->arg = arg;
	dw->wd = -1;
	uv_timer_init(loop, &dw->check);
	dw->check.data = dw;
	uv_timer_start(&dw->check, dirwatch_on_check, dirwatch_check_ms,
	    dirwatch_check_ms);
	*out = dw;
	if (dirwatch_attach(dw, err) == -1)
		return -1;
	return dirwatch_arm(dw, err);
}

static void
dirwatch_on_close(uv_handle_t *h)
{
	struct dirwatch *dw = h->data;

	if (dw->closed != NULL)
		dw->closed(dw->arg);
	free(dw->dir);
	free(dw->name);
	free(dw);
}

void
dirwatch_stop(struct dirwatch *dw, void (*closed)(void *arg))
{
	struct dirwatch_ino *ino = dw->ino;

	dw->closed = closed;
	if (ino != NULL) {
		dirwatch_release(dw);
		/* Unlinked, but dw->next kept for a walk under way. */
		if (dw->prev != NULL)
			dw->prev->next = dw->next;
		else
			ino->list = dw->next;
		if (dw->next != NULL)
			dw->next->prev = dw->prev;
		dirwatch_ino_put(ino);
	}
	dw->stopped = true;
	uv_close((uv_handle_t *)&dw->check, dirwatch_on_close);
}
