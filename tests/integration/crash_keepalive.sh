#!/usr/bin/env bash
# crash.sh with keep-alive connections: wrk keeps each one for many requests.
CRASH_MODE=keepalive exec bash "$PM_SRCDIR/tests/integration/crash.sh"
