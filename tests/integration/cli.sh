#!/usr/bin/env bash
# The command line: --help, --version, usage errors, --check on good and
# bad input (with real HAProxy), and clear start-up errors. Ports 19100-19119.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup
pm_write_pmconfig

out=$("$PROXYMGRD" --help) || pm_fail "--help exited non-zero"
grep -q '^usage: proxymgrd -c FILE' <<<"$out" || pm_fail "--help shows no usage"
grep -q -- '--check' <<<"$out" || pm_fail "--help does not list --check"
pm_pass "--help prints usage and exits 0"

out=$("$PROXYMGRD" --version) || pm_fail "--version exited non-zero"
[[ $out =~ ^proxymgrd\ [0-9]+\.[0-9]+ ]] || pm_fail "--version printed '$out'"
pm_pass "--version prints the version"

rc=0
"$PROXYMGRD" 2>"$PM_TMP/err" || rc=$?
pm_assert_eq 2 "$rc" "no -c is a usage error (exit 2)"
grep -q -- '-c FILE is required' "$PM_TMP/err" || pm_fail "no message for missing -c"
rc=0
"$PROXYMGRD" -c x --bogus 2>"$PM_TMP/err" || rc=$?
pm_assert_eq 2 "$rc" "an unknown option is a usage error (exit 2)"

rc=0
"$PROXYMGRD" -c "$PM_TMP/missing.yml" 2>"$PM_TMP/err" || rc=$?
pm_assert_eq 1 "$rc" "a missing proxymgr.yml exits 1"
grep -q "cannot read $PM_TMP/missing.yml: No such file" "$PM_TMP/err" ||
	pm_fail "missing file not named: $(cat "$PM_TMP/err")"

# --check on a good configuration prints haproxy.cfg and exits 0.
echo '{"type": "static", "port": 19100, "listen_options": ["balance roundrobin"], "servers": [{"address": "127.0.0.1", "port": 19111}]}' \
	>"$PM_TMP/services/web.json"
printf '127.0.0.1:19112\n' >"$PM_TMP/api.hosts"
echo '{"type": "file", "port": 19101, "file": "'"$PM_TMP"'/api.hosts"}' >"$PM_TMP/services/api.json"
# The real HAProxy, through a script that says which file it was given.
mkdir "$PM_TMP/tmpdir"
cat >"$PM_TMP/haproxy-said" <<SH
#!/bin/sh
echo "\$*" >>"$PM_TMP/haproxy-args"
exec $(command -v "${HAPROXY:-haproxy}") "\$@"
SH
chmod +x "$PM_TMP/haproxy-said"
cp "$PM_TMP/proxymgr.yml" "$PM_TMP/plain.yml"
HAPROXY=$PM_TMP/haproxy-said pm_write_pmconfig
TMPDIR=$PM_TMP/tmpdir "$PROXYMGRD" --check -c "$PM_TMP/proxymgr.yml" >"$PM_TMP/out" 2>"$PM_TMP/err" ||
	pm_fail "--check refused a good configuration: $(cat "$PM_TMP/err")"
cp "$PM_TMP/plain.yml" "$PM_TMP/proxymgr.yml"
grep -qE -- "-c .*-f $PM_TMP/tmpdir/proxymgrd-check\.[A-Za-z0-9]{6}/haproxy\.cfg" "$PM_TMP/haproxy-args" ||
	pm_fail "--check did not give HAProxy a file in a directory of its own under TMPDIR: $(cat "$PM_TMP/haproxy-args")"
grep -q '^listen web$' "$PM_TMP/out" || pm_fail "--check printed no listen section"
grep -q 'server 127.0.0.1:19111 127.0.0.1:19111' "$PM_TMP/out" ||
	pm_fail "--check printed no server line"
grep -q 'server 127.0.0.1:19112 127.0.0.1:19112' "$PM_TMP/out" ||
	pm_fail "--check did not wait for the host file's servers"
grep -q 'configuration OK' "$PM_TMP/err" || pm_fail "--check did not say OK"
pm_assert_eq "" "$(ls -A "$PM_TMP/tmpdir")" "--check leaves nothing in TMPDIR"
rm "$PM_TMP/services/api.json"
pm_pass "--check prints haproxy.cfg (with every watcher's servers) and validates it with HAProxy"

# --check fails on each kind of bad input, naming file, line and key.
check_fails() {	# MESSAGE-REGEX
	local rc=0
	"$PROXYMGRD" --check -c "$PM_TMP/proxymgr.yml" >/dev/null 2>"$PM_TMP/err" || rc=$?
	[[ $rc == 1 ]] || pm_fail "--check exited $rc, expected 1 (wanted /$1/)"
	grep -qE -- "$1" "$PM_TMP/err" || pm_fail "--check message lacks /$1/: $(cat "$PM_TMP/err")"
}
cp "$PM_TMP/proxymgr.yml" "$PM_TMP/good.yml"
printf 'haproxy:\n  path: haproxy\n  max_old_processes: many\n' >"$PM_TMP/proxymgr.yml"
check_fails "proxymgr.yml:3: haproxy.max_old_processes: expected an integer"
printf 'haproxy:\n  global: [a\n' >"$PM_TMP/proxymgr.yml"
check_fails "proxymgr.yml:[0-9]+:[0-9]+: invalid YAML"
printf 'reload:\n  debounce_ms: 10\n  debounce_ms: 20\n' >"$PM_TMP/proxymgr.yml"
check_fails "proxymgr.yml:3: duplicate key 'reload.debounce_ms'"
cp "$PM_TMP/good.yml" "$PM_TMP/proxymgr.yml"
pm_pass "--check names file, line and key for bad proxymgr.yml"

echo '{"type": "static", "port": 70000, "servers": []}' >"$PM_TMP/services/bad.json"
check_fails "bad.json: key 'port' is required: an integer 1-65535"
rm "$PM_TMP/services/bad.json"
echo '{"type": "static", "port": 19101, "listen_options": ["option frobnicate"], "servers": []}' \
	>"$PM_TMP/services/refused.json"
check_fails "unknown option 'frobnicate'"
rm "$PM_TMP/services/refused.json"
pm_pass "--check fails on a bad service blob and on what HAProxy refuses"

HAPROXY=/nonexistent/haproxy pm_write_pmconfig
rc=0
"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" 2>"$PM_TMP/err" || rc=$?
pm_assert_eq 1 "$rc" "a missing HAProxy binary stops the start with exit 1"
grep -q "haproxy.path: '/nonexistent/haproxy' is not a program uid [0-9]* can run: No such file or directory" "$PM_TMP/err" ||
	pm_fail "missing binary not named: $(cat "$PM_TMP/err")"

cp "$PM_TMP/good.yml" "$PM_TMP/proxymgr.yml"
sed -i "s|path: $PM_TMP/services|path: $PM_TMP/no-such-dir|" "$PM_TMP/proxymgr.yml"
rc=0
"$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" 2>"$PM_TMP/err" || rc=$?
pm_assert_eq 1 "$rc" "a missing service directory stops the start with exit 1"
grep -q "service_config.path: cannot watch $PM_TMP/no-such-dir" "$PM_TMP/err" ||
	pm_fail "missing directory not named: $(cat "$PM_TMP/err")"
pm_pass "start-up errors name the key and the path, and exit 1"
