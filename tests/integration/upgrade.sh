#!/usr/bin/env bash
# SIGUSR2: proxymgrd re-executes its own binary and the new one takes over
# the held sockets and the running HAProxy, under wrk load
# (Connection: close): no failed request, the same HAProxy pid and the
# same proxymgrd pid, no reload. Afterwards runtime changes and reloads
# work as before, the adopted HAProxy is soft-stopped and reaped by the
# new proxymgrd, and a second upgrade in a row works too. Then the same
# with RAProxy's command line and a hand-written haproxy.cfg.
# Ports 21201-21209 (services, named listener), 21211-21219 (HTTP).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

hosts() { # hosts NAME PORT...: the host file of NAME lists these ports
	local name=$1 p
	shift
	for p in "$@"; do echo "127.0.0.1:$p"; done | pm_write_atomic "$PM_TMP/$name.hosts"
}
service() { # service NAME PORT
	cat >"$PM_TMP/services/.$1.tmp" <<JSON
{"type": "file", "file": "$PM_TMP/$1.hosts", "port": $2,
 "listen_options": ["mode http", "balance roundrobin"]}
JSON
	mv "$PM_TMP/services/.$1.tmp" "$PM_TMP/services/$1.json"
}
alive_not_zombie() { pm__alive "$1"; }
gone() { ! pm__alive "$1"; }
wrk_clean() { # wrk_clean OUTFILE WHAT: no socket error, no non-2xx
	pm_wrk_parse "$1" || pm_fail "$2: no wrk result"
	echo "$2: $WRK_REQUESTS requests, $WRK_SOCKET_ERRORS socket errors, $WRK_NON2XX non-2xx"
	((WRK_REQUESTS > 1000)) || pm_fail "$2: too little load ($WRK_REQUESTS requests)"
	pm_assert_eq "0 0" "$WRK_SOCKET_ERRORS $WRK_NON2XX" "$2: no failed request"
}

for n in 1 2 3; do
	pm_start_httpd "s$n" $((21210 + n)) >/dev/null || pm_fail "start s$n"
done
pm_write_pmconfig
hosts web 21211 21212
service web 21201
# Run a copy, so that the test can put another binary at its path.
mkdir -p "$PM_TMP/bin"
cp "$PROXYMGRD" "$PM_TMP/bin/proxymgrd"
PROXYMGRD=$PM_TMP/bin/proxymgrd pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:21201/ "s1 s2"

# ---- managed services ---------------------------------------------------------
hap=$(pm_hap_pid)
reloads=$(pm_reload_count)
served=$(pm_traffic web)
pm_wrk_start "$PM_TMP/wrk1.txt" 120 8 http://127.0.0.1:21201/ -H 'Connection: close' >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows through HAProxy"
kill -USR2 "$PM_PID"
pm_wait_for pm_log_has "haproxy\[$hap\] runs the current configuration: adopted without a reload" ||
	pm_fail "the new proxymgrd did not adopt haproxy[$hap]"
pm_log_has 'SIGUSR2: re-executing .*proxymgrd, handing over haproxy' ||
	pm_fail "the upgrade is not logged"
alive_not_zombie "$PM_PID" || pm_fail "proxymgrd is gone after SIGUSR2"
pm_assert_eq "$hap $reloads" "$(pm_hap_pid) $(pm_reload_count)" \
	"after SIGUSR2 the same HAProxy serves, no reload"
served=$(pm_traffic web)
pm_wait_traffic web $((served + 1000)) || pm_fail "no load flows after the upgrade"
pm_wrk_stop "$wrk_pid" || pm_fail "wrk failed"
wrk_clean "$PM_TMP/wrk1.txt" "upgrade under load"

# A server change after the upgrade goes over the runtime API.
hosts web 21211 21212 21213
pm_expect_bodies http://127.0.0.1:21201/ "s1 s2 s3"
pm_assert_eq "$hap $reloads" "$(pm_hap_pid) $(pm_reload_count)" \
	"after the upgrade a new server is added without a reload"

# A reload after the upgrade: the adopted HAProxy is soft-stopped and
# reaped by the new proxymgrd.
hosts api 21213
service api 21202
pm_wait_reloads $((reloads + 1)) || pm_fail "no reload for a new service"
pm_expect_bodies http://127.0.0.1:21202/ "s3"
[[ $(pm_hap_pid) != "$hap" ]] || pm_fail "the reload kept the old HAProxy"
pm_wait_for gone "$hap" || pm_fail "the adopted haproxy[$hap] was not reaped (zombie or alive)"
pm_pass "after the upgrade a reload replaces the adopted HAProxy, which is reaped"

# A second upgrade in a row.
hap=$(pm_hap_pid)
reloads=$(pm_reload_count)
kill -USR2 "$PM_PID"
pm_wait_for pm_log_has "haproxy\[$hap\] runs the current configuration: adopted without a reload" ||
	pm_fail "the second upgrade did not adopt haproxy[$hap]"
pm_assert_eq "$hap $reloads" "$(pm_hap_pid) $(pm_reload_count)" "a second upgrade in a row adopts too"
pm_expect_bodies http://127.0.0.1:21201/ "s1 s2 s3"

# A binary that cannot take over (an older version, or one that does not
# start) is not exec'd: proxymgrd says so and goes on.
cp "$PM_TMP/bin/proxymgrd" "$PM_TMP/bin/proxymgrd.good"
printf '#!/bin/sh\nexit 0\n' >"$PM_TMP/bin/proxymgrd.new"
chmod +x "$PM_TMP/bin/proxymgrd.new"
mv -f "$PM_TMP/bin/proxymgrd.new" "$PM_TMP/bin/proxymgrd"
kill -USR2 "$PM_PID"
pm_wait_for pm_log_has 'SIGUSR2: .*proxymgrd does not take over a running proxymgrd .*; going on as before' ||
	pm_fail "a binary without the hand-over was not refused"
alive_not_zombie "$PM_PID" || pm_fail "proxymgrd is gone after a refused upgrade"
pm_assert_eq "$hap $reloads" "$(pm_hap_pid) $(pm_reload_count)" \
	"a binary that cannot take over is not exec'd: the same HAProxy serves"
mv -f "$PM_TMP/bin/proxymgrd.good" "$PM_TMP/bin/proxymgrd"
hosts web 21211 21212
pm_expect_bodies http://127.0.0.1:21201/ "s1 s2"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "the upgraded proxymgrd exits 0 on SIGTERM"
pm_wait_for gone "$hap" || pm_fail "haproxy[$hap] outlived proxymgrd"
[[ -z $(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg") ]] || pm_fail "a HAProxy is left behind"
pm_pass "no HAProxy is left behind"

# ---- RAProxy's command line, a hand-written haproxy.cfg ---------------------------
cat >"$PM_TMP/hand.cfg" <<'EOF'
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend http-in
  bind fd@${APP_1}
  default_backend b
backend b
  server s1 127.0.0.1:21211
EOF
mkdir -p "$PM_TMP/run2"
"$PROXYMGRD" -b "${HAPROXY:-haproxy}" -c "$PM_TMP/hand.cfg" -s APP_1=127.0.0.1:21203 \
	--run-dir "$PM_TMP/run2" -d </dev/null >>"$PM_TMP/proxymgrd2.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_port 21203 || pm_fail "the hand-written config does not serve"
pm_expect_bodies http://127.0.0.1:21203/ "s1"
export PM_STATS_SOCKET=$PM_TMP/run2/haproxy.sock
hap=$(pm_hap_pid)
[[ -n $hap ]] || pm_fail "no HAProxy pid on the wrapper's stats socket"
served=$(pm_traffic http-in)
pm_wrk_start "$PM_TMP/wrk2.txt" 120 8 http://127.0.0.1:21203/ -H 'Connection: close' >/dev/null
wrk_pid=$PM_LAST_PID
pm_wait_traffic http-in $((served + 1000)) || pm_fail "no load flows through HAProxy"
kill -USR2 "$PM_PID"
adopted2() { grep -qE "haproxy\[$hap\] runs the current configuration: adopted without a reload" "$PM_TMP/proxymgrd2.log"; }
pm_wait_for adopted2 || pm_fail "wrapper mode: haproxy[$hap] not adopted"
pm_assert_eq "$hap" "$(pm_hap_pid)" "wrapper mode: after SIGUSR2 the same HAProxy serves"
served=$(pm_traffic http-in)
pm_wait_traffic http-in $((served + 1000)) || pm_fail "no load flows after the upgrade"
pm_wrk_stop "$wrk_pid" || pm_fail "wrk failed"
wrk_clean "$PM_TMP/wrk2.txt" "wrapper-mode upgrade under load"
# An edit on disk still reloads after the upgrade.
sed -i 's/server s1 127.0.0.1:21211/server s2 127.0.0.1:21212/' "$PM_TMP/hand.cfg"
pm_expect_bodies http://127.0.0.1:21203/ "s2"
pm_pass "wrapper mode: an edit after the upgrade reloads"
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "the upgraded wrapper exits 0 on SIGTERM"
