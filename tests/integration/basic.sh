#!/usr/bin/env bash
# The everyday path against a real HAProxy and real backends: servers
# follow the host file, services come and go with their JSON files,
# SIGHUP applies a changed proxymgr.yml, SIGTERM leaves nothing behind.
# Ports 19200-19219.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

for i in 1 2 3; do
	pm_start_httpd "b$i" "1921$i" >/dev/null || pm_fail "backend b$i"
done
printf '127.0.0.1:19211\n127.0.0.1:19212\n' | pm_write_atomic "$PM_TMP/web.hosts"
cat >"$PM_TMP/services/web.json" <<JSON
{"type": "file", "file": "$PM_TMP/web.hosts", "port": 19200,
 "listen_options": ["balance roundrobin"], "server_options": ["check inter 1000"]}
JSON
pm_start_proxymgrd

url=http://127.0.0.1:19200/
pm_expect_bodies "$url" "b1 b2"
pm_pass "service from a JSON file serves both servers of its host file"
grep -q 'bind fd@3' "$PM_TMP/run/haproxy.cfg" || pm_fail "no bind fd@3 in haproxy.cfg"
grep -q 'server 127.0.0.1:19211 127.0.0.1:19211 id 1 check inter 1000' \
	"$PM_TMP/run/haproxy.cfg" || pm_fail "server line not as expected"
[[ $(stat -c %a "$PM_TMP/run/haproxy.sock") == 600 ]] ||
	pm_fail "stats socket is not mode 600"
pm_pass "haproxy.cfg holds fd@ binds, named servers with options; socket mode 600"

# A server added by atomic replace, one removed by an in-place edit.
printf '127.0.0.1:19211\n127.0.0.1:19212\n127.0.0.1:19213\n' |
	pm_write_atomic "$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b1 b2 b3"
pm_pass "server added to the host file (atomic replace) takes traffic"
printf '127.0.0.1:19212\n127.0.0.1:19213\n' >"$PM_TMP/web.hosts"
pm_expect_bodies "$url" "b2 b3"
pm_pass "server removed from the host file (in-place edit) gets no traffic"

# A second service, static watcher, appears with its file.
cat >"$PM_TMP/services/api.json.tmp" <<JSON
{"type": "static", "port": 19201,
 "servers": [{"address": "127.0.0.1", "port": 19211}]}
JSON
mv "$PM_TMP/services/api.json.tmp" "$PM_TMP/services/api.json"
pm_expect_bodies http://127.0.0.1:19201/ "b1"
pm_expect_bodies "$url" "b2 b3"
pm_pass "new service file adds a service; the first keeps serving"

# Port change: the new port serves, the old one is closed once the HAProxy
# that used it is gone.
sed -i 's/19201/19202/' "$PM_TMP/services/api.json"
pm_expect_bodies http://127.0.0.1:19202/ "b1"
pm_wait_for pm_port_refused 19201 || pm_fail "old port 19201 still accepts connections"
pm_pass "port change moves the service; the old socket is closed"

# Removing the file removes the service and closes its socket.
rm "$PM_TMP/services/api.json"
pm_wait_for pm_port_refused 19202 || pm_fail "removed service's port still accepts"
grep -q 'listen api' "$PM_TMP/run/haproxy.cfg" && pm_fail "api still rendered"
pm_expect_bodies "$url" "b2 b3"
pm_pass "removed service file removes the service and closes its port"

# Touching a file without changing it does not reload: once proxymgrd
# has read both again and is idle, nothing has changed.
before=$(pm_reload_count)
reads=$(pm_log_count 'service web: [0-9]+ servers in ')
scans=$(pm_log_count 'service definitions: [0-9]+ files in .*, read again')
touch "$PM_TMP/web.hosts" "$PM_TMP/services/web.json"
pm_wait_log_count 'service web: [0-9]+ servers in ' $((reads + 1)) ||
	pm_fail "the touched host file was not read again"
pm_wait_log_count 'service definitions: [0-9]+ files in .*, read again' $((scans + 1)) ||
	pm_fail "the touched service file was not read again"
pm_wait_idle
pm_assert_eq "$before" "$(pm_reload_count)" "unchanged files cause no reload"

# SIGHUP applies a changed proxymgr.yml.
PM_GLOBAL='"maxconn 2000"' pm_write_pmconfig
before=$(pm_reload_count)
kill -HUP "$PM_PID"
pm_wait_reloads $((before + 1)) || pm_fail "no reload after SIGHUP"
grep -q 'maxconn 2000' "$PM_TMP/run/haproxy.cfg" ||
	pm_fail "SIGHUP did not apply the new global line"
pm_expect_bodies "$url" "b2 b3"
pm_pass "SIGHUP re-reads proxymgr.yml and applies it"

# A burst of server changes (31 edits in ~0.3 s, one server in and out of
# a roundrobin backend) goes out as runtime commands: no reload at all,
# and the final state is live.
before=$(pm_reload_count)
t0=$(pm__now_ms)
for i in $(seq 1 31); do
	if ((i % 2)); then
		printf '127.0.0.1:19212\n127.0.0.1:19213\n127.0.0.1:19211\n'
	else
		printf '127.0.0.1:19212\n127.0.0.1:19213\n'
	fi | pm_write_atomic "$PM_TMP/web.hosts"
	sleep 0.01
done
t1=$(pm__now_ms)
pm_expect_bodies "$url" "b1 b2 b3"
reloads=$(($(pm_reload_count) - before))
pm_assert_eq 0 "$reloads" "31 server edits in $((t1 - t0)) ms: final state live, no reload"
hap_count=$(pm_hap_pids_for "$PM_TMP/run/haproxy.cfg" | wc -l)
((hap_count <= 5)) || pm_fail "$hap_count HAProxy processes after the burst"

# Directories swapped for new ones at the same path (deploy tools do
# this) are followed: the service directory, and a host file's directory.
mkdir -p "$PM_TMP/hd"
printf '127.0.0.1:19211\n' >"$PM_TMP/hd/swap.hosts"
echo "{\"type\": \"file\", \"file\": \"$PM_TMP/hd/swap.hosts\", \"port\": 19203}" \
	>"$PM_TMP/services/swap.json"
pm_expect_bodies http://127.0.0.1:19203/ "b1"
mkdir "$PM_TMP/hd.new"
printf '127.0.0.1:19212\n' >"$PM_TMP/hd.new/swap.hosts"
mv "$PM_TMP/hd" "$PM_TMP/hd.old"
mv "$PM_TMP/hd.new" "$PM_TMP/hd"
pm_expect_bodies http://127.0.0.1:19203/ "b2"
printf '127.0.0.1:19213\n' | pm_write_atomic "$PM_TMP/hd/swap.hosts"
pm_expect_bodies http://127.0.0.1:19203/ "b3"
pm_pass "a host file's directory replaced by a new one is followed"

mkdir "$PM_TMP/services.new"
cp "$PM_TMP/services/"*.json "$PM_TMP/services.new/"
mv "$PM_TMP/services" "$PM_TMP/services.old"
mv "$PM_TMP/services.new" "$PM_TMP/services"
echo '{"type": "static", "port": 19204, "servers": [{"address": "127.0.0.1", "port": 19212}]}' \
	>"$PM_TMP/services/late.json"
pm_expect_bodies http://127.0.0.1:19204/ "b2"
pm_expect_bodies "$url" "b1 b2 b3"
pm_pass "a service directory replaced by a new one is followed"

# SIGTERM: exit 0, no HAProxy left, port closed.
hap_cfg=$PM_TMP/run/haproxy.cfg
pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 on SIGTERM"
left=$(pm_hap_pids_for "$hap_cfg" | tr '\n' ' ' || true)
[[ -z $left ]] || pm_fail "HAProxy left running after SIGTERM: $left"
pm_port_refused 19200 || pm_fail "port 19200 still open after SIGTERM"
pm_pass "SIGTERM stops HAProxy and leaves no process or socket behind"
