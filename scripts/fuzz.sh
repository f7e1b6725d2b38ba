#!/usr/bin/env bash
# Builds and runs the libFuzzer target of the protocol parsers and sessions (redis, postgres,
# http; tests/fuzz) with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [--time SECONDS] [--jobs N] [--build-dir DIR]
#
# --time: how long to fuzz (default 30: the short CI run; use 3600 or more for a long run).
# New inputs go to DIR/corpus (seeded from tests/fuzz/corpus); a crash leaves DIR/crash-* and
# exits non-zero. Needs Debian's clang (clang 14 ships libFuzzer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=30
jobs=1
dir="$root/build/fuzz"
while [ $# -gt 0 ]; do
  case "$1" in
    --time) seconds="${2:?--time needs seconds}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    --build-dir) dir="${2:?--build-dir needs a directory}"; shift 2 ;;
    *) echo "fuzz.sh: unknown option '$1' (use: --time SECONDS, --jobs N, --build-dir DIR)" >&2; exit 2 ;;
  esac
done
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found; install the Debian package clang" >&2; exit 2; }
mkdir -p "$dir/corpus"

sources=(
  tests/fuzz/protocol_fuzz.cpp
  faults/protocol/message_session.cpp faults/protocol/message_toxic.cpp faults/protocol/pattern.cpp faults/protocol/reply_queue.cpp
  faults/protocol/redis/resp.cpp faults/protocol/redis/redis_session.cpp faults/protocol/redis/redis_toxics.cpp
  faults/protocol/postgres/pg_session.cpp faults/protocol/postgres/pg_toxics.cpp faults/protocol/postgres/pg_wire.cpp
  faults/protocol/postgres/sql_class.cpp
  faults/protocol/http/h1_connection.cpp faults/protocol/http/http_session.cpp faults/protocol/http/http_toxics.cpp
  faults/protocol/http/request_plan.cpp
  faults/proxy/toxic.cpp faults/proxy/toxic_descriptor.cpp
  core/log.cpp core/params.cpp core/units.cpp
)
binary="$dir/protocol_fuzz"
newest=$(cd "$root" && ls -t "${sources[@]}" faults/protocol/*.hpp faults/protocol/*/*.hpp faults/proxy/*.hpp core/*.hpp | head -1)
if [ ! -x "$binary" ] || [ "$root/$newest" -nt "$binary" ]; then
  echo "fuzz.sh: building $binary"
  (cd "$root" && clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DSPDLOG_FMT_EXTERNAL -DSPDLOG_COMPILED_LIB -I"$root" "${sources[@]}" -lspdlog -lfmt -o "$binary")
fi
echo "fuzz.sh: fuzzing for ${seconds}s"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")  # workers log to fuzz-N.log in $dir
cd "$dir"
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 "${parallel[@]}" \
  -artifact_prefix="$dir/" -print_final_stats=1 "$dir/corpus" "$root/tests/fuzz/corpus"
