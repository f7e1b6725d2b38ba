#!/usr/bin/env bash
# bench/proxy/tls.sh: a terminating TLS proxy (faultline proxy, tls: terminate) against OpenSSL's
# own server and client on loopback, in the same run, each figure the median of ROUNDS rounds:
#   bulk:       one 256 MiB download with curl over TLS 1.3 (speed_download), from
#               openssl s_server -WWW direct; through the proxy to nginx plain (the usual
#               terminator); through the proxy to the same s_server (upstream_tls: TLS twice);
#               and nginx plain direct (no TLS at all) for scale;
#   handshakes: full TLS 1.3 handshakes per second from `openssl s_time -new` (one connection
#               after the other, no data), direct to s_server and through the proxy to nginx.
# Usage: bench/proxy/tls.sh [--rounds 3] [--size 256] (MiB) [--time 5] (s per handshake round)
#                           [--faultline PATH]
# Needs nginx-light, openssl and curl. Everything it starts is stopped by PID on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/common.sh"
source "$ROOT/scripts/servers.sh"

rounds=3 size=256 seconds=5
faultline=${FAULTLINE_BIN:-$FAULTLINE_BUILD/engine/faultline}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --time) seconds=$2; shift 2 ;;
    --faultline) faultline=$2; shift 2 ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
  esac
done
[ -x "$faultline" ] || die "no faultline binary at $faultline; build it first (scripts/setup.sh) or pass --faultline PATH"
for tool in openssl curl nginx python3; do command -v "$tool" >/dev/null || die "$tool is needed (scripts/setup.sh installs it)"; done

work=$(mktemp -d /tmp/faultline-bench-tls.XXXXXX)
nginx_dir="" s_server_pid="" daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && stop_pid "$daemon_pid"
  [ -n "$s_server_pid" ] && stop_pid "$s_server_pid"
  [ -n "$nginx_dir" ] && "$ROOT/scripts/nginx.sh" stop "$nginx_dir"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r), $(openssl version | cut -d' ' -f1-2)"

out=$("$ROOT/scripts/nginx.sh" start --watch $$)
nginx_dir=$(sed -n 's/^dir=//p' <<<"$out"); nginx_port=$(sed -n 's/^port=//p' <<<"$out")
head -c "$((size * 1024 * 1024))" /dev/urandom >"$nginx_dir/www/big"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 2 -subj /CN=localhost 2>/dev/null
# -WWW serves files relative to its working directory: the same file nginx serves.
(cd "$nginx_dir/www" && exec openssl s_server -WWW -accept 127.0.0.1:0 -cert "$work/cert.pem" -key "$work/key.pem" \
  </dev/null >"$work/s_server.log" 2>&1) &
s_server_pid=$!
for _ in $(seq 1 100); do grep -q '^ACCEPT' "$work/s_server.log" 2>/dev/null && break; sleep 0.05; done
s_server_port=$(sed -n 's/^ACCEPT 127.0.0.1://p' "$work/s_server.log")
[ -n "$s_server_port" ] || die "openssl s_server did not start: $(cat "$work/s_server.log")"

api_port=$(free_port)
"$faultline" proxy --api "127.0.0.1:$api_port" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for_port "$api_port" "$daemon_pid" || die "faultline proxy did not start: $(cat "$work/daemon.log")"
create() {  # name upstream extra-json -> the proxy's listen port; its CA file in $work/NAME.ca
  local reply
  reply=$(curl -fsS "http://127.0.0.1:$api_port/proxies" \
    -d "{\"name\":\"$1\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$2\",\"tls\":\"terminate\"$3}")
  python3 -c 'import json,sys; p=json.loads(sys.argv[1]); print(p["listen"].rsplit(":",1)[1]); open(sys.argv[2],"w").write(p["tls"]["ca_file"])' \
    "$reply" "$work/$1.ca"
}
to_plain=$(create to-plain "127.0.0.1:$nginx_port" "")
to_tls=$(create to-tls "127.0.0.1:$s_server_port" ',"upstream_tls":{"verify":false}')
note "nginx plain :$nginx_port, s_server :$s_server_port, proxy to nginx :$to_plain, proxy to s_server :$to_tls"
note "cipher: $(echo | openssl s_client -connect "127.0.0.1:$to_plain" 2>/dev/null | sed -n 's/^New, \(.*\)$/\1/p') (proxy), $(echo | openssl s_client -connect "127.0.0.1:$s_server_port" 2>/dev/null | sed -n 's/^New, \(.*\)$/\1/p') (s_server)"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
bulk() {  # url -> MiB/s of one download, checked for its full size
  local r
  r=$(curl -fsS -k -o /dev/null -w '%{size_download} %{speed_download}' "$1")
  [ "${r%% *}" = "$((size * 1024 * 1024))" ] || die "$1: got ${r%% *} bytes, not $((size * 1024 * 1024))"
  awk '{printf "%.1f\n", $2 / 1048576}' <<<"$r"
}
handshakes() {  # port -> full handshakes per second over $seconds
  local start end n
  start=$(date +%s.%N)
  n=$(openssl s_time -connect "127.0.0.1:$1" -new -time "$seconds" 2>/dev/null | sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' | head -n1)
  end=$(date +%s.%N)
  awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN {printf "%.0f\n", n / (e - s)}'
}

step "bulk: $size MiB over one connection, $rounds rounds (MiB/s, median)"
declare -A results
for name in s_server_direct proxy_to_nginx proxy_to_s_server nginx_plain; do results[$name]=""; done
for _ in $(seq 1 "$rounds"); do
  results[s_server_direct]+="$(bulk "https://127.0.0.1:$s_server_port/big") "
  results[proxy_to_nginx]+="$(bulk "https://127.0.0.1:$to_plain/big") "
  results[proxy_to_s_server]+="$(bulk "https://127.0.0.1:$to_tls/big") "
  results[nginx_plain]+="$(bulk "http://127.0.0.1:$nginx_port/big") "
done
for name in s_server_direct proxy_to_nginx proxy_to_s_server nginx_plain; do
  printf '    %-20s %8s MiB/s   (rounds: %s)\n' "$name" "$(tr ' ' '\n' <<<"${results[$name]}" | grep . | median)" "${results[$name]% }"
done

step "handshakes: TLS 1.3, one connection after the other, ${seconds}s x $rounds rounds (per second, median)"
direct="" proxied=""
for _ in $(seq 1 "$rounds"); do
  direct+="$(handshakes "$s_server_port") "
  proxied+="$(handshakes "$to_plain") "
done
printf '    %-20s %8s /s   (rounds: %s)\n' s_server_direct "$(tr ' ' '\n' <<<"$direct" | grep . | median)" "${direct% }"
printf '    %-20s %8s /s   (rounds: %s)\n' proxy_to_nginx "$(tr ' ' '\n' <<<"$proxied" | grep . | median)" "${proxied% }"
curl -fsS "http://127.0.0.1:$api_port/proxies/to-plain" >/dev/null
note "proxy stats: $(curl -fsS "http://127.0.0.1:$api_port/metrics" | grep -E '^faultline_proxy_tls_handshake' | tr '\n' ' ')"
step "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
