#!/usr/bin/env bash
# Issue 16: without root the namespace tests end as skipped (exit SKIP_CODE, which ctest reports
# as "Skipped"), never as passed. Run as root, the test case is run as nobody.
# Usage: skip_without_root_test.sh USERSPACE_NETNS_TESTS SKIP_CODE
set -uo pipefail
exe=$1 skip_code=$2
run=("$exe" "userspace: packets held when the fault ends are passed on at once\, not dropped")  # Catch: an escaped comma
if [[ $(id -u) -eq 0 ]]; then run=(setpriv --reuid=65534 --regid=65534 --clear-groups "${run[@]}"); fi
out=$("${run[@]}" 2>&1)
code=$?
fail() { echo "FAIL: $1"; echo "$out"; exit 1; }
[[ $code -eq $skip_code ]] || fail "exit code $code without root; expected $skip_code (skipped)"
grep -q "skipped: network namespace tests need root" <<<"$out" || fail "the reason for the skip is not printed"
echo "ok: without root the namespace test is skipped (exit $skip_code) and says why"
