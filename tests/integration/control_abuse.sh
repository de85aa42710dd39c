#!/usr/bin/env bash
# The control socket against clients that misbehave, with proxymgrd held
# to 256 fds: garbage, a 1 MB line, a client that asks for a large reply
# over and over and never reads, 1,000 connections at once (asking, and
# idle). Each gets an error reply or is closed; proxymgrd's memory stays
# bounded, HAProxy traffic passes, a change still goes live, and a later
# `status` answers.
# Ports 25121 (service), 25131-25132 (HTTP); "big"'s 2,000 static servers
# on 127.0.0.1:30000-31999 are never sent a byte.
set -euo pipefail
. "$PM_SRCDIR/tests/lib.sh"
pm_setup

: "${PROXYMGRCTL:=${builddir:-.}/proxymgrctl}"
command -v jq >/dev/null || pm_fail "jq is missing (scripts/install-deps)"
command -v python3 >/dev/null || pm_fail "python3 is missing (scripts/install-deps)"
pm_start_httpd a 25131 >/dev/null || pm_fail "start a"
pm_start_httpd b 25132 >/dev/null || pm_fail "start b"
pm_write_pmconfig
echo 127.0.0.1:25131 >"$PM_TMP/web.hosts"
printf '{"type": "file", "file": "%s", "port": 25121, "listen_options": ["mode http"]}\n' \
	"$PM_TMP/web.hosts" >"$PM_TMP/services/web.json"
python3 -c '
import json
print(json.dumps({"type": "static", "port": 25122,
    "servers": [{"address": "127.0.0.1", "port": 30000 + i} for i in range(2000)]}))
' >"$PM_TMP/services/big.json"

ulimit -S -n 256
# Under AddressSanitizer freed memory waits in a quarantine (256 MB): a
# small one, so that what proxymgrd keeps shows in its RSS.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
pm_start_proxymgrd
pm_expect_bodies http://127.0.0.1:25121/ "a"
SOCK=$PM_TMP/run/proxymgrd.sock
ctl() { timeout 30 "$PROXYMGRCTL" -S "$SOCK" "$@" --json; }
status_ok() { ctl status | jq -e '.ok' >/dev/null; }
pm_wait_for status_ok || pm_fail "status does not answer"
big_ready() { ctl services | jq -e '.services[] | select(.name == "big") | .servers == 2000' >/dev/null; }
pm_wait_for big_ready || pm_fail "service big not loaded"
pm_wait_idle
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PM_PID/status"; }
rss0=$(rss)

cat >"$PM_TMP/abuse.py" <<'PY'
import os, resource, select, socket, sys, time

sock, mode = sys.argv[1], sys.argv[2]

def conn(timeout=10):
    # A full backlog refuses a non-blocking connect (EAGAIN) at once:
    # wait for proxymgrd to accept, as a blocking client would.
    end = time.time() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(sock)
            return s
        except BlockingIOError:
            s.close()
            if time.time() > end:
                raise
            time.sleep(0.001)

def lines(s, n, limit=10):
    buf, out, end = b"", [], time.time() + limit
    while len(out) < n and time.time() < end:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        buf += d
        while b"\n" in buf and len(out) < n:
            l, buf = buf.split(b"\n", 1)
            out.append(l.decode("utf-8", "replace"))
    return out

if mode == "garbage":
    s = conn()
    s.sendall(b"\x00\xff\x01garbage\n" b"GET / HTTP/1.1\r\n"
              b"{\"cmd\": \"status\"}\n" b"\n" b"status\n")
    for l in lines(s, 5):
        print(l)
elif mode == "bigline":
    s = conn()
    try:
        s.sendall(b"x" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    print("\n".join(lines(s, 1)) or "no reply")
    # closed after the error: EOF, not a wait
    print("closed" if lines(s, 1, 5) == [] else "still open")
elif mode == "noread":
    s = conn()
    s.setblocking(False)
    sent, req = 0, b"servers big\n" * 1000
    end = time.time() + 5
    while time.time() < end:
        try:
            sent += s.send(req)
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            break
    print("sent %d bytes, reading nothing" % sent, flush=True)
    sys.stdin.read()            # until the test is done with us
elif mode in ("flood", "hold"):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    socks, failed = [], 0
    for i in range(1000):
        try:
            s = conn(10)
        except OSError as e:
            if failed == 0:
                print("connect: %s" % e, file=sys.stderr)
            failed += 1
            continue
        socks.append(s)
        if mode == "flood":
            try:
                s.sendall(b"status\n")
            except (BrokenPipeError, ConnectionResetError):
                pass        # refused at once: its reply is there to read
    if mode == "hold":
        print("holding %d (%d failed to connect)" % (len(socks), failed),
              flush=True)
        sys.stdin.read()
        sys.exit(0)
    ok = busy = other = none = 0
    for s in socks:
        got = lines(s, 1, 30)
        if not got:
            none += 1
        elif got[0].startswith('{"ok":true'):
            ok += 1
        elif "too many clients" in got[0]:
            busy += 1
        else:
            other += 1
    print("ok %d busy %d other %d none %d connect-failed %d"
          % (ok, busy, other, none, failed))
PY

# ---- garbage ----------------------------------------------------------------------
python3 "$PM_TMP/abuse.py" "$SOCK" garbage >"$PM_TMP/garbage.out"
mapfile -t got <"$PM_TMP/garbage.out"
((${#got[@]} == 5)) || pm_fail "garbage: ${#got[@]} replies: $(cat "$PM_TMP/garbage.out")"
for i in 0 1 2 3; do
	jq -e '.ok == false and (.error | length > 0)' <<<"${got[i]}" >/dev/null ||
		pm_fail "garbage line $i: ${got[i]}"
done
jq -e '.ok and .pid > 0' <<<"${got[4]}" >/dev/null || pm_fail "status after garbage: ${got[4]}"
pm_pass "garbage gets an error reply each, and the connection still answers"

# ---- a 1 MB line ----------------------------------------------------------------------
python3 "$PM_TMP/abuse.py" "$SOCK" bigline >"$PM_TMP/bigline.out"
grep -q '"ok":false,"error":"request line longer than 65536 bytes"' "$PM_TMP/bigline.out" ||
	pm_fail "1 MB line: $(cat "$PM_TMP/bigline.out")"
grep -qx closed "$PM_TMP/bigline.out" || pm_fail "1 MB line: connection not closed"
status_ok || pm_fail "status after a 1 MB line"
pm_pass "a 1 MB line: an error reply and the connection closed"

# ---- a client that never reads ------------------------------------------------------
coproc NOREAD { python3 "$PM_TMP/abuse.py" "$SOCK" noread; }
noread_pid=$NOREAD_PID
pm_track "$noread_pid"
read -r -t 60 line <&"${NOREAD[0]}" || pm_fail "the non-reading client did not start"
echo "$line"
t0=$(pm__now_ms)
status_ok || pm_fail "status while a client does not read"
ctl servers big | jq -e '.servers | length == 2000' >/dev/null ||
	pm_fail "servers big for a client that reads"
pm_expect_bodies http://127.0.0.1:25121/ "a"
pm_wait_for pm_log_has 'control: client did not read its reply in time, closed' ||
	pm_fail "the non-reading client was not dropped"
echo "dropped after $(($(pm__now_ms) - t0)) ms"
exec {NOREAD[1]}>&-
pm_pass "a client that never reads holds one reply, is dropped, and blocks nobody"

# ---- 1,000 connections at once ---------------------------------------------------
python3 "$PM_TMP/abuse.py" "$SOCK" flood >"$PM_TMP/flood.out"
cat "$PM_TMP/flood.out"
read -r _ ok _ busy _ other _ none _ cfail <"$PM_TMP/flood.out"
((none == 0 && other == 0 && cfail == 0)) || pm_fail "1,000 asking: $(cat "$PM_TMP/flood.out")"
((ok > 0 && ok + busy == 1000)) || pm_fail "1,000 asking: $(cat "$PM_TMP/flood.out")"
status_ok || pm_fail "status after 1,000 connections"
pm_pass "1,000 connections asking at once: each answered or told to come back"

coproc HOLD { python3 "$PM_TMP/abuse.py" "$SOCK" hold; }
hold_pid=$HOLD_PID
pm_track "$hold_pid"
read -r -t 60 line <&"${HOLD[0]}" || pm_fail "the holding client did not start"
echo "$line"
# Meanwhile HAProxy serves, and a change goes live (it needs fds of its
# own: the stats socket, haproxy.cfg).
pm_expect_bodies http://127.0.0.1:25121/ "a"
echo 127.0.0.1:25132 >>"$PM_TMP/web.hosts"
pm_expect_bodies http://127.0.0.1:25121/ "a b"
pm__alive "$PM_PID" || pm_fail "proxymgrd died under 1,000 idle connections"
busy_reply=$(echo status | timeout 10 socat -t 5 - "UNIX-CONNECT:$SOCK" || true)
jq -e '.ok == false and (.error | test("too many clients"))' <<<"$busy_reply" >/dev/null ||
	pm_fail "a client past the cap: '$busy_reply'"
exec {HOLD[1]}>&-
wait "$hold_pid" 2>/dev/null || true
pm_wait_for status_ok || pm_fail "status after the idle connections went"
pm_pass "1,000 idle connections: the cap holds, the rest are told at once; traffic and changes go on"

# ---- memory ----------------------------------------------------------------------------
rss1=$(rss)
echo "proxymgrd RSS: $rss0 kB before, $rss1 kB after"
((rss1 - rss0 < 20000)) || pm_fail "proxymgrd grew by $((rss1 - rss0)) kB"
pm_stop_proxymgrd
((PM_RC == 0)) || pm_fail "proxymgrd exited $PM_RC"
pm_log_has 'Sanitizer|runtime error' && pm_fail "sanitizer report"
pm_pass "memory bounded ($((rss1 - rss0)) kB), clean stop"
