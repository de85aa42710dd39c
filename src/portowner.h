/* Who holds a TCP port that proxymgrd cannot bind: the listening socket
 * is looked up in /proc/net/tcp{,6} and its inode in every process's fds,
 * so that the error names the process instead of only "Address already
 * in use". Only called after a failed bind. */
#ifndef PM_PORTOWNER_H
#define PM_PORTOWNER_H

#include <stdbool.h>

struct portowner {
	int	 pid;		/* 0: not found (another user, a namespace) */
	char	 comm[32];	/* the program's name */
	bool	 haproxy;
};

/* Fill o for the process listening on port (any local address); false if
 * nothing could be found. */
bool portowner_find(int port, struct portowner *o);
/* One line of /proc/net/tcp or tcp6: the inode of a socket listening on
 * port, or 0. */
unsigned long portowner_parse_line(const char *line, int port);

#endif
