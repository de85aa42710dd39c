#!/usr/bin/env bash
# The HAProxy 2.6 traps of the design note, one check each: inherited
# listeners (same socket, no CLOEXEC leak), -c with the fds, environment
# scrubbing, soft-stop only after the new process answers, bounded old
# processes and hard-stop-after. Ports 19500-19519.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

# A HAProxy that, when asked, takes its time to start (see check 5).
mkfifo "$PM_TMP/never"
cat >"$PM_TMP/slow-haproxy" <<SH
#!/usr/bin/env bash
if [[ \$1 == -f && -s $PM_TMP/slow-start ]]; then
	read -r delay <"$PM_TMP/slow-start"
	read -r -t "\$delay" <>"$PM_TMP/never" || true
fi
exec ${HAPROXY:-haproxy} "\$@"
SH
chmod +x "$PM_TMP/slow-haproxy"
# Server changes must reload here (runtime_api off): the checks are about
# reloads.
HAPROXY=$PM_TMP/slow-haproxy PM_HAPROXY_EXTRA='  max_old_processes: 1
  hard_stop_after: 3s
  start_timeout_ms: 1500
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
#    wrapper that, while $PM_TMP/slow-start holds a delay, waits that long
#    before it execs the real HAProxy (a check, "-c", is never delayed).
#    While the new process is not answering, the old one must serve on; a
#    new one that stays silent past start_timeout_ms (1500) is killed and
#    the old one keeps serving.
printf '127.0.0.1:19511\n127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1 b2"
old=$(pm_hap_pid)
echo 1.2 >"$PM_TMP/slow-start"
printf '127.0.0.1:19511\n' | pm_write_atomic "$PM_TMP/web.hosts"
sleep 0.6
pm_assert_eq "$old" "$(pm_hap_pid)" "while the new HAProxy starts, the old one answers"
pm_log_has "haproxy\[$old\] soft-stopped" &&
	pm_fail "old HAProxy soft-stopped before the new one answered"
pm_assert_eq "b1 b2" "$(pm_bodies "$url" 8)" "while the new HAProxy starts, the old one serves its servers"
other_pid() { local p; p=$(pm_hap_pid 2>/dev/null) && [[ -n $p && $p != "$1" ]]; }
pm_wait_for other_pid "$old" || pm_fail "the slow new HAProxy never took over"
pm_wait_for pm_log_has "haproxy\[$old\] soft-stopped" ||
	pm_fail "old HAProxy not soft-stopped after the new one answered"
pm_pass "the old HAProxy is soft-stopped only once the new one answers"

old=$(pm_hap_pid)
echo 3 >"$PM_TMP/slow-start"
printf '127.0.0.1:19511\n127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "did not answer on .* within 1500 ms" ||
	pm_fail "no start timeout for a HAProxy that does not answer"
rm "$PM_TMP/slow-start"
pm_assert_eq "$old" "$(pm_hap_pid)" "past start_timeout_ms the old HAProxy still answers"
pm_assert_eq b1 "$(pm_bodies "$url" 4)" "past start_timeout_ms the old HAProxy still serves"
# The change that timed out goes live with the next one.
printf '127.0.0.1:19512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b2"
pm_pass "a new HAProxy that never answers is killed; the old one serves on"

# 6. Bounded old processes and hard-stop-after: open TCP connections keep
#    old processes draining; with max_old_processes 1 at most one lingers,
#    and hard-stop-after (3 s) ends it.
exec 7<>/dev/tcp/127.0.0.1/19501
for i in 1 2 3; do
	exec {fd}<>/dev/tcp/127.0.0.1/19501
	if ((i % 2)); then	# each edit differs from the one before
		printf '127.0.0.1:19511\n127.0.0.1:19512\n'
	else
		printf '127.0.0.1:19512\n'
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
