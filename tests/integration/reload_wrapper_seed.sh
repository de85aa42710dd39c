#!/usr/bin/env bash
# haproxy-reload-wrapper's own example (issue 14), paths and ports changed:
# its Helm chart's ConfigMap haproxy.cfg, UNMODIFIED (a plain `bind :PORT`
# and its own `stats socket ... expose-fd listeners`), mounted as the
# kubelet mounts it (haproxy.cfg -> ..data/haproxy.cfg), run with
# `proxymgrd -b haproxy -c MOUNT/haproxy.cfg` (no -s). 30 edits, each a
# kubelet `..data` swap and one reload, under wrk with `Connection: close`:
# 0 failed requests (no socket error, no non-2xx), and each new HAProxy
# fetched the plain bind's socket from the serving one (-x).
# Negative control: the same edits with a HAProxy that is never given -x
# (a -b script that drops it, as a HAProxy without the socket transfer)
# must fail requests; up to 5 rounds of 30 edits until it does.
# Ports 26000-26009. Takes ~1 min.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

HAPROXY=${HAPROXY:-haproxy}
HRW_EDITS=${HRW_EDITS:-30}
HRW_CONTROL_ROUNDS=5
HRW_CONNS=50
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"
command -v wrk >/dev/null || pm_fail "wrk not found (scripts/install-deps)"

pm_start_httpd b1 26002 >/dev/null || pm_fail "backend b1"
MNT=$PM_TMP/mnt
mkdir -p "$PM_TMP/run" "$MNT"

# k8s_swap MOUNT PAYLOAD: the kubelet's AtomicWriter (as k8s_mounts.sh): a
# new timestamped directory, a "..data_tmp" symlink to it renamed over
# "..data", a "KEY -> ..data/KEY" link per key, the old directory removed.
k8s_swap() {
	local mount=$1 payload=$2 old new f key
	old=$(readlink "$mount/..data" || true)
	new=..$(date -u +%Y_%m_%d_%H_%M_%S.%N)
	mkdir "$mount/$new"
	cp -R -- "$payload"/* "$mount/$new/"
	ln -s "$new" "$mount/..data_tmp"
	mv -Tf -- "$mount/..data_tmp" "$mount/..data"
	for f in "$payload"/*; do
		key=${f##*/}
		[[ -L $mount/$key ]] || ln -s "..data/$key" "$mount/$key"
	done
	if [[ -n $old ]]; then rm -rf -- "${mount:?}/$old"; fi
}

# hrw_payload N: the chart's ConfigMap, edit N (timeout http-request).
hrw_payload() {
	rm -rf "$PM_TMP/payload"
	mkdir -p "$PM_TMP/payload"
	cat >"$PM_TMP/payload/haproxy.cfg" <<-CFG
	global
	  maxconn 1000
	  stats socket $PM_TMP/haproxy.sock mode 600 level admin expose-fd listeners
	  stats timeout 2m

	defaults
	  mode http
	  timeout client 10s
	  timeout connect 5s
	  timeout server 10s
	  timeout http-request $((10 + $1))s

	listen foo
	  bind :26001
	  server server1 127.0.0.1:26002
	CFG
}

# The -b of the negative control: HAProxy without the socket transfer.
cat >"$PM_TMP/haproxy-no-x" <<SH
#!/usr/bin/env bash
args=()
while ((\$#)); do
	if [[ \$1 == -x ]]; then shift 2; continue; fi
	args+=("\$1")
	shift
done
exec $(command -v "$HAPROXY") "\${args[@]}"
SH
chmod +x "$PM_TMP/haproxy-no-x"

edit=0
hrw_payload $edit
k8s_swap "$MNT" "$PM_TMP/payload"

# hrw_start BINARY: proxymgrd as haproxy-reload-wrapper's user would run it.
hrw_start() {
	: >"$PM_TMP/proxymgrd.log"
	"$PROXYMGRD" -b "$1" -c "$MNT/haproxy.cfg" --run-dir "$PM_TMP/run" \
		--reload-interval-ms 100 -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
	PM_PID=$!
	pm_track "$PM_PID"
	pm_wait_reloads 1 || pm_fail "proxymgrd -b $1 -c MOUNT/haproxy.cfg: HAProxy did not start"
	[[ $(pm_curl_body http://127.0.0.1:26001/ -H 'Connection: close') == b1 ]] ||
		pm_fail "the plain bind :26001 does not reach the backend"
}

# hrw_run NAME EDITS: wrk (Connection: close) while EDITS ConfigMap swaps
# each reload HAProxy; sets WRK_* and hrw_reloads.
hrw_run() {
	local name=$1 edits=$2 start i wrk served
	pm_wrk_start "$PM_TMP/wrk-$name.out" 900 "$HRW_CONNS" http://127.0.0.1:26001/ \
		-H 'Connection: close' >/dev/null || pm_fail "$name: cannot start wrk"
	wrk=$PM_LAST_PID
	served=$(pm_traffic foo)
	pm_wait_traffic foo $((served + 2000)) || pm_fail "$name: no load flows"
	start=$(pm_reload_count)
	for ((i = 1; i <= edits; i++)); do
		edit=$((edit + 1))
		hrw_payload $edit
		k8s_swap "$MNT" "$PM_TMP/payload"
		pm_wait_reloads $((start + i)) || pm_fail "$name: swap $i was not followed by a reload"
	done
	served=$(pm_traffic foo)
	pm_wait_traffic foo $((served + 1000)) || pm_fail "$name: no load flows after the edits"
	pm_wrk_stop "$wrk" || pm_fail "$name: wrk failed: $(cat "$PM_TMP/wrk-$name.out")"
	pm_wrk_parse "$PM_TMP/wrk-$name.out" || pm_fail "$name: no wrk result"
	hrw_reloads=$(($(pm_reload_count) - start))
	echo "$name: $hrw_reloads reloads, $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors," \
		"$WRK_NON2XX non-2xx ($(grep -E 'Socket errors|Non-2xx' "$PM_TMP/wrk-$name.out" | tr -s ' \n' ' '))"
}

# ---- proxymgrd, the plain bind handed over with -x ---------------------------
hrw_start "$HAPROXY"
hrw_run "with -x" "$HRW_EDITS"
((WRK_SOCKET_ERRORS == 0 && WRK_NON2XX == 0)) ||
	pm_fail "with -x: $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx over $hrw_reloads reloads"
((WRK_REQUESTS >= 2000)) || pm_fail "with -x: only $WRK_REQUESTS requests"
hap=$(pm_hap_pid)
tr '\0' ' ' <"/proc/$hap/cmdline" | grep -q -- " -x $PM_TMP/run/haproxy.sock" ||
	pm_fail "the serving haproxy[$hap] was not started with -x: $(tr '\0' ' ' <"/proc/$hap/cmdline")"
grep -q 'expose-fd listeners' "$PM_TMP/run/proxymgrd.cfg" || pm_fail "proxymgrd's stats socket does not expose its listeners"
pm_pass "unmodified plain-bind haproxy.cfg, $hrw_reloads ConfigMap swaps under wrk: $WRK_REQUESTS requests, 0 failed"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
mv "$PM_TMP/proxymgrd.log" "$PM_TMP/with-x.log.old"

# ---- negative control: the same edits, no -x -------------------------------
hrw_start "$PM_TMP/haproxy-no-x"
failed=0 total_reloads=0 total_requests=0
for ((round = 1; round <= HRW_CONTROL_ROUNDS && failed == 0; round++)); do
	hrw_run "without -x, round $round" "$HRW_EDITS"
	failed=$((WRK_SOCKET_ERRORS + WRK_NON2XX))
	total_reloads=$((total_reloads + hrw_reloads))
	total_requests=$((total_requests + WRK_REQUESTS))
done
((failed > 0)) ||
	pm_fail "negative control: no failed request over $total_reloads reloads without -x: this test could not see a drop"
pm_pass "negative control: without -x, $failed failed requests (of $WRK_REQUESTS) in round $((round - 1)) ($total_reloads reloads, $total_requests requests in all)"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
