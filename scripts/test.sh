#!/usr/bin/env bash
# Sets up everything and runs the whole test suite through ctest. Safe to run again.
# Integration tests start their own real Redis and PostgreSQL servers and stop them again.
#
#   scripts/test.sh [CTEST_ARGS...]     e.g. scripts/test.sh -L engine, scripts/test.sh -R storm
#
# Builds the test executables and what they run (faultline, the shop, the manual page), not the
# benchmarks. ctest runs two tests at a time (one per core of the 2-core machine it is made for;
# FAULTLINE_TEST_JOBS changes it): tests that depend on timing or start servers hold a lock and
# run one at a time beside the unit tests, the longest alone (tests/CMakeLists.txt). Meanwhile
# the header checks (every header compiled on its own, a fifth of a clean build) build at the
# lowest CPU priority, in the time the timing tests leave idle; their failures fail the command.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$FAULTLINE_ROOT/scripts/setup.sh" faultline_test_suite
step "running the test suite (ctest, ${FAULTLINE_TEST_JOBS:-2} at a time; header checks build meanwhile at low priority)"
cd "$FAULTLINE_BUILD"
header_log="$FAULTLINE_BUILD/header-checks.log"
nice -n 19 ninja -C "$FAULTLINE_BUILD" faultline_header_checks >"$header_log" 2>&1 &
header_checks=$!
trap 'kill "$header_checks" 2>/dev/null || true' EXIT
status=0
ctest --output-on-failure --timeout 600 -j "${FAULTLINE_TEST_JOBS:-2}" "$@" || status=$?

step "header checks"
if wait "$header_checks"; then
  note "every header compiles on its own ($(grep -c '^\[' "$header_log" || true) steps; log: $header_log)"
else
  grep -A20 -m3 '^FAILED' "$header_log" || tail -n 30 "$header_log"
  note "a header does not compile on its own (log: $header_log)"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
