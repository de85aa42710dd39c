/* A Prometheus histogram: counts of observations at or below each upper
 * bound, their sum and count. Fixed bounds, no allocation: observing is
 * a few compares on the loop thread. */
#ifndef PM_HISTOGRAM_H
#define PM_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_MAX_BUCKETS	16

struct histogram {
	const double	*bounds;	/* ascending upper bounds, +Inf implied */
	size_t		 nbounds;
	uint64_t	 counts[HISTOGRAM_MAX_BUCKETS + 1];	/* per bucket,
								 * not cumulative;
								 * the last is +Inf */
	double		 sum;
	uint64_t	 count;
};

/* bounds (at most HISTOGRAM_MAX_BUCKETS, ascending) must outlive h. */
void histogram_init(struct histogram *h, const double *bounds, size_t n);
void histogram_observe(struct histogram *h, double v);
/* Observations at or below bounds[i] (i == nbounds: all of them). */
uint64_t histogram_cumulative(const struct histogram *h, size_t i);

#endif
