/* Replies on HAProxy's stats socket as the runtime API reads them:
 * split on the prompt, compared with the expected replies, and the pid
 * of `show info`; and the last guard on runtime commands, rt_cmd_unsafe,
 * whose every accepted command must be one line HAProxy reads as sent. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "haproxy/runtime.h"
#include "haproxy/stats.h"

#define MAX_REPLIES	16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *replies[MAX_REPLIES], *s = fuzz_str(data, size);
	size_t n, used = 0;

	n = rt_split_replies((const char *)data, size, replies, MAX_REPLIES,
	    &used);
	if (n > MAX_REPLIES || used > size || (n == 0 && used != 0))
		fuzz_fail("%zu replies, %zu of %zu bytes used", n, used, size);
	for (size_t i = 0; i < n; i++) {
		(void)rt_reply_ok("", replies[i]);
		(void)rt_reply_ok("New server registered.", replies[i]);
		free(replies[i]);
	}
	if (stats_info_pid(s) < -1)
		fuzz_fail("pid %d", stats_info_pid(s));
	if (rt_cmd_unsafe(s) == NULL) {
		size_t len = strlen(s);
		for (const char *p = s; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ';')
				fuzz_fail("command with byte 0x%02x accepted",
				    (unsigned char)*p);
		if (strstr(s, "<<") != NULL || (len > 0 && s[len - 1] == '\\'))
			fuzz_fail("command '%s' accepted", s);
	}
	free(s);
	return 0;
}
