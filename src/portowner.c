#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portowner.h"
#include "util.h"

#define PORTOWNER_LISTEN	"0A"	/* TCP_LISTEN in /proc/net/tcp */

unsigned long
portowner_parse_line(const char *line, int port)
{
	char local[64], remote[64], state[8];
	unsigned long inode;
	unsigned uid, p;
	const char *colon;
	int timeout;

	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
	if (sscanf(line, " %*s %63s %63s %7s %*s %*s %*s %u %d %lu", local,
	    remote, state, &uid, &timeout, &inode) != 6)
		return 0;
	if (strcmp(state, PORTOWNER_LISTEN) != 0 ||
	    (colon = strrchr(local, ':')) == NULL ||
	    sscanf(colon + 1, "%x", &p) != 1 || (int)p != port)
		return 0;
	return inode;
}

static unsigned long
portowner_inode(int port)
{
	/* Through self: the unit's ProcSubset=pid hides /proc/net, a link
	 * to the same files of the reader's network namespace. */
	static const char *const tables[] = { "/proc/self/net/tcp",
	    "/proc/self/net/tcp6" };
	char line[512];
	unsigned long inode = 0;

	for (size_t i = 0; i < 2 && inode == 0; i++) {
		FILE *f = fopen(tables[i], "re");
		if (f == NULL)
			continue;
		while (inode == 0 && fgets(line, sizeof(line), f) != NULL)
			inode = portowner_parse_line(line, port);
		fclose(f);
	}
	return inode;
}

/* Whether pid has an fd on socket inode. */
static bool
portowner_holds(long pid, const char *want)
{
	char dir[64], link[384], target[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	if ((d = opendir(dir)) == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		ssize_t n;
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, want) == 0;
	}
	closedir(d);
	return found;
}

bool
portowner_find(int port, struct portowner *o)
{
	unsigned long inode = portowner_inode(port);
	char want[64], path[64];
	struct dirent *de;
	DIR *d;

	memset(o, 0, sizeof(*o));
	if (inode == 0 || (d = opendir("/proc")) == NULL)
		return false;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (o->pid == 0 && (de = readdir(d)) != NULL) {
		char *end, *comm;
		long pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    !portowner_holds(pid, want))
			continue;
		o->pid = (int)pid;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if ((comm = read_file(path, 64, NULL, NULL)) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
			snprintf(o->comm, sizeof(o->comm), "%s", comm);
			free(comm);
		}
		o->haproxy = strncmp(o->comm, "haproxy", 7) == 0;
	}
	closedir(d);
	return o->pid != 0;
}
