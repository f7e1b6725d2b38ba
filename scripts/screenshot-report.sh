#!/usr/bin/env bash
# Renders the HTML report of the synthetic test journal (tests/reports/synthetic_journal.cpp) and
# takes headless Chromium screenshots of it for docs/img/ (shown in docs/reports.md).
# Needs root for the packages (Debian's chromium, the Inter font, ImageMagick to crop); Chromium
# runs headless with a throw-away profile and fetches nothing. Safe to run again.
#   scripts/screenshot-report.sh [OUT_DIR]      (default: docs/img)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out_dir=${1:-$FAULTLINE_ROOT/docs/img}

step "packages for the screenshot (not needed to build or test)"
ensure_packages chromium fonts-inter fonts-dejavu-core imagemagick

step "building faultline and the synthetic journal writer"
build_faultline faultline faultline_synthetic_journal

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "rendering the report"
"$FAULTLINE_BUILD/tests/reports/faultline_synthetic_journal" "$work/journal.json"
"$FAULTLINE_BUILD/engine/faultline" report "$work/journal.json" --html "$work/report.html"

# shot WIDTH HEIGHT FILE: a headless Chromium screenshot of the report's top WIDTHxHEIGHT pixels.
shot() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$1,$2" --screenshot="$3" "file://$work/report.html" >/dev/null 2>&1
  [ -s "$3" ] || die "chromium wrote no screenshot to $3"
}

step "taking the screenshots"
shot 1280 1400 "$work/top.png"
shot 1280 4000 "$work/full.png"
# The details: expectations and the faults with their evidence, cut from the full page.
convert "$work/full.png" -crop 1280x1090+0+1395 +repage "$work/details.png"

mkdir -p "$out_dir"
cp "$work/top.png" "$out_dir/report-overview.png"
cp "$work/details.png" "$out_dir/report-details.png"
note "wrote $out_dir/report-overview.png and $out_dir/report-details.png"
