#!/usr/bin/env bash
# Issue 11, finding 1: a section escape through namespace_list, which
# Debian's HAProxy 2.6 knows as a section. The exact hostile blob, beside a
# good service, from a service file and then from a real ZooKeeper node:
# refused with a clear log line, the good service keeps serving, the daemon
# stays up. Then what HAProxy really built is checked after each reload:
# a definition that passes the keyword allowlist and `haproxy -c` but that
# HAProxy builds otherwise ("disabled" leaves the proxy out) is refused
# like one `haproxy -c` refuses, new or changed.
# Ports 23030-23049 (services), 23011-23019 (HTTP), 23081 (ZooKeeper).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig
CFG=$PM_TMP/run/haproxy.cfg

pm_start_httpd good 23011 >/dev/null || pm_fail "backend good"
pm_start_httpd other 23012 >/dev/null || pm_fail "backend other"
printf '127.0.0.1:23011\n' | pm_write_atomic "$PM_TMP/good.hosts"
printf '127.0.0.1:23012\n' | pm_write_atomic "$PM_TMP/hostile.hosts"

# status URL: the HTTP status code (000 when nothing answers).
status() { curl -s -g --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' -- "$1" || true; }
serves_200() { [[ $(status "$1") == 200 ]]; }
# good_serves URL: 200 from the good backend, and proxymgrd alive.
good_serves() {
	pm_wait_for serves_200 "$1" || pm_fail "$1 answers $(status "$1"), not 200"
	pm_expect_bodies "$1" "good"
	pm__alive "$PM_PID" || pm_fail "proxymgrd died"
}
# The blob of the finding, word for word (the host file made local).
HOSTILE='{"type":"file","file":"'$PM_TMP/hostile.hosts'","port":23030,"listen_options":["namespace_list","balance roundrobin"],"server_options":["check"]}'
REFUSED="key 'listen_options' item 1: refused: its first word opens a HAProxy section"

# ---- 1. the hostile blob in a service file, beside a good service ----------
echo '{"type": "file", "file": "'"$PM_TMP/good.hosts"'", "port": 23031,
 "listen_options": ["balance roundrobin"]}' >"$PM_TMP/services/web.json"
echo "$HOSTILE" >"$PM_TMP/services/hostile.json"
pm_start_proxymgrd
pm_wait_for pm_log_has "hostile.json: $REFUSED" ||
	pm_fail "the hostile blob was not refused with a clear log line"
good_serves http://127.0.0.1:23031/
pm_port_refused 23030 || pm_fail "the hostile service listens on 23030"
grep -q namespace_list "$CFG" && pm_fail "namespace_list reached haproxy.cfg"
pm_pass "namespace_list in a service file at start: refused, the good service serves"

# Written while the daemon runs, over a service that serves: it keeps its
# last good definition.
echo '{"type": "file", "file": "'"$PM_TMP/hostile.hosts"'", "port": 23032,
 "listen_options": ["mode http"]}' >"$PM_TMP/services/victim.json"
pm_expect_bodies http://127.0.0.1:23032/ "other"
before=$(pm_reload_count)
echo "$HOSTILE" | sed 's/23030/23032/' | pm_write_atomic "$PM_TMP/services/victim.json"
pm_wait_for pm_log_has "victim.json: $REFUSED" ||
	pm_fail "the hostile change was not refused"
pm_expect_bodies http://127.0.0.1:23032/ "other"
good_serves http://127.0.0.1:23031/
pm_assert_eq "$before" "$(pm_reload_count)" "a refused hostile change: no reload, the service keeps its last good definition"
rm "$PM_TMP/services/victim.json" "$PM_TMP/services/hostile.json"
pm_wait_for pm_port_refused 23032 || pm_fail "removed service still listens"

# ---- 2. what HAProxy built is checked: a new service ----------------------
# "disabled" is a proxy keyword, and `haproxy -c` passes it, but HAProxy
# then builds no proxy at all: show stat has neither frontend nor backend.
echo '{"type": "file", "file": "'"$PM_TMP/hostile.hosts"'", "port": 23033,
 "listen_options": ["disabled", "balance roundrobin"]}' >"$PM_TMP/services/off.json"
pm_wait_for pm_log_has "service off: haproxy\[[0-9]+\] did not build what was rendered from .*off.json: HAProxy has no proxy of that name; refused" ||
	pm_fail "a service HAProxy did not build was not refused"
pm_wait_for pm_log_has "new haproxy\[[0-9]+\] soft-stopped: the new HAProxy did not build what was rendered" ||
	pm_fail "the HAProxy that built it otherwise was not stopped"
good_serves http://127.0.0.1:23031/
has_not_off() { ! grep -q '^listen off$' "$CFG"; }
pm_wait_for has_not_off || pm_fail "the refused service stayed in haproxy.cfg"
pm_wait_for pm_port_refused 23033 || pm_fail "the refused new service kept its port"
# The stopped process had taken the stats socket: the one that serves
# answers there again.
socket_is_current() { [[ $(pm_hap_pid) == "$(grep -oE 'haproxy\[[0-9]+\] serves' \
	"$PM_TMP/proxymgrd.log" | tail -n 1 | tr -dc 0-9)" ]]; }
pm_wait_for socket_is_current || pm_fail "the stats socket is not the serving HAProxy's"
pm_pass "a new service that HAProxy builds otherwise is left out; the others serve"

# The other services' servers still follow discovery over the runtime API.
mark=$(wc -l <"$PM_TMP/proxymgrd.log")
printf '127.0.0.1:23011\n127.0.0.1:23012\n' | pm_write_atomic "$PM_TMP/good.hosts"
pm_expect_bodies http://127.0.0.1:23031/ "good other"
tail -n +"$mark" "$PM_TMP/proxymgrd.log" | grep -q 'runtime: .* no reload' ||
	pm_fail "a server change after the refusal was not a runtime change"
printf '127.0.0.1:23011\n' | pm_write_atomic "$PM_TMP/good.hosts"
pm_expect_bodies http://127.0.0.1:23031/ "good"
pm_pass "after the refusal, server changes go over the runtime API"

# ---- 3. the same for a change of a serving service -------------------------
# It keeps its running definition: the backend still answers through it.
mark=$(wc -l <"$PM_TMP/proxymgrd.log")
echo '{"type": "file", "file": "'"$PM_TMP/good.hosts"'", "port": 23031,
 "listen_options": ["balance roundrobin", "disabled"]}' |
	pm_write_atomic "$PM_TMP/services/web.json"
web_refused() { tail -n +"$mark" "$PM_TMP/proxymgrd.log" |
	grep -qE 'service web: haproxy\[[0-9]+\] did not build what was rendered'; }
pm_wait_for web_refused || pm_fail "a change HAProxy did not build was not refused"
good_serves http://127.0.0.1:23031/
# (on disk until the retry without it has started)
cfg_lacks_disabled() { ! grep -qx "    disabled" "$CFG"; }
pm_wait_for cfg_lacks_disabled || pm_fail "the refused change is in haproxy.cfg"
pm_wait_for socket_is_current || pm_fail "the stats socket is not the serving HAProxy's"
pm_pass "a change that HAProxy builds otherwise: the service keeps its running definition"

# The next valid change of the same service goes live.
echo '{"type": "file", "file": "'"$PM_TMP/good.hosts"'", "port": 23031,
 "listen_options": ["balance roundrobin", "http-response set-header X-Pm v2"]}' |
	pm_write_atomic "$PM_TMP/services/web.json"
has_v2() { curl -s -g --noproxy '*' --max-time 2 -D - -o /dev/null \
	http://127.0.0.1:23031/ | grep -qi '^x-pm: v2'; }
pm_wait_for has_v2 || pm_fail "the next valid change did not go live"
good_serves http://127.0.0.1:23031/
rm "$PM_TMP/services/off.json"
pm_pass "the next valid definition of the refused service goes live"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 after the hostile services"
mv "$PM_TMP/proxymgrd.log" "$PM_TMP/proxymgrd-files.log"
[[ -z $(pm_hap_pids_for "$PM_TMP/") ]] || pm_fail "HAProxy left behind"

# ---- 4. the same blobs as ZooKeeper nodes ----------------------------------
ZK=127.0.0.1:23081
pm_zk_start single 23081
PM_SERVICE_CONFIG="service_config:
  type: zookeeper
  servers: $ZK
  path: /service_config" pm_write_pmconfig
pm_zk $ZK put /service_config/web '{"type": "file", "file": "'"$PM_TMP/good.hosts"'",
 "port": 23041, "listen_options": ["balance roundrobin"]}'
pm_zk $ZK put /service_config/hostile "$HOSTILE"
pm_start_proxymgrd
pm_wait_for pm_log_has "zookeeper:/service_config/hostile: $REFUSED" ||
	pm_fail "the hostile node was not refused with a clear log line"
good_serves http://127.0.0.1:23041/
pm_port_refused 23030 || pm_fail "the hostile node's service listens on 23030"
grep -q namespace_list "$CFG" && pm_fail "namespace_list reached haproxy.cfg"
pm_pass "namespace_list in a ZooKeeper node: refused, the good service serves"

pm_zk $ZK put /service_config/off '{"type": "file", "file": "'"$PM_TMP/hostile.hosts"'",
 "port": 23043, "listen_options": ["disabled"]}'
pm_wait_for pm_log_has "service off: haproxy\[[0-9]+\] did not build what was rendered from zookeeper:/service_config/off" ||
	pm_fail "a node HAProxy did not build was not refused"
good_serves http://127.0.0.1:23041/
pm_wait_for pm_port_refused 23043 || pm_fail "the refused node's service kept its port"
pm_pass "a ZooKeeper node that HAProxy builds otherwise is left out; the others serve"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 after the hostile nodes"
