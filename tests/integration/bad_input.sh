#!/usr/bin/env bash
# Bad input of every kind gets a clear log line naming file (and line) and
# loses nothing: the last good state keeps serving. Real HAProxy, real
# backends. Ports 19300-19319.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

pm_start_httpd b1 19311 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 19312 >/dev/null || pm_fail "backend b2"
printf '127.0.0.1:19311\n127.0.0.1:19312\n' | pm_write_atomic "$PM_TMP/web.hosts"
web_json() {
	cat <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 19300,
 "listen_options": [$1"balance roundrobin"]}
JSON
}
web_json "" >"$PM_TMP/services/web.json"
pm_start_proxymgrd
url=http://127.0.0.1:19300/
pm_expect_bodies "$url" "b1 b2"
hap_pid=$(pm_hap_pid)
[[ -n $hap_pid ]] || pm_fail "no pid from show info"

# 1. Malformed JSON in an existing service: it keeps its last good
#    definition, the error names file, line and column.
printf '{"type": "file",\n "port": 19300,,}\n' |
	pm_write_atomic "$PM_TMP/services/web.json"
pm_wait_for pm_log_has "web.json:2:[0-9]+: invalid JSON" ||
	pm_fail "no log line naming web.json:2 for malformed JSON"
pm_expect_bodies "$url" "b1 b2"
pm_pass "malformed JSON: logged with file:line:column, service keeps serving"

# 2. A new service file with malformed JSON is not added; others unaffected.
echo '{"type": "static", "port": ' >"$PM_TMP/services/new.json"
pm_wait_for pm_log_has "new.json:[0-9]+:[0-9]+: invalid JSON.*service not added" ||
	pm_fail "malformed new service not reported"
pm_expect_bodies "$url" "b1 b2"
rm "$PM_TMP/services/new.json"
pm_pass "malformed new service is refused with a clear message"

# 3. Missing port and unknown type: each named. An unknown key is
# ProxyMgr's metadata: warned about and ignored.
echo '{"type": "static", "servers": []}' >"$PM_TMP/services/noport.json"
echo '{"type": "static", "port": 19301, "servers": [], "colour": 1}' \
	>"$PM_TMP/services/unknownkey.json"
echo '{"type": "carrier-pigeon", "port": 19302}' >"$PM_TMP/services/badtype.json"
pm_wait_for pm_log_has "noport.json: key 'port' is required" ||
	pm_fail "missing port not reported"
pm_wait_for pm_log_has "unknownkey.json: unknown key 'colour' for type 'static': ignored" ||
	pm_fail "unknown key not reported"
pm_wait_for pm_log_has "service unknownkey: added" ||
	pm_fail "a service with an unknown key is not added"
pm_wait_for pm_log_has "badtype.json: key 'type': unknown watcher 'carrier-pigeon'" ||
	pm_fail "unknown type not reported"
rm "$PM_TMP"/services/{noport,unknownkey,badtype}.json
pm_pass "missing port and unknown type each named in the log; an unknown key ignored"

# 4. Injection through options and names is refused before HAProxy sees it.
printf '%s\n' '{"type": "static", "port": 19303, "servers": [],' \
	' "listen_options": ["mode http\nbind 127.0.0.1:19309"]}' \
	>"$PM_TMP/services/inject.json"
echo '{"type": "static", "port": 19304, "servers": [], "server_options": ["check; shutdown sessions"]}' \
	>"$PM_TMP/services/inject2.json"
echo '{"type": "static", "port": 19305, "servers": []}' >"$PM_TMP/services/bad name.json"
pm_wait_for pm_log_has "inject.json: key 'listen_options' item 1: refused" ||
	pm_fail "newline in an option not refused"
pm_wait_for pm_log_has "inject2.json: key 'server_options' item 1: refused" ||
	pm_fail "';' in an option not refused"
pm_wait_for pm_log_has "service name 'bad name' refused" ||
	pm_fail "bad service name not refused"
pm_wait_idle
grep -qE '19309|shutdown|bad name' "$PM_TMP/run/haproxy.cfg" &&
	pm_fail "injected text reached haproxy.cfg"
pm_port_refused 19309 || pm_fail "injected bind is listening"
rm "$PM_TMP/services/inject.json" "$PM_TMP/services/inject2.json" \
	"$PM_TMP/services/bad name.json"
pm_pass "newline, ';' and bad names are refused; nothing reaches haproxy.cfg"

# 5. Host file: bad lines are skipped with file:line, good lines applied.
printf '127.0.0.1:19311\nnot a host line\n127.0.0.1:99999\nevil;host:80\n127.0.0.1:19312\n' |
	pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "web.hosts:2: .*line skipped" ||
	pm_fail "bad host line 2 not reported with its line"
pm_wait_for pm_log_has "web.hosts:3: '99999' is not a port" ||
	pm_fail "bad port on line 3 not reported"
pm_wait_for pm_log_has "web.hosts:4: 'evil;host' is not a valid host" ||
	pm_fail "bad host on line 4 not reported"
pm_expect_bodies "$url" "b1 b2"
pm_pass "bad host lines are skipped with file:line; valid ones stay"

# 6. A host file with no valid line, then a missing one: servers are kept.
before=$(pm_reload_count)
printf 'garbage\nmore garbage\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "no valid line in .*web.hosts, keeping its 2 known servers" ||
	pm_fail "garbled host file not reported"
rm "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "cannot read .*web.hosts, keeping its 2 known servers" ||
	pm_fail "missing host file not reported"
pm_expect_bodies "$url" "b1 b2"
pm_assert_eq "$before" "$(pm_reload_count)" "garbled or missing host file: no reload, servers kept"
printf '127.0.0.1:19311\n127.0.0.1:19312\n' | pm_write_atomic "$PM_TMP/web.hosts"

# 7. An option HAProxy refuses: the old HAProxy keeps serving with the old
#    definition, HAProxy's own message is logged, and a later valid change
#    of the same service goes live.
web_json '"option no-such-option", ' | pm_write_atomic "$PM_TMP/services/web.json"
pm_wait_for pm_log_has "haproxy -c: .*unknown option 'no-such-option'" ||
	pm_fail "HAProxy's own message not logged"
pm_wait_for pm_log_has "service web: HAProxy refused its section" ||
	pm_fail "refusal not traced to service web"
pm_expect_bodies "$url" "b1 b2"
grep -q 'no-such-option' "$PM_TMP/run/haproxy.cfg" &&
	pm_fail "refused option reached the live haproxy.cfg"
pm_pass "an option HAProxy refuses: old definition keeps serving, HAProxy's message logged"
web_json '"option httplog", ' | pm_write_atomic "$PM_TMP/services/web.json"
has_httplog() { grep -q 'option httplog' "$PM_TMP/run/haproxy.cfg"; }
pm_wait_for has_httplog || pm_fail "valid change after a refused one not applied"
pm_expect_bodies "$url" "b1 b2"
pm_pass "the next valid definition of the refused service goes live"

# 8. A new service on a port another service serves: the newcomer is left
#    out, whatever the order of their names.
for clash in aaclash zzclash; do
	echo '{"type": "static", "port": 19300, "servers": []}' >"$PM_TMP/services/$clash.json"
	pm_wait_for pm_log_has "service $clash: port 19300 is already used by service web; service left out" ||
		pm_fail "port clash of $clash not reported"
	pm_expect_bodies "$url" "b1 b2"
	grep -q "listen $clash" "$PM_TMP/run/haproxy.cfg" && pm_fail "$clash was rendered"
	rm "$PM_TMP/services/$clash.json"
done
pm_pass "a new service on a used port is left out; the one serving keeps it"

# 8b. A host name HAProxy cannot resolve: that service keeps its running
#     servers, and changes of other services still go live.
printf '127.0.0.1:19311\n127.0.0.1:19312\nnosuch.invalid:80\n' |
	pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "could not resolve address 'nosuch.invalid'" ||
	pm_fail "HAProxy's refusal of an unresolvable server not logged"
echo '{"type": "static", "port": 19306, "servers": [{"address": "127.0.0.1", "port": 19311}]}' \
	>"$PM_TMP/services/other.json"
pm_expect_bodies http://127.0.0.1:19306/ "b1"
pm_expect_bodies "$url" "b1 b2"
grep -q nosuch "$PM_TMP/run/haproxy.cfg" && pm_fail "unresolvable server reached the live haproxy.cfg"
printf '127.0.0.1:19311\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1"
printf '127.0.0.1:19311\n127.0.0.1:19312\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1 b2"
rm "$PM_TMP/services/other.json"
pm_pass "an unresolvable server blocks neither other services nor the next fix"

# 9. SIGHUP with a broken proxymgr.yml: reported with its line, nothing lost.
cp "$PM_TMP/proxymgr.yml" "$PM_TMP/proxymgr.yml.good"
printf 'haproxy:\n  path: haproxy\n  bogus_key: 1\n' >"$PM_TMP/proxymgr.yml"
kill -HUP "$PM_PID"
pm_wait_for pm_log_has "proxymgr.yml:3: unknown key 'haproxy.bogus_key'; keeping the running configuration" ||
	pm_fail "broken proxymgr.yml not reported with line and key"
pm_expect_bodies "$url" "b1 b2"
pm_pass "SIGHUP with a broken proxymgr.yml keeps the running configuration"

# 10. SIGHUP with global lines HAProxy refuses: back to the previous ones.
PM_GLOBAL='"no-such-global-keyword"' pm_write_pmconfig
kill -HUP "$PM_PID"
pm_wait_for pm_log_has "HAProxy refused the haproxy.global or haproxy.defaults lines with the haproxy settings of the re-read .*going back to the previous ones" ||
	pm_fail "refused global lines not rolled back"
pm_expect_bodies "$url" "b1 b2"
grep -q 'no-such-global-keyword' "$PM_TMP/run/haproxy.cfg" &&
	pm_fail "refused global line reached haproxy.cfg"
pm_pass "global lines HAProxy refuses are rolled back to the previous ones"

# Through all of this, one HAProxy generation after another, proxymgrd up.
pm__alive "$PM_PID" || pm_fail "proxymgrd died"
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 after all the bad input"
