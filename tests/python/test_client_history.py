"""Client.history: the service's leads and what became of them, as training
data, read from a real smarketing-server on a loopback port (a store of its
own, so that the leads are known)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from test_client import SERVER, TOKEN, client_module, server  # noqa: F401 - the server fixture

import smarketing as sm

from conftest import DEMO, NOW

pytestmark = pytest.mark.skipif(
    not SERVER, reason="SMARKETING_SERVER is not set: point it at build/grpc_server/smarketing-server")

from smarketing.v1 import lead_service_pb2, lifecycle_pb2  # noqa: E402


def _now_proto(message) -> None:
    nanos = time.time_ns()
    message.seconds, message.nanos = divmod(nanos, 1_000_000_000)


@pytest.fixture(scope="module")
def stored(server):  # noqa: F811 - the imported fixture
    """Four leads: a won, b rejected for no budget, c left alone, d created
    before the window of the tests."""
    with client_module.Client(server, token=TOKEN) as client:
        for name, created in (("a", "2026-11-02"), ("b", "2026-11-03"), ("c", "2026-11-04"),
                              ("d", "2026-10-01")):
            lead = {"id": f"hist-{name}", "created_at": f"{created}T10:00:00Z",
                    "company": {"industry": "software"}, "attributes": {"plan": "pro"}}
            if name == "a":
                lead["events"] = [
                    {"id": "ev-1", "type": "page_view", "occurred_at": f"{created}T11:00:00Z",
                     "properties": {"url": "/pricing"}},
                    {"id": "ev-2", "type": "email_open", "occurred_at": f"{created}T12:00:00Z"},
                ]
            client.upsert_lead(lead)
        for name in ("a", "b"):
            move = lead_service_pb2.TransitionLeadRequest(
                lead_id=f"hist-{name}", to=lifecycle_pb2.LIFECYCLE_STAGE_MQL,
                actor=lifecycle_pb2.ACTOR_MARKETING, actor_id="usr-1")
            client._call(client.leads.TransitionLead, move)

        def feedback(lead_id, **outcome):
            request = lead_service_pb2.RecordFeedbackRequest()
            request.feedback.lead_id, request.feedback.actor_id = lead_id, "usr-2"
            _now_proto(request.feedback.at)
            for field, value in outcome.items():
                getattr(request.feedback, field).CopyFrom(value)
            client._call(client.leads.RecordFeedback, request)

        Feedback = lifecycle_pb2.Feedback
        feedback("hist-a", accepted=Feedback.Accepted())
        feedback("hist-a", opportunity_created=Feedback.OpportunityCreated(
            amount=lifecycle_pb2.Money(currency_code="EUR", amount=9000)))
        feedback("hist-a", won=Feedback.Won(revenue=lifecycle_pb2.Money(currency_code="EUR", amount=9000)))
        feedback("hist-b", rejected=Feedback.Rejected(reason_code="no_budget"))
    return server


def test_history_gives_leads_events_and_outcomes(stored):
    with client_module.Client(stored, token=TOKEN) as client:
        history = client.history(since="2026-11-01T00:00:00Z")
    assert isinstance(history, sm.LeadData)
    assert history.leads["id"].tolist() == ["hist-a", "hist-b", "hist-c"]
    assert history.leads["attributes.plan"].tolist() == ["pro"] * 3
    assert sorted(history.events.loc[history.events["lead_id"] == "hist-a", "id"]) == ["ev-1", "ev-2"]

    outcomes = history.outcomes.set_index("lead_id")
    a, b, c = outcomes.loc["hist-a"], outcomes.loc["hist-b"], outcomes.loc["hist-c"]
    assert (a.mql, a.accepted, a.rejected, a.converted, a.won, a.lost) == (True, True, False, True, True, False)
    assert a.stage == "customer" and a.mql_at.tzinfo is not None
    # The win's revenue, from sales' feedback.
    assert (a.revenue, a.currency) == (9000, "EUR") and pd.isna(a.margin)
    assert pd.isna(b.revenue) and pd.isna(b.currency)
    assert (b.mql, b.accepted, b.rejected, b.rejection_reason, b.won) == (True, False, True, "no_budget", False)
    assert (c.mql, c.accepted, c.rejected, c.won) == (False, False, False, False)
    assert pd.isna(c.mql_at)

    # Training data as it is: the tables score_frame reads.
    scores = sm.score_frame(sm.Playbook.load(DEMO), history.leads, history.events, now=NOW)
    assert scores["lead_id"].tolist() == ["hist-a", "hist-b", "hist-c"]
    assert scores["events_counted"].tolist() == [2, 0, 0]


def test_history_is_paged_and_bounded(stored):
    with client_module.Client(stored, token=TOKEN) as client:
        paged = client.history(since="2026-11-01T00:00:00Z", page_size=1, events=False)
        assert paged.leads["id"].tolist() == ["hist-a", "hist-b", "hist-c"]
        assert paged.events.empty
        assert paged.outcomes.set_index("lead_id").loc["hist-a", "revenue"] == 9000
        everything = client.history(events=False)
        assert everything.leads["id"].tolist() == ["hist-a", "hist-b", "hist-c", "hist-d"]
        with pytest.warns(UserWarning, match="limit=2"):
            first = client.history(limit=2, page_size=1, events=False)
        assert first.leads["id"].tolist() == ["hist-a", "hist-b"]
        none = client.history(since="2030-01-01T00:00:00Z")
        assert none.leads.empty and none.outcomes.empty
        with pytest.raises(ValueError, match="page_size"):
            client.history(page_size=5000)
        with pytest.raises(ValueError, match="since"):
            client.history(since="not a time")


def test_history_needs_a_token(stored):
    with client_module.Client(stored, token="not-a-token-of-anyone-xxxx") as stranger:
        with pytest.raises(client_module.ServiceError) as caught:
            stranger.history()
    assert caught.value.code == "UNAUTHENTICATED"


def test_backtest_compares_a_candidate_with_what_happened(stored, demo):
    with client_module.Client(stored, token=TOKEN) as client:
        history = client.history(since="2026-11-01T00:00:00Z")
    # A candidate that hands every lead over, and one that hands none.
    everyone = demo.copy()
    everyone.message.thresholds.mql.min_total = 0
    everyone.message.thresholds.mql.min_fit = 0
    everyone.message.thresholds.mql.min_engagement = 0
    del everyone.message.disqualification_rules[:]
    result = sm.backtest(everyone, history, now=NOW)
    summary = result.summary()
    assert summary.loc["mqls", "actual"] == 2 and summary.loc["mqls", "candidate"] == 3
    assert summary.loc["accepted", "candidate"] == 1 and summary.loc["rejected", "candidate"] == 1
    assert summary.loc["acceptance_rate", "actual"] == 0.5
    assert summary.loc["wins", "candidate"] == 1 and summary.loc["wins_missed", "candidate"] == 0
    assert summary.loc["unseen", "candidate"] == 1
    assert result.changes()["lead_id"].tolist() == ["hist-c"]

    nobody = demo.copy()
    nobody.message.thresholds.mql.min_total = 190
    nobody.message.thresholds.sql.min_total = 200
    del nobody.message.hand_raiser_rules[:]
    summary = sm.backtest(nobody, history, now=NOW).summary()
    assert summary.loc["mqls", "candidate"] == 0 and summary.loc["wins_missed", "candidate"] == 1


def test_backtest_refuses_outcomes_that_do_not_match(stored, demo):
    with client_module.Client(stored, token=TOKEN) as client:
        history = client.history(since="2026-11-01T00:00:00Z", events=False)
    shuffled = sm.LeadData(history.leads, history.events, history.outcomes.iloc[:2])
    with pytest.raises(ValueError, match="hist-c"):
        sm.backtest(demo, shuffled, now=NOW)
    with pytest.raises(ValueError, match="lack the columns won"):
        sm.backtest(demo, sm.LeadData(history.leads, history.events,
                                      history.outcomes.drop(columns="won")), now=NOW)
