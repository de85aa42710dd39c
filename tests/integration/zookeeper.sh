#!/usr/bin/env bash
# Service definitions and servers from a real ZooKeeper (Debian's package,
# standalone on 127.0.0.1:20081), through a real HAProxy:
# - ProxyMgr's documented proxymgr.yml, service blob (with a port) and
#   server blob, as written; the service_config path created only after
#   proxymgrd started;
# - nerve's server format; servers added and removed; services added,
#   changed and deleted;
# - malformed and hostile nodes: logged, skipped, nothing else affected;
# - a really empty server list is applied, unless keep_servers_on_empty;
# - every user of the same servers shares one session;
# - children created and deleted while they are read are not errors;
# - --check reads the services and servers from ZooKeeper.
# Ports 20001-20009 (services), 20011-20019 (HTTP), 20081 (ZooKeeper).
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

ZK=127.0.0.1:20081
LOG=$PM_TMP/proxymgrd.log
CFG=$PM_TMP/run/haproxy.cfg
pm_zk_start single 20081
pm_pass "ZooKeeper serves on $ZK"

for b in a b c d; do
	pm_start_httpd "$b" $((20010 + $(printf '%d' "'$b") - 96)) >/dev/null ||
		pm_fail "start backend $b"
done
# a=20011 b=20012 c=20013 d=20014
srv() { printf '{"address": "127.0.0.1", "port": %d}' "$1"; }

# ---- ProxyMgr's README, as written -----------------------------------------
# Only the paths (under $PM_TMP) and ZooKeeper's port are changed.
cat >"$PM_TMP/proxymgr.yml" <<'EOF'
---
haproxy:
  config_path: /etc/haproxy/haproxy.cfg
  socket_path: /var/run/haproxy/stats.sock

service_config:
  type: zookeeper
  servers: localhost:2181
  path: /service_config
EOF
mkdir -p "$PM_TMP/run"
sed -i -e "s|/etc/haproxy/haproxy.cfg|$CFG|" \
	-e "s|/var/run/haproxy/stats.sock|$PM_TMP/run/haproxy.sock|" \
	-e "s|localhost:2181|localhost:20081|" "$PM_TMP/proxymgr.yml"
# ProxyMgr's example names no haproxy.path: the HAProxy under test goes
# first on PATH.
PATH=$(dirname -- "${HAPROXY:-/usr/sbin/haproxy}"):$PATH pm_start_proxymgrd
pm_wait_for pm_log_has '/service_config does not exist; waiting for it' ||
	pm_fail "proxymgrd does not say it waits for /service_config"
pm_pass "/service_config missing at start: proxymgrd waits for it"

# The service blob of the README, with a port added (and ZooKeeper's).
DOC_BLOB='{"type": "zookeeper",
 "server": "localhost:2181",
 "path": "/services/testservice",
 "listen_options": ["mode http"],
 "server_options": ["check inter 2000"]}'
DOC_BLOB=${DOC_BLOB/localhost:2181/localhost:20081}
DOC_BLOB=${DOC_BLOB/\"path\"/\"port\": 20001, \"path\"}
pm_zk $ZK put /service_config/testservice "$DOC_BLOB"
# The server blob of the README, with a local address.
pm_zk $ZK put /services/testservice/s1 '{"address": "127.0.0.1",
 "port": 20011}'
pm_expect_bodies http://127.0.0.1:20001/ "a"
# cfg_has REGEX: haproxy.cfg (rewritten shortly after runtime changes) has it.
cfg_has() { grep -qE -- "$1" "$CFG"; }
pm_wait_for cfg_has 'server 127.0.0.1:20011 127.0.0.1:20011 (id [0-9]+ )?check inter 2000' ||
	pm_fail "server line with the service's server_options missing"
pm_pass "ProxyMgr's examples work as written"

# ---- servers ------------------------------------------------------------------
pm_zk $ZK put /services/testservice/i-b \
	'{"host": "127.0.0.1", "port": 20012, "name": "i-b", "weight": 10}'
pm_expect_bodies http://127.0.0.1:20001/ "a b"
pm_wait_for cfg_has 'server 127.0.0.1:20012 127.0.0.1:20012 (id [0-9]+ )?weight 10 check' ||
	pm_fail "nerve's weight not on the server line"
pm_pass "nerve's format (host, name, weight) is a server"
pm_zk $ZK rm /services/testservice/s1
pm_expect_bodies http://127.0.0.1:20001/ "b"
pm_pass "a deleted server node leaves HAProxy"

# ---- services -----------------------------------------------------------------
pm_zk $ZK put /service_config/second '{"type": "zookeeper",
 "server": "localhost:20081", "path": "/services/second", "port": 20002,
 "listen_options": ["mode http"]}'
pm_zk $ZK put /services/second/c "$(srv 20013)"
pm_expect_bodies http://127.0.0.1:20002/ "c"
pm_expect_bodies http://127.0.0.1:20001/ "b"
pm_pass "a new service node adds a service"

pm_zk $ZK put /service_config/second '{"type": "zookeeper",
 "server": "localhost:20081", "path": "/services/second", "port": 20002,
 "listen_options": ["mode http", "http-response set-header X-Pm v2"]}'
has_v2() { curl -s -g --noproxy '*' --max-time 2 -D - -o /dev/null \
	http://127.0.0.1:20002/ | grep -qi '^x-pm: v2'; }
pm_wait_for has_v2 || pm_fail "changed listen_options not live"
pm_pass "changed node data reconfigures the service"

pm_zk $ZK rm /service_config/second
pm_wait_for pm_port_refused 20002 || pm_fail "port 20002 still accepts after its node went"
pm_expect_bodies http://127.0.0.1:20001/ "b"
pm_pass "a deleted service node removes the service and closes its port"

# ---- malformed and hostile nodes ----------------------------------------------
reloads=$(pm_reload_count)
pm_zk $ZK put /service_config/testservice '{"type": "zookeeper", "port": '
pm_wait_for pm_log_has 'zookeeper:/service_config/testservice:.*the service keeps its last good definition' ||
	pm_fail "malformed service node not reported"
pm_expect_bodies http://127.0.0.1:20001/ "b"
pm_assert_eq "$reloads" "$(pm_reload_count)" "malformed JSON in a service node: the service keeps its last good definition, no reload"

pm_zk $ZK put /service_config/evil1 '{"type": "static", "port": 20003,
 "servers": [{"address": "127.0.0.1", "port": 20014}],
 "listen_options": ["mode http\nlisten injected"]}'
pm_zk $ZK put /service_config/evil2 '{"type": "static", "port": 20003,
 "servers": [{"address": "127.0.0.1", "port": 20014}],
 "server_options": ["check; listen injected"]}'
pm_zk $ZK put '/service_config/ev il' '{"type": "static", "port": 20003,
 "servers": [{"address": "127.0.0.1", "port": 20014}]}'
pm_zk $ZK put /service_config/evil3 '{"type": "zookeeper", "port": 20003,
 "server": "localhost:20081\nglobal", "path": "/services/x"}'
pm_wait_for pm_log_has 'zookeeper:/service_config/evil3: key .server.' ||
	pm_fail "hostile watcher key not reported"
for what in 'evil1: key .listen_options.' 'evil2: key .server_options.' \
	'ev il'; do
	pm_log_has "$what" || pm_fail "hostile node not reported: $what"
done
grep -q injected "$CFG" && pm_fail "a node injected configuration"
pm_port_refused 20003 || pm_fail "a hostile service was added"
pm_pass "hostile service nodes are refused and logged, nothing injected"

pm_zk $ZK put /services/testservice/bad1 \
	'{"address": "127.0.0.1 backup", "port": 20013}'
pm_zk $ZK put /services/testservice/bad2 'not json at all'
pm_zk $ZK put /services/testservice/bad3 '{"address": "127.0.0.1"}'
pm_zk $ZK put /services/testservice/d "$(srv 20014)"
pm_expect_bodies http://127.0.0.1:20001/ "b d"
for n in bad1 bad2 bad3; do
	pm_log_has "zookeeper:/services/testservice/$n: .*\(server skipped\)" ||
		pm_fail "bad server node $n not logged with its path"
done
grep -q backup "$CFG" && pm_fail "a server node injected an option"
pm_pass "bad server nodes are skipped and logged with their path"

# The service is still following its servers with its last good blob.
pm_zk $ZK put /service_config/testservice '{"type": "zookeeper",
 "server": "localhost:20081", "path": "/services/testservice",
 "port": 20001, "listen_options": ["mode http"],
 "server_options": ["check inter 2000"], "keep_servers_on_empty": true}'
pm_wait_for pm_log_has 'service testservice: definition changed' ||
	pm_fail "fixed service node not taken"

# Only bad nodes left: the service keeps its servers.
pm_zk $ZK rm /services/testservice/i-b
pm_expect_bodies http://127.0.0.1:20001/ "d"
pm_zk $ZK rm /services/testservice/d
pm_wait_for pm_log_has 'service testservice: no valid server node in /services/testservice, keeping its 1 known servers' ||
	pm_fail "only bad server nodes: not reported"
pm_expect_bodies http://127.0.0.1:20001/ "d"
pm_pass "only unparsable server nodes left: the service keeps its servers"

# Really empty, with keep_servers_on_empty: kept.
pm_zk $ZK rm /services/testservice
pm_wait_for pm_log_has 'service testservice: discovery reports no server; keeping its 1 known servers' ||
	pm_fail "keep_servers_on_empty did not keep the servers"
pm_expect_bodies http://127.0.0.1:20001/ "d"
pm_pass "an empty list with keep_servers_on_empty keeps the servers"

# Really empty without the guard: applied (HAProxy answers 503).
pm_zk $ZK put /service_config/third '{"type": "zookeeper",
 "server": "localhost:20081", "path": "/services/third", "port": 20004,
 "listen_options": ["mode http"]}'
pm_zk $ZK put /services/third/c "$(srv 20013)"
pm_expect_bodies http://127.0.0.1:20004/ "c"
pm_zk $ZK rm /services/third/c
is503() { [[ $(curl -s -g --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' \
	http://127.0.0.1:20004/) == 503 ]]; }
pm_wait_for is503 || pm_fail "a really empty list was not applied"
pm_pass "a really empty server list is applied"

# ---- one session; churn while reading -----------------------------------------
sessions=$(grep -c 'ZooKeeper localhost:20081: connected' "$LOG" || true)
pm_assert_eq 1 "$sessions" "the source and every watcher of localhost:20081 share one session"

# Nodes created and deleted as fast as one client can: some vanish between
# the listing and their read, which is not an error.
for i in $(seq 1 40); do
	echo "put /services/third/flap$i $(srv 20013)"
	echo "rm /services/third/flap$i"
done | pm_zk $ZK - || pm_fail "pm-zk script failed"
pm_zk $ZK put /services/third/d "$(srv 20014)"
pm_expect_bodies http://127.0.0.1:20004/ "d"
pm_log_has 'cannot read /services/third' &&
	pm_fail "a vanished child was logged as an error"
pm__alive "$PM_PID" || pm_fail "proxymgrd died"
pm_pass "children that vanish while read are no error"

# --check reads ZooKeeper too (beside the running proxymgrd); the hostile
# nodes still there are problems, so it exits 1 after printing the config.
rc=0
PATH=$(dirname -- "${HAPROXY:-/usr/sbin/haproxy}"):$PATH \
	"$PROXYMGRD" --check -c "$PM_TMP/proxymgr.yml" >"$PM_TMP/check.out" 2>"$PM_TMP/check.err" ||
	rc=$?
pm_assert_eq 1 "$rc" "--check exits 1 for the hostile nodes"
grep -q "zookeeper:/service_config/evil1: key 'listen_options'" "$PM_TMP/check.err" ||
	pm_fail "--check did not name the hostile node"
grep -q '^listen third$' "$PM_TMP/check.out" &&
	grep -q 'server 127.0.0.1:20014 127.0.0.1:20014' "$PM_TMP/check.out" ||
	pm_fail "--check did not print the services and servers from ZooKeeper"
pm_pass "--check waits for ZooKeeper and prints its services and servers"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0 on SIGTERM"
