#!/usr/bin/env bash
# The dns watcher against a real dnsmasq on 127.0.0.1:19753 and [::1]:19753
# (no upstream, no system resolver): A, AAAA and SRV records become servers,
# a record change is seen at the pace of its 1 s TTL (interval 30), a 0 s TTL
# is not re-asked more than once a second, and neither an outage, an
# NXDOMAIN, a name that never resolves nor a timeout empties a service.
# /etc/hosts is never read.
# Ports 19700-19719 (HTTP), 19753 (DNS, UDP: dnsmasq, later a socat sink).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
[[ -x $DNSMASQ ]] || pm_fail "dnsmasq not found (scripts/install-deps)"
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"
T0=$(pm__now_ms)
LOG=$PM_TMP/proxymgrd.log
CFG=$PM_TMP/run/haproxy.cfg

# ---- dnsmasq ------------------------------------------------------------------

# Records: the hosts file in $PM_TMP/dnshosts (re-read by dnsmasq through
# inotify on every change), SRV records on dnsmasq's command line. Every
# local answer has TTL 1 (--local-ttl), zero.internal TTL 0; names under
# .internal that are not in the file get NXDOMAIN (--local), not REFUSED.
mkdir -p "$PM_TMP/dnshosts"
dns_hosts() { # stdin -> the hosts file, atomically (temp file outside the dir)
	cat >"$PM_TMP/dnshosts.tmp" && mv -f -- "$PM_TMP/dnshosts.tmp" "$PM_TMP/dnshosts/hosts"
}
DNS_PID=
dns_ready() {
	pm__alive "$DNS_PID" || return 1
	grep -qE "^dnsmasq\[$DNS_PID\]: read .*/dnshosts/hosts" "$PM_TMP/dnsmasq.log"
}
dns_start() { # dns_start SRV_HOST_SPEC...
	local s
	local -a srv=()
	for s in "$@"; do
		srv+=("--srv-host=$s")
	done
	"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --port=19753 \
		--listen-address=127.0.0.1,::1 --bind-interfaces --no-resolv --no-hosts \
		--no-poll --user=root --pid-file= --log-facility=- --log-queries \
		--local-ttl=1 --local=/internal/ --hostsdir="$PM_TMP/dnshosts" \
		--host-record=zero.internal,127.0.0.10,0 "${srv[@]}" \
		</dev/null >>"$PM_TMP/dnsmasq.log" 2>&1 &
	DNS_PID=$!
	pm_track "$DNS_PID"
	pm_wait_for dns_ready || pm_fail "dnsmasq did not start on port 19753"
}
dns_stop() { # SIGKILL: the port is free the moment `wait` returns
	kill -KILL "$DNS_PID" 2>/dev/null || true
	wait "$DNS_PID" 2>/dev/null || true
}
dns_queries() { # dns_queries TYPE NAME: queries the running dnsmasq logged
	grep -cE "^dnsmasq\[$DNS_PID\]: query\[$1\] ${2//./\\.} from" "$PM_TMP/dnsmasq.log" || true
}

# ---- proxymgrd's log and haproxy.cfg ----------------------------------------------

log_mark() { stat -c %s -- "$LOG"; }
# log_since OFFSET NAME TEXT: a line of the log after byte OFFSET names the
# DNS name NAME (as a whole name, not a suffix of another) and has TEXT.
log_since() {
	local re="(^|[^._[:alnum:]-])${2//./\\.}\.?([^._[:alnum:]-]|$)"
	tail -c +$(($1 + 1)) -- "$LOG" | grep -F -- "$3" | grep -E -- "$re" >/dev/null
}
log_count_since() { # like log_since, but how many such lines
	local re="(^|[^._[:alnum:]-])${2//./\\.}\.?([^._[:alnum:]-]|$)"
	tail -c +$(($1 + 1)) -- "$LOG" | grep -F -- "$3" | grep -cE -- "$re" || true
}
logged_all_since() { # OFFSET TEXT NAME...
	local off=$1 text=$2 n
	shift 2
	for n; do
		log_since "$off" "$n" "$text" || return 1
	done
}
missing_since() { # OFFSET TEXT NAME...: the names not logged with TEXT
	local off=$1 text=$2 n out=""
	shift 2
	for n; do
		log_since "$off" "$n" "$text" || out+=" $n"
	done
	echo "${out# }"
}
KEEP="keeping its last known addresses"
NEVER="has never resolved"

# servers SERVICE: the server lines of one listen section (trimmed),
# without their "id N"; retired ones ("disabled") left out.
servers() {
	awk -v s="listen $1" '
		/^[^ \t]/ { in_s = ($0 == s) }
		in_s && $1 == "server" && $NF != "disabled" {
			sub(/^[ \t]+/, ""); sub(/ id [0-9]+/, ""); print }' "$CFG"
}
# has_server SERVICE ERE: a line "server ERE" (anchored) in SERVICE.
# (No grep -q at the end of a pipe: under pipefail, the writer's SIGPIPE
# would fail the pipe when the match comes early.)
has_server() {
	servers "$1" | grep -E -- "^server $2\$" >/dev/null
}

# ---- backends and services ------------------------------------------------------

start() { pm_start_httpd "$1" "$2" "$3" >/dev/null || pm_fail "backend $1 on $3 port $2"; }
start a2 19711 127.0.0.2
start a3 19711 127.0.0.3
start a4 19711 127.0.0.4
start v6 19712 ::1
start s1 19713 127.0.0.5
start s2 19714 127.0.0.6
start s3 19716 127.0.0.9
start m1 19715 127.0.0.7
start m1b 19715 127.0.0.12
start m2 19715 127.0.0.8
start z 19717 127.0.0.10

hosts_v1=$'127.0.0.2 web.internal\n127.0.0.3 web.internal\n::1 six.internal
127.0.0.5 t1.internal\n127.0.0.6 t2.internal\n127.0.0.9 t3.internal
127.0.0.7 m1.internal\n127.0.0.8 m2.internal\n'
printf '%s' "$hosts_v1" | dns_hosts
# _part has one target that resolves and one that never does.
part_srv=(_part._tcp.web.internal,t1.internal,19713,0,10
	_part._tcp.web.internal,dead.internal,19713,0,10)
dns_start _http._tcp.web.internal,t1.internal,19713,0,10 \
	_http._tcp.web.internal,t2.internal,19714,0,20 "${part_srv[@]}"

S=$PM_TMP/services
ns='"nameserver": "127.0.0.1:19753"'
cat >"$S/web.json" <<JSON
{"type": "dns", "port": 19700, $ns, "interval": 30,
 "backends": [{"name": "web.internal", "port": 19711}]}
JSON
cat >"$S/six.json" <<JSON
{"type": "dns", "port": 19701, "nameserver": "[::1]:19753", "interval": 30,
 "backends": [{"name": "six.internal", "port": 19712}]}
JSON
cat >"$S/srv.json" <<JSON
{"type": "dns", "port": 19702, $ns, "interval": 2,
 "backends": [{"srv": "_http._tcp.web.internal"}]}
JSON
cat >"$S/part.json" <<JSON
{"type": "dns", "port": 19706, $ns, "interval": 2,
 "backends": [{"srv": "_part._tcp.web.internal"}]}
JSON
cat >"$S/multi.json" <<JSON
{"type": "dns", "port": 19703, $ns, "interval": 2,
 "backends": [{"name": "m1.internal", "port": 19715},
              {"name": "m2.internal", "port": 19715},
              {"name": "never.internal", "port": 19715}]}
JSON
cat >"$S/zero.json" <<JSON
{"type": "dns", "port": 19704, $ns, "interval": 30,
 "backends": [{"name": "zero.internal", "port": 19717}]}
JSON
# A name that only /etc/hosts knows (dnsmasq refuses it: no upstream).
etc_name=$(awk '!/^[ \t]*#/ { for (i = 2; i <= NF; i++) print $i }' /etc/hosts 2>/dev/null |
	grep -E '^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$' | grep -vE '^[0-9.]+$' |
	grep -viE '^(localhost|ip6-|.*\.internal$)' | head -n 1 || true)
if [[ -n $etc_name ]]; then
	cat >"$S/etchosts.json" <<JSON
{"type": "dns", "port": 19705, $ns, "interval": 30,
 "backends": [{"name": "$etc_name", "port": 19718}]}
JSON
fi

U=http://127.0.0.1
pm_start_proxymgrd

# ---- A, AAAA, SRV, several names ------------------------------------------------

pm_expect_bodies "$U:19706/" "s1"
pm_wait_for pm_log_has "_part._tcp.web.internal: some SRV targets did not resolve" ||
	pm_fail "an SRV target that does not resolve is not reported"
pm_pass "an SRV record with one dead target serves its live one, and says so"

pm_expect_bodies "$U:19700/" "a2 a3"
{ has_server web '127\.0\.0\.2:19711 127\.0\.0\.2:19711' &&
	has_server web '127\.0\.0\.3:19711 127\.0\.0\.3:19711'; } ||
	pm_fail "web: server lines not as expected: $(servers web | tr '\n' ';')"
pm_pass "A records: both addresses of web.internal are servers ADDR_PORT and take traffic"

pm_expect_bodies "$U:19701/" "v6"
has_server six '::1:19712 \[::1\]:19712' ||
	pm_fail "six: expected 'server ::1:19712 [::1]:19712', got: $(servers six | tr '\n' ';')"
pm_pass "AAAA record (nameserver [::1]:19753): server ::1:19712 [::1]:19712 takes traffic"

pm_expect_bodies "$U:19702/" "s1 s2"
{ has_server srv '127\.0\.0\.5:19713 127\.0\.0\.5:19713( .*)? weight 10( .*)?' &&
	has_server srv '127\.0\.0\.6:19714 127\.0\.0\.6:19714( .*)? weight 20( .*)?'; } ||
	pm_fail "srv: expected weight 10 and 20 servers, got: $(servers srv | tr '\n' ';')"
[[ $(servers srv | wc -l) == 2 ]] || pm_fail "srv: not exactly 2 servers: $(servers srv | tr '\n' ';')"
pm_pass "SRV record: both targets with their SRV port and 'weight N' take traffic"

pm_expect_bodies "$U:19703/" "m1 m2"
pm_wait_for logged_all_since 0 "$NEVER" never.internal ||
	pm_fail "no '$NEVER' line naming never.internal"
pm_pass "several names in one service all serve; the one that never resolved is logged"

pm_expect_bodies "$U:19704/" "z"
if [[ -n $etc_name ]]; then
	pm_wait_for logged_all_since 0 "$NEVER" "$etc_name" ||
		pm_fail "'$etc_name' (only in /etc/hosts): no '$NEVER' line"
	[[ -z $(servers etchosts) ]] ||
		pm_fail "'$etc_name' resolved from /etc/hosts: $(servers etchosts | tr '\n' ';')"
	pm_pass "a name only /etc/hosts knows ($etc_name) is not resolved from it"
else
	pm_pass "(skipped: /etc/hosts has no name to try) /etc/hosts is not read"
fi

# ---- a record change, seen at the TTL's pace (interval 30) ------------------------

t=$(pm__now_ms)
printf '%s' "${hosts_v1/127.0.0.2 web.internal/127.0.0.4 web.internal}" | dns_hosts
# (20 s: well under the 30 s interval, whatever the machine's pace)
PM_WAIT_TIMEOUT=20 pm_expect_bodies "$U:19700/" "a3 a4"
# (haproxy.cfg follows runtime changes within tens of milliseconds)
web_2_gone() { ! has_server web '127\.0\.0\.2:19711 .*'; }
pm_wait_for web_2_gone || pm_fail "web: 127.0.0.2 still a server"
pm_pass "changed A records live in $(($(pm__now_ms) - t)) ms (TTL 1 s, interval 30 s)"

# zero.internal has TTL 0: asked again about once a second, never more.
# It must be asked again (3 more queries, waited for), and over a window
# of 4 s at least, measured, at most once a second plus two.
n0=$(dns_queries A zero.internal)
t=$(pm__now_ms)
asked_3_more() { (($(dns_queries A zero.internal) >= n0 + 3)); }
pm_wait_for asked_3_more || pm_fail "zero.internal (TTL 0) is not asked again"
left=$((t + 4000 - $(pm__now_ms)))
((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
n=$(($(dns_queries A zero.internal) - n0))
e=$(($(pm__now_ms) - t))
((n <= e / 1000 + 2)) || pm_fail "zero.internal (TTL 0) was asked $n times in $e ms (at most $((e / 1000 + 2)))"
pm_pass "a 0 s TTL is re-asked $n times in $e ms: no faster than once a second"

# ---- dnsmasq stops: every name keeps its addresses ----------------------------------

web_now="a3 a4"	# web's backends at this point of the test
serving() { # the expected backends of every service, now
	[[ $(pm_bodies "$U:19700/" 20) == "$web_now" ]] || { echo "web: $(pm_bodies "$U:19700/" 20)"; return 1; }
	[[ $(pm_bodies "$U:19701/" 10) == "v6" ]] || { echo "six: $(pm_bodies "$U:19701/" 10)"; return 1; }
	[[ $(pm_bodies "$U:19702/" 20) == "$1" ]] || { echo "srv: $(pm_bodies "$U:19702/" 20)"; return 1; }
	[[ $(pm_bodies "$U:19703/" 20) == "$2" ]] || { echo "multi: $(pm_bodies "$U:19703/" 20)"; return 1; }
}
cfg_servers() { grep -E '^[[:space:]]*server ' "$CFG"; }

pm_wait_idle
mark=$(log_mark)
reloads=$(pm_reload_count)
cfg_before=$(cfg_servers)
t=$(pm__now_ms)
dns_stop
names=(web.internal six.internal _http._tcp.web.internal m1.internal m2.internal zero.internal)
pm_wait_for logged_all_since "$mark" "$KEEP" "${names[@]}" ||
	pm_fail "dnsmasq down: no '$KEEP' line for: $(missing_since "$mark" "$KEEP" "${names[@]}")"
while (($(pm__now_ms) - t < 6000)); do
	why=$(serving "s1 s2" "m1 m2") || pm_fail "dnsmasq down $(($(pm__now_ms) - t)) ms: $why"
	sleep 0.3
done
pm_assert_eq "$reloads" "$(pm_reload_count)" "dnsmasq down 6 s: no reload"
[[ $(cfg_servers) == "$cfg_before" ]] || pm_fail "dnsmasq down: haproxy.cfg servers changed"
for n in m1.internal _http._tcp.web.internal; do
	c=$(log_count_since "$mark" "$n" "$KEEP")
	((c == 1)) || pm_fail "dnsmasq down 6 s (interval 2): '$KEEP' logged $c times for $n"
done
pm_pass "dnsmasq down 6 s: every name keeps its servers, traffic flows, failure logged once"

# ---- dnsmasq back with changed records ----------------------------------------------

# m1.internal gains an address; the SRV record loses t1, t2 gets weight 0
# (HAProxy weight 1) and t3 (port 19716, weight 3) comes.
# web.internal goes back to .2 and .3 (hosts_v2 is built from hosts_v1).
hosts_v2=${hosts_v1/127.0.0.7 m1.internal/127.0.0.7 m1.internal$'\n'127.0.0.12 m1.internal}
printf '%s' "$hosts_v2" | dns_hosts
t_back=$(pm__now_ms)
dns_start _http._tcp.web.internal,t2.internal,19714,0,0 \
	_http._tcp.web.internal,t3.internal,19716,0,3 "${part_srv[@]}"
pm_expect_bodies "$U:19702/" "s2 s3"
pm_expect_bodies "$U:19703/" "m1 m1b m2"
srv_back() { has_server srv '127\.0\.0\.6:19714 127\.0\.0\.6:19714( .*)? weight 1( .*)?' &&
	has_server srv '127\.0\.0\.9:19716 127\.0\.0\.9:19716( .*)? weight 3( .*)?'; }
pm_wait_for srv_back ||
	pm_fail "srv after restart: expected weight 1 and 3 servers, got: $(servers srv | tr '\n' ';')"
[[ $(servers srv | wc -l) == 2 ]] || pm_fail "srv: t1 not removed: $(servers srv | tr '\n' ';')"
pm_pass "dnsmasq back with changed A and SRV records: servers and weights follow"
# After failed rounds a name is retried with backoff (1 s doubling, up to
# its interval), not only after the interval: web (interval 30, outage
# of about 7 s) follows within a dozen seconds.
# (its backoff never exceeds the 30 s interval)
PM_WAIT_TIMEOUT=45 pm_expect_bodies "$U:19700/" "a2 a3"
web_now="a2 a3"
pm_pass "web (interval 30) follows its records $(($(pm__now_ms) - t_back)) ms after DNS returns"

# ---- NXDOMAIN for a name that resolved before ---------------------------------------

pm_wait_idle # the changes above are all live
mark=$(log_mark)
reloads=$(pm_reload_count)
dq=$(grep -c . "$PM_TMP/dnsmasq.log")
printf '%s' "${hosts_v2/127.0.0.8 m2.internal$'\n'/}" | dns_hosts
pm_wait_for logged_all_since "$mark" "$KEEP" m2.internal ||
	pm_fail "m2.internal gone from DNS: no '$KEEP' line"
tail -n +"$((dq + 1))" "$PM_TMP/dnsmasq.log" | grep 'm2\.internal is NXDOMAIN' >/dev/null ||
	pm_fail "fixture: dnsmasq did not answer NXDOMAIN for m2.internal"
t=$(pm__now_ms)
while (($(pm__now_ms) - t < 2500)); do # a few more rounds (interval 2, TTL 1)
	why=$(serving "s2 s3" "m1 m1b m2") || pm_fail "m2.internal NXDOMAIN: $why"
	sleep 0.3
done
pm_assert_eq "$reloads" "$(pm_reload_count)" "NXDOMAIN for m2.internal: no reload"
pm_pass "NXDOMAIN for a name that resolved before: it keeps its server, logged"

# ---- timeouts: a sink that never answers on 127.0.0.1:19753 -------------------------

# m1.internal and the SRV name resolved since their last failure, so a new
# failure is logged. The sink takes the port the moment dnsmasq is gone.
mark=$(log_mark)
reloads=$(pm_reload_count)
dns_stop
socat -u UDP4-RECV:19753,bind=127.0.0.1 "OPEN:$PM_TMP/sink.bin,creat,append" \
	</dev/null >>"$PM_TMP/socat.log" 2>&1 &
pm_track "$!"
t=$(pm__now_ms)
pm_wait_for logged_all_since "$mark" "$KEEP" m1.internal _http._tcp.web.internal ||
	pm_fail "DNS timeouts: no '$KEEP' line for: $(missing_since "$mark" "$KEEP" m1.internal _http._tcp.web.internal)"
# On a busy machine the first failure may come before the sink is bound
# (a refused query): the retry after it reaches the sink.
sink_got_query() { [[ -s $PM_TMP/sink.bin ]]; }
pm_wait_for sink_got_query || pm_fail "fixture: the sink received no query"
why=$(serving "s2 s3" "m1 m1b m2") || pm_fail "DNS timeouts: $why"
pm_assert_eq "$reloads" "$(pm_reload_count)" "DNS timeouts: no reload"
pm_pass "DNS timeouts (logged after $(($(pm__now_ms) - t)) ms): nothing emptied, traffic flows"

# ---- stop --------------------------------------------------------------------

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 on SIGTERM"
left=$(pm_hap_pids_for "$CFG" | tr '\n' ' ' || true)
[[ -z $left ]] || pm_fail "HAProxy left running after SIGTERM: $left"
pm_pass "dns test done in $(($(pm__now_ms) - T0)) ms"
