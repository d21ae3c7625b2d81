from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import smarketing as sm
from smarketing.evaluation import roc_auc


def brute_force_auc(score, converted):
    pos = [s for s, c in zip(score, converted, strict=False) if c]
    neg = [s for s, c in zip(score, converted, strict=False) if not c]
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


def test_a_series_is_aligned_on_the_index_not_the_position(scores, sample):
    converted = pd.Series(sample.outcomes["converted"].to_numpy(), index=scores.index)
    expected = sm.evaluate(scores, converted).roc_auc
    shuffled = converted.sample(frac=1, random_state=3)
    assert sm.evaluate(scores, shuffled).roc_auc == expected
    by_lead = pd.Series(converted.to_numpy(), index=scores["lead_id"]).sample(frac=1, random_state=4)
    assert sm.evaluate(scores, by_lead).roc_auc == expected
    frame = pd.DataFrame({"converted": shuffled, "revenue": 1.0})
    assert sm.evaluate(scores, frame).roc_auc == expected


def test_a_series_that_does_not_match_is_refused(scores, sample):
    converted = pd.Series(sample.outcomes["converted"].to_numpy(), index=scores.index)
    with pytest.raises(ValueError, match="no outcome for index"):
        sm.evaluate(scores, converted.iloc[1:])
    with pytest.raises(ValueError, match="is not a scored lead"):
        sm.evaluate(scores, converted.set_axis(converted.index + 1))
    with pytest.raises(ValueError, match="more than once"):
        sm.evaluate(scores, pd.concat([converted, converted.iloc[:1]]))


def _tied_scores(scores: pd.DataFrame) -> pd.DataFrame:
    # Half the leads at one score, the rest spread: a tie that straddles deciles.
    tied = scores.copy()
    tied["total"] = np.where(np.arange(len(tied)) % 2 == 0, 50.0, tied["total"].round(-1))
    return tied


def test_ties_share_a_decile_and_a_bin_whatever_the_row_order(scores, sample):
    tied = _tied_scores(scores)
    a = sm.evaluate(tied, sample.outcomes)
    permutation = np.random.default_rng(5).permutation(len(tied))
    b = sm.evaluate(tied.iloc[permutation], sample.outcomes)
    pd.testing.assert_frame_equal(a.lift, b.lift)
    pd.testing.assert_frame_equal(a.calibration, b.calibration)
    assert list(a.lift.index) == list(range(1, 11))
    assert a.lift["leads"].sum() == len(tied)
    assert (a.lift["leads"] == 0).any()  # the big tie skips deciles
    at_50 = a.lift.loc[a.lift["min_score"] == 50]
    assert len(at_50) == 1 and at_50["leads"].iloc[0] >= (tied["total"] == 50).sum()
    filled = a.lift.dropna(subset=["min_score"])
    assert filled["min_score"].is_monotonic_decreasing
    assert a.lift["cumulative_capture"].is_monotonic_increasing
