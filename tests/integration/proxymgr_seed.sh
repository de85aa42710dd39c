#!/usr/bin/env bash
# Coming from ProxyMgr: its README's proxymgr.yml and service blob, as
# written (paths and ports changed, and a port in the blob, which ProxyMgr
# needs as well), with a metadata key a registrar adds:
# - the service serves, and the unknown key is warned about once, naming
#   the node, and ignored;
# - the blob written again, or with the metadata's value changed, is no
#   new warning and no reload; a second unknown key is warned about again;
# - server names are ProxyMgr's HOST:PORT, and the runtime API takes them.
# Ports 26200-26209, ZooKeeper 26290.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

ZK=127.0.0.1:26290
CFG=$PM_TMP/run/haproxy.cfg
pm_zk_start single 26290
pm_start_httpd a 26201 >/dev/null || pm_fail "backend a"
pm_start_httpd b 26202 >/dev/null || pm_fail "backend b"

# ProxyMgr's README proxymgr.yml, as written.
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
	-e "s|localhost:2181|localhost:26290|" "$PM_TMP/proxymgr.yml"

# Its service blob, with the port and a registrar's metadata key.
blob() {
	local b='{"type": "zookeeper",
 "server": "localhost:2181",
 "path": "/services/testservice",
 "listen_options": ["mode http"],
 "server_options": ["check inter 2000"]}'
	b=${b/localhost:2181/localhost:26290}
	b=${b/\"path\"/\"port\": 26200, $1\"path\"}
	printf '%s' "$b"
}
pm_zk $ZK put /service_config/testservice "$(blob '"owner": "team-search", ')"
# Its server blob.
pm_zk $ZK put /services/testservice/s1 '{"address": "127.0.0.1",
 "port": 26201}'

PATH=$PATH:$(dirname -- "${HAPROXY:-/usr/sbin/haproxy}") pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:26200/ "a"
warning="zookeeper:/service_config/testservice: unknown key 'owner' for type 'zookeeper': ignored"
pm_wait_for pm_log_has "$warning" || pm_fail "no warning about 'owner'"
grep -q 'server 127.0.0.1:26201 127.0.0.1:26201 id 1 check inter 2000' "$CFG" ||
	pm_fail "server not named HOST:PORT: $(grep server "$CFG")"
pm_pass "ProxyMgr's README proxymgr.yml and blob with a metadata key serve; the key is warned about"

# ---- the same blob again, the metadata changed: no warning, no reload -------------
reloads=$(pm_reload_count)
pm_zk $ZK put /service_config/testservice "$(blob '"owner": "team-search", ')"
pm_zk $ZK put /service_config/testservice "$(blob '"owner": "team-ads", ')"
# A server added after both writes: once it serves, both were read.
pm_zk $ZK put /services/testservice/s2 '{"address": "127.0.0.1", "port": 26202}'
pm_expect_bodies http://127.0.0.1:26200/ "a b"
pm_wait_idle
pm_assert_eq 1 "$(pm_log_count "unknown key")" "the unknown key is warned about once"
pm_assert_eq "$reloads" "$(pm_reload_count)" "a metadata change is no reload"
pm_pass "the blob written again or its metadata changed: no second warning, no reload"

pm_zk $ZK put /service_config/testservice "$(blob '"owner": "team-ads", "tier": 2, ')"
pm_wait_for pm_log_has "testservice: unknown keys 'owner', 'tier' for type 'zookeeper': ignored" ||
	pm_fail "a new unknown key is not warned about"
pm_assert_eq 2 "$(pm_log_count "unknown key")" "warned again once the unknown keys changed"
pm_pass "a blob whose unknown keys change is warned about again"

# ---- the runtime API with ProxyMgr's names ----------------------------------------
pm_stats "set server testservice/127.0.0.1:26201 state maint" >/dev/null
pm_expect_bodies http://127.0.0.1:26200/ "b"
pm_stats "set server testservice/127.0.0.1:26201 state ready" >/dev/null
pm_expect_bodies http://127.0.0.1:26200/ "a b"
pm_pass "set server testservice/127.0.0.1:26201 state maint|ready works"

pm_stop_proxymgrd
pm_assert_eq 0 "$PM_RC" "proxymgrd exits 0"
