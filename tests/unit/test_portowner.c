/* Unit tests for portowner: the process named when a port cannot be
 * bound. Lines of /proc/net/tcp{,6}, and a real listener of a child. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portowner.h"

static void
test_parse_listen_v4(void **state)
{
	(void)state;
	const char *line = "   0: 0100007F:4B4C 00000000:0000 0A 00000000:"
	    "00000000 00:00000000 00000000     0        0 123456 1 "
	    "0000000000000000 100 0 0 10 0";

	assert_int_equal(portowner_parse_line(line, 0x4B4C), 123456);
	assert_int_equal(portowner_parse_line(line, 0x4B4D), 0);
}

static void
test_parse_v6_and_states(void **state)
{
	(void)state;
	const char *v6 = "   1: 00000000000000000000000001000000:1F90 "
	    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
	    "00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 "
	    "0 10 0";
	/* An established connection from the same port is not a holder. */
	const char *est = "   2: 0100007F:1F90 0100007F:D431 01 00000000:"
	    "00000000 00:00000000 00000000     0        0 888 1 "
	    "0000000000000000 20 4 30 10 -1";

	assert_int_equal(portowner_parse_line(v6, 8080), 777);
	assert_int_equal(portowner_parse_line(est, 8080), 0);
	assert_int_equal(portowner_parse_line("  sl  local_address rem_address"
	    "   st tx_queue", 8080), 0);
	assert_int_equal(portowner_parse_line("", 8080), 0);
}

static void
test_find_child(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct portowner o;
	int pfd[2], port = 0, status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(fd, 1) == -1 ||
		    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
			_exit(1);
		port = ntohs(sin.sin_port);
		if (write(pfd[1], &port, sizeof(port)) != sizeof(port))
			_exit(1);
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(read(pfd[0], &port, sizeof(port)), sizeof(port));
	assert_true(portowner_find(port, &o));
	assert_int_equal(o.pid, pid);
	assert_string_equal(o.comm, "test_portowner");
	assert_false(o.haproxy);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_false(portowner_find(port, &o));
	close(pfd[0]);
	close(pfd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen_v4),
		cmocka_unit_test(test_parse_v6_and_states),
		cmocka_unit_test(test_find_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
