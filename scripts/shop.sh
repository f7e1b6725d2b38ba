#!/usr/bin/env bash
# Starts and stops faultline-shop, the demo system under test (docs/shop.md), and seeds its
# PostgreSQL database.
#
#   scripts/shop.sh seed --postgres HOST:PORT [--orders N]
#       creates database `shop` (as user postgres) if missing, the orders table and orders 1..N
#       (default 1000); safe to run again
#   scripts/shop.sh start --postgres HOST:PORT --redis HOST:PORT [--listen ADDR] [--watch PID] [-- FLAG...]
#       starts the shop on ADDR (default 127.0.0.1:0, a free port) and prints port=, pid=, dir=
#       lines (eval-able); FLAGs go to faultline-shop; its log, breaker transitions included, is
#       DIR/shop.log. --watch PID: stopped (and DIR removed) within a second after PID ends.
#   scripts/shop.sh start-payments [--listen ADDR] [--watch PID] [-- FLAG...]
#       starts faultline-payments, the payments API the shop charges on checkout (--payments), the
#       same way: port=, pid=, dir= lines; its log is DIR/payments.log
#   scripts/shop.sh stop DIR
#       stops the shop (or payments API) by the PID recorded in DIR and removes DIR
#   scripts/shop.sh demo [-- FLAG...]
#       real PostgreSQL and Redis (scripts/postgres.sh, scripts/redis.sh), seeded, the payments
#       API and the shop, in the foreground; Ctrl-C, an error or the shop ending stops all of them
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

SHOP_BIN=${SHOP_BIN:-$FAULTLINE_BUILD/examples/shop/faultline-shop}
PAYMENTS_BIN=${PAYMENTS_BIN:-$FAULTLINE_BUILD/examples/payments/faultline-payments}

usage() {
  die "usage: shop.sh seed --postgres HOST:PORT [--orders N] | start --postgres HOST:PORT --redis HOST:PORT [--listen ADDR] [--watch PID] [-- FLAG...] | start-payments [--listen ADDR] [--watch PID] [-- FLAG...] | stop DIR | demo [-- FLAG...]"
}

# host_of ADDR / port_of ADDR : "127.0.0.1:5432" -> 127.0.0.1 / 5432 ("[::1]:5432" -> ::1).
host_of() { local h=${1%:*}; h=${h#[}; echo "${h%]}"; }
port_of() { echo "${1##*:}"; }

seed() {
  local postgres="" orders=1000
  while [ $# -gt 0 ]; do
    case "$1" in
      --postgres) postgres="${2:?--postgres needs HOST:PORT}"; shift 2 ;;
      --orders) orders="${2:?--orders needs a number}"; shift 2 ;;
      *) die "shop.sh seed: unknown option '$1' (use: seed --postgres HOST:PORT [--orders N])" ;;
    esac
  done
  [ -n "$postgres" ] || die "shop.sh seed: --postgres HOST:PORT is required"
  [[ "$orders" =~ ^[1-9][0-9]*$ ]] || die "shop.sh seed: --orders '$orders' must be a positive number"
  command -v psql >/dev/null || die "psql not found; install the Debian package postgresql-client (scripts/setup.sh)"
  local psql=(env PGOPTIONS=--client-min-messages=warning psql -h "$(host_of "$postgres")" -p "$(port_of "$postgres")" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ -z "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'shop'")" ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE shop" >/dev/null
  fi
  "${psql[@]}" -d shop -v orders="$orders" -f "$FAULTLINE_ROOT/scripts/shop-schema.sql" >/dev/null
}

start() {
  local postgres="" redis="" listen="127.0.0.1:0" watch=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --postgres) postgres="${2:?--postgres needs HOST:PORT}"; shift 2 ;;
      --redis) redis="${2:?--redis needs HOST:PORT}"; shift 2 ;;
      --listen) listen="${2:?--listen needs HOST:PORT}"; shift 2 ;;
      --watch) watch="${2:?--watch needs a PID}"; shift 2 ;;
      --) shift; break ;;
      *) die "shop.sh start: unknown option '$1' (shop flags go after --, e.g. start ... -- --cache-ttl 2s)" ;;
    esac
  done
  [ -n "$postgres" ] && [ -n "$redis" ] || die "shop.sh start: --postgres HOST:PORT and --redis HOST:PORT are required"
  launch shop "$SHOP_BIN" faultline-shop "$listen" "$watch" --postgres "$postgres" --redis "$redis" "$@"
}

start_payments() {
  local listen="127.0.0.1:0" watch=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --listen) listen="${2:?--listen needs HOST:PORT}"; shift 2 ;;
      --watch) watch="${2:?--watch needs a PID}"; shift 2 ;;
      --) shift; break ;;
      *) die "shop.sh start-payments: unknown option '$1' (payments flags go after --, e.g. -- --latency 20ms)" ;;
    esac
  done
  launch payments "$PAYMENTS_BIN" faultline-payments "$listen" "$watch" "$@"
}

# launch NAME BIN TARGET LISTEN WATCH FLAG... : starts BIN in its own session with its log in
# /tmp/faultline-NAME.*/NAME.log, waits until it listens, prints port=, pid=, dir=.
launch() {
  local name=$1 bin=$2 target=$3 listen=$4 watch=$5
  shift 5
  [ -x "$bin" ] || die "$bin is not built; run: ninja -C $FAULTLINE_BUILD $target (or scripts/setup.sh)"
  local dir pid i
  dir=$(mktemp -d "/tmp/faultline-$name.XXXXXX")
  # Its own session: a Ctrl-C meant for the caller's terminal does not reach it; stop does.
  setsid "$bin" --listen "$listen" --port-file "$dir/port" "$@" </dev/null >"$dir/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/server.pid"
  for i in $(seq 1 200); do
    [ -s "$dir/port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -s "$dir/port" ]; then
    cat "$dir/$name.log" >&2
    stop_pid "$pid"
    rm -rf "$dir"
    die "$target did not start (its output is above)"
  fi
  [ -n "$watch" ] && watch_parent "$watch" "$(self_path)" "$dir"
  printf 'port=%s\npid=%s\ndir=%s\n' "$(cat "$dir/port")" "$pid" "$dir"
}

stop() {
  local dir=${1:?usage: shop.sh stop DIR}
  case "$dir" in
    /tmp/faultline-shop.*|/tmp/faultline-payments.*) ;;
    *) die "shop.sh stop: '$dir' is not a directory made by scripts/shop.sh start or start-payments" ;;
  esac
  [ -d "$dir" ] || return 0
  [ -f "$dir/server.pid" ] && stop_pid "$(cat "$dir/server.pid")" TERM
  if [ -f "$dir/watcher.pid" ]; then
    local watcher
    watcher=$(cat "$dir/watcher.pid")
    [ "$watcher" != "$$" ] && [ "$watcher" != "${BASHPID:-}" ] && kill "$watcher" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

demo() {
  [ "${1:-}" = "--" ] && shift
  local scripts="$FAULTLINE_ROOT/scripts" pg_dir="" redis_dir="" shop_dir="" payments_dir="" out
  local pg_port redis_port shop_port shop_pid payments_port
  cleanup() {
    trap - EXIT INT TERM
    step "stopping everything"
    [ -n "$shop_dir" ] && stop "$shop_dir"
    [ -n "$payments_dir" ] && stop "$payments_dir"
    [ -n "$redis_dir" ] && "$scripts/redis.sh" stop "$redis_dir"
    [ -n "$pg_dir" ] && "$scripts/postgres.sh" stop "$pg_dir"
    note "done"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  step "starting PostgreSQL and Redis on free loopback ports"
  out=$("$scripts/postgres.sh" start --watch $$)
  pg_dir=$(sed -n 's/^dir=//p' <<<"$out"); pg_port=$(sed -n 's/^port=//p' <<<"$out")
  out=$("$scripts/redis.sh" start --watch $$)
  redis_dir=$(sed -n 's/^dir=//p' <<<"$out"); redis_port=$(sed -n 's/^port=//p' <<<"$out")
  note "PostgreSQL 127.0.0.1:$pg_port, Redis 127.0.0.1:$redis_port"

  step "seeding database shop"
  seed --postgres "127.0.0.1:$pg_port"
  note "orders 1..1000"

  step "starting faultline-payments"
  out=$(start_payments --watch $$)
  payments_dir=$(sed -n 's/^dir=//p' <<<"$out"); payments_port=$(sed -n 's/^port=//p' <<<"$out")
  note "http://127.0.0.1:$payments_port/payments (log: $payments_dir/payments.log)"

  step "starting faultline-shop"
  out=$(start --postgres "127.0.0.1:$pg_port" --redis "127.0.0.1:$redis_port" --watch $$ -- \
    --payments "127.0.0.1:$payments_port" "$@")
  shop_dir=$(sed -n 's/^dir=//p' <<<"$out"); shop_port=$(sed -n 's/^port=//p' <<<"$out")
  shop_pid=$(sed -n 's/^pid=//p' <<<"$out")
  note "http://127.0.0.1:$shop_port/orders/42   /health   /metrics   (pid $shop_pid)"
  note "its log: $shop_dir/shop.log (below); Ctrl-C stops everything"
  tail -n +1 -f --pid="$shop_pid" "$shop_dir/shop.log"
}

case "${1:-}" in
  seed) shift; seed "$@" ;;
  start) shift; start "$@" ;;
  start-payments) shift; start_payments "$@" ;;
  stop) shift; stop "$@" ;;
  demo) shift; demo "$@" ;;
  *) usage ;;
esac
