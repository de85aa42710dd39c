#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sdlisten.h"
#include "util.h"

#define SD_LISTEN_FDS_START 3

struct sdlisten_fd {
	int	 fd;
	char	*name;
};

static struct sdlisten_fd *sdlisten_v;
static size_t sdlisten_n;

int
sdlisten_init(void)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	char *end, *copy = NULL, *save = NULL, *tok;
	long n;

	if (pid == NULL || nfds == NULL)
		goto out;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0') {
		log_debug("LISTEN_PID %s is not ours: not using LISTEN_FDS",
		    pid);
		goto out;
	}
	n = strtol(nfds, &end, 10);
	if (*end != '\0' || n < 0 || n > 1024) {
		log_warnx("LISTEN_FDS '%s' is not a count of fds", nfds);
		goto out;
	}
	sdlisten_v = xrealloc(sdlisten_v, (sdlisten_n + (size_t)n + 1) *
	    sizeof(*sdlisten_v));
	copy = names ? xstrdup(names) : NULL;
	tok = copy ? strtok_r(copy, ":", &save) : NULL;
	for (long i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + (int)i;
		int flags = fcntl(fd, F_GETFD);
		if (flags == -1) {
			log_warn("LISTEN_FDS: fd %d", fd);
			continue;
		}
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
		sdlisten_v[sdlisten_n].fd = fd;
		sdlisten_v[sdlisten_n].name = xstrdup(tok ? tok : "unknown");
		sdlisten_n++;
		tok = tok ? strtok_r(NULL, ":", &save) : NULL;
	}
	free(copy);
	if (sdlisten_n > 0)
		log_info("socket activation: %zu sockets passed", sdlisten_n);
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)sdlisten_n;
}

void
sdlisten_adopt(int fd, const char *name)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags == -1) {
		log_warn("inherited socket fd %d", fd);
		return;
	}
	fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	sdlisten_v = xrealloc(sdlisten_v, (sdlisten_n + 1) *
	    sizeof(*sdlisten_v));
	sdlisten_v[sdlisten_n].fd = fd;
	sdlisten_v[sdlisten_n].name = xstrdup(name);
	sdlisten_n++;
}

void
sdlisten_close_unclaimed(const char *name)
{
	size_t i = 0;

	while (i < sdlisten_n) {
		if (strcmp(sdlisten_v[i].name, name) != 0) {
			i++;
			continue;
		}
		log_info("closing inherited socket fd %d (%s): no service or "
		    "listener uses it any more", sdlisten_v[i].fd, name);
		close(sdlisten_v[i].fd);
		free(sdlisten_v[i].name);
		sdlisten_v[i] = sdlisten_v[--sdlisten_n];
	}
}

static bool
sdlisten_matches(int fd, const char *addr, int port)
{
	struct sockaddr_storage ss, want;
	socklen_t len = sizeof(ss);
	int type, listening;
	socklen_t olen = sizeof(int);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    type != SOCK_STREAM)
		return false;
	olen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) == -1 ||
	    !listening)
		return false;
	memset(&want, 0, sizeof(want));
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		struct in_addr in;
		return inet_pton(AF_INET, addr, &in) == 1 &&
		    ntohs(a->sin_port) == port &&
		    a->sin_addr.s_addr == in.s_addr;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		struct in6_addr in6;
		return inet_pton(AF_INET6, addr, &in6) == 1 &&
		    ntohs(a->sin6_port) == port &&
		    memcmp(&a->sin6_addr, &in6, sizeof(in6)) == 0;
	}
	return false;
}

int
sdlisten_take(const char *addr, int port, char **name)
{
	for (size_t i = 0; i < sdlisten_n; i++) {
		if (!sdlisten_matches(sdlisten_v[i].fd, addr, port))
			continue;
		int fd = sdlisten_v[i].fd;
		log_info("using the inherited socket fd %d (%s) for %s port %d",
		    fd, sdlisten_v[i].name, addr, port);
		*name = sdlisten_v[i].name;
		sdlisten_v[i] = sdlisten_v[--sdlisten_n];
		return fd;
	}
	return -1;
}
