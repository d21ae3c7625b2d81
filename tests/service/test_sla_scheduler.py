"""kill -9 while the SLA scheduler carries out escalation steps: after a
restart on the same store, every step of every lead is carried out exactly
once, in the lead's history and in the change feed.

The Playbook is the demo's with a calendar that works around the clock and
an urgent policy counted in seconds, so that steps fall due while the test
runs on the real clock."""

import datetime
import os
import subprocess
import time

import grpc
from google.protobuf import timestamp_pb2

from conftest import ROOT, Server, auth

LEADS = 150
STEPS = 4

URGENT_POLICY = """    - priority: urgent
      first_touch: 1s
      accept_or_reject: 1h
      at_risk_ratio: 0.5
      escalations:
        - {after_breach: 0s, action: remind_owner}
        - {after_breach: 1s, action: reassign}
        - {after_breach: 2s, action: escalate_to_manager}
        - {after_breach: 3s, action: recycle}
"""


def fast_sla_playbook(path):
    text = (ROOT / "examples/playbooks/demo.yaml").read_text()
    start = text.index("    - priority: urgent\n")
    end = text.index("    - priority: high\n")
    text = text[:start] + URGENT_POLICY + text[end:]
    hours = "".join(f'      - {{weekday: {day}, start: "00:00", end: "23:59"}}\n'
                    for day in ["monday", "tuesday", "wednesday", "thursday",
                                "friday", "saturday", "sunday"])
    start = text.index("    time_zone: Europe/Paris\n")
    end = text.index("    # French public holidays")
    text = text[:start] + "    time_zone: UTC\n    working_hours:\n" + hours + text[end:]
    path.write_text(text)
    return path


def hot_lead(s, lead_id):
    when = timestamp_pb2.Timestamp()
    when.FromDatetime(datetime.datetime.now(datetime.timezone.utc)
                      - datetime.timedelta(minutes=5))
    return s.lead.Lead(
        id=lead_id, job_title="CMO", seniority=s.lead.SENIORITY_C_LEVEL,
        company=s.lead.Company(domain=f"{lead_id}.example", industry="software",
                               employee_count=250, country="FR", region="EMEA"),
        events=[s.event.Event(id=f"{lead_id}-demo",
                              type=s.event.EVENT_TYPE_DEMO_REQUEST,
                              occurred_at=when)])


def all_changes(leads, s):
    changes, cursor = [], 0
    while True:
        page = leads.ListChanges(s.lead_service.ListChangesRequest(
            after_cursor=cursor, limit=1000), metadata=auth("reader"))
        if not page.changes:
            return changes
        changes.extend(page.changes)
        cursor = page.next_cursor


def test_each_step_once_across_kill_9(tmp_path, stubs):
    s = stubs
    server = Server(tmp_path, playbook=fast_sla_playbook(tmp_path / "fast.yaml"),
                    args=["--scheduler_tick=50ms"]).start()
    try:
        channel = grpc.insecure_channel(server.address)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        for i in range(LEADS):
            lead = leads.UpsertLead(s.lead_service.UpsertLeadRequest(
                lead=hot_lead(s, f"late-{i}")), metadata=auth("marketing")).lead
            assert lead.lifecycle.stage == s.lifecycle.LIFECYCLE_STAGE_MQL
            assert lead.score.priority == s.priority.PRIORITY_URGENT

        # Kill the server while it is busy escalating: some steps committed,
        # some not yet decided, maybe one decided and not committed.
        escalated = 0
        cursor = 0
        deadline = time.monotonic() + 60
        while escalated < LEADS and time.monotonic() < deadline:
            stream = leads.WatchChanges(
                s.lead_service.WatchChangesRequest(after_cursor=cursor),
                metadata=auth("reader"), timeout=5)
            try:
                for change in stream:
                    cursor = change.cursor
                    if s.change.CHANGE_KIND_SLA_ESCALATED in change.kinds:
                        escalated += 1
                    if escalated >= LEADS:
                        break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            stream.cancel()
        server.kill()
        channel.close()
        assert escalated >= LEADS

        # The restarted server catches up on what fell due meanwhile.
        server.start()
        channel = grpc.insecure_channel(server.address)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        deadline = time.monotonic() + 120
        pending = {f"late-{i}" for i in range(LEADS)}
        while pending and time.monotonic() < deadline:
            for lead_id in sorted(pending):
                lead = leads.GetLead(s.lead_service.GetLeadRequest(
                    lead_id=lead_id), metadata=auth("reader")).lead
                if lead.lifecycle.stage == s.lifecycle.LIFECYCLE_STAGE_NURTURE:
                    pending.discard(lead_id)
            time.sleep(0.2)
        assert not pending, f"{len(pending)} leads not recycled"

        steps_in_feed = {}
        for change in all_changes(leads, s):
            if s.change.CHANGE_KIND_SLA_ESCALATED in change.kinds:
                steps_in_feed.setdefault(change.lead_id, []).append(
                    change.escalation_step)
        for i in range(LEADS):
            lead = leads.GetLead(s.lead_service.GetLeadRequest(
                lead_id=f"late-{i}"), metadata=auth("reader")).lead
            actions = lead.lifecycle.sla_actions
            assert [a.step for a in actions] == list(range(STEPS)), lead.lead.id
            assert [a.action for a in actions] == [
                s.sla.ESCALATION_ACTION_REMIND_OWNER,
                s.sla.ESCALATION_ACTION_REASSIGN,
                s.sla.ESCALATION_ACTION_ESCALATE_TO_MANAGER,
                s.sla.ESCALATION_ACTION_RECYCLE]
            assert lead.lifecycle.history[-1].actor == s.lifecycle.ACTOR_SYSTEM
            assert lead.lifecycle.history[-1].reason_code == "sla_breach"
            assert steps_in_feed[f"late-{i}"] == list(range(STEPS))
        channel.close()
    finally:
        server.stop()


def test_scheduler_off_carries_out_nothing(tmp_path, stubs):
    s = stubs
    server = Server(tmp_path, playbook=fast_sla_playbook(tmp_path / "fast.yaml"),
                    args=["--scheduler=off"]).start()
    try:
        channel = grpc.insecure_channel(server.address)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        leads.UpsertLead(s.lead_service.UpsertLeadRequest(
            lead=hot_lead(s, "idle")), metadata=auth("marketing"))
        time.sleep(6)
        lead = leads.GetLead(s.lead_service.GetLeadRequest(lead_id="idle"),
                             metadata=auth("reader")).lead
        assert len(lead.lifecycle.sla_actions) == 0
        assert lead.lifecycle.stage == s.lifecycle.LIFECYCLE_STAGE_MQL
        channel.close()
    finally:
        server.stop()


def test_bad_scheduler_flag_is_refused(tmp_path):
    binary = os.environ.get(
        "SMARKETING_SERVER", str(ROOT / "build/grpc_server/smarketing-server"))
    done = subprocess.run([binary, "--scheduler=maybe", "--token_file=x"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "--scheduler must be on or off" in done.stderr
