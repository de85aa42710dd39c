#!/usr/bin/env bash
# Zero-drop reloads under load: wrk (-c50) against proxymgrd while the host
# file changes at least 50 times (each change is one HAProxy reload), with
# `Connection: close` and with keep-alive clients: no socket error, no
# non-2xx, no pile-up of old HAProxy processes, none left after SIGTERM.
# proxymgr.yml's defaults do not name option idle-close-on-response (as
# ProxyMgr's own example does not): keep-alive clients lose nothing
# because proxymgrd adds it to every HTTP service.
# Negative control, same load: a naive `haproxy -sf` reload with HAProxy's
# own bind must show failures, or this test could not see a drop.
# Every step waits on a condition (a reload logged, a new pid answering,
# requests counted by HAProxy), never on the clock: the bounds below only
# decide when to give up.
# Ports 19600-19619. Takes ~45 s, up to a few minutes on a loaded machine.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

HAPROXY=${HAPROXY:-haproxy}
ZD_RELOADS=${ZD_RELOADS:-50}    # reloads per run, each way
ZD_CONNS=${ZD_CONNS:-50}
ZD_MIN_REQUESTS=5000            # a run below this did not really load HAProxy
ZD_MAX_HAPROXY=5                # max_old_processes (4) + the serving one
ZD_GAP_MS=100                   # minimum time between two reloads
ZD_STEP_MS=30000                # give up on one reload after this
ZD_WRK_S=900                    # wrk's own bound; each run stops it itself

command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"

# zd_write_hosts N: the host file lists backends b1..bN (atomic replace).
zd_write_hosts() {
	local i
	for ((i = 1; i <= $1; i++)); do
		echo "127.0.0.1:1961$i"
	done | pm_write_atomic "$PM_TMP/web.hosts"
}

# zd_haproxy_count CONFIG: HAProxy processes running CONFIG (not `-c` checks).
zd_haproxy_count() {
	local pid n=0
	local -a argv
	for pid in $(pm_hap_pids_for "$1" || true); do
		mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || continue
		[[ " ${argv[*]} " == *" -c "* ]] || n=$((n + 1))
	done
	echo "$n"
}

# zd_at_most CONFIG N: at most N HAProxy processes run CONFIG.
zd_at_most() {
	(($(zd_haproxy_count "$1") <= $2))
}

# zd_stats_pid SOCKET: the pid HAProxy reports on its stats socket.
zd_stats_pid() {
	echo "show info" | timeout 10 socat -t 5 - "UNIX-CONNECT:$1" 2>/dev/null |
		awk '/^Pid:/ { print $2 }'
}

zd_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# zd_alive PID: PID runs and is not a zombie.
zd_alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# zd_sleep_gap T0_MS: sleep what remains of ZD_GAP_MS since T0_MS.
zd_sleep_gap() {
	local left=$(($1 + ZD_GAP_MS - $(zd_now_ms)))
	((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# zd_wait_traffic: wait until the serving HAProxy (on PM_STATS_SOCKET) has
# counted half of ZD_MIN_REQUESTS more requests on proxy "web".
zd_wait_traffic() {
	local served
	served=$(pm_traffic web)
	pm_wait_traffic web $((served + ZD_MIN_REQUESTS / 2))
}

# zd_load NAME URL [WRK_ARGS...]: start wrk in the background (pid in
# ZD_WRK), and let traffic flow before the reloads begin.
zd_load() {
	local name=$1 url=$2
	shift 2
	pm_wrk_start "$PM_TMP/wrk-$name.out" "$ZD_WRK_S" "$ZD_CONNS" "$url" "$@" >/dev/null ||
		pm_fail "$name: cannot start wrk"
	ZD_WRK=$PM_LAST_PID
	zd_wait_traffic || pm_fail "$name: no load flows: $(cat "$PM_TMP/wrk-$name.out")"
}

# zd_load_end NAME: stop wrk after more traffic, parse its output.
zd_load_end() {
	local name=$1
	zd_wait_traffic || pm_fail "$name: no load flows after the reloads"
	zd_alive "$ZD_WRK" || pm_fail "$name: wrk finished before the reloads did"
	kill -INT "$ZD_WRK"
	pm_wrk_wait "$ZD_WRK" || pm_fail "$name: wrk failed: $(cat "$PM_TMP/wrk-$name.out")"
	pm_wrk_parse "$PM_TMP/wrk-$name.out" || pm_fail "$name: no wrk result"
	echo "$name: $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors," \
		"$WRK_NON2XX non-2xx ($(grep -E 'requests in|Socket errors|Non-2xx' \
		"$PM_TMP/wrk-$name.out" | tr -s ' \n' ' '))"
}

# ---- proxymgrd --------------------------------------------------------------

for i in 1 2 3; do
	pm_start_httpd "b$i" "1961$i" >/dev/null || pm_fail "backend b$i"
done
# runtime_api off: each server change is a reload, which is what this
# test is about (with it on, they would be runtime commands).
PM_HAPROXY_EXTRA='  runtime_api: false' pm_write_pmconfig
zd_write_hosts 2
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 19600,
 "listen_options": ["balance roundrobin"]}
JSON
pm_start_proxymgrd
url=http://127.0.0.1:19600/
body=$(pm_curl_body "$url") || pm_fail "proxymgrd's HAProxy does not answer"
[[ $body == b[12] ]] || pm_fail "unexpected body '$body'"
cfg=$PM_TMP/run/haproxy.cfg
grep -q 'option idle-close-on-response' "$PM_TMP/proxymgr.yml" &&
	pm_fail "proxymgr.yml names option idle-close-on-response: the keep-alive run would not show the default"
grep -A3 '^listen web$' "$cfg" | grep -q '^    option idle-close-on-response$' ||
	pm_fail "proxymgrd did not add option idle-close-on-response to the HTTP service: $(cat "$cfg")"
pm_pass "defaults without option idle-close-on-response: proxymgrd adds it to the HTTP service"

# zd_proxymgrd_run NAME [WRK_ARGS...]: wrk against proxymgrd while the host
# file toggles b3 in and out, one change per completed reload, until
# ZD_RELOADS more reloads are done (bounded: 1 s per reload).
zd_proxymgrd_run() {
	local name=$1 start n last t0 deadline hosts=2 most=0 cur i
	shift
	zd_load "$name" "$url" "$@"
	start=$(pm_reload_count)
	last=$start
	deadline=$(($(zd_now_ms) + ZD_RELOADS * ZD_STEP_MS))
	for ((i = 0; last < start + ZD_RELOADS; i++)); do
		(($(zd_now_ms) < deadline)) || break
		t0=$(zd_now_ms)
		hosts=$((5 - hosts)) # 2 <-> 3
		zd_write_hosts "$hosts"
		# wait for this change's reload, then leave a gap
		while n=$(pm_reload_count); ((n == last)); do
			(($(zd_now_ms) < t0 + ZD_STEP_MS)) || break
			sleep 0.02
		done
		last=$n
		if ((i % 5 == 0)); then
			# An old process the cap has just stopped may still be
			# exiting: a pile-up is one that does not go away.
			PM_WAIT_POLL=0.02 pm_wait_for zd_at_most "$cfg" "$ZD_MAX_HAPROXY" ||
				pm_fail "$name: $(zd_haproxy_count "$cfg") HAProxy processes alive at once (max $ZD_MAX_HAPROXY)"
			cur=$(zd_haproxy_count "$cfg")
			((cur <= most)) || most=$cur
		fi
		zd_sleep_gap "$t0"
	done
	zd_load_end "$name"
	n=$(($(pm_reload_count) - start))
	((n >= ZD_RELOADS)) || pm_fail "$name: only $n reloads during the run"
	((WRK_SOCKET_ERRORS == 0 && WRK_NON2XX == 0)) ||
		pm_fail "$name: $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx over $n reloads"
	((WRK_REQUESTS >= ZD_MIN_REQUESTS)) ||
		pm_fail "$name: only $WRK_REQUESTS requests"
	pm_pass "$name: $n reloads under wrk -c$ZD_CONNS, $WRK_REQUESTS requests, 0 failed"
	pm_pass "$name: at most $most HAProxy processes alive at any sample"
}

zd_proxymgrd_run "proxymgrd, Connection: close" -H "Connection: close"
zd_proxymgrd_run "proxymgrd, keep-alive"

pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with status $PM_RC after SIGTERM"
left=$(pm_hap_pids_for "$cfg" | tr '\n' ' ' || true)
[[ -z $left ]] || pm_fail "HAProxy left running after proxymgrd stopped: $left"
pm_pass "SIGTERM: proxymgrd exits 0 and leaves no HAProxy behind"

# ---- negative control: naive haproxy -sf with its own bind ------------------

naive=$PM_TMP/naive
mkdir -p "$naive"
# zd_naive_cfg N: config for backends b1..bN, written in place like a naive
# deploy script would (each process has read it by the time it is ready).
zd_naive_cfg() {
	local i
	{
		cat <<-CFG
		global
		    stats socket $naive/stats.sock mode 600 level admin
		    hard-stop-after 10s
		defaults
		    mode http
		    timeout connect 5s
		    timeout client 30s
		    timeout server 30s
		    option idle-close-on-response
		listen web
		    bind 127.0.0.1:19601
		    balance roundrobin
		CFG
		for ((i = 1; i <= $1; i++)); do
			echo "    server b$i 127.0.0.1:1961$i"
		done
	} >"$naive/haproxy.cfg"
}

# zd_naive_start [OLDPID]: start HAProxy (with -sf OLDPID), wait until it
# answers on the stats socket; its pid in ZD_HAP. 1 if it never did.
zd_naive_start() {
	local t0
	"$HAPROXY" -f "$naive/haproxy.cfg" -db ${1:+-sf "$1"} </dev/null \
		>>"$PM_TMP/naive-haproxy.log" 2>&1 &
	ZD_HAP=$!
	pm_track "$ZD_HAP"
	t0=$(zd_now_ms)
	until [[ $(zd_stats_pid "$naive/stats.sock") == "$ZD_HAP" ]]; do
		zd_alive "$ZD_HAP" && (($(zd_now_ms) < t0 + ZD_STEP_MS)) || return 1
		sleep 0.02
	done
}

zd_naive_cfg 2
zd_naive_start || pm_fail "naive HAProxy did not start"
[[ $(pm_curl_body http://127.0.0.1:19601/) == b[12] ]] || pm_fail "naive HAProxy does not serve"

name="naive haproxy -sf, Connection: close"
export PM_STATS_SOCKET=$naive/stats.sock
zd_load "$name" http://127.0.0.1:19601/ -H "Connection: close"
n=0 hosts=2
deadline=$(($(zd_now_ms) + ZD_RELOADS * ZD_STEP_MS))
while ((n < ZD_RELOADS && $(zd_now_ms) < deadline)); do
	t0=$(zd_now_ms)
	hosts=$((5 - hosts))
	zd_naive_cfg "$hosts"
	zd_naive_start "$ZD_HAP" || pm_fail "$name: reload $((n + 1)) did not come up"
	n=$((n + 1))
	zd_sleep_gap "$t0"
done
zd_load_end "$name"
((n >= ZD_RELOADS)) || pm_fail "$name: only $n reloads during the run"
failed=$((WRK_SOCKET_ERRORS + WRK_NON2XX))
((failed > 0)) || pm_fail "negative control showed no failures: the test is too weak" \
	"($n naive reloads, $WRK_REQUESTS requests)"
pm_pass "negative control: $n naive reloads lose $failed of $WRK_REQUESTS requests"
