/* proxymgrctl: ask a running proxymgrd what it knows and does, over its
 * control socket (README "Control socket"), and publish service
 * definitions into ZooKeeper, checked by proxymgrd's own rules. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zookeeper/zookeeper.h>

#include "pmconfig.h"
#include "service.h"
#include "util.h"

/* A reply may be large (thousands of servers), never unbounded. */
#define CTL_REPLY_MAX		((size_t)256 << 20)
#define CTL_REPLY_TIMEOUT_MS	120000
#define CTL_RELOAD_WAIT_MS	120000
#define ZK_CONNECT_TIMEOUT_MS	10000

static const char *prog = "proxymgrctl";

static void
usage(FILE *f)
{
	fprintf(f,
"usage: proxymgrctl [-S SOCKET | -c proxymgr.yml] COMMAND [--json]\n"
"       proxymgrctl publish NAME FILE.json --zk HOSTS [--path PATH]\n"
"\n"
"Asks a running proxymgrd over its control socket. Commands:\n"
"  status           version and uptime, the serving and draining HAProxy,\n"
"                   pending changes, the last reload and check\n"
"  services         each service: type, port, state (ok, stale, rejected\n"
"                   and why), servers, last change, source\n"
"  servers SERVICE  its servers: what proxymgrd wants beside what HAProxy\n"
"                   reports (operational and admin state, check)\n"
"  watchers         each source's health (ZooKeeper session, DNS answers,\n"
"                   files)\n"
"  reloads          the last 50 reloads, runtime batches and restarts\n"
"  reload           re-read proxymgr.yml and reload HAProxy (as SIGHUP,\n"
"                   even if nothing changed); waits for the outcome\n"
"  check            run haproxy -c on the running configuration\n"
"  publish NAME FILE.json --zk HOSTS [--path PATH]\n"
"                   check a service definition with proxymgrd's rules,\n"
"                   then create or update PATH/NAME in ZooKeeper\n"
"                   (PATH: default /service_config)\n"
"\n"
"  -S, --socket SOCKET  the control socket\n"
"  -c, --config FILE    the proxymgr.yml proxymgrd runs from: its\n"
"                       control.socket, or proxymgrd.sock beside its\n"
"                       haproxy.socket_path (the default without -S or -c:\n"
"                       /run/proxymgr/proxymgrd.sock)\n"
"  -j, --json           print proxymgrd's reply as it is: one JSON object\n"
"  -V, --version        print the version and exit\n"
"  -h, --help           print this help and exit\n"
"\n"
"Exit status: 0 when the command succeeded (check: the configuration is\n"
"valid; reload: it went live), 1 otherwise, 2 on a usage error.\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the control socket ------------------------------------------------ */

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		die("control socket %s: path too long", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT)
			die("control socket %s does not exist: is proxymgrd "
			    "running (with this configuration)? Use -S SOCKET "
			    "or -c proxymgr.yml to name another", path);
		if (errno == ECONNREFUSED)
			die("control socket %s: nothing listens there: "
			    "proxymgrd is not running", path);
		die("control socket %s: %s", path, strerror(errno));
	}
	return fd;
}

/* Send one request, read the one line of reply (without its newline). */
static char *
ctl_request(const char *path, const char *request)
{
	int fd = ctl_connect(path);
	size_t len = strlen(request), off = 0;
	struct sbuf sb;
	char buf[65536];

	while (off < len) {
		ssize_t n = write(fd, request + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("control socket %s: %s", path, strerror(errno));
		off += (size_t)n;
	}
	sbuf_init(&sb);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int r = poll(&pfd, 1, CTL_REPLY_TIMEOUT_MS);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			die("control socket %s: no reply within %d s", path,
			    CTL_REPLY_TIMEOUT_MS / 1000);
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("control socket %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		sbuf_add(&sb, buf, (size_t)n);
		if (memchr(buf, '\n', (size_t)n) != NULL)
			break;
		if (sb.len > CTL_REPLY_MAX)
			die("control socket %s: reply larger than %zu MiB",
			    path, CTL_REPLY_MAX >> 20);
	}
	close(fd);
	if (sb.len == 0)
		die("control socket %s: closed without a reply", path);
	char *line = sbuf_take(&sb);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static json_t *
ctl_parse_reply(const char *line)
{
	json_error_t jerr;
	json_t *j = json_loads(line, 0, &jerr);

	if (j == NULL || !json_is_object(j))
		die("reply is not a JSON object: %s", jerr.text);
	return j;
}

/* ---- formatting ------------------------------------------------------- */

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static long long
jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static double
jnum(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static bool
jnull(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v == NULL || json_is_null(v);
}

/* "3s", "2m05s", "1h02m", "3d04h". */
static const char *
fmt_age(double s, char *buf, size_t len)
{
	long long t = (long long)s;

	if (s < 10)
		snprintf(buf, len, "%.1fs", s < 0 ? 0 : s);
	else if (t < 60)
		snprintf(buf, len, "%llds", t);
	else if (t < 3600)
		snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lldh%02lldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
	return buf;
}

/* A Unix-ms time as local "YYYY-MM-DD HH:MM:SS" and how long ago. */
static const char *
fmt_time(json_t *v, char *buf, size_t len)
{
	char age[32];
	time_t t;
	struct tm tm;
	long long ms;

	if (v == NULL || !json_is_integer(v)) {
		snprintf(buf, len, "never");
		return buf;
	}
	ms = json_integer_value(v);
	t = (time_t)(ms / 1000);
	localtime_r(&t, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, " (%s ago)", fmt_age((double)(wall_ms() -
	    ms) / 1000.0, age, sizeof(age)));
	return buf;
}

/* Aligned columns: the last one is not padded. */
struct table {
	char	**cells;
	size_t	 ncols, nrows;
};

static void
table_init(struct table *t, size_t ncols, ...)
{
	va_list ap;

	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
	t->cells = xrealloc(t->cells, ncols * sizeof(char *));
	va_start(ap, ncols);
	for (size_t i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows = 1;
}

static void
table_row(struct table *t, ...)
{
	va_list ap;

	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols *
	    sizeof(char *));
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * t->ncols + i] = xstrdup(s ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

static void
table_print(struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		struct sbuf line;
		sbuf_init(&line);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				sbuf_puts(&line, s);
			else
				sbuf_printf(&line, "%-*s  ", (int)w[c], s);
		}
		/* An empty last column leaves no trailing blanks. */
		while (line.len > 0 && line.buf[line.len - 1] == ' ')
			line.buf[--line.len] = '\0';
		printf("%s\n", line.buf ? line.buf : "");
		sbuf_free(&line);
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(w);
}

static void
print_entry_line(const char *label, json_t *e)
{
	char tbuf[64];

	if (e == NULL || json_is_null(e)) {
		printf("%-13s none\n", label);
		return;
	}
	printf("%-13s %s, %s [%s], %.1f ms, %s%s%s\n", label,
	    fmt_time(json_object_get(e, "time_ms"), tbuf, sizeof(tbuf)),
	    jstr(e, "kind"), jstr(e, "reason"), jnum(e, "duration_ms"),
	    json_is_true(json_object_get(e, "ok")) ? "ok" : "FAILED",
	    jnull(e, "error") ? "" : ": ", jstr(e, "error"));
	printf("%-13s why: %s\n", "", jstr(e, "why"));
}

static void
show_status(json_t *r)
{
	json_t *h = json_object_get(r, "haproxy"), *p, *c;
	json_t *pend = json_object_get(r, "pending");
	json_t *svc = json_object_get(r, "services");
	json_t *cnt = json_object_get(r, "counters");
	char age[32], tbuf[64];
	size_t i;

	printf("proxymgrd %s (pid %lld), up %s\n", jstr(r, "version"),
	    jint(r, "pid"), fmt_age(jnum(r, "uptime_s"), age, sizeof(age)));
	printf("%-13s %s\n", "config", jstr(r, "config"));
	printf("%-13s %s\n", "state", jstr(r, "state"));
	if (h == NULL || json_is_null(h))
		printf("%-13s none serves\n", "haproxy");
	else {
		char gen[32];
		if (jnull(h, "generation"))
			snprintf(gen, sizeof(gen), "adopted");
		else
			snprintf(gen, sizeof(gen), "generation %lld",
			    jint(h, "generation"));
		printf("%-13s pid %lld, %s, %lld services, since %s\n",
		    "haproxy", jint(h, "pid"), gen, jint(h, "services"),
		    fmt_time(json_object_get(h, "since_ms"), tbuf,
		    sizeof(tbuf)));
	}
	json_array_foreach(json_object_get(r, "draining"), i, p)
		printf("%-13s pid %lld, draining since %s\n",
		    i == 0 ? "draining" : "", jint(p, "pid"),
		    fmt_time(json_object_get(p, "draining_since_ms"), tbuf,
		    sizeof(tbuf)));
	if (json_array_size(json_object_get(r, "draining")) == 0)
		printf("%-13s none\n", "draining");
	size_t nchanges = json_array_size(json_object_get(pend, "changes"));
	if (nchanges == 0 && !json_is_true(json_object_get(pend,
	    "reload_wanted")) && jnull(pend, "collecting"))
		printf("%-13s none\n", "pending");
	else {
		printf("%-13s %zu changes%s%s%s%s\n", "pending", nchanges,
		    json_is_true(json_object_get(pend, "reload_wanted")) ?
		    ", a reload " : "", jstr(pend, "reload_reason"),
		    jnull(pend, "collecting") ? "" : "; ",
		    jstr(pend, "collecting"));
		json_array_foreach(json_object_get(pend, "changes"), i, c)
			printf("%-13s   %s\n", "", json_string_value(c));
	}
	print_entry_line("last reload", json_object_get(r, "last_reload"));
	c = json_object_get(r, "last_check");
	if (c == NULL || json_is_null(c))
		printf("%-13s none\n", "last check");
	else
		printf("%-13s %s, %s%s%s\n", "last check",
		    fmt_time(json_object_get(c, "time_ms"), tbuf, sizeof(tbuf)),
		    json_is_true(json_object_get(c, "ok")) ? "valid" :
		    "FAILED", jnull(c, "error") ? "" : ": ",
		    jstr(c, "error"));
	printf("%-13s %lld ok, %lld stale, %lld rejected\n", "services",
	    jint(svc, "ok"), jint(svc, "stale"), jint(svc, "rejected"));
	printf("%-13s reloads %lld (failed %lld), runtime batches %lld "
	    "(%lld commands, %lld failed), restarts %lld\n", "counters",
	    jint(cnt, "reloads"), jint(cnt, "reload_failures"),
	    jint(cnt, "runtime_batches"), jint(cnt, "runtime_commands"),
	    jint(cnt, "runtime_failures"), jint(cnt, "restarts"));
}

static void
show_services(json_t *r)
{
	struct table t;
	json_t *s;
	size_t i;

	table_init(&t, 8, "NAME", "TYPE", "PORT", "STATE", "SERVERS",
	    "CHANGED", "SOURCE", "REASON");
	json_array_foreach(json_object_get(r, "services"), i, s) {
		char port[16], n[16], age[32];
		snprintf(port, sizeof(port), "%lld", jint(s, "port"));
		snprintf(n, sizeof(n), "%lld", jint(s, "servers"));
		table_row(&t, jstr(s, "name"), jnull(s, "type") ? "-" :
		    jstr(s, "type"), jnull(s, "port") ? "-" : port,
		    jstr(s, "state"), n, jnull(s, "age_s") ? "-" :
		    fmt_age(jnum(s, "age_s"), age, sizeof(age)),
		    jstr(s, "source"), jstr(s, "reason"));
	}
	table_print(&t);
}

static void
show_servers(json_t *r)
{
	struct table t;
	json_t *s;
	size_t i;

	printf("service %s, HAProxy pid %lld%s%s\n", jstr(r, "service"),
	    jint(r, "haproxy_pid"), jnull(r, "haproxy_error") ? "" :
	    ": ", jstr(r, "haproxy_error"));
	table_init(&t, 9, "NAME", "ADDRESS", "PORT", "WEIGHT", "WANTED",
	    "HAPROXY-ID", "OPERATIONAL", "ADMIN", "CHECK");
	json_array_foreach(json_object_get(r, "servers"), i, s) {
		json_t *h = json_object_get(s, "haproxy");
		char port[16], w[16], id[16];
		snprintf(port, sizeof(port), "%lld", jint(s, "port"));
		snprintf(w, sizeof(w), "%lld", jint(s, "weight"));
		if (h != NULL && !json_is_null(h))
			snprintf(id, sizeof(id), "%lld", jint(h, "id"));
		else
			snprintf(id, sizeof(id), "-");
		bool hn = h == NULL || json_is_null(h);
		table_row(&t, jnull(s, "name") ? "-" : jstr(s, "name"),
		    jstr(s, "address"), port,
		    jnull(s, "weight") ? "-" : w, jstr(s, "wanted"), id,
		    hn ? "-" : jstr(h, "op_state"),
		    hn ? "-" : jstr(h, "admin_state"),
		    hn ? "-" : jstr(h, "check"));
	}
	table_print(&t);
}

static void
watcher_detail(json_t *w, char *buf, size_t len)
{
	json_t *d = json_object_get(w, "detail"), *n;
	const char *type = jstr(w, "type");
	size_t i, off = 0;
	char tbuf[64];

	buf[0] = '\0';
	if (d == NULL || json_is_null(d))
		return;
	if (strcmp(type, "zookeeper") == 0) {
		snprintf(buf, len, "%s%s: session %s %s", jstr(d, "servers"),
		    jstr(d, "path"), jstr(d, "session_state"),
		    jnull(d, "session_id") ? "" : jstr(d, "session_id"));
	} else if (strcmp(type, "dns") == 0) {
		json_array_foreach(json_object_get(d, "names"), i, n) {
			if (off >= len)
				break;
			char ttl[32] = "-";
			if (!jnull(n, "ttl"))
				snprintf(ttl, sizeof(ttl), "%llds",
				    jint(n, "ttl"));
			off += (size_t)snprintf(buf + off, len - off,
			    "%s%s: %zu addresses, ttl %s%s%s", i ? "; " : "",
			    jstr(n, "name"), json_array_size(json_object_get(n,
			    "addresses")), ttl, jnull(n, "error") ? "" :
			    ", error: ", jstr(n, "error"));
		}
	} else if (strcmp(type, "file") == 0 && !jnull(d, "file")) {
		snprintf(buf, len, "%s, read %s", jstr(d, "file"),
		    fmt_time(json_object_get(d, "last_read"), tbuf,
		    sizeof(tbuf)));
	} else if (!jnull(d, "path")) {
		snprintf(buf, len, "%s: %lld files, %lld refused",
		    jstr(d, "path"), jint(d, "files"), jint(d, "invalid"));
	}
}

static void
show_watchers(json_t *r)
{
	struct table t;
	json_t *w;
	size_t i;

	table_init(&t, 7, "KIND", "SERVICE", "TYPE", "STATE", "LAST-SYNC",
	    "DETAIL", "LAST-ERROR");
	json_array_foreach(json_object_get(r, "watchers"), i, w) {
		char age[32], detail[1024], sync[48];
		watcher_detail(w, detail, sizeof(detail));
		if (jnull(w, "last_sync_age_s"))
			snprintf(sync, sizeof(sync), "never");
		else
			snprintf(sync, sizeof(sync), "%s ago", fmt_age(jnum(w,
			    "last_sync_age_s"), age, sizeof(age)));
		table_row(&t, jstr(w, "kind"), jnull(w, "service") ? "-" :
		    jstr(w, "service"), jstr(w, "type"), jstr(w, "state"),
		    sync, detail, jstr(w, "last_error"));
	}
	table_print(&t);
}

static void
show_reloads(json_t *r)
{
	struct table t;
	json_t *e;
	size_t i;

	table_init(&t, 7, "TIME", "KIND", "REASON", "DURATION", "RESULT",
	    "COMMANDS", "WHY");
	json_array_foreach(json_object_get(r, "reloads"), i, e) {
		char tbuf[64], d[32], n[16], res[512];
		time_t tt = (time_t)(jint(e, "time_ms") / 1000);
		struct tm tm;
		localtime_r(&tt, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(d, sizeof(d), "%.1f ms", jnum(e, "duration_ms"));
		snprintf(n, sizeof(n), "%lld", jint(e, "commands"));
		snprintf(res, sizeof(res), "%s%s%s",
		    json_is_true(json_object_get(e, "ok")) ? "ok" : "failed",
		    jnull(e, "error") ? "" : ": ", jstr(e, "error"));
		table_row(&t, tbuf, jstr(e, "kind"), jstr(e, "reason"), d, res,
		    n, jstr(e, "why"));
	}
	table_print(&t);
}

/* reload: wait for the first reload recorded after the request. */
static int
wait_reload(const char *path, long long after)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	for (int waited = 0; waited < CTL_RELOAD_WAIT_MS; waited += 100) {
		char *line = ctl_request(path, "reloads\n");
		json_t *r = ctl_parse_reply(line), *e;
		size_t i;

		free(line);
		json_array_foreach(json_object_get(r, "reloads"), i, e) {
			/* One already under way when asked is not it. */
			if (jint(e, "seq") <= after ||
			    strcmp(jstr(e, "kind"), "reload") != 0 ||
			    !json_is_true(json_object_get(e, "forced")))
				continue;
			bool ok = json_is_true(json_object_get(e, "ok"));
			print_entry_line(ok ? "reloaded" : "reload failed", e);
			json_decref(r);
			return ok ? 0 : 1;
		}
		json_decref(r);
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "%s: the reload did not end within %d s\n", prog,
	    CTL_RELOAD_WAIT_MS / 1000);
	return 1;
}

/* ---- publish ---------------------------------------------------------- */

static void
zk_on_session(zhandle_t *zh, int type, int state, const char *path,
    void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	(void)ctx;
}

/* Create path's parents, then path with data, or set its data. */
static int
zk_put(zhandle_t *zh, const char *path, const char *data, int len,
    bool *created)
{
	char *parent = xstrdup(path);
	int rc;

	*created = false;
	rc = zoo_set(zh, path, data, len, -1);
	if (rc == ZNONODE) {
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
		if (rc == ZOK)
			*created = true;
		else if (rc == ZNODEEXISTS)
			rc = zoo_set(zh, path, data, len, -1);
	}
	free(parent);
	return rc;
}

static int
publish(const char *name, const char *file, const char *hosts,
    const char *zpath)
{
	struct service_def *def = NULL;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char *text, *err = NULL, *node;
	size_t len;
	zhandle_t *zh;
	bool created;
	int rc;

	if ((text = read_file(file, SVCDEF_MAX_SIZE, &len, &err)) == NULL)
		die("%s: %s", file, err);
	/* The rules proxymgrd applies to what it reads from ZooKeeper. */
	if (svcdef_parse(name, text, len, file, &def, &err) == -1) {
		fprintf(stderr, "%s: refused, nothing published: %s\n", prog,
		    err);
		exit(1);
	}
	svcdef_unref(def);
	if (zpath[0] != '/' || (strlen(zpath) > 1 &&
	    zpath[strlen(zpath) - 1] == '/'))
		die("--path %s: an absolute ZooKeeper path, without a trailing "
		    "/", zpath);
	node = strcmp(zpath, "/") == 0 ? xasprintf("/%s", name) :
	    xasprintf("%s/%s", zpath, name);
	zoo_set_debug_level(0);
	if ((zh = zookeeper_init(hosts, zk_on_session, 10000, NULL, NULL,
	    0)) == NULL)
		die("ZooKeeper %s: %s", hosts, strerror(errno));
	for (int waited = 0; zoo_state(zh) != ZOO_CONNECTED_STATE;
	    waited += 10) {
		if (waited >= ZK_CONNECT_TIMEOUT_MS) {
			zookeeper_close(zh);
			die("ZooKeeper %s: no connection within %d s", hosts,
			    ZK_CONNECT_TIMEOUT_MS / 1000);
		}
		nanosleep(&ts, NULL);
	}
	rc = zk_put(zh, node, text, (int)len, &created);
	zookeeper_close(zh);
	if (rc != ZOK)
		die("ZooKeeper %s: %s: %s", hosts, node, zerror(rc));
	printf("%s %s on %s\n", created ? "created" : "updated", node, hosts);
	free(node);
	free(text);
	return 0;
}

/* ---- main ------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "zk", required_argument, NULL, 'z' },
		{ "path", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *config = NULL, *zk = NULL;
	const char *zpath = "/service_config";
	char *path, *request, *line, *err = NULL;
	bool json = false;
	int c, rc = 0;
	json_t *r;

	while ((c = getopt_long(argc, argv, "S:c:jVh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			sock = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'z':
			zk = optarg;
			break;
		case 'P':
			zpath = optarg;
			break;
		case 'V':
			printf("proxymgrctl %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "publish") == 0) {
		if (argc != 3 || zk == NULL) {
			fprintf(stderr, "usage: proxymgrctl publish NAME "
			    "FILE.json --zk HOSTS [--path PATH]\n");
			return 2;
		}
		return publish(argv[1], argv[2], zk, zpath);
	}
	if (zk != NULL) {
		fprintf(stderr, "%s: --zk and --path are for publish\n", prog);
		return 2;
	}
	if (argc > 2 || (strcmp(argv[0], "servers") == 0) != (argc == 2)) {
		fprintf(stderr, "%s: %s\n", prog, strcmp(argv[0], "servers") ==
		    0 ? "usage: proxymgrctl servers SERVICE" :
		    "one command, and only servers takes an argument");
		return 2;
	}
	if (sock != NULL && config != NULL) {
		fprintf(stderr, "%s: -S and -c: one or the other\n", prog);
		return 2;
	}
	log_init(false);
	if (sock != NULL)
		path = xstrdup(sock);
	else {
		struct pm_config *cfg;
		if (config == NULL)
			cfg = pmconfig_defaults("(defaults)");
		else if (pmconfig_load(config, &cfg, &err) == -1)
			die("%s", err);
		path = pmconfig_control_path(cfg);
		pmconfig_unref(cfg);
	}
	request = argc == 2 ? xasprintf("%s %s\n", argv[0], argv[1]) :
	    xasprintf("%s\n", argv[0]);
	line = ctl_request(path, request);
	r = ctl_parse_reply(line);
	if (json) {
		puts(line);
		rc = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
		if (rc == 0 && strcmp(argv[0], "check") == 0 &&
		    !json_is_true(json_object_get(r, "valid")))
			rc = 1;
	} else if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "%s: %s\n", prog, jstr(r, "error"));
		rc = 1;
	} else if (strcmp(argv[0], "status") == 0)
		show_status(r);
	else if (strcmp(argv[0], "services") == 0)
		show_services(r);
	else if (strcmp(argv[0], "servers") == 0)
		show_servers(r);
	else if (strcmp(argv[0], "watchers") == 0)
		show_watchers(r);
	else if (strcmp(argv[0], "reloads") == 0)
		show_reloads(r);
	else if (strcmp(argv[0], "reload") == 0)
		rc = wait_reload(path, jint(r, "after_seq"));
	else if (strcmp(argv[0], "check") == 0) {
		bool valid = json_is_true(json_object_get(r, "valid"));
		printf("haproxy -c %s: %s (%.1f ms)\n", jstr(r, "path"),
		    valid ? "valid" : "REFUSED", jnum(r, "duration_ms"));
		if (!valid)
			printf("%s\n", jstr(r, "error"));
		rc = valid ? 0 : 1;
	} else {
		char *text = json_dumps(r, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
	}
	json_decref(r);
	free(line);
	free(request);
	free(path);
	return rc;
}
