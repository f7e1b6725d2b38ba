#!/usr/bin/env bash
# Small HTTP requests through the proxy (issue 20, item 2): nginx answers a 2-byte body; wrk -t1
# -c32 (closed loop) runs direct, through `faultline proxy` and, when installed, through
# Toxiproxy, alternating, --rounds times; the median req/s of each and its share of direct. While
# wrk runs against a proxy, `perf stat` counts the proxy's system calls and context switches,
# reported per request.
# Usage: bench/proxy/small_http.sh [faultline binary] [rounds] [seconds]   (needs wrk, nginx, curl)
set -euo pipefail
faultline=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/engine/faultline}
rounds=${2:-3}
seconds=${3:-5}
[ -x "$faultline" ] || { echo "error: $faultline not built; run: ninja -C build faultline" >&2; exit 2; }
for tool in wrk nginx curl; do
  command -v $tool >/dev/null || { echo "error: $tool not installed (apt-get install wrk nginx-light curl)" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "error: nothing listens on $1" >&2; exit 1; }

nginx_port=$(free_port)
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$nginx_port; location / { return 200 "ok"; } } }
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
wait_port "$nginx_port"

fl_port=$(free_port)
fl_api=$(free_port)
echo "[{\"name\":\"bench\",\"listen\":\"127.0.0.1:$fl_port\",\"upstream\":\"127.0.0.1:$nginx_port\"}]" > "$work/proxies.json"
"$faultline" proxy --api "127.0.0.1:$fl_api" --config "$work/proxies.json" > "$work/faultline.log" 2>&1 & fl_pid=$!; pids+=($fl_pid)
wait_port "$fl_port"

declare -A target=([direct]=$nginx_port [faultline]=$fl_port)
declare -A pid_of=([faultline]=$fl_pid)
order=(direct faultline)
if command -v toxiproxy-server >/dev/null; then
  tp_api=$(free_port)
  tp_port=$(free_port)
  toxiproxy-server -host 127.0.0.1 -port "$tp_api" > "$work/toxiproxy.log" 2>&1 & tp_pid=$!; pids+=($tp_pid)
  wait_port "$tp_api"
  curl -sf -X POST "http://127.0.0.1:$tp_api/proxies" \
    -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:$tp_port\",\"upstream\":\"127.0.0.1:$nginx_port\",\"enabled\":true}" >/dev/null
  wait_port "$tp_port"
  target[toxiproxy]=$tp_port
  pid_of[toxiproxy]=$tp_pid
  order+=(toxiproxy)
fi

declare -A rps calls switches
for r in $(seq "$rounds"); do
  for name in "${order[@]}"; do
    stat=""
    if [ -n "${pid_of[$name]:-}" ]; then
      perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "${pid_of[$name]}" -o "$work/stat" -- sleep "$seconds" &
      stat=$!
    fi
    wrk -t1 -c32 -d"${seconds}s" "http://127.0.0.1:${target[$name]}/" > "$work/wrk" 2>&1
    [ -n "$stat" ] && wait "$stat"
    requests=$(awk '/requests in/ {print $1}' "$work/wrk")
    rps[$name]+="$(awk '/Requests\/sec/ {print $2}' "$work/wrk") "
    if [ -n "$stat" ]; then
      calls[$name]+="$(awk -F, -v n="$requests" '/raw_syscalls:sys_enter/ {printf "%.2f", $1 / n}' "$work/stat") "
      switches[$name]+="$(awk -F, -v n="$requests" '/context-switches/ {printf "%.3f", $1 / n}' "$work/stat") "
    fi
  done
done

med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
direct=$(echo "${rps[direct]}" | med)
for name in "${order[@]}"; do
  m=$(echo "${rps[$name]}" | med)
  extra=""
  [ -n "${calls[$name]:-}" ] && extra=" | $(echo "${calls[$name]}" | med) system calls and $(echo "${switches[$name]}" | med) context switches per request (proxy)"
  printf '| small HTTP, wrk -t1 -c32 | %s | %.0f req/s (median of %d x %d s; rounds: %s) | %.0f%% of direct%s |\n' \
    "$name" "$m" "$rounds" "$seconds" "${rps[$name]% }" "$(echo "100 * $m / $direct" | bc -l)" "$extra"
done
