/* `haproxy -c` output, as check_report_parse reads it to blame a service:
 * only HAProxy's own position at the start of an alert of the checking
 * process counts. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "haproxy/check_report.h"

#define FUZZ_PID	12345
#define FUZZ_FILE	"/run/proxymgr/haproxy.cfg.new"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_report r;
	char *out = fuzz_str(data, size);

	memset(&r, 0, sizeof(r));
	check_report_parse(out, FUZZ_PID, FUZZ_FILE, &r);
	for (size_t i = 0; i < r.nlines; i++)
		if (r.lines[i] < 1)
			fuzz_fail("line %d blamed", r.lines[i]);
	for (size_t i = 0; i < r.nalerts; i++)
		if (strchr(r.alerts[i], '\n') != NULL)
			fuzz_fail("alert %zu spans lines", i);
	for (size_t i = 0; i < r.nproxies; i++)
		if (r.proxies[i][0] == '\0')
			fuzz_fail("an empty proxy name blamed");
	check_report_free(&r);
	free(out);
	return 0;
}
