#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orphans.h"

bool
orphans_cmdline_matches(const char *buf, size_t len, const char *config_path)
{
	const char *arg = buf, *end = buf + len, *prog;
	bool after_f = false, first = true;

	while (arg < end) {
		size_t n = strnlen(arg, (size_t)(end - arg));
		if (first) {
			prog = memrchr(arg, '/', n);
			prog = prog != NULL ? prog + 1 : arg;
			if (strncmp(prog, "haproxy", 7) != 0)
				return false;
			first = false;
		} else if (after_f && n == strlen(config_path) &&
		    memcmp(arg, config_path, n) == 0)
			return true;
		after_f = n == 2 && memcmp(arg, "-f", 2) == 0;
		arg += n + 1;
	}
	return false;
}

size_t
orphans_find(const char *config_path, int *pids, size_t max)
{
	char path[64], buf[4096];
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		ssize_t len;
		int fd;

		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		if (stat(path, &st) == -1 || st.st_uid != geteuid())
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		len = read(fd, buf, sizeof(buf));
		close(fd);
		if (len > 0 && orphans_cmdline_matches(buf, (size_t)len,
		    config_path))
			pids[n++] = (int)pid;
	}
	closedir(d);
	return n;
}
