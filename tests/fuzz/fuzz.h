/* Shared by the libFuzzer targets in tests/fuzz/: each defines
 * LLVMFuzzerTestOneInput and is linked either with libFuzzer
 * (--enable-fuzzing, `make fuzz`) or with replay.c, which runs the seeds
 * and the regression inputs through it under `make check`.
 *
 * The oracles abort() on what must never happen, whatever the input: a
 * rendered haproxy.cfg with a line, section or directive that the input
 * did not legitimately contribute. */
#ifndef PM_FUZZ_H
#define PM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server_list;
struct service_def;
struct snapshot;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (which may hold NULs itself). */
char *fuzz_str(const uint8_t *data, size_t size);
/* Report a broken invariant and abort, so that libFuzzer keeps the input. */
void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A message for the log: one line (a hostile input must not forge log
 * lines). */
void fuzz_check_message(const char *msg);

/* The configuration proxymgrd renders everything with in the targets. */
struct pm_config *fuzz_config(void);
/* A service to render servers from other inputs with (web, static). */
struct service_def *fuzz_service_def(void);

/* Check a rendered snapshot against what its inputs may contribute:
 * printable lines only; exactly the sections global, defaults and one
 * listen per service; in each service's section the listen and bind
 * lines, one line per listen option (the option itself, not a section
 * keyword, bind or server) and one server line per server, nothing
 * else. */
void fuzz_check_snapshot(const struct snapshot *s);
/* Render def with no server (as a running HAProxy has it), then with
 * servers (carried from it), check both, and plan the change: the
 * runtime commands must be ones HAProxy's CLI reads as sent. */
void fuzz_render_service(struct service_def *def,
    const struct server_list *servers);

#endif
