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
  launch() {
    local listen=(--port "$1")
    [ "$tls" = 1 ] && listen=(--port 0 --tls-port "$1" --tls-cert-file "$dir/server.crt" --tls-key-file "$dir/server.key"
      --tls-auth-clients no)
    rm -f "$dir/redis.pid"
    redis-server --bind 127.0.0.1 "${listen[@]}" --dir "$dir" --save '' --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      --unixsocket '' --protected-mode yes >/dev/null 2>&1 || true
  }
  launched_pid() { wait_for_pidfile "$dir/redis.pid" && cat "$dir/redis.pid"; }
  abandon() { [ ! -f "$dir/redis.pid" ] || stop_pid "$(cat "$dir/redis.pid")"; }
  start_on_free_port redis-server "$dir" "$watch" "$dir/redis.log"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop_server "${1:?usage: redis.sh stop DIR}" ;;
  *) die "usage: redis.sh start [--watch PID] | redis.sh stop DIR" ;;
esac
