#!/usr/bin/env bash
# Builds and runs faultline's libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer: the protocol parsers and sessions, the metric probe's Prometheus
# text parser, the journal reader, the state file reader, the experiment loader and the control
# API. docs/testing.md ("Fuzzing") says how they run and what the long runs found.
#
#   scripts/fuzz.sh [--target NAME[,NAME...]|all] [--time SECONDS] [--runs N] [--jobs N]
#                   [--unit-timeout SECONDS] [--build-dir DIR] [--build-only] [--no-build]
#
# --target: protocol, http, prometheus, journal, state_file, experiment, control_api, a
#   comma-separated list of them, or all (default; one after the other). http is the protocol
#   target with every input driving an http session (HTTP/1.1, or HTTP/2 after its preface).
#   --time: seconds per target (default 30);
#   --runs: stop after N inputs instead (e.g. 10000000), whichever comes first. --unit-timeout: one
#   input running longer than this (wall clock, default 10 s) is reported as a hang; raise it for a
#   campaign that is paused now and then (SIGSTOP on a shared machine), or the pause counts as a hang. The build directory
#   (default build/fuzz) is a CMake build with clang (-DFAULTLINE_FUZZ=ON); --build-only builds it
#   and stops, --no-build runs what is there. New inputs go to DIR/corpus/NAME, seeded from
#   tests/fuzz/corpus/NAME and from the docs, experiments and test data (DIR/seeds/NAME). A crash,
#   leak or sanitizer report leaves DIR/artifacts/NAME/crash-* (or leak-*, timeout-*) and exits
#   non-zero; replay one with `DIR/NAME_fuzz FILE`. control_api runs in a network namespace of its own (unshare, as root):
#   its inputs open listeners. Exit 77: clang (or, for control_api, unshare) is missing, so
#   nothing ran.
set -euo pipefail
shopt -s nullglob
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all_targets=(protocol http prometheus journal state_file experiment control_api)
target=all
seconds=30
runs=""
jobs=1
unit_timeout=10
dir="$root/build/fuzz"
build=yes
run=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a name}"; shift 2 ;;
    --time) seconds="${2:?--time needs seconds}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    --unit-timeout) unit_timeout="${2:?--unit-timeout needs seconds}"; shift 2 ;;
    --build-dir) dir="${2:?--build-dir needs a directory}"; shift 2 ;;
    --build-only) run=no; shift ;;
    --no-build) build=no; shift ;;
    *) echo "fuzz.sh: unknown option '$1' (use: --target NAME[,NAME...]|all, --time SECONDS, --runs N, --jobs N, --unit-timeout SECONDS, --build-dir DIR, --build-only, --no-build)" >&2; exit 2 ;;
  esac
done
if [ "$target" = all ]; then
  targets=("${all_targets[@]}")
else
  IFS=, read -r -a targets <<<"$target"
  for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (one of: ${all_targets[*]}, all)" >&2; exit 2; }
  done
fi
command -v clang++ >/dev/null ||
  { echo "fuzz.sh: skipped: clang++ not found; install the Debian package clang (libFuzzer)" >&2; exit 77; }

# The executable a target runs: http is the protocol target's.
binary_of() { if [ "$1" = http ]; then echo protocol; else echo "$1"; fi; }

if [ "$build" = yes ]; then
  if [ ! -f "$dir/build.ninja" ]; then
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Fuzz \
      -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" -DFAULTLINE_FUZZ=ON -DFAULTLINE_TESTS=OFF -DFAULTLINE_BENCH=OFF \
      -DFAULTLINE_HEADER_CHECK=OFF "${launcher[@]}" >/dev/null
  fi
  names=()
  for t in "${targets[@]}"; do names+=("$(binary_of "$t")_fuzz"); done
  echo "fuzz.sh: building ${names[*]} in $dir"
  ninja -C "$dir" "${names[@]}"
fi
[ "$run" = yes ] || exit 0

# Seeds from what the project already holds: each target's inputs in its own shape.
seed() {
  local t="$1" out="$dir/seeds/$1"
  rm -rf "$out" && mkdir -p "$out"
  case "$t" in
    prometheus)
      code_blocks '(text)?' "$out" page
      for f in "$out"/page-*; do  # the series experiments name, over each exposition in the docs
        grep -q '^# TYPE' "$f" || { rm "$f"; continue; }
        grep -rhoE "series: *'[^']+'" "$root/experiments" "$root/docs" | sed -E "s/series: *'(.*)'/\1/" | sort -u | { head -5 || true; } |
          while read -r s; do { echo "$s"; cat "$f"; } >"$f.$(echo "$s" | md5sum | head -c8)"; done
        rm "$f"
      done ;;
    journal)
      find "$root/tests" -name '*journal*.json' | while read -r f; do  # small copies: two windows, two samples
        python3 - "$f" "$out/$(basename "$f")" <<'PY'
import json, sys
def trim(v):
    if isinstance(v, list): return [trim(x) for x in v[:2]]
    if isinstance(v, dict): return {k: trim(x) for k, x in v.items()}
    return v
json.dump(trim(json.load(open(sys.argv[1]))), open(sys.argv[2], "w"))
PY
      done
      code_blocks json "$out" docs ;;
    state_file)
      code_blocks json "$out" docs
      for f in "$out"/docs-*; do grep -q '"entries"' "$f" || rm "$f"; done ;;
    experiment)  # the bundled experiments, the examples in the docs, the experiments the tests load
      find "$root/experiments" "$root/examples" "$root/tests" -name '*.yaml' -size -16k | while read -r f; do
        cp "$f" "$out/$(echo "$f" | md5sum | head -c8)-$(basename "$f")"
      done
      code_blocks yaml "$out" docs
      for f in "$out"/docs-*; do grep -qE '^(version|name|timeline):' "$f" || rm "$f"; done ;;
    control_api)  # each JSON example of docs/proxy.md as the body of a create, a populate and a toxic
      code_blocks json "$out" docs proxy.md
      for f in "$out"/docs-*; do
        for target in /proxies /populate /proxies/p/toxics; do
          printf 'POST %s HTTP/1.1\r\nHost: fuzz\r\nContent-Length: %d\r\n\r\n' "$target" "$(wc -c <"$f")" >"$f.$(basename "$target")"
          cat "$f" >>"$f.$(basename "$target")"
        done
        rm "$f"
      done ;;
  esac
}
# code_blocks LANG OUT PREFIX [DOC]: every ```LANG block of docs/*.md (or docs/DOC) as a file of its own.
code_blocks() {
  awk -v lang="$1" -v out="$2" -v prefix="$3" '
    $0 ~ "^```" lang "$" { n++; file = sprintf("%s/%s-%04d", out, prefix, n); inside = 1; next }
    /^```/ { if (inside) close(file); inside = 0; next }
    inside { print > file }' "$root"/docs/${4:-*.md}
}
max_len() {
  case "$1" in
    journal) echo 65536 ;;
    experiment) echo 16384 ;;
    control_api) echo 8192 ;;
    *) echo 4096 ;;
  esac
}
# in_namespace COMMAND...: control_api in a network namespace of its own (only lo, up); the others as they are.
in_namespace() {
  if [ "$t" = control_api ]; then
    unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
  else
    "$@"
  fi
}
if [[ " ${targets[*]} " == *" control_api "* ]] && ! unshare --net true 2>/dev/null; then
  echo "fuzz.sh: skipped: control_api needs a network namespace of its own (unshare --net, as root); none could be made" >&2
  exit 77
fi

export ASAN_OPTIONS=detect_leaks=1:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${targets[@]}"; do
  binary="$dir/$(binary_of "$t")_fuzz"
  [ -x "$binary" ] || { echo "fuzz.sh: $binary is not built (run without --no-build)" >&2; exit 2; }
  corpus="$dir/corpus/$t" artifacts="$dir/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  seed "$t"
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit+=(-runs="$runs")
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")  # workers log to fuzz-N.log in the artifacts directory
  command=("$binary" "${limit[@]}" -error_exitcode=1 -timeout="$unit_timeout" -rss_limit_mb=2048 -max_len="$(max_len "$t")" "${parallel[@]}"
           -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" "$root/tests/fuzz/corpus/$(binary_of "$t")" "$dir/seeds/$t")
  echo "fuzz.sh: fuzzing $t for ${seconds}s${runs:+ or $runs runs}"
  sessions=""
  [ "$t" = http ] && sessions=http
  (cd "$artifacts" && FAULTLINE_FUZZ_SESSIONS=$sessions in_namespace "${command[@]}") || { status=$?; echo "fuzz.sh: $t failed (exit $status); see $artifacts" >&2; }
done
exit "$status"
