#!/usr/bin/env bash
# Fails when an #include points the wrong way between faultline's folders (docs/architecture.md):
# engine -> faults, probes, reports -> core; reports may read probes' Timeline; faults and probes
# never include each other; core includes no other folder; the demo shop stands on its own.
# Usage: check-layering.sh [ROOT]   (ROOT: the source tree; default: this checkout)
set -euo pipefail
cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}"

# folder: the folders it must not include
declare -A forbidden=(
  [core]="engine faults probes reports examples"
  [probes]="engine faults reports examples"
  [faults]="engine probes reports examples"
  [reports]="engine faults examples"
  [examples]="engine faults probes reports core"
)

status=0
for folder in "${!forbidden[@]}"; do
  for target in ${forbidden[$folder]}; do
    while IFS= read -r hit; do
      [ -n "$hit" ] || continue
      echo "layering: $hit: $folder/ must not include $target/"
      status=1
    done < <(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"$target/" "$folder" --include='*.hpp' --include='*.cpp' || true)
  done
done
if [ "$status" -eq 0 ]; then
  echo "layering: every include points the right way (${#forbidden[@]} folders checked)"
fi
exit "$status"
