#!/usr/bin/env bash
# The proxy under load, full size (tests/faults/proxy/proxy_soak.cpp; ctest runs smaller versions):
#   integrity: 1 GiB in each direction through each non-dropping toxic (latency, jitter,
#              bandwidth, slicer, slow_close) over 1,000 connections while the toxics are updated,
#              removed and added again: every byte checked, every removal answered within 100 ms;
#   api:       200 clients create, update and delete proxies and toxics and reset for 30 s while
#              1,000 connections stream: no 5xx but the documented one, nothing leaked.
# Everything on loopback; the daemon is started and stopped by PID.
# Usage: bench/integrity/run.sh [build dir] [integrity|api|all]   (needs proxy_soak and faultline built)
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
what=${2:-all}
soak="$build/tests/faults/proxy/proxy_soak"
[ -x "$soak" ] || { echo "error: $soak not built; run: ninja -C $build faultline proxy_soak" >&2; exit 2; }
status=0
if [ "$what" = all ] || [ "$what" = integrity ]; then
  echo "## integrity: 1 GiB each way per toxic, 1,000 connections"
  "$soak" integrity --bytes 1GiB --connections 1000 --removal-limit 100ms --timeout 600s || status=1
fi
if [ "$what" = all ] || [ "$what" = api ]; then
  echo "## api: 200 clients for 30 s, 1,000 streaming connections"
  "$soak" api --clients 200 --connections 1000 --proxies 10 --duration 30s || status=1
fi
exit $status
