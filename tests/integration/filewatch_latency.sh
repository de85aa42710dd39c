#!/usr/bin/env bash
# The host-file watcher reads a whole file at once and lets only in-place
# writes settle (issue 15), against real HAProxy:
# (a) a host file replaced atomically (rename over it) is read at once,
#     because of the rename, not after the settle time; the change is
#     served (proxymgrd's "live X ms after the change" and the test's own
#     time from the rename to the change served are printed, not judged);
# (b) a writer that appends in place and keeps the file open is picked up
#     after the settle time, while it still holds the file; its close is
#     a read at once;
# (c) events lost to an inotify queue overflow (proxymgrd stopped while
#     more events than fs.inotify.max_queued_events happen, the change to
#     the host file among the lost ones) are logged once and every watched
#     file is read again, so the change is served all the same;
# (d) a service definition replaced atomically is read at once too.
# Ports 27000-27009.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

for i in 1 2 3; do
	pm_start_httpd "b$i" "2700$i" >/dev/null || pm_fail "backend b$i"
done
hosts=$PM_TMP/hosts/web.hosts
mkdir -p "$PM_TMP/hosts"
echo 127.0.0.1:27001 >"$hosts"
pm_write_pmconfig
echo "{\"type\": \"file\", \"file\": \"$hosts\", \"port\": 27000}" \
	>"$PM_TMP/services/web.json"
pm_start_proxymgrd
url=http://127.0.0.1:27000/
pm_expect_bodies "$url" "b1"
pm_pass "web serves b1 from $hosts"

at_once() { pm_log_count "hosts file $hosts: read at once \\($1\\)"; }
settled() { pm_log_count "hosts file $hosts: read after settling"; }
# serves URL NAME: one request is answered by backend NAME.
serves() { [[ $(pm_curl_body "$1" -H 'Connection: close') == "$2" ]]; }

# ---- (a) atomic rename ---------------------------------------------------------
moved=$(at_once "moved in")
waited=$(settled)
lives=$(pm_log_count 'live [0-9.]+ ms after the change')
echo 127.0.0.1:27002 | pm_write_atomic "$hosts"
renamed_ms=$(pm__now_ms)
PM_WAIT_POLL=0.01 pm_wait_for serves "$url" b2 ||
	pm_fail "rename: b2 not served"
served_ms=$(pm__now_ms)
pm_expect_bodies "$url" "b2"
pm_wait_log_count "hosts file $hosts: read at once \\(moved in\\)" $((moved + 1)) ||
	pm_fail "rename: no 'read at once (moved in)' in the log"
pm_wait_log_count 'live [0-9.]+ ms after the change' $((lives + 1)) ||
	pm_fail "rename: no runtime line"
pm_wait_idle
pm_assert_eq "$waited" "$(settled)" \
	"rename: read at once because of the rename, never after settling"
pm_pass "rename: proxymgrd says '$(grep -oE 'live [0-9.]+ ms after the change' \
	"$PM_TMP/proxymgrd.log" | tail -n 1)'; the test saw b2 served \
$((served_ms - renamed_ms)) ms after the rename (polling every 10 ms)"

# ---- (b) an in-place writer that keeps the file open -----------------------------
closed=$(at_once "closed after writing")
waited=$(settled)
exec 3>>"$hosts"
echo 127.0.0.1:27003 >&3
pm_wait_log_count "hosts file $hosts: read after settling \\(written in place\\)" \
	$((waited + 1)) || pm_fail "in place: not read after settling"
pm_expect_bodies "$url" "b2 b3"
pm_assert_eq "$closed" "$(at_once "closed after writing")" \
	"in place: b3 appended and served while the writer holds the file open"
exec 3>&-
pm_wait_log_count "hosts file $hosts: read at once \\(closed after writing\\)" \
	$((closed + 1)) || pm_fail "in place: the close was not a read at once"
pm_expect_bodies "$url" "b2 b3"
pm_pass "in place: the close is read at once, and changes nothing"

# ---- (c) inotify queue overflow ------------------------------------------------
max=$(cat /proc/sys/fs/inotify/max_queued_events)
((max > 0 && max <= 1048576)) ||
	pm_fail "fs.inotify.max_queued_events is $max: too many events to make here"
overflows=$(pm_log_count 'inotify queue overflowed')
rescans=$(at_once "looked at again")
pm_wait_idle
kill -STOP "$PM_PID"
# Two events a file (created, closed after writing), more than the queue
# holds; dot files, which the watcher of web.hosts ignores.
flood=$PM_TMP/hosts
for ((i = 0; i < max / 2 + 64; i++)); do
	: >"$flood/.flood$i"
done
# Lost with the rest: only the rescan can find this change.
echo 127.0.0.1:27001 | pm_write_atomic "$hosts"
kill -CONT "$PM_PID"
pm_wait_log_count 'inotify queue overflowed' $((overflows + 1)) ||
	pm_fail "overflow: not logged"
pm_wait_log_count "hosts file $hosts: read at once \\(looked at again\\)" \
	$((rescans + 1)) || pm_fail "overflow: $hosts not read again"
pm_expect_bodies "$url" "b1"
pm_wait_idle
pm_assert_eq $((overflows + 1)) "$(pm_log_count 'inotify queue overflowed')" \
	"overflow: logged once; the change lost with the events is served"
find "$flood" -maxdepth 1 -name '.flood*' -delete

# ---- (d) a service definition renamed in -------------------------------------------
svc_moved=$(pm_log_count "service definitions: $PM_TMP/services/api.json read at once \\(moved in\\)")
echo '{"type": "static", "port": 27009, "servers": [{"address": "127.0.0.1", "port": 27003}]}' |
	pm_write_atomic "$PM_TMP/services/api.json"
pm_expect_bodies http://127.0.0.1:27009/ "b3"
pm_assert_eq $((svc_moved + 1)) \
	"$(pm_log_count "service definitions: $PM_TMP/services/api.json read at once \\(moved in\\)")" \
	"service definitions: api.json renamed in is read at once and served"
pm_expect_bodies "$url" "b1"

pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
pm_pass "done"
