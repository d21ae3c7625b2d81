"""sm.backtest on hand-built histories: each lead decided as it arrived and at
each of its events, where one score at the end would decide otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import smarketing as sm

END = "2026-11-23T09:00:00Z"

# Fit 60 in software: MQL takes two visits close together, or a demo request
# within 7 days.
PLAYBOOK = """
metadata: {name: backtest, version: "1"}
personas:
  - id: software-buyer
    name: Software buyer
    criteria:
      - {id: in-software, when: {field: company.industry, equals: software}, weight: 60}
      - {id: senior, when: {field: seniority, in: [director, vp, c_level]}, weight: 40}
grade_bands:
  - {grade: D, min_fit: 0, max_fit: 40}
  - {grade: C, min_fit: 40, max_fit: 60}
  - {grade: B, min_fit: 60, max_fit: 80}
  - {grade: A, min_fit: 80, max_fit: 100}
thresholds:
  mql: {min_total: 100, min_fit: 50}
  sql: {min_total: 120, min_fit: 60}
engagement:
  half_life: 7d
  rules:
    - {id: visit, event_types: [page_view], points: 25}
disqualification_rules:
  - {id: gambling, when: {field: company.industry, equals: gambling}, reason: industry}
hand_raiser_rules:
  - {id: demo, event_types: [demo_request], min_fit: 50, lookback: 7d, priority: urgent}
"""


@pytest.fixture(scope="module")
def playbook() -> sm.Playbook:
    return sm.Playbook.from_yaml(PLAYBOOK).validate()


def _utc(*times: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(times), utc=True))


@pytest.fixture(scope="module")
def history() -> sm.LeadData:
    ids = ["decayed", "later", "demo", "never", "gambler", "future"]
    leads = pd.DataFrame({
        "id": ids,
        "industry": ["software"] * 4 + ["gambling", "software"],
        "created_at": _utc(*["2026-10-01T10:00:00Z"] * 5, "2026-11-24T10:00:00Z"),
    })
    events = pd.DataFrame([
        # Two visits an hour apart on arrival day, long decayed by the end.
        ("decayed", "e1", "page_view", "2026-10-01T10:00:00Z"),
        ("decayed", "e2", "page_view", "2026-10-01T11:00:00Z"),
        # Quiet when it arrived; two visits ten days later.
        ("later", "e3", "page_view", "2026-10-11T10:00:00Z"),
        ("later", "e4", "page_view", "2026-10-11T11:00:00Z"),
        # A demo request a month before the end: outside the lookback by then.
        ("demo", "e5", "demo_request", "2026-10-20T15:00:00Z"),
        ("never", "e6", "page_view", "2026-10-02T10:00:00Z"),
        # Out of target: its visits never make it an MQL.
        ("gambler", "e7", "page_view", "2026-10-05T10:00:00Z"),
        ("gambler", "e8", "page_view", "2026-10-05T10:30:00Z"),
        # A visit after the end of the history is not replayed.
        ("never", "e9", "page_view", "2026-11-23T09:30:00Z"),
    ], columns=["lead_id", "id", "type", "occurred_at"])
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], utc=True)
    # What happened: sales saw "decayed" (accepted, won) and "never" (rejected).
    outcomes = pd.DataFrame({
        "lead_id": ids,
        "mql": [True, False, False, True, False, False],
        "mql_at": _utc("2026-10-01T12:00:00Z", None, None, "2026-10-02T10:00:00Z", None, None),
        "accepted": [True, False, False, False, False, False],
        "rejected": [False, False, False, True, False, False],
        "won": [True, False, True, False, False, False],
    })
    return sm.LeadData(leads, events, outcomes)


def test_each_lead_is_decided_as_it_arrived(playbook, history):
    result = sm.backtest(playbook, history, now=END, threads=1)
    t = result.leads.set_index("lead_id")
    assert t["stage"].tolist()[:5] == ["mql", "mql", "mql", "nurture", "disqualified"]
    assert pd.isna(t.loc["future", "stage"]) and t.loc["future", "decisions"] == 0
    assert t["candidate_mql"].tolist() == [True, True, True, False, False, False]
    # When the candidate would have handed each lead over: at the visit or
    # request that took it over the threshold, not at its arrival.
    assert t.loc["decayed", "candidate_mql_at"] == pd.Timestamp("2026-10-01T11:00:00Z")
    assert t.loc["later", "candidate_mql_at"] == pd.Timestamp("2026-10-11T11:00:00Z")
    assert t.loc["demo", "candidate_mql_at"] == pd.Timestamp("2026-10-20T15:00:00Z")
    assert pd.isna(t.loc["never", "candidate_mql_at"])
    assert t["decisions"].tolist() == [2, 3, 2, 2, 1, 0]
    assert t.loc["never", "decided_at"] == pd.Timestamp("2026-10-02T10:00:00Z")
    # The scores of that moment: two fresh visits, a fresh demo request.
    assert t.loc["decayed", "engagement"] == pytest.approx(25 + 25 * 2 ** (-1 / (7 * 24)))
    assert t.loc["demo", "hand_raiser"] and t.loc["demo", "priority"] == "urgent"
    assert t.loc["gambler", "disqualification_reason"] == "industry"
    assert t.loc["decayed", "grade"] == "B"
    assert t.loc["decayed", "arrived_at"] == pd.Timestamp("2026-10-01T10:00:00Z")

    # Scored once at the end, neither the decayed lead nor the demo request
    # is an MQL: the replay answers otherwise.
    at_end = sm.score_frame(playbook, history.leads, history.events, now=END, explain="none")
    assert at_end.set_index("lead_id").loc[["decayed", "later", "demo"], "stage"].tolist() == \
        ["nurture", "nurture", "nurture"]


def test_summary_compares_volume_timing_acceptance_and_wins(playbook, history):
    result = sm.backtest(playbook, history, now=END)
    s = result.summary()
    assert s.loc["mqls"].tolist() == [2, 3]
    # Actual: decayed 2 hours after arriving, never after 24. Candidate:
    # 1 hour, 10 days 1 hour and 19 days 5 hours; the median is the second.
    assert s.loc["hours_to_mql", "actual"] == pytest.approx(13)
    assert s.loc["hours_to_mql", "candidate"] == pytest.approx(241)
    assert s.loc["accepted"].tolist() == [1, 1] and s.loc["rejected"].tolist() == [1, 0]
    assert s.loc["acceptance_rate"].tolist() == [0.5, 1.0]
    assert s.loc["wins"].tolist() == [1, 2] and s.loc["wins_missed"].tolist() == [1, 0]
    assert s.loc["unseen"].tolist() == [0, 2]
    assert result.changes()["lead_id"].tolist() == ["later", "demo", "never"]


def test_timing_without_mql_at_and_with_any_index(playbook, history):
    outcomes = history.outcomes.drop(columns="mql_at").sample(frac=1, random_state=3)
    leads = history.leads.set_axis([10, 11, 12, 13, 14, 15])
    result = sm.backtest(playbook, sm.LeadData(leads, history.events, outcomes), now=END)
    assert result.leads.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert result.leads["mql"].tolist() == history.outcomes["mql"].tolist()
    assert result.leads["mql_at"].isna().all()
    assert np.isnan(result.summary().loc["hours_to_mql", "actual"])


def test_an_earlier_end_replays_less(playbook, history):
    early = sm.backtest(playbook, history, now="2026-10-11T10:30:00Z").leads.set_index("lead_id")
    assert early.loc["later", "stage"] == "nurture" and early.loc["later", "decisions"] == 2
    assert not early.loc["demo", "candidate_mql"]


def test_warns_where_data_would_mislead_it(history):
    ages = sm.Playbook.from_yaml(PLAYBOOK + """
fit_rules:
  - {id: older, when: {field: attributes.age, range: {min: 30}}, points: 5}
""").validate()
    leads = history.leads.assign(**{"attributes.age": ["42"] * len(history.leads)})
    with pytest.warns(sm.DataWarning) as caught:
        sm.backtest(ages, sm.LeadData(leads, history.events, history.outcomes), now=END)
    assert {(w.message.kind, w.message.column, w.filename) for w in caught} == {
        ("number_as_text", "leads.attributes.age", __file__)}


def test_refuses_what_it_cannot_replay(playbook, history):
    bad = history.leads.assign(employee_count=[50, -3, 50, 50, 50, 50])
    with pytest.raises(sm.LeadError, match='"later"') as caught:
        sm.backtest(playbook, sm.LeadData(bad, history.events, history.outcomes), now=END)
    assert caught.value.path == "leads[1].company.employee_count"
    with pytest.raises(ValueError, match="has no outcome"):
        sm.backtest(playbook, sm.LeadData(history.leads, history.events, history.outcomes.iloc[1:]),
                    now=END)
    with pytest.raises(ValueError, match="more than once"):
        sm.backtest(playbook, sm.LeadData(history.leads, history.events,
                                          pd.concat([history.outcomes, history.outcomes.iloc[:1]])),
                    now=END)
    with pytest.raises(ValueError, match="now"):
        sm.backtest(playbook, history, now="not a time")
