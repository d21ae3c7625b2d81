"""Data checked against the Playbook before its scores silently mislead:
sm.check_data, score_frame's DataWarning, and `smarketing check-data`, which
share the core's checks."""

from __future__ import annotations

import json
import os
import subprocess
import warnings

import pandas as pd
import pytest

import smarketing as sm

from conftest import NOW

PLAYBOOK = """
metadata: {name: checks, version: "1"}
grade_bands:
  - {grade: D, min_fit: 0, max_fit: 10}
  - {grade: A, min_fit: 10, max_fit: 100}
thresholds:
  mql: {min_total: 10}
  sql: {min_total: 20}
fit_rules:
  - id: older
    when: {field: attributes.age, range: {min: 30}}
    points: 5
  - id: tenure-30
    when: {field: attributes.tenure, equals: "30"}
    points: 5
  - id: subscribed
    when: {field: attributes.subscribed, equals: true}
    points: 5
  - id: rate
    when: {field: attributes.emp.var.rate, range: {min: 1}}
    points: 5
  - id: market
    when: {field: company.industry, in: [retail, software]}
    points: 5
"""


# The same rules reading a column named without dots.
FIXED = PLAYBOOK.replace("attributes.emp.var.rate", "attributes.emp_var_rate")


@pytest.fixture(scope="module")
def playbook() -> sm.Playbook:
    return sm.Playbook.from_yaml(PLAYBOOK).validate()


@pytest.fixture(scope="module")
def fixed() -> sm.Playbook:
    return sm.Playbook.from_yaml(FIXED).validate()


def leads_as_exported() -> pd.DataFrame:
    """Leads as they come out of a CSV export read without dtypes: numbers
    and booleans as text, a column named with dots."""
    return pd.DataFrame({
        "id": ["l1", "l2", "l3"],
        "industry": ["software", "retail", None],
        "attributes.age": ["42", "25", "31"],
        "attributes.tenure": [30, 12, 30],
        "attributes.subscribed": ["True", "False", "True"],
        "attributes.emp.var.rate": [1.1, -0.2, 1.4],
    })


def leads_typed() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["l1", "l2", "l3"],
        "industry": ["software", "retail", None],
        "attributes.age": [42, 25, 31],
        "attributes.tenure": ["30", "12", "30"],
        "attributes.subscribed": [True, False, True],
        "attributes.emp_var_rate": [1.1, -0.2, 1.4],
    })


def by_kind(problems: pd.DataFrame, kind: str) -> pd.DataFrame:
    return problems[problems["kind"] == kind]


def test_each_silent_mismatch_is_reported_with_column_rule_and_fix(playbook):
    problems = sm.check_data(playbook, leads_as_exported())
    assert list(problems.columns) == ["kind", "severity", "column", "rule", "rows", "example", "message"]

    row = by_kind(problems, "number_as_text").iloc[0]
    assert (row.column, row.rule, row.rows, row.example) == \
        ("leads.attributes.age", "fit_rules[0].when.range", 3, "42")
    assert "convert the column to numbers" in row.message

    row = by_kind(problems, "type_mismatch").iloc[0]
    assert (row.column, row.rule) == ("leads.attributes.tenure", "fit_rules[1].when.equals")
    assert "write the value without quotes (30)" in row.message

    row = by_kind(problems, "bool_as_text").iloc[0]
    assert (row.column, row.rule, row.rows) == ("leads.attributes.subscribed", "fit_rules[2].when.equals", 3)

    row = by_kind(problems, "unreachable_key").iloc[0]
    assert (row.column, row.rule) == ("leads.attributes.emp.var.rate", "fit_rules[3].when.range")
    assert "attributes.emp_var_rate" in row.message

    never = by_kind(problems, "rule_never_fires")["rule"].tolist()
    assert never == ["fit_rules[0]", "fit_rules[1]", "fit_rules[2]", "fit_rules[3]"]
    assert set(problems.loc[problems["severity"] == "warning", "kind"]) == {
        "number_as_text", "type_mismatch", "bool_as_text", "unreachable_key", "no_values",
        "rule_never_fires"}


def test_typed_data_has_no_warning(fixed):
    problems = sm.check_data(fixed, leads_typed())
    assert (problems["severity"] == "warning").sum() == 0, problems.to_string()
    # "retail" and "software" both occur: no unseen value either.
    assert by_kind(problems, "unseen_value").empty


def test_values_never_seen_and_columns_no_rule_reads_are_notes(fixed):
    leads = leads_typed().assign(industry=["software", "media", None], region=["EMEA", None, None])
    problems = sm.check_data(fixed, leads)
    unseen = by_kind(problems, "unseen_value").iloc[0]
    assert unseen.severity == "note" and unseen.column == "leads.industry"
    assert '"retail" is never found' in unseen.message
    unread = by_kind(problems, "unread_column")
    assert unread["column"].tolist() == ["leads.region"]


def test_every_unknown_column_is_named(fixed):
    leads = leads_typed().assign(colour="red", **{"emp.var.rate": 1.0})
    problems = sm.check_data(fixed, leads)
    unknown = by_kind(problems, "unknown_column")
    assert unknown["column"].tolist() == ["leads.colour", "leads.emp.var.rate"]
    assert "name it attributes.colour" in unknown.iloc[0].message
    # The rest is still checked.
    assert by_kind(problems, "rule_never_fires").empty
    # Scoring still refuses them, but names them all at once.
    with pytest.raises(sm.ColumnError, match='unknown columns "colour", "emp.var.rate"') as error:
        sm.score_frame(fixed, leads, now=NOW)
    assert [p.path for p in error.value.problems] == ["leads.colour", "leads.emp.var.rate"]


def test_score_frame_warns_once_per_column_without_changing_scores(playbook, fixed):
    leads = leads_as_exported()
    with pytest.warns(sm.DataWarning) as caught:
        scores = sm.score_frame(playbook, leads, now=NOW)
    found = {(w.message.kind, w.message.column) for w in caught if isinstance(w.message, sm.DataWarning)}
    assert found == {
        ("number_as_text", "leads.attributes.age"),
        ("type_mismatch", "leads.attributes.tenure"),
        ("bool_as_text", "leads.attributes.subscribed"),
        ("unreachable_key", "leads.attributes.emp.var.rate"),
    }
    assert all(issubclass(w.category, UserWarning) for w in caught)
    # Reported where score_frame was called.
    assert {w.filename for w in caught} == {__file__}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.DataWarning)
        again = sm.score_frame(playbook, leads, now=NOW)
    pd.testing.assert_frame_equal(scores, again)
    # Only the market rule can fire: the data as exported loses the others.
    assert scores["fit"].tolist() == [5.0, 5.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", sm.DataWarning)
        typed = sm.score_frame(fixed, leads_typed(), now=NOW)
    assert typed["fit"].tolist() == [25.0, 5.0, 20.0]


def test_demo_sample_has_no_warning(demo, sample):
    problems = sm.check_data(demo, sample.leads, sample.events)
    assert (problems["severity"] == "warning").sum() == 0, problems.to_string()
    with warnings.catch_warnings():
        warnings.simplefilter("error", sm.DataWarning)
        leads = sample.leads.head(200)
        sm.score_frame(demo, leads, sample.events[sample.events["lead_id"].isin(leads["id"])], now=NOW)


def test_event_properties_are_checked(demo, sample):
    events = sample.events.copy()
    events["properties.url"] = 7.0
    problems = sm.check_data(demo, sample.leads, events)
    mismatches = by_kind(problems, "type_mismatch")
    assert "events.properties.url" in mismatches["column"].tolist()
    assert "text operator never matches numbers" in mismatches.iloc[0].message


def test_errors_that_stop_scoring_stop_the_check(playbook):
    with pytest.raises(sm.ColumnError, match="id"):
        sm.check_data(playbook, pd.DataFrame({"attributes.age": [1]}))
    with pytest.raises(TypeError):
        sm.check_data(playbook, [{"id": "l1"}])


CLI = os.environ.get("SMARKETING_CLI", "")
needs_cli = pytest.mark.skipif(not CLI, reason="SMARKETING_CLI is not set")


def check_data_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "check-data", *args], capture_output=True, text=True)


@needs_cli
def test_command_line_reports_what_python_reports(tmp_path, playbook):
    (tmp_path / "p.yaml").write_text(PLAYBOOK)
    leads = leads_as_exported()
    # JSON lines keep the types: the attributes exactly as the DataFrame has them.
    with open(tmp_path / "leads.jsonl", "w") as out:
        for row in leads.itertuples(index=False):
            lead = {"id": row[0], "attributes": {
                "age": row[2], "tenure": row[3], "subscribed": row[4], "emp.var.rate": row[5]}}
            if isinstance(row[1], str):
                lead["company"] = {"industry": row[1]}
            out.write(json.dumps(lead) + "\n")
    done = check_data_cli("--format=json", str(tmp_path / "p.yaml"), str(tmp_path / "leads.jsonl"))
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["leads"] == 3
    cli = [(p["kind"], p["column"], p["rule"], p["rows"]) for p in report["problems"]]
    python = list(sm.check_data(playbook, leads)[["kind", "column", "rule", "rows"]]
                  .astype({"kind": str}).itertuples(index=False, name=None))
    assert cli == python
    located = next(p for p in report["problems"] if p["kind"] == "number_as_text")
    assert located["line"] == 11 and located["column_number"] > 0

    text = check_data_cli(str(tmp_path / "p.yaml"), str(tmp_path / "leads.jsonl"))
    assert "warning[number_as_text] leads.attributes.age: " in text.stdout
    assert f"p.yaml:11:{located['column_number']}: fit_rules[0].when.range: 3 leads hold numbers " \
        "written as text" in text.stdout


@needs_cli
def test_command_line_reads_pandas_csv_with_true_and_false(tmp_path):
    # CSV has no types: "30" is read as the number 30, so the rule compares numbers.
    text = FIXED.replace('equals: "30"', "equals: 30")
    fixed = sm.Playbook.from_yaml(text).validate()
    (tmp_path / "p.yaml").write_text(text)
    leads = leads_typed().assign(opted_out=[False, True, False], **{"attributes.tenure": [30, 12, 30]})
    leads.to_csv(tmp_path / "leads.csv", index=False)
    assert "True" in (tmp_path / "leads.csv").read_text()
    done = check_data_cli(str(tmp_path / "p.yaml"), str(tmp_path / "leads.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 leads checked, 0 warnings" in done.stdout
    scored = subprocess.run([CLI, "score", "--now", NOW, str(tmp_path / "p.yaml"),
                             str(tmp_path / "leads.csv")], capture_output=True, text=True, check=True)
    fits = [json.loads(line).get("fit_score", 0) for line in scored.stdout.splitlines()]
    python = sm.score_frame(fixed, leads, now=NOW)
    assert fits == python["fit"].tolist()
    stages = [json.loads(line)["recommended_stage"] for line in scored.stdout.splitlines()]
    assert stages[1] == "LIFECYCLE_STAGE_DISQUALIFIED"

    leads.assign(colour="red", size=1).to_csv(tmp_path / "more.csv", index=False)
    refused = subprocess.run([CLI, "score", "--now", NOW, str(tmp_path / "p.yaml"),
                              str(tmp_path / "more.csv")], capture_output=True, text=True)
    assert refused.returncode == 2
    assert 'unknown columns "colour", "size"' in refused.stderr
    checked = check_data_cli(str(tmp_path / "p.yaml"), str(tmp_path / "more.csv"))
    assert checked.returncode == 1
    assert "warning[unknown_column] leads.colour" in checked.stdout
    assert "warning[unknown_column] leads.size" in checked.stdout


@needs_cli
def test_command_line_usage_errors(tmp_path):
    (tmp_path / "p.yaml").write_text(PLAYBOOK)
    assert check_data_cli(str(tmp_path / "p.yaml")).returncode == 2
    missing = check_data_cli(str(tmp_path / "p.yaml"), str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "cannot open" in missing.stderr
    assert check_data_cli("--format=junit", str(tmp_path / "p.yaml"), "x.csv").returncode == 2
