#!/usr/bin/env bash
# The protocol sessions benchmarked (issue 20, item 5): pgbench (select-only, 16 clients) and
# redis-benchmark (GET/SET, pipelined 16 and not) direct, through a `protocol: tcp` proxy (the
# byte path, for reference), through a `protocol: postgres` / `protocol: redis` proxy, and through
# the same with a fault that matches nothing (the cost of inspecting every message), alternating,
# --rounds times; the median of each and its share of direct.
# Usage: bench/proxy/protocols.sh [faultline binary] [rounds] [seconds]
#   (needs pgbench, PostgreSQL 15, redis-server, redis-benchmark, curl; run as root or postgres)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
faultline=${1:-$here/../../build/engine/faultline}
rounds=${2:-3}
seconds=${3:-5}
[ -x "$faultline" ] || { echo "error: $faultline not built; run: ninja -C build faultline" >&2; exit 2; }
for tool in pgbench redis-benchmark redis-server curl; do
  command -v $tool >/dev/null || { echo "error: $tool not installed (scripts/setup.sh installs it)" >&2; exit 2; }
done
scripts=$here/../../scripts
work=$(mktemp -d)
pg_dir="" redis_dir="" fl_pid=""
cleanup() {
  [ -z "$fl_pid" ] || kill "$fl_pid" 2>/dev/null || true
  [ -z "$pg_dir" ] || "$scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  [ -z "$redis_dir" ] || "$scripts/redis.sh" stop "$redis_dir" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

eval "$("$scripts/postgres.sh" start --watch $$ | sed 's/^/pg_/')"
eval "$("$scripts/redis.sh" start --watch $$ | sed 's/^/redis_/')"
# pg_port, pg_dir, redis_port, redis_dir are set now.
pgbench -i -q -s 10 -h 127.0.0.1 -p "$pg_port" -U postgres postgres > "$work/pgbench-init.log" 2>&1 \
  || { cat "$work/pgbench-init.log" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "error: nothing listens on $1" >&2; exit 1; }

# One daemon, six proxies. The faults match nothing pgbench or redis-benchmark sends: every
# message is still parsed and matched against them.
declare -A port
for name in pg_tcp pg pg_fault redis_tcp redis redis_fault; do port[$name]=$(free_port); done
api=$(free_port)
cat > "$work/proxies.json" <<JSON
[
 {"name":"pg_tcp","listen":"127.0.0.1:${port[pg_tcp]}","upstream":"127.0.0.1:$pg_port"},
 {"name":"pg","listen":"127.0.0.1:${port[pg]}","upstream":"127.0.0.1:$pg_port","protocol":"postgres"},
 {"name":"pg_fault","listen":"127.0.0.1:${port[pg_fault]}","upstream":"127.0.0.1:$pg_port","protocol":"postgres",
  "toxics":[{"type":"pg_error","attributes":{"sqlstate":"40001","match":"faultline_matches_nothing"}}]},
 {"name":"redis_tcp","listen":"127.0.0.1:${port[redis_tcp]}","upstream":"127.0.0.1:$redis_port"},
 {"name":"redis","listen":"127.0.0.1:${port[redis]}","upstream":"127.0.0.1:$redis_port","protocol":"redis"},
 {"name":"redis_fault","listen":"127.0.0.1:${port[redis_fault]}","upstream":"127.0.0.1:$redis_port","protocol":"redis",
  "toxics":[{"type":"redis_error","attributes":{"keys":"faultline:matches:nothing:*"}}]}
]
JSON
"$faultline" proxy --api "127.0.0.1:$api" --config "$work/proxies.json" > "$work/faultline.log" 2>&1 & fl_pid=$!
for name in "${!port[@]}"; do wait_port "${port[$name]}"; done
port[pg_direct]=$pg_port
port[redis_direct]=$redis_port

declare -A result
pg_order=(pg_direct pg_tcp pg pg_fault)
redis_order=(redis_direct redis_tcp redis redis_fault)
for r in $(seq "$rounds"); do
  for name in "${pg_order[@]}"; do
    pgbench -S -n -c16 -j2 -T"$seconds" -h 127.0.0.1 -p "${port[$name]}" -U postgres postgres > "$work/pgbench" 2>&1 \
      || { cat "$work/pgbench" >&2; exit 1; }
    result[$name]+="$(awk '/^tps = / {print $3}' "$work/pgbench") "
  done
  for pipeline in 1 16; do
    # -n sized for about --seconds at the direct rate; a run's ops/s does not depend on its length.
    requests=$(( pipeline == 1 ? 40000 * seconds : 250000 * seconds ))
    for name in "${redis_order[@]}"; do
      redis-benchmark -h 127.0.0.1 -p "${port[$name]}" -c 50 -P "$pipeline" -n "$requests" -t get,set --csv \
        > "$work/redis" 2>&1 || { cat "$work/redis" >&2; exit 1; }
      for test in SET GET; do
        result[$name.$test.P$pipeline]+="$(awk -F, -v t="\"$test\"" '$1 == t {gsub(/"/, "", $2); print $2}' "$work/redis") "
      done
    done
  done
done

med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
row() {  # row LABEL KEY DIRECT_KEY UNIT
  local m d
  m=$(echo "${result[$2]}" | med)
  d=$(echo "${result[$3]}" | med)
  printf '| %s | %.0f %s (rounds: %s) | %.0f%% of direct |\n' "$1" "$m" "$4" "${result[$2]% }" "$(echo "100 * $m / $d" | bc -l)"
}
echo "| figure | median of $rounds x $seconds s | share |"
echo "|---|---|---|"
for name in "${pg_order[@]}"; do row "pgbench -S -c16, $name" "$name" pg_direct TPS; done
for pipeline in 1 16; do
  for test in GET SET; do
    for name in "${redis_order[@]}"; do
      row "redis-benchmark $test -c50 -P$pipeline, $name" "$name.$test.P$pipeline" "redis_direct.$test.P$pipeline" ops/s
    done
  done
done
