/* pm-sockact ADDR PORT NAME -- PROGRAM [ARGS...]: what systemd's socket
 * activation does, for the tests: listen on ADDR:PORT as fd 3, set
 * LISTEN_FDS=1, LISTEN_PID to our own pid (exec keeps it) and
 * LISTEN_FDNAMES=NAME, then exec PROGRAM. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	char pid[32];
	int fd, one = 1;

	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: pm-sockact ADDR PORT NAME -- PROGRAM "
		    "[ARGS...]\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "pm-sockact: bad address %s\n", argv[1]);
		return 2;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		perror("pm-sockact");
		return 1;
	}
	if (fd != 3) {
		if (dup2(fd, 3) == -1) {
			perror("pm-sockact: dup2");
			return 1;
		}
		close(fd);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", argv[3], 1);
	execvp(argv[5], argv + 5);
	perror("pm-sockact: exec");
	return 127;
}
