#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "privs.h"

static uint64_t	privs_ambient;	/* bit N: capability N was ambient */

void
privs_init(void)
{
	/* Capabilities are numbered from 0; the kernel says EINVAL past
	 * its last one. */
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
		    (unsigned long)cap, 0UL, 0UL);
		if (r == -1)
			break;
		if (r == 1)
			privs_ambient |= UINT64_C(1) << cap;
	}
	if (privs_ambient == 0)
		return;
	privs_clear_ambient();
	log_debug("ambient capabilities 0x%llx cleared: HAProxy and `haproxy "
	    "-c` inherit none", (unsigned long long)privs_ambient);
}

void
privs_raise_ambient(void)
{
	for (int cap = 0; cap < 64; cap++)
		if ((privs_ambient & (UINT64_C(1) << cap)) != 0 &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
		    (unsigned long)cap, 0UL, 0UL) == -1)
			log_warn("capability %d: cannot pass it on to the new "
			    "proxymgrd", cap);
}

void
privs_clear_ambient(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL,
	    0UL) == -1)
		log_warn("clearing the ambient capabilities");
}

bool
privs_have(int cap)
{
	unsigned long long eff = 0;
	char line[256];
	bool found = false;
	FILE *f;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return found && cap >= 0 && cap < 64 && (eff >> cap & 1) != 0;
}
