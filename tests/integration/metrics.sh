#!/usr/bin/env bash
# GET /metrics (metrics.listen) against real HAProxy, ZooKeeper and a real
# Prometheus server: the page passes promtool, Prometheus scrapes it and
# sees proxymgrd_reloads_total rise after a reload, the gauges follow the
# state the test sets up (a rejected service, a stale one with ZooKeeper
# stopped), and bad clients (garbage, a 1 MB request line and header, a
# client that never reads, 1,000 connections at once) get an error or are
# dropped while proxymgrd and HAProxy serve on. Logs are in JSON (log.format)
# and every line must be one object with the stable keys.
# Ports 25200-25299.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
: "${PROMTOOL:=promtool}"
: "${PROMETHEUS:=prometheus}"
: "${PROXYMGRCTL:=${builddir:-.}/proxymgrctl}"
pm_setup

MPORT=25290			# proxymgrd's metrics
PPORT=25291			# Prometheus
ZKPORT=25280
murl=http://127.0.0.1:$MPORT/metrics

pm_zk_start z "$ZKPORT"
pm_zk "127.0.0.1:$ZKPORT" put /services/zsvc/s1 \
	'{"address": "127.0.0.1", "port": 25212}' >/dev/null ||
	pm_fail "cannot write the server node"
pm_start_httpd b1 25211 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 25212 >/dev/null || pm_fail "backend b2"
pm_write_pmconfig "metrics:" "  listen: 127.0.0.1:$MPORT" \
	"log:" "  format: json"
printf '127.0.0.1:25211\n' | pm_write_atomic "$PM_TMP/web.hosts"
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 25200}
JSON
cat >"$PM_TMP/services/zsvc.json" <<JSON
{"type": "zookeeper", "server": "127.0.0.1:$ZKPORT",
 "path": "/services/zsvc", "port": 25201}
JSON
# Does not parse: rejected, with its reason, and never added.
printf '{"type": "static", "port": 25202,' >"$PM_TMP/services/broken.json"
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:25200/ "b1"
pm_expect_bodies http://127.0.0.1:25201/ "b2"

# The value of the sample NAME{LABELS} (exact text) on the page, or fail.
sample() {
	awk -v k="$1" 'index($0, k " ") == 1 { print $2; f = 1 } END { exit !f }'
}
scrape() { pm_curl_body "$murl" -f; }
# The value of NAME{LABELS} once it is WANT (bounded wait).
wait_sample() {
	local want=$2
	pm__sample_is() { [[ $(scrape | sample "$1") == "$2" ]]; }
	pm_wait_for pm__sample_is "$1" "$want" ||
		pm_fail "$1 is $(scrape | sample "$1" || echo absent), not $want; the page has: $(scrape | grep -F "${1%%\{*}")"
}

# ---- the page -----------------------------------------------------------
page=$PM_TMP/metrics.txt
code=$(curl -s --noproxy '*' -o "$page" -w '%{http_code} %{content_type}' \
	--max-time 5 "$murl")
[[ $code == "200 text/plain; version=0.0.4; charset=utf-8" ]] ||
	pm_fail "GET /metrics: $code"
grep -q '^proxymgrd_build_info{' "$page" || pm_fail "GET /metrics: no build_info"
"$PROMTOOL" check metrics <"$page" >"$PM_TMP/promtool.out" 2>&1 ||
	pm_fail "promtool check metrics: $(cat "$PM_TMP/promtool.out")"
pm_pass "GET /metrics is Prometheus text 0.0.4 and passes promtool check metrics"

wait_sample 'proxymgrd_zookeeper_session_state{servers="127.0.0.1:'$ZKPORT'",state="connected"}' 1
wait_sample 'proxymgrd_services{state="ok"}' 2
wait_sample 'proxymgrd_services{state="rejected"}' 1
scrape >"$page"
pm_assert_eq 1 "$(sample 'proxymgrd_reloads_total{reason="start"}' <"$page")" \
	"the first start is a reload of reason start"
pm_assert_eq 1 "$(sample 'proxymgrd_haproxy_processes{role="serving"}' <"$page")" \
	"one HAProxy serves"
pm_assert_eq 2 "$(sample 'proxymgrd_servers{state="active"}' <"$page")" \
	"two servers are active"
pm_assert_eq 1 "$(sample 'proxymgrd_build_info{version="'"$("$PROXYMGRD" --version | awk '{print $2}')"'"}' <"$page")" \
	"build_info names the version"
sample 'proxymgrd_watcher_last_sync_age_seconds{service="web",type="file"}' <"$page" >/dev/null ||
	pm_fail "no sync age for web's watcher"
sample 'proxymgrd_service_config_last_sync_age_seconds{type="file"}' <"$page" >/dev/null ||
	pm_fail "no sync age for the service-config source"
pm_assert_eq 1 "$(sample 'proxymgrd_reload_duration_seconds_count' <"$page")" \
	"the first start's duration is in the histogram"
grep -qE '([0-9]{1,3}\.){3}[0-9]{1,3}:2521[12]' "$page" &&
	pm_fail "a server address is on the page"
pm_pass "gauges: services ok/rejected, servers, HAProxy serving, ZooKeeper connected, sync ages, build info; no server address"

# A runtime change is counted and timed.
pm_wait_idle
scrape >"$page"
batches=$(sample 'proxymgrd_runtime_batches_total' <"$page")
timed=$(sample 'proxymgrd_change_to_live_seconds_count{path="runtime"}' <"$page")
commands=$(sample 'proxymgrd_runtime_commands_total' <"$page")
printf '127.0.0.1:25211\n127.0.0.1:25212\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies http://127.0.0.1:25200/ "b1 b2"
wait_sample 'proxymgrd_runtime_batches_total' $((batches + 1))
scrape >"$page"
pm_assert_eq $((timed + 1)) "$(sample 'proxymgrd_change_to_live_seconds_count{path="runtime"}' <"$page")" \
	"the runtime change is in change_to_live"
(($(sample 'proxymgrd_runtime_commands_total' <"$page") > commands)) ||
	pm_fail "no runtime command counted"
pm_pass "a runtime batch is counted, with its commands and change-to-live time"

# 404, 405, HEAD.
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
	"http://127.0.0.1:$MPORT/")
pm_assert_eq 404 "$code" "GET / is 404"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
	"http://127.0.0.1:$MPORT/metrics/../etc/passwd")
[[ $code == 404 ]] || pm_fail "a path around /metrics: $code"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
	-X POST -d x=1 "$murl")
pm_assert_eq 405 "$code" "POST /metrics is 405"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
	-X DELETE "$murl")
pm_assert_eq 405 "$code" "DELETE /metrics is 405"
code=$(curl -s --noproxy '*' -I -o /dev/null -w '%{http_code}' --max-time 5 "$murl")
pm_assert_eq 200 "$code" "HEAD /metrics is 200"
pm_pass "404 for other paths, 405 for other methods"

# Only proxymgrd holds the metrics port: HAProxy must not inherit it, or it
# would keep the port after a crash of proxymgrd.
holders=$(ss -Hltnp "sport = :$MPORT" | grep -o 'pid=[0-9]*' | sort -u)
pm_assert_eq "pid=$PM_PID" "$holders" "only proxymgrd listens on the metrics port"

# ---- a real Prometheus ------------------------------------------------------
mkdir -p "$PM_TMP/prom"
cat >"$PM_TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: proxymgrd
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
"$PROMETHEUS" --config.file="$PM_TMP/prometheus.yml" \
	--storage.tsdb.path="$PM_TMP/prom" \
	--web.listen-address="127.0.0.1:$PPORT" </dev/null \
	>>"$PM_TMP/prometheus.log" 2>&1 &
PROM_PID=$!
pm_track "$PROM_PID"
# query EXPR: the value of a one-sample instant query, nothing if none.
query() {
	curl -s --noproxy '*' --max-time 5 \
		"http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
r = d["data"]["result"] if d.get("status") == "success" else []
if len(r) == 1: print(r[0]["value"][1])' 2>/dev/null
}
prom_has() { [[ -n $(query "$1") ]]; }
PM_WAIT_TIMEOUT=60 pm_wait_for prom_has 'sum(proxymgrd_reloads_total)' ||
	pm_fail "Prometheus never scraped proxymgrd: $(tail -n 5 "$PM_TMP/prometheus.log")"
pm_assert_eq 1 "$(query 'up{job="proxymgrd"}')" "Prometheus sees the target up"
before=$(query 'sum(proxymgrd_reloads_total)')

# A forced reload: SIGHUP with changed settings.
PM_GLOBAL='"maxconn 2000"' pm_write_pmconfig "metrics:" \
	"  listen: 127.0.0.1:$MPORT" "log:" "  format: json"
kill -HUP "$PM_PID"
prom_above() { local v; v=$(query "$1") && [[ -n $v ]] && ((v > $2)); }
PM_WAIT_TIMEOUT=60 pm_wait_for prom_above 'sum(proxymgrd_reloads_total)' "$before" ||
	pm_fail "proxymgrd_reloads_total did not rise in Prometheus (was $before)"
pm_assert_eq 1 "$(query 'proxymgrd_reloads_total{reason="settings"}')" \
	"Prometheus has the reload under reason settings"
pm_pass "a real Prometheus scrapes proxymgrd; proxymgrd_reloads_total rose from $before after SIGHUP"

# A forced reload (nothing changed): proxymgrctl reload.
before=$(query 'sum(proxymgrd_reloads_total)')
"$PROXYMGRCTL" -c "$PM_TMP/proxymgr.yml" reload >/dev/null ||
	pm_fail "proxymgrctl reload failed"
PM_WAIT_TIMEOUT=60 pm_wait_for prom_above 'sum(proxymgrd_reloads_total)' "$before" ||
	pm_fail "proxymgrd_reloads_total did not rise after proxymgrctl reload (was $before)"
pm_assert_eq 1 "$(query 'proxymgrd_reloads_total{reason="operator"}')" \
	"Prometheus has the forced reload under reason operator"
pm_assert_eq 0 "$(query 'sum(proxymgrd_reloads_total) - sum(proxymgrd_reload_duration_seconds_count)')" \
	"every reload is timed"
kill -TERM "$PROM_PID"
for ((i = 0; i < 100; i++)); do pm__alive "$PROM_PID" || break; sleep 0.1; done
pm__alive "$PROM_PID" && pm_fail "Prometheus still running"
wait "$PROM_PID" 2>/dev/null || true

# ---- ZooKeeper stopped: stale, with the age of the last sync ------------------
pm_zk_kill z
wait_sample 'proxymgrd_services{state="stale"}' 1
scrape >"$page"
pm_assert_eq 0 "$(sample 'proxymgrd_zookeeper_session_state{servers="127.0.0.1:'$ZKPORT'",state="connected"}' <"$page")" \
	"the session is not connected"
sample 'proxymgrd_watcher_last_sync_age_seconds{service="zsvc",type="zookeeper"}' <"$page" >/dev/null ||
	pm_fail "the stale watcher has no sync age"
pm_expect_bodies http://127.0.0.1:25201/ "b2"
pm_pass "ZooKeeper stopped: its service is stale, the session not connected, HAProxy serves on"

# ---- bad clients ---------------------------------------------------------
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PM_PID/status"; }
nfds() { find "/proc/$PM_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss0=$(rss)
fds0=$(nfds)
python3 - "$MPORT" <<'PY' || pm_fail "a bad client was not refused"
import resource, socket, sys, time
port = int(sys.argv[1])
METRICS_IDLE = 10	# s, METRICS_IDLE_TIMEOUT_S: then a silent one is closed
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))

def exchange(data, wait=METRICS_IDLE + 5):
    """Send data, read until the server closes or answers; return the
    status line (b'' if it only closed, None if it hung)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass    # closed on us halfway: dropped
        buf = b""
        while b"\r\n" not in buf:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                return b""
            except socket.timeout:
                return None
            if not chunk:
                return buf
            buf += chunk
        return buf.split(b"\r\n", 1)[0]
    finally:
        s.close()

def refused(what, status):
    if status is None:
        sys.exit(what + ": no answer and not closed")
    if status.startswith(b"HTTP/1.1 200"):
        sys.exit(what + ": answered 200")
    print("ok: %s: %s" % (what, status.decode(errors="replace") or "closed"),
        flush=True)

refused("garbage", exchange(b"\x00\xff GARBAGE \x01\r\n\r\n"))
refused("not HTTP", exchange(b"HELO proxymgrd\r\n\r\n"))
refused("1 MB request line", exchange(b"GET /" + b"a" * (1 << 20) +
    b" HTTP/1.1\r\nHost: x\r\n\r\n"))
refused("1 MB header", exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: " +
    b"b" * (1 << 20) + b"\r\n\r\n"))
refused("10,000 headers", exchange(b"GET /metrics HTTP/1.1\r\n" +
    b"X: y\r\n" * 10000 + b"\r\n"))

# A client that asks for many pages and never reads: MHD stops writing to
# it when the socket buffer is full; it holds one slot until it idles out.
slow = socket.create_connection(("127.0.0.1", port))
slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
slow.setblocking(False)
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
try:
    slow.send(req)
except BlockingIOError:
    pass

# 1,000 connections at once, most of them idle, some sending half a
# request: beyond the limit they are closed, the rest idle out.
conns = []
for i in range(1000):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    conns.append(c)
time.sleep(0.5)
for c in conns[::10]:
    try:
        c.send(b"GET /metr")
    except OSError:
        pass
# meanwhile the next scrapes: answered, or refused, never a hang of
# proxymgrd (the shell checks the rest)
print("ok: 1000 connections open", flush=True)
time.sleep(1)
for c in conns:
    c.close()
slow.close()
PY
pm_expect_bodies http://127.0.0.1:25200/ "b1 b2"
pm__scrape_ok() { scrape | sample 'proxymgrd_build_info{version="'"$("$PROXYMGRD" --version | awk '{print $2}')"'"}' >/dev/null; }
pm_wait_for pm__scrape_ok || pm_fail "no scrape answered after the bad clients: $(curl -sv --noproxy '*' --max-time 5 "$murl" 2>&1 | grep -v '^[^<>*]' | head -20)"
# proxymgrd still does its job.
printf '127.0.0.1:25212\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies http://127.0.0.1:25200/ "b2"
# Connections idle out; nothing piles up.
pm__fds_back() { (($(nfds) <= fds0 + 2)); }
pm_wait_for pm__fds_back || pm_fail "proxymgrd holds $(nfds) fds, $fds0 before the bad clients"
rss1=$(rss)
((rss1 < rss0 + 20000)) || pm_fail "proxymgrd's RSS grew from $rss0 to $rss1 kB"
pm_pass "bad clients refused or dropped; HAProxy serves, a later scrape answers, RSS $rss0 -> $rss1 kB, fds back to $(nfds)"

# ---- the JSON log --------------------------------------------------------
python3 - "$PM_TMP/proxymgrd.log" <<'PY' || pm_fail "the JSON log is not one object per line"
import json, sys
keys = {"time", "level", "event", "service", "reason", "msg"}
events = {}
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %r" % (n, e, line[:200]))
        if not isinstance(o, dict) or not keys <= set(o):
            sys.exit("line %d lacks keys: %r" % (n, line[:200]))
        events.setdefault(o["event"], o)
for e in ("reload_start", "reload_done", "runtime_batch", "haproxy",
          "metrics", "log"):
    if e not in events:
        sys.exit("no %s event" % e)
if events["reload_done"]["reason"] != "start":
    sys.exit("first reload_done has reason %r" % events["reload_done"]["reason"])
if not isinstance(events["haproxy"].get("pid"), int):
    sys.exit("a haproxy line has no pid")
print("ok: %d kinds of events" % len(events))
PY
pm_pass "every log line is one JSON object with time, level, event, service, reason, msg"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
pm_port_refused "$MPORT" || pm_fail "the metrics port is still open"
pm_pass "stopped; the metrics port is closed"
