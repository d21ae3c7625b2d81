"""The gRPC client against a real smarketing-server on a loopback port.

SMARKETING_SERVER names the server binary (scripts/test.sh sets it); the
tests are skipped, saying so, when it is not set."""

from __future__ import annotations

import pytest

import smarketing as sm

from conftest import DEMO, NOW, SERVER, running_server

pytestmark = pytest.mark.skipif(
    not SERVER, reason="SMARKETING_SERVER is not set: point it at build/grpc_server/smarketing-server")
client_module = pytest.importorskip("smarketing.client")
TOKEN = "python-client-test-token-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("server")
    tokens = workdir / "tokens"
    tokens.write_text(f"{TOKEN} admin python-tests\n")
    with running_server(f"--store={workdir / 'store.db'}", f"--token_file={tokens}",
                        f"--demo_playbook={DEMO}") as ports:
        yield f"127.0.0.1:{ports['server_started']}"


@pytest.fixture
def client(server):
    with client_module.Client(server, token=TOKEN) as c:
        yield c


def test_the_service_scores_like_the_package(client, demo, sample):
    lead = sm.lead_at(sample.leads, sample.events, 3)
    remote = client.score(lead, now=NOW)
    local = sm.score(demo, lead, NOW)
    for field in ("fit_score", "engagement_score", "total_score", "grade", "persona_id", "recommended_stage",
                  "hand_raiser", "events_counted", "duplicate_events"):
        assert getattr(remote, field) == getattr(local, field), field
    assert [(h.rule_id, h.points, h.sentence) for h in remote.explanation] == \
           [(h.rule_id, h.points, h.sentence) for h in local.explanation]
    many = client.score_many([sm.lead_at(sample.leads, sample.events, i) for i in range(5)], now=NOW, batch=2)
    assert [r.total_score for r in many] == [sm.score(demo, sm.lead_at(sample.leads, sample.events, i), NOW).total_score
                                             for i in range(5)]
    # The stream gives rule ids by default; the client asks it for sentences.
    assert [(h.rule_id, h.sentence) for h in many[3].explanation] == \
           [(h.rule_id, h.sentence) for h in remote.explanation]
    bare = client.score_many([lead], now=NOW, explain=False)
    assert not bare[0].explanation and bare[0].total_score == remote.total_score


def test_playbook_validation_through_the_service(client, demo):
    assert client.validate_playbook(demo) == []
    broken = demo.copy()
    broken.message.personas[0].criteria[0].weight = 0
    problems = client.validate_playbook(broken)
    assert any(p.path == "personas[0].criteria[0].weight" for p in problems)
    with pytest.raises(sm.PlaybookError):
        client.publish_playbook(broken)


def test_leads_are_stored_and_read_back(client, sample):
    lead = sm.lead_at(sample.leads, sample.events, 0)
    client.upsert_lead(lead)
    assert client.get_lead(lead.id).lead.id == lead.id


def test_refused_leads_are_named(client, sample):
    good = sm.lead_at(sample.leads, sample.events, 0)
    bad = lead_with_bad_event(good)
    with pytest.raises(sm.LeadError) as caught:
        client.score_many([good, good, bad], now=NOW, batch=2)
    assert caught.value.problems[0].path.startswith("leads[2]")


def lead_with_bad_event(lead):
    copy = type(lead)()
    copy.CopyFrom(lead)
    copy.events[0].ClearField("occurred_at")
    return copy


def test_refusals_become_service_errors(server, client):
    with client_module.Client(server, token="not-a-token-of-anyone-xxxx") as stranger:
        with pytest.raises(client_module.ServiceError) as caught:
            stranger.score({"id": "x"}, now=NOW)
    assert caught.value.code == "UNAUTHENTICATED"
    with pytest.raises(client_module.ServiceError) as caught:
        client.get_lead("no-such-lead")
    assert caught.value.code == "NOT_FOUND"
