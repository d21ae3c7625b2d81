#!/usr/bin/env python3
"""Measures what issue 12's probe found slow in smarketing-server, on
loopback with a fresh store:

- listing: ListLeads filtered by SLA state over LEADS routed leads (every
  page, by next_page_token), and how many leads it returns;
- history: the cost of a one-event write to a lead holding HISTORY events,
  and one-event writes per second to other leads while such writes run;
- shutdown: seconds from SIGTERM to exit while a listing runs.

Usage: benchmarks/service_probe.py SERVER_BINARY [--leads N] [--history N]
Needs grpcio and grpcio-tools (tests/service/run.sh builds such a venv).
"""

import argparse
import atexit
import datetime
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOKENS = ROOT / "examples/demo_tokens.txt"
MARKETING = (("authorization", "Bearer demo-marketing-token-0000000"),)
READER = (("authorization", "Bearer demo-reader-token-0000000000"),)


def stubs():
    out = pathlib.Path(tempfile.mkdtemp(prefix="smarketing-stubs-"))
    atexit.register(shutil.rmtree, out, True)
    protos = [str(p.relative_to(ROOT / "proto"))
              for p in (ROOT / "proto").rglob("*.proto")
              if "grpc/health" not in str(p)]
    import grpc_tools
    from grpc_tools import protoc
    include = str(pathlib.Path(grpc_tools.__file__).parent / "_proto")
    assert protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{include}",
                        f"--python_out={out}", f"--grpc_python_out={out}",
                        *protos]) == 0
    sys.path.insert(0, str(out))


def start(binary, store, prefix=()):
    """Starts the server on `store`, the command after `prefix` (e.g. one
    that drops privileges)."""
    process = subprocess.Popen(
        [*prefix, binary, "--listen=127.0.0.1:0", f"--store={store}",
         f"--token_file={TOKENS}",
         f"--demo_playbook={ROOT / 'examples/playbooks/demo.yaml'}"],
        stderr=subprocess.PIPE, text=True)
    log = []
    for line in process.stderr:
        log.append(line)
        match = re.search(r"event=server_started .*port=(\d+)", line)
        if match:
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, f"127.0.0.1:{match.group(1)}"
    process.wait()
    raise RuntimeError("the server did not start: " + "".join(log).strip())


def hot_lead(lead_pb2, event_pb2, lead_id, now):
    lead = lead_pb2.Lead(id=lead_id, job_title="CMO",
                         seniority=lead_pb2.SENIORITY_C_LEVEL,
                         source="webinar", campaign="cmp-autumn")
    lead.company.name = "Acme"
    lead.company.domain = f"{lead_id}.example"
    lead.company.industry = "software"
    lead.company.employee_count = 250
    lead.company.country = "FR"
    lead.company.region = "EMEA"
    event = lead.events.add(id=f"{lead_id}-demo",
                            type=event_pb2.EVENT_TYPE_DEMO_REQUEST)
    event.occurred_at.FromDatetime(now - datetime.timedelta(hours=1))
    return lead


def page_views(event_pb2, prefix, count, now):
    events = []
    for i in range(count):
        e = event_pb2.Event(id=f"{prefix}-{i}", type=event_pb2.EVENT_TYPE_PAGE_VIEW)
        e.occurred_at.FromDatetime(now - datetime.timedelta(minutes=5))
        events.append(e)
    return events


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--history", type=int, default=100000)
    args = parser.parse_args()
    stubs()
    import grpc

    from smarketing.v1 import event_pb2, lead_pb2, lead_service_pb2, lead_service_pb2_grpc, sla_status_pb2
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    work = pathlib.Path(tempfile.mkdtemp(prefix="smarketing-probe-"))
    process, address = start(args.server, work / "store.db")
    channel = grpc.insecure_channel(address, options=[
        ("grpc.max_receive_message_length", 64 << 20)])
    leads = lead_service_pb2_grpc.LeadServiceStub(channel)

    for i in range(args.leads):
        leads.UpsertLead(lead_service_pb2.UpsertLeadRequest(
            lead=hot_lead(lead_pb2, event_pb2, f"lead-{i:06d}", now)),
            metadata=MARKETING)

    def list_all(state):
        token, listed, calls = "", 0, 0
        while True:
            page = leads.ListLeads(lead_service_pb2.ListLeadsRequest(
                sla_state=state, page_token=token), metadata=READER,
                timeout=600)
            listed += len(page.leads)
            calls += 1
            token = page.next_page_token
            if not token:
                return listed, calls

    for state in (sla_status_pb2.SLA_STATE_ON_TRACK,
                  sla_status_pb2.SLA_STATE_BREACHED):
        start_time = time.perf_counter()
        listed, calls = list_all(state)
        print(f"listing: ListLeads sla_state={sla_status_pb2.SlaState.Name(state)}"
              f" over {args.leads} leads: {listed} listed in {calls} calls, "
              f"{time.perf_counter() - start_time:.2f} s")

    # A lead with a long history, filled 10,000 events a request.
    leads.UpsertLead(lead_service_pb2.UpsertLeadRequest(
        lead=hot_lead(lead_pb2, event_pb2, "heavy", now)), metadata=MARKETING)
    start_time = time.perf_counter()
    for first in range(0, args.history, 10000):
        leads.RecordEvents(lead_service_pb2.RecordEventsRequest(
            lead_id="heavy", events=page_views(
                event_pb2, f"h{first}", min(10000, args.history - first), now)),
            metadata=MARKETING, timeout=600)
    print(f"history: {args.history} events stored in "
          f"{time.perf_counter() - start_time:.1f} s")

    def one_event_writes(lead_id, prefix, seconds):
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            leads.RecordEvents(lead_service_pb2.RecordEventsRequest(
                lead_id=lead_id,
                events=page_views(event_pb2, f"{prefix}-{done}", 1, now)),
                metadata=MARKETING, timeout=60)
            done += 1
        return done / seconds

    print(f"history: one-event writes to other leads alone: "
          f"{one_event_writes('lead-000000', 'alone', 5):.0f}/s")
    heavy_rate = []
    heavy = threading.Thread(target=lambda: heavy_rate.append(
        one_event_writes("heavy", "more", 5)))
    heavy.start()
    other = one_event_writes("lead-000001", "beside", 5)
    heavy.join()
    print(f"history: one-event writes to the {args.history}-event lead: "
          f"{heavy_rate[0]:.1f}/s ({1000 / heavy_rate[0]:.1f} ms each); "
          f"to other leads meanwhile: {other:.0f}/s")

    # Shutdown while listings run: the default grace is 10 s.
    stop = threading.Event()

    def keep_listing():
        while not stop.is_set():
            try:
                list_all(sla_status_pb2.SLA_STATE_BREACHED)
            except grpc.RpcError:
                return
    listers = [threading.Thread(target=keep_listing) for _ in range(2)]
    for t in listers:
        t.start()
    time.sleep(1)
    start_time = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    print(f"shutdown: SIGTERM to exit while listing: "
          f"{time.perf_counter() - start_time:.2f} s")
    stop.set()
    for t in listers:
        t.join()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
