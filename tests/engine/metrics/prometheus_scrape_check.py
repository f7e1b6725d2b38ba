#!/usr/bin/env python3
"""Compares what a real Prometheus scraped from `faultline run --metrics` with the run's journal,
and checks that every PromQL expression of the bundled dashboard and alert rules returns data.
Called by prometheus_scrape_test.sh:
  prometheus_scrape_check.py PROM_HOST:PORT JOURNAL EXIT_CODE DASHBOARD_JSON ALERTS_YML"""
import bisect, datetime, json, re, sys, time, urllib.parse, urllib.request

prom, journal_path, exit_code, dashboard_path, alerts_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
failures = []

def check(ok, what):
    print(("ok:     " if ok else "FAILED: ") + what)
    if not ok:
        failures.append(what)

def api(path, **params):
    url = f"http://{prom}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body["status"] != "success":
        raise RuntimeError(f"{url}: {body}")
    return body["data"]["result"]

journal = json.load(open(journal_path))
start = datetime.datetime.fromisoformat(journal["started_at"].replace("Z", "+00:00")).timestamp()
end = datetime.datetime.fromisoformat(journal["ended_at"].replace("Z", "+00:00")).timestamp()
now = time.time()
# Range queries step 1 s from the start; the final metrics exist from the last scrape on, which may
# fall between the last step before `now` and `now`: end a little later (the lookback keeps it).
range_end = now + 2
window = f"{int(now - start) + 60}s"  # every sample of the run
sel = 'experiment="metrics-run"'

# 1. The request counter's last value equals the journal's count; every counter only grows.
load = journal["timeline"]["series"]["load"]["windows"]
journal_count = sum(sum(w["outcomes"].values()) for w in load)
last = api("query", query=f'sum(faultline_requests_total{{{sel},series="load"}})', time=now)
prom_count = float(last[0]["value"][1]) if last else -1
check(prom_count == journal_count, f"load requests: Prometheus {prom_count:g}, journal {journal_count}")
series = api("query", query=f'{{__name__=~"faultline_.*_total",{sel}}}[{window}]', time=now)
decreasing = [s["metric"] for s in series if any(float(b[1]) < float(a[1]) for a, b in zip(s["values"], s["values"][1:]))]
check(series and not decreasing, f"{len(series)} counter series never decrease between scrapes {decreasing[:3]}")

# 2. fault_active is 1 exactly in the scrapes inside the fault step (one scrape of slack at each edge).
fault = journal["faults"][0]
injected, reverted = start + fault["injected_at"], start + fault["reverted_at"]
active = api("query", query=f'faultline_fault_active{{{sel},step="{fault["step"]}"}}[{window}]', time=now)
check(len(active) == 1, f"one fault_active series for step {fault['step']}")
if active:
    samples = [(float(t), float(v)) for t, v in active[0]["values"]]
    times = [t for t, _ in samples]
    # A scrape may see the change up to one scrape (and one 250 ms rebuild) late or early.
    lo, hi = bisect.bisect_left(times, injected), bisect.bisect_right(times, reverted)
    wrong = [(round(t - start, 2), v) for i, (t, v) in enumerate(samples)
             if (v == 1) != (lo <= i < hi) and not (lo - 1 <= i <= lo + 1 or hi - 1 <= i <= hi + 1)]
    check(any(v == 1 for _, v in samples) and not wrong,
          f"fault_active 1 exactly in the fault step [{fault['injected_at']:.2f}s, {fault['reverted_at']:.2f}s] "
          f"of {len(samples)} scrapes (wrong: {wrong[:5]})")

# 3. histogram_quantile(0.95) of the whole run lies within one bucket of the journal's p95.
bounds = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 60]
slots = []
for w in load:
    for lowest_us, n in w.get("latency", {}).get("buckets", []):
        slots.append((lowest_us / 1e6, n))
slots.sort()
rank, seen, journal_p95 = 0.95 * journal_count, 0, None
for value, n in slots:
    seen += n
    if seen >= rank:
        journal_p95 = value
        break
q = api("query", query=f'histogram_quantile(0.95, sum by (le) (faultline_request_duration_seconds_bucket{{{sel},series="load"}}))', time=now)
prom_p95 = float(q[0]["value"][1]) if q else float("nan")
bucket = lambda v: bisect.bisect_left(bounds, v)
check(journal_p95 is not None and abs(bucket(prom_p95) - bucket(journal_p95)) <= 1,
      f"p95: Prometheus {prom_p95:.4f}s, journal {journal_p95}s (buckets {bucket(prom_p95)} and {bucket(journal_p95) if journal_p95 else None})")

# 4. The verdict metrics match the exit code.
code = api("query", query=f"faultline_run_exit_code{{{sel}}}", time=now)
check(code and float(code[0]["value"][1]) == exit_code, f"faultline_run_exit_code {code and code[0]['value'][1]} = exit code {exit_code}")
verdict = api("query", query=f"faultline_run_verdict{{{sel}}}", time=now)
check(verdict and verdict[0]["metric"]["result"] == journal["verdict"]["result"],
      f"faultline_run_verdict result {verdict and verdict[0]['metric'].get('result')} = journal {journal['verdict']['result']}")

# 5. Every PromQL expression of the dashboard (panels and annotations) and the alert rules returns data
# over the run (the alert conditions themselves need not fire: their operands must exist).
dashboard = json.load(open(dashboard_path))
exprs = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]
exprs += [("annotation " + a["name"], a["expr"]) for a in dashboard["annotations"]["list"]]
def grafana(expr):
    return expr.replace("$__rate_interval", "5s").replace("$experiment", "metrics-run")
def without_thresholds(expr):
    # An alert's comparisons with a number (> 0.05, != 0, == 0) would hide data that exists.
    return re.sub(r"\s*(?:>|<|!=|==)\s*[0-9.]+", "", expr)
for name, expr in exprs:
    result = api("query_range", query=grafana(expr), start=start, end=range_end, step="1s")
    check(bool(result), f"dashboard '{name}': {expr[:90]} returns data")
for m in re.finditer(r"expr:\s*(.+)", open(alerts_path).read()):
    e = without_thresholds(m.group(1))
    result = api("query_range", query=e, start=start, end=range_end, step="1s")
    check(bool(result), f"alert rule without its threshold: {e[:90]} returns data")

print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
