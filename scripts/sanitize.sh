#!/usr/bin/env bash
# The sanitizer lanes (docs/testing.md, "Sanitizer lanes"): configures a build directory of the
# lane's own, builds one test executable at a time and runs its tests through ctest; a sanitizer
# report fails the test it happens in.
#
#   scripts/sanitize.sh asan|tsan [--build-dir DIR] [--only EXECUTABLE]... [-- CTEST_ARGS...]
#
# asan: AddressSanitizer (leaks included) + UndefinedBehaviorSanitizer (-DFAULTLINE_SANITIZE=ON,
#       build-asan): the whole ctest suite except the fuzz entries (scripts/fuzz.sh has a clang
#       build of its own).
# tsan: ThreadSanitizer (-DFAULTLINE_TSAN=ON, build-tsan): the proxy, load generator (the load
#       test files of probes_tests, websocket_load_tests), storm and runner tests.
# --only: just these test executables (e.g. --only proxy_unit_tests).
# FAULTLINE_BUILD_LOCK=FILE: the libraries' build, then each test executable's build and run,
#       hold this lock (flock) at `nice -n 10`, so a shared machine can build in between.
# Exit: 0 when every test ran passed or was skipped (77), otherwise 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lane="${1:-}"
case "$lane" in
  asan) option=-DFAULTLINE_SANITIZE=ON ;;
  tsan) option=-DFAULTLINE_TSAN=ON ;;
  *) echo "sanitize.sh: name a lane: asan (ASan+UBSan, the whole suite) or tsan (ThreadSanitizer: proxy, load generator, storm, runner)" >&2
     exit 2 ;;
esac
shift
dir="$root/build-$lane"
only=()
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) dir="${2:?--build-dir needs a directory}"; shift 2 ;;
    --only) only+=("${2:?--only needs a test executable, e.g. proxy_unit_tests}"); shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "sanitize.sh: unknown option '$1' (use: --build-dir DIR, --only EXECUTABLE, -- CTEST_ARGS)" >&2; exit 2 ;;
  esac
done

# Runs a command, holding the shared build lock if there is one.
locked() {
  if [ -n "${FAULTLINE_BUILD_LOCK:-}" ]; then
    flock "$FAULTLINE_BUILD_LOCK" nice -n 10 "$@"
  else
    "$@"
  fi
}

if [ ! -f "$dir/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # -O1 -g1: fast enough to run the suite, with line numbers in the reports; assertions stay on.
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" "$option" \
    -DFAULTLINE_BENCH=OFF -DFAULTLINE_HEADER_CHECK=OFF "${launcher[@]}" >/dev/null
fi

suppressions="$root/tests/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$suppressions/tsan.supp:${TSAN_OPTIONS:-}"

# The ctest regex of an executable's entries; for the load generator only its own test files of
# probes_tests (Catch2's file tags).
tests_of() {
  local exe="$1"
  if [ "$lane" = tsan ] && [ "$exe" = probes_tests ]; then
    local names
    names=$("$dir/tests/probes/probes_tests" -# --list-test-names-only \
              "[#load_generator_test],[#load_mix_test],[#load_request_test],[#load_values_test]" |
            grep -v '^$' | sed 's/[][\\.*+?^$(){}|]/\\&/g' | paste -sd'|')
    echo "^probes_tests:($names)\$"
  else
    echo "^$exe:"
  fi
}

if [ ${#only[@]} -eq 0 ]; then
  if [ "$lane" = tsan ]; then
    only=(proxy_unit_tests proxy_integration_tests proxy_tls_tests proxy_api_tests probes_tests websocket_load_tests
          storm_tests engine_runner_tests)
  else
    mapfile -t only < <(ninja -C "$dir" -t targets all | sed -n 's/^\([a-z0-9_]*_tests\): phony$/\1/p' | grep -v ^cmake_ | sort)
  fi
  everything=1
fi

start=$(date +%s)
failed=()
# Builds one test executable and runs its ctest entries (one lock hold).
build_and_run() {
  local exe="$1"
  echo "sanitize.sh: building $exe in $dir"
  ninja -C "$dir" -j2 "$exe" || return 1
  echo "sanitize.sh: running $exe"
  ctest --test-dir "$dir" --no-tests=error --output-on-failure --timeout 1800 -R "$(tests_of "$exe")" "${ctest_args[@]}"
}
# The libraries and the daemon first (one long build), then one test executable at a time.
echo "sanitize.sh: building the libraries and the daemon in $dir"
locked ninja -C "$dir" -j2 faultline
for exe in "${only[@]}"; do
  locked bash -c "$(declare -f build_and_run tests_of); dir='$dir' lane='$lane'; ctest_args=(${ctest_args[*]@Q}); build_and_run '$exe'" ||
    failed+=("$exe")
done
if [ "$lane" = asan ] && [ -n "${everything:-}" ]; then
  # Whatever else ctest runs (scripts, the conventions probe, the soak programs, packaging).
  echo "sanitize.sh: building and running the rest of the suite in $dir"
  exclude=$(printf '%s|' "${only[@]}")
  locked bash -c "ninja -C '$dir' -j2 faultline_test_suite &&
                  ctest --test-dir '$dir' --output-on-failure --timeout 1800 -LE fuzz -E '^(${exclude%|}):' ${ctest_args[*]@Q}" ||
    failed+=("the other ctest entries")
fi
echo "sanitize.sh: $lane lane took $(( ($(date +%s) - start) / 60 )) min"
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitize.sh: $lane lane FAILED in: ${failed[*]}" >&2
  exit 1
fi
echo "sanitize.sh: $lane lane passed"
