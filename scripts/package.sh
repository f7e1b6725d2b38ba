#!/usr/bin/env bash
# Builds the Debian package faultline_<version>_amd64.deb with CPack: the executable, faultline(1),
# the bash completion, the docs and example experiments, and the systemd unit of the proxy daemon.
# Its Depends are the libraries the executable links (dpkg-shlibdeps). Safe to run again.
#
#   scripts/package.sh [--output-dir DIR]      (default: build/package)
#
# Install it with `apt install ./faultline_<version>_amd64.deb` (see docs/install.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

output="$FAULTLINE_BUILD/package"
while [ $# -gt 0 ]; do
  case "$1" in
    --output-dir) output="${2:?--output-dir needs a directory}"; shift 2 ;;
    *) die "package.sh: unknown option '$1' (use: [--output-dir DIR])" ;;
  esac
done

"$FAULTLINE_ROOT/scripts/setup.sh" faultline faultline_docs
step "packaging with CPack into $output"
mkdir -p "$output"
output=$(cd "$output" && pwd)
(cd "$FAULTLINE_BUILD" && cpack -G DEB -B "$output") | sed 's/^/    /'
deb=$(ls -t "$output"/faultline_*_*.deb | head -n1)
note "built $deb"
note "Depends: $(dpkg-deb --field "$deb" Depends)"
