#!/usr/bin/env bash
# Checks `faultline diff` on real runs (issue 23): sets of repeated runs of the game day's
# db-slowness against the real shop (scripts/game-day.sh starts PostgreSQL, Redis, the payments
# API and the shop on free ports and stops them on exit, also on failure), then diffs pairs of
# sets of unchanged code (a regression there is a false alarm) and sets of a changed shop (a
# shorter cache TTL) against the baseline sets (the change must be found). docs/benchmarks.md has
# the results and how they were taken.
#
#   scripts/diff-check.sh [OPTIONS] set NAME [--cache-ttl D]
#       one set of --runs runs into DIR/NAME (journals, reports, the run's output, exit code,
#       seconds taken, and `uptime` before and after: it is a timing measurement)
#   scripts/diff-check.sh [OPTIONS] summary
#       diffs each baseline set DIR/base-* with the next one (consecutive pairs: 01-02, 02-03, ...;
#       with --disjoint 01-02, 03-04, ...) and each changed set DIR/changed-* with every baseline
#       set; prints one line per comparison and the totals; the diffs are kept in DIR/diffs/
#   scripts/diff-check.sh [OPTIONS] all [--sets S] [--changed C]
#       S baseline sets (default 11: 10 consecutive pairs) and C changed sets (default 2; one
#       after base-01, one after base-03, ...), then the summary
#
#   --dir DIR           where the sets go (default diff-check)
#   --runs N            runs per set (default 5)
#   --full              the game day's full timeline (fault 20 s) instead of its short mode (6 s)
#   --lock FILE         run each set under `flock FILE` (e.g. /tmp/fl-build.lock on a shared box)
#   --changed-ttl D     the changed sets' cache TTL (default 100ms; the game day's is 1s)
#   --disjoint          summary: pairs that share no set
#
# Exit code: 0 when at most one pair in ten is a false alarm (rounded down, at least one allowed)
# and every changed set is found against every baseline set, 1 otherwise, 2 bad usage or a set
# that could not run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir=diff-check
runs=5
short=(--short)
lock=""
changed_ttl=100ms
disjoint=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --full) short=(); shift ;;
    --lock) lock="${2:?--lock needs a file}"; shift 2 ;;
    --changed-ttl) changed_ttl="${2:?--changed-ttl needs a duration, e.g. 100ms}"; shift 2 ;;
    --disjoint) disjoint=1; shift ;;
    -*) die "diff-check.sh: unknown option '$1' (see the top of scripts/diff-check.sh)" ;;
    *) break ;;
  esac
done
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 2 ] || die "diff-check.sh: --runs '$runs' must be 2 or more (a set needs a spread)"
faultline="$FAULTLINE_BUILD/engine/faultline"
[ -x "$faultline" ] || die "faultline is not built; run scripts/setup.sh"

# run_set NAME TTL : one set of $runs runs of db-slowness against a freshly started shop.
run_set() {
  local name=$1 ttl=$2 out="$dir/$1" status=0 started
  rm -rf "$out"
  mkdir -p "$out"
  step "set $name: $runs runs of db-slowness, cache TTL $ttl${short:+, short mode}"
  local body=("$FAULTLINE_ROOT/scripts/game-day.sh" "${short[@]}" --repeat "$runs" --cache-ttl "$ttl"
              --report-dir "$out" "$FAULTLINE_ROOT/experiments/db-slowness.yaml")
  started=$(date +%s)
  # The load is taken where the runs are: inside the lock (fd 9, which the servers must not inherit).
  if [ -n "$lock" ]; then exec 9>"$lock"; flock 9; fi
  echo "before: $(uptime)" >"$out/load.txt"
  local began=$(date +%s)
  "${body[@]}" >"$out/run.log" 2>&1 9>&- || status=$?
  echo "$(( $(date +%s) - began ))" >"$out/seconds.txt"
  echo "after: $(uptime)" >>"$out/load.txt"
  if [ -n "$lock" ]; then flock -u 9; exec 9>&-; fi
  echo "$ttl" >"$out/cache-ttl.txt"
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
  for a in "$dir"/base-*/; do [ -d "$a" ] && bases+=("${a%/}"); done
  for a in "$dir"/changed-*/; do [ -d "$a" ] && changed+=("${a%/}"); done
  [ ${#bases[@]} -ge 2 ] || die "diff-check.sh summary: need at least two baseline sets in $dir (base-*)"
  : >"$dir/diffs/index.txt"
  local step_by=1
  [ "$disjoint" = 1 ] && step_by=2
  for (( i = 0; i + 1 < ${#bases[@]}; i += step_by )); do
    a=${bases[i]} b=${bases[i + 1]}
    status=0
    "$faultline" diff "$a" "$b" >"$dir/diffs/$(basename "$a")-vs-$(basename "$b").txt" 2>&1 || status=$?
    printf 'same %s %s %s\n' "$(basename "$a")" "$(basename "$b")" "$status" >>"$dir/diffs/index.txt"
  done
  for b in "${changed[@]}"; do
    for a in "${bases[@]}"; do
      status=0
      "$faultline" diff "$a" "$b" >"$dir/diffs/$(basename "$a")-vs-$(basename "$b").txt" 2>&1 || status=$?
      printf 'changed %s %s %s\n' "$(basename "$a")" "$(basename "$b")" "$status" >>"$dir/diffs/index.txt"
    done
  done
  python3 - "$dir" <<'EOF'
import os, re, sys
root = sys.argv[1]
def load(name):
    p = os.path.join(root, name)
    return open(p).read().strip() if os.path.exists(p) else "?"
line = re.compile(r"^  (?P<metric>.+?) (?P<change>[+-][^\[,]*?)(?: \[[^\]]*\])?, (?P<p>p [=<] [0-9.]+)(?P<rest>.*)$")
called_re = re.compile(r"  regression( \(|$)")
rows, false_alarms, pairs, missed, changed_total = [], 0, 0, 0, 0
moved = {}
for entry in open(os.path.join(root, "diffs", "index.txt")):
    kind, a, b, status = entry.split()
    text = open(os.path.join(root, "diffs", f"{a}-vs-{b}.txt")).read()
    if status not in ("0", "1"):
        print(f"diff {a} {b} failed (exit {status}):\n{text}")
        sys.exit(2)
    called, significant = [], []
    for l in text.splitlines():
        m = line.match(l)
        if not m:
            if l.startswith("  ") and called_re.search(l) and ", p" not in l:
                called.append(l.strip())  # a tier or verdict regression, which has no p-value
            continue
        figure = f"{m['metric']} {m['change'].strip()} ({m['p']})"
        if called_re.search(m["rest"]):
            called.append(figure)
            if kind == "changed":
                moved[m["metric"]] = moved.get(m["metric"], 0) + 1
        elif float(m["p"].split()[-1]) < 0.05:
            significant.append(figure)
    if kind == "same":
        pairs += 1
        false_alarms += status == "1"
    else:
        changed_total += 1
        missed += status == "0"
    rows.append((kind, f"{a} vs {b}", status, called, significant))
print(f"{'comparison':<28} {'TTL':<12} {'exit':<5} regressions called (p) | other figures with p < 0.05 (not beyond their thresholds)")
for kind, name, status, called, significant in rows:
    a, b = name.split(" vs ")
    ttl = f"{load(a + '/cache-ttl.txt')}->{load(b + '/cache-ttl.txt')}"
    print(f"{name:<28} {ttl:<12} {status:<5} {'; '.join(called) or '-'} | {'; '.join(significant) or '-'}")
allowed = max(1, pairs // 10)
print(f"\nunchanged code: {false_alarms} false alarm(s) in {pairs} pair(s) (allowed: {allowed})")
if changed_total:
    print(f"changed shop: found in {changed_total - missed} of {changed_total} comparison(s); figures called: "
          + (", ".join(f"{k} ({v}x)" for k, v in sorted(moved.items())) or "none"))
loads = []
for d in sorted(os.listdir(root)):
    p = os.path.join(root, d, "load.txt")
    if os.path.exists(p):
        avg = [re.search(r"load average: ([0-9.]+)", l) for l in open(p)]
        loads.append(f"{d} {'/'.join(m.group(1) for m in avg if m)} ({load(d + '/seconds.txt')} s)")
print("load (1-min average before/after each set, seconds taken): " + "; ".join(loads))
sys.exit(0 if false_alarms <= allowed and missed == 0 else 1)
EOF
}

# The whole command is read before it runs, so editing this file meanwhile cannot change a run.
main() {
  command=${1:-}
  [ $# -gt 0 ] && shift
  case "$command" in
    set)
      name="${1:?diff-check.sh set needs a NAME, e.g. base-01 or changed-01}"; shift
      ttl=1s
      while [ $# -gt 0 ]; do
        case "$1" in
          --cache-ttl) ttl="${2:?--cache-ttl needs a duration}"; shift 2 ;;
          *) die "diff-check.sh set: unknown option '$1' (use: set NAME [--cache-ttl D])" ;;
        esac
      done
      run_set "$name" "$ttl" ;;
    summary) summary ;;
    all)
      sets=11 changed=2
      while [ $# -gt 0 ]; do
        case "$1" in
          --sets) sets="${2:?--sets needs a number}"; shift 2 ;;
          --changed) changed="${2:?--changed needs a number}"; shift 2 ;;
          *) die "diff-check.sh all: unknown option '$1' (use: all [--sets S] [--changed C])" ;;
        esac
      done
      # Changed sets early (after base-01, base-03, ...): if the box is too busy to finish, both
      # kinds of comparison still have sets.
      c=0
      for (( n = 1; n <= sets; ++n )); do
        run_set "$(printf 'base-%02d' "$n")" 1s
        if [ $(( n % 2 )) = 1 ] && [ "$c" -lt "$changed" ]; then c=$(( c + 1 )); run_set "$(printf 'changed-%02d' "$c")" "$changed_ttl"; fi
      done
      for (( ; c < changed; )); do c=$(( c + 1 )); run_set "$(printf 'changed-%02d' "$c")" "$changed_ttl"; done
      summary ;;
    *) die "usage: diff-check.sh [--dir DIR] [--runs N] [--full] [--lock FILE] [--changed-ttl D] [--disjoint] set NAME [--cache-ttl D] | summary | all [--sets S] [--changed C]" ;;
  esac
}
main "$@"; exit $?
