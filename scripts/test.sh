#!/usr/bin/env bash
# Sets up everything and runs the whole test suite through ctest. Safe to run again.
# Integration tests start their own real Redis and PostgreSQL servers and stop them again.
#
#   scripts/test.sh [CTEST_ARGS...]     e.g. scripts/test.sh -L engine, scripts/test.sh -R storm
#
# Builds the test executables, what they run (faultline, the shop, the manual page) and the
# header checks, but not the benchmarks. ctest runs two tests at a time (one per core of the
# 2-core machine it is made for; FAULTLINE_TEST_JOBS changes it): tests that depend on timing or
# start servers hold a lock and run one at a time, beside the unit tests (tests/CMakeLists.txt).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$FAULTLINE_ROOT/scripts/setup.sh" faultline_test_suite faultline_header_checks
step "running the test suite (ctest, ${FAULTLINE_TEST_JOBS:-2} at a time)"
cd "$FAULTLINE_BUILD"
ctest --output-on-failure --timeout 600 -j "${FAULTLINE_TEST_JOBS:-2}" "$@"
