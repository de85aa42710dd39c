/* Parser for host files: one "host:port" per line ("[v6]:port" for IPv6),
 * blank lines and '#' comments allowed. Pure, so it is unit tested. */
#ifndef PM_HOSTFILE_H
#define PM_HOSTFILE_H

#include "server.h"

/* The largest host file read: some 700,000 lines, far more servers than
 * one backend can have; a bigger file keeps the last good servers. */
#define HOSTFILE_MAX_SIZE	((size_t)16 << 20)

/* Called once per rejected line with a message naming path and line. */
typedef void (*hostfile_error_cb)(const char *msg, void *arg);

/* Parse textlen bytes of text into out (initialised by the caller,
 * finished on return). A line holding a NUL byte is rejected, the lines
 * after it count. Returns the number of rejected lines. */
int hostfile_parse(const char *text, size_t textlen, const char *path,
    struct server_list *out, hostfile_error_cb on_error, void *arg);
/* Parse one "host:port" entry; 0 on success, -1 with *err set. */
int hostfile_parse_entry(const char *entry, char *host, size_t hostlen,
    int *port, char **err);

#endif
