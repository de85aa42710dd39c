#!/usr/bin/env bash
# The shipped socket unit, etc/proxymgrd.socket, as systemd would run it
# (its ListenStream= addresses moved to 127.0.0.1 and test ports; its
# Backlog= as written), with pm-sockact standing in for systemd:
# - the units `make install` ships pass `systemd-analyze verify` (a
#   static check: no unit is started, nothing of the host's systemd is
#   touched);
# - proxymgrd adopts each LISTEN_FDS socket for the service on its
#   address (pm-sockact keeps copies, as systemd does, so proxymgrd could
#   not bind the ports itself), with the unit's backlog;
# - a "systemctl restart proxymgrd" (SIGTERM, proxymgrd and HAProxy gone,
#   then started again on the same sockets): requests sent while nothing
#   runs wait in the sockets' queues and are answered once it is back.
# Ports 26260-26269.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

: "${PM_SOCKACT:=${builddir:-.}/tests/helpers/pm-sockact}"
command -v systemd-analyze >/dev/null ||
	pm_fail "systemd-analyze not found (package systemd, scripts/install-deps)"

# ---- the shipped units ------------------------------------------------------------
mkdir -p "$PM_TMP/units"
sbin=$(cd "$(dirname -- "$PROXYMGRD")" && pwd)
for u in proxymgrd.service proxymgrd@.service; do
	sed "s|@sbindir@|$sbin|g" "$PM_SRCDIR/etc/$u.in" >"$PM_TMP/units/$u"
done
cp "$PM_SRCDIR/etc/proxymgrd.socket" "$PM_TMP/units/"
if ! out=$(cd "$PM_TMP/units" && timeout 60 systemd-analyze verify --man=no \
	./proxymgrd.socket ./proxymgrd.service ./proxymgrd@web.service 2>&1) ||
	[[ -n $out ]]; then
	pm_fail "systemd-analyze verify: $out"
fi
pm_pass "proxymgrd.socket, proxymgrd.service and proxymgrd@.service pass systemd-analyze verify"

# ---- the socket unit's sockets, as systemd passes them -------------------------
sed -e 's/^ListenStream=0\.0\.0\.0:80$/ListenStream=127.0.0.1:26260/' \
	-e 's/^ListenStream=0\.0\.0\.0:443$/ListenStream=127.0.0.1:26261/' \
	"$PM_SRCDIR/etc/proxymgrd.socket" >"$PM_TMP/test.socket"
mapfile -t listen < <(sed -n 's/^ListenStream=//p' "$PM_TMP/test.socket")
pm_assert_eq "127.0.0.1:26260 127.0.0.1:26261" "${listen[*]}" "the unit's ListenStream= lines, on test ports"
backlog=$(sed -n 's/^Backlog=//p' "$PM_TMP/test.socket")
name=$(sed -n 's/^FileDescriptorName=//p' "$PM_TMP/test.socket")
sockact=()
for l in "${listen[@]}"; do
	sockact+=("${l%:*}" "${l##*:}" "$name")
done

pm_start_httpd b1 26262 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 26263 >/dev/null || pm_fail "backend b2"
pm_write_pmconfig
for s in "http 26260 26262" "https 26261 26263"; do
	set -- $s
	echo "{\"type\": \"static\", \"port\": $2, \"servers\": [{\"address\": \"127.0.0.1\", \"port\": $3}]}" \
		>"$PM_TMP/services/$1.json"
done

# proxymgrd is started through a shell that waits while $PM_TMP/hold
# exists (exec keeps the pid LISTEN_PID names): the restart below holds
# the new proxymgrd back for as long as the test needs.
"$PM_SOCKACT" -b "$backlog" -r 1 -p "$PM_TMP/proxymgrd.pid" "${sockact[@]}" -- \
	sh -c 'while [ -e "$0/hold" ]; do sleep 0.05; done; exec "$@"' "$PM_TMP" \
	"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
SOCKACT=$!
pm_track "$SOCKACT"
pm_wait_reloads 1 || pm_fail "proxymgrd did not start HAProxy"
PM_PID=$(cat "$PM_TMP/proxymgrd.pid")
pm_log_has 'socket activation: 2 sockets passed' || pm_fail "LISTEN_FDS not seen"
pm_expect_bodies http://127.0.0.1:26260/ "b1"
pm_expect_bodies http://127.0.0.1:26261/ "b2"
pm_log_has "using the inherited socket fd 3 \\($name\\) for 127.0.0.1 port 26260" &&
	pm_log_has "using the inherited socket fd 4 \\($name\\) for 127.0.0.1 port 26261" ||
	pm_fail "the LISTEN_FDS sockets were not the ones used"
pm_log_has 'cannot bind' && pm_fail "proxymgrd tried to bind a port itself"
somaxconn=$(cat /proc/sys/net/core/somaxconn)
want=$((backlog < somaxconn ? backlog : somaxconn))
for p in 26260 26261; do
	q=$(ss -Hltn "sport = :$p" | awk '{print $3}')
	pm_assert_eq "$want" "$q" "port $p: the unit's Backlog=$backlog (at most somaxconn $somaxconn)"
done
pm_pass "both sockets of the unit adopted through LISTEN_FDS and served"

# ---- systemctl restart proxymgrd ---------------------------------------------
: >"$PM_TMP/hold"
old_hap=$(pm_hap_pid)
kill -TERM "$PM_PID"
gone() { ! kill -0 "$PM_PID" 2>/dev/null && ! kill -0 "$old_hap" 2>/dev/null; }
pm_wait_for gone || pm_fail "proxymgrd $PM_PID or HAProxy $old_hap still runs after SIGTERM"
[[ -z $(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg") ]] ||
	pm_fail "a HAProxy runs while proxymgrd is stopped"
# Nothing runs: these wait in the sockets' accept queues.
pids=()
for i in 1 2 3 4 5 6; do
	port=$((26260 + i % 2))
	curl -sS --max-time 60 -H 'Connection: close' -o "$PM_TMP/restart-$i.out" \
		"http://127.0.0.1:$port/" 2>"$PM_TMP/restart-$i.err" &
	pids+=($!)
	pm_track $!
done
# The kernel completes their handshakes on the held sockets.
queued() {
	(($(ss -Htn state established '( dport = :26260 or dport = :26261 )' | wc -l) == 6))
}
pm_wait_for queued || pm_fail "the requests are not queued: $(ss -Htn '( dport = :26260 or dport = :26261 )')"
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null || pm_fail "a request ended while nothing served: $(cat "$PM_TMP"/restart-*.err)"
done
reloads=$(pm_reload_count)
rm "$PM_TMP/hold"
pm_wait_reloads $((reloads + 1)) || pm_fail "proxymgrd did not start again"
failed=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || failed=$((failed + 1))
done
pm_assert_eq 0 "$failed" "requests sent while proxymgrd was stopped that failed"
for i in 1 2 3 4 5 6; do
	pm_assert_eq "b$((1 + i % 2))" "$(cat "$PM_TMP/restart-$i.out")" "request $i answered by its service"
done
PM_PID=$(cat "$PM_TMP/proxymgrd.pid")
pm_log_count 'socket activation: 2 sockets passed' | grep -qx 2 ||
	pm_fail "the restarted proxymgrd was not passed the sockets"
pm_pass "across a restart of proxymgrd, requests wait in the unit's sockets and are answered"

kill -TERM "$SOCKACT"
rc=0
wait "$SOCKACT" || rc=$?
pm_assert_eq 0 "$rc" "proxymgrd exits 0"
