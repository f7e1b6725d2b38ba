#!/usr/bin/env bash
# The layering check must fail on a tree with one include pointing the wrong way (core -> probes),
# and pass on the same tree without it: proof that the CI check can fail.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for folder in core engine faults probes reports examples; do
  mkdir -p "$scratch/$folder"
done
echo '#include "core/units.hpp"' > "$scratch/probes/fine.cpp"
"$root/scripts/check-layering.sh" "$scratch" >/dev/null || { echo "FAIL: a clean tree was rejected"; exit 1; }
echo '#include "probes/sample.hpp"' > "$scratch/core/wrong.hpp"
if out=$("$root/scripts/check-layering.sh" "$scratch"); then
  echo "FAIL: core/wrong.hpp includes probes/ and the check passed"
  exit 1
fi
grep -q 'core/wrong.hpp:1:.*core/ must not include probes/' <<<"$out" || { echo "FAIL: unexpected report: $out"; exit 1; }
echo "ok: the layering check rejects core/ -> probes/ and accepts the clean tree"
