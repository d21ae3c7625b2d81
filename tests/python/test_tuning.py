from __future__ import annotations

import pytest

import smarketing as sm

from conftest import NOW


@pytest.fixture(scope="module")
def tuned(demo, sample):
    return sm.tune(demo, sample.leads, sample.events, sample.outcomes, now=NOW, weekly_mql=15)


def test_tuning_returns_a_valid_playbook_that_ranks_better(demo, tuned):
    new = tuned.playbook
    new.validate()
    assert new.version == f"{demo.version}-tuned"
    assert tuned.after.roc_auc > tuned.before.roc_auc
    assert demo.message.engagement.rules[0].points != 0  # the original is untouched
    changes = tuned.changes
    assert set(changes["kind"]) == {"fit", "engagement"}
    assert len(changes) == len(demo.message.fit_rules) + len(demo.message.engagement.rules)
    by_id = {r.id: r.points for r in new.message.engagement.rules}
    for row in changes.itertuples():
        if row.kind == "engagement":
            assert by_id[row.rule_id] == row.new_points
        assert row.new_points != 0
    assert "-tuned" in tuned.diff and tuned.diff.startswith("---")


def test_weekly_volume_target_is_met(tuned):
    t = tuned.thresholds
    assert t.mql_per_week <= 15
    assert tuned.playbook.message.thresholds.mql.min_total == pytest.approx(t.mql_min_total, abs=0.1)
    assert t.sql_min_total >= t.mql_min_total


def test_conversion_target_is_met(demo, sample, scores):
    t = sm.suggest_thresholds(scores, sample.outcomes, weeks=17, playbook=demo, min_mql_conversion=0.15,
                              min_sql_conversion=0.25)
    assert t.mql_conversion >= 0.15 and t.sql_conversion >= 0.25
    looser = sm.suggest_thresholds(scores, sample.outcomes, weeks=17, playbook=demo, min_mql_conversion=0.05)
    assert looser.mql_min_total <= t.mql_min_total and looser.mql_per_week >= t.mql_per_week
    both = sm.suggest_thresholds(scores, sample.outcomes, weeks=17, playbook=demo, min_mql_conversion=0.05,
                                 weekly_mql=5)
    assert both.mql_per_week <= 5 and both.mql_conversion >= 0.05
    kept = sm.suggest_thresholds(scores, sample.outcomes, weeks=17, playbook=demo)
    assert kept.mql_min_total == demo.message.thresholds.mql.min_total


def test_tuning_errors(demo, sample, scores):
    with pytest.raises(ValueError, match="kinds"):
        sm.tune(demo, sample.leads, sample.events, sample.outcomes, now=NOW, kinds=["priority"])
    with pytest.raises(ValueError, match="l2"):
        sm.tune(demo, sample.leads, sample.events, sample.outcomes, now=NOW, l2=-1)
    with pytest.raises(ValueError, match="same outcome"):
        sm.tune(demo, sample.leads, sample.events, sample.outcomes.assign(converted=False), now=NOW)
    with pytest.raises(ValueError, match="weeks"):
        sm.suggest_thresholds(scores, sample.outcomes, weeks=0, playbook=demo, weekly_mql=3)
    with pytest.raises(ValueError, match="min_mql_conversion"):
        sm.suggest_thresholds(scores, sample.outcomes, weeks=3, playbook=demo, min_mql_conversion=2)
    with pytest.raises(ValueError, match="weekly_mql"):
        sm.suggest_thresholds(scores, sample.outcomes, weeks=3, playbook=demo, weekly_mql=-2)
