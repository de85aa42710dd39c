#!/usr/bin/env bash
# proxymgrd --stop-post, what systemd runs as ExecStopPost=: after
# proxymgrd is killed (SERVICE_RESULT=signal) its HAProxy serves on for a
# restarted proxymgrd to take over; after a stop (SERVICE_RESULT=success)
# no HAProxy of the service is left and its port refuses. Both for
# proxymgr.yml and for a hand-written haproxy.cfg (-s, --run-dir).
# Ports 24100-24119.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"
HAPROXY=${HAPROXY:-haproxy}

pm_start_httpd b1 24111 >/dev/null || pm_fail "backend b1"

# sp_run RESULT CODE STATUS ARGS...: proxymgrd --stop-post ARGS with
# systemd's variables (an empty one is left unset), bounded, from another
# directory; its log is appended to stop-post.log. Fails the test unless
# it exits 0.
sp_run() {
	local -a env=()
	[[ -n $1 ]] && env+=("SERVICE_RESULT=$1")
	[[ -n $2 ]] && env+=("EXIT_CODE=$2")
	[[ -n $3 ]] && env+=("EXIT_STATUS=$3")
	echo "--- SERVICE_RESULT=${1:-(unset)}" >>"$PM_TMP/stop-post.log"
	shift 3
	(cd / && exec env -u SERVICE_RESULT -u EXIT_CODE -u EXIT_STATUS \
		"${env[@]+"${env[@]}"}" timeout 60 "$PROXYMGRD" --stop-post "$@" \
		</dev/null >>"$PM_TMP/stop-post.log" 2>&1) ||
		pm_fail "proxymgrd --stop-post $* exited with $?"
}

# sp_log_has REGEX: the stop-post log matches.
sp_log_has() { grep -qE -- "$1" "$PM_TMP/stop-post.log"; }

# sp_kill_proxymgrd: SIGKILL proxymgrd, as the OOM killer would, and reap it.
sp_kill_proxymgrd() {
	local rc=0
	kill -KILL "$PM_PID"
	wait "$PM_PID" 2>/dev/null || rc=$?
	pm_assert_eq 137 "$rc" "proxymgrd killed by SIGKILL"
	! pm__alive "$PM_PID" || pm_fail "proxymgrd $PM_PID still alive"
}

# ---- 1. proxymgr.yml --------------------------------------------------------
# stop-post's soft-stop bound is haproxy.stop_timeout_ms.
PM_HAPROXY_EXTRA="  stop_timeout_ms: 5000" pm_write_pmconfig
echo '{"type": "static", "port": 24100, "servers": [{"address": "127.0.0.1", "port": 24111}]}' \
	>"$PM_TMP/services/web.json"
pm_start_proxymgrd
url=http://127.0.0.1:24100/
cfg=$PM_TMP/run/haproxy.cfg
pm_expect_bodies "$url" "b1"
hap=$(pm_hap_pid)
[[ $hap =~ ^[0-9]+$ ]] || pm_fail "no HAProxy pid from the stats socket"
# Once proxymgrd is gone nobody else stops it: the test does, by pid.
pm_track "$hap"

sp_kill_proxymgrd
sp_run signal killed KILL -c "$PM_TMP/proxymgr.yml"
sp_log_has "SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL" ||
	pm_fail "stop-post does not log systemd's variables"
sp_log_has "proxymgrd was killed by a signal: haproxy\[$hap\] left running for the restarted proxymgrd to take over" ||
	pm_fail "stop-post does not say that it leaves haproxy[$hap] and why"
pm__alive "$hap" || pm_fail "haproxy[$hap] did not survive SERVICE_RESULT=signal"
pm_assert_eq b1 "$(pm_curl_body "$url" -H 'Connection: close')" \
	"SERVICE_RESULT=signal: the orphaned HAProxy serves on"
pm_assert_eq "$hap" "$(pm_hap_pid)" "the same HAProxy answers on the stats socket"

# The other results of a dead proxymgrd leave it too.
sp_run core-dump dumped SEGV -c "$PM_TMP/proxymgr.yml"
sp_run exit-code exited 1 -c "$PM_TMP/proxymgr.yml"
sp_run oom-kill killed KILL -c "$PM_TMP/proxymgr.yml"
pm__alive "$hap" || pm_fail "haproxy[$hap] did not survive core-dump, exit-code, oom-kill"
pm_pass "core-dump, exit-code and oom-kill leave it running too"

# A clean stop: nothing of the service may be left.
sp_run success exited 0 -c "$PM_TMP/proxymgr.yml"
sp_log_has "haproxy\[$hap\]: SIGUSR1: finish the requests in flight \(5000 ms at most\)" ||
	pm_fail "stop-post did not soft-stop haproxy[$hap] within haproxy.stop_timeout_ms"
sp_log_has "haproxy\[$hap\] exited" || pm_fail "stop-post did not see haproxy[$hap] exit"
! pm__alive "$hap" || pm_fail "haproxy[$hap] still running after SERVICE_RESULT=success"
left=$(pm_hap_pids_for "$cfg" | tr '\n' ' ')
[[ -z $left ]] || pm_fail "HAProxy left running $cfg: $left"
pm_port_refused 24100 || pm_fail "port 24100 still accepts after SERVICE_RESULT=success"
pm_pass "SERVICE_RESULT=success: haproxy[$hap] soft-stopped, port 24100 refuses"

sp_run success exited 0 -c "$PM_TMP/proxymgr.yml"
sp_log_has "no HAProxy runs $cfg" || pm_fail "a second stop-post does not say there is nothing to stop"
pm_pass "a stop-post with nothing left to stop exits 0"

# ---- 2. a hand-written haproxy.cfg (-s, --run-dir) ---------------------------
mkdir -p "$PM_TMP/wrun"
cat >"$PM_TMP/user.cfg" <<'CFG'
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend app
  bind fd@${APP}
  default_backend app
backend app
  server b1 127.0.0.1:24111
CFG
wargs=(-b "$HAPROXY" -c "$PM_TMP/user.cfg" -s APP=127.0.0.1:24101 --run-dir "$PM_TMP/wrun")
: >"$PM_TMP/proxymgrd.log"
"$PROXYMGRD" "${wargs[@]}" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "-s: HAProxy did not start"
wurl=http://127.0.0.1:24101/
pm_expect_bodies "$wurl" "b1"
hap=$(PM_STATS_SOCKET=$PM_TMP/wrun/haproxy.sock pm_hap_pid)
[[ $hap =~ ^[0-9]+$ ]] || pm_fail "-s: no HAProxy pid from the stats socket"
pm_track "$hap"

sp_kill_proxymgrd
# Only the options of the start that name files matter; -b is one too.
sp_run signal killed KILL "${wargs[@]}"
sp_log_has "haproxy\[$hap\] left running" || pm_fail "-s: stop-post does not leave haproxy[$hap]"
pm__alive "$hap" || pm_fail "-s: haproxy[$hap] did not survive SERVICE_RESULT=signal"
pm_assert_eq b1 "$(pm_curl_body "$wurl" -H 'Connection: close')" \
	"-s, SERVICE_RESULT=signal: the orphaned HAProxy serves on"

# Run by hand, without systemd's variables: a stop.
sp_run "" "" "" "${wargs[@]}"
sp_log_has "no \\\$SERVICE_RESULT" || pm_fail "-s: no word on the missing SERVICE_RESULT"
! pm__alive "$hap" || pm_fail "-s: haproxy[$hap] still running after a stop-post by hand"
[[ -z $(pm_hap_pids_for "$PM_TMP/wrun/proxymgrd.cfg") ]] || pm_fail "-s: HAProxy left running"
pm_port_refused 24101 || pm_fail "-s: port 24101 still accepts"
pm_pass "-s, stop-post by hand: haproxy[$hap] stopped, port 24101 refuses"
