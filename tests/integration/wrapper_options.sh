#!/usr/bin/env bash
# The wrapper's options (issue 14), each against real HAProxy:
# (a) arguments after -- go to HAProxy as they are: two more -f, one a
#     directory; a file added to that directory reloads (it is watched);
# (b) --watch DIR: a change of a file in DIR (a body HAProxy serves)
#     reloads;
# (c) --no-watch: nothing is watched (no inotify watch at all), an edit
#     goes live with SIGHUP;
# (d) --env-file: its value reaches HAProxy ("${GREETING}" in a header),
#     a change of the file reloads with the new value, a bad line keeps
#     the last good one (file and line named); a name of a -s listener
#     is refused; a bad file at the start exits 1 naming file and line;
# (e) an invalid haproxy.cfg at the very first start exits 1 with
#     HAProxy's message (wrapper, and proxymgr.yml's global); a later
#     invalid edit keeps the serving HAProxy;
# (f) backlogs: listeners: NAME: ADDR:PORT@BACKLOG and a service's
#     "backlog" key, seen in ss -ltn;
# (g) a plain bind after a takeover: proxymgrd SIGKILLed, started again,
#     an edit: the new HAProxy fetches the socket from the adopted one
#     (-x), -p names it.
# Ports 26100-26149.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

HAPROXY=${HAPROXY:-haproxy}
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"
command -v ss >/dev/null || pm_fail "ss not found (iproute2, scripts/install-deps)"
mkdir -p "$PM_TMP/run" "$PM_TMP/conf.d" "$PM_TMP/extra"
pm_start_httpd b1 26101 >/dev/null || pm_fail "backend b1"

# wo_header URL NAME: the value of response header NAME.
wo_header() {
	curl -s -g --noproxy '*' --max-time 2 -o /dev/null -D - -H 'Connection: close' -- "$1" 2>/dev/null |
		tr -d '\r' | awk -F': ' -v h="$(tr '[:upper:]' '[:lower:]' <<<"$2")" 'tolower($1) == h { print $2 }'
}
wo_header_is() { [[ $(wo_header "$1" "$2") == "$3" ]]; }
wo_body_is() { [[ $(pm_curl_body "$1" -H 'Connection: close') == "$2" ]]; }

# wo_start ARGS...: proxymgrd (debug log, fresh), wait for its first HAProxy.
wo_start() {
	[[ -f $PM_TMP/proxymgrd.log ]] && cat "$PM_TMP/proxymgrd.log" >>"$PM_TMP/all.log.old"
	: >"$PM_TMP/proxymgrd.log"
	(cd "$PM_TMP" && exec "$PROXYMGRD" -b "$HAPROXY" --run-dir "$PM_TMP/run" \
		--reload-interval-ms 50 -d "$@" </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1) &
	PM_PID=$!
	pm_track "$PM_PID"
	pm_wait_reloads 1 || pm_fail "proxymgrd $*: HAProxy did not start"
}

# wo_exit_code ARGS...: run proxymgrd in the foreground (bounded), echo its
# exit code; its output is in $PM_TMP/fail.out.
wo_exit_code() {
	local rc=0
	(cd "$PM_TMP" && exec timeout 30 "$PROXYMGRD" "$@") \
		</dev/null >"$PM_TMP/fail.out" 2>&1 || rc=$?
	echo "$rc"
}

cat >"$PM_TMP/main.cfg" <<CFG
global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option idle-close-on-response
frontend main
  bind 127.0.0.1:26100
  http-response set-header X-Env "\${GREETING}"
  default_backend b1
backend b1
  server b1 127.0.0.1:26101
CFG
cat >"$PM_TMP/second.cfg" <<CFG
frontend second
  bind 127.0.0.1:26102
  http-request return status 200 content-type text/plain file $PM_TMP/extra/body.txt
CFG
cat >"$PM_TMP/conf.d/10-third.cfg" <<'CFG'
frontend third
  bind 127.0.0.1:26103
  http-request return status 200 content-type text/plain string "third"
CFG
echo one >"$PM_TMP/extra/body.txt"
printf '# for HAProxy\nexport GREETING="hello there"\n\n' >"$PM_TMP/env"

# ---- (a), (b), (d): --, --watch, --env-file -----------------------------------
wo_start -c main.cfg --watch "$PM_TMP/extra" --env-file env -- -f second.cfg -f "$PM_TMP/conf.d"
wo_body_is http://127.0.0.1:26100/ b1 || pm_fail "(a) -c main.cfg does not serve"
wo_body_is http://127.0.0.1:26102/ one || pm_fail "(a) -- -f second.cfg does not serve"
wo_body_is http://127.0.0.1:26103/ third || pm_fail "(a) -- -f conf.d/ does not serve"
pm_pass "(a) -c main.cfg -- -f second.cfg -f conf.d/: all three files serve"
n=$(pm_reload_count)
printf 'frontend fourth\n  bind 127.0.0.1:26104\n  http-request return status 200 content-type text/plain string "fourth"\n' |
	pm_write_atomic "$PM_TMP/conf.d/20-fourth.cfg"
pm_wait_reloads $((n + 1)) || pm_fail "(a) a new file in the -f directory did not reload"
pm_wait_for wo_body_is http://127.0.0.1:26104/ fourth || pm_fail "(a) the new file does not serve"
pm_pass "(a) a file added to the directory after -- -f reloads and serves"

n=$(pm_reload_count)
echo two | pm_write_atomic "$PM_TMP/extra/body.txt"
pm_wait_reloads $((n + 1)) || pm_fail "(b) --watch DIR: a change in DIR did not reload"
pm_wait_for wo_body_is http://127.0.0.1:26102/ two || pm_fail "(b) the new body is not served"
pm_pass "(b) --watch DIR: a changed file in DIR reloads (body one -> two)"

wo_header_is http://127.0.0.1:26100/ X-Env "hello there" ||
	pm_fail "(d) --env-file: X-Env is '$(wo_header http://127.0.0.1:26100/ X-Env)', not 'hello there'"
n=$(pm_reload_count)
echo 'GREETING=bye' | pm_write_atomic "$PM_TMP/env"
pm_wait_reloads $((n + 1)) || pm_fail "(d) a changed env file did not reload"
pm_wait_for wo_header_is http://127.0.0.1:26100/ X-Env bye || pm_fail "(d) the new value is not served"
printf 'GREETING=worse\nnot a line\n' | pm_write_atomic "$PM_TMP/env"
pm_wait_for pm_log_has "$PM_TMP/env:2: expected NAME=VALUE; HAProxy keeps the environment last read" ||
	pm_fail "(d) a bad env line was not reported with its file and line"
kill -HUP "$PM_PID"
pm_wait_idle
wo_header_is http://127.0.0.1:26100/ X-Env bye || pm_fail "(d) a bad env file changed the value"
pm_pass "(d) --env-file: \${GREETING} reaches HAProxy, a change reloads, a bad line (file:line) keeps the last good one"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"

# ---- (d) env file errors at the start ------------------------------------------
echo 'APP_1=3' >"$PM_TMP/env.bad"
rc=$(wo_exit_code --run-dir "$PM_TMP/run-fail" -c main.cfg -s APP_1=127.0.0.1:26105 --env-file env.bad)
((rc == 1)) && grep -q "env.bad:1: APP_1 is the named listener's fd" "$PM_TMP/fail.out" ||
	pm_fail "(d) an env file setting a -s name: exit $rc, $(cat "$PM_TMP/fail.out")"
printf '\n1X=2\n' >"$PM_TMP/env.bad"
rc=$(wo_exit_code --run-dir "$PM_TMP/run-fail" -c main.cfg -b "$HAPROXY" --env-file env.bad)
((rc == 1)) && grep -q "env.bad:2: '1X' is not a variable name" "$PM_TMP/fail.out" ||
	pm_fail "(d) a bad env file at the start: exit $rc, $(cat "$PM_TMP/fail.out")"
pm_pass "(d) a bad env file at the start exits 1 naming file and line; a -s name is refused"

# ---- (c) --no-watch ----------------------------------------------------------------
echo 'GREETING=bye' >"$PM_TMP/env"
wo_start -c main.cfg --no-watch --env-file env
inotify=$(cat /proc/"$PM_PID"/fdinfo/* 2>/dev/null | grep -c '^inotify wd:' || true)
((inotify == 0)) || pm_fail "(c) --no-watch: proxymgrd holds $inotify inotify watches"
n=$(pm_reload_count)
sed 's/"\${GREETING}"/"edited"/' "$PM_TMP/main.cfg" | pm_write_atomic "$PM_TMP/main.cfg"
wo_header_is http://127.0.0.1:26100/ X-Env bye || pm_fail "(c) the edit went live without SIGHUP"
kill -HUP "$PM_PID"
pm_wait_reloads $((n + 1)) || pm_fail "(c) SIGHUP did not reload"
pm_wait_for wo_header_is http://127.0.0.1:26100/ X-Env edited || pm_fail "(c) the edit did not go live with SIGHUP"
pm_log_has 'changed on disk' && pm_fail "(c) --no-watch: a change on disk was seen"
pm_pass "(c) --no-watch: no inotify watch, no change seen on disk, SIGHUP reloads the edit"

# ---- (e) a later invalid edit keeps the serving HAProxy ------------------------
pid=$(pm_hap_pid)
printf 'frontend broken\n  bogus_keyword\n' >>"$PM_TMP/main.cfg"
kill -HUP "$PM_PID"
pm_wait_for pm_log_has "unknown keyword 'bogus_keyword'" || pm_fail "(e) HAProxy's message was not logged"
pm_wait_idle
[[ $(pm_hap_pid) == "$pid" ]] || pm_fail "(e) another HAProxy serves after an invalid edit"
wo_header_is http://127.0.0.1:26100/ X-Env edited || pm_fail "(e) the serving HAProxy changed"
pm_pass "(e) an invalid edit later: haproxy[$pid] serves on, HAProxy's message logged"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"

# ---- (e) an invalid config at the very first start exits 1 ---------------------
rc=$(wo_exit_code --run-dir "$PM_TMP/run-fail" -b "$HAPROXY" -c main.cfg)
((rc == 1)) || pm_fail "(e) an invalid haproxy.cfg at the first start: exit $rc: $(cat "$PM_TMP/fail.out")"
grep -q "unknown keyword 'bogus_keyword'" "$PM_TMP/fail.out" || pm_fail "(e) no HAProxy message: $(cat "$PM_TMP/fail.out")"
[[ -z $(pm_hap_pids_for "$PM_TMP/run-fail") ]] || pm_fail "(e) a HAProxy runs after the failed start"
pm_pass "(e) the wrapper with an invalid haproxy.cfg at the first start: exit 1 with HAProxy's message"
PM_GLOBAL='"maxconn 256", "bogus-global-keyword 1"' pm_write_pmconfig
rc=$(wo_exit_code -c "$PM_TMP/proxymgr.yml")
((rc == 1)) && grep -q "bogus-global-keyword" "$PM_TMP/fail.out" ||
	pm_fail "(e) proxymgr.yml with an invalid global line: exit $rc: $(cat "$PM_TMP/fail.out")"
pm_pass "(e) proxymgr.yml with an invalid haproxy.global line at the first start: exit 1 with HAProxy's message"

# ---- (f) backlogs from proxymgr.yml ---------------------------------------------
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "static", "port": 26111, "backlog": 333,
 "servers": [{"address": "127.0.0.1", "port": 26101}]}
JSON
cat >"$PM_TMP/proxymgr.yml" <<YML
haproxy:
  path: $HAPROXY
  managed: false
  config_path: $PM_TMP/user.cfg
  socket_path: $PM_TMP/run/haproxy.sock
  bind_address: 127.0.0.1
listeners:
  APP: 127.0.0.1:26110@222
reload:
  min_interval_ms: 50
service_config:
  type: file
  path: $PM_TMP/services
YML
printf 'defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\nfrontend app\n  bind fd@${APP}\n  default_backend b1\nbackend b1\n  server b1 127.0.0.1:26101\n' >"$PM_TMP/user.cfg"
: >"$PM_TMP/proxymgrd.log"
pm_start_proxymgrd
wo_body_is http://127.0.0.1:26110/ b1 || pm_fail "(f) the listener does not serve"
pm_wait_for wo_body_is http://127.0.0.1:26111/ b1 || pm_fail "(f) the service does not serve"
q1=$(ss -Hltn "sport = :26110" | awk '{ print $3 }')
q2=$(ss -Hltn "sport = :26111" | awk '{ print $3 }')
[[ $q1 == 222 && $q2 == 333 ]] || pm_fail "(f) backlogs: listener $q1 (want 222), service $q2 (want 333)"
pm_pass "(f) listeners: APP: ADDR:PORT@222 and a service's \"backlog\": 333 show in ss -ltn"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"

# ---- (g) a plain bind after a takeover ---------------------------------------------
printf 'defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\nfrontend plain\n  bind 127.0.0.1:26120\n  http-request return status 200 content-type text/plain string "gen1"\n' |
	pm_write_atomic "$PM_TMP/plain.cfg"
wo_start -c plain.cfg -p hap.pid
old=$(pm_hap_pid)
kill -KILL "$PM_PID"
wait "$PM_PID" 2>/dev/null || true
cat "$PM_TMP/proxymgrd.log" >>"$PM_TMP/all.log.old"
: >"$PM_TMP/proxymgrd.log"
(cd "$PM_TMP" && exec "$PROXYMGRD" -b "$HAPROXY" --run-dir "$PM_TMP/run" --reload-interval-ms 50 \
	-d -c plain.cfg -p hap.pid </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1) &
PM_PID=$!
pm_track "$PM_PID"
pm_wait_for pm_log_has "haproxy\[$old\] runs the current configuration: adopted" ||
	pm_fail "(g) haproxy[$old] was not taken over"
n=$(pm_reload_count)
sed 's/gen1/gen2/' "$PM_TMP/plain.cfg" | pm_write_atomic "$PM_TMP/plain.cfg"
pm_wait_reloads $((n + 1)) || pm_fail "(g) the edit after the takeover did not reload"
pm_wait_for wo_body_is http://127.0.0.1:26120/ gen2 || pm_fail "(g) the edit does not serve"
new=$(pm_hap_pid)
tr '\0' ' ' <"/proc/$new/cmdline" | grep -q -- " -x $PM_TMP/run/haproxy.sock" ||
	pm_fail "(g) haproxy[$new] after the takeover was not started with -x"
[[ $(cat "$PM_TMP/hap.pid") == "$new" ]] || pm_fail "(g) -p names $(cat "$PM_TMP/hap.pid"), not haproxy[$new]"
pm_pass "(g) after a takeover of haproxy[$old], the next HAProxy ($new) fetched the plain bind with -x"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
