#!/usr/bin/env bash
# Starts a throwaway Prometheus (Debian package prometheus) for tests and demos on 127.0.0.1, a
# free port and a fresh temporary directory, scraping one target every second; or stops one
# started here.
#
#   scripts/prometheus.sh start --target HOST:PORT [--rules FILE] [--watch PID]
#                                            prints port=, pid=, dir= lines (eval-able)
#   scripts/prometheus.sh stop DIR           stops the server by the PID recorded in DIR, removes DIR
#
# The target is scraped at /metrics as job "faultline" (1 s scrape and rule evaluation interval).
# --rules FILE: a rules file to load (monitoring/alerts.yml). --watch PID: the server is also
# stopped (and DIR removed) within a second after process PID ends.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

start() {
  local watch="" target="" rules=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --watch) watch="${2:?--watch needs a PID}"; shift 2 ;;
      --target) target="${2:?--target needs HOST:PORT}"; shift 2 ;;
      --rules) rules="${2:?--rules needs a file}"; shift 2 ;;
      *) die "prometheus.sh start: unknown option '$1' (use: start --target HOST:PORT [--rules FILE] [--watch PID])" ;;
    esac
  done
  [ -n "$target" ] || die "prometheus.sh start: --target HOST:PORT is required (the faultline run's --metrics address)"
  command -v prometheus >/dev/null || die "prometheus not found; install the Debian package prometheus (scripts/setup.sh)"
  local dir
  dir=$(mktemp -d /tmp/faultline-prometheus.XXXXXX)
  {
    printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
    if [ -n "$rules" ]; then
      cp "$rules" "$dir/rules.yml"
      printf 'rule_files:\n  - %s/rules.yml\n' "$dir"
    fi
    printf 'scrape_configs:\n  - job_name: faultline\n    static_configs:\n      - targets: ["%s"]\n' "$target"
  } >"$dir/prometheus.yml"
  local prometheus_pid=""
  launch() {
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address="127.0.0.1:$1" --log.level=warn >"$dir/prometheus.log" 2>&1 </dev/null &
    prometheus_pid=$!
  }
  launched_pid() { echo "$prometheus_pid"; }
  abandon() { stop_pid "$prometheus_pid"; }
  start_on_free_port prometheus "$dir" "$watch" "$dir/prometheus.log"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop_server "${1:?usage: prometheus.sh stop DIR}" ;;
  *) die "usage: prometheus.sh start --target HOST:PORT [--rules FILE] [--watch PID] | prometheus.sh stop DIR" ;;
esac
