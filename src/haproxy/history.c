/* The supervisor's record (history.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "haproxy/history.h"
#include "util.h"

static const char *const history_kinds[] = {
	[HISTORY_RELOAD] = "reload",
	[HISTORY_RUNTIME] = "runtime",
	[HISTORY_RESTART] = "restart",
};

const char *
history_kind_name(enum history_kind k)
{
	return k < HISTORY_KINDS ? history_kinds[k] : "unknown";
}

void
history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

static void
history_entry_free(struct history_entry *e)
{
	free(e->why);
	free(e->error);
	memset(e, 0, sizeof(*e));
}

void
history_free(struct history *h)
{
	for (size_t i = 0; i < h->n; i++)
		history_entry_free(&h->v[(h->start + i) % HISTORY_MAX]);
	free(h->check.error);
	free(h->check.path);
	history_init(h);
}

const struct history_entry *
history_add(struct history *h, const struct history_entry *e)
{
	struct history_entry *slot;

	if (h->n == HISTORY_MAX) {
		slot = &h->v[h->start];
		history_entry_free(slot);
		h->start = (h->start + 1) % HISTORY_MAX;
	} else
		slot = &h->v[(h->start + h->n++) % HISTORY_MAX];
	*slot = *e;
	slot->why = xstrdup(e->why ? e->why : "");
	slot->error = e->ok || e->error == NULL ? NULL : xstrdup(e->error);
	slot->seq = ++h->seq;
	return slot;
}

const struct history_entry *
history_get(const struct history *h, size_t i)
{
	if (i >= h->n)
		return NULL;
	return &h->v[(h->start + i) % HISTORY_MAX];
}

const struct history_entry *
history_last(const struct history *h, enum history_kind kind)
{
	for (size_t i = h->n; i > 0; i--) {
		const struct history_entry *e = history_get(h, i - 1);
		if (kind == HISTORY_KINDS || e->kind == kind)
			return e;
	}
	return NULL;
}

void
history_set_check(struct history *h, int64_t time_ms, const char *path,
    bool ok, const char *error)
{
	free(h->check.error);
	free(h->check.path);
	h->check.time_ms = time_ms;
	h->check.ok = ok;
	h->check.error = ok ? NULL : xstrdup(error ? error : "failed");
	h->check.path = path ? xstrdup(path) : NULL;
}
