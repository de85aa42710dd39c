/* A host file of the file watcher: parsed, each rejected line's message
 * checked (one log line, nothing of a secret file shown raw), and the
 * servers rendered into a service with the oracles of common.c. */
#include "config.h"

#include "fuzz.h"
#include "server.h"
#include "watchers/hostfile.h"

static void
on_error(const char *msg, void *arg)
{
	int *n = arg;

	fuzz_check_message(msg);
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_list servers;
	int bad, reported = 0;

	srvlist_init(&servers);
	bad = hostfile_parse((const char *)data, size, "fuzz.hosts", &servers,
	    on_error, &reported);
	if (bad != reported)
		fuzz_fail("%d lines rejected, %d reported", bad, reported);
	fuzz_render_service(fuzz_service_def(), &servers);
	srvlist_free(&servers);
	return 0;
}
