#!/usr/bin/env bash
# Starts a throwaway Redis for tests and demos on 127.0.0.1, a free port and a fresh temporary
# directory, without persistence; or stops one started here.
#
#   scripts/redis.sh start [--watch PID] [--tls]   prints port=, pid=, dir= lines (eval-able)
#   scripts/redis.sh stop DIR              stops the server by the PID recorded in DIR, removes DIR
#
# --watch PID: the server is also stopped (and DIR removed) within a second after process PID
# ends, so a crashed test leaves nothing behind.
# --tls: the port speaks TLS only (tls-port), with a self-signed certificate (DIR/server.crt).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

start() {
  local watch="" tls=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --watch) watch="${2:?--watch needs a PID}"; shift 2 ;;
      --tls) tls=1; shift ;;
      *) die "redis.sh start: unknown option '$1' (use: start [--watch PID] [--tls])" ;;
    esac
  done
  command -v redis-server >/dev/null || die "redis-server not found; install the Debian package redis-server (scripts/setup.sh)"
  local dir
  dir=$(mktemp -d /tmp/faultline-redis.XXXXXX)
  [ "$tls" = 1 ] && make_test_certificate "$dir"
  local attempt port pid listen
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(free_port)
    rm -f "$dir/redis.pid"
    listen=(--port "$port")
    [ "$tls" = 1 ] && listen=(--port 0 --tls-port "$port" --tls-cert-file "$dir/server.crt" --tls-key-file "$dir/server.key"
      --tls-auth-clients no)
    redis-server --bind 127.0.0.1 "${listen[@]}" --dir "$dir" --save '' --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      --unixsocket '' --protected-mode yes >/dev/null 2>&1 || true
    if wait_for_pidfile "$dir/redis.pid" && pid=$(cat "$dir/redis.pid") && wait_for_port "$port" "$pid"; then
      echo "$pid" >"$dir/server.pid"
      [ -n "$watch" ] && watch_parent "$watch" "$(self_path)" "$dir"
      printf 'port=%s\npid=%s\ndir=%s\n' "$port" "$pid" "$dir"
      return 0
    fi
    [ -f "$dir/redis.pid" ] && stop_pid "$(cat "$dir/redis.pid")"
  done
  cat "$dir/redis.log" >&2 2>/dev/null || true
  rm -rf "$dir"
  die "redis-server did not start on a free loopback port after $attempt attempts"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop_server "${1:?usage: redis.sh stop DIR}" ;;
  *) die "usage: redis.sh start [--watch PID] | redis.sh stop DIR" ;;
esac
