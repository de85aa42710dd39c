/* Watching a directory by its path, not its inode: inotify follows the
 * inode, so a directory that is removed and made again, or swapped by a
 * rename, would silently go unwatched. Every few seconds, and at once
 * when the watched directory itself is removed or moved, the path is
 * checked and the watch re-armed on whatever new directory is there.
 *
 * Each event says whether the file it names is whole now (renamed in,
 * closed after writing) or may still be written (modified by a writer
 * that has not closed it), so that a reader can read the first at once
 * and let the second settle. */
#ifndef PM_DIRWATCH_H
#define PM_DIRWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

struct dirwatch;

enum dirwatch_kind {
	DIRWATCH_IGNORE,	/* nothing to pass on */
	DIRWATCH_SELF,		/* the directory itself went: re-armed */
	/* Whole: read it now. */
	DIRWATCH_MOVED_IN,	/* renamed into the directory */
	DIRWATCH_CLOSED,	/* closed after writing */
	DIRWATCH_MADE,		/* a symlink, directory or node made */
	DIRWATCH_RESCAN,	/* events were lost, or a new directory */
	/* May still change: let it settle. */
	DIRWATCH_WRITING,	/* written in place, not closed yet */
	DIRWATCH_CREATED,	/* a regular file made: its writes follow */
	DIRWATCH_ATTRIB,	/* mode, owner, times or links changed */
	DIRWATCH_GONE,		/* removed or moved away: a new one may
				 * follow */
};

/* filename: what changed in the directory; NULL when unknown, when the
 * watch was re-armed on a new directory or events were lost (kind
 * DIRWATCH_RESCAN), or when a Kubernetes volume swapped its "..data"
 * symlink (look at everything again: read through the path, the file may
 * or may not have changed). */
typedef void (*dirwatch_cb)(void *arg, const char *filename,
    enum dirwatch_kind kind);

/* Watch dir for the file name (NULL: every name); cb also hears of
 * what has no name (filename NULL). Returns 0, or -1 with *err set if
 * the directory cannot be watched now; *out is valid either way and
 * keeps trying. */
int dirwatch_start(uv_loop_t *loop, const char *dir, const char *name,
    dirwatch_cb cb, void *arg, struct dirwatch **out, char **err);
/* The periodic check's interval for dirwatches started from now on
 * (2 s): tests make it long, to see that inotify alone followed a new
 * directory. */
void dirwatch_set_check_ms(uint64_t ms);
/* Stop; closed(arg) is called once every handle is closed. */
void dirwatch_stop(struct dirwatch *dw, void (*closed)(void *arg));

/* The kind of an inotify event's mask; mode is lstat()'s of the name
 * for IN_CREATE (0 if unknown), unused otherwise. */
enum dirwatch_kind dirwatch_classify(uint32_t mask, mode_t mode);
/* True when the file is whole: read it now rather than let it settle. */
bool dirwatch_complete(enum dirwatch_kind kind);
/* For logs: "moved in", "written in place", ... */
const char *dirwatch_kind_name(enum dirwatch_kind kind);

#endif
