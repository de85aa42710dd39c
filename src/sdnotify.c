#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "util.h"

int
sdnotify_addr(const char *value, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n;

	if (value == NULL || (value[0] != '/' && value[0] != '@'))
		return -1;
	n = strlen(value);
	if (n < 2 || n >= sizeof(sa->sun_path))
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, value, n);
	if (value[0] == '@')
		sa->sun_path[0] = '\0';	/* abstract: no terminating NUL */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (value[0] == '@' ? 0 : 1));
	return 0;
}

int
sdnotify(const char *state)
{
	const char *value = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (value == NULL || value[0] == '\0')
		return 0;
	if (sdnotify_addr(value, &sa, &len) == -1) {
		log_warnx("NOTIFY_SOCKET '%s' is not a usable socket address",
		    value);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("sd_notify: socket");
		return -1;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len) == -1) {
		log_warn("sd_notify to %s", value);
		close(fd);
		return -1;
	}
	close(fd);
	log_debug("sd_notify: %s", state);
	return 1;
}

int
sdnotifyf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		va_end(ap);
		return -1;
	}
	va_end(ap);
	rc = sdnotify(s);
	free(s);
	return rc;
}
