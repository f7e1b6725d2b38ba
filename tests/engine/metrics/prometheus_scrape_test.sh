#!/usr/bin/env bash
# A real Prometheus (Debian package prometheus, scripts/prometheus.sh: loopback, a free port, a
# temporary directory, 1 s scrapes, stopped by PID on exit) scrapes `faultline run --metrics`; the
# run's journal is then compared with what Prometheus stored (prometheus_scrape_check.py), every
# PromQL expression of monitoring/ must return data, and promtool must accept the bundled files.
#   prometheus_scrape_test.sh FAULTLINE_BINARY SOURCE_DIR
# Exit 77 (skipped) when prometheus or promtool is not installed.
set -euo pipefail
faultline=${1:?usage: prometheus_scrape_test.sh FAULTLINE_BINARY SOURCE_DIR}
src=${2:?usage: prometheus_scrape_test.sh FAULTLINE_BINARY SOURCE_DIR}
source "$src/scripts/servers.sh"

for tool in prometheus promtool python3; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (Debian package prometheus; scripts/setup.sh)"; exit 77; }
done

echo "== promtool on the bundled files"
promtool check config "$src/monitoring/prometheus.yml"
promtool check rules "$src/monitoring/alerts.yml"

work=$(mktemp -d /tmp/faultline-metrics-test.XXXXXX)
upstream_pid="" prom_dir=""
cleanup() {
  [ -n "$upstream_pid" ] && stop_pid "$upstream_pid"
  [ -n "$prom_dir" ] && "$src/scripts/prometheus.sh" stop "$prom_dir"
  rm -rf "$work"
}
trap cleanup EXIT

# The system under test: a static HTTP server behind a faultline proxy.
upstream_port=$(free_port)
(cd "$work" && echo hello >index.html && exec python3 -m http.server --bind 127.0.0.1 "$upstream_port" >"$work/upstream.log" 2>&1) &
upstream_pid=$!
wait_for_port "$upstream_port" "$upstream_pid" || { cat "$work/upstream.log"; echo "the upstream HTTP server did not start"; exit 1; }
proxy_port=$(free_port)
metrics_port=$(free_port)
cgroup=$(sed -n "s/^0::\///p" "/proc/$upstream_pid/cgroup"); cgroup=${cgroup:-.}  # relative to the cgroup v2 mount

eval "$("$src/scripts/prometheus.sh" start --target "127.0.0.1:$metrics_port" --rules "$src/monitoring/alerts.yml" --watch $$)"
prom_dir=$dir
echo "== prometheus on 127.0.0.1:$port (pid $pid), scraping 127.0.0.1:$metrics_port"

cat >"$work/metrics-run.yaml" <<YAML
version: 1
name: metrics-run
description: A run watched by a real Prometheus (tests/engine/metrics/prometheus_scrape_test.sh)
proxies:
  web: { listen: "127.0.0.1:$proxy_port", upstream: "127.0.0.1:$upstream_port" }
load:
  http: { url: "http://127.0.0.1:$proxy_port/", rate: 40/s, timeout: 2s }
probes:
  answer: { command: { run: "echo 42", value: true, every: 1s } }
  web_process: { process: { target: "$upstream_pid", every: 500ms } }
  web_cgroup: { cgroup: { path: "$cgroup", every: 500ms } }
steady_state:
  for: 2s
  require: [ "load.error_rate < 5%", "web_process.rss < 2GB" ]
timeline:
  baseline: 4s
  steps:
    - { at: 0s, for: 6s, fault: latency, target: web, latency: 120ms }
  recovery: { timeout: 20s, stable_for: 2s }
expect:
  during_fault: [ "load.error_rate < 5%" ]
  breaker: { opens_within: 5s }
YAML

echo "== faultline run --metrics 127.0.0.1:$metrics_port"
set +e
"$faultline" run --metrics "127.0.0.1:$metrics_port" --metrics-grace 15s --metrics-textfile "$work/final.prom" \
  --report-dir "$work/reports" --state-file "$work/state.json" "$work/metrics-run.yaml"
exit_code=$?
set -e
echo "== faultline exited $exit_code"
journal=$(find "$work/reports" -name '*.json' -path '*metrics-run*' | head -1)
[ -n "$journal" ] || { echo "no journal under $work/reports"; find "$work/reports"; exit 1; }
grep -q '^faultline_run_exit_code{experiment="metrics-run"} '"$exit_code"'$' "$work/final.prom" ||
  { echo "the textfile does not hold exit code $exit_code:"; cat "$work/final.prom"; exit 1; }
python3 "$src/tests/engine/metrics/prometheus_scrape_check.py" "127.0.0.1:$port" "$journal" "$exit_code" \
  "$src/monitoring/grafana/dashboards/faultline.json" "$src/monitoring/alerts.yml"
