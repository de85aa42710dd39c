/* pm-sockact [-b BACKLOG] [-r RESTARTS -p PIDFILE] ADDR PORT NAME
 *     [ADDR PORT NAME ...] -- PROGRAM [ARGS...]
 *
 * What systemd's socket activation does, for the tests: listen on each
 * ADDR:PORT (IPv4; in the order given, as fds 3, 4, ..., with BACKLOG,
 * by default SOMAXCONN, as a socket unit's ListenStream= lines and
 * Backlog=), set LISTEN_FDS to their number, LISTEN_PID to PROGRAM's pid
 * and LISTEN_FDNAMES to the names joined by ':', then run PROGRAM.
 *
 * Like systemd, it keeps a copy of the sockets of its own for as long as
 * PROGRAM runs: PROGRAM closing its copy does not free a port, so binding
 * it again fails, as it would under systemd.
 *
 * Without -r, PROGRAM is exec'ed (LISTEN_PID is our own pid), and a child
 * holds the sockets until PROGRAM is gone.
 *
 * With -r, we stay PROGRAM's parent, as systemd does with a .socket unit
 * and Restart=: PROGRAM is started again each time it exits, up to
 * RESTARTS times, on the same sockets (connections that arrive meanwhile
 * wait in their queues); its pid is written to PIDFILE at each start.
 * SIGTERM stops PROGRAM and us. Exits with PROGRAM's last status. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SOCKS	16

static volatile sig_atomic_t stopping;

static void
usage(void)
{
	fprintf(stderr, "usage: pm-sockact [-b BACKLOG] [-r RESTARTS -p "
	    "PIDFILE] ADDR PORT NAME [ADDR PORT NAME ...] -- PROGRAM "
	    "[ARGS...]\n");
	exit(2);
}

/* The child that holds the sockets until its parent (PROGRAM, once the
 * exec is done) is gone. */
static void
keep_sockets(pid_t parent)
{
	int null = open("/dev/null", O_RDWR);

	/* Nothing of the test's output: a pipe it reads must close when
	 * PROGRAM ends. */
	if (null != -1) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	for (;;)
		pause();
}

static int
listen_on(const char *addr, const char *port, int backlog)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "pm-sockact: bad address %s\n", addr);
		exit(2);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, backlog) == -1) {
		fprintf(stderr, "pm-sockact: %s:%s: %s\n", addr, port,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static void
set_env(pid_t pid, int nsocks, const char *names)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", (long)pid);
	setenv("LISTEN_PID", buf, 1);
	snprintf(buf, sizeof(buf), "%d", nsocks);
	setenv("LISTEN_FDS", buf, 1);
	setenv("LISTEN_FDNAMES", names, 1);
}

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* -r: PROGRAM as our child, started again as it exits. */
static int
supervise(int restarts, const char *pidfile, int nsocks, const char *names,
    char **argv)
{
	struct sigaction sa;
	int status = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (int run = 0; run <= restarts && !stopping; run++) {
		pid_t child = fork();
		FILE *f;

		if (child == -1) {
			perror("pm-sockact: fork");
			return 1;
		}
		if (child == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			set_env(getpid(), nsocks, names);
			execvp(argv[0], argv);
			perror("pm-sockact: exec");
			_exit(127);
		}
		if ((f = fopen(pidfile, "w")) != NULL) {
			fprintf(f, "%ld\n", (long)child);
			fclose(f);
		}
		for (;;) {
			if (waitpid(child, &status, 0) == child)
				break;
			if (errno != EINTR)
				return 1;
			if (stopping)
				kill(child, SIGTERM);
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
main(int argc, char **argv)
{
	char names[1024] = "", *pidfile = NULL;
	int backlog = SOMAXCONN, restarts = -1, nsocks = 0, c, i;
	pid_t self = getpid(), keeper;

	while ((c = getopt(argc, argv, "+b:r:p:")) != -1) {
		switch (c) {
		case 'b':
			backlog = atoi(optarg);
			break;
		case 'r':
			restarts = atoi(optarg);
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			usage();
		}
	}
	if ((restarts >= 0) != (pidfile != NULL))
		usage();
	for (i = optind; i < argc && strcmp(argv[i], "--") != 0; i += 3) {
		int fd;

		if (i + 2 >= argc || nsocks == MAX_SOCKS)
			usage();
		fd = listen_on(argv[i], argv[i + 1], backlog);
		if (fd != 3 + nsocks) {
			if (dup2(fd, 3 + nsocks) == -1) {
				perror("pm-sockact: dup2");
				return 1;
			}
			close(fd);
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
		    "%s%s", nsocks > 0 ? ":" : "", argv[i + 2]);
		nsocks++;
	}
	if (nsocks == 0 || i + 1 >= argc)
		usage();
	argv += i + 1;
	if (restarts >= 0)
		return supervise(restarts, pidfile, nsocks, names, argv);
	if ((keeper = fork()) == -1) {
		perror("pm-sockact: fork");
		return 1;
	}
	if (keeper == 0)
		keep_sockets(self);
	set_env(self, nsocks, names);
	execvp(argv[0], argv);
	perror("pm-sockact: exec");
	return 127;
}
