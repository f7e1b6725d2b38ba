#!/usr/bin/env bash
# Measures a new user's first run, as the README quotes it: from clean clones of this repository
# (the Debian packages already installed, nothing built, no ccache), how long
#   (a) scripts/demo.sh takes until the game day's first line (faultline's "=== <experiment> (1/N)"),
#   (b) scripts/test.sh takes in full (build and the whole ctest suite).
# Each runs in its own clone, one after the other; the load average is printed before and after.
# Run it as root on a quiet machine: anything else running makes both numbers worse.
#
#   scripts/measure-first-run.sh [--whole-demo] [--keep] [--work-dir DIR] [--only demo|test]
#
#   --whole-demo   let the demo finish (and time it) instead of stopping it after the first line
#   --keep         keep the clones, their build directories and logs (default: removed)
#   --work-dir     where the clones go (default: a new directory under /tmp)
#   --only         measure only one of the two
#
# It measures the committed HEAD: uncommitted changes are not in the clones.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

whole_demo=0 keep=0 work="" only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --whole-demo) whole_demo=1; shift ;;
    --keep) keep=1; shift ;;
    --work-dir) work="${2:?--work-dir needs a directory}"; shift 2 ;;
    --only) only="${2:?--only needs demo or test}"; shift 2 ;;
    *) die "measure-first-run.sh: unknown option '$1' (use: [--whole-demo] [--keep] [--work-dir DIR] [--only demo|test])" ;;
  esac
done
case "$only" in ""|demo|test) ;; *) die "--only takes demo or test, not '$only'" ;; esac
[ "$(id -u)" -eq 0 ] || die "run it as root, as the README's commands are run"
command -v stdbuf >/dev/null && command -v setsid >/dev/null || die "needs stdbuf and setsid (coreutils, util-linux)"

rev=$(git -C "$FAULTLINE_ROOT" rev-parse HEAD)
[ -z "$(git -C "$FAULTLINE_ROOT" status --porcelain --untracked-files=no)" ] \
  || note "warning: the work tree has uncommitted changes; the clones measure the commit ${rev:0:12} without them"
if [ -z "$work" ]; then work=$(mktemp -d /tmp/faultline-first-run.XXXXXX); else mkdir -p "$work"; work=$(cd "$work" && pwd); fi
demo_pgid=""
cleanup() {
  [ -n "$demo_pgid" ] && kill -INT -- "-$demo_pgid" 2>/dev/null || true
  if [ "$keep" = 0 ]; then rm -rf "$work"; else note "kept $work"; fi
}
trap cleanup EXIT

# No compiler cache, in case ccache is on the PATH: a new user has none.
export CCACHE_DISABLE=1
unset FAULTLINE_BUILD

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { s = b - a; printf "%dm%02ds (%.0f s)", s / 60, s % 60, s }'; }

# begin NAME TITLE: announces TITLE, clones the commit into $work/NAME; sets log and start.
begin() {
  step "$2"
  git clone --quiet --no-hardlinks "$FAULTLINE_ROOT" "$work/$1"
  git -C "$work/$1" checkout --quiet --detach "$rev"
  log="$work/$1.log"
  note "log: $log; load before: $(load)"
  start=$(now)
}

demo_result="not measured" test_result="not measured"

if [ "$only" != test ]; then
  begin demo "(a) scripts/demo.sh from a clean clone, until the game day's first line"
  # Line-buffered output (faultline's lines reach the log when printed); its own process group, so
  # that it can be interrupted as Ctrl-C would (the game day stops its servers on the way out).
  (cd "$work/demo" && exec setsid stdbuf -oL -eL ./scripts/demo.sh) >"$log" 2>&1 &
  demo_pid=$!
  demo_pgid=$demo_pid
  first=""
  while kill -0 "$demo_pid" 2>/dev/null; do
    if [ -z "$first" ] && grep -qE '^=== .+ \(1/[0-9]+\): ' "$log"; then
      first=$(since "$start")
      note "first game-day line after $first: $(grep -m1 -E '^=== .+ \(1/[0-9]+\): ' "$log")"
      [ "$whole_demo" = 1 ] || kill -INT -- "-$demo_pgid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  status=0
  wait "$demo_pid" || status=$?
  demo_pgid=""
  if [ -z "$first" ]; then
    tail -n 30 "$log" | sed 's/^/    | /'
    demo_result="no game-day line: demo.sh exited $status first (log: $log)"
  elif [ "$whole_demo" = 1 ]; then
    demo_result="$first to the first game-day line; the whole demo $(since "$start") (exit $status)"
  else
    demo_result="$first to the first game-day line"
  fi
  note "load after: $(load)"
fi

if [ "$only" != demo ]; then
  begin test "(b) scripts/test.sh from a clean clone, in full"
  status=0
  (cd "$work/test" && ./scripts/test.sh) >"$log" 2>&1 || status=$?
  test_result="$(since "$start") (exit $status; $(grep -E '% tests passed' "$log" | tail -n1 || echo 'no ctest summary'))"
  note "load after: $(load)"
fi

step "first run on $(nproc) cores, commit ${rev:0:12}"
note "(a) demo:  $demo_result"
note "(b) tests: $test_result"
