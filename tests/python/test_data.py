from __future__ import annotations

import importlib.metadata

import numpy as np
import pandas as pd
import pytest
from google.protobuf import json_format

import smarketing as sm

from conftest import NOW, ROOT


def test_sample_leads_are_deterministic_and_can_be_made_in_parts(sample):
    again = sm.sample_leads(3000, seed=7, now=NOW)
    pd.testing.assert_frame_equal(again.leads, sample.leads)
    pd.testing.assert_frame_equal(again.events, sample.events)
    pd.testing.assert_frame_equal(again.outcomes, sample.outcomes)
    tail = sm.sample_leads(10, seed=7, now=NOW, start=2990)
    assert tail.leads["id"].tolist() == sample.leads["id"].iloc[2990:].tolist()
    assert tail.outcomes["converted"].tolist() == sample.outcomes["converted"].iloc[2990:].tolist()
    other = sm.sample_leads(50, seed=8, now=NOW)
    assert not other.leads["email"].equals(sample.leads["email"].iloc[:50])


def test_sample_shape(sample):
    assert len(sample.leads) == 3000 and sample.leads["id"].is_unique
    assert 10 < len(sample.events) / len(sample.leads) < 30
    assert set(sample.events["lead_id"].astype(str)) <= set(sample.leads["id"])
    assert sample.events["occurred_at"].max() <= pd.Timestamp(NOW)
    assert 0 < sample.outcomes["converted"].mean() < 0.5
    won = sample.outcomes["won"]
    assert (sample.outcomes.loc[won, "revenue"] > 0).all() and (sample.outcomes.loc[~won, "revenue"] == 0).all()
    assert sample.outcomes.loc[won, "converted"].all()


def test_outcomes_follow_altered_leads(sample):
    same = sm.sample_outcomes(sample.leads, sample.events, seed=7, now=NOW)
    pd.testing.assert_frame_equal(same, sample.outcomes)
    unsubscribed = sample.leads.assign(seniority="individual_contributor", employee_count=3)
    changed = sm.sample_outcomes(unsubscribed, sample.events, seed=7, now=NOW)
    assert changed["converted"].sum() < sample.outcomes["converted"].sum()
    with pytest.raises(sm.InputError, match="not a synthetic lead id"):
        sm.sample_outcomes(sample.leads.assign(id="crm-1"), None, now=NOW)


def test_sample_argument_errors():
    with pytest.raises(ValueError, match="count"):
        sm.sample_leads(-1, now=NOW)
    with pytest.raises(sm.InputError, match="mean_events"):
        sm.sample_leads(1, now=NOW, mean_events=-1)
    with pytest.raises(TypeError, match="now"):
        sm.sample_leads(1, now=None)  # type: ignore[arg-type]


def test_messages_to_frames_and_back(sample):
    leads = sample.leads.iloc[:30]
    events = sample.events[sample.events["lead_id"].isin(leads["id"])]
    messages = sm.lead_messages(leads, events)
    assert messages[7] == sm.lead_at(leads, events, 7)
    data = sm.leads_frame(messages)
    assert sm.lead_messages(data.leads, data.events) == messages
    with pytest.raises(sm.InputError, match="not in the table"):
        sm.lead_at(leads, events, len(leads))
    with pytest.raises(TypeError):
        sm.leads_frame(["lead-0"])  # type: ignore[list-item]


def test_read_lead_files(sample, tmp_path, demo):
    leads = sample.leads.iloc[:40]
    events = sample.events[sample.events["lead_id"].isin(leads["id"])]
    messages = [sm.lead_at(leads, events, i) for i in range(len(leads))]
    path = tmp_path / "leads.jsonl"
    path.write_text("".join(json_format.MessageToJson(m, indent=None) + "\n" for m in messages))
    data = sm.read_leads(path)
    assert data.outcomes is None
    assert [sm.lead_at(data.leads, data.events, i) for i in range(len(messages))] == messages
    a = sm.score_frame(demo, leads, events, now=NOW, explain="none")
    b = sm.score_frame(demo, data.leads, data.events, now=NOW, explain="none")
    assert np.array_equal(a["total"].to_numpy(), b["total"].to_numpy())

    csv = tmp_path / "leads.csv"
    csv.write_text("id,industry,employee_count,attributes.plan\nc-1,saas,120,pro\nc-2,retail,,\n")
    table = sm.read_leads(csv).leads
    assert table["id"].tolist() == ["c-1", "c-2"]
    assert table["employee_count"].tolist() == [120, 0]
    assert table["attributes.plan"].iloc[0] == "pro" and pd.isna(table["attributes.plan"].iloc[1])


def test_read_lead_file_errors(tmp_path):
    with pytest.raises(sm.InputError, match="cannot open"):
        sm.read_leads(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "seniority": "SENIORITY_EMPEROR"}\n')
    with pytest.raises(sm.LeadError, match="bad.jsonl:1"):
        sm.read_leads(bad)
    with pytest.raises(ValueError, match="format"):
        sm.read_leads(bad, format="xml")  # type: ignore[arg-type]


def test_version_is_the_repository_version():
    expected = (ROOT / "VERSION").read_text().strip()
    assert sm.__version__ == expected
    assert importlib.metadata.version("smarketing") == expected
