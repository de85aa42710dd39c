#!/usr/bin/env bash
# ZooKeeper failures never empty a backend, with a real ZooKeeper
# (standalone on 127.0.0.1:20181, sessions of at most 3 s) and load:
# - ZooKeeper stopped for 30 s under wrk (Connection: close): no failed
#   request, no reload, proxymgrd up and saying what goes on; after the
#   restart, changes are applied;
# - session expiry (proxymgrd frozen past its session timeout while the
#   servers change in ZooKeeper): a new session, everything re-read, the
#   difference applied; HAProxy serves all along.
# Ports 20101-20109 (services), 20111-20119 (HTTP), 20181 (ZooKeeper).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

ZK=127.0.0.1:20181
LOG=$PM_TMP/proxymgrd.log
OUTAGE_S=30
srv() { printf '{"address": "127.0.0.1", "port": %d}' "$1"; }

pm_zk_start single 20181
for n in 1 2 3 4; do
	pm_start_httpd "s$n" $((20110 + n)) >/dev/null || pm_fail "start s$n"
done
pm_zk $ZK put /service_config/web '{"type": "zookeeper",
 "server": "127.0.0.1:20181", "path": "/services/web", "port": 20101,
 "listen_options": ["mode http"]}'
pm_zk $ZK put /services/web/s1 "$(srv 20111)"
pm_zk $ZK put /services/web/s2 "$(srv 20112)"

PM_SERVICE_CONFIG=$'service_config:\n  type: zookeeper\n  servers: 127.0.0.1:20181\n  path: /service_config' \
	pm_write_pmconfig
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:20101/ "s1 s2"
pm_pass "serving s1 s2 from ZooKeeper"

# ---- ZooKeeper down for 30 s under load --------------------------------------
hap_pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
served=$(pm_traffic web)
pm_wrk_start "$PM_TMP/wrk-outage.txt" $((OUTAGE_S + 300)) 8 \
	http://127.0.0.1:20101/ -H 'Connection: close' >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows through HAProxy"
pm_zk_kill single
t0=$(pm__now_ms)
pm_wait_for pm_log_has 'ZooKeeper 127.0.0.1:20181: connection lost; serving the last known state' ||
	pm_fail "the lost connection is not logged"
# Observe the outage for OUTAGE_S seconds at least (longer on a slow
# machine: that only lengthens the outage).
while (($(pm__now_ms) - t0 < OUTAGE_S * 1000)); do
	pm__alive "$PM_PID" || pm_fail "proxymgrd died while ZooKeeper was down"
	sleep 1
done
pm_wait_for pm_log_has 'ZooKeeper 127.0.0.1:20181: out of reach for [0-9]+ s; every service and server stays as last read' ||
	pm_fail "no reminder that ZooKeeper is still out of reach"
pm_assert_eq "s1 s2" "$(pm_bodies http://127.0.0.1:20101/ 20)" \
	"after ${OUTAGE_S} s without ZooKeeper both servers still serve"
pm_assert_eq "$reloads $hap_pid" "$(pm_reload_count) $(pm_hap_pid)" \
	"no reload while ZooKeeper is down"

pm_zk_launch single
pm_zk_wait_serving single
pm_wait_for pm_log_has 'ZooKeeper 127.0.0.1:20181: connected .* after [0-9]+ ms out of reach' ||
	pm_fail "no reconnect logged"
pm_zk $ZK put /services/web/s3 "$(srv 20113)"
pm_expect_bodies http://127.0.0.1:20101/ "s1 s2 s3"
pm_pass "after ZooKeeper's restart a new server is applied"

served=$(pm_traffic web)
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows after the restart"
pm_wrk_stop "$wrk_pid" || pm_fail "wrk failed"
pm_wrk_parse "$PM_TMP/wrk-outage.txt" || pm_fail "no wrk result"
echo "outage: $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx"
((WRK_REQUESTS > 1000)) || pm_fail "too little load to judge ($WRK_REQUESTS requests)"
pm_assert_eq "0 0" "$WRK_SOCKET_ERRORS $WRK_NON2XX" \
	"no failed request across a ${OUTAGE_S} s ZooKeeper outage"

# ---- session expiry ------------------------------------------------------------
# proxymgrd is frozen until ZooKeeper has expired its session (3 s at
# most) and dropped its connection; meanwhile s1 leaves and s4 joins.
sid=$(grep -oE 'ZooKeeper 127\.0\.0\.1:20181: connected \(session 0x[0-9a-f]+\)' "$LOG" |
	tail -n 1 | grep -oE '0x[0-9a-f]+')
[[ -n $sid ]] || pm_fail "no session id in the log"
pm_zk_has_session 20181 "$sid" || pm_fail "ZooKeeper does not list session $sid"
served=$(pm_traffic web)
pm_wrk_start "$PM_TMP/wrk-expiry.txt" 300 8 \
	http://127.0.0.1:20101/ -H 'Connection: close' >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows through HAProxy"
kill -STOP "$PM_PID"
cont_pm() { kill -CONT "$PM_PID" 2>/dev/null || true; }
trap 'cont_pm; pm__cleanup' EXIT
pm_zk $ZK rm /services/web/s1
pm_zk $ZK put /services/web/s4 "$(srv 20114)"
session_gone() { pm_zk_has_session 20181 "$sid"; (($? == 1)); }
pm_wait_for session_gone || pm_fail "ZooKeeper never expired session $sid"
cont_pm
trap pm__cleanup EXIT
pm_wait_for pm_log_has 'ZooKeeper 127.0.0.1:20181: session expired; opening a new session in [0-9]+ ms' ||
	pm_fail "the expired session is not logged"
pm_expect_bodies http://127.0.0.1:20101/ "s2 s3 s4"
pm_pass "after a session expiry everything is re-read and the difference applied"
served=$(pm_traffic web)
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows after the expiry"
pm_wrk_stop "$wrk_pid" || pm_fail "wrk failed"
pm_wrk_parse "$PM_TMP/wrk-expiry.txt" || pm_fail "no wrk result"
echo "expiry: $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx"
pm_assert_eq "0 0" "$WRK_SOCKET_ERRORS $WRK_NON2XX" \
	"no failed request across the session expiry"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 on SIGTERM"
