/* What the daemon knows, gathered for one scrape of /metrics and rendered
 * by metrics_render. Reads only, on the loop thread. */
#ifndef PM_METRICS_COLLECT_H
#define PM_METRICS_COLLECT_H

#include <stdint.h>

struct model;
struct sbuf;
struct supervisor;
struct svcsrc;

/* source may be NULL (none yet); start_ms is proxymgrd's start (wall
 * clock). */
void metrics_collect(struct sbuf *out, struct model *m,
    const struct supervisor *s, struct svcsrc *source, const char *sc_type,
    int64_t start_ms);

#endif
