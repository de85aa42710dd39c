#!/usr/bin/env bash
# The HAProxy 2.6 traps of the design note, one check each: inherited
# listeners (same socket, no CLOEXEC leak), -c with the fds, environment
# scrubbing, soft-stop only after the new process answers, bounded old
# processes and hard-stop-after. Ports 19500-19519.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

# A HAProxy that, when asked, is held before it starts (see check 5):
# while $PM_TMP/hold exists, it says so in held.PID and waits (at most
# 120 s) for $PM_TMP/release. A check, "-c", is never held.
cat >"$PM_TMP/slow-haproxy" <<SH
#!/usr/bin/env bash
if [[ \$1 == -f && -e $PM_TMP/hold ]]; then
	: >"$PM_TMP/held.\$\$"
	for ((i = 0; i < 1200; i++)); do
		[[ -e $PM_TMP/release ]] && break
		sleep 0.1
	done
fi
exec ${HAPROXY:-haproxy} "\$@"
SH
chmod +x "$PM_TMP/slow-haproxy"
# Server changes must reload here (runtime_api off): the checks are about
# reloads.
HAPROXY=$PM_TMP/slow-haproxy PM_HAPROXY_EXTRA='  max_old_processes: 1
  hard_stop_after: 5s
  start_timeout_ms: 8000
  runtime_api: false' pm_write_pmconfig

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

# 5. Soft-stop only after the new process answers. haproxy.path is a
#    wrapper that holds the new HAProxy before it starts, for as long as
#    the test wants. While it is held, the old one must serve on; once
#    released, it takes over. One that stays silent past start_timeout_ms
#    (8000) is killed, and the old one keeps serving.
printf '127.0.0.1:19511\n127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1 b2"
old=$(pm_hap_pid)
held() { compgen -G "$PM_TMP/held.*" >/dev/null; }
touch "$PM_TMP/hold"
printf '127.0.0.1:19511\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for held || pm_fail "no new HAProxy was started for the change"
pm_assert_eq "$old" "$(pm_hap_pid)" "while the new HAProxy starts, the old one answers"
pm_log_has "haproxy\[$old\] soft-stopped" &&
	pm_fail "old HAProxy soft-stopped before the new one answered"
pm_assert_eq "b1 b2" "$(pm_bodies "$url" 8)" "while the new HAProxy starts, the old one serves its servers"
touch "$PM_TMP/release"
other_pid() { local p; p=$(pm_hap_pid 2>/dev/null) && [[ -n $p && $p != "$1" ]]; }
pm_wait_for other_pid "$old" || pm_fail "the held new HAProxy never took over"
pm_wait_for pm_log_has "haproxy\[$old\] soft-stopped" ||
	pm_fail "old HAProxy not soft-stopped after the new one answered"
pm_pass "the old HAProxy is soft-stopped only once the new one answers"
rm -f "$PM_TMP/release" "$PM_TMP"/held.*

old=$(pm_hap_pid)
timeouts=$(pm_log_count "did not answer on .* within 8000 ms")
printf '127.0.0.1:19511\n127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for held || pm_fail "no new HAProxy was started for the change"
pm_wait_log_count "did not answer on .* within 8000 ms" $((timeouts + 1)) ||
	pm_fail "no start timeout for a HAProxy that does not answer"
rm "$PM_TMP/hold"
pm_assert_eq "$old" "$(pm_hap_pid)" "past start_timeout_ms the old HAProxy still answers"
pm_assert_eq b1 "$(pm_bodies "$url" 4)" "past start_timeout_ms the old HAProxy still serves"
# The change that timed out goes live with the next one.
printf '127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b2"
pm_pass "a new HAProxy that never answers is killed; the old one serves on"

# 6. Bounded old processes and hard-stop-after: open TCP connections keep
#    old processes draining; with max_old_processes 1 at most one lingers,
#    and hard-stop-after (5 s) ends it. Each edit waits for its reload.
exec 7<>/dev/tcp/127.0.0.1/19501
for i in 1 2 3 4; do
	exec {fd}<>/dev/tcp/127.0.0.1/19501
	reloads=$(pm_reload_count)
	if ((i % 2)); then	# each edit differs from the one before
		printf '127.0.0.1:19511\n127.0.0.1:19512\n'
	else
		printf '127.0.0.1:19512\n'
	fi | pm_write_atomic "$PM_TMP/web.hosts"
	pm_wait_reloads $((reloads + 1)) || pm_fail "edit $i: no reload"
done
pm_wait_for pm_log_has "more than 1 old processes are draining, stopping the oldest now" ||
	pm_fail "the cap on old processes was not applied"
at_most_two() { (($(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg" | wc -l) <= 2)); }
pm_wait_for at_most_two ||
	pm_fail "$(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg" | wc -l) HAProxy processes with max_old_processes 1"
pm_pass "at most max_old_processes old HAProxy processes linger"
one_left() { (($(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg" | wc -l) == 1)); }
pm_wait_for one_left || pm_fail "old HAProxy outlived hard-stop-after"
pm_pass "hard-stop-after ends an old HAProxy held by open connections"
exec 7>&-

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
