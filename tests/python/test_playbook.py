from __future__ import annotations

from pathlib import Path

import pytest

import smarketing as sm
from smarketing.v1 import playbook_pb2

from conftest import DEMO


def test_the_package_under_test_is_the_installed_one():
    assert "site-packages" in Path(sm.__file__).parts, sm.__file__
    assert not Path(sm.__file__).is_relative_to(DEMO.parents[2] / "python")


def test_load_and_validate_the_demo(demo):
    assert demo.version_label == f"{demo.name}@{demo.version}"
    assert len(demo.message.personas) >= 3
    assert demo.problems() == []


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".textproto", ".pb"])
def test_save_and_load_round_trip(demo, tmp_path, suffix):
    path = tmp_path / f"playbook{suffix}"
    demo.save(path)
    again = sm.Playbook.load(path)
    assert again == demo
    again.validate()


def test_yaml_round_trip_through_the_core(demo):
    text = demo.to_yaml()
    assert sm.Playbook.from_yaml(text) == demo
    assert sm.Playbook.from_string(demo.to_json(), "json") == demo


def test_edit_through_generated_messages(demo):
    edited = demo.copy()
    edited.message.thresholds.mql.min_total = 123.5
    edited.message.metadata.version = "edited"
    edited.validate()
    assert "min_total: 123.5" in edited.to_yaml()
    assert demo.message.thresholds.mql.min_total != 123.5  # the copy is independent
    assert sm.Playbook.from_message(edited.message) == edited


def test_every_problem_is_listed_with_its_line(demo):
    text = DEMO.read_text()
    criterion_weight = "weight: " + str(int(demo.message.personas[0].criteria[0].weight))
    assert criterion_weight in text
    broken = text.replace(criterion_weight, "weight: 0", 1)
    broken = broken.replace(f"id: {demo.message.fit_rules[1].id}", f"id: {demo.message.fit_rules[0].id}", 1)
    playbook = sm.Playbook.from_yaml(broken, file="broken.yaml")
    with pytest.raises(sm.PlaybookError) as caught:
        playbook.validate()
    problems = caught.value.problems
    assert len(problems) >= 2
    paths = [p.path for p in problems]
    assert "personas[0].criteria[0].weight" in paths
    assert any(p.startswith("fit_rules[1]") for p in paths)
    weight = problems[paths.index("personas[0].criteria[0].weight")]
    assert weight.line > 0 and weight.column > 0 and weight.file == "broken.yaml"
    assert "broken.yaml:" in str(weight)
    assert playbook.problems() == problems


def test_problems_of_an_edited_message_have_paths_but_no_lines(demo):
    edited = demo.copy()
    edited.message.grade_bands[0].max_fit = 10
    with pytest.raises(sm.PlaybookError) as caught:
        edited.validate()
    assert caught.value.problems
    assert all(p.line == 0 for p in caught.value.problems)
    assert any(p.path.startswith("grade_bands") for p in caught.value.problems)


def test_syntax_errors_point_at_the_line():
    with pytest.raises(sm.PlaybookError) as caught:
        sm.Playbook.from_yaml("metadata:\n  name: [unclosed\n", file="bad.yaml")
    assert caught.value.problems[0].line >= 1


def test_unknown_fields_are_refused():
    with pytest.raises(sm.PlaybookError) as caught:
        sm.Playbook.from_yaml("metadata:\n  nmae: x\n")
    assert any("nmae" in p.path or "nmae" in p.message for p in caught.value.problems)


def test_bad_binary_is_a_playbook_error():
    with pytest.raises(sm.PlaybookError):
        sm.Playbook.from_string(b"\xff\xff\xff\xff", "binary")


def test_input_errors(tmp_path):
    with pytest.raises(sm.InputError, match="unknown Playbook format"):
        sm.Playbook.load(tmp_path / "playbook.txt")
    with pytest.raises(FileNotFoundError):
        sm.Playbook.load(tmp_path / "missing.yaml")
    with pytest.raises(sm.InputError):
        sm.Playbook.from_string("x", "xml")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sm.Playbook.from_message("not a message")  # type: ignore[arg-type]


def test_rules_table_matches_the_playbook(demo):
    rules = demo.rules()
    m = demo.message
    assert list(rules.columns) == ["kind", "rule_id", "persona_id", "points", "description"]
    assert (rules["kind"] == "persona_criterion").sum() == sum(len(p.criteria) for p in m.personas)
    assert (rules["kind"] == "engagement").sum() == len(m.engagement.rules)
    assert (rules["kind"] == "opt_out").sum() == 1
    assert rules.loc[rules["kind"] == "fit", "points"].tolist() == [r.points for r in m.fit_rules]


def test_generated_messages_are_importable():
    assert playbook_pb2.Playbook.DESCRIPTOR.full_name == "smarketing.v1.Playbook"
