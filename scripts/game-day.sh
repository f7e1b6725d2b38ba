#!/usr/bin/env bash
# The game day in a box: starts real PostgreSQL and Redis (loopback, free ports, temporary
# directories), seeds the shop's database, starts the payments API and faultline-shop behind
# faultline's proxies, runs
# experiments/game-day.yaml against it, prints the summary and where the reports are, and stops
# everything, also on failure or Ctrl-C. Needs the build (scripts/setup.sh, or scripts/demo.sh
# which runs both).
#
#   scripts/game-day.sh [--short] [--repeat N] [--cache-ttl D] [--postgres-timeout D] [--report-dir DIR] [SUITE...]
#
#   --short          faults of 6 s and baselines of 3 s instead of 20 s and 5 s (what CI runs)
#   --repeat N       run each experiment N times against the same shop (faultline run --repeat)
#   --cache-ttl D    how long the shop serves a fresh copy from Redis (default 1s)
#   --postgres-timeout D  the shop's bound on one PostgreSQL try (default 300ms); these two
#                    make a changed shop for scripts/diff-check.sh
#   --report-dir     where journals and reports go (default: faultline-reports)
#   SUITE...         what to run (default: experiments/game-day.yaml)
#
# Exit code: faultline's (0 all passed, 1 an expectation missed, 2 bad input, 3 aborted). The
# suite includes db-and-cache-loss, which fails on purpose; the demo (scripts/demo.sh) knows that.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$FAULTLINE_ROOT/scripts/servers.sh"

short=0
repeat=""
cache_ttl=1s
postgres_timeout=300ms
report_dir=faultline-reports
inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1; shift ;;
    --repeat) repeat="${2:?--repeat needs a number of runs}"; shift 2 ;;
    --cache-ttl) cache_ttl="${2:?--cache-ttl needs a duration, e.g. 1s}"; shift 2 ;;
    --postgres-timeout) postgres_timeout="${2:?--postgres-timeout needs a duration, e.g. 300ms}"; shift 2 ;;
    --report-dir) report_dir="${2:?--report-dir needs a directory}"; shift 2 ;;
    -*) die "game-day.sh: unknown option '$1' (use: [--short] [--repeat N] [--cache-ttl D] [--postgres-timeout D] [--report-dir DIR] [SUITE...])" ;;
    *) inputs+=("$1"); shift ;;
  esac
done
[ ${#inputs[@]} -gt 0 ] || inputs=("$FAULTLINE_ROOT/experiments/game-day.yaml")

faultline="$FAULTLINE_BUILD/engine/faultline"
shop_bin="$FAULTLINE_BUILD/examples/shop/faultline-shop"
payments_bin="$FAULTLINE_BUILD/examples/payments/faultline-payments"
[ -x "$faultline" ] && [ -x "$shop_bin" ] && [ -x "$payments_bin" ] || die "faultline is not built; run scripts/setup.sh (or scripts/demo.sh)"
scripts="$FAULTLINE_ROOT/scripts"

pg_dir="" redis_dir="" shop_dir="" payments_dir=""
cleanup() {
  trap - EXIT INT TERM
  step "stopping the shop, the payments API, Redis and PostgreSQL"
  [ -n "$shop_dir" ] && "$scripts/shop.sh" stop "$shop_dir"
  [ -n "$payments_dir" ] && "$scripts/shop.sh" stop "$payments_dir"
  [ -n "$redis_dir" ] && "$scripts/redis.sh" stop "$redis_dir"
  [ -n "$pg_dir" ] && "$scripts/postgres.sh" stop "$pg_dir"
  note "stopped; nothing of the game day is left running"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

value_of() { sed -n "s/^$1=//p" <<<"$2"; }

step "starting PostgreSQL 15 and Redis on free loopback ports"
out=$("$scripts/postgres.sh" start --watch $$)
pg_dir=$(value_of dir "$out"); pg_port=$(value_of port "$out")
out=$("$scripts/redis.sh" start --watch $$)
redis_dir=$(value_of dir "$out"); redis_port=$(value_of port "$out")
note "PostgreSQL 127.0.0.1:$pg_port ($pg_dir), Redis 127.0.0.1:$redis_port ($redis_dir)"

step "seeding the shop's database (orders 1..1000)"
"$scripts/shop.sh" seed --postgres "127.0.0.1:$pg_port"

# The shop reaches its dependencies only through faultline's proxies; each experiment starts them
# on these ports for its run.
pg_proxy_port=$(free_port)
redis_proxy_port=$(free_port)
while [ "$redis_proxy_port" = "$pg_proxy_port" ]; do redis_proxy_port=$(free_port); done
payments_proxy_port=$(free_port)
while [ "$payments_proxy_port" = "$pg_proxy_port" ] || [ "$payments_proxy_port" = "$redis_proxy_port" ]; do
  payments_proxy_port=$(free_port)
done

step "starting faultline-payments, the payments API the shop charges on checkout"
out=$("$scripts/shop.sh" start-payments --watch $$)
payments_dir=$(value_of dir "$out"); payments_port=$(value_of port "$out")
note "http://127.0.0.1:$payments_port (log: $payments_dir/payments.log)"

step "starting faultline-shop (PostgreSQL via 127.0.0.1:$pg_proxy_port, Redis via 127.0.0.1:$redis_proxy_port, payments via 127.0.0.1:$payments_proxy_port)"
# A fresh copy lives 1 s (--cache-ttl) in Redis, so the database is read every second; one try
# waits 300 ms (--postgres-timeout); the breaker opens after 5 failed tries and tries again after 2 s; at most 1000 client connections and 300 live order
# sessions (WebSocket); the payments breaker also tries again after 2 s.
out=$("$scripts/shop.sh" start --postgres "127.0.0.1:$pg_proxy_port" --redis "127.0.0.1:$redis_proxy_port" --watch $$ \
  -- --cache-ttl "$cache_ttl" --postgres-timeout "$postgres_timeout" --breaker-cooldown 2s --max-connections 1000 --max-websocket-sessions 300 \
  --payments "127.0.0.1:$payments_proxy_port" --payments-breaker-cooldown 2s)
shop_dir=$(value_of dir "$out"); shop_port=$(value_of port "$out"); shop_pid=$(value_of pid "$out")
note "http://127.0.0.1:$shop_port (pid $shop_pid, log: $shop_dir/shop.log)"

# SHOP_PID: the process probe `shop` watches this very process (its RSS, CPU and connections),
# never one found by name.
vars=(--var "SHOP=127.0.0.1:$shop_port" --var "SHOP_PID=$shop_pid"
      --var "PG=127.0.0.1:$pg_port" --var "PG_PORT=$pg_port" --var "PG_PROXY=127.0.0.1:$pg_proxy_port"
      --var "REDIS=127.0.0.1:$redis_port" --var "REDIS_HOST=127.0.0.1" --var "REDIS_PORT=$redis_port"
      --var "REDIS_PROXY=127.0.0.1:$redis_proxy_port"
      --var "PAYMENTS=127.0.0.1:$payments_port" --var "PAYMENTS_PROXY=127.0.0.1:$payments_proxy_port")
if [ "$short" = 1 ]; then
  vars+=(--var BASELINE=3s --var FAULT_FOR=6s)
fi
[ -z "$repeat" ] || vars+=(--repeat "$repeat")

step "running ${inputs[*]}"
mkdir -p "$report_dir"
status=0
"$faultline" run "${inputs[@]}" "${vars[@]}" --report-dir "$report_dir" || status=$?
cp "$shop_dir/shop.log" "$report_dir/shop.log"
cp "$payments_dir/payments.log" "$report_dir/payments.log"
curl -fsS "http://127.0.0.1:$shop_port/metrics" >"$report_dir/shop-metrics.txt" || true
note "the shop's own log and metrics, to compare with the reports: $report_dir/shop.log, $report_dir/shop-metrics.txt"
exit "$status"
