/* Control-socket requests: a byte stream as a client sends it, framed
 * into lines, each parsed, and the reply built as control.c builds it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control_proto.h"
#include "fuzz.h"

/* A reply line: one line of JSON, an object, that ends in its newline. */
static void
fuzz_check_reply(char *line, size_t len, bool ok)
{
	json_t *j;
	json_error_t jerr;

	if (len == 0 || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL || strlen(line) != len)
		fuzz_fail("reply is not one line: %.*s", (int)len, line);
	j = json_loadb(line, len, 0, &jerr);
	if (!json_is_object(j) ||
	    json_is_true(json_object_get(j, "ok")) != ok)
		fuzz_fail("reply is not {\"ok\":%s,...}: %s",
		    ok ? "true" : "false", line);
	json_decref(j);
	free(line);
}

static void
fuzz_one_request(const char *line, size_t n)
{
	struct ctl_request req;
	char *err = NULL, *reply;
	size_t len;

	if (ctl_parse(line, n, &req, &err) == -1) {
		fuzz_check_message(err);
		reply = ctl_error_line(err, &len);
		fuzz_check_reply(reply, len, false);
		free(err);
		return;
	}
	if (req.cmd >= CTL_NCMDS)
		fuzz_fail("command %d", (int)req.cmd);
	if ((req.arg != NULL) != (req.cmd == CTL_SERVERS))
		fuzz_fail("%s with%s an argument", ctl_cmd_name(req.cmd),
		    req.arg != NULL ? "" : "out");
	if (req.arg != NULL)
		for (const char *p = req.arg; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 0x7f)
				fuzz_fail("argument byte 0x%02x",
				    (unsigned char)*p);
	/* The request's words echoed back, as a reply may name them. */
	reply = ctl_reply_line(json_pack("{s:s, s:s?}", "command",
	    ctl_cmd_name(req.cmd), "arg", req.arg), &len);
	fuzz_check_reply(reply, len, true);
	ctl_request_free(&req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;

	/* As control.c reads: line after line from what has come in; a line
	 * that cannot end within CTL_MAX_LINE ends the connection. */
	while (off < size) {
		size_t used = 0;
		bool too_long;
		long n = ctl_next_line(buf + off, size - off, &used,
		    &too_long);

		if (n < 0) {
			if (too_long && size - off < CTL_MAX_LINE)
				fuzz_fail("too long at %zu bytes", size - off);
			break;
		}
		if (used == 0 || used > size - off || (size_t)n >= used ||
		    buf[off + used - 1] != '\n' ||
		    memchr(buf + off, '\n', (size_t)n) != NULL)
			fuzz_fail("framing: line %ld, used %zu of %zu", n,
			    used, size - off);
		fuzz_one_request(buf + off, (size_t)n);
		off += used;
	}
	return 0;
}
