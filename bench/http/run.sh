#!/usr/bin/env bash
# wrk against nginx (one worker, a 1 KiB static file, keep-alive) four ways, as docs/benchmarks.md
# reports it: direct; through a plain tcp proxy; through a `protocol: http` proxy without toxics;
# through one whose http_abort toxic matches no request (every request parsed and judged, none
# acted on). The proxies run in one `faultline proxy` daemon (--threads 1). Targets take turns
# round by round, so a busy moment hits all of them. --h2: HTTP/2 instead (nginx's h2c port with
# prior knowledge, h2load with --streams concurrent streams per connection as the client).
#
#   bench/http/run.sh [--build DIR] [--duration SECONDS] [--connections N] [--rounds N] [--h2 [--streams N]]
#
# Prints one line per target and round (requests/s, p50, p99 as wrk reports them; with --h2
# requests/s and the mean time per request, which is what h2load reports) and the medians. Needs
# faultline built, wrk (or h2load: nghttp2-client) and nginx (scripts/setup.sh installs them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/scripts/servers.sh"
build="$root/build" duration=10 connections=32 rounds=3 h2=0 streams=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="${2:?--build needs a directory}"; shift 2 ;;
    --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
    --connections) connections="${2:?--connections needs a number}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
    --h2) h2=1; shift ;;
    --streams) streams="${2:?--streams needs a number}"; shift 2 ;;
    *) die "bench/http/run.sh: unknown option '$1' (use: --build DIR, --duration S, --connections N, --rounds N, --h2, --streams N)" ;;
  esac
done
faultline="$build/engine/faultline"
[ -x "$faultline" ] || die "$faultline not built; run: ninja -C $build faultline"
if [ "$h2" = 1 ]; then
  command -v h2load >/dev/null || die "h2load not found; install the Debian package nghttp2-client"
else
  command -v wrk >/dev/null || die "wrk not found; install the Debian package wrk"
fi

nginx_dir="" daemon_pid="" work=$(mktemp -d)
cleanup() {
  [ -n "$daemon_pid" ] && stop_pid "$daemon_pid"
  [ -n "$nginx_dir" ] && "$root/scripts/nginx.sh" stop "$nginx_dir"
  rm -rf "$work"
}
trap cleanup EXIT

nginx_options=(--watch $$)
[ "$h2" = 0 ] || nginx_options+=(--http2)
out=$("$root/scripts/nginx.sh" start "${nginx_options[@]}")
nginx_dir=$(sed -n 's/^dir=//p' <<<"$out"); nginx_port=$(sed -n 's/^port=//p' <<<"$out")
head -c 1024 /dev/zero | tr '\0' x >"$nginx_dir/www/file"

tcp_port=$(free_port); http_port=$(free_port); toxic_port=$(free_port)
cat >"$work/proxies.json" <<JSON
[
  {"name": "tcp", "listen": "127.0.0.1:$tcp_port", "upstream": "127.0.0.1:$nginx_port"},
  {"name": "http", "listen": "127.0.0.1:$http_port", "upstream": "127.0.0.1:$nginx_port", "protocol": "http"},
  {"name": "http_toxic", "listen": "127.0.0.1:$toxic_port", "upstream": "127.0.0.1:$nginx_port", "protocol": "http",
   "toxics": [{"type": "http_abort", "attributes": {"path": "/never/*", "status": 503}}]}
]
JSON
"$faultline" proxy --api 127.0.0.1:0 --config "$work/proxies.json" --threads 1 >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for p in $tcp_port $http_port $toxic_port; do
  wait_for_port "$p" "$daemon_pid" || { cat "$work/daemon.log" >&2; die "the faultline proxy daemon did not listen on $p"; }
done

declare -A port=([direct]=$nginx_port [tcp]=$tcp_port [http]=$http_port [http_toxic]=$toxic_port)
targets=(direct tcp http http_toxic)
# wrk's latency lines: "50%  1.23ms"; in microseconds.
micros() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else print n * 1e6 }'; }
# h2load's "time for request:  min  max  mean  sd  +/- sd" line: the mean, in microseconds.
h2_round() {
  local t="$1" round="$2" text rps mean failed
  text=$(h2load -c"$connections" -m"$streams" -D"$duration" "http://127.0.0.1:${port[$t]}/file")
  rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$text")
  failed=$(awk '/^requests:/ { print $10 }' <<<"$text")
  [ "$failed" = 0 ] || die "$t: h2load saw $failed failed requests"
  grep -q '^status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$text" || die "$t: h2load saw answers other than 2xx: $(grep '^status codes' <<<"$text")"
  mean=$(micros "$(awk '/^time for request:/ { print $6 }' <<<"$text")")
  printf '%s round=%s rps=%s mean_us=%s\n' "$t" "$round" "$rps" "$mean" | tee -a "$work/results"
}
for round in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    if [ "$h2" = 1 ]; then h2_round "$t" "$round"; continue; fi
    text=$(wrk -t1 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:${port[$t]}/file")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$text")
    p50=$(micros "$(awk '$1 == "50%" { print $2 }' <<<"$text")")
    p99=$(micros "$(awk '$1 == "99%" { print $2 }' <<<"$text")")
    non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$text")
    [ -z "$non2xx" ] || die "$t: wrk saw $non2xx answers other than 2xx/3xx"
    printf '%s round=%s rps=%s p50_us=%s p99_us=%s\n' "$t" "$round" "$rps" "$p50" "$p99" | tee -a "$work/results"
  done
done
median() { grep "^$1 " "$work/results" | sed -n "s/.* $2=\([0-9.e+]*\).*/\1/p" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
if [ "$h2" = 1 ]; then
  echo "## medians of $rounds rounds (${duration}s each, HTTP/2: $connections connections x $streams streams, 1 h2load thread)"
  for t in "${targets[@]}"; do
    printf '%-11s %10.0f req/s  mean %7.0f us\n' "$t" "$(median "$t" rps)" "$(median "$t" mean_us)"
  done
  exit 0
fi
echo "## medians of $rounds rounds (${duration}s each, $connections connections, 1 wrk thread)"
for t in "${targets[@]}"; do
  printf '%-11s %10.0f req/s  p50 %7.0f us  p99 %7.0f us\n' "$t" "$(median "$t" rps)" "$(median "$t" p50_us)" "$(median "$t" p99_us)"
done
