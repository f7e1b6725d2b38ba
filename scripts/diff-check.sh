#!/usr/bin/env bash
# Checks `faultline diff` on real runs (issue 23): sets of repeated runs of the game day's
# db-slowness against the real shop (scripts/game-day.sh starts PostgreSQL, Redis, the payments
# API and the shop on free ports and stops them on exit, also on failure), then diffs pairs of
# sets of unchanged code (a regression there is a false alarm) and sets of a changed shop against
# the baseline sets (a real change, which must be found where it moves a figure beyond its
# threshold). docs/benchmarks.md has the results and how they were taken.
#
#   scripts/diff-check.sh [OPTIONS] set NAME [--cache-ttl D] [--postgres-timeout D]
#       one set of --runs runs into DIR/NAME, the shop started with these flags (default the game
#       day's: 1s and 300ms); kept: journals, reports, the output, exit code, seconds taken and
#       `uptime` before and after (it is a timing measurement)
#   scripts/diff-check.sh [OPTIONS] summary
#       diffs each baseline set DIR/base-* with the next one (consecutive pairs: 01-02, 02-03, ...;
#       with --disjoint 01-02, 03-04, ...) and every other set (a changed shop) with every
#       baseline set; one line per comparison, then the totals; the diffs are kept in DIR/diffs/
#   scripts/diff-check.sh [OPTIONS] all [--sets S] [--changed C]
#       S baseline sets (default 11: 10 consecutive pairs) and C changed sets of each kind
#       (default 1): ttl-NN (cache TTL 100ms instead of 1s) and timeout-NN (a PostgreSQL try
#       waits 390ms instead of 300ms: the fault's slow answers 30 % slower), interleaved with the
#       baseline sets, then the summary
#
#   --dir DIR           where the sets go (default diff-check)
#   --runs N            runs per set (default 5)
#   --full              the game day's full timeline (fault 20 s) instead of its short mode (6 s)
#   --lock FILE         run each set under `flock FILE` (e.g. /tmp/fl-build.lock on a shared box)
#   --disjoint          summary: pairs that share no set
#   --diff-option OPT   passed to every `faultline diff` (repeatable), e.g. --diff-option=--alpha=0.01
#
# Exit code: 0 when at most one pair in ten is a false alarm (rounded down, at least one allowed)
# and every timeout-* set is found against every baseline set, 1 otherwise, 2 bad usage or a set
# that could not run. (A ttl-* set moves no figure beyond its threshold: docs/benchmarks.md.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir=diff-check
runs=5
short=(--short)
lock=""
disjoint=0
diff_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --full) short=(); shift ;;
    --lock) lock="${2:?--lock needs a file}"; shift 2 ;;
    --diff-option=*) diff_options+=("${1#--diff-option=}"); shift ;;
    --diff-option) diff_options+=("${2:?--diff-option needs a faultline diff option}"); shift 2 ;;
    --disjoint) disjoint=1; shift ;;
    -*) die "diff-check.sh: unknown option '$1' (see the top of scripts/diff-check.sh)" ;;
    *) break ;;
  esac
done
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 2 ] || die "diff-check.sh: --runs '$runs' must be 2 or more (a set needs a spread)"
faultline="$FAULTLINE_BUILD/engine/faultline"
[ -x "$faultline" ] || die "faultline is not built; run scripts/setup.sh"

# run_set NAME [SHOP_OPTION...] : one set of $runs runs of db-slowness against a freshly started
# shop (game-day.sh's --cache-ttl / --postgres-timeout).
run_set() {
  local name=$1 out="$dir/$1" status=0 started
  shift
  rm -rf "$out"
  mkdir -p "$out"
  local shop="the game day's flags"
  [ $# -eq 0 ] || shop="$*"
  step "set $name: $runs runs of db-slowness, $shop${short:+, short mode}"
  local body=("$FAULTLINE_ROOT/scripts/game-day.sh" "${short[@]}" --repeat "$runs" "$@"
              --report-dir "$out" "$FAULTLINE_ROOT/experiments/db-slowness.yaml")
  started=$(date +%s)
  # The load is taken where the runs are: inside the lock (fd 9, which the servers must not inherit).
  if [ -n "$lock" ]; then exec 9>"$lock"; flock 9; fi
  echo "before: $(uptime)" >"$out/load.txt"
  local began
  began=$(date +%s)
  "${body[@]}" >"$out/run.log" 2>&1 9>&- || status=$?
  echo "$(( $(date +%s) - began ))" >"$out/seconds.txt"
  echo "after: $(uptime)" >>"$out/load.txt"
  if [ -n "$lock" ]; then flock -u 9; exec 9>&-; fi
  echo "$shop" >"$out/shop.txt"
  echo "$status" >"$out/exit.txt"
  sed 's/^/    /' "$out/load.txt"
  note "exit $status in $(cat "$out/seconds.txt") s ($(( $(date +%s) - started )) s with the wait for the lock); $(grep -h 'passed .* of ' "$out/run.log" | tail -1)"
  # 0 all passed, 1 none, 5 flaky: all are sets to compare; anything else is a set that did not run.
  case "$status" in
    0|1|5) ;;
    *) tail -30 "$out/run.log" >&2; die "set $name could not run (exit $status); its output: $out/run.log" ;;
  esac
  [ "$(find "$out" -maxdepth 1 -name '*.journal.json' | wc -l)" -eq "$runs" ] ||
    die "set $name: expected $runs journals in $out, found $(find "$out" -maxdepth 1 -name '*.journal.json' | wc -l)"
}

# summary : diff the sets and print one line per comparison (python3 reads faultline's text).
summary() {
  mkdir -p "$dir/diffs"
  local bases=() changed=() i a b status
  for a in "$dir"/base-*/; do [ -f "$a/exit.txt" ] && bases+=("${a%/}"); done
  for a in "$dir"/*/; do
    [ -f "$a/exit.txt" ] && [[ "$(basename "$a")" != base-* ]] && changed+=("${a%/}")
  done
  [ ${#bases[@]} -ge 2 ] || die "diff-check.sh summary: need at least two baseline sets in $dir (base-*)"
  : >"$dir/diffs/index.txt"
  local step_by=1
  [ "$disjoint" = 1 ] && step_by=2
  for (( i = 0; i + 1 < ${#bases[@]}; i += step_by )); do
    a=${bases[i]} b=${bases[i + 1]}
    status=0
    "$faultline" diff "${diff_options[@]}" "$a" "$b" >"$dir/diffs/$(basename "$a")-vs-$(basename "$b").txt" 2>&1 || status=$?
    printf 'same %s %s %s\n' "$(basename "$a")" "$(basename "$b")" "$status" >>"$dir/diffs/index.txt"
  done
  for b in "${changed[@]}"; do
    for a in "${bases[@]}"; do
      status=0
      "$faultline" diff "${diff_options[@]}" "$a" "$b" >"$dir/diffs/$(basename "$a")-vs-$(basename "$b").txt" 2>&1 || status=$?
      printf 'changed %s %s %s\n' "$(basename "$a")" "$(basename "$b")" "$status" >>"$dir/diffs/index.txt"
    done
  done
  python3 - "$dir" <<'EOF'
import os, re, sys
root = sys.argv[1]
def text_of(name):
    p = os.path.join(root, name)
    return open(p).read().strip() if os.path.exists(p) else "?"
# A figure's line: "  p99 load/fault +50 % [+37 %, +64 %], p = 0.008  (300ms -> 450ms)  regression"
line = re.compile(r"^  (?P<metric>.+?) (?P<change>[+-][^\[,]*?)(?: \[[^\]]*\])?, (?P<p>p [=<] [0-9.]+)(?P<rest>.*)$")
called_re = re.compile(r"  REGRESSION( \(|$)")
rows, false_alarms, pairs = [], 0, 0
found = {}  # changed kind (the set name before its number) -> [found, comparisons, {figure: times called}]
for entry in open(os.path.join(root, "diffs", "index.txt")):
    kind, a, b, status = entry.split()
    text = open(os.path.join(root, "diffs", f"{a}-vs-{b}.txt")).read()
    if status not in ("0", "1"):
        print(f"faultline diff {a} {b} failed (exit {status}):\n{text}")
        sys.exit(2)
    called, significant, figures = [], [], []
    for l in text.splitlines():
        m = line.match(l)
        if not m:
            if l.startswith("  ") and called_re.search(l):
                called.append(l.strip())  # a tier, verdict or expectation regression: no p-value
            continue
        figure = f"{m['metric']} {m['change'].strip()} ({m['p']})"
        if called_re.search(m["rest"]):
            called.append(figure)
            figures.append(m["metric"])
        elif float(m["p"].split()[-1]) < 0.05:
            significant.append(figure)
    if kind == "same":
        pairs += 1
        false_alarms += status == "1"
    else:
        k = found.setdefault(b.rsplit("-", 1)[0], [0, 0, {}])
        k[0] += status == "1"
        k[1] += 1
        for f in figures:
            k[2][f] = k[2].get(f, 0) + 1
    rows.append((f"{a} vs {b}", status, called, significant))
print(f"{'comparison':<26} {'exit':<4} regressions called (change, p) | other figures with p < 0.05 (within their thresholds)")
for name, status, called, significant in rows:
    print(f"{name:<26} {status:<4} {'; '.join(called) or '-'} | {'; '.join(significant) or '-'}")
allowed = max(1, pairs // 10)
print(f"\nunchanged shop: {false_alarms} false alarm(s) in {pairs} pair(s) of sets (allowed: {allowed})")
for kind, (hits, total, figures) in sorted(found.items()):
    print(f"{kind} ({text_of(kind + '-01/shop.txt')}): found in {hits} of {total} comparison(s) with the baseline sets; figures called: "
          + (", ".join(f"{f} ({n}x)" for f, n in sorted(figures.items())) or "none"))
print("load (1-min average before -> after each set; seconds the set took):")
for d in sorted(os.listdir(root)):
    p = os.path.join(root, d, "load.txt")
    if os.path.exists(p):
        avg = [re.search(r"load average: ([0-9.]+)", l) for l in open(p)]
        print(f"  {d:<12} {' -> '.join(m.group(1) for m in avg if m)}  ({text_of(d + '/seconds.txt')} s, exit {text_of(d + '/exit.txt')})")
missed = sum(total - hits for kind, (hits, total, _) in found.items() if kind == "timeout")
sys.exit(0 if false_alarms <= allowed and missed == 0 else 1)
EOF
}

# The whole command is read before it runs, so editing this file meanwhile cannot change a run.
main() {
  command=${1:-}
  [ $# -gt 0 ] && shift
  case "$command" in
    set)
      name="${1:?diff-check.sh set needs a NAME, e.g. base-01 or timeout-01}"; shift
      local shop=()
      while [ $# -gt 0 ]; do
        case "$1" in
          --cache-ttl|--postgres-timeout) shop+=("$1" "${2:?$1 needs a duration}"); shift 2 ;;
          *) die "diff-check.sh set: unknown option '$1' (use: set NAME [--cache-ttl D] [--postgres-timeout D])" ;;
        esac
      done
      run_set "$name" "${shop[@]}" ;;
    summary) summary ;;
    all)
      local sets=11 per_kind=1
      while [ $# -gt 0 ]; do
        case "$1" in
          --sets) sets="${2:?--sets needs a number}"; shift 2 ;;
          --changed) per_kind="${2:?--changed needs a number}"; shift 2 ;;
          *) die "diff-check.sh all: unknown option '$1' (use: all [--sets S] [--changed C])" ;;
        esac
      done
      # Changed sets early (after base-01, base-02, ...): if the box is too busy to finish, both
      # kinds of comparison still have sets.
      local kinds=() n
      for (( n = 1; n <= per_kind; ++n )); do kinds+=("ttl-$(printf %02d "$n") --cache-ttl 100ms" "timeout-$(printf %02d "$n") --postgres-timeout 390ms"); done
      for (( n = 1; n <= sets || ${#kinds[@]} > 0; ++n )); do
        [ "$n" -le "$sets" ] && run_set "$(printf 'base-%02d' "$n")"
        if [ ${#kinds[@]} -gt 0 ]; then
          # shellcheck disable=SC2086  # a name and its flags, split on purpose
          run_set ${kinds[0]}
          kinds=("${kinds[@]:1}")
        fi
      done
      summary ;;
    *) die "usage: diff-check.sh [--dir DIR] [--runs N] [--full] [--lock FILE] [--disjoint] [--diff-option OPT] set NAME [--cache-ttl D] [--postgres-timeout D] | summary | all [--sets S] [--changed C]" ;;
  esac
}
main "$@"; exit $?
