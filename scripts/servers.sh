# Shared by redis.sh, postgres.sh, nginx.sh and prometheus.sh: free loopback ports, starting a
# server on one (retrying), waiting for it, stopping it by PID and removing its temporary
# directory. Sourced, not run.

die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# free_port : a TCP port no socket uses right now, below the kernel's ephemeral range so that
# outgoing connections do not take it meanwhile (the caller retries if it loses a race).
free_port() {
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 11000 ] || low=32768
  while :; do
    p=$(( 10000 + (RANDOM * 32768 + RANDOM) % (low - 10000) ))
    [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
  done
}

wait_for_pidfile() {
  local i
  for i in $(seq 1 100); do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

# wait_for_port PORT PID : until 127.0.0.1:PORT accepts connections, while PID is alive (10 s).
wait_for_port() {
  local i
  for i in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# start_on_free_port NAME DIR WATCH LOG : start a server on a free loopback port, up to 8 tries
# (another process may take the port between choosing and binding it). The calling script defines
#   launch PORT      start the server on PORT (its failure is seen below, not here)
#   launched_pid     print the server's PID once it has one, or fail
#   abandon          stop what a failed try left running
# A try succeeds once 127.0.0.1:PORT accepts connections while that PID lives. Then DIR/server.pid
# is written, a watcher of process WATCH started (if given) and port=, pid=, dir= printed; after
# the last failed try, LOG is shown, DIR removed and the script exits 2.
start_on_free_port() {
  local name=$1 dir=$2 watch=$3 log=$4 attempt port pid
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(free_port)
    launch "$port"
    if pid=$(launched_pid) && wait_for_port "$port" "$pid"; then
      echo "$pid" >"$dir/server.pid"
      [ -n "$watch" ] && watch_parent "$watch" "$(self_path)" "$dir"
      printf 'port=%s\npid=%s\ndir=%s\n' "$port" "$pid" "$dir"
      return 0
    fi
    abandon
  done
  cat "$log" >&2 2>/dev/null || true
  rm -rf "$dir"
  die "$name did not start on a free loopback port after $attempt attempts"
}

# stop_pid PID [SIGNAL] : signal PID (TERM by default), wait up to 10 s, then KILL.
stop_pid() {
  local pid=$1 sig=${2:-TERM} i
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
}

# stop_server DIR : stop the server whose PID is in DIR/server.pid (signal in DIR/stop.signal),
# then remove DIR. Refuses directories that were not made by these scripts.
stop_server() {
  local dir=$1
  case "$dir" in
    /tmp/faultline-redis.*|/tmp/faultline-postgres.*|/tmp/faultline-nginx.*|/tmp/faultline-prometheus.*) ;;
    *) die "stop: '$dir' is not a directory made by scripts/redis.sh, postgres.sh, nginx.sh or prometheus.sh" ;;
  esac
  [ -d "$dir" ] || return 0
  if [ -f "$dir/server.pid" ]; then
    stop_pid "$(cat "$dir/server.pid")" "$(cat "$dir/stop.signal" 2>/dev/null || echo TERM)"
  fi
  if [ -f "$dir/watcher.pid" ]; then
    local watcher
    watcher=$(cat "$dir/watcher.pid")
    [ "$watcher" != "$$" ] && [ "$watcher" != "${BASHPID:-}" ] && kill "$watcher" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

# watch_parent PID SCRIPT DIR : in the background, stop the server in DIR once PID has ended.
watch_parent() {
  local parent=$1 script=$2 dir=$3
  setsid bash -c '
    while kill -0 "$1" 2>/dev/null && [ -d "$3" ]; do sleep 0.5; done
    [ -d "$3" ] && exec "$2" stop "$3"
  ' faultline-watch "$parent" "$script" "$dir" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watcher.pid"
}

# make_test_certificate DIR: a self-signed certificate for 127.0.0.1 and localhost, valid two
# days, as DIR/server.crt and DIR/server.key (mode 600): --ssl / --tls servers use it, and
# clients that check it trust DIR/server.crt.
make_test_certificate() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$1/server.key" -out "$1/server.crt" >/dev/null 2>&1 \
    || die "openssl could not make a test certificate in $1"
  chmod 600 "$1/server.key"
  chmod 644 "$1/server.crt"
}

self_path() { echo "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"; }
