#!/usr/bin/env bash
# Installs what faultline needs from Debian's packages and builds it. Safe to run again.
#
#   scripts/setup.sh [TARGET...]
#
# TARGET: Ninja targets to build (default: faultline, the demo shop and its payments API, and the manual page and bash
# completion). scripts/demo.sh builds only what the demo runs; scripts/test.sh the test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(faultline faultline-shop faultline-payments faultline_docs)
step "installing Debian packages faultline builds against"
ensure_packages "${FAULTLINE_PACKAGES[@]}"
step "building ${targets[*]} in $FAULTLINE_BUILD"
build_faultline "${targets[@]}"
note "built $FAULTLINE_BUILD/engine/faultline"
