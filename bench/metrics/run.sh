#!/usr/bin/env bash
# bench/metrics: does a Prometheus scraping `faultline run --metrics` 1,000 times a second change
# the latency the run's load measures? One levels run against nginx on loopback, three levels of
# the same rate: `before` (no scrapes), `scraped` (`faultline load` fetches /metrics at 1,000/s,
# started when the run's own faultline_run_level says the level began), `after` (no scrapes).
# The journal's per-level p50/p99 are compared, in the same run; the scraper's figures say what
# the endpoint served.
# Usage: bench/metrics/run.sh [--rate 500/s] [--level 15s] [--scrape-rate 1000/s] [--faultline PATH]
# Needs nginx-light and python3.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/common.sh"
source "$ROOT/scripts/servers.sh"

rate=500/s level=15s scrape_rate=1000/s
faultline=${FAULTLINE_BIN:-$FAULTLINE_BUILD/engine/faultline}
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --level) level=$2; shift 2 ;;
    --scrape-rate) scrape_rate=$2; shift 2 ;;
    --faultline) faultline=$2; shift 2 ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
  esac
done
[ -x "$faultline" ] || die "no faultline binary at $faultline; build it first (scripts/setup.sh) or pass --faultline PATH"
command -v python3 >/dev/null || die "python3 is needed to read the journal; install the Debian package python3"

work=$(mktemp -d /tmp/faultline-bench-metrics.XXXXXX)
nginx_dir="" run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null || true
  [ -n "$nginx_dir" ] && "$ROOT/scripts/nginx.sh" stop "$nginx_dir"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

out=$("$ROOT/scripts/nginx.sh" start --watch $$)
nginx_dir=$(sed -n 's/^dir=//p' <<<"$out"); nginx_port=$(sed -n 's/^port=//p' <<<"$out")
echo ok >"$nginx_dir/www/ok"
metrics_port=$(free_port)
metrics="http://127.0.0.1:$metrics_port/metrics"

cat >"$work/bench.yaml" <<YAML
version: 1
name: metrics-bench
load:
  http: { url: "http://127.0.0.1:$nginx_port/ok", timeout: 2s }
  levels:
    - { name: before, rate: $rate, for: $level }
    - { name: scraped, rate: $rate, for: $level }
    - { name: after, rate: $rate, for: $level }
YAML

step "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
note "load $rate on nginx (one worker) for 3 x $level; /metrics scraped at $scrape_rate during 'scraped'"
"$faultline" run "$work/bench.yaml" --metrics "127.0.0.1:$metrics_port" --metrics-grace 0s --report-dir "$work/reports" \
  --state-file "$work/state.json" >"$work/run.log" 2>&1 &
run_pid=$!

# The scraper starts when the run itself says the level `scraped` began, and stops before it ends.
for _ in $(seq 1 600); do
  curl -fsS "$metrics" -o "$work/page.txt" 2>/dev/null &&
    grep -q 'faultline_run_level{experiment="metrics-bench",level="scraped"} 1' "$work/page.txt" && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.log" >&2; die "the run ended before its level 'scraped'"; }
  sleep 0.05
done
scrape_for=$(python3 -c "import sys; v='$level'; print(str(max(1, int(float(v[:-1]) * (1 if v.endswith('s') else 60)) - 2)) + 's')")
"$faultline" load "$metrics" --rate "$scrape_rate" --duration "$scrape_for" --timeout 1s --json >"$work/scrape.json"
status=0
wait "$run_pid" || status=$?
run_pid=""
[ "$status" -le 1 ] || { cat "$work/run.log" >&2; die "faultline run exited $status"; }

python3 - "$work/reports" "$work/scrape.json" <<'PY'
import glob, json, sys
journal = json.load(open(glob.glob(sys.argv[1] + "/*.journal.json")[0]))
scrape = json.load(open(sys.argv[2]))
ms = lambda s: "-" if s is None else f"{s * 1000:.3f} ms"
print(f"\n{'level':<8} {'answered/s':>10} {'requests':>9} {'errors':>7} {'p50':>10} {'p99':>10}")
for l in journal["analysis"]["levels"]:
    print(f"{l['name']:<8} {l['rate']:>10.1f} {l['count']:>9} {l['error_rate'] * 100:>6.2f}% {ms(l.get('p50')):>10} {ms(l.get('p99')):>10}")
lat = scrape["latency_ms"]
print(f"\nscrapes: {scrape['requests']['completed']} in {scrape['elapsed_s']:.1f} s = {scrape['throughput_per_s']:.0f}/s, "
      f"errors {scrape['error_rate'] * 100:.2f}%, late {scrape['requests']['late']}, "
      f"scrape latency p50 {lat['p50']:.3f} ms p99 {lat['p99']:.3f} ms, scraper cpu {scrape['cpu_s']['user'] + scrape['cpu_s']['system']:.2f} s")
PY
note "one scrape of this run's /metrics: $(wc -c <"$work/page.txt") bytes"
step "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
