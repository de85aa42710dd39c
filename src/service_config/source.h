/* Service-config sources tell which services exist: each reports service
 * definitions as they appear, change and go. A definition that does not
 * parse is logged and the service keeps its last good one. */
#ifndef PM_SOURCE_H
#define PM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "watchers/watcher.h"

struct pm_config;
struct service_def;
struct svcsrc;

struct svcsrc_cbs {
	/* A new or changed definition; the callee takes the reference. */
	void	(*set)(void *ctx, struct service_def *def);
	void	(*remove)(void *ctx, const char *name);
	/* Every service the source holds has been reported once. */
	void	(*synced)(void *ctx);
	/* Optional. The definition of name (from where) was refused: err
	 * says why, and the service keeps its last good one, if any. err
	 * NULL: what was refused is gone (a good definition came, or the
	 * file or node went). */
	void	(*invalid)(void *ctx, const char *name, const char *where,
		    const char *err);
	void	*ctx;
};

struct svcsrc_ops {
	const char	*type;
	int	(*start)(struct svcsrc *src, char **err);
	void	(*stop)(struct svcsrc *src);	/* frees src when closed */
	/* Optional: bring src->health up to date before it is read. */
	void	(*health)(struct svcsrc *src);
};

struct svcsrc {
	const struct svcsrc_ops	*ops;
	uv_loop_t		*loop;
	char			*path;
	char			*servers;
	int			 settle_ms;
	struct svcsrc_cbs	 cbs;
	void			*priv;
	/* The source's own health (watcher.h): the directory or the
	 * ZooKeeper node the definitions come from. */
	struct watcher_health	 health;
};

struct svcsrc *svcsrc_start(uv_loop_t *loop, const struct pm_config *cfg,
    const struct svcsrc_cbs *cbs, char **err);
void svcsrc_stop(struct svcsrc *src);
/* src's health, brought up to date; valid until the next loop turn. */
const struct watcher_health *svcsrc_health(struct svcsrc *src);
/* True when cfg names the same source as src runs. */
int svcsrc_same(const struct svcsrc *src, const struct pm_config *cfg);

/* For implementations. */
void svcsrc_free(struct svcsrc *src);

/* What a source that re-reads its whole set has reported: a definition
 * is passed on only when it changed, each error is logged once, and a
 * service no longer present is removed. */
struct svcsrc_entry {
	char	*name;
	char	*canon;		/* last reported definition */
	char	*error;		/* last error logged */
	char	*unknown;	/* unknown keys last warned about */
	bool	 present;
};

struct svcsrc_set {
	struct svcsrc_entry	*v;
	size_t			 n;
};

/* One pass: begin, then offer each service present, then end. */
void svcsrc_set_begin(struct svcsrc_set *set);
/* text is the blob (where names it for messages); a NULL text means it
 * could not be read and read_err says why. */
void svcsrc_set_offer(struct svcsrc *src, struct svcsrc_set *set,
    const char *name, const char *text, size_t len, const char *where,
    const char *read_err);
void svcsrc_set_end(struct svcsrc *src, struct svcsrc_set *set);
void svcsrc_set_free(struct svcsrc_set *set);
/* How many of the set's definitions are refused now. */
size_t svcsrc_set_invalid(const struct svcsrc_set *set);

extern const struct svcsrc_ops svcsrc_dir_ops;
extern const struct svcsrc_ops svcsrc_zookeeper_ops;
extern const struct svcsrc_ops svcsrc_none_ops;

#endif
