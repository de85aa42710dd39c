/* JSON syntax errors that can be logged. jansson's own error text quotes
 * the input near the error ("near '"password=hunter2'"), and the input
 * may be any file a service points at, or any ZooKeeper node: only the
 * position and a generic reason are shown. */
#ifndef PM_JSONERR_H
#define PM_JSONERR_H

#include <jansson.h>

/* What went wrong, in words of our own, from jansson's error code. */
const char *jsonerr_reason(const json_error_t *e);

#endif
