/*
 * pm-httpd - tiny HTTP/1.1 backend used by the proxymgrd tests, benchmarks
 * and demo.
 *
 * Every well-formed request (any method, any path) is answered with
 * "200 OK", Content-Type text/plain and the body "NAME\n", so a test can tell
 * which backend HAProxy routed it to.  Keep-alive, pipelining and requests
 * split across reads are supported.  Request bodies are not parsed: a request
 * that announces one gets its answer and the connection is then closed,
 * which keeps the framing trivially correct.
 *
 * Build: gcc -Wall -Wextra -O2 pm-httpd.c -luv
 */
#define _POSIX_C_SOURCE 200809L

#include <uv.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HTTPD_MAX_HEADER 16384          /* larger request heads are refused */
#define HTTPD_BACKLOG    1024
#define HTTPD_WQ_HIGH    (256 * 1024)   /* stop reading above this much unsent output */
#define HTTPD_WQ_LOW     (64 * 1024)    /* ... and resume below this */
#define HTTPD_IDLE_MS    300000         /* drop silent connections eventually */
#define HTTPD_LINGER_MS  2000           /* max wait for the peer's FIN after ours */

typedef struct httpd_conn httpd_conn;

struct httpd_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;                   /* idle timeout, later linger timeout */
    uv_shutdown_t shutdown_req;
    httpd_conn *prev, *next;            /* live connections, for shutdown */
    int open_handles;                   /* freed when both handles are closed */
    unsigned reading : 1;
    unsigned done : 1;                  /* no further requests will be served */
    unsigned shutting : 1;              /* uv_shutdown issued */
    unsigned closing : 1;               /* uv_close issued */
    unsigned peer_eof : 1;
    size_t len;                         /* bytes buffered in buf */
    char buf[HTTPD_MAX_HEADER];
};

/* One batched write: all responses produced by one read go out together. */
typedef struct {
    uv_write_t req;
    size_t len, cap;
    char data[];
} httpd_write;

/* A precomputed response; HEAD uses only the first hdr_len bytes. */
typedef struct {
    char *data;
    size_t len, hdr_len;
} httpd_resp;

enum { HTTPD_RESP_KEEP, HTTPD_RESP_CLOSE, HTTPD_RESP_KEEP10, HTTPD_RESP_COUNT };

enum { HTTPD_NEED_MORE, HTTPD_OK, HTTPD_BAD, HTTPD_TOO_BIG };

typedef struct {
    int keep_alive;
    int http10;
    int head;
} httpd_req;

static struct {
    uv_loop_t loop;
    uv_tcp_t server;
    uv_signal_t sigterm, sigint;
    httpd_conn *conns;
    httpd_resp resp[HTTPD_RESP_COUNT];
    const char *pidfile;
    int stopping;
} httpd;

static const char httpd_resp_400[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Server: pm-httpd\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 12\r\n"
    "Connection: close\r\n"
    "\r\n"
    "Bad Request\n";

static const char httpd_resp_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\n"
    "Server: pm-httpd\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 32\r\n"
    "Connection: close\r\n"
    "\r\n"
    "Request Header Fields Too Large\n";

static void httpd_conn_close(httpd_conn *c);

/* A test helper has no sensible way to continue without memory. */
static void *httpd_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "pm-httpd: out of memory\n");
        abort();
    }
    return p;
}

static void httpd_usage(FILE *out)
{
    fprintf(out,
            "usage: pm-httpd [--bind ADDR] --port PORT [--name NAME] [--pidfile FILE]\n"
            "\n"
            "Answers every HTTP request with 200 OK and the body \"NAME\\n\".\n"
            "\n"
            "  --bind ADDR     address to listen on (default 127.0.0.1; IPv6 like ::1 ok)\n"
            "  --port PORT     TCP port to listen on (required)\n"
            "  --name NAME     response body (default ADDR:PORT, [ADDR]:PORT for IPv6)\n"
            "  --pidfile FILE  write the pid here once listening; removed on clean exit\n"
            "  --help          show this help\n"
            "\n"
            "SIGTERM/SIGINT stop the server with exit status 0.\n");
}

/* ---- responses -------------------------------------------------------- */

/* A macro, not a variable, so that the compiler checks the format. */
#define HTTPD_RESP_HEAD                                                    \
    "HTTP/1.1 200 OK\r\n"                                                  \
    "Server: pm-httpd\r\n"                                                 \
    "Content-Type: text/plain\r\n"                                         \
    "Content-Length: %zu\r\n"                                              \
    "%s"                                                                   \
    "\r\n"

static void httpd_resp_build(httpd_resp *r, const char *conn_hdr, const char *name)
{
    size_t body_len = strlen(name) + 1;
    int hdr = snprintf(NULL, 0, HTTPD_RESP_HEAD, body_len, conn_hdr);
    r->hdr_len = (size_t)hdr;
    r->len = r->hdr_len + body_len;
    r->data = httpd_xmalloc(r->len + 1);
    snprintf(r->data, r->hdr_len + 1, HTTPD_RESP_HEAD, body_len, conn_hdr);
    memcpy(r->data + r->hdr_len, name, body_len - 1);
    r->data[r->len - 1] = '\n';
    r->data[r->len] = '\0';
}

/* Append to the pending batch, growing it; the batch is not yet queued. */
static void httpd_out_append(httpd_write **wp, const char *data, size_t n)
{
    httpd_write *w = *wp;
    if (w == NULL || w->len + n > w->cap) {
        size_t cap = w ? w->cap * 2 : 4096;
        while (cap < (w ? w->len : 0) + n)
            cap *= 2;
        httpd_write *nw = realloc(w, sizeof(*nw) + cap);
        if (nw == NULL) {
            fprintf(stderr, "pm-httpd: out of memory\n");
            abort();
        }
        if (w == NULL)
            nw->len = 0;
        nw->cap = cap;
        w = nw;
        *wp = w;
    }
    memcpy(w->data + w->len, data, n);
    w->len += n;
}

/* ---- request parsing -------------------------------------------------- */

/* Does the comma-separated header value contain TOKEN (case-insensitive)? */
static int httpd_has_token(const char *v, size_t n, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tlen && strncasecmp(v + s, token, tlen) == 0)
            return 1;
    }
    return 0;
}

static int httpd_name_is(const char *p, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/*
 * Parse one request head from p[0..n).  *consumed is set to the bytes used
 * (leading blank lines count as used even when more data is needed, so they
 * cannot fill the buffer).  Bare LF line endings are tolerated.
 */
static int httpd_parse(const char *p, size_t n, size_t *consumed, httpd_req *rq)
{
    size_t start = 0, end = 0, i;

    /* RFC 9112 2.2: ignore empty lines before the request line */
    while (start < n && (p[start] == '\r' || p[start] == '\n'))
        start++;
    *consumed = start;

    for (i = start; i < n; i++) {
        if (p[i] != '\n')
            continue;
        size_t j = i + 1;
        if (j < n && p[j] == '\r')
            j++;
        if (j < n && p[j] == '\n') {
            end = j + 1;
            break;
        }
    }
    if (end == 0)
        return n - start >= HTTPD_MAX_HEADER ? HTTPD_TOO_BIG : HTTPD_NEED_MORE;
    if (end - start > HTTPD_MAX_HEADER)
        return HTTPD_TOO_BIG;
    *consumed = end;

    /* request line: METHOD SP TARGET SP HTTP/1.x */
    const char *line = p + start;
    const char *eol = memchr(line, '\n', end - start);
    size_t llen = (size_t)(eol - line);
    if (llen > 0 && line[llen - 1] == '\r')
        llen--;
    const char *sp1 = memchr(line, ' ', llen);
    if (sp1 == NULL || sp1 == line)
        return HTTPD_BAD;
    const char *tgt = sp1 + 1;
    const char *sp2 = memchr(tgt, ' ', llen - (size_t)(tgt - line));
    if (sp2 == NULL || sp2 == tgt)
        return HTTPD_BAD;
    const char *ver = sp2 + 1;
    size_t vlen = llen - (size_t)(ver - line);
    if (vlen != 8 || memcmp(ver, "HTTP/1.", 7) != 0 || ver[7] < '0' || ver[7] > '9')
        return HTTPD_BAD;

    rq->http10 = ver[7] == '0';
    rq->head = (size_t)(sp1 - line) == 4 && memcmp(line, "HEAD", 4) == 0;

    int tok_close = 0, tok_keep = 0, has_body = 0;
    const char *hp = eol + 1;
    const char *hend = p + end;
    while (hp < hend) {
        const char *nl = memchr(hp, '\n', (size_t)(hend - hp));
        size_t hl = (size_t)(nl - hp);
        const char *next = nl + 1;
        if (hl > 0 && hp[hl - 1] == '\r')
            hl--;
        if (hl == 0)
            break;                      /* the terminating blank line */
        if (hp[0] == ' ' || hp[0] == '\t') {
            hp = next;                  /* obsolete line folding: ignore */
            continue;
        }
        const char *colon = memchr(hp, ':', hl);
        if (colon == NULL || colon == hp)
            return HTTPD_BAD;
        size_t nlen = (size_t)(colon - hp);
        if (memchr(hp, ' ', nlen) || memchr(hp, '\t', nlen))
            return HTTPD_BAD;           /* RFC 9112 5.1: no space before ':' */
        const char *v = colon + 1;
        size_t vl = hl - nlen - 1;
        while (vl > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;

        if (httpd_name_is(hp, nlen, "connection")) {
            tok_close |= httpd_has_token(v, vl, "close");
            tok_keep |= httpd_has_token(v, vl, "keep-alive");
        } else if (httpd_name_is(hp, nlen, "content-length")) {
            if (vl == 0)
                return HTTPD_BAD;
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return HTTPD_BAD;
                if (v[k] != '0')
                    has_body = 1;
            }
        } else if (httpd_name_is(hp, nlen, "transfer-encoding")) {
            has_body = 1;
        }
        hp = next;
    }

    if (rq->http10)
        rq->keep_alive = tok_keep && !tok_close;
    else
        rq->keep_alive = !tok_close;
    /* we never read bodies, so the next request's start would be unknown */
    if (has_body)
        rq->keep_alive = 0;
    return HTTPD_OK;
}

/* ---- connection lifecycle --------------------------------------------- */

static void httpd_on_conn_closed(uv_handle_t *h)
{
    httpd_conn *c = h->data;
    if (--c->open_handles == 0)
        free(c);
}

static void httpd_conn_close(httpd_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        httpd.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    /* pending write/shutdown callbacks fire (ECANCELED) before close_cb */
    uv_close((uv_handle_t *)&c->tcp, httpd_on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, httpd_on_conn_closed);
}

static void httpd_on_timer(uv_timer_t *t)
{
    httpd_conn_close(t->data);
}

static void httpd_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    httpd_conn *c = h->data;
    (void)suggested;
    /* reading straight into the connection buffer avoids a copy; a zero
     * sized buffer (cannot normally happen) makes libuv report ENOBUFS */
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void httpd_read_start(httpd_conn *c);

static void httpd_on_shutdown(uv_shutdown_t *req, int status)
{
    httpd_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0 || c->peer_eof) {
        httpd_conn_close(c);
        return;
    }
    /* Lingering close: closing a socket with unread input makes the kernel
     * send RST, which can destroy the response still in flight.  Our FIN is
     * out, so drain the peer until it closes too, within a time limit. */
    uv_timer_start(&c->timer, httpd_on_timer, HTTPD_LINGER_MS, 0);
    httpd_read_start(c);
}

/* Stop serving: flush queued responses, send FIN, then close. */
static void httpd_conn_end(httpd_conn *c)
{
    c->done = 1;
    if (c->shutting || c->closing)
        return;
    c->shutting = 1;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, httpd_on_shutdown) != 0)
        httpd_conn_close(c);
}

static void httpd_on_write(uv_write_t *req, int status)
{
    httpd_conn *c = req->handle->data;
    free(req);                          /* req is the first member of httpd_write */
    if (c->closing)
        return;
    if (status < 0) {                   /* EPIPE/ECONNRESET: peer is gone, be quiet */
        httpd_conn_close(c);
        return;
    }
    if (!c->reading && !c->done &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < HTTPD_WQ_LOW)
        httpd_read_start(c);
}

/* Answer every complete request in the buffer with one batched write. */
static void httpd_process(httpd_conn *c)
{
    httpd_write *w = NULL;
    size_t off = 0;

    while (!c->done) {
        httpd_req rq;
        size_t used = 0;
        int r = httpd_parse(c->buf + off, c->len - off, &used, &rq);
        off += used;
        if (r == HTTPD_NEED_MORE)
            break;
        if (r == HTTPD_OK) {
            int v = !rq.keep_alive ? HTTPD_RESP_CLOSE
                    : rq.http10    ? HTTPD_RESP_KEEP10
                                   : HTTPD_RESP_KEEP;
            const httpd_resp *resp = &httpd.resp[v];
            httpd_out_append(&w, resp->data, rq.head ? resp->hdr_len : resp->len);
            if (!rq.keep_alive)
                c->done = 1;
        } else if (r == HTTPD_TOO_BIG) {
            httpd_out_append(&w, httpd_resp_431, sizeof(httpd_resp_431) - 1);
            c->done = 1;
        } else {
            httpd_out_append(&w, httpd_resp_400, sizeof(httpd_resp_400) - 1);
            c->done = 1;
        }
    }

    if (c->done) {
        c->len = 0;                     /* anything after the last answer is dropped */
    } else if (off > 0) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }

    if (w != NULL) {
        uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, httpd_on_write) != 0) {
            free(w);
            httpd_conn_close(c);
            return;
        }
    }

    if (c->done) {
        httpd_conn_end(c);
    } else if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > HTTPD_WQ_HIGH) {
        /* a client pipelining without reading must not grow our memory */
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void httpd_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    httpd_conn *c = s->data;
    (void)buf;

    if (c->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF && !c->shutting) {
            /* half-close: still deliver answers already queued */
            c->peer_eof = 1;
            uv_read_stop(s);
            c->reading = 0;
            httpd_conn_end(c);
            return;
        }
        httpd_conn_close(c);            /* ECONNRESET etc.: quietly */
        return;
    }
    if (nread == 0)
        return;                         /* EAGAIN */
    if (c->done) {
        c->len = 0;                     /* lingering: discard */
        return;
    }
    uv_timer_start(&c->timer, httpd_on_timer, HTTPD_IDLE_MS, 0);
    c->len += (size_t)nread;
    httpd_process(c);
}

static void httpd_read_start(httpd_conn *c)
{
    if (c->reading || c->closing)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, httpd_alloc, httpd_on_read) != 0) {
        httpd_conn_close(c);
        return;
    }
    c->reading = 1;
}

static void httpd_on_connection(uv_stream_t *server, int status)
{
    if (status < 0) {
        /* e.g. EMFILE; libuv keeps the listener alive, so just report */
        fprintf(stderr, "pm-httpd: accept: %s\n", strerror(-status));
        return;
    }
    httpd_conn *c = httpd_xmalloc(sizeof(*c));
    memset(c, 0, offsetof(httpd_conn, buf));
    c->len = 0;
    uv_tcp_init(&httpd.loop, &c->tcp);
    uv_timer_init(&httpd.loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    c->next = httpd.conns;
    if (httpd.conns)
        httpd.conns->prev = c;
    httpd.conns = c;

    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        httpd_conn_close(c);
        return;
    }
    /* small responses, possibly pipelined: don't let Nagle delay them */
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, httpd_on_timer, HTTPD_IDLE_MS, 0);
    httpd_read_start(c);
}

/* ---- process lifecycle ------------------------------------------------ */

static void httpd_stop(void)
{
    if (httpd.stopping)
        return;
    httpd.stopping = 1;
    /* closing every handle lets uv_run() return on its own */
    uv_close((uv_handle_t *)&httpd.server, NULL);
    uv_close((uv_handle_t *)&httpd.sigterm, NULL);
    uv_close((uv_handle_t *)&httpd.sigint, NULL);
    while (httpd.conns)
        httpd_conn_close(httpd.conns);
}

static void httpd_on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    httpd_stop();
}

/* Write via rename so a waiting script never reads a half-written file. */
static int httpd_write_pidfile(const char *path)
{
    size_t n = strlen(path) + 32;
    char *tmp = httpd_xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int err = 0;
    if (f == NULL) {
        err = errno;
    } else {
        if (fprintf(f, "%ld\n", (long)getpid()) < 0)
            err = errno ? errno : EIO;
        if (fclose(f) != 0 && err == 0)
            err = errno;
        if (err == 0 && rename(tmp, path) != 0)
            err = errno;
        if (err != 0)
            unlink(tmp);
    }
    free(tmp);
    if (err != 0) {
        fprintf(stderr, "pm-httpd: pidfile %s: %s\n", path, strerror(err));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},
        {"pidfile", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bind_arg = "127.0.0.1";
    const char *port_arg = NULL;
    const char *name = NULL;
    int opt;

    while ((opt = getopt_long(argc, argv, "b:p:n:f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'b': bind_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'n': name = optarg; break;
        case 'f': httpd.pidfile = optarg; break;
        case 'h': httpd_usage(stdout); return 0;
        default: httpd_usage(stderr); return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pm-httpd: unexpected argument '%s'\n", argv[optind]);
        httpd_usage(stderr);
        return 1;
    }
    if (port_arg == NULL) {
        fprintf(stderr, "pm-httpd: --port is required\n");
        httpd_usage(stderr);
        return 1;
    }
    char *endp;
    errno = 0;
    long port = strtol(port_arg, &endp, 10);
    if (errno != 0 || *port_arg == '\0' || *endp != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "pm-httpd: invalid port '%s'\n", port_arg);
        return 1;
    }

    /* accept "[::1]" as well as "::1" */
    char addr[256];
    size_t alen = strlen(bind_arg);
    if (alen >= 2 && bind_arg[0] == '[' && bind_arg[alen - 1] == ']') {
        bind_arg++;
        alen -= 2;
    }
    if (alen == 0 || alen >= sizeof(addr)) {
        fprintf(stderr, "pm-httpd: invalid bind address\n");
        return 1;
    }
    memcpy(addr, bind_arg, alen);
    addr[alen] = '\0';
    int v6 = strchr(addr, ':') != NULL;

    char where[300];
    snprintf(where, sizeof(where), v6 ? "[%s]:%ld" : "%s:%ld", addr, port);
    if (name == NULL)
        name = where;

    struct sockaddr_storage ss;
    int rc = v6 ? uv_ip6_addr(addr, (int)port, (struct sockaddr_in6 *)&ss)
                : uv_ip4_addr(addr, (int)port, (struct sockaddr_in *)&ss);
    if (rc != 0) {
        fprintf(stderr, "pm-httpd: invalid bind address '%s'\n", addr);
        return 1;
    }

    /* a write to a reset peer must be an error, not a fatal signal */
    signal(SIGPIPE, SIG_IGN);

    httpd_resp_build(&httpd.resp[HTTPD_RESP_KEEP], "", name);
    httpd_resp_build(&httpd.resp[HTTPD_RESP_CLOSE], "Connection: close\r\n", name);
    httpd_resp_build(&httpd.resp[HTTPD_RESP_KEEP10], "Connection: keep-alive\r\n", name);

    int status = 1;
    if ((rc = uv_loop_init(&httpd.loop)) != 0) {
        fprintf(stderr, "pm-httpd: uv_loop_init: %s\n", uv_strerror(rc));
        goto out_free;
    }
    uv_tcp_init(&httpd.loop, &httpd.server);
    uv_signal_init(&httpd.loop, &httpd.sigterm);
    uv_signal_init(&httpd.loop, &httpd.sigint);

    /* libuv sets SO_REUSEADDR itself on bind (Unix), so restarts on the same
     * port don't trip over TIME_WAIT.  It may defer EADDRINUSE to listen(),
     * hence both report "bind" for that error. */
    rc = uv_tcp_bind(&httpd.server, (const struct sockaddr *)&ss, 0);
    if (rc != 0) {
        fprintf(stderr, "pm-httpd: bind %s: %s\n", where, strerror(-rc));
        goto out_close;
    }
    rc = uv_listen((uv_stream_t *)&httpd.server, HTTPD_BACKLOG, httpd_on_connection);
    if (rc != 0) {
        fprintf(stderr, "pm-httpd: %s %s: %s\n", rc == UV_EADDRINUSE ? "bind" : "listen",
                where, strerror(-rc));
        goto out_close;
    }
    if ((rc = uv_signal_start(&httpd.sigterm, httpd_on_signal, SIGTERM)) != 0 ||
        (rc = uv_signal_start(&httpd.sigint, httpd_on_signal, SIGINT)) != 0) {
        fprintf(stderr, "pm-httpd: signal setup: %s\n", uv_strerror(rc));
        goto out_close;
    }
    if (httpd.pidfile && httpd_write_pidfile(httpd.pidfile) != 0) {
        httpd.pidfile = NULL;
        goto out_close;
    }

    printf("pm-httpd: listening on %s, name \"%s\", pid %ld\n", where, name, (long)getpid());
    fflush(stdout);

    uv_run(&httpd.loop, UV_RUN_DEFAULT);
    status = 0;
    goto out_loop;

out_close:
    httpd_stop();
    uv_run(&httpd.loop, UV_RUN_DEFAULT);  /* run the close callbacks */
out_loop:
    if ((rc = uv_loop_close(&httpd.loop)) != 0)
        fprintf(stderr, "pm-httpd: uv_loop_close: %s\n", uv_strerror(rc));
    if (status == 0 && httpd.pidfile)
        unlink(httpd.pidfile);
    if (status == 0)
        printf("pm-httpd: stopped\n");
out_free:
    for (int i = 0; i < HTTPD_RESP_COUNT; i++)
        free(httpd.resp[i].data);
    uv_library_shutdown();
    return status;
}
