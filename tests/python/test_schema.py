"""The Playbook's JSON Schema, generated at build time, accepts the examples and refuses mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import smarketing as sm
from smarketing.schema import SCHEMA_PATH, playbook_schema

from conftest import ROOT


class _Loader(yaml.SafeLoader):
    """YAML as the core reads it: times stay text."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

EXAMPLES = sorted((ROOT / "examples" / "playbooks").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_installed_schema_is_the_one_the_proto_gives():
    assert json.loads(SCHEMA_PATH.read_text()) == playbook_schema()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_playbook_is_valid(validator, path: Path):
    document = yaml.load(path.read_text(), Loader=_Loader)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    sm.Playbook.load(path).validate()


@pytest.mark.parametrize("mistake, where", [
    ("fit_rules: [{id: a, when: {field: x, equals: 1}, pointz: 5}]", ["fit_rules", 0]),
    ("engagement: {half_life: seven days}", ["engagement", "half_life"]),
    ("hand_raiser_rules: [{id: h, event_types: [demo_requested]}]", ["hand_raiser_rules", 0, "event_types", 0]),
    ("grade_bands: [{grade: A, min_fit: high}]", ["grade_bands", 0, "min_fit"]),
])
def test_a_broken_playbook_is_refused_where_it_is_broken(validator, mistake, where):
    document = yaml.load(f"metadata: {{name: t, version: '1'}}\n{mistake}\n", Loader=_Loader)
    errors = list(validator.iter_errors(document))
    assert errors, mistake
    assert any(list(e.absolute_path)[:len(where)] == where for e in errors), [e.message for e in errors]


def test_hand_writing_conveniences_are_accepted(validator):
    document = yaml.load("""
engagement:
  half_life: 7d
  rules:
    - {id: r, event_types: [demo_request, EVENT_TYPE_EMAIL_OPEN], points: 5, halfLife: 2h30m}
""", Loader=_Loader)
    assert list(validator.iter_errors(document)) == []
