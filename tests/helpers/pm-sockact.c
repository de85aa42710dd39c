/* pm-sockact ADDR PORT NAME -- PROGRAM [ARGS...]: what systemd's socket
 * activation does, for the tests: listen on ADDR:PORT as fd 3, set
 * LISTEN_FDS=1, LISTEN_PID to our own pid (exec keeps it) and
 * LISTEN_FDNAMES=NAME, then exec PROGRAM.
 *
 * Like systemd, it keeps a copy of the socket of its own for as long as
 * PROGRAM runs (a child that holds it, and dies with PROGRAM): PROGRAM
 * closing its copy does not free the port, so binding ADDR:PORT again
 * fails, as it would under systemd. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The child that holds the socket until its parent (PROGRAM, once the
 * exec is done) is gone. */
static void
keep_socket(pid_t parent)
{
	int null = open("/dev/null", O_RDWR);

	/* Nothing of the test's output: a pipe it reads must close when
	 * PROGRAM ends. */
	if (null != -1) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 3)
			close(null);
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	char pid[32];
	int fd, one = 1;
	pid_t self = getpid(), keeper;

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
	if ((keeper = fork()) == -1) {
		perror("pm-sockact: fork");
		return 1;
	}
	if (keeper == 0)
		keep_socket(self);
	snprintf(pid, sizeof(pid), "%ld", (long)self);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", argv[3], 1);
	execvp(argv[5], argv + 5);
	perror("pm-sockact: exec");
	return 127;
}
