#!/usr/bin/env python3
"""Soaks smarketing-server on loopback with a fresh store: measures the
capacity of a mixed load (scoring, lead upserts, event ingest, sales
feedback, listings by SLA state) for --probe seconds flat out, then runs it
at half that rate for --minutes, and reports errors, the rate achieved, the
server's CPU per request in the first and last thirds, and its resident
memory growth after warm-up (the first third).

Usage: benchmarks/service_soak.py SERVER_BINARY [--minutes 30] [--probe 20]
Passes when there was no error and resident memory grew under 5% after
warm-up; exits 1 otherwise. Outside CI: it takes --minutes.
"""

import argparse
import datetime
import importlib
import itertools
import os
import pathlib
import shutil
import sys
import tempfile
import threading
import time
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from service_probe import MARKETING, READER, hot_lead, page_views, start, stubs  # noqa: E402

SALES = (("authorization", "Bearer demo-sales-token-00000000000"),)
THREADS = 8


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Load:
    """The mixed load, one operation per call of step(); thread-safe."""

    def __init__(self, channel, pb):
        self.pb = pb
        self.leads = pb.lead_service_pb2_grpc.LeadServiceStub(channel)
        self.scoring = pb.scoring_service_pb2_grpc.ScoringServiceStub(channel)
        self.ids = itertools.count()
        self.lock = threading.Lock()
        self.mql = []  # leads upserted and not yet given feedback
        self.known = []  # every lead upserted
        self.errors = 0
        self.calls = 0
        self.first_error = None
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)

    def step(self, n):
        pb, kind = self.pb, n % 20
        try:
            if kind < 8:
                self.scoring.ScoreLead(pb.scoring_service_pb2.ScoreLeadRequest(
                    lead=hot_lead(pb.lead_pb2, pb.event_pb2, f"score-{n}", self.now)),
                    metadata=READER, timeout=30)
            elif kind < 11 or not self.known:
                lead_id = f"soak-{next(self.ids):08d}"
                self.leads.UpsertLead(pb.lead_service_pb2.UpsertLeadRequest(
                    lead=hot_lead(pb.lead_pb2, pb.event_pb2, lead_id, self.now)),
                    metadata=MARKETING, timeout=30)
                with self.lock:
                    self.mql.append(lead_id)
                    self.known.append(lead_id)
            elif kind < 18:
                with self.lock:
                    lead_id = self.known[n % len(self.known)]
                self.leads.RecordEvents(pb.lead_service_pb2.RecordEventsRequest(
                    lead_id=lead_id,
                    events=page_views(pb.event_pb2, f"ev-{n}", 3, self.now)),
                    metadata=MARKETING, timeout=30)
            elif kind == 18:
                with self.lock:
                    lead_id = self.mql.pop() if self.mql else None
                if lead_id is not None:
                    feedback = pb.lifecycle_pb2.Feedback(lead_id=lead_id,
                                                         actor_id="usr-1001")
                    feedback.accepted.SetInParent()
                    feedback.at.GetCurrentTime()
                    self.leads.RecordFeedback(
                        pb.lead_service_pb2.RecordFeedbackRequest(feedback=feedback),
                        metadata=SALES, timeout=30)
            else:
                self.leads.ListLeads(pb.lead_service_pb2.ListLeadsRequest(
                    sla_state=pb.sla_status_pb2.SLA_STATE_AT_RISK, page_size=100),
                    metadata=READER, timeout=30)
        except Exception as e:  # every failure counts, whatever its kind
            with self.lock:
                self.errors += 1
                self.first_error = self.first_error or repr(e)[:300]
        with self.lock:
            self.calls += 1


def run(load, seconds, rate=None):
    """Runs the load for `seconds`, paced at `rate` calls/s when given."""
    counter = itertools.count()
    start_time = time.perf_counter()
    end = start_time + seconds

    def worker():
        while True:
            n = next(counter)
            if rate is not None:
                due = start_time + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            if time.perf_counter() >= end:
                return
            load.step(n)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--probe", type=float, default=20)
    args = parser.parse_args()
    stubs()
    import grpc

    # The generated modules, imported once stubs() has written them.
    pb = types.SimpleNamespace(**{name: importlib.import_module(f"smarketing.v1.{name}")
                                  for name in ("event_pb2", "lead_pb2", "lead_service_pb2",
                                               "lead_service_pb2_grpc", "lifecycle_pb2",
                                               "scoring_service_pb2", "scoring_service_pb2_grpc",
                                               "sla_status_pb2")})
    work = pathlib.Path(tempfile.mkdtemp(prefix="smarketing-soak-"))
    process, address = start(args.server, work / "store.db")
    try:
        load = Load(grpc.insecure_channel(address), pb)
        run(load, args.probe)
        capacity = load.calls / args.probe
        rate = capacity / 2
        print(f"capacity: {capacity:.0f} calls/s ({THREADS} client threads, "
              f"{load.errors} errors); soaking at {rate:.0f} calls/s for "
              f"{args.minutes:g} min")
        load.calls = load.errors = 0
        seconds = args.minutes * 60
        samples = []  # (elapsed s, RSS KiB, server CPU s, calls)

        def sample():
            began = time.perf_counter()
            while process.poll() is None and time.perf_counter() - began < seconds:
                samples.append((time.perf_counter() - began, rss_kib(process.pid),
                                cpu_seconds(process.pid), load.calls))
                time.sleep(min(10, seconds / 30))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        run(load, seconds, rate)
        samples.append((seconds, rss_kib(process.pid), cpu_seconds(process.pid),
                        load.calls))
        third = [s for s in samples if s[0] >= seconds / 3]
        warm, last = third[0], samples[-1]
        growth = 100 * (last[1] - warm[1]) / warm[1]

        def cpu_per_call(a, b):
            return 1e6 * (b[2] - a[2]) / max(1, b[3] - a[3])
        first_third = [s for s in samples if s[0] <= seconds / 3]
        last_third = [s for s in samples if s[0] >= 2 * seconds / 3]
        print(f"soak: {load.calls} calls, {load.calls / seconds:.0f}/s, "
              f"{load.errors} errors"
              + (f" (first: {load.first_error})" if load.errors else ""))
        print(f"soak: resident memory {warm[1] / 1024:.1f} MiB after warm-up, "
              f"{last[1] / 1024:.1f} MiB at the end: {growth:+.1f}%")
        print(f"soak: server CPU per call {cpu_per_call(first_third[0], first_third[-1]):.0f} us "
              f"in the first third, {cpu_per_call(last_third[0], last_third[-1]):.0f} us "
              f"in the last")
        ok = load.errors == 0 and growth < 5
        print("soak: PASS" if ok else "soak: FAIL")
        return 0 if ok else 1
    finally:
        process.terminate()
        process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
