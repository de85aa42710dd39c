#!/usr/bin/env bash
# The control socket and proxymgrctl against real HAProxy and a real
# ZooKeeper: every command's JSON checked (jq) against the state set up.
# - services: a service refused for bad input shows "rejected" and why;
# - servers: a server put in maint through HAProxy's runtime API shows
#   "maint" on HAProxy's side while proxymgrd still wants it; a server
#   removed from ZooKeeper shows "retired" on proxymgrd's side and maint
#   on HAProxy's;
# - status and reloads: the last reload's reason after a definition
#   change; `reload` adds a reload (reason operator); `check` validates;
# - publish: a valid blob is created in ZooKeeper and proxymgrd serves it;
#   an invalid one is refused and nothing is written;
# - watchers: ZooKeeper stopped, the watchers are stale with the age of
#   their last sync, and the services stale; HAProxy serves on.
# The human tables are checked for their headers only.
# Ports 25101-25109 (services), 25111-25119 (HTTP), 25181 (ZooKeeper).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

: "${PROXYMGRCTL:=${builddir:-.}/proxymgrctl}"
command -v jq >/dev/null || pm_fail "jq is missing (scripts/install-deps)"
ZK=127.0.0.1:25181
srv() { printf '{"address": "127.0.0.1", "port": %d}' "$1"; }
# ctl ARGS...: proxymgrctl's --json reply (its exit status kept).
ctl() { "$PROXYMGRCTL" -c "$PM_TMP/proxymgr.yml" "$@" --json; }
# ctl_is JQ ARGS...: the reply of proxymgrctl ARGS makes JQ true.
ctl_is() { local q=$1; shift; ctl "$@" | jq -e "$q" >/dev/null; }
# expect JQ ARGS... MSG: wait until ctl_is JQ ARGS, or fail with MSG and
# the last reply.
expect() {
	local q=$1 msg=${*: -1}
	local -a args=("${@:2:$#-2}")
	pm_wait_for ctl_is "$q" "${args[@]}" ||
		pm_fail "$msg: $q is not true of: $(ctl "${args[@]}" || true)"
}

pm_zk_start single 25181
for n in 1 2 3; do
	pm_start_httpd "s$n" $((25110 + n)) >/dev/null || pm_fail "start s$n"
done
WEB='{"type": "zookeeper", "server": "127.0.0.1:25181",
 "path": "/services/web", "port": 25101,
 "listen_options": ["mode http", "balance roundrobin"],
 "server_options": ["check inter 200"]}'
pm_zk $ZK put /service_config/web "$WEB"
pm_zk $ZK put /services/web/s1 "$(srv 25111)"
pm_zk $ZK put /services/web/s2 "$(srv 25112)"
# Bad input: port is not a number.
pm_zk $ZK put /service_config/bad '{"type": "static", "port": "eighty",
 "servers": [{"address": "127.0.0.1", "port": 25113}]}'

PM_SERVICE_CONFIG=$'service_config:\n  type: zookeeper\n  servers: 127.0.0.1:25181\n  path: /service_config' \
	pm_write_pmconfig
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:25101/ "s1 s2"
SOCK=$PM_TMP/run/proxymgrd.sock
[[ -S $SOCK ]] || pm_fail "no control socket beside the stats socket"
[[ $(stat -c %a "$SOCK") == 600 ]] || pm_fail "control socket mode $(stat -c %a "$SOCK"), not 600"
pm_pass "control socket $SOCK, mode 600"

# ---- status ----------------------------------------------------------------------
hap_pid=$(pm_hap_pid)
# The first HAProxy may start before ZooKeeper has answered (no service
# yet): the one serving web is a later generation, which the reloads
# count.
expect ".ok and .pid == $PM_PID and .haproxy.pid == $hap_pid and
	.haproxy.generation == .counters.reloads and .haproxy.services == 1 and
	.uptime_s >= 0 and (.version | length > 0) and .state == \"idle\" and
	.last_reload.kind == \"reload\" and .last_reload.ok and
	(.last_reload.reason == \"start\" or .last_reload.reason == \"services\") and
	.last_check.ok and .services.ok == 1 and .services.rejected == 1 and
	.pending.changes == [] and .pending.reload_wanted == false" \
	status "status after the start"
"$PROXYMGRCTL" -c "$PM_TMP/proxymgr.yml" status >"$PM_TMP/status.txt" ||
	pm_fail "proxymgrctl status failed"
grep -qE "^haproxy +pid $hap_pid, generation [0-9]+, 1 services, since " "$PM_TMP/status.txt" ||
	pm_fail "status table: $(cat "$PM_TMP/status.txt")"
pm_pass "status: version, uptime, serving HAProxy, last reload and check"

# ---- services: a service rejected for bad input ------------------------------
expect '.services | length == 2 and
	(.[] | select(.name == "bad") | .state == "rejected" and .port == null
	 and (.reason | test("bad.*port")) and .source == "zookeeper:/service_config/bad")
	and (.[] | select(.name == "web") | .state == "ok" and .type == "zookeeper"
	 and .port == 25101 and .servers == 2 and .age_s >= 0 and
	 .source == "zookeeper:/service_config/web")' services \
	"services: bad rejected with its reason, web ok"
"$PROXYMGRCTL" -S "$SOCK" services | grep -qE '^NAME +TYPE +PORT +STATE +SERVERS' ||
	pm_fail "services table header"
# Refused by HAProxy rather than by proxymgrd: HAProxy's words as reason.
pm_zk $ZK put /service_config/odd '{"type": "static", "port": 25103,
 "servers": [{"address": "127.0.0.1", "port": 25113}],
 "listen_options": ["mode http", "option no-such-option"]}'
expect '.services[] | select(.name == "odd") | .state == "rejected" and
	.port == 25103 and (.reason | test("HAProxy refused its section.*no-such-option"))' \
	services "a service HAProxy refused"
pm_zk $ZK rm /service_config/odd
expect 'all(.services[]; .name != "odd")' services "the refused service removed"
pm_pass "services: the rejected ones with their reasons (proxymgrd's and HAProxy's), the good one ok"

# ---- servers: maint on both sides --------------------------------------------
expect '.service == "web" and .haproxy_pid > 0 and (.servers | length == 2) and
	all(.servers[]; .wanted == "ready" and .haproxy.admin_state == "ready"
	 and .haproxy.op_state == "running" and .haproxy.check == "passed")' \
	servers web "servers web: both ready and checked"
pm_stats "set server web/127.0.0.1:25111 state maint" >/dev/null
expect '.servers[] | select(.name == "127.0.0.1:25111") |
	.wanted == "ready" and .haproxy.admin_state == "maint" and
	.address == "127.0.0.1" and .port == 25111' servers web \
	"an operator's maint shows on HAProxy's side"
pm_stats "set server web/127.0.0.1:25111 state ready" >/dev/null
pm_zk $ZK rm /services/web/s2
expect '.servers[] | select(.name == "127.0.0.1:25112") |
	.wanted == "retired" and .haproxy.admin_state == "maint"' servers web \
	"a retired server shows maint on both sides"
"$PROXYMGRCTL" -S "$SOCK" servers web | grep -qE '^NAME +ADDRESS +PORT +WEIGHT +WANTED' ||
	pm_fail "servers table header"
ctl servers nosuch >"$PM_TMP/nosuch.json" && pm_fail "servers of no service succeeded"
jq -e '.ok == false and (.error | test("no service nosuch"))' "$PM_TMP/nosuch.json" >/dev/null ||
	pm_fail "servers nosuch: $(cat "$PM_TMP/nosuch.json")"
pm_pass "servers: maint shown on both sides"

# ---- reloads: the reason of the last one after a definition change -------------
pm_zk $ZK put /services/web/s2 "$(srv 25112)"
reloads=$(ctl status | jq .counters.reloads)
pm_zk $ZK put /service_config/web "${WEB/balance roundrobin/balance leastconn}"
expect ".counters.reloads == $((reloads + 1)) and
	.last_reload.reason == \"definition\" and .last_reload.ok and
	(.last_reload.why | test(\"service web changed\")) and
	.last_reload.duration_ms > 0" status "the last reload names the definition change"
expect '.reloads | length >= 2 and .[0].seq == 1 and
	(.[-1] | .kind == "reload" and .reason == "definition") and
	any(.[]; .kind == "runtime" and .ok and .commands > 0)' reloads \
	"reloads lists the reloads and runtime batches"
"$PROXYMGRCTL" -S "$SOCK" reloads | grep -qE '^TIME +KIND +REASON +DURATION +RESULT' ||
	pm_fail "reloads table header"
pm_pass "status and reloads: last reload reason definition"

# ---- reload and check --------------------------------------------------------------
reloads=$(ctl status | jq .counters.reloads)
ctl reload | jq -e '.ok and .queued' >/dev/null || pm_fail "reload refused"
expect ".counters.reloads == $((reloads + 1)) and .last_reload.forced and
	.last_reload.reason == \"operator\" and .counters.reloads_by_reason.operator == 1" \
	status "reload adds a reload"
"$PROXYMGRCTL" -S "$SOCK" reload >"$PM_TMP/reload.txt" || pm_fail "proxymgrctl reload: $(cat "$PM_TMP/reload.txt")"
grep -q '^reloaded ' "$PM_TMP/reload.txt" || pm_fail "reload output: $(cat "$PM_TMP/reload.txt")"
expect ".counters.reloads == $((reloads + 2))" status "a second reload"
pm_expect_bodies http://127.0.0.1:25101/ "s1 s2"
ctl check >"$PM_TMP/check.json" || pm_fail "check: $(cat "$PM_TMP/check.json")"
jq -e ".ok and .valid and .path == \"$PM_TMP/run/haproxy.cfg\" and .error == null" \
	"$PM_TMP/check.json" >/dev/null || pm_fail "check: $(cat "$PM_TMP/check.json")"
expect '.last_check.ok and (.last_check.path | endswith("haproxy.cfg"))' status "check recorded"
pm_pass "reload forces a reload (reason operator), check validates the running config"

# ---- publish ---------------------------------------------------------------------------
cat >"$PM_TMP/api.json" <<JSON
{"type": "zookeeper", "server": "127.0.0.1:25181", "path": "/services/api",
 "port": 25102, "listen_options": ["mode http"]}
JSON
pm_zk $ZK put /services/api/s3 "$(srv 25113)"
"$PROXYMGRCTL" publish api "$PM_TMP/api.json" --zk $ZK --path /service_config \
	>"$PM_TMP/publish.txt" || pm_fail "publish: $(cat "$PM_TMP/publish.txt")"
grep -q '^created /service_config/api' "$PM_TMP/publish.txt" || pm_fail "publish said: $(cat "$PM_TMP/publish.txt")"
pm_expect_bodies http://127.0.0.1:25102/ "s3"
expect '.services[] | select(.name == "api") | .state == "ok" and .port == 25102' \
	services "the published service"
"$PROXYMGRCTL" publish api "$PM_TMP/api.json" --zk $ZK | grep -q '^updated /service_config/api' ||
	pm_fail "publishing again does not update"
printf '{"type": "zookeeper", "server": "127.0.0.1:25181", "path": "/services/x", "port": 25103, "listen_options": ["mode http\\nlisten injected"]}' >"$PM_TMP/evil.json"
if "$PROXYMGRCTL" publish evil "$PM_TMP/evil.json" --zk $ZK 2>"$PM_TMP/evil.err"; then
	pm_fail "an invalid blob was published"
fi
grep -q 'refused, nothing published:.*listen_options' "$PM_TMP/evil.err" ||
	pm_fail "publish refusal: $(cat "$PM_TMP/evil.err")"
pm_zk $ZK get /service_config/evil >/dev/null 2>&1 && pm_fail "the refused blob is in ZooKeeper"
"$PROXYMGRCTL" publish 'bad name' "$PM_TMP/api.json" --zk $ZK 2>/dev/null &&
	pm_fail "a bad service name was published"
pm_pass "publish: created, served, updated; an invalid blob refused, nothing written"

# ---- watchers: ZooKeeper stopped --------------------------------------------------------
expect '.watchers | length == 3 and
	(.[0] | .kind == "service_config" and .type == "zookeeper" and .state == "ok"
	 and .detail.session_state == "connected" and (.detail.session_id | test("^0x")))
	and all(.[1:][]; .kind == "watcher" and .state == "ok" and
	 .last_sync_age_s >= 0 and .detail.session_state == "connected")' \
	watchers "watchers ok while ZooKeeper runs"
"$PROXYMGRCTL" -S "$SOCK" watchers | grep -qE '^KIND +SERVICE +TYPE +STATE +LAST-SYNC' ||
	pm_fail "watchers table header"
pm_zk_kill single
expect 'all(.watchers[]; .state == "stale" and .last_sync_age_s > 0 and
	.detail.session_state != "connected" and (.last_error | test("ZooKeeper")))' \
	watchers "watchers stale once ZooKeeper is gone"
# The age grows: it is the age of the last sync, not of the question.
age1=$(ctl watchers | jq '.watchers[1].last_sync_age_s')
older() { ctl watchers | jq -e ".watchers[1].last_sync_age_s > $age1 + 1" >/dev/null; }
pm_wait_for older || pm_fail "the age of the last sync does not grow"
expect 'all(.services[] | select(.name != "bad"); .state == "stale" and
	(.reason | test("ZooKeeper")))' services "services stale without ZooKeeper"
pm_expect_bodies http://127.0.0.1:25101/ "s1 s2"
ctl status | jq -e '.ok' >/dev/null || pm_fail "status without ZooKeeper"
pm_pass "ZooKeeper stopped: watchers and services stale with the age of the last sync; HAProxy serves on"

pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited $PM_RC"
pm_log_has 'Sanitizer|runtime error' && pm_fail "sanitizer report in proxymgrd's log"
[[ -e $SOCK ]] && pm_fail "control socket left behind after a clean stop"
"$PROXYMGRCTL" -S "$SOCK" status 2>"$PM_TMP/missing.err" && pm_fail "status with no proxymgrd succeeded"
grep -q "control socket $SOCK does not exist" "$PM_TMP/missing.err" ||
	pm_fail "missing socket message: $(cat "$PM_TMP/missing.err")"
pm_pass "no proxymgrd: proxymgrctl says so and exits non-zero"
