/* The control socket's protocol (control_proto.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "util.h"

static const struct {
	const char	*name;
	int		 nargs;
	const char	*args;
	const char	*help;
} ctl_cmds[CTL_NCMDS] = {
	[CTL_STATUS] = { "status", 0, "", "version, uptime, HAProxy "
	    "processes, what is pending, the last reload and check" },
	[CTL_SERVICES] = { "services", 0, "", "each service: source, "
	    "watcher, port, state, servers, last change" },
	[CTL_SERVERS] = { "servers", 1, "SERVICE", "a service's servers: "
	    "what proxymgrd wants beside what HAProxy reports" },
	[CTL_WATCHERS] = { "watchers", 0, "", "each source's health" },
	[CTL_RELOADS] = { "reloads", 0, "", "the last 50 reloads, runtime "
	    "batches and restarts" },
	[CTL_RELOAD] = { "reload", 0, "", "re-read proxymgr.yml and reload "
	    "HAProxy, even if nothing changed" },
	[CTL_CHECK] = { "check", 0, "", "run haproxy -c on the running "
	    "configuration again" },
	[CTL_HELP] = { "help", 0, "", "this list" },
};

const char *
ctl_cmd_name(enum ctl_cmd cmd)
{
	return cmd < CTL_NCMDS ? ctl_cmds[cmd].name : "unknown";
}

long
ctl_next_line(const char *buf, size_t len, size_t *used, bool *too_long)
{
	size_t scan = len < CTL_MAX_LINE ? len : CTL_MAX_LINE;
	const char *nl = memchr(buf, '\n', scan);
	size_t n;

	*too_long = false;
	if (nl == NULL) {
		*too_long = len >= CTL_MAX_LINE;
		return -1;
	}
	n = (size_t)(nl - buf);
	*used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	return (long)n;
}

int
ctl_parse(const char *line, size_t len, struct ctl_request *req, char **err)
{
	const char *words[3];
	size_t lens[3], nw = 0, i = 0;
	int cmd;

	memset(req, 0, sizeof(*req));
	for (size_t j = 0; j < len; j++)
		if ((unsigned char)line[j] < 0x20 && line[j] != '\t')
			return set_err(err, "request has a control character "
			    "(byte %zu): one request per line, words of "
			    "printable ASCII", j + 1);
		else if ((unsigned char)line[j] >= 0x7f)
			return set_err(err, "request has a byte that is not "
			    "printable ASCII (byte %zu)", j + 1);
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (nw == 3)
			return set_err(err, "too many words in the request");
		words[nw] = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		lens[nw] = (size_t)(line + i - words[nw]);
		nw++;
	}
	if (nw == 0)
		return set_err(err, "empty request: send a command (help lists "
		    "them)");
	for (cmd = 0; cmd < CTL_NCMDS; cmd++)
		if (strlen(ctl_cmds[cmd].name) == lens[0] &&
		    memcmp(ctl_cmds[cmd].name, words[0], lens[0]) == 0)
			break;
	if (cmd == CTL_NCMDS)
		return set_err(err, "unknown command '%.*s' (help lists them)",
		    lens[0] > 64 ? 64 : (int)lens[0], words[0]);
	if ((int)nw - 1 != ctl_cmds[cmd].nargs)
		return set_err(err, "%s takes %s%s", ctl_cmds[cmd].name,
		    ctl_cmds[cmd].nargs == 0 ? "no argument" : "one argument: ",
		    ctl_cmds[cmd].args);
	req->cmd = (enum ctl_cmd)cmd;
	if (nw > 1) {
		req->arg = xmalloc(lens[1] + 1);
		memcpy(req->arg, words[1], lens[1]);
		req->arg[lens[1]] = '\0';
	}
	return 0;
}

void
ctl_request_free(struct ctl_request *req)
{
	free(req->arg);
	req->arg = NULL;
}

json_t *
ctl_help(void)
{
	json_t *list = json_array();

	for (int i = 0; i < CTL_NCMDS; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}",
		    "name", ctl_cmds[i].name, "args", ctl_cmds[i].args,
		    "help", ctl_cmds[i].help));
	return json_pack("{s:o}", "commands", list);
}

char *
ctl_reply_line(json_t *reply, size_t *len)
{
	json_t *out = json_object();
	char *text, *line;

	/* "ok" first: a script can look at the start of the line. */
	json_object_set_new(out, "ok", json_true());
	json_object_update(out, reply);
	json_decref(reply);
	text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));
	json_decref(out);
	if (text == NULL)
		return ctl_error_line("reply could not be encoded", len);
	line = xasprintf("%s\n", text);
	free(text);
	*len = strlen(line);
	return line;
}

char *
ctl_error_line(const char *why, size_t *len)
{
	json_t *out = json_pack("{s:b, s:s?}", "ok", 0, "error", why);
	char *text, *line;

	if (out == NULL)	/* why is not UTF-8 */
		out = json_pack("{s:b, s:s}", "ok", 0, "error", "error");
	text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(out);
	line = xasprintf("%s\n", text);
	free(text);
	*len = strlen(line);
	return line;
}
