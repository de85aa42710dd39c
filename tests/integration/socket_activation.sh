#!/usr/bin/env bash
# systemd socket activation (LISTEN_FDS) for a service that appears only
# after HAProxy is up. pm-sockact keeps its own copy of the socket, as
# systemd does, so proxymgrd can never bind that port itself: the passed
# socket must be the one HAProxy gets, every time.
# 1. a service added on the activated port is served;
# 2. removed, its socket goes back to the pool it came from;
# 3. added again while a reload is in flight (`haproxy -c` held by a
#    marker file), together with a service HAProxy refuses: the build
#    made when the in-flight reload ends is dropped (the plan says
#    reload), and the reload's first config fails `haproxy -c` and is
#    built again. The activated port serves, nothing "cannot bind".
# Ports 24200-24219. Takes ~10 s.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

: "${PM_SOCKACT:=${builddir:-.}/tests/helpers/pm-sockact}"
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"
real_haproxy=$(command -v "${HAPROXY:-haproxy}") || pm_fail "no haproxy"

# haproxy -c waits while $PM_TMP/hold exists, and says so in $PM_TMP/held:
# the test holds a reload in flight for as long as it needs.
mkdir -p "$PM_TMP/bin"
cat >"$PM_TMP/bin/haproxy" <<SH
#!/bin/sh
for a in "\$@"; do
	if [ "\$a" = -c ] && [ -e "$PM_TMP/hold" ]; then
		echo \$\$ >>"$PM_TMP/held"
		while [ -e "$PM_TMP/hold" ]; do sleep 0.02; done
		break
	fi
done
exec "$real_haproxy" "\$@"
SH
chmod +x "$PM_TMP/bin/haproxy"
HAPROXY=$PM_TMP/bin/haproxy

pm_start_httpd b1 24211 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 24212 >/dev/null || pm_fail "backend b2"
pm_write_pmconfig

# service NAME PORT BACKEND_PORT [LISTEN_OPTION]
service() {
	local opt=${4:+\"$4\", }
	echo "{\"type\": \"static\", \"port\": $2, \"listen_options\": [$opt\"balance roundrobin\"], \"servers\": [{\"address\": \"127.0.0.1\", \"port\": $3}]}" |
		pm_write_atomic "$PM_TMP/services/$1.json"
}
rendered() { grep -q "^listen $1\$" "$PM_TMP/run/haproxy.cfg"; }
no_cannot_bind() {
	if pm_log_has 'cannot bind'; then
		pm_fail "$1: $(grep 'cannot bind' "$PM_TMP/proxymgrd.log" | head -n 3)"
	fi
}
# served_or_given_up URL BODY: served BODY, or proxymgrd said it cannot
# have the port (fail at once rather than at the timeout).
served_or_given_up() {
	[[ $(pm_curl_body "$1" -H 'Connection: close') == "$2" ]] || pm_log_has 'cannot bind'
}
expect_served() {
	pm_wait_for served_or_given_up "$1" "$2" || pm_fail "$1 does not serve $2"
	no_cannot_bind "$1"
	pm_expect_bodies "$1" "$2"
}

service other 24201 24212
"$PM_SOCKACT" 127.0.0.1 24200 web -- "$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d \
	</dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "proxymgrd did not start HAProxy"
pm_log_has 'socket activation: 1 sockets passed' || pm_fail "LISTEN_FDS not seen"
pm_expect_bodies http://127.0.0.1:24201/ "b2"
rendered web && pm_fail "web rendered before it exists"
pm_pass "HAProxy serves, the activated port 24200 has no service yet"

# ---- 1. a service appears on the activated port --------------------------------
service web 24200 24211
expect_served http://127.0.0.1:24200/ "b1"
pm_log_has 'using the inherited socket fd 3 \(web\) for 127.0.0.1 port 24200' ||
	pm_fail "the LISTEN_FDS socket was not the one used"
pm_pass "a service added after HAProxy is up serves on the LISTEN_FDS socket"

# ---- 2. removed: the socket goes back to its pool ------------------------------
rm "$PM_TMP/services/web.json"
pm_wait_for pm_log_has 'service web: removed' || pm_fail "removal not seen"
pm_wait_idle
rendered web && pm_fail "web still rendered after its removal"
pm_log_has 'fd 3 for 127.0.0.1 port 24200 goes back to the inherited sockets \(web\)' ||
	pm_fail "the socket of web did not go back to its pool"
pm_expect_bodies http://127.0.0.1:24201/ "b2"
pm_pass "a removed service's LISTEN_FDS socket goes back to the pool"

# ---- 3. added again while a reload is in flight --------------------------------
: >"$PM_TMP/hold"
service third 24202 24212
held() { [[ -s $PM_TMP/held ]]; }
pm_wait_for held || pm_fail "no haproxy -c held for the reload of third"
service web 24200 24211
service bad 24203 24211 "option no-such-option"
pm_wait_for pm_log_has 'service web: added' || pm_fail "web not seen"
pm_wait_for pm_log_has 'service bad: added' || pm_fail "bad not seen"
# proxymgrd itself says that the changes wait behind the reload in flight.
in_flight_with_changes() {
	local n
	n=$(pm_log_count 'counters: ')
	kill -USR1 "$PM_PID" || return 1
	PM_WAIT_POLL=0.02 pm_wait_log_count 'counters: ' $((n + 1)) || return 1
	grep -E 'counters: ' "$PM_TMP/proxymgrd.log" | tail -n 1 |
		grep -q 'busy (checking a config, changes pending)'
}
pm_wait_for in_flight_with_changes ||
	pm_fail "the changes did not wait behind the reload in flight"
rm "$PM_TMP/hold"
pm_expect_bodies http://127.0.0.1:24202/ "b2"
expect_served http://127.0.0.1:24200/ "b1"
pm_wait_for pm_log_has 'service bad: HAProxy refused its section' ||
	pm_fail "bad was not refused"
pm_wait_idle
rendered bad && pm_fail "bad is rendered"
pm_log_has 'reload failed' && pm_fail "a reload failed"
# Taken at each claim, given back whenever a plan let go of it (the
# removal, the config that failed haproxy -c): it is with web now.
taken=$(pm_log_count 'using the inherited socket fd 3 \(web\)')
back=$(pm_log_count 'fd 3 for 127.0.0.1 port 24200 goes back to the inherited sockets')
((taken >= 2)) || pm_fail "the LISTEN_FDS socket was taken $taken times"
pm_assert_eq $((back + 1)) "$taken" "the LISTEN_FDS socket goes back to its pool each time a plan lets go of it"
pm_expect_bodies http://127.0.0.1:24200/ "b1"
pm_expect_bodies http://127.0.0.1:24201/ "b2"
no_cannot_bind "after the reload in flight"
pm_pass "added while a reload is in flight, beside a refused service: the activated port serves"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
no_cannot_bind "at the end"
