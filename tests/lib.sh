# shellcheck shell=bash
#
# tests/lib.sh - helpers for proxymgrd integration tests.
#
# Usage (from a test run by automake, cwd = build dir):
#     . "${srcdir:-.}/tests/lib.sh"
#     pm_setup
#     pm_start_httpd web1 18081 >/dev/null || pm_fail "start web1"
#
# Safe under `set -euo pipefail`.  All waits are bounded.  Processes are only
# ever stopped by the pids recorded here, never by name.
#
# Tests wait on conditions (a log line, a pid, a server in HAProxy's own
# state, proxymgrd saying it is idle), never on the clock: CI runs the
# suite beside a sanitizer build on 2 cores, where anything may take ten
# times as long.  A bound (PM_WAIT_TIMEOUT) only decides when to give up.
#
# Command substitution note: `pid=$(pm_start_httpd ...)` works and the process
# is still cleaned up (pids are also recorded in a file), but the process is
# then not a child of the test shell.  Calling the function directly and using
# $PM_LAST_PID keeps it a child, so `wait` can report its exit status.
# pm_fail inside $(...) only leaves the subshell.

if [[ -n "${PM_LIB_LOADED:-}" ]]; then
    return 0
fi
PM_LIB_LOADED=1

: "${PM_HTTPD:=${builddir:-.}/tests/helpers/pm-httpd}"
: "${PROXYMGRD:=${builddir:-.}/proxymgrd}"
: "${PM_WAIT_TIMEOUT:=30}"
: "${PM_WAIT_POLL:=0.1}"
: "${PM_LOG_TAIL:=30}"
export PM_HTTPD PROXYMGRD

PM_TMP=${PM_TMP:-}
PM_PIDS=()
PM_LAST_PID=

# ---- internals --------------------------------------------------------------

# Milliseconds since the epoch, without forking.
pm__now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# "5", "0.5", "2.25" seconds -> milliseconds (integer arithmetic only).
pm__to_ms() {
    local s=$1 int frac
    if [[ ! $s =~ ^([0-9]*)(\.([0-9]*))?$ ]] || [[ -z ${BASH_REMATCH[1]}${BASH_REMATCH[3]} ]]; then
        echo "pm: invalid duration '$s'" >&2
        return 1
    fi
    int=${BASH_REMATCH[1]:-0}
    frac=${BASH_REMATCH[3]:-}
    frac=${frac}000
    echo $((10#$int * 1000 + 10#${frac:0:3}))
}

# True if PID exists and is not a zombie (orphans may never be reaped here).
pm__alive() {
    local pid=$1 stat
    kill -0 "$pid" 2>/dev/null || return 1
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# The start time of PID (field 22 of /proc/PID/stat), or nothing.
pm__starttime() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
    stat=${stat##*) }
    read -r -a stat <<<"$stat"
    echo "${stat[19]}"
}

# True if PID is still the process pm_track recorded: pids wrap around
# (pid_max may be 32768) and a test starts thousands of processes, so a
# dead tracked pid may be another test's backend by the time we clean up.
pm__same_proc() {
    local pid=$1 want
    [[ -r $PM_TMP/.start-$pid ]] || return 0
    read -r want <"$PM_TMP/.start-$pid" || return 0
    [[ $(pm__starttime "$pid") == "$want" ]]
}

# True if PID is a child of the current shell (so `wait PID` works).
pm__is_child() {
    local pid=$1 stat
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }
    stat=${stat#* }
    [[ ${stat%% *} == "${BASHPID:-$$}" ]]
}

# Every pid recorded, from the array and from subshells via the pid file.
pm__all_pids() {
    local p
    {
        for p in "${PM_PIDS[@]+"${PM_PIDS[@]}"}"; do
            echo "$p"
        done
        if [[ -n $PM_TMP && -f $PM_TMP/.pids ]]; then
            cat "$PM_TMP/.pids"
        fi
    } | awk '/^[0-9]+$/ && !seen[$0]++'
}

pm__cleanup() {
    local rc=$? pid i alive
    local -a pids=()
    set +e
    trap - EXIT INT TERM HUP

    mapfile -t pids < <(pm__all_pids)
    # stop in reverse start order: later processes usually depend on earlier
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pm__alive "${pids[i]}" && pm__same_proc "${pids[i]}" &&
            kill -TERM "${pids[i]}" 2>/dev/null
    done
    for ((i = 0; i < 50; i++)); do
        alive=0
        for pid in "${pids[@]+"${pids[@]}"}"; do
            pm__alive "$pid" && pm__same_proc "$pid" && { alive=1; break; }
        done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]+"${pids[@]}"}"; do
        if pm__alive "$pid" && pm__same_proc "$pid"; then
            echo "pm: pid $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    # reap our own children so nothing is left as a zombie
    for pid in "${pids[@]+"${pids[@]}"}"; do
        pm__is_child "$pid" && wait "$pid" 2>/dev/null
    done
    # A proxymgrd that crashed leaves its HAProxy serving (it runs in its
    # own session, on purpose): stop those of this test, by pid.
    if [[ -n $PM_TMP ]]; then
        mapfile -t pids < <(pm_hap_pids_for "$PM_TMP/")
        for pid in "${pids[@]+"${pids[@]}"}"; do
            echo "pm: HAProxy $pid outlived its proxymgrd, stopping it" >&2
            kill -KILL "$pid" 2>/dev/null
        done
    fi

    if [[ -n $PM_TMP && -d $PM_TMP ]]; then
        if [[ ${PM_KEEP:-0} == 1 ]]; then
            echo "pm: keeping $PM_TMP" >&2
        else
            rm -rf -- "$PM_TMP"
        fi
    fi
    exit "$rc"
}

# ---- public API --------------------------------------------------------------

# pm_setup: create $PM_TMP and arrange cleanup on exit (also on INT/TERM/HUP).
pm_setup() {
    PM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pm-test.XXXXXX") || {
        echo "pm_setup: mktemp failed" >&2
        exit 1
    }
    export PM_TMP
    PM_PIDS=()
    : >"$PM_TMP/.pids"
    trap pm__cleanup EXIT
    # bash skips the EXIT trap when killed by an untrapped signal
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# pm_track PID: stop PID (SIGTERM, then SIGKILL after 5 s) when the test exits.
pm_track() {
    local pid=${1:-}
    if [[ ! $pid =~ ^[1-9][0-9]*$ ]]; then
        echo "pm_track: invalid pid '$pid'" >&2
        return 1
    fi
    PM_PIDS+=("$pid")
    if [[ -n $PM_TMP && -d $PM_TMP ]]; then
        echo "$pid" >>"$PM_TMP/.pids"
        pm__starttime "$pid" >"$PM_TMP/.start-$pid"
    fi
}

# pm_start_httpd NAME PORT [ADDR]: start pm-httpd answering "NAME\n", wait
# (max 5 s) for its pid file, track it, echo the pid (also in $PM_LAST_PID).
pm_start_httpd() {
    local name=${1:?pm_start_httpd NAME PORT [ADDR]} port=${2:?pm_start_httpd NAME PORT [ADDR]}
    local addr=${3:-127.0.0.1}
    local pidfile="$PM_TMP/httpd-$name.pid" log="$PM_TMP/httpd-$name.log"
    local pid i

    rm -f -- "$pidfile"
    "$PM_HTTPD" --bind "$addr" --port "$port" --name "$name" --pidfile "$pidfile" \
        </dev/null >>"$log" 2>&1 &
    pid=$!
    pm_track "$pid"
    PM_LAST_PID=$pid

    for ((i = 0; i < 50; i++)); do
        [[ -s $pidfile ]] && break
        pm__alive "$pid" || break
        sleep 0.1
    done
    if [[ ! -s $pidfile ]]; then
        echo "pm_start_httpd: $name ($addr port $port) did not start; log:" >&2
        tail -n 5 -- "$log" >&2 2>/dev/null
        return 1
    fi
    echo "$pid"
}

# pm_wait_port PORT [ADDR] [TIMEOUT_S]: wait until a TCP connect succeeds.
pm_wait_port() {
    local port=${1:?pm_wait_port PORT [ADDR] [TIMEOUT_S]} addr=${2:-127.0.0.1}
    local timeout_ms deadline
    timeout_ms=$(pm__to_ms "${3:-$PM_WAIT_TIMEOUT}") || return 2
    addr=${addr#[}
    addr=${addr%]}
    deadline=$(($(pm__now_ms) + timeout_ms))
    while :; do
        # each attempt is bounded too, in case the SYN goes unanswered
        # shellcheck disable=SC2016 # $0/$1 expand in the inner bash
        if timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$addr" "$port" 2>/dev/null; then
            return 0
        fi
        (($(pm__now_ms) < deadline)) || break
        sleep 0.1
    done
    echo "pm_wait_port: nothing accepting on $addr port $port after ${3:-$PM_WAIT_TIMEOUT} s" >&2
    return 1
}

# pm_port_refused PORT [ADDR]: a TCP connect to ADDR (127.0.0.1) PORT is
# refused. A connect still pending after 5 s is no proof either way: false.
pm_port_refused() {
    local rc
    # shellcheck disable=SC2016 # $0/$1 expand in the inner bash
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${2:-127.0.0.1}" \
        "${1:?pm_port_refused PORT [ADDR]}" 2>/dev/null && rc=0 || rc=$?
    ((rc != 0 && rc != 124))
}

# pm_wait_for CMD [ARGS...]: retry CMD every $PM_WAIT_POLL s (0.1) until it
# succeeds or $PM_WAIT_TIMEOUT seconds (default 30) pass; 1 on timeout.
pm_wait_for() {
    local timeout_ms deadline
    timeout_ms=$(pm__to_ms "$PM_WAIT_TIMEOUT") || return 2
    deadline=$(($(pm__now_ms) + timeout_ms))
    while :; do
        if "$@"; then
            return 0
        fi
        (($(pm__now_ms) < deadline)) || return 1
        sleep "$PM_WAIT_POLL"
    done
}

# pm_curl_body URL [CURL_ARGS...]: echo the response body (curl's exit status).
pm_curl_body() {
    local url=${1:?pm_curl_body URL [CURL_ARGS...]}
    shift
    # --noproxy: a proxy from the environment must never see test traffic;
    # -g: don't treat the brackets of [::1] as a glob
    curl -s -g --noproxy '*' --max-time 2 "$@" -- "$url"
}

# pm_pass MSG: print "ok: MSG".
pm_pass() {
    echo "ok: $*"
}

# pm_fail MSG: print "FAIL: MSG" to stderr, the tail of every log, exit 1.
pm_fail() {
    local f
    echo "FAIL: $*" >&2
    if [[ -n $PM_TMP && -d $PM_TMP ]]; then
        for f in "$PM_TMP"/*.log; do
            [[ -f $f ]] || continue
            echo "--- last $PM_LOG_TAIL lines of $(basename -- "$f") ---" >&2
            tail -n "$PM_LOG_TAIL" -- "$f" >&2
        done
        # again, last: CI shows a failed test's log from its end
        echo "FAIL: $*" >&2
    fi
    exit 1
}

# pm_assert_eq EXPECTED ACTUAL MSG: pm_pass MSG, or pm_fail showing both.
pm_assert_eq() {
    if [[ "$1" == "$2" ]]; then
        pm_pass "$3"
    else
        pm_fail "$3: expected '$1', got '$2'"
    fi
}

# pm_wrk_start OUTFILE DURATION_S CONNS URL [WRK_ARGS...]: run wrk in the
# background, track it, echo its pid (also in $PM_LAST_PID).
pm_wrk_start() {
    local usage="pm_wrk_start OUTFILE DURATION_S CONNS URL [WRK_ARGS...]"
    local out=${1:?$usage} dur=${2:?$usage} conns=${3:?$usage} url=${4:?$usage}
    local threads=2 pid
    shift 4
    if [[ ! $dur =~ ^[1-9][0-9]*$ || ! $conns =~ ^[1-9][0-9]*$ ]]; then
        echo "pm_wrk_start: DURATION_S and CONNS must be positive integers" >&2
        return 1
    fi
    ((conns >= threads)) || threads=$conns # wrk refuses fewer connections than threads
    wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 5s "$@" "$url" </dev/null >"$out" 2>&1 &
    pid=$!
    pm_track "$pid"
    PM_LAST_PID=$pid
    # for pm_wrk_wait: a deadline (wrk stops itself after DURATION_S), which
    # shell is wrk's parent (inside $(...) it is not the caller), the output
    if [[ -n $PM_TMP && -d $PM_TMP ]]; then
        printf '%s %s %s\n' "$(($(pm__now_ms) + (dur + 30) * 1000))" "$BASHPID" "$out" \
            >"$PM_TMP/.wrk-$pid"
    fi
    echo "$pid"
}

# pm_wrk_wait PID: wait for a pm_wrk_start run (bounded: DURATION_S + 30 s,
# then it is killed).  Returns wrk's exit status when PID is our child, else
# 0 if its output has a result line, 1 otherwise.
pm_wrk_wait() {
    local pid=${1:?pm_wrk_wait PID} deadline parent="" out="" rc
    if [[ -n $PM_TMP && -r $PM_TMP/.wrk-$pid ]]; then
        read -r deadline parent out <"$PM_TMP/.wrk-$pid"
    else
        deadline=$(($(pm__now_ms) + 600000))
        pm__is_child "$pid" && parent=$BASHPID
    fi
    while pm__alive "$pid"; do
        if (($(pm__now_ms) >= deadline)); then
            echo "pm_wrk_wait: wrk pid $pid overran its duration, killing it" >&2
            kill -KILL "$pid" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    if [[ $parent == "$BASHPID" ]]; then
        # bash keeps the status of reaped background jobs, so this still works
        wait "$pid" 2>/dev/null && rc=0 || rc=$?
        return "$rc"
    fi
    # not our child (started inside $(...)): judge by the output instead
    [[ -n $out ]] && grep -q ' requests in ' -- "$out" 2>/dev/null
}

# pm_wrk_stop PID: end a pm_wrk_start run now (wrk prints its results on
# SIGINT). Start wrk with a generous DURATION_S and stop it once the test
# has seen what it waits for, so that the load covers it on any machine.
pm_wrk_stop() {
    local pid=${1:?pm_wrk_stop PID}
    pm__alive "$pid" || pm_fail "wrk (pid $pid) ended before the test did: raise its duration"
    kill -INT "$pid"
    pm_wrk_wait "$pid"
}

# pm_wrk_run OUTFILE DURATION_S CONNS URL [WRK_ARGS...]: run wrk in the
# foreground (-t2 -cCONNS -dDURATION_Ss --timeout 5s), output to OUTFILE.
pm_wrk_run() {
    local pid
    pm_wrk_start "$@" >/dev/null || return 1
    pid=$PM_LAST_PID
    pm_wrk_wait "$pid"
}

# pm_wrk_parse OUTFILE: set WRK_REQUESTS, WRK_SOCKET_ERRORS (connect + read +
# write + timeout), WRK_NON2XX, and WRK_RPS.  Returns 1 (all 0) when OUTFILE
# has no result, e.g. wrk could not connect at start.
#   "  973049 requests in 10.02s, 91.87MB read"
#   "  Socket errors: connect 0, read 10, write 284344, timeout 0"
#   "  Non-2xx or 3xx responses: 164882"
#   "Requests/sec:  97132.43"
# shellcheck disable=SC2034 # the WRK_* results are for the caller
pm_wrk_parse() {
    local f=${1:?pm_wrk_parse OUTFILE} line
    WRK_REQUESTS=0
    WRK_SOCKET_ERRORS=0
    WRK_NON2XX=0
    WRK_RPS=0
    local found=0
    [[ -r $f ]] || return 1
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^[[:space:]]*([0-9]+)\ requests\ in\  ]]; then
            WRK_REQUESTS=${BASH_REMATCH[1]}
            found=1
        elif [[ $line =~ Socket\ errors:\ connect\ ([0-9]+),\ read\ ([0-9]+),\ write\ ([0-9]+),\ timeout\ ([0-9]+) ]]; then
            WRK_SOCKET_ERRORS=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4]))
        elif [[ $line =~ Non-2xx\ or\ 3xx\ responses:\ ([0-9]+) ]]; then
            WRK_NON2XX=${BASH_REMATCH[1]}
        elif [[ $line =~ ^Requests/sec:[[:space:]]*([0-9.]+) ]]; then
            WRK_RPS=${BASH_REMATCH[1]}
        fi
    done <"$f"
    ((found))
}

# pm_hap_pids_for CONFIG: echo (one per line) the pids of haproxy processes
# whose command line contains CONFIG as a plain substring.  Always returns 0
# (unlike pgrep), so `n=$(pm_hap_pids_for X | wc -l)` survives pipefail;
# test for none with [[ -z $(pm_hap_pids_for X) ]].
pm_hap_pids_for() {
    local cfg=${1:?pm_hap_pids_for CONFIG} d pid comm args
    local -a argv
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $pid == "$BASHPID" ]] && continue
        read -r comm 2>/dev/null <"$d/comm" || continue
        mapfile -d "" -t argv 2>/dev/null <"$d/cmdline" || continue
        ((${#argv[@]})) || continue
        # workers of a master-worker haproxy keep the same argv and comm
        [[ $comm == haproxy || ${argv[0]##*/} == haproxy ]] || continue
        args=" ${argv[*]} "
        [[ $args == *"$cfg"* ]] || continue
        pm__alive "$pid" || continue
        echo "$pid"
    done
    return 0
}

# ---- proxymgrd ---------------------------------------------------------------

# pm_write_pmconfig [YAML_LINES...]: write $PM_TMP/proxymgr.yml for a test:
# everything under $PM_TMP, listeners on 127.0.0.1, fast reloads, services
# from $PM_TMP/services (or the section in $PM_SERVICE_CONFIG); more
# defaults lines in $PM_DEFAULTS_EXTRA (YAML flow items: "a", "b"). Extra
# arguments are appended as lines (e.g. a whole "reload:" section must then
# not be repeated: use PM_RELOAD_MIN_MS / PM_DEBOUNCE_MS /
# PM_INITIAL_SYNC_MS instead).
pm_write_pmconfig() {
    mkdir -p "$PM_TMP/services" "$PM_TMP/run"
    {
        echo "haproxy:"
        echo "  path: ${HAPROXY:-haproxy}"
        echo "  config_path: $PM_TMP/run/haproxy.cfg"
        echo "  socket_path: $PM_TMP/run/haproxy.sock"
        echo "  bind_address: 127.0.0.1"
        echo "  global: [${PM_GLOBAL:-\"maxconn 4096\"}]"
        # No option idle-close-on-response: proxymgrd adds it to HTTP services.
        echo "  defaults: [\"mode http\", \"timeout connect 5s\", \"timeout client 30s\", \"timeout server 30s\"${PM_DEFAULTS_EXTRA:+, $PM_DEFAULTS_EXTRA}]"
        [[ -n ${PM_HAPROXY_EXTRA:-} ]] && printf '%s\n' "$PM_HAPROXY_EXTRA"
        echo "reload:"
        echo "  debounce_ms: ${PM_DEBOUNCE_MS:-10}"
        echo "  min_interval_ms: ${PM_RELOAD_MIN_MS:-100}"
        [[ -n ${PM_INITIAL_SYNC_MS:-} ]] && echo "  initial_sync_timeout_ms: $PM_INITIAL_SYNC_MS"
        if [[ -n ${PM_SERVICE_CONFIG:-} ]]; then
            printf '%s\n' "$PM_SERVICE_CONFIG"
        else
            echo "service_config:"
            echo "  type: file"
            echo "  path: $PM_TMP/services"
        fi
        local line
        for line in "$@"; do
            echo "$line"
        done
    } >"$PM_TMP/proxymgr.yml"
}

# pm_write_atomic FILE: write stdin to FILE through a temp file and rename.
pm_write_atomic() {
    local f=${1:?pm_write_atomic FILE}
    cat >"$f.tmp.$$" && mv -f -- "$f.tmp.$$" "$f"
}

# pm_reload_count: HAProxy generations that came up so far (first start
# included), from proxymgrd's log.
pm_reload_count() {
    grep -cE 'serves [0-9]+ services \(reload' "$PM_TMP/proxymgrd.log" 2>/dev/null || true
}

# pm_wait_reloads N: wait until pm_reload_count >= N.
pm_wait_reloads() {
    local n=${1:?pm_wait_reloads N}
    pm__reloads_at_least() { (($(pm_reload_count) >= $1)); }
    pm_wait_for pm__reloads_at_least "$n"
}

# pm_start_proxymgrd [ARGS...]: start proxymgrd on $PM_TMP/proxymgr.yml
# (debug log in $PM_TMP/proxymgrd.log), track it, set PM_PID and wait for
# its first HAProxy to serve.
pm_start_proxymgrd() {
    "$PROXYMGRD" -c "$PM_TMP/proxymgr.yml" -d "$@" </dev/null \
        >>"$PM_TMP/proxymgrd.log" 2>&1 &
    PM_PID=$!
    pm_track "$PM_PID"
    pm_wait_reloads 1 || pm_fail "proxymgrd did not start HAProxy"
}

# pm_stop_proxymgrd: SIGTERM proxymgrd, wait (bounded) for it; sets PM_RC.
pm_stop_proxymgrd() {
    local i
    kill -TERM "$PM_PID" 2>/dev/null
    for ((i = 0; i < 150; i++)); do
        pm__alive "$PM_PID" || break
        sleep 0.1
    done
    pm__alive "$PM_PID" && pm_fail "proxymgrd still running 15 s after SIGTERM"
    PM_RC=0
    wait "$PM_PID" 2>/dev/null || PM_RC=$?
}

# pm_stats CMD: send one command to HAProxy's stats socket (PM_STATS_SOCKET,
# by default the one of pm_write_pmconfig), print the reply.
pm_stats() {
    echo "$*" | timeout 15 socat -t 10 - "UNIX-CONNECT:${PM_STATS_SOCKET:-$PM_TMP/run/haproxy.sock}"
}

# pm_hap_pid: the pid of the HAProxy that answers on the stats socket.
pm_hap_pid() {
    pm_stats "show info" | awk '/^Pid:/ {print $2}'
}

# pm_log_has REGEX: proxymgrd's log matches the extended regex.
pm_log_has() {
    grep -qE -- "$1" "$PM_TMP/proxymgrd.log"
}

# pm_log_count REGEX: how many lines of proxymgrd's log match.
pm_log_count() {
    grep -cE -- "$1" "$PM_TMP/proxymgrd.log" 2>/dev/null || true
}

# pm_wait_log_count REGEX N: wait until N lines of proxymgrd's log match.
pm_wait_log_count() {
    pm__log_count_at_least() { (($(pm_log_count "$1") >= $2)); }
    pm_wait_for pm__log_count_at_least "$1" "${2:?pm_wait_log_count REGEX N}"
}

# pm_wait_idle: wait until proxymgrd says (SIGUSR1's counters line) that
# nothing is in flight or pending: every change it has seen so far is
# live, or was refused. Send it after the change was seen (a log line).
# Works with log.format json too (the line then ends in `idle"}`).
pm_wait_idle() {
    local n
    pm__idle() {
        n=$(pm_log_count 'counters: ')
        kill -USR1 "$PM_PID" || return 1
        PM_WAIT_POLL=0.02 pm_wait_log_count 'counters: ' $((n + 1)) || return 1
        grep -E 'counters: ' "$PM_TMP/proxymgrd.log" | tail -n 1 | grep -qE '; now idle("\})?$'
    }
    pm_wait_for pm__idle || pm_fail "proxymgrd never became idle: $(grep -E 'counters: ' "$PM_TMP/proxymgrd.log" | tail -n 1)"
}

# pm_traffic PROXY: requests (HTTP) or sessions (TCP) the frontend PROXY
# of the serving HAProxy has counted, from its own `show stat`.
pm_traffic() {
    pm_stats "show stat" | awk -F, -v px="${1:?pm_traffic PROXY}" '
        NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == px && $2 == "FRONTEND" {
            n = $col["req_tot"]; if (n == "") n = $col["stot"]; print n + 0; exit }'
}

# pm_wait_traffic PROXY N: wait until pm_traffic PROXY reaches N: load
# really flows through the serving HAProxy, however slow the machine.
pm_wait_traffic() {
    pm__traffic_at_least() { local t; t=$(pm_traffic "$1") && ((${t:-0} >= $2)); }
    pm_wait_for pm__traffic_at_least "${1:?pm_wait_traffic PROXY N}" "${2:?pm_wait_traffic PROXY N}"
}

# pm_bodies URL N: N requests, each body on one line (sorted, unique).
pm_bodies() {
    local url=${1:?pm_bodies URL N} n=${2:?pm_bodies URL N} i
    for ((i = 0; i < n; i++)); do
        pm_curl_body "$url" -H 'Connection: close'
        echo
    done | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# pm_expect_bodies URL "A B C": wait until N=20 requests see exactly these
# backend names (sorted, space-separated).
pm_expect_bodies() {
    local url=$1 want=$2
    pm__bodies_are() { [[ "$(pm_bodies "$1" 20)" == "$2" ]]; }
    if ! pm_wait_for pm__bodies_are "$url" "$want"; then
        pm_fail "backends behind $url: expected '$want', got '$(pm_bodies "$url" 20)'"
    fi
}

# ---- ZooKeeper -----------------------------------------------------------------

: "${PM_ZK:=${builddir:-.}/tests/helpers/pm-zk}"
: "${JAVA:=java}"
: "${ZOOKEEPER_JAR:=/usr/share/java/zookeeper.jar}"

# pm__zk_write_config NAME CLIENT_PORT [ENSEMBLE_LINES]: a loopback-only
# ZooKeeper in $PM_TMP/zk-NAME: short ticks, sessions of at most 3 s (or
# PM_ZK_MAX_SESSION_MS), no fsync per write, the four-letter words the tests
# use, logs in zk-NAME.log.
pm__zk_write_config() {
    local name=$1 port=$2 ensemble=${3:-} dir="$PM_TMP/zk-$1"
    mkdir -p "$dir/data"
    cat >"$dir/zoo.cfg" <<EOF
tickTime=500
initLimit=20
syncLimit=10
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxSessionTimeout=${PM_ZK_MAX_SESSION_MS:-3000}
forceSync=no
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,cons
$ensemble
EOF
    cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$PM_TMP/zk-$name.log
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d %p %c{1}: %m%n
EOF
    echo "$port" >"$dir/port"
}

# pm_zk_mode PORT: "standalone", "leader" or "follower" once the server on
# 127.0.0.1:PORT serves, nothing before.
pm_zk_mode() {
    echo srvr | timeout 2 socat -t 1 - "TCP:127.0.0.1:${1:?pm_zk_mode PORT}" 2>/dev/null |
        awk '/^Mode:/ {print $2}'
}

# pm_zk_has_session PORT SID: the server on 127.0.0.1:PORT has a client
# connection in session SID (0x...); 2 when it does not answer.
pm_zk_has_session() {
    local cons
    cons=$(echo cons | timeout 5 socat -t 2 - "TCP:127.0.0.1:${1:?pm_zk_has_session PORT SID}" 2>/dev/null) || return 2
    [[ $cons == *"/127.0.0.1:"* ]] || return 2
    [[ $cons == *"sid=${2:?pm_zk_has_session PORT SID}",* || $cons == *"sid=$2)"* ]]
}

# pm_zk_launch NAME: start (or restart) the ZooKeeper of $PM_TMP/zk-NAME,
# track it, record its pid in zk-NAME/pid (also $PM_LAST_PID). No wait.
pm_zk_launch() {
    local name=${1:?pm_zk_launch NAME} dir="$PM_TMP/zk-$1" pid
    "$JAVA" -Xmx"${PM_ZK_HEAP:-96m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dzookeeper.log.dir="$dir" -cp "$dir:$ZOOKEEPER_JAR" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
        </dev/null >>"$PM_TMP/zk-$name.out" 2>&1 &
    pid=$!
    pm_track "$pid"
    echo "$pid" >"$dir/pid"
    PM_LAST_PID=$pid
}

# pm_zk_wait_serving NAME [TIMEOUT_S]: wait until it answers with a mode.
pm_zk_wait_serving() {
    local name=${1:?pm_zk_wait_serving NAME} port
    port=$(cat "$PM_TMP/zk-$name/port")
    pm__zk_serving() { [[ -n $(pm_zk_mode "$1") ]]; }
    PM_WAIT_TIMEOUT=${2:-60} pm_wait_for pm__zk_serving "$port" ||
        pm_fail "ZooKeeper $name (port $port) not serving after ${2:-60} s"
}

# pm_zk_start NAME CLIENT_PORT: a standalone ZooKeeper on 127.0.0.1, ready.
pm_zk_start() {
    pm__zk_write_config "${1:?pm_zk_start NAME PORT}" "${2:?pm_zk_start NAME PORT}"
    pm_zk_launch "$1"
    pm_zk_wait_serving "$1"
}

# pm_zk_ensemble_start BASE_PORT: three ZooKeepers zk-1..zk-3 on loopback,
# client ports BASE+1..3 (quorum BASE+11.., election BASE+21..), ready.
# Sets PM_ZK_ENSEMBLE to "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3".
pm_zk_ensemble_start() {
    local base=${1:?pm_zk_ensemble_start BASE_PORT} i servers="" list=""
    for i in 1 2 3; do
        servers+="server.$i=127.0.0.1:$((base + 10 + i)):$((base + 20 + i))"$'\n'
        list+="${list:+,}127.0.0.1:$((base + i))"
    done
    for i in 1 2 3; do
        pm__zk_write_config "$i" "$((base + i))" "$servers"
        echo "$i" >"$PM_TMP/zk-$i/data/myid"
        pm_zk_launch "$i"
    done
    for i in 1 2 3; do
        pm_zk_wait_serving "$i" 90
    done
    PM_ZK_ENSEMBLE=$list
}

# pm_zk_kill NAME [SIGNAL]: stop that ZooKeeper by its pid (default TERM)
# and wait (bounded) until it is gone.
pm_zk_kill() {
    local name=${1:?pm_zk_kill NAME [SIGNAL]} pid i
    pid=$(cat "$PM_TMP/zk-$name/pid")
    kill "-${2:-TERM}" "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        pm__alive "$pid" || break
        sleep 0.1
    done
    pm__alive "$pid" && pm_fail "ZooKeeper $name (pid $pid) still running"
    # reap it; its status (143, 137) is no failure here
    pm__is_child "$pid" && { wait "$pid" 2>/dev/null || true; }
    return 0
}

# pm_zk SERVERS ARGS...: run the test client (put PATH DATA, rm PATH, ...).
pm_zk() {
    local servers=${1:?pm_zk SERVERS ARGS...}
    shift
    timeout 20 "$PM_ZK" -s "$servers" "$@"
}
