/* The hand-over string a proxymgrd upgraded in place reads from its
 * environment (PROXYMGRD_UPGRADE), parsed without its side effects. */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "haproxy/supervisor.h"
#include "upgrade.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sup_handoff h;
	char *s = fuzz_str(data, size);
	int *fds;
	size_t nfds;

	if (upgrade_parse(s, &h, &fds, &nfds)) {
		if (h.pid <= 0 || h.out_fd < -1 || h.err_fd < -1)
			fuzz_fail("pid %d, fds %d %d", h.pid, h.out_fd,
			    h.err_fd);
		for (size_t i = 0; i < h.nold; i++)
			if (h.old[i].pid <= 0)
				fuzz_fail("draining pid %d", h.old[i].pid);
		for (size_t i = 0; i < nfds; i++)
			if (fds[i] < 0)
				fuzz_fail("listen fd %d", fds[i]);
		free(h.old);
		free(fds);
	} else if (h.old != NULL || fds != NULL)
		fuzz_fail("refused, yet something allocated");
	free(s);
	return 0;
}
