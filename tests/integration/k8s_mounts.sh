#!/usr/bin/env bash
# Kubernetes ConfigMap/Secret volumes (issue 14): every file proxymgrd
# watches may be a symlink "NAME -> ..data/NAME", and the kubelet updates
# the volume by swapping the "..data" symlink. Each swap below is the
# kubelet's own sequence (k8s_swap) and must be followed; the time from
# the rename to the change being served is printed:
# (a) the wrapper's haproxy.cfg (-c MOUNT/haproxy.cfg -s APP_1=...): the
#     backend changes; a swap of another key alone reloads nothing;
# (b) a host file (watcher "file"): the server changes;
# (c) the services directory: a service added by a swap serves, one
#     removed by a swap goes away, and the other one serves on;
# (d) a host file in a subdirectory of the volume ("conf -> ..data/conf",
#     the watched directory itself is swapped), five swaps in a row.
# K8S_PARTS (default "abcd") runs a subset. Ports 24700-24729.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

HAPROXY=${HAPROXY:-haproxy}
K8S_PARTS=${K8S_PARTS:-abcd}
command -v socat >/dev/null || pm_fail "socat not found (scripts/install-deps)"

# k8s_swap MOUNT PAYLOAD: put the files of directory PAYLOAD in the volume
# at MOUNT the way the kubelet's AtomicWriter does (also for the first
# time): a new timestamped directory holding them, a "..data_tmp" symlink
# to it renamed over "..data", a "KEY -> ..data/KEY" symlink for each new
# key (or first directory of a key's path), the links of keys gone
# removed, then the old directory removed.
# Sets k8s_swapped_ms to the time of the rename.
k8s_swap() {
	local mount=$1 payload=$2 old new f key
	old=$(readlink "$mount/..data" || true)
	new=..$(date -u +%Y_%m_%d_%H_%M_%S.%N)
	mkdir -p "$mount"
	mkdir "$mount/$new"
	cp -R -- "$payload"/* "$mount/$new/"
	ln -s "$new" "$mount/..data_tmp"
	mv -Tf -- "$mount/..data_tmp" "$mount/..data"	# rename(2)
	k8s_swapped_ms=$(pm__now_ms)
	for f in "$payload"/*; do
		key=${f##*/}
		[[ -L $mount/$key ]] || ln -s "..data/$key" "$mount/$key"
	done
	for f in "$mount"/*; do
		key=${f##*/}
		if [[ -L $f && ! -e $payload/$key ]]; then rm -f -- "$f"; fi
	done
	if [[ -n $old ]]; then rm -rf -- "${mount:?}/$old"; fi
}

# k8s_followed WHAT CMD [ARGS...]: CMD succeeds after the last swap (the
# usual bound); the time it took is printed. The second the issue asks
# for is a figure, not a verdict: a busy machine must not fail the test.
k8s_followed() {
	local what=$1
	shift
	PM_WAIT_POLL=0.02 pm_wait_for "$@" ||
		pm_fail "$what: not followed $(($(pm__now_ms) - k8s_swapped_ms)) ms after the swap"
	pm_pass "$what: followed $(($(pm__now_ms) - k8s_swapped_ms)) ms after the swap"
}

# body_is URL NAME: one request is answered by backend NAME.
body_is() { [[ $(pm_curl_body "$1" -H 'Connection: close') == "$2" ]]; }

# ---- (a) the wrapper's haproxy.cfg ------------------------------------------
# k8s_user_cfg PAYLOAD BACKEND_PORT: the user's haproxy.cfg in PAYLOAD.
k8s_user_cfg() {
	mkdir -p "$1"
	cat >"$1/haproxy.cfg" <<-CFG
	global
	    maxconn 256
	defaults
	    mode http
	    timeout connect 5s
	    timeout client 30s
	    timeout server 30s
	    option idle-close-on-response
	frontend app
	    bind fd@\${APP_1}
	    default_backend app
	backend app
	    server s 127.0.0.1:$2
	CFG
}

if [[ $K8S_PARTS == *a* ]]; then
	pm_start_httpd a1 24701 >/dev/null || pm_fail "backend a1"
	pm_start_httpd a2 24702 >/dev/null || pm_fail "backend a2"
	mnt=$PM_TMP/cfg
	k8s_user_cfg "$PM_TMP/payload-a1" 24701
	echo one >"$PM_TMP/payload-a1/other.txt"
	k8s_swap "$mnt" "$PM_TMP/payload-a1"
	[[ -L $mnt/haproxy.cfg && -L $mnt/..data ]] || pm_fail "k8s_swap made no kubelet layout"
	mkdir -p "$PM_TMP/run-a"
	"$PROXYMGRD" -b "$HAPROXY" -c "$mnt/haproxy.cfg" -s APP_1=127.0.0.1:24700 \
		--run-dir "$PM_TMP/run-a" -d </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
	PM_PID=$!
	pm_track "$PM_PID"
	pm_wait_reloads 1 || pm_fail "wrapper: HAProxy did not start"
	url=http://127.0.0.1:24700/
	pm_expect_bodies "$url" "a1"
	pm_pass "wrapper: -c $mnt/haproxy.cfg (a symlink into ..data) serves a1"

	k8s_user_cfg "$PM_TMP/payload-a2" 24702
	echo one >"$PM_TMP/payload-a2/other.txt"
	k8s_swap "$mnt" "$PM_TMP/payload-a2"
	k8s_followed "wrapper: haproxy.cfg swapped to backend a2" body_is "$url" a2
	pm_expect_bodies "$url" "a2"
	pm_wait_log_count "changed on disk" 1 || pm_fail "the swap was not logged"

	# Another key changes, haproxy.cfg does not: read again, no reload.
	reloads=$(pm_reload_count)
	reads=$(pm_log_count "haproxy.cfg read again: unchanged")
	echo two >"$PM_TMP/payload-a2/other.txt"
	k8s_swap "$mnt" "$PM_TMP/payload-a2"
	pm_wait_log_count "haproxy.cfg read again: unchanged" $((reads + 1)) ||
		pm_fail "wrapper: a swap of another key was not seen"
	pm_wait_idle
	pm_assert_eq "$reloads" "$(pm_reload_count)" \
		"wrapper: a swap that leaves haproxy.cfg as it was reloads nothing"
	pm_expect_bodies "$url" "a2"
	pm_stop_proxymgrd
	((PM_RC == 0)) || pm_fail "wrapper: proxymgrd exited with $PM_RC"
	mv "$PM_TMP/proxymgrd.log" "$PM_TMP/wrapper.log"
fi

# ---- (b) a host file, (c) the services directory, (d) a nested key ------------
if [[ $K8S_PARTS == *[bcd]* ]]; then
	for i in 1 2 3; do
		pm_start_httpd "b$i" "2471$i" >/dev/null || pm_fail "backend b$i"
	done
	hosts=$PM_TMP/hosts
	svcs=$PM_TMP/svc
	mkdir -p "$PM_TMP/payload-h1" "$PM_TMP/payload-h2" "$PM_TMP/payload-s1" \
		"$PM_TMP/payload-s2"
	echo 127.0.0.1:24711 >"$PM_TMP/payload-h1/web.hosts"
	echo 127.0.0.1:24712 >"$PM_TMP/payload-h2/web.hosts"
	k8s_swap "$hosts" "$PM_TMP/payload-h1"
	nested=$PM_TMP/nested
	for i in 1 2 3; do
		mkdir -p "$PM_TMP/payload-n$i/conf"
		echo "127.0.0.1:2471$i" >"$PM_TMP/payload-n$i/conf/db.hosts"
	done
	k8s_swap "$nested" "$PM_TMP/payload-n1"
	echo "{\"type\": \"file\", \"file\": \"$nested/conf/db.hosts\", \"port\": 24725}" \
		>"$PM_TMP/payload-s1/db.json"
	echo "{\"type\": \"file\", \"file\": \"$hosts/web.hosts\", \"port\": 24710}" \
		>"$PM_TMP/payload-s1/web.json"
	cp "$PM_TMP/payload-s1"/*.json "$PM_TMP/payload-s2/"
	echo '{"type": "static", "port": 24720,' \
		'"servers": [{"address": "127.0.0.1", "port": 24713}]}' \
		>"$PM_TMP/payload-s2/api.json"
	k8s_swap "$svcs" "$PM_TMP/payload-s1"
	PM_SERVICE_CONFIG="service_config:
  type: file
  path: $svcs" pm_write_pmconfig
	pm_start_proxymgrd
	url=http://127.0.0.1:24710/
	pm_expect_bodies "$url" "b1"
	pm_expect_bodies http://127.0.0.1:24725/ "b1"
	pm_pass "services web and db from $svcs, servers from $hosts/web.hosts and $nested/conf/db.hosts (symlinks into ..data)"
fi

if [[ $K8S_PARTS == *b* ]]; then
	k8s_swap "$hosts" "$PM_TMP/payload-h2"
	k8s_followed "host file: swapped to server b2" body_is "$url" b2
	pm_expect_bodies "$url" "b2"
fi

if [[ $K8S_PARTS == *c* ]]; then
	k8s_swap "$svcs" "$PM_TMP/payload-s2"
	k8s_followed "services: api added by a swap" body_is http://127.0.0.1:24720/ b3
	pm_expect_bodies http://127.0.0.1:24720/ "b3"
	pm_expect_bodies "$url" "$(if [[ $K8S_PARTS == *b* ]]; then echo b2; else echo b1; fi)"
	k8s_swap "$svcs" "$PM_TMP/payload-s1"
	[[ ! -e $svcs/api.json ]] || pm_fail "k8s_swap left api.json behind"
	k8s_followed "services: api removed by a swap" pm_port_refused 24720
	grep -q 'listen api' "$PM_TMP/run/haproxy.cfg" && pm_fail "api still rendered"
	pm_pass "services: api is gone from haproxy.cfg"
fi

if [[ $K8S_PARTS == *d* ]]; then
	# Without following the new directory at once, each swap would wait
	# for dirwatch's periodic check (2 s) about half of the time.
	for i in 2 3 1 2 3; do
		k8s_swap "$nested" "$PM_TMP/payload-n$i"
		k8s_followed "nested key: conf/db.hosts swapped to server b$i" \
			body_is http://127.0.0.1:24725/ "b$i"
	done
	pm_expect_bodies http://127.0.0.1:24725/ "b3"
fi

if [[ $K8S_PARTS == *[bcd]* ]]; then
	pm_expect_bodies "$url" "$(if [[ $K8S_PARTS == *b* ]]; then echo b2; else echo b1; fi)"
	pm_pass "web serves on"
	pm_stop_proxymgrd
	((PM_RC == 0)) || pm_fail "proxymgrd exited with $PM_RC"
fi
pm_pass "done"
