#!/usr/bin/env bash
# Sets up everything and runs the whole test suite through ctest. Safe to run again.
# Integration tests start their own real Redis and PostgreSQL servers and stop them again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$FAULTLINE_ROOT/scripts/setup.sh"
step "running the test suite (ctest)"
cd "$FAULTLINE_BUILD"
ctest --output-on-failure --timeout 600 "$@"
