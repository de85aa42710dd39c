#!/usr/bin/env bash
# Requests that wait in proxymgrd's ZooKeeper queue (beyond the 1,000 in
# flight) when the connection is lost: each is answered as lost, all is
# read again once connected, and nothing is lost. With a real ZooKeeper
# (127.0.0.1:27481) and 1,500 servers:
#  - proxymgrd reaches ZooKeeper through pm-tcp-hold (27482), which holds
#    what proxymgrd sends while ZooKeeper's notifications still reach it;
#  - the data of every server changes: 1,500 notifications, so 1,000
#    reads in flight and 500 queued, none answered; the client gives the
#    connection up (two thirds of its 10 s session without a reply) and
#    proxymgrd says how many waited;
#  - released, proxymgrd reconnects, reads everything again, and HAProxy
#    ends with every server at its new port, serving all along.
# Ports 27401 (service), 27411 (HTTP), 27481 (ZooKeeper), 27482 (relay).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

ZK=127.0.0.1:27481
N=1500
# Sessions of 10 s (proxymgrd's ask): time for ZooKeeper to send every
# notification before it would expire a session whose pings are held.
PM_ZK_MAX_SESSION_MS=30000 pm_zk_start single 27481
pm_start_httpd s0 27411 >/dev/null || pm_fail "backend s0"
"$PM_SRCDIR/tests/helpers/pm-tcp-hold" 27482 27481 "$PM_TMP/hold.pid" \
	>"$PM_TMP/hold.log" 2>&1 &
hold=$!
pm_track "$hold"
pm_wait_for test -s "$PM_TMP/hold.pid" || pm_fail "pm-tcp-hold did not start: $(cat "$PM_TMP/hold.log")"

# Server i (1..N) at port BASE + i; s0 is the one real backend.
servers_at() {
	local base=$1 i
	for ((i = 1; i <= N; i++)); do
		printf '%s /services/big/n%04d {"address": "127.0.0.1", "port": %d}\n' \
			"$2" "$i" $((base + i))
	done
}
pm_zk $ZK put /services/big/s0 '{"address": "127.0.0.1", "port": 27411}'
servers_at 30000 mk | pm_zk $ZK -b - || pm_fail "creating $N nodes"
pm_write_pmconfig
cat >"$PM_TMP/services/big.json" <<JSON
{"type": "zookeeper", "server": "127.0.0.1:27482", "path": "/services/big", "port": 27401,
 "listen_options": ["mode http", "balance first"]}
JSON
pm_start_proxymgrd

# ports_from BASE: servers of backend big in service (not in maintenance,
# as retired slots are) at a port of BASE+1..BASE+N.
ports_from() {
	pm_stats "show servers state big" | awk -v base="$1" -v n="$N" '
		/^# / { for (i = 2; i <= NF; i++) col[$i] = i - 1; next }
		col["srv_port"] && $col["srv_admin_state"] == 0 &&
		    $col["srv_port"] > base && $col["srv_port"] <= base + n { k++ }
		END { print k + 0 }'
}
has_ports() { [[ $(ports_from "$1") == "$2" ]]; }
PM_WAIT_TIMEOUT=120 pm_wait_for has_ports 30000 "$N" ||
	pm_fail "first sync: $(ports_from 30000) of $N servers in HAProxy"
pm_wait_idle
pm_expect_bodies http://127.0.0.1:27401/ "s0"
pm_pass "first sync: s0 and $N servers from ZooKeeper"

kill -USR1 "$hold"
pm_wait_for grep -q 'holding' "$PM_TMP/hold.log" || pm_fail "pm-tcp-hold does not hold"
lost=$(pm_log_count 'requests not sent yet')
# Pipelined (-b), so that the notifications come well within the session.
servers_at 40000 set | pm_zk $ZK -b - || pm_fail "changing $N nodes"
PM_WAIT_TIMEOUT=60 pm_wait_log_count "ZooKeeper 127.0.0.1:27482: [0-9]+ requests not sent yet \\([0-9]+ in flight\\) are dropped with the connection" \
	$((lost + 1)) || pm_fail "no queued request was dropped with the connection: $(grep -E 'ZooKeeper' "$PM_TMP/proxymgrd.log" | tail -n 5)"
line=$(grep -oE '[0-9]+ requests not sent yet \([0-9]+ in flight\)' "$PM_TMP/proxymgrd.log" | tail -n 1)
echo "proxymgrd: $line"
kill -USR2 "$hold"
pm_expect_bodies http://127.0.0.1:27401/ "s0"
pm_pass "reads cut off: $line; s0 still served"

PM_WAIT_TIMEOUT=120 pm_wait_for has_ports 40000 "$N" ||
	pm_fail "after reconnecting: $(ports_from 40000) of $N servers at their new port"
pm_wait_idle
pm_assert_eq 0 "$(ports_from 30000)" "servers still in service at their old port"
pm_expect_bodies http://127.0.0.1:27401/ "s0"
pm_pass "reconnected: every one of the $N servers at its new port, s0 served throughout"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
