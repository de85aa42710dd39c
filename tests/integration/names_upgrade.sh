#!/usr/bin/env bash
# Server names changed from HOST_PORT to ProxyMgr's HOST:PORT. A HAProxy
# that an older proxymgrd left running (its haproxy.cfg says HOST_PORT)
# is taken over by this one, which reloads it with the new names: the
# server-state file renames its lines, so that what the operator set on
# the old HAProxy holds on the new one.
# - b2 put into maint and b3 into drain on the old HAProxy: the same on
#   the new one, under the new names; only b1 is sent traffic;
# - b4, retired by the old proxymgrd (`disabled` in its haproxy.cfg and
#   in maint) and back in discovery: it serves again;
# - the new names work on the runtime API.
# Ports 26220-26229.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

CFG=$PM_TMP/run/haproxy.cfg
for i in 1 2 3 4; do
	pm_start_httpd "b$i" $((26220 + i)) >/dev/null || pm_fail "backend b$i"
done
pm_write_pmconfig
servers() {
	local s="" p
	for p in "$@"; do
		s+="${s:+, }{\"address\": \"127.0.0.1\", \"port\": $p}"
	done
	echo "{\"type\": \"static\", \"port\": 26220, \"servers\": [$s]}" |
		pm_write_atomic "$PM_TMP/services/web.json"
}

# ---- the old proxymgrd's HAProxy ----------------------------------------------
# What this proxymgrd renders, with the old names: the older version
# rendered the same, but for `_` in the names.
servers 26221 26222 26223 26224
pm_start_proxymgrd
pm_stop_proxymgrd
grep -q '^    server 127.0.0.1:26224 127.0.0.1:26224 id 4$' "$CFG" ||
	pm_fail "unexpected server line: $(grep server "$CFG")"
sed -i -E -e 's/^(    server [0-9.]+):([0-9]+) /\1_\2 /' \
	-e 's/^(    server 127.0.0.1_26224 .*)$/\1 disabled/' \
	-e 's/^    bind fd@3$/    bind 127.0.0.1:26220/' "$CFG"
grep -q '^    server 127.0.0.1_26222 127.0.0.1:26222 id 2$' "$CFG" ||
	pm_fail "old-style config not made: $(grep server "$CFG")"
echo 1 >"$CFG.state"
setsid "${HAPROXY:-haproxy}" -f "$CFG" -db </dev/null >>"$PM_TMP/old-haproxy.log" 2>&1 &
OLD=$!
pm_track "$OLD"
old_answers() { [[ $(pm_hap_pid) == "$OLD" ]]; }
pm_wait_for old_answers || pm_fail "the old HAProxy does not answer"
pm_stats "set server web/127.0.0.1_26222 state maint" >/dev/null
pm_stats "set server web/127.0.0.1_26223 state drain" >/dev/null
pm_stats "set server web/127.0.0.1_26224 state maint" >/dev/null
pm_expect_bodies http://127.0.0.1:26220/ "b1"
pm_pass "an old proxymgrd's HAProxy: HOST_PORT names, b2 in maint, b3 draining, b4 retired"

# ---- this proxymgrd takes it over -----------------------------------------------
pm_start_proxymgrd
new_serves() { local p; p=$(pm_hap_pid); [[ -n $p && $p != "$OLD" ]]; }
pm_wait_for new_serves || pm_fail "the old HAProxy was not replaced"
pm_wait_idle
grep -q '^    server 127.0.0.1:26222 127.0.0.1:26222 ' "$CFG" ||
	pm_fail "new names not rendered: $(grep server "$CFG")"
state=$(pm_stats "show servers state web")
admin() { awk -v s="$1" '$4 == s {print $7}' <<<"$state"; }
pm_assert_eq 0 "$(admin 127.0.0.1:26221)" "b1 ready"
pm_assert_eq 1 "$(admin 127.0.0.1:26222)" "b2 still in maint (admin state)"
pm_assert_eq 8 "$(admin 127.0.0.1:26223)" "b3 still draining (admin state)"
pm_assert_eq 0 "$(admin 127.0.0.1:26224)" "b4, retired by the old proxymgrd and back, ready"
[[ -z $(awk '!/^#/ && $4 ~ /_/' <<<"$state") ]] || pm_fail "old names left: $state"
pm_expect_bodies http://127.0.0.1:26220/ "b1 b4"
pm_pass "taken over and reloaded with HOST:PORT names: maint and drain carried over, the retired server back"

# ---- the new names on the runtime API -----------------------------------------
pm_stats "set server web/127.0.0.1:26222 state ready" >/dev/null
pm_expect_bodies http://127.0.0.1:26220/ "b1 b2 b4"
servers 26221 26222 26223
pm_expect_bodies http://127.0.0.1:26220/ "b1 b2"
pm_pass "set server web/127.0.0.1:26222 works, and proxymgrd retires 127.0.0.1:26224 at runtime"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
