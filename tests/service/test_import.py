"""smarketing import against a real server: a malformed line and an invalid
lead are reported with their line and field while the rest is imported; the
same file imported again changes nothing (no new revision, nothing in the
change feed); an interrupted import is resumed by running it again."""

import json
import os
import pathlib
import subprocess

import pytest

from conftest import ROOT, TOKENS, Server, auth


def cli():
    server = os.environ.get(
        "SMARKETING_SERVER", str(ROOT / "build/grpc_server/smarketing-server"))
    return str(pathlib.Path(server).parents[1] / "cli/smarketing")


@pytest.fixture
def leads_file(tmp_path):
    sample = subprocess.run(
        [cli(), "sample-leads", "--count", "300", "--seed", "11",
         "--now", "2026-11-23T09:00:00Z"],
        capture_output=True, text=True, check=True).stdout.splitlines()
    # Line 7 is not JSON; line 9 is a lead whose event has no time.
    sample[6] = '{"id": "broken", "seniority": '
    sample[8] = json.dumps({"id": "no-time", "events": [
        {"id": "e1", "type": "EVENT_TYPE_PAGE_VIEW"}]})
    path = tmp_path / "leads.jsonl"
    path.write_text("\n".join(sample) + "\n")
    return path


def run_import(server, path, tmp_path, role="marketing"):
    token = tmp_path / f"{role}.token"
    token.write_text(TOKENS[role] + "\n")
    return subprocess.run(
        [cli(), "import", "--server", server.address, "--token_file",
         str(token), "--batch", "50", str(path)],
        capture_output=True, text=True, timeout=300)


def counts(stdout):
    """received N, created N, ... as a dict."""
    out = {}
    for part in stdout.replace(";", ",").split(","):
        words = part.split()
        if len(words) >= 2 and words[-1].isdigit():
            out[" ".join(words[:-1])] = int(words[-1])
    return out


def latest_cursor(leads, s):
    cursor = 0
    while True:
        page = leads.ListChanges(s.lead_service.ListChangesRequest(
            after_cursor=cursor, limit=1000), metadata=auth("reader"))
        if not page.changes:
            return cursor
        cursor = page.next_cursor


def test_import_reports_refused_records_and_is_idempotent(
        server, stubs, leads_file, tmp_path):
    import grpc
    s = stubs
    done = run_import(server, leads_file, tmp_path)
    assert done.returncode == 1, done.stderr
    first = counts(done.stdout)
    assert first["received"] == 299
    assert first["created"] == 298
    assert first["refused"] == 2
    assert f"{leads_file}:7:" in done.stderr
    assert f"{leads_file}:9: events[0].occurred_at:" in done.stderr

    channel = grpc.insecure_channel(server.address)
    leads = s.lead_service_grpc.LeadServiceStub(channel)
    some = json.loads(leads_file.read_text().splitlines()[0])
    before = leads.GetLead(s.lead_service.GetLeadRequest(lead_id=some["id"]),
                           metadata=auth("reader")).lead
    assert before.event_count == len({e["id"] for e in some.get("events", [])})
    cursor = latest_cursor(leads, s)

    again = run_import(server, leads_file, tmp_path)
    second = counts(again.stdout)
    assert second["created"] == 0 and second["updated"] == 0
    assert second["unchanged"] == 298
    assert second["events recorded"] == 0
    after = leads.GetLead(s.lead_service.GetLeadRequest(lead_id=some["id"]),
                          metadata=auth("reader")).lead
    assert after.revision == before.revision
    assert latest_cursor(leads, s) == cursor
    channel.close()


def test_interrupted_import_resumes(server, leads_file, tmp_path):
    lines = leads_file.read_text().splitlines()
    half = tmp_path / "half.jsonl"
    half.write_text("\n".join(lines[:150]) + "\n")
    first = counts(run_import(server, half, tmp_path).stdout)
    assert first["created"] == 148
    rest = counts(run_import(server, leads_file, tmp_path).stdout)
    assert rest["unchanged"] == 148
    assert rest["created"] == 150


def test_import_needs_marketing_and_a_server(server, leads_file, tmp_path):
    done = run_import(server, leads_file, tmp_path, role="sales")
    assert done.returncode == 2
    assert "PERMISSION_DENIED" in done.stderr or "(7)" in done.stderr
    missing = subprocess.run([cli(), "import", str(leads_file)],
                             capture_output=True, text=True)
    assert missing.returncode == 2
    assert "--server is required" in missing.stderr


def test_large_leads_go_in_requests_the_server_accepts(tmp_path):
    # 30 leads of 240 KB: 7 MB in the one request --batch (1000) would make,
    # more than this server takes in a message.
    s = Server(tmp_path, args=["--max_message_bytes=5242880"]).start()
    try:
        path = tmp_path / "large.jsonl"
        path.write_text("".join(
            json.dumps({"id": f"large-{i}", "attributes": {
                f"note_{k}": "x" * 60000 for k in range(4)}}) + "\n"
            for i in range(30)))
        token = tmp_path / "marketing.token"
        token.write_text(TOKENS["marketing"] + "\n")
        done = subprocess.run(
            [cli(), "import", "--server", s.address, "--token_file",
             str(token), str(path)],
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert counts(done.stdout)["created"] == 30
    finally:
        s.stop()


def test_a_batch_rolled_back_is_imported_lead_by_lead_with_its_events(server, stubs, tmp_path):
    # The lead whose stored record would pass 1 MB is refused by the store's
    # limit, which rolls back the batch: the others are imported again one
    # by one, with all their events, an event repeated within a lead once
    # (the first sent).
    import grpc

    s = stubs
    now = "2026-11-20T10:00:00Z"
    events = [
        {"id": "e1", "type": "EVENT_TYPE_PAGE_VIEW", "occurred_at": now, "properties": {"url": "/first"}},
        {"id": "e2", "type": "EVENT_TYPE_DEMO_REQUEST", "occurred_at": now},
        {"id": "e1", "type": "EVENT_TYPE_PAGE_VIEW", "occurred_at": now, "properties": {"url": "/again"}},
    ]
    records = [{"id": f"kept-{i}", "job_title": "CMO", "events": events} for i in range(3)]
    records.insert(1, {"id": "too-large", "attributes": {f"note_{k}": "x" * 65000 for k in range(17)}})
    path = tmp_path / "leads.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = run_import(server, path, tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"{path}:2: lead: the stored lead would take" in done.stderr
    got = counts(done.stdout)
    assert got["created"] == 3 and got["refused"] == 1
    assert got["events recorded"] == 6 and got["already stored"] == 3

    channel = grpc.insecure_channel(server.address)
    leads = s.lead_service_grpc.LeadServiceStub(channel)
    for i in range(3):
        record = leads.GetLead(
            s.lead_service.GetLeadRequest(lead_id=f"kept-{i}", include_events=True), metadata=auth("reader")
        ).lead
        assert [e.id for e in record.lead.events] == ["e1", "e2"]
        assert record.lead.events[0].properties["url"] == "/first"
        assert record.event_count == 2
    channel.close()
