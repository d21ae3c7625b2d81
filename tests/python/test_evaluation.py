from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import smarketing as sm
from smarketing.evaluation import roc_auc


def brute_force_auc(score, converted):
    pos = [s for s, c in zip(score, converted) if c]
    neg = [s for s, c in zip(score, converted) if not c]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_roc_auc_matches_its_definition():
    rng = np.random.default_rng(3)
    score = rng.integers(0, 20, 200).astype(float)  # ties on purpose
    converted = rng.random(200) < 0.3
    assert roc_auc(score, converted) == pytest.approx(brute_force_auc(score, converted))
    assert roc_auc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    with pytest.raises(ValueError, match="both"):
        roc_auc([1, 2], [True, True])


def test_evaluation_tables(scores, sample):
    ev = sm.evaluate(scores, sample.outcomes)
    converted = sample.outcomes["converted"].to_numpy()
    assert ev.leads == len(scores) and ev.base_rate == pytest.approx(converted.mean())
    assert 0.6 < ev.roc_auc < 1
    assert ev.lift["leads"].sum() == len(scores) and list(ev.lift.index) == list(range(1, 11))
    assert ev.lift["conversions"].sum() == converted.sum()
    assert ev.lift["lift"].iloc[0] > 1.5 > ev.lift["lift"].iloc[-1]
    assert ev.lift["cumulative_capture"].iloc[-1] == pytest.approx(1)
    assert ev.by_grade["leads"].sum() == scores["grade"].notna().sum()
    assert ev.by_stage.loc["mql", "leads"] == (scores["stage"] == "mql").sum()
    mql = (scores["stage"] == "mql").to_numpy()
    assert ev.mql["precision"] == pytest.approx(converted[mql].mean())
    assert ev.mql["recall"] == pytest.approx(converted[mql].sum() / converted.sum())
    assert ev.calibration["leads"].sum() == len(scores)
    rates = ev.calibration["predicted_rate"].to_numpy()
    assert (np.diff(rates) > 0).all()  # higher scores, likelier conversion
    assert "ROC AUC" in ev.summary()
    assert ev.by_grade["revenue"].sum() == pytest.approx(sample.outcomes["revenue"].sum())


def test_outcomes_may_be_an_array_in_order(scores, sample):
    a = sm.evaluate(scores, sample.outcomes)
    b = sm.evaluate(scores, sample.outcomes["converted"].to_numpy())
    assert a.roc_auc == b.roc_auc


def test_outcomes_are_matched_by_lead_id(scores, sample):
    shuffled = sample.outcomes.sample(frac=1, random_state=1)
    assert sm.evaluate(scores, shuffled).roc_auc == sm.evaluate(scores, sample.outcomes).roc_auc


def test_evaluation_errors(scores, sample):
    with pytest.raises(ValueError, match="no outcome for lead"):
        sm.evaluate(scores, sample.outcomes.iloc[1:])
    with pytest.raises(ValueError, match="more than once"):
        sm.evaluate(scores, pd.concat([sample.outcomes, sample.outcomes.iloc[:1]]))
    with pytest.raises(KeyError, match="converted"):
        sm.evaluate(scores, sample.outcomes.drop(columns="converted"))
    with pytest.raises(ValueError, match="shape"):
        sm.evaluate(scores, np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="missing"):
        sm.evaluate(scores, sample.outcomes.assign(converted=None))
    with pytest.raises(ValueError, match="empty"):
        sm.evaluate(scores.iloc[:0], sample.outcomes)
    with pytest.raises(ValueError, match="score_frame"):
        sm.evaluate(pd.DataFrame({"x": [1]}), sample.outcomes)
    with pytest.raises(KeyError):
        sm.evaluate(scores, sample.outcomes, score="nope")
