/* proxymgr.yml: parsed from the buffer; what parses is rendered (with no
 * service) and must give exactly the global and defaults sections. */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "pmconfig.h"
#include "snapshot.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_config *cfg = NULL;
	struct snapshot *s;
	char *err = NULL;

	if (pmconfig_parse((const char *)data, size, "fuzz.yml", &cfg,
	    &err) != 0) {
		if (err == NULL)
			fuzz_fail("refused without a reason");
		fuzz_check_message(err);
		free(err);
		return 0;
	}
	if (err != NULL)
		fuzz_fail("parsed, yet with an error: %s", err);
	s = snapshot_new(cfg);
	snapshot_render(s);
	fuzz_check_snapshot(s);
	snapshot_free(s);
	pmconfig_unref(cfg);
	return 0;
}
