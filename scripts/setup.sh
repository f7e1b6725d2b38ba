#!/usr/bin/env bash
# Installs what faultline needs from Debian's packages and builds it. Safe to run again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

step "installing Debian packages faultline builds against"
ensure_packages "${FAULTLINE_PACKAGES[@]}"
step "building faultline in $FAULTLINE_BUILD"
build_faultline "$@"
note "built $FAULTLINE_BUILD/engine/faultline"
