#!/usr/bin/env bash
# Hostile files (issue 11): a proxymgr.yml whose keys have no value, FIFOs
# and devices where host files and service files are expected, oversized
# files, NUL bytes, and JSON errors over a secret file. Each is refused
# with a clear message, proxymgrd stays up and responsive, and the good
# services keep serving. Real HAProxy, real backends. Ports 21500-21519.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

pm_start_httpd b1 21511 >/dev/null || pm_fail "backend b1"
pm_start_httpd b2 21512 >/dev/null || pm_fail "backend b2"
printf '127.0.0.1:21511\n127.0.0.1:21512\n' | pm_write_atomic "$PM_TMP/web.hosts"
echo "{\"type\": \"file\", \"file\": \"$PM_TMP/web.hosts\", \"port\": 21500," \
	'"listen_options": ["balance roundrobin"]}' >"$PM_TMP/services/web.json"
pm_start_proxymgrd
url=http://127.0.0.1:21500/
pm_expect_bodies "$url" "b1 b2"
hap_pid=$(pm_hap_pid)
[[ -n $hap_pid ]] || pm_fail "no pid from show info"

# Lines of proxymgrd's log that match REGEX, and a wait for more of them:
# the same message may have been logged by an earlier step.
log_count() { grep -cE -- "$1" "$PM_TMP/proxymgrd.log" || true; }
log_more() { (($(log_count "$1") > $2)); }

# proxymgrd is up and the service serves from both backends; unless the
# step added a service, through the same HAProxy as before.
still_serving() {	# WHAT [new-haproxy]
	pm__alive "$PM_PID" || pm_fail "proxymgrd died ($1)"
	pm_expect_bodies "$url" "b1 b2"
	if [[ ${2:-} == new-haproxy ]]; then
		hap_pid=$(pm_hap_pid)
	else
		pm_assert_eq "$hap_pid" "$(pm_hap_pid)" "$1: the same HAProxy serves"
	fi
}

# The host file was read again (after a good version was put back).
hosts_read() { log_more "service web: 2 servers in $PM_TMP/web.hosts" "$1"; }
put_back_hosts() {
	local n
	n=$(log_count "service web: 2 servers in $PM_TMP/web.hosts")
	printf '127.0.0.1:21511\n127.0.0.1:21512\n' | pm_write_atomic "$PM_TMP/web.hosts"
	pm_wait_for hosts_read "$n" || pm_fail "the good host file was not read again"
}

# 1. Keys with no value where one is required (the crash of finding 2):
#    --check exits 1 naming file, line and key, not 139; SIGHUP keeps the
#    running configuration.
cp "$PM_TMP/proxymgr.yml" "$PM_TMP/good.yml"
check_refuses() {	# FILE REGEX
	local rc=0
	"$PROXYMGRD" --check -c "$1" >"$PM_TMP/check.out" 2>"$PM_TMP/check.err" || rc=$?
	pm_assert_eq 1 "$rc" "--check on $(basename "$1") exits 1"
	grep -qE -- "$2" "$PM_TMP/check.err" ||
		pm_fail "--check said '$(cat "$PM_TMP/check.err")', not '$2'"
}
n=0
for value in '' '~' '&x'; do
	for style in block flow; do
		n=$((n + 1))
		f=$PM_TMP/empty-$n.yml
		if [[ $style == block ]]; then
			PM_SERVICE_CONFIG=$(printf 'service_config:\n  type: zookeeper\n  servers: %s\n  path: /services' "$value") \
				pm_write_pmconfig
		else
			PM_SERVICE_CONFIG="service_config: {type: zookeeper, servers: $value, path: /services}" \
				pm_write_pmconfig
		fi
		cp "$PM_TMP/proxymgr.yml" "$f"
		line=$(grep -n 'servers:' "$f" | cut -d: -f1)
		check_refuses "$f" "$f:$line: service_config.servers: no value, but it is required by type 'zookeeper'"
		re="proxymgr.yml:$line: service_config.servers: no value.*; keeping the running configuration"
		before=$(log_count "$re")
		kill -HUP "$PM_PID"
		pm_wait_for log_more "$re" "$before" ||
			pm_fail "SIGHUP with servers: '$value' ($style) not refused"
		still_serving "SIGHUP with servers: '$value' ($style)"
	done
done
printf '%s\n' 'reload: &r {debounce_ms: 5}' 'haproxy:' '  <<: *r' >"$PM_TMP/merge.yml"
check_refuses "$PM_TMP/merge.yml" "merge.yml:3: haproxy.<<: YAML merge keys are not supported"
printf '%s\n' 'listeners:' '  APP_1: &a' >"$PM_TMP/listener.yml"
check_refuses "$PM_TMP/listener.yml" "listener.yml:2: listeners.APP_1: no value"
cp "$PM_TMP/merge.yml" "$PM_TMP/proxymgr.yml"
kill -HUP "$PM_PID"
pm_wait_for pm_log_has "proxymgr.yml:3: haproxy.<<: YAML merge keys are not supported.*; keeping the running configuration" ||
	pm_fail "SIGHUP with a merge key not refused"
still_serving "SIGHUP with a merge key"
# The good file is taken again (a SIGHUP reloads even when nothing changed).
cp "$PM_TMP/good.yml" "$PM_TMP/proxymgr.yml"
n=$(pm_reload_count)
kill -HUP "$PM_PID"
pm_wait_reloads $((n + 1)) || pm_fail "SIGHUP with the good file again: no reload"
still_serving "SIGHUP with the good file again" new-haproxy
pm_pass "keys with no value and merge keys: --check exits 1 with file:line: key, SIGHUP keeps serving"

# 2. Size limits (finding 4). A host file over 16 MiB, made of lines that
#    would each be valid (so that reading it anyway would show: b1 only),
#    is refused and the servers stay; so is a link to /dev/zero.
reloads=$(pm_reload_count)
head -c $((16 * 1024 * 1024 + 16)) < <(yes 127.0.0.1:21511) >"$PM_TMP/big.hosts"
mv -f "$PM_TMP/big.hosts" "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "service web: cannot read $PM_TMP/web.hosts, keeping its 2 known servers: larger than the limit of 16 MiB" ||
	pm_fail "a host file over 16 MiB was not refused"
still_serving "host file over 16 MiB"
put_back_hosts
ln -s /dev/zero "$PM_TMP/zero.hosts"
mv -fT "$PM_TMP/zero.hosts" "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "service web: cannot read $PM_TMP/web.hosts, keeping its 2 known servers: a character device, not a regular file" ||
	pm_fail "a host file linked to /dev/zero was not refused"
still_serving "host file linked to /dev/zero"
put_back_hosts
pm_assert_eq "$reloads" "$(pm_reload_count)" "oversized host files: no reload"
pm_pass "a host file over the limit or linked to /dev/zero is refused, servers kept"

#    A service file over 1 MiB: an existing service keeps its last good
#    definition, a new one is not added.
web_json=$(cat "$PM_TMP/services/web.json")
{ echo "$web_json"; head -c $((1024 * 1024)) /dev/zero | tr '\0' ' '; } |
	pm_write_atomic "$PM_TMP/services/web.json"
{ echo '{"type": "static", "port": 21502, "servers": []}'; head -c $((1024 * 1024)) /dev/zero | tr '\0' ' '; } |
	pm_write_atomic "$PM_TMP/services/big.json"
pm_wait_for pm_log_has "web.json: cannot read: larger than the limit of 1 MiB; the service keeps its last good definition" ||
	pm_fail "a service file over 1 MiB was not refused"
pm_wait_for pm_log_has "big.json: cannot read: larger than the limit of 1 MiB; service not added" ||
	pm_fail "a new service file over 1 MiB was not refused"
still_serving "service files over 1 MiB"
echo "$web_json" | pm_write_atomic "$PM_TMP/services/web.json"
rm "$PM_TMP/services/big.json"
pm_pass "a service file over 1 MiB is refused, the service keeps serving"

# 3. No file content in logs, and no silent cut at a NUL (finding 8). A
#    service file linked to a secret file: the JSON error gives the
#    position and a reason of proxymgrd's own. A NUL byte in a host file
#    rejects its line, and the servers after it still count.
printf '"password=hunter2\n' >"$PM_TMP/secret"
ln -s "$PM_TMP/secret" "$PM_TMP/services/leak.json"
pm_wait_for pm_log_has "leak.json:1:[0-9]+: invalid JSON: syntax error; service not added" ||
	pm_fail "a service file linked to a secret file was not refused"
printf '127.0.0.1:21511\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1"
printf '127.0.0.1:21511\nhunter2\0\n127.0.0.1:21512\n' | pm_write_atomic "$PM_TMP/web.hosts"
pm_wait_for pm_log_has "web.hosts:2: a NUL byte \(line not shown\)" ||
	pm_fail "a NUL byte in a host file was not reported on its line"
still_serving "a NUL byte in the host file"
grep -q hunter2 "$PM_TMP/proxymgrd.log" && pm_fail "file content reached the log"
rm "$PM_TMP/services/leak.json"
put_back_hosts
pm_pass "no file content in the log; a NUL rejects its line, the lines after it count"

# 4. FIFOs (finding 3), left in place until the end: a host file and a
#    *.json service file that are FIFOs no writer ever opens. The loop
#    must not wait on them: they are refused as what they are, SIGUSR1
#    still logs counters, a new service is still picked up, and SIGTERM
#    still stops proxymgrd.
mkfifo "$PM_TMP/fifo.hosts"
mv -f "$PM_TMP/fifo.hosts" "$PM_TMP/web.hosts"
mkfifo "$PM_TMP/services/pipe.json"
pm_wait_for pm_log_has "service web: cannot read $PM_TMP/web.hosts, keeping its 2 known servers: a FIFO, not a regular file" ||
	pm_fail "a host file that is a FIFO was not refused"
pm_wait_for pm_log_has "pipe.json: cannot read: a FIFO, not a regular file; service not added" ||
	pm_fail "a service file that is a FIFO was not refused"
still_serving "FIFO host and service files"
n=$(log_count 'counters: ')
kill -USR1 "$PM_PID"
pm_wait_for log_more 'counters: ' "$n" || pm_fail "SIGUSR1: no counters with FIFOs about"
echo '{"type": "static", "port": 21501, "servers": [{"address": "127.0.0.1", "port": 21512}]}' \
	>"$PM_TMP/services/late.json"
pm_expect_bodies http://127.0.0.1:21501/ "b2"
still_serving "a new service beside FIFOs" new-haproxy
pm_pass "FIFOs are refused as such; counters, new services and the old ones all work"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 after all the hostile files"
[[ -z $(pm_hap_pids_for "$PM_TMP/") ]] || pm_fail "HAProxy left behind"
pm_pass "no HAProxy left behind"
