#!/usr/bin/env bash
# Crash-only proxymgrd: under wrk load (CRASH_MODE=close: a connection per
# request; keepalive: long connections), proxymgrd is SIGKILLed at chosen
# moments (the first start, a `haproxy -c` in flight, a new HAProxy
# starting, a runtime batch, an old HAProxy draining) and at random ones,
# and restarted each time with the same proxymgr.yml. Each new proxymgrd
# takes the running HAProxy over: no request fails, a server added after
# the restart goes live on the same HAProxy, a new service goes live, and
# every HAProxy but the serving one goes away (no second generation
# serves). Ports 24300-24399 (close) and 24400-24499 (keepalive).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

mode=${CRASH_MODE:-close}
case $mode in
close) base=24300 wrk_args=(-H 'Connection: close') ;;
keepalive) base=24400 wrk_args=() ;;
*) pm_fail "CRASH_MODE must be close or keepalive, not '$mode'" ;;
esac
rounds=${CRASH_ROUNDS:-21}
web=$base
cfg=$PM_TMP/run/haproxy.cfg

# HAProxy behind a wrapper that says when a check or a process starts, and
# holds a check while $PM_TMP/hold-check exists (at most 30 s), so that a
# kill can land exactly there.
cat >"$PM_TMP/haproxy" <<EOF
#!/bin/sh
case " \$* " in
*" -c "*)
	touch "$PM_TMP/check-started"
	i=0
	while [ -e "$PM_TMP/hold-check" ] && [ \$i -lt 600 ]; do
		sleep 0.05
		i=\$((i + 1))
	done
	rc=0
	${HAPROXY:-haproxy} "\$@" || rc=\$?
	touch "$PM_TMP/check-done"
	exit \$rc ;;
*) touch "$PM_TMP/run-started" ;;
esac
exec ${HAPROXY:-haproxy} "\$@"
EOF
chmod +x "$PM_TMP/haproxy"
HAPROXY=$PM_TMP/haproxy PM_GLOBAL='"maxconn 4096", "hard-stop-after 10s"' \
	pm_write_pmconfig

for i in 0 1 2 3; do
	pm_start_httpd "b$i" $((base + 50 + i)) >/dev/null || pm_fail "backend b$i"
done
hosts=$PM_TMP/web.hosts
echo "127.0.0.1:$((base + 50))" >"$hosts"
cat >"$PM_TMP/services/web.json" <<EOF
{"type": "file", "file": "$hosts", "port": $web}
EOF

# Every HAProxy of this test is tracked, so that none outlives a failure.
track_haproxy() {
	local p
	for p in $(pm_hap_pids_for "$cfg"); do
		grep -qx "$p" "$PM_TMP/.pids" || pm_track "$p"
	done
}

launch() {
	if [[ -n ${idle:-} ]]; then
		# The idle connection is the test's: a copy in proxymgrd
		# would keep the draining HAProxy until hard-stop-after.
		"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d </dev/null \
			>>"$PM_TMP/proxymgrd.log" 2>&1 {idle}>&- &
	else
		"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d </dev/null \
			>>"$PM_TMP/proxymgrd.log" 2>&1 &
	fi
	PM_PID=$!
	pm_track "$PM_PID"
}

kill_pm() {
	track_haproxy
	kill -KILL "$PM_PID"
	wait "$PM_PID" 2>/dev/null || true
	kills=$((kills + 1))
	kill_ms=$(pm__now_ms)
	echo "kill $kills: $1"
}

# A restarted proxymgrd has converged: it took over (or started) HAProxy,
# planned the first change, and nothing is left in flight.
restart_pm() {
	local starts
	starts=$(pm_log_count 'debug: start( \(taken over\))?$')
	launch
	pm_wait_log_count 'debug: start( \(taken over\))?$' $((starts + 1)) ||
		pm_fail "restart $kills: proxymgrd did not start"
	pm_wait_idle
	track_haproxy
	echo "  converged $(($(pm__now_ms) - kill_ms)) ms after the kill"
}

only_one_haproxy() { (($(pm_hap_pids_for "$cfg" | wc -l) == 1)); }

# What each round checks once the restarted proxymgrd is idle: a server
# added to discovery goes live without a reload, a new service goes live,
# and no HAProxy but the serving one is left.
round=0
check_round() {
	local pid name new_port
	round=$((round + 1))
	pid=$(pm_hap_pid)
	name=b$((round % 3 + 1))
	printf '127.0.0.1:%d\n127.0.0.1:%d\n' $((base + 50)) \
		$((base + 50 + round % 3 + 1)) | pm_write_atomic "$hosts"
	pm_expect_bodies "http://127.0.0.1:$web/" "b0 $name"
	[[ $(pm_hap_pid) == "$pid" ]] ||
		pm_fail "round $round: the server went live with a reload ($pid -> $(pm_hap_pid))"
	new_port=$((base + 1 + round % 2))
	rm -f "$PM_TMP"/services/extra*.json
	echo "{\"type\": \"static\", \"port\": $new_port, \"servers\": [{\"address\": \"127.0.0.1\", \"port\": $((base + 50))}]}" |
		pm_write_atomic "$PM_TMP/services/extra$round.json"
	pm_expect_bodies "http://127.0.0.1:$new_port/" "b0"
	pm_wait_idle
	track_haproxy
	pm_wait_for only_one_haproxy ||
		pm_fail "round $round: more than one HAProxy is left: $(pm_hap_pids_for "$cfg" | tr '\n' ' ')"
	echo "  round $round checked $(($(pm__now_ms) - kill_ms)) ms after the kill"
}

# A change that needs a reload: a service comes or goes.
trigger_reload() {
	if [[ -e $PM_TMP/services/trigger.json ]]; then
		rm -f "$PM_TMP/services/trigger.json"
	else
		echo "{\"type\": \"static\", \"port\": $((base + 3)), \"servers\": [{\"address\": \"127.0.0.1\", \"port\": $((base + 51))}]}" |
			pm_write_atomic "$PM_TMP/services/trigger.json"
	fi
}

wait_file() { [[ -e $1 ]]; }

kills=0
# 1. During the first start: the HAProxy it spawned is taken over.
rm -f "$PM_TMP/run-started"
launch
pm_wait_for wait_file "$PM_TMP/run-started" || pm_fail "no HAProxy started"
kill_pm "during the first start"
restart_pm
pm_expect_bodies "http://127.0.0.1:$web/" "b0"
check_round

wrk_out=$PM_TMP/wrk.out
# wrk's own bound only: it is stopped once the rounds are done, which took
# over 10 minutes on a 2-core machine at load 50.
pm_wrk_start "$wrk_out" 3600 20 "http://127.0.0.1:$web/" "${wrk_args[@]}" >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic web 100 || pm_fail "wrk sends nothing"

for ((r = 1; r < rounds; r++)); do
	case $((r % 5)) in
	0) # While `haproxy -c` of a reload runs.
		rm -f "$PM_TMP/check-started"
		touch "$PM_TMP/hold-check"
		trigger_reload
		pm_wait_for wait_file "$PM_TMP/check-started" || pm_fail "no check started"
		rm -f "$PM_TMP/check-done"
		kill_pm "during haproxy -c"
		# The orphaned check holds the new service's socket until it
		# ends (a port held by another process is not retried).
		rm -f "$PM_TMP/hold-check"
		pm_wait_for wait_file "$PM_TMP/check-done" || pm_fail "the check never ended" ;;
	1) # While the new HAProxy of a reload starts.
		rm -f "$PM_TMP/run-started"
		trigger_reload
		pm_wait_for wait_file "$PM_TMP/run-started" || pm_fail "no HAProxy started"
		kill_pm "while a new HAProxy starts" ;;
	2) # In the middle of a runtime batch (0-4 ms after the change).
		printf '127.0.0.1:%d\n127.0.0.1:%d\n' $((base + 50)) $((base + 53)) |
			pm_write_atomic "$hosts"
		sleep "0.00$((RANDOM % 5))"
		kill_pm "during a runtime batch" ;;
	3) # While an old HAProxy drains: an idle connection keeps it.
		exec {idle}<>"/dev/tcp/127.0.0.1/$web"
		sleep 0.2 # let the connection reach HAProxy's accept
		two_haproxy() { (($(pm_hap_pids_for "$cfg" | wc -l) >= 2)); }
		trigger_reload
		pm_wait_for two_haproxy || pm_fail "no old HAProxy drains"
		kill_pm "while an old HAProxy drains" ;;
	4) # At a random moment (0-299 ms) after a random change.
		if ((RANDOM % 2)); then trigger_reload; else
			printf '127.0.0.1:%d\n' $((base + 50)) | pm_write_atomic "$hosts"
		fi
		sleep "0.$(printf %03d $((RANDOM % 300)))"
		kill_pm "at random" ;;
	esac
	restart_pm
	if [[ -n ${idle:-} ]]; then
		exec {idle}>&-
		unset idle
	fi
	check_round
done
pm_pass "$kills SIGKILLs of proxymgrd: each restart took HAProxy over and converged"

pm_wrk_stop "$wrk_pid" || true
pm_wrk_parse "$wrk_out" || pm_fail "wrk printed no result: $(cat "$wrk_out")"
echo "wrk ($mode): $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx"
((WRK_REQUESTS > 0)) || pm_fail "wrk sent no request"
pm_assert_eq "0 0" "$WRK_SOCKET_ERRORS $WRK_NON2XX" \
	"no request failed across $kills kills ($WRK_REQUESTS requests, $mode)"

# HAProxy's own messages reach the proxymgrd that took it over: the lines
# a taken-over HAProxy prints as it soft-stops.
heard=0
for p in $(grep -oE 'taking over haproxy\[[0-9]+\]' "$PM_TMP/proxymgrd.log" | grep -oE '[0-9]+' | sort -u); do
	pm_log_has "haproxy\[$p\]: .*Proxy web stopped" && heard=$((heard + 1))
done
((heard > 0)) || pm_fail "no message of a taken-over HAProxy reached proxymgrd"
pm_pass "the messages of $heard taken-over HAProxy processes reached the new proxymgrd"

pm_stop_proxymgrd
gone() { [[ -z $(pm_hap_pids_for "$cfg") ]]; }
pm_wait_for gone || pm_fail "HAProxy left after SIGTERM: $(pm_hap_pids_for "$cfg" | tr '\n' ' ')"
pm_pass "after the final SIGTERM no HAProxy is left"
