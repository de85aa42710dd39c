#!/usr/bin/env bash
# proxymgrd as a hitless-reload wrapper for a hand-written haproxy.cfg:
# - RAProxy's README command line (-b -c -s), against a local backend;
#   proxymgrd's pid file (--pidfile); SIGHUP through it (RAProxy's own -p,
#   HAProxy's pid file, is in raproxy_seed.sh);
# - proxymgr.yml with listeners: and haproxy.managed: false, together with
#   a managed service; 100 edits of the file on disk (atomic replace) under
#   wrk with `Connection: close`: 0 failed requests, every edit live;
# - an invalid edit: the old HAProxy serves on, HAProxy's message logged,
#   then the fix goes live; a listener added by SIGHUP;
# - systemd: READY=1 on NOTIFY_SOCKET, sockets from LISTEN_FDS adopted.
# Ports 21000-21039. Takes ~60 s.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

HAPROXY=${HAPROXY:-haproxy}
: "${PM_SOCKACT:=${builddir:-.}/tests/helpers/pm-sockact}"
WR_EDITS=${WR_EDITS:-100}
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"

pm_start_httpd b1 21001 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 21002 >/dev/null || pm_fail "backend b2"
mkdir -p "$PM_TMP/run"

# wr_header URL: the X-Gen header HAProxy adds (empty if none, or no answer).
wr_header() {
	curl -s -g --noproxy '*' --max-time 2 -o /dev/null -D - \
		-H 'Connection: close' -- "$1" 2>/dev/null |
		tr -d '\r' | awk -F': ' 'tolower($1) == "x-gen" { print $2 }'
}

# wr_header_is URL VALUE
wr_header_is() { [[ $(wr_header "$1") == "$2" ]]; }

# wr_new_log: keep the previous run's log aside, start a fresh one.
wr_n=0
wr_new_log() {
	wr_n=$((wr_n + 1))
	[[ -f $PM_TMP/proxymgrd.log ]] && mv "$PM_TMP/proxymgrd.log" "$PM_TMP/run-$wr_n.log"
	: >"$PM_TMP/proxymgrd.log"
}

# ---- 1. RAProxy's README example, as written ---------------------------------
# Their haproxy.cfg (bind fd@${APP_1}), the backend on a local server, a header
# added for the edit below.
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
  http-response set-header X-Gen raproxy-1
  server sina 127.0.0.1:21001
CFG
wr_new_log
(cd "$PM_TMP" && exec "$PROXYMGRD" -b "$HAPROXY" -c haproxy.cfg -s APP_1=0.0.0.0:21000 \
	--pidfile proxymgrd.pid --run-dir "$PM_TMP/run" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1) &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "RAProxy command line: HAProxy did not start"
[[ $(pm_curl_body http://127.0.0.1:21000/) == b1 ]] ||
	pm_fail "RAProxy command line: 127.0.0.1:21000 does not reach the backend"
pm_pass "RAProxy command line: proxymgrd -b HAPROXY -c haproxy.cfg -s APP_1=0.0.0.0:21000 serves"
# The user's proxies lack option idle-close-on-response, yet proxymgrd's
# part adds no close-spread-time: it would answer 408 to connections
# accepted just before a soft-stop.
! grep -q 'close-spread-time' "$PM_TMP/run/proxymgrd.cfg" ||
	pm_fail "proxymgrd's part sets close-spread-time: $(cat "$PM_TMP/run/proxymgrd.cfg")"
pm_pass "proxymgrd's part of the config sets no close-spread-time"
[[ $(wr_header http://127.0.0.1:21000/) == raproxy-1 ]] || pm_fail "no X-Gen header from the user's config"
[[ $(cat "$PM_TMP/proxymgrd.pid") == "$PM_PID" ]] || pm_fail "pid file does not hold proxymgrd's pid"
hap1=$(pm_hap_pid)
kill -HUP "$(cat "$PM_TMP/proxymgrd.pid")"
pm_wait_reloads 2 || pm_fail "kill -HUP \$(cat PIDFILE) did not reload"
hap2=$(pm_hap_pid)
[[ -n $hap2 && $hap2 != "$hap1" ]] || pm_fail "SIGHUP: same HAProxy ($hap1 -> $hap2)"
pm_pass "kill -HUP \$(cat PIDFILE) reloads even with the file unchanged (haproxy $hap1 -> $hap2)"
# The control socket sits in --run-dir, and `reload` works there too.
ctl_status() { "${PROXYMGRCTL:-./proxymgrctl}" -S "$PM_TMP/run/proxymgrd.sock" status --json; }
ctl_status | jq -e ".haproxy.pid == $hap2 and .config == \"$PM_TMP/haproxy.cfg\"" >/dev/null ||
	pm_fail "control socket in --run-dir: $(ctl_status || true)"
"${PROXYMGRCTL:-./proxymgrctl}" -S "$PM_TMP/run/proxymgrd.sock" reload >/dev/null ||
	pm_fail "proxymgrctl reload in wrapper mode"
pm_wait_reloads 3 || pm_fail "proxymgrctl reload did not reload"
pm_pass "the control socket in --run-dir answers, and reload reloads"
sed 's/raproxy-1/raproxy-2/' "$PM_TMP/haproxy.cfg" | pm_write_atomic "$PM_TMP/haproxy.cfg"
pm_wait_for wr_header_is http://127.0.0.1:21000/ raproxy-2 || pm_fail "an edit on disk did not go live"
pm_pass "an atomic replace of haproxy.cfg goes live without a signal"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
[[ ! -e $PM_TMP/proxymgrd.pid ]] || pm_fail "pid file left behind"
[[ -z $(pm_hap_pids_for "$PM_TMP/haproxy.cfg") ]] || pm_fail "HAProxy left behind"
pm_pass "SIGTERM: exit 0, pid file removed, no HAProxy left"

# ---- 2. proxymgr.yml: listeners, managed: false, and a managed service ------
# wr_user_cfg GEN [EXTRA_LINES]: the user's file, X-Gen GEN (atomic replace).
wr_user_cfg() {
	{
		cat <<-CFG
		defaults
		    mode http
		    timeout connect 5s
		    timeout client 30s
		    timeout server 30s
		    option idle-close-on-response
		frontend app
		    bind fd@\${APP}
		    default_backend app
		backend app
		    balance roundrobin
		    http-response set-header X-Gen $1
		    server b1 127.0.0.1:21001
		    server b2 127.0.0.1:21002
		CFG
		if [[ -n ${2:-} ]]; then printf '%s\n' "$2"; fi
	} | pm_write_atomic "$PM_TMP/user.cfg"
}
wr_user_cfg 0
# wr_pmconfig LISTENER_LINES...: proxymgr.yml with these listeners.
wr_pmconfig() {
	local l
	{
		echo "listeners:"
		for l in "$@"; do echo "  $l"; done
		echo "haproxy:"
		echo "  path: $HAPROXY"
		echo "  managed: false"
		echo "  config_path: $PM_TMP/user.cfg"
		echo "  socket_path: $PM_TMP/run/haproxy.sock"
		echo "  hard_stop_after: 10s"
		echo "  defaults: [\"mode http\", \"timeout connect 5s\", \"timeout client 30s\", \"timeout server 30s\"]"
		echo "reload:"
		echo "  debounce_ms: 10"
		echo "  min_interval_ms: 100"
		echo "service_config:"
		echo "  type: file"
		echo "  path: $PM_TMP/services"
	} >"$PM_TMP/proxymgr.yml"
}
mkdir -p "$PM_TMP/services"
echo 127.0.0.1:21002 >"$PM_TMP/web.hosts"
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 21011, "bind_address": "127.0.0.1"}
JSON
wr_pmconfig "APP: 127.0.0.1:21010"
wr_new_log
pm_start_proxymgrd
url=http://127.0.0.1:21010/
[[ $(wr_header "$url") == 0 ]] || pm_fail "named listener APP does not serve the user's config"
pm_expect_bodies http://127.0.0.1:21011/ "b2"
pm_pass "listeners: + managed: false: the user's frontend on fd@\${APP} and a managed service on 21011 serve together"

# ---- 3. 100 edits on disk under load ------------------------------------------
pm_wrk_start "$PM_TMP/wrk-edits.out" 300 50 "$url" -H "Connection: close" >/dev/null ||
	pm_fail "cannot start wrk"
wrk_pid=$PM_LAST_PID
pm_wait_traffic app $(($(pm_traffic app) + 1000)) || pm_fail "no load flows through HAProxy"
start=$(pm_reload_count)
for ((i = 1; i <= WR_EDITS; i++)); do
	wr_user_cfg "$i"
	pm_wait_for wr_header_is "$url" "$i" ||
		pm_fail "edit $i never went live (X-Gen is '$(wr_header "$url")')"
done
pm_wait_traffic app $(($(pm_traffic app) + 1000)) || pm_fail "no load flows after the edits"
pm_wrk_stop "$wrk_pid" || pm_fail "wrk failed: $(cat "$PM_TMP/wrk-edits.out")"
pm_wrk_parse "$PM_TMP/wrk-edits.out" || pm_fail "no wrk result"
n=$(($(pm_reload_count) - start))
echo "edits: $WR_EDITS edits, $n reloads, $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx"
((n >= WR_EDITS)) || pm_fail "only $n reloads for $WR_EDITS edits"
((WRK_SOCKET_ERRORS == 0 && WRK_NON2XX == 0)) ||
	pm_fail "$WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx over $WR_EDITS edits"
((WRK_REQUESTS >= 2000)) || pm_fail "only $WRK_REQUESTS requests: no real load"
pm_pass "$WR_EDITS edits of the file on disk under wrk -c50 (Connection: close): $WRK_REQUESTS requests, 0 failed, every edit live"
# (an old process stopped by the cap may still be exiting)
at_most_six() { (($(pm_hap_pids_for "$PM_TMP/user.cfg" | wc -l) <= 6)); }
pm_wait_for at_most_six || pm_fail "$(pm_hap_pids_for "$PM_TMP/user.cfg" | wc -l) HAProxy processes alive after the edits"

# ---- 4. an invalid edit ---------------------------------------------------------
hap=$(pm_hap_pid)
wr_user_cfg "$WR_EDITS" "    no-such-keyword 1"
pm_wait_for pm_log_has "reload failed .*user.cfg changed on disk" ||
	pm_fail "the invalid edit was not reported"
pm_log_has "haproxy -c: .*no-such-keyword" || pm_fail "HAProxy's message is not in the log"
[[ $(pm_hap_pid) == "$hap" ]] || pm_fail "the serving HAProxy changed after an invalid edit"
[[ $(wr_header "$url") == "$WR_EDITS" ]] || pm_fail "the old configuration does not serve on"
pm_pass "an invalid edit: haproxy[$hap] serves on, HAProxy's message logged"
wr_user_cfg fixed
pm_wait_for wr_header_is "$url" fixed || pm_fail "the fixed file did not go live"
pm_pass "the fixed file goes live"

# ---- 5. a listener added by SIGHUP ------------------------------------------------
# The file names APP2 before proxymgr.yml does: that edit fails alone,
# and SIGHUP brings the listener.
failed=$(pm_log_count "reload failed .*user.cfg changed on disk")
wr_user_cfg added "frontend app2
    bind fd@\${APP2}
    default_backend app"
pm_wait_log_count "reload failed .*user.cfg changed on disk" $((failed + 1)) ||
	pm_fail "the file naming an unknown listener did not fail"
wr_pmconfig "APP: 127.0.0.1:21010" "APP2: 127.0.0.1:21012"
kill -HUP "$PM_PID"
pm_wait_port 21012 127.0.0.1 || pm_fail "listener APP2 not open after SIGHUP"
pm_wait_for wr_header_is http://127.0.0.1:21012/ added || pm_fail "APP2 does not serve"
# (the old HAProxy may answer on APP until the new one is ready)
pm_wait_for wr_header_is "$url" added || pm_fail "APP does not serve the new file"
pm_pass "SIGHUP adds listener APP2 (21012) beside APP"
wr_user_cfg removed
wr_pmconfig "APP: 127.0.0.1:21010"
kill -HUP "$PM_PID"
pm_wait_for wr_header_is "$url" removed || pm_fail "removing APP2 did not go live"
pm_wait_for pm_port_refused 21012 || pm_fail "21012 still accepts after APP2 was removed"
pm_pass "SIGHUP removes listener APP2: 21012 closed"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"

# ---- 6. systemd: NOTIFY_SOCKET and LISTEN_FDS --------------------------------------
socat -u UNIX-RECV:"$PM_TMP/notify.sock" OPEN:"$PM_TMP/notify.out",creat,append </dev/null &
pm_track $!
pm_wait_for test -S "$PM_TMP/notify.sock" || pm_fail "no notify socket"
sed 's/raproxy-2/sockact/; s/21001/21002/' "$PM_TMP/haproxy.cfg" | pm_write_atomic "$PM_TMP/haproxy.cfg"
wr_new_log
NOTIFY_SOCKET=$PM_TMP/notify.sock "$PM_SOCKACT" 127.0.0.1 21020 app1 -- \
	"$PROXYMGRD" -b "$HAPROXY" -c "$PM_TMP/haproxy.cfg" -s APP_1=127.0.0.1:21020 \
	--run-dir "$PM_TMP/run" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "socket activation: HAProxy did not start"
pm_log_has "using the inherited socket fd 3 \(app1\) for 127.0.0.1 port 21020" ||
	pm_fail "the LISTEN_FDS socket was not adopted"
pm_log_has "listening on 127.0.0.1 port 21020 \(fd 3\)" ||
	pm_fail "APP_1 does not hold the passed fd 3"
[[ $(pm_curl_body http://127.0.0.1:21020/) == b2 ]] || pm_fail "adopted socket does not serve"
pm_pass "LISTEN_FDS: the passed socket is adopted for APP_1 and serves"
ready() { grep -q READY=1 "$PM_TMP/notify.out" 2>/dev/null; }
pm_wait_for ready || pm_fail "no READY=1 on NOTIFY_SOCKET"
grep -q "MAINPID=$PM_PID" "$PM_TMP/notify.out" || pm_fail "READY without MAINPID=$PM_PID"
pm_pass "sd_notify: READY=1 (MAINPID=$PM_PID) once HAProxy serves"
for v in NOTIFY_SOCKET LISTEN_FDS LISTEN_PID; do
	for hp in $(pm_hap_pids_for "$PM_TMP/haproxy.cfg"); do
		tr '\0' '\n' <"/proc/$hp/environ" | grep -q "^$v=" && pm_fail "HAProxy sees $v"
	done
done
pm_pass "HAProxy's environment has no NOTIFY_SOCKET or LISTEN_*"
pm_stop_proxymgrd
grep -q STOPPING=1 "$PM_TMP/notify.out" || pm_fail "no STOPPING=1"
pm_pass "sd_notify: STOPPING=1 on SIGTERM"
