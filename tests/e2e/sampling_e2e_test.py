#!/usr/bin/env python3
"""End-to-end test of sampled traces: the real OpenTelemetry JS SDK samples at 10 % and 25 % with
its consistent probability sampler (npm @opentelemetry/sampler-composite, tracestate ot=th) and
sends to the real queuelens-exporter over OTLP/HTTP. queuelens_requests_total must be the number
of sampled requests times 1/p exactly, and agree with the unsampled truth within the binomial
bound.

usage: sampling_e2e_test.py EXPORTER_BINARY REPO_ROOT
"""
import json
import math
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exporter_e2e_test import ExporterProcess, http, value  # noqa: E402


ROOT = sys.argv[2] if len(sys.argv) > 2 else "."
SENDER = os.path.join(ROOT, "tests/e2e/otlp_send.mjs")


def adjusted_count(trace_state):
    """1/p from ot=th:<hex> as OTEP 235 defines it: T = hex right-padded to 14 digits."""
    for member in trace_state.split(","):
        member = member.strip()
        if member.startswith("ot="):
            for sub in member[3:].split(";"):
                if sub.startswith("th:"):
                    threshold = int(sub[3:].ljust(14, "0"), 16)
                    return 2**56 / (2**56 - threshold)
    raise AssertionError("no ot=th in " + trace_state)


class SampledTracesEndToEnd(unittest.TestCase):
    def run_case(self, probability, traces, protocol):
        exporter = ExporterProcess()
        try:
            r = subprocess.run(
                ["node", SENDER, "--url", exporter.otlp, "--protocol", protocol, "--traces",
                 str(traces), "--probability", str(probability)],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            sent = json.loads(r.stdout.strip().splitlines()[-1])
            k = sent["sampled_traces"]
            self.assertEqual(sent["spans"], 3 * k)  # whole traces: parent-based sampling
            self.assertEqual(len(sent["trace_states"]), 1, sent)
            count = adjusted_count(sent["trace_states"][0])
            self.assertAlmostEqual(1 / count, probability, delta=1e-15)

            # Each trace holds one request to frontend and one to search.
            m = exporter.wait_for(lambda m: value(
                m, "queuelens_requests_sampled_total", service="search") == k)
            for service in ("frontend", "search"):
                self.assertEqual(value(m, "queuelens_requests_sampled_total", service=service), k)
                self.assertAlmostEqual(
                    value(m, "queuelens_requests_total", service=service), k * count,
                    delta=1e-9 * k * count)
                self.assertAlmostEqual(
                    value(m, "queuelens_sampling_probability", service=service), 1 / count,
                    delta=1e-12)
                self.assertEqual(
                    value(m, "queuelens_spans_sampling_unknown_total", service=service), 0)
            self.assertAlmostEqual(value(m, "queuelens_calls_total", client="frontend"),
                                   k * count, delta=1e-9 * k * count)
            self.assertAlmostEqual(
                value(m, "queuelens_request_duration_seconds_sum", service="frontend"),
                k * count * 0.1, delta=1e-6 * k * count)

            # The truth is `traces` requests per service: the estimate k/p has standard deviation
            # sqrt(traces·(1 − p)/p). Four of them fail once in ~16 000 runs.
            estimate = k * count
            bound = 4 * math.sqrt(traces * (1 - probability) / probability)
            self.assertLessEqual(abs(estimate - traces), bound,
                                 "estimate %.1f vs %d sent" % (estimate, traces))

            status, _, page = http("GET", exporter.web + "/")
            self.assertEqual(status, 200)
            self.assertIn("sampled at %g %% (ot.th)" % (probability * 100), page.decode())
        finally:
            rc = exporter.stop()
        self.assertEqual(rc, 0, "".join(exporter.stderr_lines))

    def test_ten_percent_over_protobuf(self):
        self.run_case(0.1, 3000, "proto")

    def test_twenty_five_percent_over_json(self):
        self.run_case(0.25, 1200, "json")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
