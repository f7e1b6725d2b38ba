#!/usr/bin/env bash
# Proof that ctest reports what the test suite means: a Catch2 test that calls test::skip() is
# "Skipped", a ctest entry whose filter matches no test case "Failed" (not a silent pass), and a
# passing one "Passed", with exactly the arguments and properties faultline_test() gives every
# discovered test; and that the discovered tests of this build have them.
# Usage: ctest_conventions_test.sh PROBE BUILD_DIR SKIP_CODE CATCH_ARG...
set -euo pipefail
probe=$(realpath "$1") build=$2 skip_code=$3
shift 3
args=""
for a in "$@"; do args+=" \"$a\""; done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
{
  echo "add_test(passes \"$probe\" \"a test case that passes\"$args)"
  echo "add_test(skips \"$probe\" \"a test case that skips\"$args)"
  echo "add_test(matches_nothing \"$probe\" \"no test case has this name\"$args)"
  echo "set_tests_properties(passes skips matches_nothing PROPERTIES SKIP_RETURN_CODE $skip_code)"
} >"$scratch/CTestTestfile.cmake"

out=$(cd "$scratch" && ctest -V 2>&1) || true
fail() { echo "FAIL: $1"; echo "$out"; exit 1; }
grep -Eq 'passes \.+ +Passed' <<<"$out" || fail "the passing test is not reported Passed"
grep -Eq 'skips \.+\*+Skipped' <<<"$out" || fail "the skipping test is not reported Skipped"
grep -q 'skipped: the probe skips on purpose' <<<"$out" || fail "the skip reason is not in the output"
grep -Eq 'matches_nothing \.+\*+Failed' <<<"$out" || fail "a filter that matches no test case is not reported Failed"

# The discovered tests of this build carry the same settings (support_tests stands for all).
listing=$(ctest --test-dir "$build" -N --show-only=json-v1 -R '^support_tests:')
tests=$(grep -c '"name" : "support_tests:' <<<"$listing" || true)
[[ $tests -gt 0 ]] || fail "no discovered support_tests in $build (build support_tests)"
[[ $(grep -c '"NoTests"' <<<"$listing" || true) -eq $tests ]] || fail "not every discovered test runs with --warn NoTests: $listing"
[[ $(grep -c '"SKIP_RETURN_CODE"' <<<"$listing" || true) -eq $tests ]] || fail "not every discovered test has SKIP_RETURN_CODE: $listing"
echo "ok: skip -> Skipped, no matching test case -> Failed, pass -> Passed; $tests discovered tests checked"
