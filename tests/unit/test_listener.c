/* Unit tests for held listen sockets (src/haproxy/listener.c) and the
 * builds that want them: a build binds nothing and takes nothing from a
 * pool; a claim takes the pooled socket (LISTEN_FDS, upgrade) before it
 * binds; the last release gives a pooled socket back to its own pool and
 * closes one bound here; a failed claim is remembered, and a build made
 * after it leaves the port out or keeps the running one. Real sockets on
 * 127.0.0.1, ephemeral ports only. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "haproxy/listener.h"
#include "haproxy/planner.h"
#include "model.h"
#include "pmconfig.h"
#include "sdlisten.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

#define LO	"127.0.0.1"

/* A socket listening on 127.0.0.1, on an ephemeral port (*port). */
static int
listening(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A port nothing listens on (bound, then closed). */
static int
free_port(void)
{
	int port, fd = listening(&port);

	close(fd);
	return port;
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* The port of a socket. */
static int
fd_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* Nothing is left: every listener let go, every failure forgotten. */
static int
teardown(void **state)
{
	(void)state;
	listener_forget_failures();
	listener_set_placeholder(false);
	assert_int_equal(listener_count(), 0);
	return 0;
}

static void
test_want_binds_nothing(void **state)
{
	int port, fd = listening(&port);
	struct listener *a, *b;

	(void)state;
	sdlisten_adopt(fd, "web");
	a = listener_want(LO, port);
	b = listener_want(LO, port);
	assert_ptr_equal(a, b);
	assert_int_equal(a->fd, -1);
	assert_null(listener_failure(a));
	listener_release(a);
	listener_release(b);
	assert_int_equal(listener_count(), 0);
	/* Still in its pool: wanting took nothing. */
	a = listener_want(LO, port);
	assert_int_equal(listener_claim(a, NULL), 0);
	assert_int_equal(a->fd, fd);
	listener_release(a);
	/* Back in the pool; empty it for the next test. */
	char *name = NULL;
	assert_int_equal(sdlisten_take(LO, port, &name), fd);
	free(name);
	close(fd);
}

static void
test_pool_taken_and_given_back(void **state)
{
	int port, fd = listening(&port);
	struct listener *l;
	char *name = NULL;

	(void)state;
	sdlisten_adopt(fd, "web");
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, NULL), 0);
	assert_int_equal(l->fd, fd);
	assert_string_equal(l->pool, "web");
	/* Idempotent. */
	assert_int_equal(listener_claim(l, NULL), 0);
	assert_int_equal(l->fd, fd);
	{
		int fds[4];
		assert_int_equal(listener_fds(fds, 4), 1);
		assert_int_equal(fds[0], fd);
	}
	/* Taken: nothing left in the pool. */
	assert_int_equal(sdlisten_take(LO, port, &name), -1);
	listener_release(l);
	assert_true(fd_open(fd));
	/* The upgrade pool is closed at a commit; systemd's socket is not
	 * in it. */
	sdlisten_close_unclaimed("upgrade");
	assert_true(fd_open(fd));
	/* Back under its own name, claimable again. */
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, NULL), 0);
	assert_int_equal(l->fd, fd);
	assert_string_equal(l->pool, "web");
	listener_release(l);
	assert_int_equal(sdlisten_take(LO, port, &name), fd);
	assert_string_equal(name, "web");
	free(name);
	close(fd);
}

static void
test_upgrade_socket_closed_when_unused(void **state)
{
	int port, fd = listening(&port);
	struct listener *l;

	(void)state;
	sdlisten_adopt(fd, "upgrade");
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, NULL), 0);
	assert_string_equal(l->pool, "upgrade");
	/* Claimed: a commit leaves it alone. */
	sdlisten_close_unclaimed("upgrade");
	assert_true(fd_open(fd));
	listener_release(l);
	assert_true(fd_open(fd));
	sdlisten_close_unclaimed("upgrade");
	assert_false(fd_open(fd));
}

static void
test_bound_here_closed(void **state)
{
	int port = free_port(), fd, again;
	struct listener *l;

	(void)state;
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, NULL), 0);
	fd = l->fd;
	assert_true(fd >= 0);
	assert_null(l->pool);
	assert_int_equal(fd_port(fd), port);
	listener_release(l);
	assert_false(fd_open(fd));
	/* The port is free again. */
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, NULL), 0);
	again = l->fd;
	assert_true(again >= 0);
	listener_release(l);
}

static void
test_failure_remembered(void **state)
{
	int port, holder = listening(&port);
	struct listener *l, *m;
	char *err = NULL;

	(void)state;
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "cannot bind"));
	assert_int_equal(l->fd, -1);
	assert_string_equal(listener_failure(l), err);
	free(err);
	/* Remembered by address and port, not by this listener. */
	listener_release(l);
	m = listener_want(LO, port);
	assert_non_null(listener_failure(m));
	listener_forget_failures();
	assert_null(listener_failure(m));
	assert_int_equal(listener_claim(m, NULL), -1);
	assert_non_null(listener_failure(m));
	/* Freed: the next claim binds it, and the failure is gone. */
	close(holder);
	assert_int_equal(listener_claim(m, NULL), 0);
	assert_null(listener_failure(m));
	listener_release(m);
}

static void
test_placeholder(void **state)
{
	int port, fd = listening(&port);
	struct listener *l;
	char *name = NULL;

	(void)state;
	sdlisten_adopt(fd, "web");
	listener_set_placeholder(true);
	l = listener_want(LO, port);
	assert_int_equal(listener_claim(l, NULL), 0);
	/* --check: an ephemeral port, the pool untouched. */
	assert_true(l->fd != fd);
	assert_true(fd_port(l->fd) != port);
	assert_null(l->pool);
	listener_release(l);
	assert_int_equal(sdlisten_take(LO, port, &name), fd);
	free(name);
	close(fd);
}

/* ---- builds ---- */

static struct pm_config *
config(void)
{
	const char *yml = "haproxy:\n  bind_address: 127.0.0.1\n";
	struct pm_config *cfg = NULL;
	char *err = NULL;

	if (pmconfig_parse(yml, strlen(yml), "test.yml", &cfg, &err) != 0)
		fail_msg("config: %s", err);
	return cfg;
}


/* name on port, one server 127.0.0.1:SERVER_PORT. */
static void
set_service_server(struct model *m, const char *name, int port,
    int server_port)
{
	char *json = xasprintf("{\"type\": \"static\", \"port\": %d, "
	    "\"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d}]}",
	    port, server_port);
	struct service_def *def = NULL;
	char *err = NULL;

	if (svcdef_parse(name, json, strlen(json), "test", &def, &err) != 0)
		fail_msg("%s: %s", json, err);
	free(json);
	model_set_def(m, def);
}

/* A change to one service builds, renders and plans that service alone:
 * the others' entries are the live ones, shared; a reload builds every
 * entry anew; and the text assembled from shared sections is the text a
 * build from scratch renders. */
static void
set_service(struct model *m, const char *name, int port)
{
	set_service_server(m, name, port, 1);
}

static void
test_build_shares_unchanged(void **state)
{
	struct pm_config *cfg = config();
	struct snapshot *live, *next, *full;
	struct plan p;
	struct model m;
	int port[3] = { free_port(), free_port(), free_port() };

	(void)state;
	model_init(&m, uv_default_loop(), NULL, NULL);
	set_service_server(&m, "a", port[0], 1);
	set_service_server(&m, "b", port[1], 1);
	set_service_server(&m, "c", port[2], 1);
	live = model_snapshot(&m, cfg, NULL, true);
	assert_int_equal(live->n, 3);

	next = model_snapshot(&m, cfg, live, false);
	for (size_t i = 0; i < 3; i++)
		assert_ptr_equal(next->v[i], live->v[i]);
	assert_true(snapshot_same(next, live));
	snapshot_free(next);

	set_service_server(&m, "b", port[1], 2);
	next = model_snapshot(&m, cfg, live, false);
	assert_ptr_equal(next->v[0], live->v[0]);
	assert_true(next->v[1] != live->v[1]);
	assert_ptr_equal(next->v[2], live->v[2]);
	assert_int_equal(snapshot_diff(live, next), SNAPSHOT_DIFF_SECTIONS);
	plan_build(&p, live, next);
	assert_null(p.why);
	assert_int_equal(p.servers_added, 1);
	assert_int_equal(p.servers_retired, 1);
	for (size_t i = 0; i < p.n; i++)
		assert_non_null(strstr(p.v[i].cmd, " b/"));
	plan_free(&p);

	full = model_snapshot(&m, cfg, live, true);
	for (size_t i = 0; i < 3; i++)
		assert_true(full->v[i] != live->v[i]);
	assert_string_equal(snapshot_text(next), snapshot_text(full));
	/* Written section by section, it is the same text. */
	{
		char path[] = "/tmp/pm-test-write.XXXXXX", *err = NULL, *text;
		int fd = mkstemp(path);
		assert_true(fd != -1);
		close(fd);
		assert_int_equal(snapshot_write(next, path, &err), 0);
		text = read_file(path, 1 << 20, NULL, &err);
		assert_non_null(text);
		assert_string_equal(text, snapshot_text(next));
		free(text);
		unlink(path);
	}
	assert_true(snapshot_fingerprint(next) == snapshot_fingerprint(full));
	assert_ptr_equal(snapshot_service_at_line(next,
	    snapshot_first_line(full, 2)), next->v[2]);
	snapshot_free(full);
	snapshot_free(live);
	/* The entries next shared outlive the snapshot they came from. */
	assert_int_equal(next->v[0]->refs, 1);
	assert_non_null(strstr(snapshot_text(next), "listen a\n"));
	snapshot_free(next);
	model_free(&m);
	pmconfig_unref(cfg);
}

static void
test_build_takes_nothing(void **state)
{
	struct pm_config *cfg = config();
	int port, fd = listening(&port);
	struct snapshot *a, *b;
	struct model m;

	(void)state;
	sdlisten_adopt(fd, "web");
	model_init(&m, uv_default_loop(), NULL, NULL);
	set_service(&m, "web", port);
	/* Built and thrown away, twice: the socket stays in its pool. */
	a = model_snapshot(&m, cfg, NULL, false);
	assert_int_equal(a->n, 1);
	assert_int_equal(a->v[0]->listener->fd, -1);
	b = model_snapshot(&m, cfg, NULL, true);
	assert_ptr_equal(a->v[0]->listener, b->v[0]->listener);
	snapshot_free(a);
	snapshot_free(b);
	assert_int_equal(listener_count(), 0);
	/* The reload's claim takes it; dropping the plan gives it back. */
	a = model_snapshot(&m, cfg, NULL, true);
	assert_int_equal(snapshot_claim(a), 0);
	assert_int_equal(a->v[0]->listener->fd, fd);
	snapshot_free(a);
	a = model_snapshot(&m, cfg, NULL, true);
	assert_int_equal(snapshot_claim(a), 0);
	assert_int_equal(a->v[0]->listener->fd, fd);
	snapshot_free(a);
	model_free(&m);
	char *name = NULL;
	assert_int_equal(sdlisten_take(LO, port, &name), fd);
	free(name);
	close(fd);
	pmconfig_unref(cfg);
}

static void
test_build_after_failed_claim(void **state)
{
	struct pm_config *cfg = config();
	int busy, holder = listening(&busy), port = free_port();
	struct snapshot *live, *next, *again;
	struct listener *held;
	struct model m;

	(void)state;
	model_init(&m, uv_default_loop(), NULL, NULL);
	/* A new service on a port something else holds: wanted at first,
	 * left out once its claim failed. */
	set_service(&m, "new", busy);
	next = model_snapshot(&m, cfg, NULL, true);
	assert_int_equal(next->n, 1);
	assert_int_equal(snapshot_claim(next), -1);
	again = model_snapshot(&m, cfg, NULL, true);
	snapshot_free(next);
	assert_int_equal(again->n, 0);
	assert_int_equal(snapshot_claim(again), 0);
	snapshot_free(again);
	model_remove(&m, "new");

	/* A running service moved to that port keeps the socket it has. */
	set_service(&m, "web", port);
	live = model_snapshot(&m, cfg, NULL, true);
	assert_int_equal(snapshot_claim(live), 0);
	held = live->v[0]->listener;
	set_service(&m, "web", busy);
	listener_forget_failures();	/* as a reload does */
	next = model_snapshot(&m, cfg, live, true);
	assert_int_equal(next->v[0]->listener->port, busy);
	assert_int_equal(snapshot_claim(next), -1);
	again = model_snapshot(&m, cfg, live, true);
	snapshot_free(next);
	assert_int_equal(again->n, 1);
	assert_ptr_equal(again->v[0]->listener, held);
	assert_int_equal(snapshot_claim(again), 0);
	assert_true(snapshot_same(again, live));
	snapshot_free(again);
	/* Builds between reloads go on leaving the port out... */
	next = model_snapshot(&m, cfg, live, false);
	assert_ptr_equal(next->v[0]->listener, held);
	snapshot_free(next);
	/* ...until a reload tries it again, and it is free. */
	close(holder);
	listener_forget_failures();
	next = model_snapshot(&m, cfg, live, true);
	assert_int_equal(snapshot_claim(next), 0);
	assert_int_equal(fd_port(next->v[0]->listener->fd), busy);
	snapshot_free(next);
	snapshot_free(live);
	model_free(&m);
	pmconfig_unref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_want_binds_nothing, teardown),
		cmocka_unit_test_teardown(test_pool_taken_and_given_back,
		    teardown),
		cmocka_unit_test_teardown(
		    test_upgrade_socket_closed_when_unused, teardown),
		cmocka_unit_test_teardown(test_bound_here_closed, teardown),
		cmocka_unit_test_teardown(test_failure_remembered, teardown),
		cmocka_unit_test_teardown(test_placeholder, teardown),
		cmocka_unit_test_teardown(test_build_takes_nothing, teardown),
		cmocka_unit_test_teardown(test_build_after_failed_claim,
		    teardown),
		cmocka_unit_test_teardown(test_build_shares_unchanged, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
