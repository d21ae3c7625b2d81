"""The tuner is safe by default: tested on synthetic data built to break a naive fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import smarketing as sm

from conftest import NOW

# A scorecard of attribute rules, as a data scientist writes one, with a
# placeholder persona giving every lead a fit of 10.
PLAYBOOK = """
metadata: {{name: synthetic, version: "1"}}
personas:
  - id: p
    name: Placeholder persona
    criteria:
{criteria}
fit_rules:
{rules}
grade_bands:
  - {{grade: A, min_fit: 75, max_fit: 100}}
  - {{grade: B, min_fit: 50, max_fit: 75}}
  - {{grade: C, min_fit: 25, max_fit: 50}}
  - {{grade: D, min_fit: 0, max_fit: 25}}
engagement: {{half_life: 30d}}
thresholds:
  mql: {{min_total: 70}}
  sql: {{min_total: 80}}
"""


PLACEHOLDER = """\
      - {id: p-never, when: {field: attributes.noise, range: {min: 2}}, weight: 90}
      - {id: p-any, when: {field: attributes.noise, range: {min: 0}}, weight: 10}"""
# A persona reading the same attribute as the "strong" fit rule: it overlaps
# the fit rules (the case that made points explode).
OVERLAPPING = """\
      - {id: p-strong, when: {field: attributes.strong, equals: "yes"}, weight: 50}
      - {id: p-any, when: {field: attributes.noise, range: {min: 0}}, weight: 50}"""


def _playbook(points: dict[str, float], criteria: str = PLACEHOLDER) -> sm.Playbook:
    rules = "\n".join(
        f"  - {{id: {name}, when: {{field: attributes.{name}, equals: \"yes\"}}, points: {value}}}"
        for name, value in points.items())
    return sm.Playbook.from_yaml(PLAYBOOK.format(rules=rules, criteria=criteria)).validate()


def _data(n: int, seed: int, effects: dict[str, tuple[float, float]]):
    """Leads whose attributes fire with a rate and add an effect to the log-odds of conversion."""
    rng = np.random.default_rng(seed)
    leads = pd.DataFrame({"id": [f"l{i}" for i in range(n)]})
    logit = np.full(n, -1.5)
    for name, (rate, effect) in effects.items():
        fired = rng.random(n) < rate
        leads[f"attributes.{name}"] = np.where(fired, "yes", "no")
        logit += effect * fired
    leads["attributes.noise"] = rng.random(n)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    outcomes = pd.DataFrame({"lead_id": leads["id"], "converted": converted})
    return leads, outcomes


EFFECTS = {"strong": (0.4, 1.5), "medium": (0.3, 0.7), "weak": (0.5, 0.2), "useless": (0.5, 0.0),
           "harmful": (0.3, -0.8), "rare": (0.002, 0.0)}


def test_rules_starting_at_equal_points_are_told_apart_without_exploding():
    pb = _playbook({name: 10 for name in EFFECTS})
    leads, outcomes = _data(6000, 1, EFFECTS)
    result = sm.tune(pb, leads, None, outcomes, now=NOW)
    points = result.changes.set_index("rule_id")["new_points"]
    assert points["strong"] >= points["medium"] > points["weak"] > abs(points["useless"])
    assert points["weak"] > points["harmful"]
    assert points["harmful"] < 0 and result.changes.set_index("rule_id").loc["harmful", "sign_flip"]
    assert points.abs().max() <= 20  # bounded: twice the largest input points
    assert not (points.abs() == 0.5).all()  # not the +-0.5 of a collapsed scale
    before, after = result.validation_auc
    assert after > before
    assert len(result.cross_validation) > 1 and result.l2 in set(result.cross_validation["l2"])
    assert len(result.validation) == 5 and result.validation["leads"].sum() == len(leads)


def test_a_rare_rule_keeps_its_points_instead_of_the_largest_ones():
    pb = _playbook({name: 10 for name in EFFECTS})
    leads, outcomes = _data(6000, 2, EFFECTS)
    # The rare rule fires for a dozen leads, most of which converted: a
    # naive fit gives it the largest points.
    rare = leads.index[leads["attributes.rare"] == "yes"]
    assert 0 < len(rare) < 30
    outcomes.loc[rare, "converted"] = np.arange(len(rare)) % 4 != 0
    result = sm.tune(pb, leads, None, outcomes, now=NOW, min_support=0)
    changes = result.changes.set_index("rule_id")
    assert changes.loc["rare", "support"] == len(rare)
    assert abs(changes.loc["rare", "new_points"] - 10) < 5
    assert changes.loc["rare", "new_points"] < changes.loc["strong", "new_points"]
    kept = sm.tune(pb, leads, None, outcomes, now=NOW, min_support=30).changes.set_index("rule_id")
    assert kept.loc["rare", "new_points"] == 10 and "min_support" in kept.loc["rare", "note"]


def test_a_persona_overlapping_the_fit_rules_does_not_blow_up_the_points():
    pb = _playbook({"strong": 5, "medium": 5, "weak": 5}, OVERLAPPING)
    leads, outcomes = _data(4000, 3, {k: EFFECTS[k] for k in ("strong", "medium", "weak")})
    result = sm.tune(pb, leads, None, outcomes, now=NOW)
    assert result.changes["new_points"].abs().max() <= 10
    before, after = result.validation_auc
    assert after >= before
    assert (result.after.by_grade["leads"] > 0).sum() >= 2  # fit does not pile up at one end


def test_a_tuning_that_validates_worse_is_refused_unless_forced():
    # The outcomes follow the input's points; bounded to 0.5 points, the
    # tuned rules can no longer tell the strong rule from the weak one.
    pb = _playbook({"strong": 10, "medium": 5, "weak": 2})
    leads, _ = _data(1000, 4, {k: EFFECTS[k] for k in ("strong", "medium", "weak")})
    total = sm.score_frame(pb, leads, now=NOW)["total"].to_numpy()
    noisy = total + np.random.default_rng(0).normal(0, 1, len(leads))
    outcomes = pd.DataFrame({"lead_id": leads["id"], "converted": noisy > np.median(noisy)})
    with pytest.raises(sm.TuningError, match="worse") as error:
        sm.tune(pb, leads, None, outcomes, now=NOW, max_points=0.5)
    refused = error.value.result
    assert refused.validation_auc[1] < refused.validation_auc[0]
    forced = sm.tune(pb, leads, None, outcomes, now=NOW, max_points=0.5, force=True)
    assert forced.forced and "force=True" in forced.report()
    assert set(forced.changes["new_points"]) == {0.5}


def test_the_report_says_what_changed_and_why():
    pb = _playbook({name: 10 for name in EFFECTS})
    leads, outcomes = _data(3000, 5, EFFECTS)
    result = sm.tune(pb, leads, None, outcomes, now=NOW)
    assert list(result.changes.columns) == ["kind", "rule_id", "support", "old_points", "new_points",
                                            "coefficient", "sign_flip", "note"]
    report = result.report()
    assert "Held-out ROC AUC" in report and "harmful: 10 -> -" in report and "sign flip" in report
    assert "chosen by cross-validation" in report


def test_grades_and_stages_keep_their_share_after_tuning():
    pb = _playbook({name: 10 for name in EFFECTS})
    leads, outcomes = _data(6000, 6, EFFECTS)
    result = sm.tune(pb, leads, None, outcomes, now=NOW)
    before = result.before.by_grade["share"]
    after = result.after.by_grade["share"]
    assert (after - before).abs().max() < 0.1
    mql_before, mql_after = (e.by_stage.loc["mql", "share"] for e in (result.before, result.after))
    assert abs(mql_after - mql_before) < 0.05
    assert set(result.settings.columns) == {"setting", "old", "new", "reason"}
    bands = sorted(result.playbook.message.grade_bands, key=lambda b: b.min_fit)
    assert bands[0].min_fit == 0 and bands[-1].max_fit == 100
    assert all(a.max_fit == b.min_fit for a, b in zip(bands, bands[1:], strict=False))
    fixed = sm.tune(pb, leads, None, outcomes, now=NOW, rebalance=False)
    assert len(fixed.settings) == 0
    assert fixed.playbook.message.grade_bands == pb.message.grade_bands


def test_weeks_are_needed_only_for_a_weekly_target():
    pb = _playbook({"strong": 10, "medium": 10})
    leads, outcomes = _data(1000, 7, {k: EFFECTS[k] for k in ("strong", "medium")})
    result = sm.tune(pb, leads, None, outcomes, now=NOW, min_mql_conversion=0.4)
    assert np.isnan(result.thresholds.weeks) and np.isnan(result.thresholds.mql_per_week)
    assert result.thresholds.mql_conversion >= 0.4 or result.thresholds.mql_leads == 0
    with pytest.raises(ValueError, match="weeks"):
        sm.tune(pb, leads, None, outcomes, now=NOW, weekly_mql=10)
    assert sm.tune(pb, leads, None, outcomes, now=NOW, weekly_mql=10, weeks=4).thresholds.mql_per_week <= 10


def test_tuning_reads_the_limits_from_the_core():
    from smarketing import _native
    assert _native.limits()["fit_rule_points"] == 100
    assert _native.limits()["engagement_rule_points"] == 1000
    pb = _playbook({"strong": 60, "medium": 10})
    leads, outcomes = _data(2000, 8, {"strong": (0.4, 3.0), "medium": (0.3, 0.5)})
    result = sm.tune(pb, leads, None, outcomes, now=NOW, max_points=1000, l2=0.0)
    assert result.changes["new_points"].abs().max() <= 100


def test_stage_rule_comes_from_the_core(demo, scores):
    from smarketing import _native
    mql = demo.message.thresholds.mql
    meets = _native.meets_threshold(mql.SerializeToString(), scores["fit"].to_numpy(),
                                    scores["engagement"].to_numpy(), scores["total"].to_numpy())
    eligible = (scores["stage"] != "disqualified") & ~scores["hand_raiser"]
    assert ((scores["stage"] == "mql")[eligible] == meets[eligible.to_numpy()]).all()
    with pytest.raises(sm.InputError, match="same length"):
        _native.meets_threshold(mql.SerializeToString(), np.zeros(2), np.zeros(3), np.zeros(2))


def test_tuning_can_learn_from_sales_acceptance():
    pb = _playbook({"strong": 10, "medium": 10, "weak": 10})
    leads, outcomes = _data(3000, 9, {k: EFFECTS[k] for k in ("strong", "medium", "weak")})
    # Sales accept leads with the medium attribute, whatever converts.
    outcomes["accepted"] = (leads["attributes.medium"] == "yes").to_numpy() ^ (
        np.random.default_rng(1).random(len(leads)) < 0.1)
    by_acceptance = sm.tune(pb, leads, None, outcomes, now=NOW, target="accepted").changes.set_index("rule_id")
    assert by_acceptance.loc["medium", "new_points"] > by_acceptance.loc["strong", "new_points"]
    by_conversion = sm.tune(pb, leads, None, outcomes, now=NOW).changes.set_index("rule_id")
    assert by_conversion.loc["strong", "new_points"] > by_conversion.loc["medium", "new_points"]
    with pytest.raises(KeyError, match="nope"):
        sm.tune(pb, leads, None, outcomes, now=NOW, target="nope")


def test_the_base_points_are_fitted_so_that_leads_do_not_tie_at_the_fit_floor():
    # Hand-set points sending a third of the leads below 0, where the clamp
    # ties them all.
    effects = {"strong": (0.4, 1.5), "medium": (0.3, 0.7), "harmful": (0.3, -2.5)}
    pb = _playbook({"strong": 10, "medium": 5, "harmful": -20})
    leads, outcomes = _data(5000, 6, effects)
    kept = sm.tune(pb, leads, None, outcomes, now=NOW, fit_base=False)
    assert kept.playbook.message.fit.base_points == 0
    assert "fit.base_points" not in set(kept.settings["setting"])
    result = sm.tune(pb, leads, None, outcomes, now=NOW)
    base = result.playbook.message.fit.base_points
    assert 0 < base <= 100
    row = result.settings.set_index("setting").loc["fit.base_points"]
    assert (row["old"], row["new"]) == (0, base) and "at the fit's bounds" in row["reason"]

    assert row["reason"].startswith("0 worked leads at the fit's bounds instead of ")

    def fits(tuned):
        return sm.score_frame(tuned.playbook, leads, now=NOW)["fit"]

    # The groups the clamp tied at 0 are told apart.
    assert fits(result).nunique() > fits(kept).nunique()
    # Ranking is no worse for telling the leads at the floor apart.
    assert result.after.roc_auc >= kept.after.roc_auc
