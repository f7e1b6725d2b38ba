#!/usr/bin/env python3
"""bench/websocket: the WebSocket load's memory per session and round trips at many sessions.

Runs `faultline run` with a `load.websocket` of SESSIONS sessions (ramped, RATE messages per
second each, replies matched by the echoed id) against the tests' WebSocket echo server
(build/tests/websocket_test_server), spread over several processes sharing one loopback port
(SO_REUSEPORT) when the sessions need more descriptors than one process may open. A second run
with BASE sessions, otherwise identical, gives the generator's memory that does not depend on
the sessions (code, Timeline windows, histograms); the difference over the difference in sessions
is the memory per session.

Memory is the faultline process's resident set (VmRSS), read from /proc every 0.5 s: the median
over the hold (after the ramp) and the peak (VmHWM). Round trips are the journal's `load.websocket`
statistics over the hold (the run's `fault` phase: a command step that sleeps for the hold).

Usage: bench/websocket/run.py [--build build] [--sessions 10000] [--base 100] [--rate 1/s]
                              [--ramp 10s] [--hold 20s] [--servers N]
Prints a Markdown table for docs/benchmarks.md and a RESULT line.
"""
import argparse
import glob
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

# Descriptors one process keeps free for everything but sessions (as faultline does).
RESERVED = 512


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.environ.get("FAULTLINE_BUILD", "build"))
    p.add_argument("--sessions", type=int, default=10000)
    p.add_argument("--base", type=int, default=100)
    p.add_argument("--rate", default="1/s")
    p.add_argument("--ramp", type=int, default=10, help="seconds")
    p.add_argument("--hold", type=int, default=20, help="seconds")
    p.add_argument("--servers", type=int, default=0, help="server processes (default: as the open-files limit needs, at least 2)")
    return p.parse_args()


class server_fleet:
    """N websocket_test_server processes on one port (the first picks it, the others join)."""

    def __init__(self, program, count):
        self.procs = []
        self.port = None
        for i in range(count):
            args = [program, "--reuse-port", "1"] + (["--port", str(self.port)] if self.port else [])
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.procs.append(proc)
            line = proc.stdout.readline().split()
            if len(line) != 2 or line[0] != "port":
                raise SystemExit(f"websocket_test_server did not start (said {line!r})")
            self.port = self.port or int(line[1])
            if int(line[1]) != self.port:
                raise SystemExit(f"websocket_test_server {i} listens on {line[1]}, not the shared port {self.port}")

    def counts(self):
        total = {}
        for proc in self.procs:
            proc.stdin.write("counts\n")
            proc.stdin.flush()
            words = proc.stdout.readline().split()
            for k, v in zip(words[::2], words[1::2]):
                total[k] = total.get(k, 0) + int(v)
        return total  # "peak" is the sum of each process's peak: an upper bound of the joint peak

    def close(self):
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_load(faultline, workdir, url, sessions, args):
    name = f"ws-{sessions}"
    exp = os.path.join(workdir, name + ".yaml")
    with open(exp, "w") as f:
        f.write(f"""version: 1
name: {name}
load:
  websocket:
    url: {url}
    sessions: {sessions}
    ramp: {args.ramp}s
    rate: {args.rate}
    match: /id
    timeout: 2s
    connect_timeout: 5s
timeline:
  baseline: {args.ramp + 2}s
  steps: [ {{ at: 0s, action: command, run: "sleep {args.hold}" }} ]
  recovery: {{ timeout: 1s, stable_for: 0s }}
""")
    report = os.path.join(workdir, name)
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([faultline, "run", exp, "--report-dir", report, "--state-file", os.path.join(workdir, name + ".state")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples = []  # (seconds since start, VmRSS KiB)
    peak = 0
    while proc.poll() is None:
        rss = status_kib(proc.pid, "VmRSS")
        hwm = status_kib(proc.pid, "VmHWM")
        if rss is not None:
            samples.append((time.monotonic() - start, rss))
            peak = max(peak, hwm or 0)
        time.sleep(0.5)
    output = proc.stdout.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    journals = glob.glob(os.path.join(report, "*.journal.json"))
    if not journals:
        raise SystemExit(f"faultline run wrote no journal (exit {proc.returncode}):\n{output}")
    with open(journals[0]) as f:
        journal = json.load(f)
    # The hold: from 2 s after the ramp (start-up and the ramp's last sessions settled) to 1 s
    # before the end of the sleep step (start-up of the run itself is under a second).
    hold = sorted(v for t, v in samples if args.ramp + 3 <= t <= args.ramp + 2 + args.hold)
    stats = next((s for s in journal["analysis"]["phase_stats"] if s["series"] == "load.websocket" and s["phase"] == "fault"), None)
    load_stats = journal.get("load_stats", {}).get("load.websocket", {})
    return {
        "sessions": sessions,
        "rss_hold_kib": hold[len(hold) // 2] if hold else None,
        "rss_peak_kib": peak,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "elapsed_s": time.monotonic() - start,
        "fault_stats": stats,
        "load_stats": load_stats,
        "exit": proc.returncode,
    }


def main():
    args = parse_args()
    faultline = os.path.join(args.build, "engine", "faultline")
    server = os.path.join(args.build, "tests", "websocket_test_server")
    for path, target in ((faultline, "faultline"), (server, "websocket_test_server")):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"no {path}; build it first: ninja -C {args.build} {target}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    per_process = hard - RESERVED
    if args.sessions > per_process:
        raise SystemExit(f"{args.sessions} sessions do not fit in one faultline process under the open-files limit {hard}")
    servers = args.servers or max(2, math.ceil(args.sessions / per_process))
    load_before = open("/proc/loadavg").read().split()[:3]
    fleet = server_fleet(server, servers)
    url = f"ws://127.0.0.1:{fleet.port}/live"
    try:
        with tempfile.TemporaryDirectory(prefix="faultline-bench-ws.") as workdir:
            base = run_load(faultline, workdir, url, args.base, args)
            before = fleet.counts()
            full = run_load(faultline, workdir, url, args.sessions, args)
            after = fleet.counts()
    finally:
        fleet.close()
    load_after = open("/proc/loadavg").read().split()[:3]

    per_session_hold = (full["rss_hold_kib"] - base["rss_hold_kib"]) * 1024 / (args.sessions - args.base)
    per_session_peak = (full["rss_peak_kib"] - base["rss_peak_kib"]) * 1024 / (args.sessions - args.base)
    st = full["fault_stats"] or {}
    ls = full["load_stats"]
    ms = lambda k: f"{st[k] * 1000:.2f} ms" if k in st else "n/a"
    served = {k: after.get(k, 0) - before.get(k, 0) for k in ("upgraded", "messages")}
    print(f"machine: {os.cpu_count()} cores, open-files limit {hard}, {servers} server processes on port {fleet.port}")
    print(f"load average before {' '.join(load_before)}, after {' '.join(load_after)}")
    print()
    print("| measure | result |")
    print("|---|---|")
    print(f"| sessions established (generator / server upgrades) | {ls.get('sessions', {}).get('established', 'n/a'):,} / {served['upgraded']:,} "
          f"(peak open {ls.get('sessions_peak', 'n/a'):,}) |")
    print(f"| messages sent / replies matched / timed out (whole run) | {ls.get('messages_sent_total', 0):,} / {ls.get('replies_total', 0):,} / "
          f"{ls.get('messages_timed_out_total', 0):,} (server received {served['messages']:,}) |")
    print(f"| round trip over the {args.hold} s hold at {args.rate} per session ({st.get('rps', 0):,.0f} messages/s) | "
          f"p50 {ms('p50')}, p95 {ms('p95')}, p99 {ms('p99')}, max {ms('max')}; errors {st.get('errors', 'n/a')} of {st.get('count', 'n/a'):,} |")
    print(f"| generator RSS during the hold, {args.base:,} / {args.sessions:,} sessions | {base['rss_hold_kib'] / 1024:.1f} MiB / "
          f"{full['rss_hold_kib'] / 1024:.1f} MiB: **{per_session_hold / 1024:.2f} KiB per session** |")
    print(f"| generator peak RSS (VmHWM), {args.base:,} / {args.sessions:,} sessions | {base['rss_peak_kib'] / 1024:.1f} MiB / "
          f"{full['rss_peak_kib'] / 1024:.1f} MiB: {per_session_peak / 1024:.2f} KiB per session |")
    print(f"| generator CPU, whole run ({full['elapsed_s']:.0f} s) | {full['cpu_s']:.2f} s ({base['cpu_s']:.2f} s with {args.base} sessions) |")
    print()
    print(f"RESULT sessions={args.sessions} kib_per_session={per_session_hold / 1024:.2f} kib_per_session_peak={per_session_peak / 1024:.2f} "
          f"p50_ms={st.get('p50', 0) * 1000:.2f} p99_ms={st.get('p99', 0) * 1000:.2f} exit={full['exit']}")


if __name__ == "__main__":
    sys.exit(main())
