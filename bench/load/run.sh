#!/usr/bin/env bash
# bench/load: `faultline load` against wrk, both driving the same nginx on loopback in the same run.
#   1. maximum throughput: closed loops with the same threads and connections (wrk -tT -cC vs
#      faultline load --users C --threads T), ROUNDS alternating rounds each, medians reported;
#   2. the generator's own CPU at a fixed open-model rate (default 10k/s), from getrusage.
#   3. the maximum open-model rate faultline sustains, searched (steps up by --search-step, then
#      bisects to 2 %), against wrk's closed-loop maximum of step 1: a rate is sustained when the
#      ok answers per second until the last answer (the trial's length plus the longest latency)
#      reach 99 % of the intended rate and nothing is dropped or failed; a generator that falls
#      behind stretches that span and misses. Latency counts from the intended send time; each trial's p99 is shown, and
#      --backlog-p99 MS (0: off, the default) also requires the p99 under MS; --search-pool N
#      gives the trials a pool of at most N connections (0: on demand, the default);
#   4. CPU per request of a three-request mix (faultline run), and 2,000 closed-model users.
# Usage: bench/load/run.sh [--duration 10s] [--rounds 3] [--connections 32] [--threads 1]
#                          [--rate 10k/s] [--search-trial 5s] [--search-step 1.15] [--backlog-p99 0] [--search-pool 0]
#                          [--only max|open|all] [--faultline PATH]
# Needs the Debian packages wrk and nginx-light (installed when missing and run as root).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/common.sh"
source "$ROOT/scripts/servers.sh"

duration=10s rounds=3 connections=32 threads=1 rate=10k/s search_trial=5s search_step=1.15 backlog_p99=0 search_pool=0 only=all
faultline=${FAULTLINE_BIN:-$FAULTLINE_BUILD/engine/faultline}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --search-trial) search_trial=$2; shift 2 ;;
    --search-step) search_step=$2; shift 2 ;;
    --backlog-p99) backlog_p99=$2; shift 2 ;;
    --search-pool) search_pool=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --faultline) faultline=$2; shift 2 ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
  esac
done
[ -x "$faultline" ] || die "no faultline binary at $faultline; build it first (scripts/setup.sh) or pass --faultline PATH"
ensure_packages wrk nginx-light

# nginx on a free loopback port, one worker, a fixed small response, from a temporary directory.
dir=$(mktemp -d /tmp/faultline-bench-nginx.XXXXXX)
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && stop_pid "$nginx_pid" QUIT
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
mkdir -p "$dir/logs"
start_nginx() {
port=$(free_port)
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 "ok\n"; }
  }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/logs/start.log" &
nginx_pid=$!
wait_for_port "$port" "$nginx_pid"
}
for attempt in 1 2 3 4 5; do
  start_nginx && break
  nginx_pid=""
  [ "$attempt" -eq 5 ] && { cat "$dir/logs/start.log" >&2; die "nginx did not start on a free loopback port"; }
done
url="http://127.0.0.1:$port/"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
json_field() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p" | head -n1; }

step "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
note "nginx $(nginx -v 2>&1 | sed 's/.*\///'), wrk $(wrk --version 2>&1 | head -n1 | awk '{print $2}'), url $url"

step "maximum throughput: $rounds rounds of $duration, $threads thread(s), $connections connections"
# Each tool's own CPU time per request (user + system, from bash's time) says how efficient it
# is even when a busy machine, not the tool, limits the throughput.
wrk_results=() fl_results=() wrk_cpu=() fl_cpu=()
TIMEFORMAT='%U %S'
for r in $(seq 1 "$rounds"); do
  { time wrk -t"$threads" -c"$connections" -d"$duration" "$url" >"$dir/wrk.out"; } 2>"$dir/wrk.time"
  w=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.out")
  wn=$(awk '/requests in/ {print $1}' "$dir/wrk.out")
  { time "$faultline" load "$url" --users "$connections" --threads "$threads" --duration "$duration" --json \
      >"$dir/fl.out" 2>/dev/null; } 2>"$dir/fl.time"
  f=$(json_field ok_per_s <"$dir/fl.out")
  fn=$(json_field completed <"$dir/fl.out")
  wc=$(awk -v n="$wn" '{printf "%.2f", 1e6 * ($1 + $2) / n}' "$dir/wrk.time")
  fc=$(awk -v n="$fn" '{printf "%.2f", 1e6 * ($1 + $2) / n}' "$dir/fl.time")
  note "round $r: wrk $w/s ($wc us cpu/request), faultline $f/s ($fc us cpu/request)"
  wrk_results+=("$w") fl_results+=("$f") wrk_cpu+=("$wc") fl_cpu+=("$fc")
done
wrk_median=$(printf '%s\n' "${wrk_results[@]}" | median)
fl_median=$(printf '%s\n' "${fl_results[@]}" | median)
wrk_cpu_median=$(printf '%s\n' "${wrk_cpu[@]}" | median)
fl_cpu_median=$(printf '%s\n' "${fl_cpu[@]}" | median)
ratio=$(awk -v f="$fl_median" -v w="$wrk_median" 'BEGIN {printf "%.1f", 100 * f / w}')
efficiency=$(awk -v f="$fl_cpu_median" -v w="$wrk_cpu_median" 'BEGIN {printf "%.1f", 100 * w / f}')
note "median: wrk $wrk_median/s, faultline $fl_median/s: faultline reaches $ratio% of wrk's throughput"
note "median cpu per request: wrk $wrk_cpu_median us, faultline $fl_cpu_median us: faultline does $efficiency% of wrk's requests per cpu second"

if [ "$only" != max ]; then
pool_words="connections on demand"
[ "$search_pool" = 0 ] || pool_words="a pool of at most $search_pool connections"
step "maximum open-model rate: trials of $search_trial, $threads thread(s), $pool_words$([ "$backlog_p99" = 0 ] || echo ", p99 under ${backlog_p99} ms")"
# sustains RATE: 0 when faultline sustains RATE/s (see the header), 1 otherwise; notes the trial.
sustains() {
  local out verdict
  out=$("$faultline" load "$url" --rate "$1/s" --duration "$search_trial" --threads "$threads" --connections "$search_pool" --json 2>/dev/null) || true
  verdict=$(python3 -c '
import json, sys
rate, trial, bound = float(sys.argv[1]), float(sys.argv[2].rstrip("s")), float(sys.argv[3])
try:
    d = json.loads(sys.stdin.read())
except ValueError:
    print("no 0 0 0 0 0"); sys.exit()
ok = d["outcomes"]["ok"]
# Every answer came by the end of the trial plus the longest latency (counted from the intended send
# time): answers per second over that span never overstate, and a backlog stretches it.
elapsed = trial + d["latency_ms"]["max"] / 1000
achieved = ok / elapsed
errors = sum(v for k, v in d["outcomes"].items() if k != "ok")
good = achieved >= 0.99 * rate and d["requests"]["dropped"] == 0 and errors == 0 and (bound <= 0 or d["latency_ms"]["p99"] <= bound)
cpu = d["cpu_s"]["user"] + d["cpu_s"]["system"]
print("yes" if good else "no", round(achieved), d["latency_ms"]["p50"], d["latency_ms"]["p99"], d["requests"]["late"], errors,
      round(cpu / elapsed, 2), round(1e6 * cpu / max(d["requests"]["completed"], 1), 1))
' "$1" "$search_trial" "$backlog_p99" <<<"$out")
  read -r good achieved p50 p99 late errors cores us <<<"$verdict"
  note "$1/s: achieved ${achieved}/s, p50 ${p50} ms, p99 ${p99} ms, late $late, errors $errors, generator ${cores} cores (${us} us cpu/request): $([ "$good" = yes ] && echo sustained || echo not sustained)"
  [ "$good" = yes ] && last_p99=$p99
  [ "$good" = yes ]
}
# Start at half of wrk's maximum, step up until a rate is not sustained, then bisect.
lo=0 hi=0 best_p99="" last_p99="" r=$(awk -v w="$wrk_median" 'BEGIN {printf "%d", w / 2}')
while [ "$hi" -eq 0 ]; do
  if sustains "$r"; then lo=$r best_p99=$last_p99; r=$(awk -v r="$r" -v f="$search_step" 'BEGIN {printf "%d", r * f}')
  elif [ "$lo" -eq 0 ] && [ "$r" -gt 1000 ]; then r=$((r / 2))  # not even the start: go down first
  else hi=$r; fi
  [ "$r" -gt 2000000 ] && hi=$r
done
while [ "$lo" -gt 0 ] && awk -v l="$lo" -v h="$hi" 'BEGIN {exit !(h > l * 1.02)}'; do
  mid=$(((lo + hi) / 2))
  if sustains "$mid"; then lo=$mid best_p99=$last_p99; else hi=$mid; fi
done
open_ratio=$(awk -v f="$lo" -v w="$wrk_median" 'BEGIN {printf "%.1f", 100 * f / w}')
note "highest open-model rate sustained with $pool_words: $lo/s (p99 from the intended send time ${best_p99:-?} ms; the next step, $hi/s, was not) = $open_ratio% of wrk's closed-loop maximum ($wrk_median/s)"
printf "\nRESULT wrk_max_per_s=%s faultline_open_max_per_s=%s open_ratio_percent=%s open_max_p99_ms=%s\n" "$wrk_median" "$lo" "$open_ratio" "${best_p99:-?}"
fi
[ "$only" = all ] || exit 0

step "generator CPU at a fixed rate of $rate for $duration (open model, connections on demand)"
out=$("$faultline" load "$url" --rate "$rate" --duration "$duration" --threads "$threads" --json 2>/dev/null)
user=$(echo "$out" | tr -d '\n' | sed 's/.*"cpu_s": *{\([^}]*\)}.*/\1/' | json_field user)
sys=$(echo "$out" | tr -d '\n' | sed 's/.*"cpu_s": *{\([^}]*\)}.*/\1/' | json_field system)
elapsed=$(echo "$out" | json_field elapsed_s)
throughput=$(echo "$out" | json_field throughput_per_s)
p99=$(echo "$out" | tr -d '\n' | sed 's/.*"latency_ms": *{\([^}]*\)}.*/\1/' | json_field p99)
late=$(echo "$out" | json_field late)
cores=$(awk -v u="$user" -v s="$sys" -v e="$elapsed" 'BEGIN {printf "%.3f", (u + s) / e}')
note "achieved $throughput/s, p99 ${p99} ms, late $late; cpu ${user}s user + ${sys}s system over ${elapsed}s = $cores cores"

step "a request mix at $rate for $duration: CPU per request (faultline run, three weighted requests with \${id} values)"
duration_s=$(awk -v d="$duration" 'BEGIN { sub(/s$/, "", d); print d }')
cat >"$dir/mix.yaml" <<YAML
version: 1
name: bench-mix
load:
  http:
    url: "$url"
    rate: $rate
    values: { id: { range: [1, 100000] } }
    requests:
      - { name: browse, weight: 70, url: "/orders/\${id}" }
      - { name: search, weight: 20, url: "/search?q=\${id}" }
      - { name: checkout, weight: 10, method: POST, url: /checkout, body: '{"id": \${id}}' }
timeline:
  baseline: 0s
  steps: [ { at: 0s, action: command, run: "sleep $duration_s" } ]
  recovery: { timeout: 1s, stable_for: 0s }
YAML
{ time "$faultline" run "$dir/mix.yaml" --report-dir "$dir/mix" --state-file "$dir/state.json" >"$dir/mix.out" 2>&1 || true; } 2>"$dir/mix.time"
mix_requests=$(python3 -c 'import json,glob,sys; j=json.load(open(glob.glob(sys.argv[1]+"/*.journal.json")[0])); print(sum(s["count"] for s in j["analysis"]["phase_stats"] if s["series"]=="load"))' "$dir/mix")
mix_cpu=$(awk -v n="$mix_requests" '{printf "%.2f", 1e6 * ($1 + $2) / n}' "$dir/mix.time")
note "$mix_requests requests of the mix; faultline cpu $(cat "$dir/mix.time") s (user system) = $mix_cpu us per request"

step "2000 closed-model users (think time 1s) for $duration"
users_out=$("$faultline" load "$url" --users 2000 --think-time 1s --duration "$duration" --threads "$threads" --json 2>/dev/null)
users_rate=$(echo "$users_out" | json_field throughput_per_s)
users_p99=$(echo "$users_out" | tr -d '\n' | sed 's/.*"latency_ms": *{\([^}]*\)}.*/\1/' | json_field p99)
users_err=$(echo "$users_out" | json_field error_rate)
users_conn=$(echo "$users_out" | json_field connections_opened)
note "2000 users: $users_rate/s answered, p99 $users_p99 ms, error rate $users_err, $users_conn connections opened"

printf '\nRESULT wrk_max_per_s=%s faultline_max_per_s=%s ratio_percent=%s cpu_efficiency_percent=%s cpu_cores_at_rate=%s rate=%s\n' \
  "$wrk_median" "$fl_median" "$ratio" "$efficiency" "$cores" "$rate"
printf 'RESULT mix_cpu_us_per_request=%s users_2000_per_s=%s users_2000_p99_ms=%s\n' "$mix_cpu" "$users_rate" "$users_p99"
