/* A server described as JSON: ProxyMgr's {"address": "1.2.3.4", "port":
 * 8080} or nerve's {"host": "1.2.3.4", "port": 8080, "name": "i-abc",
 * "weight": 10}. Used for static lists and ZooKeeper server nodes. */
#ifndef PM_SERVER_BLOB_H
#define PM_SERVER_BLOB_H

#include <stdbool.h>

#include <jansson.h>

struct srvblob {
	const char	*host;		/* points into the JSON object */
	int		 port;
	int		 weight;	/* 0: none given */
};

/* Check obj and fill *out. Keys outside known_keys are refused when
 * strict, ignored otherwise (registrars add their own). On error returns
 * -1 with *err naming the key. */
int srvblob_parse(json_t *obj, bool strict, struct srvblob *out, char **err);

#endif
