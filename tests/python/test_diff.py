from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import smarketing as sm
from smarketing import plots

from conftest import NOW


def test_the_same_playbook_changes_nothing(demo, sample):
    d = sm.diff(demo, demo, sample.leads, sample.events, now=NOW)
    assert d.changed.empty and d.text == ""
    assert d.counts["grade_changed"] == 0 and d.counts["stage_changed"] == 0
    assert d.counts["leads"] == len(sample.leads)


def test_a_higher_threshold_moves_mqls_to_nurture(demo, sample, scores):
    stricter = demo.copy()
    stricter.message.thresholds.mql.min_total += 20
    stricter.message.thresholds.sql.min_total = max(stricter.message.thresholds.sql.min_total,
                                                    stricter.message.thresholds.mql.min_total)
    d = sm.diff(demo, stricter, sample.leads, sample.events, now=NOW)
    moved = d.changed[d.changed["stage_changed"]]
    assert len(moved) > 0
    assert set(moved["old_stage"]) == {"mql"} and set(moved["new_stage"]) == {"nurture"}
    assert d.counts["stage_changed"] == d.stage_transitions.loc["mql", "nurture"]
    assert d.counts["grade_changed"] == 0
    assert "min_total" in d.text
    assert "stage:" in d.summary()


def test_plots_draw(scores, sample):
    ev = sm.evaluate(scores, sample.outcomes)
    for ax in (plots.score_distribution(scores, sample.outcomes), plots.lift_curve(ev),
               plots.calibration(ev), plots.funnel(scores)):
        assert ax.has_data()
    assert len(plots.funnel(scores).patches) >= 3


def test_changed_leads_keep_the_index_of_the_leads(demo, sample):
    stricter = demo.copy()
    stricter.message.thresholds.mql.min_total += 20
    stricter.message.thresholds.sql.min_total = max(stricter.message.thresholds.sql.min_total,
                                                    stricter.message.thresholds.mql.min_total)
    leads = sample.leads.set_axis([f"row-{i}" for i in range(len(sample.leads))])
    d = sm.diff(demo, stricter, leads, sample.events, now=NOW)
    assert len(d.changed) > 0
    assert (leads.loc[d.changed.index, "id"] == d.changed["lead_id"]).all()
    # An MQL that falls back to nurture is no longer routed.
    moved = d.changed[d.changed["stage_changed"]]
    assert moved["old_team"].notna().all() and moved["new_team"].isna().all()
    assert d.team_transitions.loc[:, "-"].sum() >= len(moved)
    assert (d.old["lead_id"].to_numpy() == leads["id"].to_numpy()).all()
