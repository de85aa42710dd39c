#!/usr/bin/env bash
# Hostile service definitions against a real HAProxy 2.6 (issue 11,
# findings 5, 6 and 7), from a directory and from a real ZooKeeper. Each
# time the good services keep serving and proxymgrd stays up:
# - 5: a service whose options HAProxy echoes in its alerts ("proxy
#   'inno'", "[FILE:N]" of other services' lines) gets only itself
#   refused, in the same check as another service's new definition or
#   valid change; an escaped line break (a fake alert) is refused;
# - 6: HAProxy's environment is PATH, TZ and the named listeners, nothing
#   of proxymgrd's (a hand-written config's env() sees nothing else);
#   env() in a service's options is refused;
# - 7: "<<" or a trailing '\' in server_options (add server) is refused,
#   and the next runtime batch goes out at once, no stall, no reload.
# Ports 21400-21409 and 21420-21429 (services), 21411-21413 (HTTP),
# 21430 (named listener), 21481 (ZooKeeper).
set -euo pipefail
# The directory is polled every 2 s for a swap: room for a loaded machine.
: "${PM_WAIT_TIMEOUT:=30}"
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

CFG=$PM_TMP/run/haproxy.cfg
ZK=127.0.0.1:21481
# Nothing of this may reach HAProxy.
export PM_SECRET=hunter2

pm_start_httpd b1 21411 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 21412 >/dev/null || pm_fail "backend b2"
pm_start_httpd b3 21413 >/dev/null || pm_fail "backend b3"

# hr_env_names PID: the names in that process's environment, sorted.
hr_env_names() {
	tr '\0' '\n' <"/proc/$1/environ" | sed 's/=.*//' | sort | paste -sd ' '
}

# hr_new_log NAME: keep the log of the run before as NAME.log, start an
# empty one (it must exist before pm_reload_count reads it).
hr_new_log() {
	mv "$PM_TMP/proxymgrd.log" "$PM_TMP/$1.log"
	: >"$PM_TMP/proxymgrd.log"
}

# hr_refused SERVICE: proxymgrd traced HAProxy's refusal to SERVICE.
hr_refused() { pm_log_has "service $1: HAProxy refused its section"; }

# ---- the services directory, swapped whole through a symlink -------------------
# A swap is one scan: every change in it reaches the same haproxy -c.
mkdir -p "$PM_TMP/svc.1"
ln -s svc.1 "$PM_TMP/svc"
PM_SERVICE_CONFIG="service_config:
  type: file
  path: $PM_TMP/svc" PM_RELOAD_MIN_MS=50 pm_write_pmconfig
printf '127.0.0.1:21411\n' | pm_write_atomic "$PM_TMP/web.hosts"
cat >"$PM_TMP/svc.1/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 21400,
 "listen_options": ["balance roundrobin"], "server_options": ["check inter 500"]}
JSON
cat >"$PM_TMP/svc.1/api.json" <<'JSON'
{"type": "static", "port": 21401, "servers": [{"address": "127.0.0.1", "port": 21412}]}
JSON
svc_n=1
# hr_swap: the next directory (a copy of the current one, changed by the
# caller through $next) becomes the services directory in one rename.
hr_next() {
	next=$PM_TMP/svc.$((svc_n + 1))
	cp -r "$PM_TMP/svc.$svc_n" "$next"
}
hr_swap() {
	svc_n=$((svc_n + 1))
	ln -s "svc.$svc_n" "$PM_TMP/svc.link"
	mv -T "$PM_TMP/svc.link" "$PM_TMP/svc"
}
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:21400/ "b1"
pm_expect_bodies http://127.0.0.1:21401/ "b2"

# ---- 6. HAProxy's environment -----------------------------------------------
hap=$(pm_hap_pid)
[[ -n $hap ]] || pm_fail "no HAProxy pid"
names=$(hr_env_names "$hap")
[[ $names == PATH || $names == "PATH TZ" ]] ||
	pm_fail "HAProxy's environment holds more than PATH and TZ: $names"
tr '\0' '\n' <"/proc/$hap/environ" | grep -q hunter2 &&
	pm_fail "proxymgrd's environment reached HAProxy"
pm_pass "6: HAProxy's environment is $names, nothing of proxymgrd's (HOME, PM_SECRET)"

# ---- 5. another service's name in an alert ---------------------------------------
# The bad service's option makes HAProxy quote "proxy 'inno'"; inno is new
# and valid, in the same check.
hr_next
cat >"$next/inno.json" <<'JSON'
{"type": "static", "port": 21402, "servers": [{"address": "127.0.0.1", "port": 21413}]}
JSON
cat >"$next/bad.json" <<'JSON'
{"type": "static", "port": 21403, "servers": [{"address": "127.0.0.1", "port": 21413}],
 "listen_options": ["timeout proxy\\ \\'inno\\' 1s"]}
JSON
hr_swap
pm_wait_for pm_log_has "haproxy -c: .*got 'proxy 'inno''" ||
	pm_fail "HAProxy's alert quoting proxy 'inno' not logged"
pm_wait_for hr_refused bad || pm_fail "the bad service was not refused"
pm_expect_bodies http://127.0.0.1:21402/ "b3"
hr_refused inno && pm_fail "inno was refused for bad's words"
grep -q '^listen bad' "$CFG" && pm_fail "the refused service reached haproxy.cfg"
pm_expect_bodies http://127.0.0.1:21400/ "b1"
pm_pass "5: \"proxy 'inno'\" in bad's alert refuses bad only; inno, new in the same check, serves"

# ---- 5. other services' lines in an alert ---------------------------------------
# bad2's options name every line of the checked file, as HAProxy writes a
# position (the issue's "x[/path/haproxy.cfg.new:16]", as the argument of
# a keyword HAProxy knows); api gets a valid change (a reload) in the same
# check.
hr_next
opts=""
for ((i = 1; i <= 80; i += 10)); do
	o="timeout "
	for ((j = i; j < i + 10; j++)); do
		o+="x[$CFG.new:$j]"
	done
	opts+="${opts:+, }\"$o 1s\""
done
cat >"$next/bad2.json" <<JSON
{"type": "static", "port": 21404, "servers": [{"address": "127.0.0.1", "port": 21413}],
 "listen_options": [$opts]}
JSON
cat >"$next/api.json" <<'JSON'
{"type": "static", "port": 21401, "servers": [{"address": "127.0.0.1", "port": 21412}],
 "listen_options": ["http-response set-header X-Api v2"]}
JSON
hr_swap
pm_wait_for pm_log_has "haproxy -c: .*got 'x\[$CFG.new:1\]" ||
	pm_fail "HAProxy's alert quoting positions not logged"
pm_wait_for hr_refused bad2 || pm_fail "bad2 was not refused"
api_v2() {
	[[ $(curl -s --noproxy '*' --max-time 2 -D - -o /dev/null \
		http://127.0.0.1:21401/ | tr -d '\r' |
		awk -F': ' 'tolower($1) == "x-api" { print $2 }') == v2 ]]
}
pm_wait_for api_v2 || pm_fail "api's valid change did not go live"
for s in api web inno; do
	hr_refused "$s" && pm_fail "$s was refused for bad2's words"
done
pm_log_has "HAProxy refused the haproxy.global or haproxy.defaults" &&
	pm_fail "the settings were blamed for bad2's words"
pm_expect_bodies http://127.0.0.1:21400/ "b1"
pm_expect_bodies http://127.0.0.1:21402/ "b3"
pm_pass "5: \"[FILE:N]\" of every line in bad2's alert refuses bad2 only; api's change, in the same check, is live"

# ---- 5, 6, 7: refused before HAProxy sees them -----------------------------------
hr_next
# An escaped line break: HAProxy would print a fake alert of its own.
cat >"$next/bad3.json" <<JSON
{"type": "static", "port": 21405, "servers": [],
 "listen_options": ["timeout x\\\\n[ALERT]    (1) : config : parsing [$CFG.new:3] : y 1s"]}
JSON
# The issue's env() leak.
cat >"$next/bad4.json" <<'JSON'
{"type": "static", "port": 21406, "servers": [],
 "listen_options": ["mode http", "http-request return status 200 content-type text/plain lf-string \"%[env(HOME)] %[e\"\"nv(PM_SECRET)]\""]}
JSON
# A payload marker, and a trailing '\', at the end of add server. bad5's
# servers change at runtime below, with web's.
printf '127.0.0.1:21413\n' | pm_write_atomic "$PM_TMP/bad5.hosts"
cat >"$next/bad5.json" <<JSON
{"type": "file", "file": "$PM_TMP/bad5.hosts", "port": 21407,
 "server_options": ["agent-send <<"]}
JSON
cat >"$next/bad6.json" <<'JSON'
{"type": "static", "port": 21408, "servers": [], "server_options": ["agent-send x\\"]}
JSON
hr_swap
pm_wait_for pm_log_has "bad3.json: key 'listen_options' item 1: refused: it holds an escape that HAProxy turns into a control character" ||
	pm_fail "5: escaped line break not refused"
pm_wait_for pm_log_has "bad4.json: key 'listen_options' item 2: refused: it holds the env\(\) fetch" ||
	pm_fail "6: env() not refused"
pm_wait_for pm_log_has "bad5.json: key 'server_options' item 1: refused: it holds '<<'" ||
	pm_fail "7: '<<' not refused"
pm_wait_for pm_log_has "bad6.json: key 'server_options' item 1: refused: it holds a trailing" ||
	pm_fail "7: trailing '\\' not refused"
grep -qE 'env\(|<<|ALERT|listen bad[3-6]' "$CFG" && pm_fail "refused text reached haproxy.cfg"
pm_pass "5, 6, 7: an escaped line break, env(), '<<' and a trailing '\\' are refused with why"

# ---- 7. the next runtime batch goes out at once ----------------------------------
# Had bad5 been taken, its add server would end in "<<" and swallow web's.
reloads=$(pm_reload_count)
printf '127.0.0.1:21413\n127.0.0.1:21412\n' | pm_write_atomic "$PM_TMP/bad5.hosts"
printf '127.0.0.1:21411\n127.0.0.1:21412\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies http://127.0.0.1:21400/ "b1 b2"
pm_wait_for pm_log_has "runtime: [0-9]+ commands in .*servers added 1" ||
	pm_fail "the new server did not go in by the runtime API"
pm_assert_eq "$reloads" "$(pm_reload_count)" "7: a server added at runtime, no reload"
pm_log_has "runtime: .*(no complete answer|reloading instead)" &&
	pm_fail "a runtime batch stalled or failed"
pm_log_has "\[(no-answer|unsafe-command)\]" && pm_fail "a reload for no answer or an unsafe command"
pm_pass "7: no stall: the next batch is answered, no reload"

pm__alive "$PM_PID" || pm_fail "proxymgrd died"
pm_expect_bodies http://127.0.0.1:21401/ "b2"
pm_expect_bodies http://127.0.0.1:21402/ "b3"
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 after the hostile services"

# ---- 6. a hand-written config: env() sees only the named listeners ---------------
# RAProxy hands HAProxy nothing but NAME=fd; bind fd@${APP_1} works.
hr_new_log dir-run
cat >"$PM_TMP/haproxy.cfg" <<'CFG'
defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend http-in
  bind fd@${APP_1}
  http-request return status 200 content-type text/plain lf-string "home=%[env(HOME)] secret=%[env(PM_SECRET)] app=%[env(APP_1)]"
CFG
"$PROXYMGRD" -b "${HAPROXY:-haproxy}" -c "$PM_TMP/haproxy.cfg" \
	-s APP_1=127.0.0.1:21430 --run-dir "$PM_TMP/wrun" -d \
	</dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_reloads 1 || pm_fail "wrapper: HAProxy did not start"
body=$(pm_curl_body http://127.0.0.1:21430/)
[[ $body =~ ^home=\ secret=\ app=[0-9]+$ ]] ||
	pm_fail "wrapper: env() in the hand-written config sees '$body'"
hap=$(pm_hap_pids_for "$PM_TMP/haproxy.cfg" | head -n 1)
names=$(hr_env_names "$hap")
[[ $names == "APP_1 PATH" || $names == "APP_1 PATH TZ" ]] ||
	pm_fail "wrapper: HAProxy's environment is $names"
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "6: hand-written config: bind fd@\${APP_1} serves, env() sees '$body'"

# ---- ZooKeeper: the same hostile nodes, rejected the same way ---------------------
hr_new_log wrapper-run
pm_zk_start single 21481
# Written before proxymgrd starts: all in its first check.
pm_zk $ZK put /service_config/zweb \
	'{"type": "static", "port": 21420, "servers": [{"address": "127.0.0.1", "port": 21411}]}'
pm_zk $ZK put /service_config/zinno \
	'{"type": "static", "port": 21421, "servers": [{"address": "127.0.0.1", "port": 21413}]}'
pm_zk $ZK put /service_config/zbad \
	'{"type": "static", "port": 21422, "servers": [], "listen_options": ["timeout proxy\\ \\'"'"'zinno\\'"'"' 1s"]}'
pm_zk $ZK put /service_config/zbad2 \
	"{\"type\": \"static\", \"port\": 21423, \"servers\": [], \"listen_options\": [$opts]}"
PM_SERVICE_CONFIG="service_config:
  type: zookeeper
  servers: $ZK
  path: /service_config" pm_write_pmconfig
pm_start_proxymgrd
pm_wait_for hr_refused zbad || pm_fail "zk: zbad was not refused"
pm_wait_for hr_refused zbad2 || pm_fail "zk: zbad2 was not refused"
pm_expect_bodies http://127.0.0.1:21420/ "b1"
pm_expect_bodies http://127.0.0.1:21421/ "b3"
for s in zweb zinno; do
	hr_refused "$s" && pm_fail "zk: $s was refused for another node's words"
done
pm_log_has "haproxy -c: .*got 'proxy 'zinno''" || pm_fail "zk: zbad's alert not logged"
pm_pass "5 (ZooKeeper): nodes whose alerts name zinno or every line refuse only themselves"

pm_zk $ZK put /service_config/zenv \
	'{"type": "static", "port": 21424, "servers": [], "listen_options": ["mode http", "http-request set-header X %[env(PM_SECRET)]"]}'
pm_zk $ZK put /service_config/zcli \
	'{"type": "static", "port": 21425, "servers": [], "server_options": ["agent-send <<"]}'
pm_wait_for pm_log_has "zookeeper:/service_config/zenv: key 'listen_options' item 2: refused: it holds the env\(\) fetch" ||
	pm_fail "zk: env() not refused"
pm_wait_for pm_log_has "zookeeper:/service_config/zcli: key 'server_options' item 1: refused: it holds '<<'" ||
	pm_fail "zk: '<<' not refused"
hap=$(pm_hap_pid)
names=$(hr_env_names "$hap")
[[ $names == PATH || $names == "PATH TZ" ]] || pm_fail "zk: HAProxy's environment is $names"
pm_expect_bodies http://127.0.0.1:21420/ "b1"
pm_expect_bodies http://127.0.0.1:21421/ "b3"
pm_pass "6, 7 (ZooKeeper): env() and '<<' nodes refused; HAProxy's environment is $names"

pm__alive "$PM_PID" || pm_fail "zk: proxymgrd died"
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 after the hostile ZooKeeper nodes"
