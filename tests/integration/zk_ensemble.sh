#!/usr/bin/env bash
# A three-node ZooKeeper ensemble on loopback (Debian's package), its
# leader killed under load: HAProxy serves on without a failed request,
# proxymgrd follows the ensemble through the election, and changes written
# to the two survivors still reach HAProxy.
# Ports 20201-20203 (clients), 20211-20213 and 20221-20223 (quorum,
# election), 20251 (service), 20261-20263 (HTTP).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

srv() { printf '{"address": "127.0.0.1", "port": %d}' "$1"; }

pm_zk_ensemble_start 20200
ZK=$PM_ZK_ENSEMBLE
leader=""
for i in 1 2 3; do
	[[ $(pm_zk_mode $((20200 + i))) == leader ]] && leader=$i
done
[[ -n $leader ]] || pm_fail "no leader in the ensemble"
pm_pass "ensemble $ZK serves, leader zk-$leader"

for n in 1 2 3; do
	pm_start_httpd "s$n" $((20260 + n)) >/dev/null || pm_fail "start s$n"
done
pm_zk "$ZK" put /service_config/web "{\"type\": \"zookeeper\",
 \"server\": \"$ZK\", \"path\": \"/services/web\", \"port\": 20251,
 \"listen_options\": [\"mode http\"]}"
pm_zk "$ZK" put /services/web/s1 "$(srv 20261)"
pm_zk "$ZK" put /services/web/s2 "$(srv 20262)"

PM_SERVICE_CONFIG=$'service_config:\n  type: zookeeper\n  servers: '"$ZK"$'\n  path: /service_config' \
	pm_write_pmconfig
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:20251/ "s1 s2"
pm_pass "serving s1 s2 from the ensemble"

served=$(pm_traffic web)
pm_wrk_start "$PM_TMP/wrk.txt" 300 8 http://127.0.0.1:20251/ \
	-H 'Connection: close' >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows through HAProxy"
pm_zk_kill "$leader" KILL
pm_pass "leader zk-$leader killed"

survivors=""
for i in 1 2 3; do
	[[ $i == "$leader" ]] || survivors+="${survivors:+,}127.0.0.1:$((20200 + i))"
done
new_leader() {
	local i
	for i in 1 2 3; do
		[[ $i != "$leader" && $(pm_zk_mode $((20200 + i))) == leader ]] && return 0
	done
	return 1
}
PM_WAIT_TIMEOUT=60 pm_wait_for new_leader || pm_fail "the survivors elected no leader"
pm_zk "$survivors" put /services/web/s3 "$(srv 20263)" ||
	pm_fail "cannot write to the surviving ensemble"
pm_expect_bodies http://127.0.0.1:20251/ "s1 s2 s3"
pm_zk "$survivors" rm /services/web/s1
pm_expect_bodies http://127.0.0.1:20251/ "s2 s3"
pm_pass "changes written after the election reach HAProxy"
pm__alive "$PM_PID" || pm_fail "proxymgrd died"

served=$(pm_traffic web)
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows after the election"
pm_wrk_stop "$wrk_pid" || pm_fail "wrk failed"
pm_wrk_parse "$PM_TMP/wrk.txt" || pm_fail "no wrk result"
echo "leader killed: $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx"
((WRK_REQUESTS > 1000)) || pm_fail "too little load to judge ($WRK_REQUESTS requests)"
pm_assert_eq "0 0" "$WRK_SOCKET_ERRORS $WRK_NON2XX" \
	"no failed request while the leader died and a new one was elected"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 on SIGTERM"
