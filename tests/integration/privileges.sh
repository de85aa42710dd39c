#!/usr/bin/env bash
# Least privilege, with a real HAProxy:
#  1. proxymgrd as root, bounded to the capabilities the unit leaves it
#     (setpriv), serves 127.0.0.1:81; HAProxy serves as the
#     unprivileged haproxy user (uid, gid, no supplementary group, no
#     capability); the stats socket, haproxy.cfg and the server-state
#     file are root's, mode 600, and the haproxy user can use none of
#     them; a takeover after SIGKILL works across the two uids; the
#     operator's own user/group in global win; a user that does not
#     exist is an error naming file, line and key.
#  1b. The same for a hand-written haproxy.cfg (-s), whose own user and
#     group in global win.
#  2. proxymgrd as the user proxymgr with only CAP_NET_BIND_SERVICE
#     (setpriv, as systemd's AmbientCapabilities= would) serves
#     127.0.0.1:80; HAProxy inherits no capability; after SIGUSR2 the
#     new proxymgrd still binds a port below 1024 (82) for a new service.
# Runs in a network namespace of its own, where ports 80-82 are free
# whatever the machine runs. Backends on 26500-26502.
set -euo pipefail
if [[ -z ${PM_PRIV_NETNS:-} ]]; then
	[[ $(id -u) == 0 ]] || { echo "FAIL: privileges.sh runs as root (useradd, setpriv, unshare)" >&2; exit 1; }
	exec env PM_PRIV_NETNS=1 unshare -n -- bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

# Debian's haproxy package creates this user; a machine without it gets
# one the same way.
getent passwd haproxy >/dev/null ||
	useradd --system --user-group --no-create-home --home-dir /var/lib/haproxy \
		--shell /usr/sbin/nologin haproxy
getent passwd proxymgr >/dev/null ||
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin proxymgr
hap_uid=$(id -u haproxy)
hap_gid=$(id -g haproxy)
pm_uid=$(id -u proxymgr)
pm_gid=$(id -g proxymgr)
haproxy_bin=$(command -v "${HAPROXY:-haproxy}")

# status_field PID FIELD: the value of FIELD in /proc/PID/status, tabs
# and spaces squeezed.
status_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"
}

# as_user USER CMD...: run CMD as USER, no capability, no extra group.
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all \
		--bounding-set=-all "$@"
}

# no_caps PID WHO: PID has no capability it could use.
no_caps() {
	local f
	[[ -r /proc/$1/status ]] || pm_fail "$2: no such process"
	for f in CapPrm CapEff CapAmb; do
		[[ $(status_field "$1" "$f") == 0000000000000000 ]] ||
			pm_fail "$2: $f is $(status_field "$1" "$f")"
	done
}

pm_start_httpd b0 26500 >/dev/null || pm_fail "backend b0"
pm_start_httpd b1 26501 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 26502 >/dev/null || pm_fail "backend b2"

# ---- 1. proxymgrd as root ----------------------------------------------------------

# With no capability but those etc/proxymgrd.service.in bounds it to,
# and no new privileges, as under systemd.
unit_caps=(setpriv --no-new-privs
	--bounding-set=-all,+net_bind_service,+setuid,+setgid,+kill,+sys_ptrace --)
start_root_pm() {
	"${unit_caps[@]}" "$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d </dev/null \
		>>"$PM_TMP/proxymgrd.log" 2>&1 &
	PM_PID=$!
	pm_track "$PM_PID"
}
pm_write_pmconfig
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "static", "port": 81, "listen_options": ["balance roundrobin"],
 "servers": [{"address": "127.0.0.1", "port": 26500}]}
JSON
start_root_pm
pm_wait_reloads 1 || pm_fail "proxymgrd did not start HAProxy"
pm_assert_eq 0000000000000000 "$(status_field "$PM_PID" CapAmb)" "root proxymgrd: no ambient capability"
[[ $(status_field "$PM_PID" CapBnd) == 00000000000804e0 ]] ||
	pm_fail "root proxymgrd's bounding set is $(status_field "$PM_PID" CapBnd), not the unit's"
pm_expect_bodies http://127.0.0.1:81/ "b0"
hap=$(pm_hap_pid)
pm_assert_eq "$hap_uid $hap_uid $hap_uid $hap_uid" "$(status_field "$hap" Uid)" \
	"HAProxy's real, effective, saved and fs uid are haproxy's"
pm_assert_eq "$hap_gid $hap_gid $hap_gid $hap_gid" "$(status_field "$hap" Gid)" \
	"HAProxy's gids are haproxy's group"
pm_assert_eq "" "$(status_field "$hap" Groups)" "HAProxy has no supplementary group"
no_caps "$hap" "haproxy[$hap]"
grep -qx '    user haproxy' "$PM_TMP/run/haproxy.cfg" &&
	grep -qx '    group haproxy' "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "haproxy.cfg has no user/group haproxy"
pm_log_has 'HAProxy binds and reads its files as root, then serves as user haproxy, group haproxy' ||
	pm_fail "the start does not say who HAProxy serves as"
pm_pass "root proxymgrd serves 127.0.0.1:81; haproxy[$hap] runs as haproxy ($hap_uid:$hap_gid), no groups, no capability"

# A reload writes the server-state file; the new HAProxy drops too.
cat >"$PM_TMP/services/api.json" <<JSON
{"type": "static", "port": 26510, "servers": [{"address": "127.0.0.1", "port": 26501}]}
JSON
pm_expect_bodies http://127.0.0.1:26510/ "b1"
pm_wait_idle
hap=$(pm_hap_pid)
pm_assert_eq "$hap_uid" "$(status_field "$hap" Uid | cut -d" " -f1)" "the reloaded HAProxy runs as haproxy"
for f in haproxy.sock haproxy.cfg haproxy.cfg.state; do
	[[ -e $PM_TMP/run/$f ]] || pm_fail "no $f"
	pm_assert_eq "root 600" "$(stat -c '%U %a' "$PM_TMP/run/$f")" "$f is root's, mode 600"
done
chmod 755 "$PM_TMP" # let the haproxy user reach the files: their own modes must stop it
as_user haproxy socat -t 2 - "UNIX-CONNECT:$PM_TMP/run/haproxy.sock" </dev/null 2>/dev/null &&
	pm_fail "the haproxy user can connect to the stats socket"
as_user haproxy cat "$PM_TMP/run/haproxy.cfg.state" >/dev/null 2>&1 &&
	pm_fail "the haproxy user can read the server-state file"
as_user haproxy sh -c ": >>'$PM_TMP/run/haproxy.cfg.state'" 2>/dev/null &&
	pm_fail "the haproxy user can write the server-state file"
as_user haproxy cat "$PM_TMP/run/haproxy.cfg" >/dev/null 2>&1 &&
	pm_fail "the haproxy user can read haproxy.cfg"
chmod 700 "$PM_TMP"
pm_pass "stats socket, haproxy.cfg and server state: root's, mode 600; the haproxy user can use none"

# Crash-only across the uids: the restarted root proxymgrd takes the
# haproxy-uid HAProxy over (pidfd_getfd, /proc/PID/fd) without a reload.
for p in $(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg"); do pm_track "$p"; done
kill -KILL "$PM_PID"
wait "$PM_PID" 2>/dev/null || true
starts=$(pm_log_count 'debug: start \(taken over\)$')
start_root_pm
pm_wait_log_count 'debug: start \(taken over\)$' $((starts + 1)) ||
	pm_fail "the restarted proxymgrd did not take HAProxy over"
pm_wait_idle
pm_log_has "haproxy\[$hap\] runs the current configuration: adopted without a reload" ||
	pm_fail "haproxy[$hap] was not adopted as it ran"
pm_assert_eq "$hap" "$(pm_hap_pid)" "the same HAProxy serves after the takeover"
pm_expect_bodies http://127.0.0.1:81/ "b0"
pm_pass "after SIGKILL the root proxymgrd took the haproxy-uid haproxy[$hap] over without a reload"

# The operator's own user/group win (SIGHUP with them in global).
nobody_uid=$(id -u nobody)
PM_GLOBAL='"maxconn 4096", "user nobody", "group nogroup"' pm_write_pmconfig
reloads=$(pm_reload_count)
kill -HUP "$PM_PID"
pm_wait_reloads $((reloads + 1)) || pm_fail "no reload for the changed global"
pm_wait_idle
hap=$(pm_hap_pid)
pm_assert_eq "$nobody_uid" "$(status_field "$hap" Uid | cut -d" " -f1)" "global's user nobody wins"
grep -q '^    user haproxy' "$PM_TMP/run/haproxy.cfg" &&
	pm_fail "user haproxy rendered beside the operator's user"
pm_expect_bodies http://127.0.0.1:81/ "b0"
pm_pass "a user/group in haproxy.global is left as written: haproxy[$hap] runs as nobody"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "root proxymgrd exits 0"

# A user that does not exist: refused at load, naming file, line and key.
PM_HAPROXY_EXTRA='  user: pm-no-such-user' pm_write_pmconfig
out=$("$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" --check 2>&1 >/dev/null) &&
	pm_fail "--check passed with an unknown haproxy.user"
line=$(grep -n 'pm-no-such-user' "$PM_TMP/proxymgr.yml" | cut -d: -f1)
[[ $out == *"proxymgr.yml:$line: haproxy.user: no user 'pm-no-such-user' on this system"* ]] ||
	pm_fail "unclear error for an unknown user: $out"
pm_pass "an unknown haproxy.user is an error naming file, line and key"

# ---- 1b. a hand-written haproxy.cfg (-s), root ---------------------------------------

# By default HAProxy drops to haproxy here too; a user and group in the
# file's own global section win, and are not specified twice.
mv "$PM_TMP/proxymgrd.log" "$PM_TMP/root-proxymgrd.log"
write_cfg() {
	{
		printf 'global\n    maxconn 256\n%s' "$1"
		printf 'defaults\n    mode http\n    timeout connect 5s\n'
		printf '    timeout client 30s\n    timeout server 30s\n'
		printf 'frontend web\n    bind fd@${APP}\n    default_backend b\n'
		printf 'backend b\n    server s 127.0.0.1:26501\n'
	} | pm_write_atomic "$PM_TMP/haproxy.cfg"
}
write_cfg ""
mkdir -p "$PM_TMP/wrun"
"${unit_caps[@]}" "$PROXYMGRD" -c "$PM_TMP/haproxy.cfg" -s APP=127.0.0.1:81 \
	--run-dir "$PM_TMP/wrun" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "wrapper mode: proxymgrd did not start HAProxy"
export PM_STATS_SOCKET=$PM_TMP/wrun/haproxy.sock
pm_expect_bodies http://127.0.0.1:81/ "b1"
hap=$(pm_hap_pid)
pm_assert_eq "$hap_uid $hap_gid" "$(status_field "$hap" Uid | cut -d" " -f1) $(status_field "$hap" Gid | cut -d" " -f1)" \
	"wrapper mode: HAProxy serves as haproxy"
no_caps "$hap" "wrapper mode: haproxy[$hap]"
reloads=$(pm_reload_count)
write_cfg $'    user nobody\n    group nogroup\n'
pm_wait_reloads $((reloads + 1)) || pm_fail "wrapper mode: the edit was not reloaded"
pm_wait_idle
hap=$(pm_hap_pid)
pm_assert_eq "$nobody_uid" "$(status_field "$hap" Uid | cut -d" " -f1)" \
	"wrapper mode: the file's own user nobody wins"
grep -q '^    user haproxy' "$PM_TMP/wrun/proxymgrd.cfg" &&
	pm_fail "wrapper mode: user haproxy rendered beside the file's own"
pm_log_has 'already specified' && pm_fail "wrapper mode: HAProxy saw user/group twice"
pm_expect_bodies http://127.0.0.1:81/ "b1"
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "wrapper mode: proxymgrd exits 0"
unset PM_STATS_SOCKET
pm_pass "wrapper mode: HAProxy drops to haproxy by default; the file's own user/group are left alone"

# ---- 2. proxymgrd as proxymgr with only CAP_NET_BIND_SERVICE -------------------------

mv "$PM_TMP/proxymgrd.log" "$PM_TMP/wrapper-proxymgrd.log"
np=$PM_TMP/np
mkdir -p "$np/services" "$np/run"
chmod 711 "$PM_TMP"
# A HAProxy built by scripts/build-haproxy-3.0 lives under root's home
# (mode 700): the proxymgr user runs a copy of it, as a package would
# install it where every user can run it.
if ! as_user proxymgr test -x "$haproxy_bin"; then
	cp "$haproxy_bin" "$np/haproxy"
	haproxy_bin=$np/haproxy
fi
cat >"$np/proxymgr.yml" <<YAML
haproxy:
  path: $haproxy_bin
  config_path: $np/run/haproxy.cfg
  socket_path: $np/run/haproxy.sock
  bind_address: 127.0.0.1
  defaults: ["mode http", "timeout connect 5s", "timeout client 30s", "timeout server 30s"]
reload:
  debounce_ms: 10
  min_interval_ms: 100
service_config:
  type: file
  path: $np/services
YAML
cat >"$np/services/web.json" <<JSON
{"type": "static", "port": 80, "servers": [{"address": "127.0.0.1", "port": 26502}]}
JSON
chown -R proxymgr:proxymgr "$np"
setpriv --reuid=proxymgr --regid=proxymgr --init-groups \
	--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
	--bounding-set=-all,+net_bind_service \
	"$PROXYMGRD" -c "$np/proxymgr.yml" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "proxymgrd as proxymgr did not start HAProxy"
export PM_STATS_SOCKET=$np/run/haproxy.sock
pm_expect_bodies http://127.0.0.1:80/ "b2"
pm_assert_eq "$pm_uid $pm_uid $pm_uid $pm_uid" "$(status_field "$PM_PID" Uid)" "proxymgrd runs as proxymgr"
pm_assert_eq 0000000000000400 "$(status_field "$PM_PID" CapEff)" "proxymgrd holds CAP_NET_BIND_SERVICE only"
pm_assert_eq 0000000000000000 "$(status_field "$PM_PID" CapAmb)" "proxymgrd cleared its ambient set"
hap=$(pm_hap_pid)
pm_assert_eq "$pm_uid $pm_uid $pm_uid $pm_uid" "$(status_field "$hap" Uid)" "HAProxy runs as proxymgr"
pm_assert_eq "$pm_gid $pm_gid $pm_gid $pm_gid" "$(status_field "$hap" Gid)" "HAProxy's group is proxymgr"
no_caps "$hap" "haproxy[$hap] of the proxymgr user"
grep -q '^    user ' "$np/run/haproxy.cfg" && pm_fail "user rendered by a proxymgrd that is not root"
pm_log_has "HAProxy runs as proxymgrd's uid $pm_uid, with no capability" ||
	pm_fail "the start does not say who HAProxy runs as"
pm_pass "proxymgrd as proxymgr with CAP_NET_BIND_SERVICE only serves 127.0.0.1:80; haproxy[$hap] has no capability"

# SIGUSR2: the new proxymgrd gets the capability back, and binds port 82
# for a service added afterwards.
kill -USR2 "$PM_PID"
pm_wait_for pm_log_has "haproxy\[$hap\] runs the current configuration: adopted without a reload" ||
	pm_fail "SIGUSR2: haproxy[$hap] not adopted"
pm_assert_eq 0000000000000400 "$(status_field "$PM_PID" CapEff)" "after SIGUSR2 proxymgrd holds CAP_NET_BIND_SERVICE"
pm_assert_eq 0000000000000000 "$(status_field "$PM_PID" CapAmb)" "after SIGUSR2 the ambient set is cleared again"
echo '{"type": "static", "port": 82, "servers": [{"address": "127.0.0.1", "port": 26501}]}' >"$np/services/.api.json"
chown proxymgr:proxymgr "$np/services/.api.json"
mv "$np/services/.api.json" "$np/services/api.json"
pm_expect_bodies http://127.0.0.1:82/ "b1"
pm_expect_bodies http://127.0.0.1:80/ "b2"
# Until the old HAProxy is soft-stopped it shares the stats socket with
# the new one and may answer `show info`, then exit.
pm_wait_idle
hap=$(pm_hap_pid)
no_caps "$hap" "haproxy[$hap] after the upgrade"
pm_pass "after SIGUSR2 the proxymgr-user proxymgrd binds 127.0.0.1:82 for a new service; haproxy[$hap] has no capability"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd as proxymgr exits 0"
[[ -z $(pm_hap_pids_for "$np/run/haproxy.cfg") ]] || pm_fail "HAProxy left behind"
pm_pass "proxymgrd as proxymgr stops with no HAProxy left"
