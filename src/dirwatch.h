/* Watching a directory by its path, not its inode: inotify follows the
 * inode, so a directory that is removed and made again, or swapped by a
 * rename, would silently go unwatched. Every few seconds, and at once
 * when the watched directory itself is removed or moved, the path is
 * checked and the watch re-armed on whatever new directory is there. */
#ifndef PM_DIRWATCH_H
#define PM_DIRWATCH_H

#include <uv.h>

struct dirwatch;

/* filename: what changed in the directory; NULL when unknown, when the
 * watch was re-armed on a new directory, or when a Kubernetes volume
 * swapped its "..data" symlink (look at everything again: read through
 * the path, the file may or may not have changed). */
typedef void (*dirwatch_cb)(void *arg, const char *filename);

/* Returns 0, or -1 with *err set if the directory cannot be watched now;
 * *out is valid either way and keeps trying. */
int dirwatch_start(uv_loop_t *loop, const char *dir, dirwatch_cb cb,
    void *arg, struct dirwatch **out, char **err);
/* Stop; closed(arg) is called once every handle is closed. */
void dirwatch_stop(struct dirwatch *dw, void (*closed)(void *arg));

#endif
