#!/usr/bin/env bash
# HAProxy failures: a kill -9 is recovered on the same sockets (and again,
# with backoff); a new HAProxy that dies at start leaves the old one
# serving and its stats socket reachable. Ports 19400-19419.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

pm_start_httpd b1 19411 >/dev/null || pm_fail "backend b1"
echo '{"type": "static", "port": 19400, "servers": [{"address": "127.0.0.1", "port": 19411}]}' \
	>"$PM_TMP/services/web.json"
pm_start_proxymgrd
url=http://127.0.0.1:19400/
pm_expect_bodies "$url" "b1"
pid1=$(pm_hap_pid)

# kill -9: a new HAProxy serves on the same socket.
kill -9 "$pid1"
# A HAProxy other than $1 answers, and proxymgrd has seen it serve.
new_pid() {
	local p
	p=$(pm_hap_pid 2>/dev/null) && [[ -n $p && $p != "$1" ]] &&
		pm_log_has "haproxy\[$p\] serves"
}
pm_wait_for new_pid "$pid1" || pm_fail "no new HAProxy after kill -9"
pm_expect_bodies "$url" "b1"
pm_log_has "haproxy\[$pid1\] died unexpectedly \(killed by signal 9" ||
	pm_fail "the death of haproxy[$pid1] is not logged"
pm_pass "kill -9 of HAProxy: restarted on the same sockets"

# Connections that arrive while no HAProxy runs wait in the held socket's
# accept queue and are served once the new one is up.
pid2=$(pm_hap_pid)
kill -9 "$pid2"
body=$(pm_curl_body "$url" --max-time 5) || pm_fail "request during the restart failed"
pm_assert_eq b1 "$body" "a request sent while no HAProxy runs is served after the restart"

# Repeated deaths back off (100 ms, then 200 ms, ...).
for i in 1 2; do
	p=$(pm_hap_pid)
	kill -9 "$p"
	pm_wait_for new_pid "$p" || pm_fail "no new HAProxy after kill -9 number $i"
done
pm_log_has "restarting it in 400 ms" || pm_fail "no backoff in the restart delays"
pm_expect_bodies "$url" "b1"
pm_pass "repeated kill -9: restarts back off and recover"

# A new HAProxy that passes -c but dies at start (a stats socket in a
# directory that does not exist): the old one keeps serving, its socket is
# taken back, the settings roll back, and later changes still apply.
pid_before=$(pm_hap_pid)
PM_GLOBAL='"maxconn 4096", "stats socket /nonexistent-dir/x.sock"' pm_write_pmconfig
kill -HUP "$PM_PID"
pm_wait_for pm_log_has "new haproxy\[[0-9]+\] exited \(exit status 1\) before it was ready" ||
	pm_fail "start failure not logged"
pm_log_has "cannot bind UNIX socket.*nonexistent-dir" ||
	pm_fail "HAProxy's own message about the failure is not logged"
pm_expect_bodies "$url" "b1"
socket_answers() { [[ -n $(pm_hap_pid 2>/dev/null) ]]; }
pm_wait_for socket_answers || pm_fail "stats socket not answering after the failed start"
grep -q nonexistent-dir "$PM_TMP/run/haproxy.cfg" &&
	pm_fail "haproxy.cfg still holds the configuration that failed"
pm_pass "a HAProxy that dies at start: the old one keeps serving, stats socket answers"

pm_start_httpd b2 19412 >/dev/null || pm_fail "backend b2"
echo '{"type": "static", "port": 19400, "servers": [{"address": "127.0.0.1", "port": 19411}, {"address": "127.0.0.1", "port": 19412}]}' |
	pm_write_atomic "$PM_TMP/services/web.json"
pm_expect_bodies "$url" "b1 b2"
pm_pass "changes after the failed start go live"

# SIGTERM under load: requests in flight finish, proxymgrd exits 0.
served=$(pm_traffic web)
pm_wrk_start "$PM_TMP/wrk.out" 120 8 "$url" >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic web $((served + 500)) || pm_fail "no load flows through HAProxy"
hap_cfg=$PM_TMP/run/haproxy.cfg
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 on SIGTERM under load"
kill -INT "$wrk_pid" 2>/dev/null || true
pm_wrk_wait "$wrk_pid" || true
left=$(pm_hap_pids_for "$hap_cfg" | tr '\n' ' ' || true)
[[ -z $left ]] || pm_fail "HAProxy left running: $left"
pm_pass "SIGTERM under load leaves no HAProxy behind"
