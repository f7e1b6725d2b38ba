#!/usr/bin/env bash
# Crash safety, measured: SIGKILLs `faultline run` at random moments (100 by default) while a
# userspace network fault, proxies with toxics and a connection storm are active, runs `faultline
# recover` after each, and checks that firewall rules, qdiscs, namespaces and the run's child
# processes are exactly as before. It is the ctest test of tests/engine/runner/crash_safety_test.cpp
# with more kills; it creates and removes its own network namespaces (10.200.1.0/24).
# Usage: bench/crash/run.sh [build dir] [kills]   (root; needs engine_crash_tests and faultline built)
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
