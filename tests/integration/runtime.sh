#!/usr/bin/env bash
# Server changes without a reload, against a real HAProxy: servers leave,
# return and are added over the runtime API while the same HAProxy pid
# serves and traffic follows; what HAProxy cannot do at runtime reloads
# (balance source, a new service, a refused command); health-check state
# and an operator's maint survive a reload; 1,000 membership changes cause
# no reload and leave HAProxy exactly as proxymgrd believes it is.
# Ports 19800-19839.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
PM_HAPROXY_EXTRA='  runtime_timeout_ms: 500' pm_write_pmconfig

for i in 1 2 3 4; do
	pm_start_httpd "b$i" "1981$i" >/dev/null || pm_fail "backend b$i"
done
hosts() { # hosts NAME PORT...: the host file of NAME lists these ports
	local name=$1 p
	shift
	for p in "$@"; do echo "127.0.0.1:$p"; done | pm_write_atomic "$PM_TMP/$name.hosts"
}
service() { # service NAME PORT LISTEN_OPTIONS_JSON SERVER_OPTIONS_JSON
	cat >"$PM_TMP/services/.$1.tmp" <<JSON
{"type": "file", "file": "$PM_TMP/$1.hosts", "port": $2,
 "listen_options": $3, "server_options": $4}
JSON
	mv "$PM_TMP/services/.$1.tmp" "$PM_TMP/services/$1.json"
}
hosts rr 19811 19812
hosts src 19811
service rr 19800 '["balance roundrobin"]' '["check inter 1000"]'
service src 19801 '["balance source"]' '[]'
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:19800/ "b1 b2"
pm_expect_bodies http://127.0.0.1:19801/ "b1"

rr=http://127.0.0.1:19800/
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
same_pid() { pm_assert_eq "$pid" "$(pm_hap_pid)" "$1: HAProxy pid unchanged"; }

# ---- roundrobin: leave, return, add, all at runtime ----------------------------

hosts rr 19811
pm_expect_bodies "$rr" "b1"
same_pid "server removed"
# (haproxy.cfg follows runtime changes within tens of milliseconds)
pm_wait_for grep -qE 'server 127\.0\.0\.1:19812 127\.0\.0\.1:19812 id 2 .*disabled$' "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "the removed server is not kept as disabled in haproxy.cfg"
pm_stats "show servers state rr" | awk '$4 == "127.0.0.1:19812" && $7 % 2 == 1 {f = 1} END {exit !f}' ||
	pm_fail "HAProxy does not have the removed server in maint"
pm_pass "a server leaves: maint in HAProxy, 'disabled' in haproxy.cfg"

hosts rr 19811 19812
pm_expect_bodies "$rr" "b1 b2"
same_pid "server returned"
pm_pass "a server returns: ready again, traffic follows"

hosts rr 19811 19812 19813
pm_expect_bodies "$rr" "b1 b2 b3"
same_pid "server added"
pm_wait_for grep -qE 'server 127\.0\.0\.1:19813 127\.0\.0\.1:19813 id 3 check inter 1000$' "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "the added server is not in haproxy.cfg with id 3"
pm_stats "show servers state rr" | awk '$4 == "127.0.0.1:19813" && $3 == 3 {f = 1} END {exit !f}' ||
	pm_fail "HAProxy's dynamic server has not id 3"
pm_assert_eq "$reloads" "$(pm_reload_count)" "leave, return, add: no reload"
pm_log_has 'runtime: [0-9]+ commands in [0-9.]+ ms, live [0-9.]+ ms after the change \(planned in [0-9.]+ ms\), servers added 1' ||
	pm_fail "no log line for the runtime add"

# ---- what must reload -------------------------------------------------------------

hosts src 19811 19812
pm_wait_reloads $((reloads + 1)) || pm_fail "balance source: no reload for a new server"
pm_log_has 'reload [0-9]+: service src: new server 127\.0\.0\.1:19812, .*\[not-dynamic\]' ||
	pm_fail "balance source: the reload does not say why"
pm_wait_for grep -q 'server 127.0.0.1:19812 127.0.0.1:19812 id 2$' "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "balance source: new server not in haproxy.cfg"
new_pid() { local p; p=$(pm_hap_pid) && [[ -n $p && $p != "$pid" ]]; }
pm_wait_for new_pid || pm_fail "balance source: HAProxy pid did not change"
pm_pass "balance source: a new server reloads, with the reason logged"
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
pm_expect_bodies "$rr" "b1 b2 b3"

hosts src 19812
pm_wait_for pm_log_has 'runtime: .*retired 1, returned 0, no reload \(service src: servers changed \(2 -> 1\)\)' ||
	pm_fail "balance source: the server that left was not retired at runtime"
pm_wait_idle
pm_assert_eq "$reloads" "$(pm_reload_count)" "balance source: a server that leaves needs no reload"
same_pid "balance source, server removed"

# The retired server comes back along with a new one: a reload. The new
# HAProxy must run it (not restore its maint's stopped state from the
# state file: without checks nothing would ever bring it up).
hosts src 19811 19812 19813
pm_wait_reloads $((reloads + 1)) || pm_fail "balance source: no reload for a new server"
up_19811() { pm_stats "show servers state src" | awk '$4 == "127.0.0.1:19811" && $6 == 2 && $7 % 2 == 0 {f = 1} END {exit !f}'; }
pm_wait_for up_19811 || pm_fail "a server that returns with a reload is not running: $(pm_stats "show servers state src" | grep 19811)"
pm_pass "a retired server that returns with a reload runs in the new HAProxy"

# Reloads coalesce. Each edit adds a new server to the balance source
# backend (127.0.0.10-29, nothing listens), so each needs a reload.
# First, 20 edits that proxymgrd sees at once (it is stopped while they
# are written): one reload.
src_edit() { # src_edit I: the host file gains 127.0.0.I:19831
	burst+=("127.0.0.$1:19831")
	printf '%s\n' "${burst[@]}" | pm_write_atomic "$PM_TMP/src.hosts"
}
has_server() { grep -q "server 127.0.0.$1:19831 " "$PM_TMP/run/haproxy.cfg"; }
reloads=$(pm_reload_count)
burst=(127.0.0.1:19811 127.0.0.1:19812 127.0.0.1:19813)
kill -STOP "$PM_PID"
for i in $(seq 10 29); do
	src_edit "$i"
done
kill -CONT "$PM_PID"
pm_wait_for has_server 29 || pm_fail "the burst's last server never reached haproxy.cfg"
pm_wait_idle
pm_assert_eq 1 $(($(pm_reload_count) - reloads)) "20 edits seen at once are one reload"

# Then 20 edits that proxymgrd sees one by one (each waits for its read
# to be logged): the reloads are bounded by the time proxymgrd saw them
# over, by its own clock: one every min_interval_ms (100) at most, with
# 10% jitter, plus the first after debounce_ms (10).
reloads=$(pm_reload_count)
mark=$(($(wc -l <"$PM_TMP/proxymgrd.log") + 1))
for i in $(seq 30 49); do
	reads=$(pm_log_count 'service src: [0-9]+ servers in ')
	src_edit "$i"
	PM_WAIT_POLL=0.01 pm_wait_log_count 'service src: [0-9]+ servers in ' $((reads + 1)) ||
		pm_fail "edit $i: proxymgrd did not read the host file"
done
pm_wait_for has_server 49 || pm_fail "the paced edits' last server never reached haproxy.cfg"
pm_wait_idle
seen_ms=$(tail -n +"$mark" "$PM_TMP/proxymgrd.log" | awk '
	/ service src: [0-9]+ servers in / {
		split(substr($1, 12, 12), t, ":"); ms = t[1] * 3600000 + t[2] * 60000 + t[3] * 1000
		if (first == "") first = ms; last = ms }
	END { if (last < first) last += 86400000; printf "%d\n", last - first }')
n=$(($(pm_reload_count) - reloads))
max=$(((seen_ms + 120) / 100 + 1))
((n >= 1 && n <= max)) || pm_fail "20 edits seen over ${seen_ms} ms gave $n reloads (expected 1 to $max)"
pm_pass "20 edits that each need a reload, seen over ${seen_ms} ms: $n reloads (at most $max)"

# Back to the three real servers: 40 retired at once, more than
# max_disabled_servers (16): a reload, which keeps the 8 latest.
reloads=$(pm_reload_count)
hosts src 19811 19812 19813
pm_wait_reloads $((reloads + 1)) || pm_fail "past max_disabled_servers: no reload"
pm_log_has 'reload [0-9]+: service src: [0-9]+ retired servers, more than haproxy.max_disabled_servers \(16\) \[retired-bound\]' ||
	pm_fail "past max_disabled_servers: the reload does not say why"
n=$(awk '/^listen src/ {s = 1; next} /^[^ ]/ {s = 0} s && /disabled$/ {n++} END {print n + 0}' "$PM_TMP/run/haproxy.cfg")
pm_assert_eq 8 "$n" "past max_disabled_servers, a reload keeps max_disabled_servers/2 retired servers"
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)

hosts hc 19813 19819 # 19819: nothing listens
service hc 19802 '["balance roundrobin"]' '["check inter 300 fall 1 rise 1"]'
pm_wait_reloads $((reloads + 1)) || pm_fail "new service: no reload"
pm_log_has 'reload [0-9]+: service hc added \[services\]' || pm_fail "new service: reason not logged"
pm_expect_bodies http://127.0.0.1:19802/ "b3"
pm_pass "a new service reloads"

# ---- state survives a reload ------------------------------------------------------

# 127.0.0.1:19819 is down by its checks; 127.0.0.1:19813 is put into maint
# by an operator. After a reload (the new service "hc2") the new HAProxy
# has both at once, and the dead one's last change is not reset.
down_19819() { pm_stats "show servers state hc" | awk '$4 == "127.0.0.1:19819" && $6 == 0 {f = 1} END {exit !f}'; }
pm_wait_for down_19819 || pm_fail "the dead server never went down"
pm_stats "set server hc/127.0.0.1:19813 state maint" >/dev/null
pm_stats "show servers state hc" | awk '$4 == "127.0.0.1:19813" && $7 == 1 {f = 1} END {exit !f}' ||
	pm_fail "operator maint not set"
# HAProxy's own count of seconds since the last change (field 10).
down_2s() { pm_stats "show servers state hc" | awk '$4 == "127.0.0.1:19819" && $6 == 0 && $10 >= 2 {f = 1} END {exit !f}'; }
pm_wait_for down_2s || pm_fail "the dead server is not down for 2 s in HAProxy's view"
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
hosts hc2 19814
service hc2 19803 '[]' '[]'
pm_wait_reloads $((reloads + 1)) || pm_fail "hc2: no reload"
pm_wait_for new_pid || pm_fail "hc2: HAProxy pid did not change"
state=$(pm_stats "show servers state hc")
awk '$4 == "127.0.0.1:19819" && $6 == 0 && $10 >= 2 {f = 1} END {exit !f}' <<<"$state" ||
	pm_fail "health state not carried over: $(grep 19819 <<<"$state")"
awk '$4 == "127.0.0.1:19813" && $7 % 2 == 1 {f = 1} END {exit !f}' <<<"$state" ||
	pm_fail "operator maint not carried over: $(grep 19813 <<<"$state")"
codes=$(for i in 1 2 3 4 5 6; do pm_curl_body http://127.0.0.1:19802/ -o /dev/null -w '%{http_code} '; done)
[[ $codes == "503 503 503 503 503 503 " ]] ||
	pm_fail "hc: a server in maint or down takes traffic (HTTP codes: $codes)"
pm_pass "health-check state (down for 2+ s) and an operator's maint survive a reload"
pm_stats "set server hc/127.0.0.1:19813 state ready" >/dev/null
pm_expect_bodies http://127.0.0.1:19802/ "b3"

# ---- a refused command reloads, with the right config -----------------------------

# 2.6.12 refuses 'non-stick' on a dynamic server (the planner screens the
# refusals it knows, such as 'cookie': this one it lets through on purpose,
# as it would one it does not know).
hosts ck 19811
service ck 19804 '["balance roundrobin"]' '["non-stick"]'
pm_expect_bodies http://127.0.0.1:19804/ "b1"
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
hosts ck 19811 19812
pm_wait_reloads $((reloads + 1)) || pm_fail "refused command: no reload"
pm_log_has "runtime: 'add server ck/127\.0\.0\.1:19812 127\.0\.0\.1:19812 id 2 non-stick' got ''non-stick' option is not accepted" ||
	pm_fail "refused command: the refusal is not logged"
pm_log_has 'reload [0-9]+: runtime command failed: .* \[refused\]' ||
	pm_fail "refused command: the reload does not say why"
grep -q 'server 127.0.0.1:19812 127.0.0.1:19812 id 2 non-stick$' "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "refused command: the reload's haproxy.cfg lacks the server"
pm_expect_bodies http://127.0.0.1:19804/ "b1 b2"
pm_pass "a refused runtime command turns into a reload that serves the change"

# ---- 1,000 membership changes, zero reloads ---------------------------------------

# Two services, each with a pool of 8 servers (127.0.0.1-8, nothing
# listening, no checks); 125 rounds flip 4 servers of each, one host-file
# write per service and round: 1,000 server membership changes in all.
# Each write waits for the runtime batch it causes, so that every change
# reaches HAProxy on its own whatever the machine's pace. Then both are
# set to real backends: what HAProxy reports must be exactly that.
hosts m1 19811
hosts m2 19812
service m1 19805 '["balance roundrobin"]' '[]'
service m2 19806 '["balance leastconn"]' '[]'
pm_expect_bodies http://127.0.0.1:19805/ "b1"
pm_expect_bodies http://127.0.0.1:19806/ "b2"
pm_wait_idle
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
# membership_done: servers added + retired + returned so far (SIGUSR1).
membership_done() {
	local n
	n=$(pm_log_count 'counters: ')
	kill -USR1 "$PM_PID"
	pm_wait_log_count 'counters: ' $((n + 1)) || pm_fail "SIGUSR1: no counters line"
	grep -o 'servers added [0-9]*, retired [0-9]*, returned [0-9]*' "$PM_TMP/proxymgrd.log" |
		tail -n 1 | awk '{print $3 + $5 + $7}' | tr -d ,
}
declare -A in1=() in2=()
changes=0
RANDOM=7
write_pool() { # write_pool SERVICE ASSOC_NAME REAL_PORT: and wait for its batch
	local -n set=$2
	local batches
	batches=$(pm_log_count " runtime: [0-9]+ commands in .*service $1: ")
	{
		echo "127.0.0.1:$3"
		for k in "${!set[@]}"; do echo "127.0.0.$k:19830"; done
	} | pm_write_atomic "$PM_TMP/$1.hosts"
	PM_WAIT_POLL=0.01 pm_wait_log_count " runtime: [0-9]+ commands in .*service $1: " $((batches + 1)) ||
		pm_fail "$1: no runtime batch for round $round"
}
done0=$(membership_done)
t0=$(pm__now_ms)
for ((round = 0; round < 125; round++)); do
	for set in in1 in2; do
		declare -n s=$set
		a=$((RANDOM % 8))
		for d in 0 1 3 5; do
			k=$(((a + d) % 8 + 1))
			if [[ -n ${s[$k]:-} ]]; then unset "s[$k]"; else s[$k]=1; fi
			changes=$((changes + 1))
		done
		unset -n s
	done
	write_pool m1 in1 19811
	write_pool m2 in2 19812
done
t1=$(pm__now_ms)
applied=$(($(membership_done) - done0))
pm_assert_eq "$changes" "$applied" "every membership change reached HAProxy on its own"
in1=() in2=()
write_pool m1 in1 19813
write_pool m2 in2 19814
pm_expect_bodies http://127.0.0.1:19805/ "b3"
pm_expect_bodies http://127.0.0.1:19806/ "b4"
pm_assert_eq "$reloads" "$(pm_reload_count)" \
	"$changes membership changes in $((t1 - t0)) ms: no reload"
same_pid "$changes membership changes"
for svc in m1 m2; do
	# By address: a slot may serve another address than its name's.
	active=$(pm_stats "show servers state $svc" | awk '$1 ~ /^[0-9]+$/ && NF > 20 && $7 % 2 == 0 {print $5 ":" $19}' | sort | tr '\n' ' ')
	[[ $active == "127.0.0.1:1981"[34]" " ]] ||
		pm_fail "$svc: HAProxy's active servers are '$active'"
done
pm_pass "after the churn, HAProxy's active servers are exactly the wanted ones"

# ---- a HAProxy that does not answer reloads ------------------------------------

# SIGSTOP: the stats socket still accepts, nothing answers. The change
# must go live through a reload (the new HAProxy takes the socket and the
# held listeners); the stopped one drains once it runs again.
pid=$(pm_hap_pid)
reloads=$(pm_reload_count)
kill -STOP "$pid"
cont_old() { kill -CONT "$pid" 2>/dev/null || true; }
trap 'cont_old; pm__cleanup' EXIT
hosts m1 19813 19814
pm_wait_reloads $((reloads + 1)) || { cont_old; pm_fail "a HAProxy that does not answer: no reload"; }
pm_log_has 'runtime: no complete answer within the timeout .*reloading instead' ||
	{ cont_old; pm_fail "the runtime timeout is not logged"; }
pm_log_has 'reload [0-9]+: runtime command failed: .* \[no-answer\]' ||
	{ cont_old; pm_fail "the reload does not say why"; }
pm_expect_bodies http://127.0.0.1:19805/ "b3 b4"
cont_old
trap pm__cleanup EXIT
pm_pass "a HAProxy that does not answer on its socket: the change goes live by a reload"

kill -USR1 "$PM_PID"
pm_wait_for pm_log_has 'counters: runtime batches [1-9][0-9]*, commands [0-9]+, failed batches 1;' ||
	pm_fail "SIGUSR1: no counters line"
# At least the one no-answer above: on a busy machine HAProxy may miss
# the 500 ms bound once more, which is what the bound is for.
pm_log_has 'reloads [0-9]+ \(start 1, services [0-9]+, .*refused 1, no-answer [1-9][0-9]*,' ||
	pm_fail "SIGUSR1: reloads by reason not as expected: $(grep -o 'reloads [0-9]* ([^)]*)' "$PM_TMP/proxymgrd.log" | tail -n 1)"
pm_pass "SIGUSR1 logs the counters: $(grep -o 'counters: .*' "$PM_TMP/proxymgrd.log" | tail -n 1)"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
