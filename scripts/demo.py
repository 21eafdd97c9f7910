#!/usr/bin/env python3
"""make demo: the closed loop through the real binaries on loopback. queuelens-sim --live runs the
hotel-reservation app on Autothrottle's bursty trace and sends its spans to queuelens-exporter,
which also reads the simulated node's cgroup tree; queuelens-recommender scrapes the exporter and
the simulator applies its recommendations; Prometheus, when installed, scrapes both with the rules
of alerts/. A table of load, queue length, P99 and current vs recommended replicas is printed as
the trace unfolds. Ctrl-C stops everything it started.

Environment: DEMO_SECONDS=N stops after N seconds (default: run until Ctrl-C or the trace ends);
DEMO_SPEED=X simulated seconds per second (default 2); DEMO_APP, DEMO_TRACE pick sim/apps/*.yaml
and sim/traces/* (defaults hotel-reservation, bursty.txt); DEMO_WARMUP the simulator's warm-up ramp
before the trace (default 30s, so the trace's load, and the first decisions, come within the
first minute).
"""
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

TABLE_EVERY_S = 5


def ms(v):
    return "%8.1f" % (v * 1e3) if v is not None else "       -"


def last_change(c):
    """"CPU 0.50 -> 0.42 by throttle_target" from a recommendation's lastChange, or ""."""
    if not c:
        return ""
    channel = "CPU" if c["channel"] == "cpuCores" else "replicas"
    fmt = "%.2f" if channel == "CPU" else "%.0f"
    return "%s %s -> %s by %s" % (channel, fmt % c["from"], fmt % c["to"], c["policy"])


def print_table(s, t):
    services = {x["service"]: x for x in stack.get_json(s.exporter_url + "/api/v1/services")
                .get("services", [])}
    recs = {r["workload"]: r for r in
            stack.get_json(s.recommender_url + "/api/v1/recommendations")["recommendations"]}
    pods = s.pods()
    front = services.get("frontend", {})
    print("t=%4.0fs   load %6.0f req/s at the frontend" % (t, front.get("arrivalRate") or 0))
    print("  %-16s %8s %9s %9s %8s  %-15s %-9s %s" % ("service", "req/s", "inflight", "queue",
                                                       "p99 ms", "replicas", "CPU limit",
                                                       "last change"))
    for name in sorted(set(services) | set(recs)):
        x = services.get(name, {})
        r = recs.get(name, {})
        total, ready = pods.get(name, (0, 0))
        replicas = "%d -> %s%s" % (ready, r.get("replicas", "-"),
                                   " (stale)" if r.get("stale") else "")
        cpu = "%.2f" % r["cpuCores"] if r.get("cpuCores") else "-"
        print("  %-16s %8.1f %9.2f %9.2f %s  %-15s %-9s %s" % (
            name, x.get("arrivalRate") or 0, x.get("inflight") or 0, x.get("queueLength") or 0,
            ms((x.get("durationSeconds") or {}).get("p99")), replicas, cpu,
            last_change(r.get("lastChange"))))
    print(flush=True)


def main():
    limit = float(os.environ.get("DEMO_SECONDS", "0"))
    tmp = tempfile.mkdtemp(prefix="queuelens-demo-")
    s = stack.Stack(tmp, app=os.environ.get("DEMO_APP", "hotel-reservation"),
                    trace=os.environ.get("DEMO_TRACE", "bursty.txt"),
                    speed=float(os.environ.get("DEMO_SPEED", "2")),
                    warmup=os.environ.get("DEMO_WARMUP", "30s"))
    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    codes = {}
    try:
        s.start()
        print("queuelens closed loop on loopback (logs in %s):" % tmp)
        print("  exporter      %s/  (status)   %s/metrics" % (s.exporter_url, s.exporter_url))
        print("  recommender   %s/  (status)   %s/api/v1/recommendations  (KEDA JSON)"
              % (s.recommender_url, s.recommender_url))
        if s.prometheus_url:
            print("  prometheus    %s/graph   %s/alerts   (alerts/ rules loaded)"
                  % (s.prometheus_url, s.prometheus_url))
        else:
            print("  prometheus    not installed: `apt-get install prometheus` adds it")
        print("  simulator     %s, trace %s, x%g speed; its spans go to %s"
              % (os.path.basename(s.app_file), os.path.basename(s.trace_file), s.speed,
                 s.otlp_url))
        print("The first %s of simulated time are the warm-up ramp; the status pages explain each "
              "decision. Ctrl-C stops.\n" % s.warmup, flush=True)
        start = time.monotonic()
        next_table = start + TABLE_EVERY_S
        while not stop["now"] and s.sim.running():
            now = time.monotonic()
            if limit > 0 and now - start >= limit:
                break
            if now >= next_table:
                next_table += TABLE_EVERY_S
                try:
                    print_table(s, (now - start) * s.speed)
                except (RuntimeError, OSError, ValueError, KeyError) as e:
                    print("  (status not available yet: %s)\n" % e, flush=True)
            time.sleep(0.2)
    finally:
        codes = s.stop()
        summary = [line for line in s_log(s, "sim") if line.startswith(("  ", "simulated"))]
        if summary:
            print("queuelens-sim's summary:")
            print("\n".join(summary))
        print("stopped: " + ", ".join("%s (exit %s)" % kv for kv in codes.items()))
        shutil.rmtree(tmp, ignore_errors=True)
    failed = {k: v for k, v in codes.items() if v not in (0, None)}
    return 1 if failed else 0


def s_log(s, name):
    path = os.path.join(s.dir, name + ".log")
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return f.read().replace("\r", "\n").splitlines()


if __name__ == "__main__":
    sys.exit(main())
