#!/usr/bin/env bash
# Runs bench/proxy/proxy_bench the way docs/benchmarks.md reports it: faultline against a direct
# loopback connection, socat, nginx's stream proxy and Toxiproxy (when installed), the toxic path
# (a latency toxic, both directions), a latency toxic's release error, small HTTP requests under wrk,
# then idle connections and the memory left after they close.
# Usage: bench/proxy/run.sh [build dir]   (needs proxy_bench and faultline built)
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
bench="$build/bench/proxy/proxy_bench"
[ -x "$bench" ] || { echo "error: $bench not built; run: ninja -C $build proxy_bench" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "## faultline vs direct"
"$bench" --only throughput --only latency

if command -v socat >/dev/null; then
  echo "## socat"
  "$bench" --only throughput --only latency --peer-name socat \
    --peer "socat TCP-LISTEN:{listen_port},bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:{upstream_port}"
fi

stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
if command -v nginx >/dev/null && [ -f "$stream_module" ]; then
  echo "## nginx stream proxy (1 worker)"
  cat > "$work/nginx.sh" <<SH
#!/bin/sh
# \$1: listen port, \$2: upstream port
mkdir -p "$work/n\$1/logs"
cat > "$work/n\$1/nginx.conf" <<CONF
load_module $stream_module;
worker_processes 1;
pid $work/n\$1/nginx.pid;
error_log $work/n\$1/logs/error.log;
events { worker_connections 4096; }
stream { server { listen 127.0.0.1:\$1; proxy_pass 127.0.0.1:\$2; } }
CONF
exec nginx -p "$work/n\$1" -c "$work/n\$1/nginx.conf" -g 'daemon off;'
SH
  chmod +x "$work/nginx.sh"
  "$bench" --only throughput --only latency --peer-name nginx --peer "$work/nginx.sh {listen_port} {upstream_port}"
fi

echo "## through a 10 ms latency toxic, both directions"
"$bench" --only toxic

echo "## a 50 ms latency toxic's release error on a kept-alive connection"
"$bench" --only precision

if command -v toxiproxy-server >/dev/null; then
  echo "## Toxiproxy (through its HTTP API, as faultline)"
  "$bench" --only throughput --only latency --only toxic --only precision --api-peer-name toxiproxy \
    --api-peer "toxiproxy-server -host 127.0.0.1 -port {api_port}"
fi

if command -v wrk >/dev/null && command -v nginx >/dev/null; then
  echo "## small HTTP requests (wrk, closed loop)"
  "$(dirname "$0")/small_http.sh" "$build/engine/faultline"
fi

echo "## idle connections"
"$bench" --only idle --idle 9900 --daemons 1
"$bench" --only idle --idle 10000 --daemons 2
