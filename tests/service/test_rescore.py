"""kill -9 while the service applies a newly activated Playbook version to
the stored leads: after a restart on the same store the pass resumes where
its last committed batch ended and finishes; every lead is evaluated once
(one new revision, at most one entry of the pass in the change feed), and
its stored score is what `smarketing score` gives for the same lead,
Playbook and time."""

import json
import subprocess
import time

import grpc
from test_import import cli, counts

from conftest import ROOT, TOKENS, Server, auth

LEADS = 1500


def lower_mql_playbook(path):
    text = (ROOT / "examples/playbooks/demo.yaml").read_text()
    old = "  mql: {min_total: 110, min_fit: 55}\n"
    assert old in text
    text = text.replace(old, "  mql: {min_total: 60, min_fit: 30}\n")
    path.write_text(text)
    return path


def status(playbooks, s):
    return playbooks.GetRescoreStatus(
        s.playbook_service.GetRescoreStatusRequest(),
        metadata=auth("reader"), timeout=10).status


def wait_done(playbooks, s, pass_number, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = status(playbooks, s)
        if st.pass_number == pass_number and st.state == s.rescore.RESCORE_STATE_DONE:
            return st
        time.sleep(0.05)
    raise AssertionError(f"pass {pass_number} not done: {st}")


def test_rescoring_resumes_after_kill_9(tmp_path, stubs):
    s = stubs
    leads_file = tmp_path / "leads.jsonl"
    leads_file.write_text(subprocess.run(
        [cli(), "sample-leads", "--count", str(LEADS), "--seed", "3",
         "--now", "2026-11-23T09:00:00Z"],
        capture_output=True, text=True, check=True).stdout)
    # Small batches: many commits, so that the kill lands inside the pass.
    server = Server(tmp_path, args=["--rescore_batch=5",
                                    "--scheduler_tick=1h"]).start()
    try:
        token = tmp_path / "marketing.token"
        token.write_text(TOKENS["marketing"] + "\n")
        done = subprocess.run(
            [cli(), "import", "--server", server.address, "--token_file",
             str(token), str(leads_file)],
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert counts(done.stdout)["created"] == LEADS

        channel = grpc.insecure_channel(server.address)
        playbooks = s.playbook_service_grpc.PlaybookServiceStub(channel)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        assert wait_done(playbooks, s, 1).leads_done == 0
        start_cursor = 0
        while True:
            page = leads.ListChanges(s.lead_service.ListChangesRequest(
                after_cursor=start_cursor, limit=1000), metadata=auth("reader"))
            if not page.changes:
                break
            start_cursor = page.next_cursor

        v2 = lower_mql_playbook(tmp_path / "v2.yaml")
        published = playbooks.PublishPlaybook(
            s.playbook_service.PublishPlaybookRequest(
                playbook=s.playbook_service.PlaybookSource(
                    document=v2.read_text()),
                activate=True),
            metadata=auth("admin"), timeout=30)
        assert published.version.number == 2

        deadline = time.monotonic() + 60
        seen = None
        while time.monotonic() < deadline:
            seen = status(playbooks, s)
            if seen.pass_number == 2 and 0 < seen.leads_done < seen.leads_total:
                break
        assert seen.pass_number == 2 and 0 < seen.leads_done < LEADS, seen
        server.kill()
        channel.close()

        server.start()
        channel = grpc.insecure_channel(server.address)
        playbooks = s.playbook_service_grpc.PlaybookServiceStub(channel)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        final = wait_done(playbooks, s, 2)
        assert final.playbook_number == 2
        assert final.reason == s.rescore.RESCORE_REASON_ACTIVATION
        assert final.leads_total == LEADS
        assert final.leads_done == LEADS
        assert final.leads_written == LEADS
        assert final.leads_failed == 0

        # One evaluation of each lead by the pass: one new revision, at
        # most one entry in the feed.
        entries = {}
        stage_moves = 0
        cursor = start_cursor
        while True:
            page = leads.ListChanges(s.lead_service.ListChangesRequest(
                after_cursor=cursor, limit=1000), metadata=auth("reader"))
            if not page.changes:
                break
            for change in page.changes:
                if s.change.CHANGE_KIND_RESCORED not in change.kinds:
                    continue
                assert change.playbook_number == 2
                assert change.actor == s.lifecycle.ACTOR_SYSTEM
                assert change.lead_id not in entries, change.lead_id
                entries[change.lead_id] = change
                if s.change.CHANGE_KIND_STAGE_MOVED in change.kinds:
                    stage_moves += 1
            cursor = page.next_cursor
        assert len(entries) == final.leads_changed
        assert stage_moves > 0

        records = {}
        page_token = ""
        while True:
            page = leads.ListLeads(s.lead_service.ListLeadsRequest(
                page_size=1000, page_token=page_token), metadata=auth("reader"))
            for record in page.leads:
                records[record.lead.id] = record
            page_token = page.next_page_token
            if not page_token:
                break
        assert len(records) == LEADS
        assert {r.revision for r in records.values()} == {2}

        # The stored result is the command line's for the same lead,
        # Playbook and time.
        sample = {}
        for line in leads_file.read_text().splitlines():
            lead = json.loads(line)
            if lead["id"] in entries and len(sample) < 4:
                sample[lead["id"]] = line
        for lead_id, line in sample.items():
            score = records[lead_id].score
            one = tmp_path / "one.jsonl"
            one.write_text(line + "\n")
            at = score.scored_at.ToJsonString()
            out = subprocess.run([cli(), "score", "--now", at, str(v2), str(one)],
                                 capture_output=True, text=True, check=True)
            expected = json.loads(out.stdout.splitlines()[0])
            assert expected["grade"] == score.grade, lead_id
            assert abs(expected["total_score"] - score.total_score) < 1e-9, lead_id
        channel.close()
    finally:
        server.stop()
