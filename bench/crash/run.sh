#!/usr/bin/env bash
# Crash safety, measured (100 kills by default): SIGKILLs `faultline run` at random moments while
# its faults are in place (between its first "injected" and last "reverted" log lines: a
# userspace network fault, a proxy with toxics and a connection storm), runs `faultline recover`
# after each, and checks that firewall rules, qdiscs, namespaces and the run's child processes are
# exactly as before. It is the ctest test of tests/engine/runner/crash_safety_test.cpp (10 kills)
# with more kills; it creates and removes its own network namespaces (10.200.1.0/24). Each kill
# prints one line; the last line counts the kills that landed in each phase.
# Usage: bench/crash/run.sh [build dir] [kills]   (root; needs faultline and engine_crash_tests built)
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
kills=${2:-100}
test_binary="$build/tests/engine/runner/engine_crash_tests"
[ -x "$test_binary" ] || { echo "error: $test_binary not built; run: ninja -C $build faultline engine_crash_tests" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "error: needs root (network namespaces, firewall rules, NFQUEUE)" >&2; exit 2; }
start=$(date +%s)
FAULTLINE_CRASH_KILLS=$kills "$test_binary" \
  "crash safety: faultline recover after a SIGKILL at a random moment leaves everything as before"
echo "$kills kills in $(( $(date +%s) - start )) s"
