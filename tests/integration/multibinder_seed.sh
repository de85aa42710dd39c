#!/usr/bin/env bash
# Coming from multibinder: its README's foo.cfg.erb, as written but for
# the bind address and port (`bind <%= bind_tcp('127.0.0.1', 26240) %>`),
# rendered once with Debian's erb, both ways the README shows:
# (a) bind_tcp as multibinder renders it without its binder, a plain
#     `bind ADDR:PORT`: the file runs unmodified with RAProxy's command
#     line and no -s (proxymgrd -b HAPROXY -c foo.cfg), and reloads
#     through HAProxy's own socket transfer;
# (b) bind_tcp as a named listener, `bind fd@${BIND_127_0_0_1_26240}`,
#     with -s BIND_127_0_0_1_26240=127.0.0.1:26240: proxymgrd holds the
#     socket.
# Each way: the template as written serves (its frontend has no backend:
# HAProxy answers 503 itself, with the template's `user haproxy`, `group
# haproxy` and `daemon`); then the template gets a backend, and 5 edits,
# each rendered again with erb, reload under wrk (`Connection: close`)
# with no failed request.
# Ports 26240-26249.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

command -v erb >/dev/null || pm_fail "erb not found (package ruby, scripts/install-deps)"
command -v wrk >/dev/null || pm_fail "wrk not found (scripts/install-deps)"
getent passwd haproxy >/dev/null || pm_fail "no user haproxy (package haproxy)"
pm_start_httpd app 26241 >/dev/null || pm_fail "backend app"

# multibinder's haproxy/README.md, foo.cfg.erb, the bind changed.
cat >"$PM_TMP/foo.cfg.erb" <<'EOF'
global
    user haproxy
    group haproxy
    daemon
    maxconn 256

defaults
    mode http
    timeout connect 5000ms
    timeout client 50000ms
    timeout server 50000ms

frontend http-in
    bind <%= bind_tcp('0.0.0.0', 80) %>
EOF
sed -i "s/bind_tcp('0.0.0.0', 80)/bind_tcp('127.0.0.1', 26240)/" "$PM_TMP/foo.cfg.erb"
cp "$PM_TMP/foo.cfg.erb" "$PM_TMP/foo.cfg.erb.orig"

# The README's two definitions of bind_tcp, for erb -r.
cat >"$PM_TMP/bind_plain.rb" <<'EOF'
# multibinder's bind_tcp without a binder: HAProxy binds the address.
def bind_tcp(ip, port) = "#{ip}:#{port}"
EOF
cat >"$PM_TMP/bind_named.rb" <<'EOF'
# bind_tcp as a proxymgrd named listener: run with -s NAME=IP:PORT.
def bind_tcp(ip, port) = "fd@${BIND_#{ip.tr('.:', '__')}_#{port}}"
EOF

# render RB: foo.cfg.erb to foo.cfg, atomically (a reload sees one or
# the other).
render() {
	erb -r "$PM_TMP/$1" "$PM_TMP/foo.cfg.erb" >"$PM_TMP/foo.cfg.tmp" ||
		pm_fail "erb failed"
	mv -f "$PM_TMP/foo.cfg.tmp" "$PM_TMP/foo.cfg"
}
status() { curl -s -o /dev/null -w '%{http_code}' -H 'Connection: close' http://127.0.0.1:26240/; }
gen() { curl -s -D - -o /dev/null -H 'Connection: close' http://127.0.0.1:26240/ | tr -d '\r' | awk -F': ' 'tolower($1) == "x-gen" {print $2}'; }

# run WAY RB BIND_LINE [PROXYMGRD ARGS...]
run() {
	local way=$1 rb=$2 bind=$3 i reloads served_by
	shift 3
	cp "$PM_TMP/foo.cfg.erb.orig" "$PM_TMP/foo.cfg.erb"
	render "$rb"
	grep -qxF "    bind $bind" "$PM_TMP/foo.cfg" ||
		pm_fail "$way: erb rendered $(grep bind "$PM_TMP/foo.cfg")"
	: >"$PM_TMP/proxymgrd.log"
	"$PROXYMGRD" -b "${HAPROXY:-haproxy}" -c "$PM_TMP/foo.cfg" \
		--run-dir "$PM_TMP/run-$way" -d "$@" </dev/null >>"$PM_TMP/proxymgrd.log" 2>&1 &
	PM_PID=$!
	pm_track "$PM_PID"
	pm_wait_reloads 1 || pm_fail "$way: proxymgrd did not start HAProxy"
	is503() { [[ $(status) == 503 ]]; }
	pm_wait_for is503 || pm_fail "$way: the template as written does not answer 503 but $(status)"
	served_by=$(ps -o user= -p "$(pm_hap_pids_for "$PM_TMP/foo.cfg" | head -n 1)")
	pm_assert_eq haproxy "$served_by" "$way: HAProxy runs as the template's user"
	pm_pass "$way: multibinder's foo.cfg.erb, rendered with erb, serves as written"

	# A backend, then 5 edits under load, each rendered again. The load
	# starts once the HAProxy without a backend is gone: until it is
	# soft-stopped both share the listen socket, and it answers 503.
	reloads=$(pm_reload_count)
	cat >>"$PM_TMP/foo.cfg.erb" <<-'EOF'
	    default_backend app
	backend app
	    http-response set-header X-Gen 0
	    server app1 127.0.0.1:26241
	EOF
	render "$rb"
	pm_wait_reloads $((reloads + 1)) || pm_fail "$way: the backend added is not reloaded"
	one_haproxy() { (($(pm_hap_pids_for "$PM_TMP/foo.cfg" | wc -l) == 1)); }
	pm_wait_for one_haproxy || pm_fail "$way: the HAProxy without a backend did not exit"
	has_gen() { [[ $(gen) == "$1" ]]; }
	pm_wait_for has_gen 0 || pm_fail "$way: the backend added is not served"
	pm_wrk_start "$PM_TMP/wrk-$way.out" 300 20 http://127.0.0.1:26240/ \
		-H 'Connection: close' >/dev/null
	local wrk=$PM_LAST_PID
	for i in 1 2 3 4 5; do
		reloads=$(pm_reload_count)
		sed -i "s/X-Gen $((i - 1))\$/X-Gen $i/" "$PM_TMP/foo.cfg.erb"
		render "$rb"
		pm_wait_reloads $((reloads + 1)) || pm_fail "$way: edit $i not reloaded"
		pm_wait_for has_gen "$i" || pm_fail "$way: edit $i not served"
	done
	pm_wrk_stop "$wrk" || pm_fail "$way: wrk failed"
	pm_wrk_parse "$PM_TMP/wrk-$way.out" || pm_fail "$way: no wrk result"
	((WRK_REQUESTS > 0)) || pm_fail "$way: no request made"
	pm_assert_eq 0 "$WRK_SOCKET_ERRORS" "$way: socket errors over 5 reloads ($WRK_REQUESTS requests)"
	pm_assert_eq 0 "$WRK_NON2XX" "$way: non-2xx answers over 5 reloads"
	pm_log_has 'reload failed' && pm_fail "$way: a reload failed"
	pm_stop_proxymgrd
	pm_assert_eq 0 "$PM_RC" "$way: proxymgrd exits 0"
	[[ -z $(pm_hap_pids_for "$PM_TMP/foo.cfg") ]] || pm_fail "$way: HAProxy left running"
	pm_pass "$way: 5 edits of the template, each rendered with erb, reload with no failed request ($WRK_REQUESTS requests)"
}

run plain bind_plain.rb "127.0.0.1:26240"
run named bind_named.rb 'fd@${BIND_127_0_0_1_26240}' -s BIND_127_0_0_1_26240=127.0.0.1:26240
