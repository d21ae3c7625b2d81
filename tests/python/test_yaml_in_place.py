"""A Playbook read from YAML is written back as its file, changed only where its values changed."""

from __future__ import annotations

import difflib

import smarketing as sm

from conftest import DEMO


def _changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_a_no_op_round_trip_is_byte_identical(tmp_path):
    text = DEMO.read_text()
    pb = sm.Playbook.load(DEMO)
    assert pb.to_yaml() == text
    pb.save(tmp_path / "same.yaml")
    assert (tmp_path / "same.yaml").read_bytes() == DEMO.read_bytes()


def test_changed_values_are_edited_in_place_keeping_comments_and_layout(tmp_path):
    text = DEMO.read_text()
    pb = sm.Playbook.load(DEMO)
    m = pb.message
    m.metadata.version = "2026.11.1-tuned"
    m.fit_rules[0].points = 7.5
    m.thresholds.mql.min_total = 61.3
    m.engagement.rules[1].points = -2
    m.personas[0].criteria[1].weight = 33
    out = pb.to_yaml()
    changed = _changed_lines(text, out)
    assert len(changed) == 2 * 5, changed  # each value: one line out, one line in
    assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == \
        [line for line in out.splitlines() if line.lstrip().startswith("#")]
    assert sm.Playbook.from_yaml(out) == pb
    assert 'version: "2026.11.1-tuned"' in out
    pb.save(tmp_path / "edited.yaml")
    assert sm.Playbook.load(tmp_path / "edited.yaml") == pb


def test_a_new_section_of_values_is_appended():
    text = DEMO.read_text()
    pb = sm.Playbook.load(DEMO)
    assert not pb.message.HasField("fit")
    pb.message.fit.base_points = 4.7
    pb.message.fit_rules[0].points = 7.5
    out = pb.to_yaml()
    assert out.endswith("\nfit:\n  base_points: 4.7\n")
    assert len(_changed_lines(text, out)) == 2 + 2  # the points, and the two lines appended
    assert sm.Playbook.from_yaml(out) == pb


def test_a_structural_change_writes_the_playbook_anew():
    pb = sm.Playbook.load(DEMO)
    del pb.message.fit_rules[0]
    out = pb.to_yaml()
    assert sm.Playbook.from_yaml(out) == pb
    assert "Demo Playbook of Acme" not in out  # comments cannot be kept then


def test_a_tuned_playbook_diff_shows_only_its_changes(demo, sample):
    from conftest import NOW
    result = sm.tune(demo, sample.leads, sample.events, sample.outcomes, now=NOW, weekly_mql=15)
    changed = _changed_lines(DEMO.read_text(), result.playbook.to_yaml())
    moved = (result.changes["old_points"] != result.changes["new_points"]).sum()
    # Points (with caps that scale), thresholds, bands and the version: no reformatting.
    assert len(changed) <= 2 * (2 * moved + len(result.settings) + 4)
    assert sm.Playbook.from_yaml(result.playbook.to_yaml()) == result.playbook
    assert result.diff.count("\n+") < 100
