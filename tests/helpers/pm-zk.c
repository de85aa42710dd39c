/* pm-zk: a small real ZooKeeper client for the tests, on libzookeeper_mt.
 *
 *   pm-zk -s HOST:PORT put PATH DATA   create PATH (and its parents) or
 *                                      set its data
 *   pm-zk -s HOST:PORT rm PATH         delete PATH and everything below
 *   pm-zk -s HOST:PORT get PATH        print the data
 *   pm-zk -s HOST:PORT ls PATH         print the children, one a line
 *   pm-zk -s HOST:PORT mk PATH DATA    create PATH, whose parent exists
 *   pm-zk -s HOST:PORT del PATH        delete PATH, which has no child
 *                                      (one request, unlike rm)
 *   pm-zk -s HOST:PORT set PATH DATA   set the data of PATH, which exists
 *                                      (one request, unlike put)
 *   pm-zk -s HOST:PORT [-a] -          read commands from stdin, one a
 *                                      line ("put PATH DATA..."), all on
 *                                      one session; with -a, print "ok"
 *                                      or "failed" after each;
 *                                      "multi" ... "end" around mk lines
 *                                      creates them in one transaction
 *                                      (zoo_multi): all at once, or none
 *   pm-zk -s HOST:PORT -b -            the same, for bulk writes: mk, set
 *                                      and del are sent without waiting for
 *                                      their replies (up to 1,000 in
 *                                      flight); any other command first
 *                                      waits for those. 100,000 nodes take
 *                                      seconds instead of a minute
 *
 * Exits 0 when every command succeeded, 1 otherwise, 2 on usage errors. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#define PMZK_CONNECT_TIMEOUT_MS	10000
#define PMZK_BULK_WINDOW	1000

/* Bulk mode: requests in flight, and how many failed. The completions run
 * on the library's completion thread. */
static pthread_mutex_t pmzk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pmzk_cv = PTHREAD_COND_INITIALIZER;
static int pmzk_inflight, pmzk_bulk_failed;

static void
pmzk_on_session(zhandle_t *zh, int type, int state, const char *path,
    void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	(void)ctx;
}

static zhandle_t *
pmzk_connect(const char *servers)
{
	zhandle_t *zh;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	zoo_set_debug_level(0);
	if ((zh = zookeeper_init(servers, pmzk_on_session, 10000, NULL, NULL,
	    0)) == NULL) {
		fprintf(stderr, "pm-zk: zookeeper_init %s: %s\n", servers,
		    strerror(errno));
		return NULL;
	}
	for (int waited = 0; zoo_state(zh) != ZOO_CONNECTED_STATE; waited += 10) {
		if (waited >= PMZK_CONNECT_TIMEOUT_MS) {
			fprintf(stderr, "pm-zk: cannot connect to %s\n",
			    servers);
			zookeeper_close(zh);
			return NULL;
		}
		nanosleep(&ts, NULL);
	}
	return zh;
}

static int
pmzk_put(zhandle_t *zh, const char *path, const char *data)
{
	int len = (int)strlen(data), rc;
	char *parent = strdup(path);

	rc = zoo_set(zh, path, data, len, -1);
	if (rc == ZNONODE) {
		/* Create the parents, then the node. */
		for (char *p = strchr(parent + 1, '/'); p != NULL;
		    p = strchr(p + 1, '/')) {
			*p = '\0';
			rc = zoo_create(zh, parent, NULL, -1,
			    &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
			*p = '/';
			if (rc != ZOK && rc != ZNODEEXISTS)
				break;
		}
		rc = zoo_create(zh, path, data, len, &ZOO_OPEN_ACL_UNSAFE, 0,
		    NULL, 0);
		if (rc == ZNODEEXISTS)
			rc = zoo_set(zh, path, data, len, -1);
	}
	free(parent);
	if (rc != ZOK)
		fprintf(stderr, "pm-zk: put %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : -1;
}

static int
pmzk_mk(zhandle_t *zh, const char *path, const char *data)
{
	int rc = zoo_create(zh, path, data, (int)strlen(data),
	    &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);

	if (rc != ZOK)
		fprintf(stderr, "pm-zk: mk %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : -1;
}

static int
pmzk_rm(zhandle_t *zh, const char *path)
{
	struct String_vector kids = { 0, NULL };
	int rc = zoo_get_children(zh, path, 0, &kids);

	if (rc == ZNONODE)
		return 0;
	for (int i = 0; rc == ZOK && i < kids.count; i++) {
		char child[1024];
		snprintf(child, sizeof(child), "%s/%s",
		    strcmp(path, "/") == 0 ? "" : path, kids.data[i]);
		if (pmzk_rm(zh, child) == -1)
			rc = ZSYSTEMERROR;
	}
	deallocate_String_vector(&kids);
	if (rc == ZOK && strcmp(path, "/") != 0)
		rc = zoo_delete(zh, path, -1);
	if (rc == ZNONODE)
		rc = ZOK;
	if (rc != ZOK)
		fprintf(stderr, "pm-zk: rm %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : -1;
}

static int
pmzk_del(zhandle_t *zh, const char *path)
{
	int rc = zoo_delete(zh, path, -1);

	if (rc != ZOK)
		fprintf(stderr, "pm-zk: del %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : -1;
}

static int
pmzk_set(zhandle_t *zh, const char *path, const char *data)
{
	int rc = zoo_set(zh, path, data, (int)strlen(data), -1);

	if (rc != ZOK)
		fprintf(stderr, "pm-zk: set %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : -1;
}

static void
pmzk_bulk_done(int rc, const char *path)
{
	pthread_mutex_lock(&pmzk_mu);
	if (rc != ZOK) {
		fprintf(stderr, "pm-zk: %s: %s\n", path, zerror(rc));
		pmzk_bulk_failed++;
	}
	pmzk_inflight--;
	pthread_cond_signal(&pmzk_cv);
	pthread_mutex_unlock(&pmzk_mu);
}

static void
pmzk_on_created(int rc, const char *value, const void *data)
{
	(void)value;
	pmzk_bulk_done(rc, data);
	free((void *)data);
}

static void
pmzk_on_deleted(int rc, const void *data)
{
	pmzk_bulk_done(rc, data);
	free((void *)data);
}

static void
pmzk_on_set(int rc, const struct Stat *stat, const void *data)
{
	(void)stat;
	pmzk_bulk_done(rc, data);
	free((void *)data);
}

/* Wait until at most MAX requests are in flight; the failures so far. */
static int
pmzk_bulk_wait(int max)
{
	int failed;

	pthread_mutex_lock(&pmzk_mu);
	while (pmzk_inflight > max)
		pthread_cond_wait(&pmzk_cv, &pmzk_mu);
	failed = pmzk_bulk_failed;
	pthread_mutex_unlock(&pmzk_mu);
	return failed;
}

/* mk, set or del without waiting for the reply: 0 once sent. */
static int
pmzk_bulk_send(zhandle_t *zh, const char *cmd, const char *path,
    const char *data)
{
	char *p = strdup(path);
	int rc;

	pmzk_bulk_wait(PMZK_BULK_WINDOW - 1);
	pthread_mutex_lock(&pmzk_mu);
	pmzk_inflight++;
	pthread_mutex_unlock(&pmzk_mu);
	if (strcmp(cmd, "mk") == 0)
		rc = zoo_acreate(zh, path, data, (int)strlen(data),
		    &ZOO_OPEN_ACL_UNSAFE, 0, pmzk_on_created, p);
	else if (strcmp(cmd, "set") == 0)
		rc = zoo_aset(zh, path, data, (int)strlen(data), -1,
		    pmzk_on_set, p);
	else
		rc = zoo_adelete(zh, path, -1, pmzk_on_deleted, p);
	if (rc != ZOK) {
		fprintf(stderr, "pm-zk: %s %s: %s\n", cmd, path, zerror(rc));
		free(p);
		pthread_mutex_lock(&pmzk_mu);
		pmzk_inflight--;
		pthread_mutex_unlock(&pmzk_mu);
		return -1;
	}
	return 0;
}

static int
pmzk_get(zhandle_t *zh, const char *path)
{
	static char buf[1024 * 1024];
	int len = sizeof(buf), rc = zoo_get(zh, path, 0, buf, &len, NULL);

	if (rc != ZOK) {
		fprintf(stderr, "pm-zk: get %s: %s\n", path, zerror(rc));
		return -1;
	}
	if (len > 0)
		fwrite(buf, 1, (size_t)len, stdout);
	putchar('\n');
	return 0;
}

static int
pmzk_ls(zhandle_t *zh, const char *path)
{
	struct String_vector kids = { 0, NULL };
	int rc = zoo_get_children(zh, path, 0, &kids);

	if (rc != ZOK) {
		fprintf(stderr, "pm-zk: ls %s: %s\n", path, zerror(rc));
		return -1;
	}
	for (int i = 0; i < kids.count; i++)
		puts(kids.data[i]);
	deallocate_String_vector(&kids);
	return 0;
}

static int
pmzk_run(zhandle_t *zh, const char *cmd, const char *path, const char *data)
{
	if (strcmp(cmd, "put") == 0)
		return pmzk_put(zh, path, data != NULL ? data : "");
	if (strcmp(cmd, "mk") == 0)
		return pmzk_mk(zh, path, data != NULL ? data : "");
	if (strcmp(cmd, "rm") == 0)
		return pmzk_rm(zh, path);
	if (strcmp(cmd, "del") == 0)
		return pmzk_del(zh, path);
	if (strcmp(cmd, "set") == 0)
		return pmzk_set(zh, path, data != NULL ? data : "");
	if (strcmp(cmd, "get") == 0)
		return pmzk_get(zh, path);
	if (strcmp(cmd, "ls") == 0)
		return pmzk_ls(zh, path);
	fprintf(stderr, "pm-zk: unknown command '%s'\n", cmd);
	return -1;
}

/* The mk lines between "multi" and "end". */
struct pmzk_multi {
	bool	 open;
	int	 n;
	char	**paths, **datas;
};

static void
pmzk_multi_add(struct pmzk_multi *m, const char *path, const char *data)
{
	m->paths = realloc(m->paths, (size_t)(m->n + 1) * sizeof(char *));
	m->datas = realloc(m->datas, (size_t)(m->n + 1) * sizeof(char *));
	if (m->paths == NULL || m->datas == NULL) {
		fprintf(stderr, "pm-zk: out of memory\n");
		exit(1);
	}
	m->paths[m->n] = strdup(path);
	m->datas[m->n] = strdup(data != NULL ? data : "");
	m->n++;
}

static int
pmzk_multi_run(zhandle_t *zh, struct pmzk_multi *m)
{
	zoo_op_t *ops = calloc((size_t)m->n + 1, sizeof(*ops));
	zoo_op_result_t *res = calloc((size_t)m->n + 1, sizeof(*res));
	int rc;

	for (int i = 0; i < m->n; i++)
		zoo_create_op_init(&ops[i], m->paths[i], m->datas[i],
		    (int)strlen(m->datas[i]), &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
	rc = m->n > 0 ? zoo_multi(zh, m->n, ops, res) : ZOK;
	if (rc != ZOK)
		fprintf(stderr, "pm-zk: multi of %d creates: %s\n", m->n,
		    zerror(rc));
	for (int i = 0; i < m->n; i++) {
		free(m->paths[i]);
		free(m->datas[i]);
	}
	free(m->paths);
	free(m->datas);
	free(ops);
	free(res);
	memset(m, 0, sizeof(*m));
	return rc == ZOK ? 0 : -1;
}

/* Lines of "CMD PATH [DATA...]"; DATA is the rest of the line. */
static int
pmzk_script(zhandle_t *zh, bool ack, bool bulk)
{
	char line[65536];
	struct pmzk_multi multi = { false, 0, NULL, NULL };
	int failed = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *cmd, *path, *data = NULL, *nl;
		int rc;

		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		cmd = line;
		if (*cmd == '\0' || *cmd == '#')
			continue;
		if (strcmp(cmd, "multi") == 0 || strcmp(cmd, "end") == 0) {
			rc = 0;
			if (strcmp(cmd, "end") == 0)
				rc = pmzk_multi_run(zh, &multi);
			else
				multi.open = true;
			if (rc == -1)
				failed = 1;
			if (ack) {
				puts(rc == 0 ? "ok" : "failed");
				fflush(stdout);
			}
			continue;
		}
		if ((path = strchr(cmd, ' ')) == NULL) {
			fprintf(stderr, "pm-zk: bad line '%s'\n", line);
			failed = 1;
			if (ack) {
				puts("failed");
				fflush(stdout);
			}
			continue;
		}
		*path++ = '\0';
		if ((data = strchr(path, ' ')) != NULL)
			*data++ = '\0';
		if (multi.open && strcmp(cmd, "mk") == 0) {
			pmzk_multi_add(&multi, path, data);
			continue;
		}
		if (bulk && (strcmp(cmd, "mk") == 0 ||
		    strcmp(cmd, "set") == 0 || strcmp(cmd, "del") == 0))
			rc = pmzk_bulk_send(zh, cmd, path,
			    data != NULL ? data : "");
		else {
			if (bulk && pmzk_bulk_wait(0) > 0)
				failed = 1;
			rc = pmzk_run(zh, cmd, path, data);
		}
		if (rc == -1)
			failed = 1;
		if (ack) {
			puts(rc == 0 ? "ok" : "failed");
			fflush(stdout);
		}
	}
	if (bulk && pmzk_bulk_wait(0) > 0)
		failed = 1;
	return failed;
}

int
main(int argc, char **argv)
{
	const char *servers = NULL;
	bool ack = false, bulk = false;
	zhandle_t *zh;
	int c, rc;

	while ((c = getopt(argc, argv, "abs:")) != -1) {
		if (c == 'a')
			ack = true;
		else if (c == 'b')
			bulk = true;
		else if (c == 's')
			servers = optarg;
		else
			goto usage;
	}
	argc -= optind;
	argv += optind;
	if (servers == NULL || argc < 1 || (ack && bulk) ||
	    (strcmp(argv[0], "-") != 0 && (argc < 2 || bulk)))
		goto usage;
	if ((zh = pmzk_connect(servers)) == NULL)
		return 1;
	if (strcmp(argv[0], "-") == 0)
		rc = pmzk_script(zh, ack, bulk);
	else
		rc = pmzk_run(zh, argv[0], argv[1], argc > 2 ? argv[2] : NULL)
		    == 0 ? 0 : 1;
	zookeeper_close(zh);
	return rc;
usage:
	fprintf(stderr, "usage: pm-zk -s HOST:PORT put PATH DATA | mk PATH DATA "
	    "| rm PATH | del PATH | set PATH DATA | get PATH | ls PATH "
	    "| [-a | -b] -\n");
	return 2;
}
