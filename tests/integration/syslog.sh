#!/usr/bin/env bash
# log.syslog: the lines go to syslog(3) with the configured facility and
# the line's level as priority, nothing to stderr; a SIGHUP switches the
# facility and the format (JSON inside the syslog message). syslog(3)
# writes to /dev/log: the test runs in a user and mount namespace of its
# own (unshare -rmn, no privilege needed) with a private /dev, where a
# small receiver listens on /dev/log.
# Ports 25300-25319.
set -euo pipefail
if [[ -z ${PM_SYSLOG_NS:-} ]]; then
	PM_SYSLOG_NS=1 exec unshare -rmn "$BASH" "$0" "$@" ||
		{ echo "FAIL: unshare -rmn (user namespaces) is needed" >&2; exit 1; }
fi
ip link set lo up
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

# A /dev of our own: the devices HAProxy and the tools need, and /dev/log.
# Each device is bound from an fd opened before, so that no path outside
# /dev leads into the real one (the cleanup removes $PM_TMP).
exec 5</dev/null 6</dev/zero 7</dev/random 8</dev/urandom
mount -t tmpfs none /dev
for n in null:5 zero:6 random:7 urandom:8; do
	touch "/dev/${n%:*}"
	mount --bind "/proc/self/fd/${n#*:}" "/dev/${n%:*}"
done
exec 5<&- 6<&- 7<&- 8<&-
ln -s /proc/self/fd /dev/fd
for n in 0:stdin 1:stdout 2:stderr; do
	ln -s "/proc/self/fd/${n%:*}" "/dev/${n#*:}"
done
SYSLOG=$PM_TMP/syslog.txt
: >"$SYSLOG"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
print("ready", flush=True)
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
' "$SYSLOG" >"$PM_TMP/syslogd.out" 2>&1 &
pm_track $!
pm__syslogd_ready() { [[ -S /dev/log ]] && grep -q ready "$PM_TMP/syslogd.out"; }
pm_wait_for pm__syslogd_ready || pm_fail "the /dev/log receiver did not start"

pm_start_httpd b1 25311 >/dev/null || pm_fail "backend b1"
printf '127.0.0.1:25311\nnot-an-entry\n' | pm_write_atomic "$PM_TMP/web.hosts"
mkdir -p "$PM_TMP/services"
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 25300}
JSON
# Root in this user namespace maps only uid 0: HAProxy could not switch
# to the haproxy user (setgid fails), so it stays as it is.
PM_HAPROXY_EXTRA="  user: root"
pm_write_pmconfig "log:" "  syslog: true" "  facility: local3"
"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"

# LINE_REGEX in the syslog: wait for it.
syslog_has() { grep -qE -- "$1" "$SYSLOG"; }
wait_syslog() { pm_wait_for syslog_has "$1" || pm_fail "no syslog line matching $1; got: $(tail -n 5 "$SYSLOG")"; }
# local3 = 19: info <158>, warning <156>.
wait_syslog "^<158>.* proxymgrd\[$PM_PID\]: info: haproxy\[[0-9]+\] serves 1 services \(reload 1: start"
pm_expect_bodies http://127.0.0.1:25300/ "b1"
wait_syslog "^<156>.* proxymgrd\[$PM_PID\]: warning: service web: .*web.hosts:2.*line skipped"
# A new server: a runtime batch, and HAProxy says so on its stdout.
pm_start_httpd b2 25312 >/dev/null || pm_fail "backend b2"
printf '127.0.0.1:25311\n127.0.0.1:25312\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies http://127.0.0.1:25300/ "b1 b2"
wait_syslog "^<158>.* proxymgrd\[$PM_PID\]: info: haproxy\[[0-9]+\] runtime: "
wait_syslog "^<15[68]>.* proxymgrd\[$PM_PID\]: (info|warning): haproxy\[[0-9]+\]: \[(NOTICE|WARNING)\] "
pm_pass "syslog(3), facility local3: info and warning lines at their priority, HAProxy's lines too"
[[ -s $PM_TMP/proxymgrd.log ]] && pm_fail "stderr is not empty: $(head -n 3 "$PM_TMP/proxymgrd.log")"
pm_pass "nothing on stderr"

# SIGHUP: another facility, JSON. local5 = 21: info <174>.
pm_write_pmconfig "log:" "  syslog: true" "  facility: local5" "  format: json"
kill -HUP "$PM_PID"
wait_syslog "^<158>.* proxymgrd\[$PM_PID\]: info: SIGHUP: re-reading "
# SIGHUP reloads: wait for that reload to finish, or the host file's
# change below rides along with it instead of taking the runtime path.
wait_syslog "^<174>.* proxymgrd\[$PM_PID\]: \{.*\"event\":\"reload_done\""
printf '127.0.0.1:25312\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies http://127.0.0.1:25300/ "b2"
wait_syslog "^<174>.* proxymgrd\[$PM_PID\]: \{\"time\":\"[0-9T:.-]+Z\",\"level\":\"info\",\"event\":\"runtime_batch\",\"service\":null,\"reason\":null,\"msg\":\"haproxy\["
pm_pass "SIGHUP switched to facility local5 and JSON"

kill -TERM "$PM_PID"
wait_syslog "^<174>.* proxymgrd\[$PM_PID\]: \{.*\"event\":\"stop\""
PM_RC=0
wait "$PM_PID" || PM_RC=$?
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
[[ -s $PM_TMP/proxymgrd.log ]] && pm_fail "stderr is not empty: $(head -n 3 "$PM_TMP/proxymgrd.log")"
pm_pass "stopped, logged to syslog to the end"
