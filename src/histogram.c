#include "config.h"

#include <string.h>

#include "histogram.h"

void
histogram_init(struct histogram *h, const double *bounds, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = n < HISTOGRAM_MAX_BUCKETS ? n : HISTOGRAM_MAX_BUCKETS;
}

void
histogram_observe(struct histogram *h, double v)
{
	size_t i = 0;

	if (v != v)	/* NaN says nothing */
		return;
	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

uint64_t
histogram_cumulative(const struct histogram *h, size_t i)
{
	uint64_t n = 0;

	for (size_t j = 0; j <= i && j <= h->nbounds; j++)
		n += h->counts[j];
	return n;
}
