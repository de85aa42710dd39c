#!/usr/bin/env bash
# First sync in one start (reload.initial_sync_timeout_ms), with a real
# ZooKeeper and a real HAProxy:
# 1. 200 services x 20 servers from host files (service_config file):
#    one HAProxy start, no reload, all 4,000 servers in HAProxy.
# 2. The same from ZooKeeper, written before proxymgrd starts: one start,
#    no reload until idle, all 4,000 servers in HAProxy's own state.
# 3. One more service whose watcher never answers (its ZooKeeper is down):
#    HAProxy starts once the bound (2 s here) passes, with the others,
#    and the log names the one it waited for.
# 4. 100 services (2,000 servers) added at once while it runs: one reload.
# 5. A takeover (proxymgrd SIGKILLed, started again) adopts the running
#    HAProxy at once, and compares it with the model only once every
#    watcher answered: no reload.
# 6. 50 services that arrive while a reload's `haproxy -c` is in flight
#    are one more reload.
# Services listen on 127.0.0.2-127.0.0.8, ports 27100-27149; ZooKeeper on
# 127.0.0.1:27181; nothing listens on 127.0.0.1:27199 (the dead one).
# No traffic goes to the servers: HAProxy's state is what is checked.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

ZK=127.0.0.1:27181
DEAD_ZK=127.0.0.1:27199
NSVC=200
NSRV=20

# Service I's listen address and port: 50 ports per loopback address.
svc_bind() { echo "127.0.0.$((2 + $1 / 50))"; }
svc_port() { echo $((27100 + $1 % 50)); }

# Servers HAProxy holds, from its own `show servers state`.
hap_servers() {
	pm_stats "show servers state" | awk '$1 ~ /^[0-9]+$/ && NF > 10' | wc -l
}
has_servers() { (($(hap_servers) == $1)); }

# The services the last HAProxy generation serves, from the log.
last_serves() {
	grep -oE 'serves [0-9]+ services \(reload' "$PM_TMP/proxymgrd.log" |
		tail -n 1 | awk '{print $2}'
}

checks() { pm_log_count 'reload: checking the new configuration'; }

# one_start WHAT: the first sync from WHAT was one HAProxy start with
# every service and server, and no reload.
one_start() {
	pm_log_has "first sync: $NSVC services, $((NSVC * NSRV)) servers from $NSVC watchers in [0-9]+ ms" ||
		pm_fail "no first sync line: $(grep -E 'first sync' "$PM_TMP/proxymgrd.log" || true)"
	pm_assert_eq 1 "$(pm_reload_count)" "$1: HAProxy generations until idle"
	pm_assert_eq 1 "$(checks)" "$1: haproxy -c runs until idle"
	pm_assert_eq "$NSVC" "$(last_serves)" "$1: services HAProxy serves"
	pm_assert_eq $((NSVC * NSRV)) "$(hap_servers)" "$1: servers in HAProxy"
	pm_pass "$1: $NSVC x $NSRV in one start, no reload"
}

# ---- 1. host files ------------------------------------------------------------
mkdir -p "$PM_TMP/hosts"
pm_write_pmconfig
for ((i = 0; i < NSVC; i++)); do
	for ((j = 0; j < NSRV; j++)); do
		echo "127.0.1.1:$((27100 + j))"
	done >"$PM_TMP/hosts/s$i"
	printf '{"type": "file", "file": "%s", "port": %d, "bind_address": "%s"}\n' \
		"$PM_TMP/hosts/s$i" "$(svc_port $i)" "$(svc_bind $i)" \
		>"$PM_TMP/services/s$i.json"
done
pm_start_proxymgrd
pm_wait_idle
one_start "host files"
pm_stop_proxymgrd
mv "$PM_TMP/proxymgrd.log" "$PM_TMP/proxymgrd-files.log"

# ---- 2. ZooKeeper ------------------------------------------------------------
pm_zk_start single 27181
pm_pass "ZooKeeper serves on $ZK"

# Service I's servers, in one transaction.
zk_servers() {
	local i=$1 j
	echo multi
	echo "mk /services/s$i"
	for ((j = 0; j < NSRV; j++)); do
		printf 'mk /services/s%d/n%d {"address": "127.0.1.1", "port": %d}\n' \
			"$i" "$j" $((27100 + j))
	done
	echo end
}
zk_service() {
	printf 'mk /service_config/s%d {"type": "zookeeper", "server": "%s", "path": "/services/s%d", "port": %d, "bind_address": "%s"}\n' \
		"$1" "$ZK" "$1" "$(svc_port "$1")" "$(svc_bind "$1")"
}
{
	echo "mk /services"
	echo "mk /service_config"
	for ((i = 0; i < NSVC; i++)); do
		zk_servers $i
	done
	for ((i = 0; i < NSVC; i++)); do
		zk_service $i
	done
} | timeout 120 "$PM_ZK" -s "$ZK" - || pm_fail "writing $NSVC services to ZooKeeper"
pm_pass "ZooKeeper holds $NSVC services x $NSRV servers"

rm -rf "$PM_TMP/services"
PM_SERVICE_CONFIG="service_config:
  type: zookeeper
  servers: $ZK
  path: /service_config"
# So large that only a defect, not a slow machine, makes it decide.
PM_INITIAL_SYNC_MS=120000 pm_write_pmconfig
pm_start_proxymgrd
pm_wait_idle
one_start "ZooKeeper"
pm_stop_proxymgrd
mv "$PM_TMP/proxymgrd.log" "$PM_TMP/proxymgrd-zk.log"

# ---- 3. a watcher that never answers ------------------------------------------
printf 'put /service_config/dead {"type": "zookeeper", "server": "%s", "path": "/services/dead", "port": 27149, "bind_address": "127.0.0.8"}\n' \
	"$DEAD_ZK" | pm_zk "$ZK" - || pm_fail "writing the dead service"
PM_INITIAL_SYNC_MS=2000 pm_write_pmconfig
t0=$(pm__now_ms)
pm_start_proxymgrd
started_ms=$(($(pm__now_ms) - t0))
pm_log_has 'first sync: bound of 2000 ms reached; still waiting on: dead; ' ||
	pm_fail "no bound line naming dead: $(grep -E 'first sync' "$PM_TMP/proxymgrd.log" || true)"
((started_ms >= 2000)) || pm_fail "HAProxy started after $started_ms ms, before the bound"
pm_wait_idle
pm_assert_eq 1 "$(pm_reload_count)" "dead watcher: HAProxy generations until idle"
pm_assert_eq $((NSVC + 1)) "$(last_serves)" "dead watcher: services HAProxy serves"
pm_assert_eq $((NSVC * NSRV)) "$(hap_servers)" "dead watcher: servers in HAProxy"
pm_pass "a watcher that never answers: HAProxy started at the bound ($started_ms ms) with the others"

# ---- 4. 100 services at once while it runs ------------------------------------
before=$(pm_reload_count)
{
	for ((i = NSVC; i < NSVC + 100; i++)); do
		zk_servers $i
	done
	# The services themselves in one transaction: "at once".
	echo multi
	for ((i = NSVC; i < NSVC + 100; i++)); do
		zk_service $i
	done
	echo end
} | timeout 120 "$PM_ZK" -s "$ZK" - || pm_fail "writing 100 more services"
pm_wait_for pm_log_has "service s$((NSVC + 99)): added" ||
	pm_fail "proxymgrd did not see the new services"
pm_wait_for has_servers $(((NSVC + 100) * NSRV)) ||
	pm_fail "HAProxy holds $(hap_servers) servers, not $(((NSVC + 100) * NSRV))"
pm_wait_idle
pm_assert_eq $((before + 1)) "$(pm_reload_count)" "100 services at once: HAProxy generations"
pm_assert_eq $((NSVC + 101)) "$(last_serves)" "100 services at once: services HAProxy serves"
pm_assert_eq $(((NSVC + 100) * NSRV)) "$(hap_servers)" "100 services at once: servers in HAProxy"
pm_pass "100 services (2,000 servers) at once while running: one reload"

# ---- 5. a takeover ------------------------------------------------------------
pm_zk "$ZK" rm /service_config/dead || pm_fail "removing the dead service"
pm_wait_for pm_log_has 'service dead: removed' || pm_fail "dead not removed"
pm_wait_idle
hap=$(pm_hap_pid)
before=$(pm_reload_count)
kill -KILL "$PM_PID"
wait "$PM_PID" 2>/dev/null || true
PM_INITIAL_SYNC_MS=120000 pm_write_pmconfig
syncs=$(pm_log_count 'first sync')
"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_for pm_log_has 'debug: start \(taken over\)$' ||
	pm_fail "the new proxymgrd did not take HAProxy over"
pm_wait_idle
pm_assert_eq "$syncs" "$(pm_log_count 'first sync')" "first sync lines after the takeover"
pm_assert_eq "$before" "$(pm_reload_count)" "HAProxy generations after the takeover"
pm_assert_eq "$hap" "$(pm_hap_pid)" "the HAProxy serving after the takeover"
pm_pass "a takeover adopts the running HAProxy at once, and keeps it: the watchers answered before the comparison"
pm_stop_proxymgrd

# ---- 6. a burst while a reload is in flight -----------------------------------
# HAProxy behind a wrapper that holds `haproxy -c` while hold-check exists
# (at most 30 s): 50 services arrive while a reload's check is held, and
# are one more reload once it is over.
cat >"$PM_TMP/haproxy" <<EOF
#!/bin/sh
case " \$* " in
*" -c "*)
	touch "$PM_TMP/check-started"
	i=0
	while [ -e "$PM_TMP/hold-check" ] && [ \$i -lt 600 ]; do
		sleep 0.05
		i=\$((i + 1))
	done ;;
esac
exec ${HAPROXY:-haproxy} "\$@"
EOF
chmod +x "$PM_TMP/haproxy"
static_svc() {
	printf '{"type": "static", "port": %d, "bind_address": "127.0.0.9", "servers": [{"address": "127.0.1.1", "port": 27100}]}\n' "$1"
}
rm -rf "$PM_TMP/services"
mkdir -p "$PM_TMP/services"
static_svc 27100 >"$PM_TMP/services/b0.json"
unset PM_SERVICE_CONFIG
HAPROXY=$PM_TMP/haproxy pm_write_pmconfig
mv "$PM_TMP/proxymgrd.log" "$PM_TMP/proxymgrd-takeover.log"
pm_start_proxymgrd
pm_wait_idle
before=$(pm_reload_count)
touch "$PM_TMP/hold-check"
rm -f "$PM_TMP/check-started"
static_svc 27101 | pm_write_atomic "$PM_TMP/services/b1.json"
wait_file() { [[ -e $1 ]]; }
pm_wait_for wait_file "$PM_TMP/check-started" || pm_fail "no reload for b1"
for ((i = 2; i <= 51; i++)); do
	static_svc $((27100 + i)) | pm_write_atomic "$PM_TMP/services/b$i.json"
done
pm_wait_for pm_log_has 'service b51: added' || pm_fail "b51 not seen"
rm -f "$PM_TMP/hold-check"
pm_wait_reloads $((before + 2)) || pm_fail "the burst was not reloaded"
pm_wait_idle
pm_assert_eq $((before + 2)) "$(pm_reload_count)" "a burst during a reload's check: HAProxy generations"
pm_assert_eq 52 "$(last_serves)" "a burst during a reload's check: services HAProxy serves"
pm_pass "50 services arriving while a reload is in flight: one more reload"
pm_stop_proxymgrd
