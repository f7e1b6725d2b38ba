#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 for tests and demos on 127.0.0.1, a free port and a fresh
# temporary directory (initdb, trust authentication, no fsync), run as user postgres; or stops one
# started here.
#
#   scripts/postgres.sh start [--watch PID] [--ssl]   prints port=, pid=, dir= lines (eval-able)
#   scripts/postgres.sh stop DIR              stops the server by the PID recorded in DIR, removes DIR
#
# Connect with: psql -h 127.0.0.1 -p PORT -U postgres postgres
# --watch PID: the server is also stopped (and DIR removed) within a second after process PID
# ends, so a crashed test leaves nothing behind.
# --ssl: ssl=on with a self-signed certificate for 127.0.0.1 (DIR/server.crt), for TLS tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# as_postgres CMD... : run as the postgres user (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    die "PostgreSQL must run as user postgres: run this script as root or as postgres"
  fi
}

start() {
  local watch="" ssl=0 options=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --watch) watch="${2:?--watch needs a PID}"; shift 2 ;;
      --ssl) ssl=1; shift ;;
      *) die "postgres.sh start: unknown option '$1' (use: start [--watch PID] [--ssl])" ;;
    esac
  done
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found; install the Debian package postgresql (15) (scripts/setup.sh)"
  id postgres >/dev/null 2>&1 || die "no user 'postgres'; install the Debian package postgresql (15)"
  local dir
  dir=$(mktemp -d /tmp/faultline-postgres.XXXXXX)
  chmod 755 "$dir"
  mkdir "$dir/data" "$dir/socket"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/data" "$dir/socket"
  echo INT >"$dir/stop.signal"   # SIGINT: PostgreSQL's fast shutdown
  if ! as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed (log above)"
  fi
  if [ "$ssl" = 1 ]; then
    make_test_certificate "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/server.key"
    options="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
  fi
  # pg_ctl -w returns once the server accepts connections (or gave up), so postmaster.pid is
  # complete by then.
  launch() {
    rm -f "$dir/data/postmaster.pid"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -s -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $1 -k $dir/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $options" \
      >/dev/null 2>&1 || true
  }
  launched_pid() { [ -s "$dir/data/postmaster.pid" ] && head -n1 "$dir/data/postmaster.pid"; }
  abandon() { [ ! -s "$dir/data/postmaster.pid" ] || stop_pid "$(head -n1 "$dir/data/postmaster.pid")" INT; }
  start_on_free_port PostgreSQL "$dir" "$watch" "$dir/data/server.log"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop_server "${1:?usage: postgres.sh stop DIR}" ;;
  *) die "usage: postgres.sh start [--watch PID] | postgres.sh stop DIR" ;;
esac
