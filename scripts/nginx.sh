#!/usr/bin/env bash
# Starts a throwaway nginx for tests on 127.0.0.1, a free port and a fresh temporary directory:
# static files under DIR/www (GET, HEAD; /upload/ takes PUT through WebDAV, so a test can read
# back what it uploaded), long keep-alive, no access log; or stops one started here.
#
#   scripts/nginx.sh start [--watch PID] [--http2]   prints port=, pid=, dir= lines (eval-able)
#   scripts/nginx.sh stop DIR              stops the server by the PID recorded in DIR, removes DIR
#
# --watch PID: the server is also stopped (and DIR removed) within a second after process PID
# ends, so a crashed test leaves nothing behind. --http2: the port speaks HTTP/2 without TLS
# (h2c with prior knowledge; nginx takes no HTTP/1.1 there).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

write_config() {
  local dir=$1 port=$2 listen_options=$3
  cat >"$dir/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port$listen_options;
    root $dir/www;
    location /upload/ {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 1g;
    }
  }
}
CONF
}

start() {
  local watch="" listen_options=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --watch) watch="${2:?--watch needs a PID}"; shift 2 ;;
      --http2) listen_options=" http2"; shift ;;
      *) die "nginx.sh start: unknown option '$1' (use: start [--watch PID] [--http2])" ;;
    esac
  done
  command -v nginx >/dev/null || die "nginx not found; install the Debian package nginx-light (scripts/setup.sh)"
  local dir
  dir=$(mktemp -d /tmp/faultline-nginx.XXXXXX)
  mkdir -p "$dir/www/upload" "$dir/tmp"
  echo QUIT >"$dir/stop.signal"  # graceful: workers finish what they serve
  launch() {
    rm -f "$dir/nginx.pid"
    write_config "$dir" "$1" "$listen_options"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >/dev/null 2>&1 || true
  }
  launched_pid() { wait_for_pidfile "$dir/nginx.pid" && cat "$dir/nginx.pid"; }
  abandon() { [ ! -f "$dir/nginx.pid" ] || stop_pid "$(cat "$dir/nginx.pid")"; }
  start_on_free_port nginx "$dir" "$watch" "$dir/error.log"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop_server "${1:?usage: nginx.sh stop DIR}" ;;
  *) die "usage: nginx.sh start [--watch PID] [--http2] | nginx.sh stop DIR" ;;
esac
