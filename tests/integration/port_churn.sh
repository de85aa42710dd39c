#!/usr/bin/env bash
# Ports that churn cause no reload: a server replaced by one on a new port
# takes the slot (HAProxy server) of one retired before, over the runtime
# API (set server addr), as HAProxy's server-template does. 200 changes in
# one service, each replacing its oldest server by the next of 20 real
# backends, with health checks: no reload, traffic reaches exactly the
# servers of the host file, HAProxy has no more slots than the servers
# plus a retired one, proxymgrctl shows each address beside its slot's
# name, a reload afterwards (SIGHUP) keeps every slot's name, id and
# address, and an upgrade (SIGUSR2) names slots after their addresses
# again with one reload. Ports 27300-27320.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

NB=20		# backends, on 27301..27320
NA=4		# servers in the host file at a time
CHANGES=200
for ((i = 1; i <= NB; i++)); do
	pm_start_httpd "p$((27300 + i))" "$((27300 + i))" >/dev/null ||
		pm_fail "backend $((27300 + i))"
done
hosts() { # hosts PORT...: the host file lists these ports
	local p
	for p in "$@"; do echo "127.0.0.1:$p"; done | pm_write_atomic "$PM_TMP/web.hosts"
}
names() { # names PORT...: the backends' names, as pm_expect_bodies wants them
	local p
	for p in "$@"; do echo "p$p"; done | sort | tr '\n' ' ' | sed 's/ $//'
}
active=(27301 27302 27303 27304)
hosts "${active[@]}"
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 27300,
 "listen_options": ["balance roundrobin"], "server_options": ["check inter 1000"]}
JSON
pm_start_proxymgrd
url=http://127.0.0.1:27300/
pm_expect_bodies "$url" "$(names "${active[@]}")"
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)

# A server of web at 127.0.0.1:PORT that is not in maint.
serving() {
	pm_stats "show servers state web" |
		awk -v p="$1" '$5 == "127.0.0.1" && $19 == p && $7 % 2 == 0 {f = 1} END {exit !f}'
}

# ---- 200 changes, each a new port --------------------------------------------

next=$((27301 + NA))
for ((c = 1; c <= CHANGES; c++)); do
	active=("${active[@]:1}" "$next")
	hosts "${active[@]}"
	pm_wait_for serving "$next" ||
		pm_fail "change $c: 127.0.0.1:$next not served: $(pm_stats "show servers state web")"
	next=$((next == 27300 + NB ? 27301 : next + 1))
done
pm_wait_idle
pm_assert_eq "$reloads" "$(pm_reload_count)" "$CHANGES changes to new ports: no reload"
pm_assert_eq "$pid" "$(pm_hap_pid)" "$CHANGES changes to new ports: HAProxy pid unchanged"
counters=$(grep -E 'counters: ' "$PM_TMP/proxymgrd.log" | tail -n 1)
[[ $counters =~ failed\ batches\ 0\; ]] || pm_fail "a runtime batch failed: $counters"
[[ $counters =~ servers\ added\ ([0-9]+),\ retired\ ([0-9]+) ]] &&
	((BASH_REMATCH[1] == CHANGES && BASH_REMATCH[2] == CHANGES)) ||
	pm_fail "counters: expected $CHANGES servers added and retired: $counters"
pm_pass "the counters say $CHANGES servers added and retired at runtime, none failed"

pm_expect_bodies "$url" "$(names "${active[@]}")"
pm_pass "traffic reaches exactly the servers of the host file"

state=$(pm_stats "show servers state web")
slots=$(awk '$2 == "web" && $1 ~ /^[0-9]+$/' <<<"$state" | wc -l)
pm_assert_eq $((NA + 1)) "$slots" "HAProxy has $NA slots serving and 1 retired, no more"
for p in "${active[@]}"; do
	serving "$p" || pm_fail "127.0.0.1:$p not served after the churn"
done
ids=$(awk '$2 == "web" && $1 ~ /^[0-9]+$/ {print $3}' <<<"$state" | sort -n | tr '\n' ' ')
pm_assert_eq "1 2 3 4 5 " "$ids" "slot ids stay those of the first 5 servers"

# proxymgrctl: the address served, with the slot's name (an older address).
"$PROXYMGRCTL" -c "$PM_TMP/proxymgr.yml" servers web --json >"$PM_TMP/servers.json" ||
	pm_fail "proxymgrctl servers web: $(cat "$PM_TMP/servers.json")"
jq -e --argjson n "$NA" '
	[.servers[] | select(.wanted == "ready")] | length == $n and
	all(.[]; .haproxy.address == .address and .haproxy.port == .port and
	    .haproxy.admin_state == "ready" and (.name | test("^127\\.0\\.0\\.1:273[0-9][0-9](-[0-9]+)?$")))' \
	"$PM_TMP/servers.json" >/dev/null || pm_fail "proxymgrctl servers web: $(cat "$PM_TMP/servers.json")"
jq -e 'all(.servers[]; .haproxy.address == .address and .haproxy.port == .port) and
	any(.servers[]; .name != "\(.address):\(.port)")' \
	"$PM_TMP/servers.json" >/dev/null || pm_fail "no slot serves another address than its name's: $(cat "$PM_TMP/servers.json")"
"$PROXYMGRCTL" -c "$PM_TMP/proxymgr.yml" servers web | grep -qE '^NAME +ADDRESS +PORT' ||
	pm_fail "proxymgrctl servers web: no table"
pm_pass "proxymgrctl servers: each address served, beside its slot's name, HAProxy agreeing"

# ---- a reload keeps the slots ------------------------------------------------

slots_of() { awk '$2 == "web" && $1 ~ /^[0-9]+$/ {print $3, $4, $5, $19, $7 % 2}' | sort; }
before=$(slots_of <<<"$state")
pm_wait_for grep -qE "^    server 127\.0\.0\.1:[0-9-]+ 127\.0\.0\.1:${active[-1]} id [0-9]+ check inter 1000$" "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "haproxy.cfg lacks the slot serving ${active[-1]}: $(grep server "$PM_TMP/run/haproxy.cfg")"
kill -HUP "$PM_PID"
pm_wait_reloads $((reloads + 1)) || pm_fail "SIGHUP: no reload"
pm_wait_idle
new_pid=$(pm_hap_pid)
[[ $new_pid != "$pid" ]] || pm_fail "SIGHUP: the same HAProxy serves"
after=$(pm_stats "show servers state web" | slots_of)
pm_assert_eq "$before" "$after" "a reload keeps each slot's id, name, address and maint flag"
pm_expect_bodies "$url" "$(names "${active[@]}")"
pm_pass "after the reload, traffic reaches the same servers"

# And the churn goes on at runtime in the new HAProxy.
reloads=$(pm_reload_count)
for ((c = 1; c <= 10; c++)); do
	active=("${active[@]:1}" "$next")
	hosts "${active[@]}"
	pm_wait_for serving "$next" || pm_fail "after the reload, change $c: 127.0.0.1:$next not served"
	next=$((next == 27300 + NB ? 27301 : next + 1))
done
pm_wait_idle
pm_assert_eq "$reloads" "$(pm_reload_count)" "after the reload, 10 more new ports: no reload"
pm_expect_bodies "$url" "$(names "${active[@]}")"

# ---- an upgrade after slots moved ------------------------------------------------

# The new proxymgrd names every slot after its address again: what it
# builds is not what runs, so an ordinary reload follows, and the lines of
# the state file whose slot now names another address are left out.
reloads=$(pm_reload_count)
kill -USR2 "$PM_PID"
pm_wait_for pm_log_has 'runs another configuration than the one built now: reloading it' ||
	pm_fail "SIGUSR2: the new proxymgrd did not reload the HAProxy whose slots moved"
pm_wait_reloads $((reloads + 1)) || pm_fail "SIGUSR2: no reload"
pm_wait_idle
pm_expect_bodies "$url" "$(names "${active[@]}")"
for p in "${active[@]}"; do
	pm_stats "show servers state web" |
		awk -v p="$p" '$4 == "127.0.0.1:" p && $5 == "127.0.0.1" && $19 == p && $7 % 2 == 0 {f = 1} END {exit !f}' ||
		pm_fail "after the upgrade, 127.0.0.1:$p is not served by a slot of its name: $(pm_stats "show servers state web")"
done
pm_pass "an upgrade (SIGUSR2) after slots moved: one reload, each address in a slot of its name, traffic follows"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
