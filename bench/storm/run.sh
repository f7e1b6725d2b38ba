#!/usr/bin/env bash
# bench/storm/run.sh BUILD_DIR : connection storms against storm_sink on loopback.
#   1. connections opened per second: 15,000 per worker as fast as possible, hold 0 (x3 each for
#      1 and 2 workers), and churn at an unbounded rate for 5 s
#   2. peak held connections with memory: 50,000 held for 5 s; generator RSS = the workers' VmHWM
#      summed (the storm's own figure), plus the coordinating process's
# Prints a Markdown table for docs/benchmarks.md. Needs nothing but the build.
set -euo pipefail
build=${1:-build}
faultline=$build/engine/faultline
sink=$build/bench/storm/storm_sink
[ -x "$faultline" ] && [ -x "$sink" ] || { echo "build faultline and storm_sink first: ninja -C $build faultline storm_sink" >&2; exit 2; }

# The sink runs until its stdin closes: a FIFO held open by this script.
fifo=$(mktemp -u /tmp/storm-bench.XXXXXX)
mkfifo "$fifo"
out=$(mktemp /tmp/storm-bench-out.XXXXXX)
"$sink" --processes 4 <"$fifo" >"$out" &
sink_pid=$!
exec 3>"$fifo"
cleanup() { exec 3>&- 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; rm -f "$fifo" "$out" "${cpu:-}"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q '^port ' "$out" && break; sleep 0.05; done
port=$(awk '/^port /{print $2}' "$out")
target=127.0.0.1:$port

# The storm's JSON with "cpu_seconds" added: user + system time of the coordinator and its
# workers (GNU time counts children that were waited for, and the coordinator reaps its workers).
cpu=$(mktemp /tmp/storm-bench-cpu.XXXXXX)
storm() {
  /usr/bin/time -f '%U %S' -o "$cpu" "$faultline" storm "$target" --quiet --json "$@" |
    python3 -c "import json,sys; d=json.load(sys.stdin); u,s=open('$cpu').read().split()[-2:]; d['cpu_seconds']=float(u)+float(s); print(json.dumps(d))"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "| scenario | workers | result | generator CPU | generator memory (peak RSS) |"
echo "|---|---|---|---|---|"
for workers in 1 2; do
  connections=$((workers * 15000))
  for run in 1 2 3; do
    storm --connections "$connections" --hold 0s --workers "$workers" | field \
      "f\"| open {d['attempts']:,} as fast as possible (run $run) | {d['workers']} | {d['opened_per_second']:,.0f} connections/s opened ({d['outcomes']['established']:,} established, {sum(d['outcomes'].values())-d['outcomes']['established']} other) | {d['cpu_seconds']:.2f} s = {d['cpu_seconds']*1e6/d['opened']:.0f} us per connection | {d['peak_rss_bytes']/2**20:.0f} MiB workers + {d['coordinator_peak_rss_bytes']/2**20:.0f} MiB coordinator |\""
    sleep 1
  done
done
storm --connections 2000 --churn --duration 5s --workers 2 | field \
  "f\"| churn: open, handshake, close; at most 2,000 open, 5 s | {d['workers']} | {d['opened_per_second']:,.0f} connections/s opened and closed ({d['opened']:,} in {d['elapsed_ms']/1000:.1f} s; {d['outcomes']['local_error']} local errors) | {d['cpu_seconds']:.2f} s = {d['cpu_seconds']*1e6/d['opened']:.0f} us per connection | {d['peak_rss_bytes']/2**20:.0f} MiB workers |\""
sleep 2
storm --connections 50000 --hold 5s | field \
  "f\"| hold 50,000 for 5 s | {d['workers']} | {d['peak_held']:,} held at peak ({d['opened_per_second']:,.0f}/s while opening; {sum(d['outcomes'].values())-d['outcomes']['established']} not established) | {d['cpu_seconds']:.2f} s | {d['peak_rss_bytes']/2**20:.0f} MiB workers + {d['coordinator_peak_rss_bytes']/2**20:.0f} MiB coordinator = {(d['peak_rss_bytes']+d['coordinator_peak_rss_bytes'])/1024/d['peak_held']:.2f} KiB per held connection |\""
exec 3>&-
wait "$sink_pid"
echo
echo "storm_sink: $(tail -1 "$out"); load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
