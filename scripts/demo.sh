#!/usr/bin/env bash
# Sets up everything and runs the main job. Safe to run again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$FAULTLINE_ROOT/scripts/setup.sh"
faultline="$FAULTLINE_BUILD/engine/faultline"
step "validating the bundled experiments"
"$faultline" validate "$FAULTLINE_ROOT/experiments"
step "the plan of each experiment (dry run: nothing is touched)"
"$faultline" run --dry-run "$FAULTLINE_ROOT/experiments"
