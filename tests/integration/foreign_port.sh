#!/usr/bin/env bash
# What is not proxymgrd's is named, never served beside: a port held by a
# HAProxy that does not run proxymgrd's config makes the first start fail
# with its pid; so does a foreign HAProxy on the stats socket path. A port
# held by another program leaves its service out, names the holder, and
# is tried again until it is free. Ports 24500-24519.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig
pm_start_httpd b1 24511 >/dev/null || pm_fail "backend b1"
svc() { # NAME PORT
	echo "{\"type\": \"static\", \"port\": $2, \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 24511}]}" |
		pm_write_atomic "$PM_TMP/services/$1.json"
}

# A HAProxy run by hand, with its own config, on a service's port.
cat >"$PM_TMP/foreign.cfg" <<CFG
global
    stats socket $PM_TMP/foreign.sock mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen foreign
    bind 127.0.0.1:24500
    server s1 127.0.0.1:24511
CFG
${HAPROXY:-haproxy} -f "$PM_TMP/foreign.cfg" -db </dev/null >"$PM_TMP/foreign.log" 2>&1 &
foreign=$!
pm_track "$foreign"
pm_wait_port 24500 || pm_fail "the foreign HAProxy does not listen"
svc web 24500
svc other 24502
rc=0
timeout 60 "$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" </dev/null >"$PM_TMP/refused.log" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || pm_fail "proxymgrd started beside a foreign HAProxy (exit $rc)"
grep -q "port 24500 is held by haproxy\[$foreign\], which does not run" "$PM_TMP/refused.log" ||
	pm_fail "the refusal does not name haproxy[$foreign]: $(cat "$PM_TMP/refused.log")"
[[ -z $(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg") ]] || pm_fail "a HAProxy of proxymgrd was left running"
pm_port_refused 24502 || pm_fail "the other service was served beside the foreign HAProxy"
pm_pass "a port held by a foreign HAProxy: no start, its pid named"

# The same HAProxy on proxymgrd's stats socket path.
PM_STATS_SOCKET=$PM_TMP/foreign.sock pm_stats "show info" >/dev/null || pm_fail "foreign stats socket"
ln -sf "$PM_TMP/foreign.sock" "$PM_TMP/run/haproxy.sock"
rm -f "$PM_TMP/services/web.json"
rc=0
timeout 60 "$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" </dev/null >"$PM_TMP/refused2.log" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || pm_fail "proxymgrd started on a foreign HAProxy's stats socket (exit $rc)"
grep -q "is answered by haproxy\[$foreign\], which does not run" "$PM_TMP/refused2.log" ||
	pm_fail "the refusal does not name haproxy[$foreign]: $(cat "$PM_TMP/refused2.log")"
pm_pass "a foreign HAProxy on the stats socket path: no start, its pid named"
rm -f "$PM_TMP/run/haproxy.sock"
kill -TERM "$foreign"

# A port held by another program: its service waits, the others serve.
pm_start_httpd squatter 24501 >/dev/null || pm_fail "squatter"
squatter=$PM_LAST_PID
svc web 24501
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:24502/ "b1"
pm_log_has "service web: cannot bind 127.0.0.1:24501: Address already in use \(held by pm-httpd\[$squatter\]\); service left out" ||
	pm_fail "the holder of port 24501 is not named"
retries=$(pm_log_count 'retrying the ports that could not be bound')
kill -TERM "$squatter"
pm_wait_log_count 'retrying the ports that could not be bound' $((retries + 1)) ||
	pm_fail "the busy port is not tried again"
pm_expect_bodies http://127.0.0.1:24501/ "b1"
pm_pass "a port held by another program is named, and served once it is free"
pm_stop_proxymgrd
