#!/usr/bin/env bash
# RAProxy's own example (issue 14), paths and ports changed: its README's
# haproxy.cfg (bind fd@${APP_1}; the backend a local server instead of
# www.sina.com) and its command line with RAProxy's -p (HAProxy's pid
# file) and a backlog, `proxymgrd -b haproxy -c haproxy.cfg -p PIDFILE
# -s APP_1=ADDR:PORT@1000`:
# - the pid file names the serving HAProxy (its `show info` Pid) at the
#   start and after each of 5 reloads (`kill -s HUP`, as in the README);
# - the backlog took effect: `ss -ltn` shows 1000 in the port's Send-Q;
# - proxymgrd's own pid is in --pidfile; SIGTERM removes both files.
# Ports 26050-26059.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

HAPROXY=${HAPROXY:-haproxy}
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"
command -v ss >/dev/null || pm_fail "ss not found (iproute2, scripts/install-deps)"

pm_start_httpd sina 26051 >/dev/null || pm_fail "backend"
mkdir -p "$PM_TMP/run"
cat >"$PM_TMP/haproxy.cfg" <<'CFG'
global
  maxconn 256
defaults
  mode http
  timeout connect 5000ms
  timeout client 50000ms
  timeout server 50000ms

frontend http-in
  bind fd@${APP_1}
  use_backend sina

backend sina
  server sina 127.0.0.1:26051
CFG

(cd "$PM_TMP" && exec "$PROXYMGRD" -b "$HAPROXY" -c haproxy.cfg -p haproxy.pid \
	-s APP_1=0.0.0.0:26050@1000 --pidfile proxymgrd.pid --run-dir "$PM_TMP/run" -d \
	</dev/null >>"$PM_TMP/proxymgrd.log" 2>&1) &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "RAProxy's command line: HAProxy did not start"
[[ $(pm_curl_body http://127.0.0.1:26050/ -H 'Host: sina.com') == sina ]] ||
	pm_fail "127.0.0.1:26050 does not reach the backend"
pm_pass "RAProxy's line: proxymgrd -b haproxy -c haproxy.cfg -p haproxy.pid -s APP_1=0.0.0.0:26050@1000 serves"

# pidfile_is_serving: the pid file holds the pid HAProxy's stats socket
# reports, and that process runs.
pidfile_is_serving() {
	local f s
	f=$(cat "$PM_TMP/haproxy.pid" 2>/dev/null) || return 1
	s=$(pm_hap_pid) || return 1
	[[ -n $f && $f == "$s" && -d /proc/$f ]]
}
pm_wait_for pidfile_is_serving ||
	pm_fail "start: pid file '$(cat "$PM_TMP/haproxy.pid" 2>/dev/null)', serving $(pm_hap_pid)"
pids=$(cat "$PM_TMP/haproxy.pid")
for i in 1 2 3 4 5; do
	before=$(cat "$PM_TMP/haproxy.pid")
	kill -s HUP "$(cat "$PM_TMP/proxymgrd.pid")"
	pm_wait_reloads $((i + 1)) || pm_fail "kill -s HUP: reload $i did not happen"
	pm_wait_for pidfile_is_serving ||
		pm_fail "reload $i: pid file '$(cat "$PM_TMP/haproxy.pid")', serving $(pm_hap_pid)"
	now=$(cat "$PM_TMP/haproxy.pid")
	[[ $now != "$before" ]] || pm_fail "reload $i: the pid file still names haproxy[$before]"
	pids="$pids $now"
done
pm_pass "after 5 reloads the pid file names the serving HAProxy (pids: $pids)"

sendq=$(ss -Hltn "sport = :26050" | awk '{ print $3 }')
[[ $sendq == 1000 ]] || pm_fail "backlog: ss -ltn shows Send-Q '$sendq' for port 26050, not 1000"
pm_pass "@1000: ss -ltn shows a backlog of $sendq on port 26050"
[[ $(cat "$PM_TMP/proxymgrd.pid") == "$PM_PID" ]] || pm_fail "--pidfile does not hold proxymgrd's pid"
pm_pass "--pidfile holds proxymgrd's own pid"

pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
[[ ! -e $PM_TMP/haproxy.pid && ! -e $PM_TMP/proxymgrd.pid ]] || pm_fail "a pid file was left behind"
[[ -z $(pm_hap_pids_for "$PM_TMP/haproxy.cfg") ]] || pm_fail "HAProxy left behind"
pm_pass "SIGTERM: exit 0, both pid files removed, no HAProxy left"
