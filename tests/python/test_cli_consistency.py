"""The same leads scored by Python and by the smarketing command line give the
same results, field for field. Set SMARKETING_CLI to the command line built
from the same tree (scripts/test.sh does)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from google.protobuf import json_format

import smarketing as sm
from smarketing.v1 import lead_pb2, score_result_pb2

from conftest import DEMO, NOW

CLI = os.environ.get("SMARKETING_CLI", "")

pytestmark = pytest.mark.skipif(
    not CLI, reason="SMARKETING_CLI is not set: point it at build/cli/smarketing to compare with the command line")


def run(*args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def cli_leads(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "leads.jsonl"
    path.write_bytes(run("sample-leads", "--count", "1500", "--seed", "11", "--now", NOW))
    return path


@pytest.fixture(scope="module")
def cli_results(cli_leads) -> list[score_result_pb2.ScoreResult]:
    out = run("score", "--now", NOW, "--explain=sentences", str(DEMO), str(cli_leads))
    return [json_format.Parse(line, score_result_pb2.ScoreResult()) for line in out.decode().splitlines()]


def test_python_samples_the_same_leads_as_the_command_line(cli_leads):
    data = sm.sample_leads(1500, seed=11, now=NOW)
    lines = cli_leads.read_text().splitlines()
    for row in range(0, 1500, 37):
        expected = json_format.Parse(lines[row], lead_pb2.Lead())
        # A table has no way to say "attributes given, but empty": the same as none.
        if not expected.attributes.fields:
            expected.ClearField("attributes")
        for event in expected.events:
            if not event.properties.fields:
                event.ClearField("properties")
        assert sm.lead_at(data.leads, data.events, row) == expected


def test_score_frame_gives_the_command_lines_results(demo, cli_leads, cli_results):
    data = sm.read_leads(cli_leads)
    wide = sm.score_frame(demo, data.leads, data.events, now=NOW, explain="none")
    long = sm.score_frame(demo, data.leads, data.events, now=NOW, explain="long")
    hits = {lead: group for lead, group in long.groupby("lead_id", sort=False)}
    assert len(wide) == len(cli_results)

    def label(value) -> str:
        return value if isinstance(value, str) else ""

    for row, expected in zip(wide.itertuples(), cli_results, strict=False):
        assert row.lead_id == expected.lead_id
        assert row.fit == expected.fit_score and row.engagement == expected.engagement_score
        assert row.total == expected.total_score
        assert label(row.grade) == expected.grade and label(row.persona) == expected.persona_id
        assert row.stage == sm.scoring.STAGES[expected.recommended_stage]
        assert label(row.priority) == sm.scoring.PRIORITIES[expected.priority]
        assert row.hand_raiser == expected.hand_raiser
        assert row.events_counted == expected.events_counted
        assert row.duplicate_events == expected.duplicate_events
        assert label(row.team) == expected.routing.team_id
        assert label(row.owner) == expected.routing.owner_id
        group = hits.get(row.lead_id)
        got = [] if group is None else list(zip(group["rule_id"], group["points"], group["raw_points"],
                                                group["event_count"], group["sentence"], strict=False))
        assert got == [(h.rule_id, h.points, h.raw_points, h.event_count, h.sentence) for h in expected.explanation]


def test_score_of_one_lead_is_the_command_lines_json(demo, cli_leads, cli_results):
    lines = cli_leads.read_text().splitlines()
    for row in range(0, len(lines), 101):
        result = sm.score(demo, json.loads(lines[row]), NOW)
        expected = score_result_pb2.ScoreResult()
        expected.CopyFrom(cli_results[row])
        # Routing depends on the leads routed before (turns, capacity): the
        # command line routes the whole file, score() one lead on its own.
        expected.ClearField("routing")
        expected.ClearField("sla")
        assert result == expected


def test_diff_counts_what_the_command_line_counts(demo, cli_leads, tmp_path):
    stricter = demo.copy()
    stricter.message.thresholds.mql.min_total += 15
    stricter.message.thresholds.sql.min_total = max(stricter.message.thresholds.sql.min_total,
                                                    stricter.message.thresholds.mql.min_total)
    stricter_path = tmp_path / "stricter.yaml"
    stricter.save(stricter_path)
    report = json.loads(run("diff", "--leads", str(cli_leads), "--now", NOW, "--format", "json",
                            str(DEMO), str(stricter_path)))["impact"]
    data = sm.read_leads(cli_leads)
    d = sm.diff(demo, stricter, data.leads, data.events, now=NOW)
    assert report["stage_changes"] > 0 and report["team_changes"] > 0
    for field in ("grade", "stage", "team"):
        matrix = getattr(d, f"{field}_transitions")
        expected = report[f"{field}s"]
        assert list(matrix.index) == expected["labels"], field
        assert matrix.to_numpy().tolist() == expected["counts"], field
        assert d.counts[f"{field}_changed"] == report[f"{field}_changes"]
    assert len(d.changed) == report["changed_leads"]
