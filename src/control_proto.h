/* The control socket's protocol, the pure part: a request is one line of
 * words (`servers web\n`), the reply one line of JSON, `{"ok":true,...}`
 * or `{"ok":false,"error":"..."}`. Framing and parsing only, so that
 * every rule is unit-tested; control.c does the I/O. */
#ifndef PM_CONTROL_PROTO_H
#define PM_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The longest request line, newline included: past it the client gets
 * an error and is closed. */
#define CTL_MAX_LINE	65536

enum ctl_cmd {
	CTL_STATUS,
	CTL_SERVICES,
	CTL_SERVERS,		/* SERVICE */
	CTL_WATCHERS,
	CTL_RELOADS,
	CTL_RELOAD,
	CTL_CHECK,
	CTL_HELP,
	CTL_NCMDS
};

struct ctl_request {
	enum ctl_cmd	 cmd;
	char		*arg;		/* CTL_SERVERS: the service; else NULL */
};

/* The first line of buf[0, len): returns the length of the request in it
 * (without the newline, nor a \r before it) and sets *used to the bytes
 * it takes, newline included. Returns -1 when no line is complete yet,
 * and sets *too_long when the line can no longer be complete within
 * CTL_MAX_LINE. */
long ctl_next_line(const char *buf, size_t len, size_t *used, bool *too_long);
/* Parse one request line (len bytes, no newline). Returns -1 with *err
 * saying why: empty, a byte that is not printable ASCII, an unknown
 * command, a wrong number of arguments. */
int ctl_parse(const char *line, size_t len, struct ctl_request *req,
    char **err);
void ctl_request_free(struct ctl_request *req);
const char *ctl_cmd_name(enum ctl_cmd cmd);
/* {"commands":[{"name":..., "args":..., "help":...}]} */
json_t *ctl_help(void);

/* A reply as the line sent: reply (an object, taken over) with "ok":true
 * first unless it says otherwise, one line of compact JSON ending in a
 * newline. malloc'ed. */
char *ctl_reply_line(json_t *reply, size_t *len);
/* {"ok":false,"error":why} as above. */
char *ctl_error_line(const char *why, size_t *len);

#endif
