#!/usr/bin/env bash
# Proof that ctest reports what the test suite means: a Catch2 test that calls test::skip() is
# "Skipped", a ctest entry whose filter matches no test case "Failed" (not a silent pass), one
# that checks no assertion "Failed", and a passing one "Passed", with the main (catch_main.cpp)
# and properties faultline_test() gives every discovered test; and that the discovered tests of
# this build have them.
# Usage: ctest_conventions_test.sh PROBE BUILD_DIR SKIP_CODE
set -euo pipefail
probe=$(realpath "$1") build=$2 skip_code=$3

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
{
  echo "add_test(passes \"$probe\" \"a test case that passes\")"
  echo "add_test(skips \"$probe\" \"a test case that skips\")"
  echo "add_test(matches_nothing \"$probe\" \"no test case has this name\")"
  echo "add_test(checks_nothing \"$probe\" \"a test case that checks nothing\")"
  echo "set_tests_properties(passes skips matches_nothing checks_nothing PROPERTIES SKIP_RETURN_CODE $skip_code)"
} >"$scratch/CTestTestfile.cmake"

out=$(cd "$scratch" && ctest -V 2>&1) || true
fail() { echo "FAIL: $1"; echo "$out"; exit 1; }
grep -Eq 'passes \.+ +Passed' <<<"$out" || fail "the passing test is not reported Passed"
grep -Eq 'skips \.+\*+Skipped' <<<"$out" || fail "the skipping test is not reported Skipped"
grep -q 'skipped: the probe skips on purpose' <<<"$out" || fail "the skip reason is not in the output"
grep -Eq 'matches_nothing \.+\*+Failed' <<<"$out" || fail "a filter that matches no test case is not reported Failed"
grep -Eq 'checks_nothing \.+\*+Failed' <<<"$out" || fail "a test case without assertions is not reported Failed"

# The discovered tests of this build carry the same settings (support_tests stands for all).
listing=$(ctest --test-dir "$build" -N --show-only=json-v1 -R '^support_tests:')
tests=$(grep -c '"name" : "support_tests:' <<<"$listing" || true)
[[ $tests -gt 0 ]] || fail "no discovered support_tests in $build (build support_tests)"
[[ $(grep -c '"SKIP_RETURN_CODE"' <<<"$listing" || true) -eq $tests ]] || fail "not every discovered test has SKIP_RETURN_CODE: $listing"
echo "ok: skip -> Skipped, no matching test case -> Failed, no assertion -> Failed, pass -> Passed; $tests discovered tests checked"
