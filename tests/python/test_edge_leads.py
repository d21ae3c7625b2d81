"""Every front reads a lead the way the core does: the command line
(`smarketing score`), the ScoreLeads stream, `read_leads` + `score_frame` and
`sm.score(dict)` accept and refuse the same edge leads, name the same field
when they refuse, and give the same score, grade and stage when they accept.

The leads are made here, deterministically: hundreds of JSON lines a few
bytes away from an ordinary lead (times at the edges of what each front can
hold, wrong JSON types, unknown enum values, deep or odd attributes, huge
texts, unicode and bytes that are not UTF-8...). The command line, reading
JSON lines with the core's reader, is the reference. SMARKETING_CLI and
SMARKETING_SERVER name the binaries built from the same tree (scripts/test.sh
sets them)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf import json_format

import smarketing as sm
from smarketing.v1 import score_result_pb2

from conftest import DEMO, NOW, SERVER, running_server

CLI = os.environ.get("SMARKETING_CLI", "")
pytestmark = pytest.mark.skipif(
    not CLI or not SERVER, reason="SMARKETING_CLI and SMARKETING_SERVER must point at the built binaries")
grpc = pytest.importorskip("grpc")
TOKEN = "edge-leads-test-token-0123456789abcdef"

BASE_EVENTS = [
    {"id": "e1", "type": "EVENT_TYPE_PAGE_VIEW", "occurred_at": "2026-11-20T10:00:00Z",
     "properties": {"url": "/pricing"}},
    {"id": "e2", "type": "EVENT_TYPE_DEMO_REQUEST", "occurred_at": "2026-11-22T10:00:00Z"},
]


def base(lead_id: str) -> dict:
    """An ordinary lead the demo Playbook scores on fit and engagement."""
    return {
        "id": lead_id,
        "contact": {"email": "ana@acme.io", "phone": "+33 1 23 45 67 89"},
        "job_title": "VP Marketing",
        "department": "marketing",
        "seniority": "SENIORITY_VP",
        "company": {"name": "Acme", "domain": "acme.io", "industry": "saas", "employee_count": 300,
                    "annual_revenue": 2.5e7, "country": "FR", "region": "EMEA"},
        "attributes": {"tech_stack": ["salesforce", "segment"], "seats": 40},
        "events": [dict(e) for e in BASE_EVENTS],
    }


def with_event(lead_id: str, **fields) -> dict:
    lead = base(lead_id)
    event = {"id": "x1", "type": "EVENT_TYPE_PRICING_PAGE_VIEW", "occurred_at": "2026-11-21T10:00:00Z"}
    for key, value in fields.items():
        if value is _DROP:
            event.pop(key, None)
        else:
            event[key] = value
    lead["events"].append(event)
    return lead


_DROP = object()

TIMES = [
    "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.5Z", "2026-11-21T10:00:00.123456789Z",
    "2026-11-21T10:00:00.1234567891Z", "2026-11-21T10:00:00.Z", "2026-11-21T12:00:00+02:00",
    "2026-11-21T04:30:00-05:30", "2026-11-21T10:00:00+00:00", "2026-11-21T10:00:00-00:00",
    "2026-11-21T10:00:00+24:00", "2026-11-21t10:00:00z", "2026-11-21T10:00:00z", "2026-11-21 10:00:00Z",
    "2026-11-21T10:00:00", "2026-11-21", "2026-11-21T10:00Z", "2026-11-21T23:59:60Z", "2024-02-29T00:00:00Z",
    "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-21T25:00:00Z",
    "1677-09-21T00:12:43Z", "1677-09-21T00:12:44Z", "1600-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
    "0000-12-31T23:59:59Z", "1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
    "2262-04-11T23:47:16Z", "2262-04-11T23:47:17Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
    "10000-01-01T00:00:00Z", "+2026-11-21T10:00:00Z", "", " 2026-11-21T10:00:00Z", "now", 1700000000,
    None, {"seconds": 1}, ["2026-11-21T10:00:00Z"],
]

TEXT_FIELDS = [("contact", "first_name"), ("contact", "last_name"), ("contact", "email"), ("contact", "phone"),
               (None, "job_title"), (None, "department"), ("company", "name"), ("company", "domain"),
               ("company", "industry"), ("company", "country"), ("company", "region"), (None, "source"),
               (None, "campaign"), (None, "product")]

UNICODE = ["caf\u00e9", "\u6771\u4eac", "\U0001f680 rocket", "e\u0301", "\u200b", "\u202eevil", "a\u0000b",
           "\ufeffbom", "\U0010ffff"]


def set_path(lead: dict, parent: str | None, key: str, value) -> dict:
    target = lead if parent is None else lead.setdefault(parent, {})
    if value is _DROP:
        target.pop(key, None)
    else:
        target[key] = value
    return lead


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def nested_list(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def edge_leads() -> list[tuple[str, bytes]]:
    """(name, JSON line) of every edge lead, in a fixed order."""
    cases: list[tuple[str, object]] = []

    def add(name: str, lead: object) -> None:
        cases.append((name, lead))

    add("ordinary", base("ordinary"))
    add("minimal", {"id": "minimal"})
    for i, t in enumerate(TIMES):
        add(f"event time {t!r}", with_event(f"t{i}", occurred_at=t))
        add(f"created_at {t!r}", set_path(base(f"c{i}"), None, "created_at", t))
    for parent, key in TEXT_FIELDS:
        name = f"{parent + '.' if parent else ''}{key}"
        add(f"{name} 64 KiB", set_path(base(f"big-{name}"), parent, key, "x" * 65536))
        add(f"{name} 64 KiB + 1", set_path(base(f"huge-{name}"), parent, key, "x" * 65537))
        add(f"{name} empty", set_path(base(f"empty-{name}"), parent, key, ""))
        add(f"{name} number", set_path(base(f"num-{name}"), parent, key, 42))
        add(f"{name} null", set_path(base(f"null-{name}"), parent, key, None))
        add(f"{name} list", set_path(base(f"list-{name}"), parent, key, ["a"]))
    for i, u in enumerate(UNICODE):
        add(f"unicode job_title {u!r}", set_path(base(f"u{i}"), None, "job_title", u))
        add(f"unicode id {u!r}", base(f"id-{u}"))
        add(f"unicode attribute key {u!r}", set_path(base(f"uk{i}"), "attributes", u, "v"))
    add("id missing", {k: v for k, v in base("x").items() if k != "id"})
    add("id empty", base(""))
    add("id 256 bytes", base("i" * 256))
    add("id 257 bytes", base("i" * 257))
    add("id 256 bytes in 2-byte characters", base("\u00e9" * 128))
    add("id 257 bytes in 2-byte characters", base("a" + "\u00e9" * 128))
    add("id number", set_path(base("n"), None, "id", 5))
    add("id null", set_path(base("n"), None, "id", None))
    add("duplicate lead id 1", base("twin"))
    add("duplicate lead id 2", set_path(base("twin"), None, "job_title", "CEO"))
    for value in ["SENIORITY_VP", "SENIORITY_C_LEVEL", "SENIORITY_UNSPECIFIED", "seniority_vp", "SENIORITY_EMPEROR",
                  "", 4, 0, 99, -1, 4.0, 4.5, True, None, ["SENIORITY_VP"], "4"]:
        add(f"seniority {value!r}", set_path(base(f"s-{value!r}"), None, "seniority", value))
    for value in [0, 300, 250.0, 250.5, 1e3, "300", "1e3", "x", -3, 2**31, 2**63 - 1, 2**63, -(2**63), 1e20,
                  True, None, [300], "", " 300"]:
        add(f"employee_count {value!r}", set_path(base(f"ec-{value!r}"), "company", "employee_count", value))
    for value in [0, 0.0, -0.0, 2.5e7, 1e308, -1, "NaN", "Infinity", "-Infinity", "nan", "1e3", "x", True, None,
                  2**64, 1e-320, [1], "2.5e7"]:
        add(f"annual_revenue {value!r}", set_path(base(f"ar-{value!r}"), "company", "annual_revenue", value))
    for key in ["opted_out", "do_not_email", "do_not_call"]:
        for value in [True, False, "true", 1, 0, None, "yes"]:
            add(f"{key} {value!r}", set_path(base(f"{key}-{value!r}"), None, key, value))
    attribute_values = {
        "list": ["salesforce", "hubspot"], "empty list": [], "object": {"crm": "salesforce"}, "empty object": {},
        "list of objects": [{"a": 1}, {"b": [True, None]}], "null": None, "true": True, "number": 2.5,
        "big integer": 2**53 + 1, "huge integer": 10**30, "tiny": 5e-324, "max double": 1.7976931348623157e308,
        "negative zero": -0.0, "text NaN": "NaN", "text Infinity": "Infinity", "text number": "42",
        "64 KiB text": "x" * 65536, "64 KiB + 1 text": "x" * 65537, "depth 15": nested(15),
        "depth 16": nested(16), "list depth 15": nested_list(15), "list depth 16": nested_list(16),
        "unicode": "\U0001f680\u6771",
    }
    for label, value in attribute_values.items():
        add(f"attribute {label}", set_path(base(f"a-{label}"), "attributes", "tech_stack", value))
        event = with_event(f"p-{label}", properties={"url": "/pricing", "v": value})
        add(f"property {label}", event)
    add("attribute empty key", set_path(base("a-empty-key"), "attributes", "", 1))
    add("attribute key with dots", set_path(base("a-dots"), "attributes", "a.b", 1))
    add("attribute key 256 bytes", set_path(base("a-k256"), "attributes", "k" * 256, 1))
    add("attribute key 257 bytes", set_path(base("a-k257"), "attributes", "k" * 257, 1))
    add("attribute nested key 257 bytes", set_path(base("a-nk257"), "attributes", "o", {"k" * 257: 1}))
    add("attributes a list", set_path(base("as-list"), None, "attributes", ["x"]))
    add("attributes text", set_path(base("as-text"), None, "attributes", "x"))
    add("attributes null", set_path(base("as-null"), None, "attributes", None))
    add("attributes empty", set_path(base("as-empty"), None, "attributes", {}))
    for value in ["EVENT_TYPE_PAGE_VIEW", "EVENT_TYPE_UNSPECIFIED", "EVENT_TYPE_TELEPORT", "event_type_page_view",
                  3, 0, 999, -1, "", None, 3.0]:
        add(f"event type {value!r}", with_event(f"et-{value!r}", type=value))
    add("custom event with custom_type", with_event("cu1", type="EVENT_TYPE_CUSTOM", custom_type="quiz_done"))
    add("custom event without custom_type", with_event("cu2", type="EVENT_TYPE_CUSTOM"))
    add("custom_type 257 bytes", with_event("cu3", type="EVENT_TYPE_CUSTOM", custom_type="q" * 257))
    add("custom_type on a page view", with_event("cu4", custom_type="quiz_done"))
    for value in [_DROP, "", "i" * 256, "i" * 257, 7, None, "\U0001f680"]:
        label = "missing" if value is _DROP else f"{len(value)} bytes" if isinstance(value, str) else repr(value)
        add(f"event id {label}", with_event(f"eid-{label}", id=value))
    add("event occurred_at missing", with_event("eo", occurred_at=_DROP))
    add("event unknown field", with_event("eu", color="red"))
    add("event properties a list", with_event("epl", properties=[1]))
    add("event properties null", with_event("epn", properties=None))
    add("event properties empty key", with_event("epk", properties={"": 1}))
    add("duplicate event ids", with_event("dup", id="e1"))
    lead = base("many")
    lead["events"] = [{"id": f"m{i}", "type": "EVENT_TYPE_PAGE_VIEW",
                       "occurred_at": f"2026-11-{1 + i % 22:02d}T10:00:00Z"} for i in range(3000)]
    add("3000 events", lead)
    add("events an object", set_path(base("eo2"), None, "events", {}))
    add("events null", set_path(base("en"), None, "events", None))
    add("events empty", set_path(base("ee"), None, "events", []))
    add("event null", set_path(base("enn"), None, "events", [None]))
    add("event a number", set_path(base("enum"), None, "events", [1]))
    add("unknown field", set_path(base("uf"), None, "color", "red"))
    add("unknown company field", set_path(base("ucf"), "company", "color", "red"))
    add("contact a text", set_path(base("ct"), None, "contact", "ana"))
    add("company a number", set_path(base("cn"), None, "company", 3))
    add("camelCase names", {"id": "camel", "jobTitle": "CEO", "company": {"employeeCount": 300},
                            "events": [{"id": "e1", "type": "EVENT_TYPE_DEMO_REQUEST",
                                        "occurredAt": "2026-11-22T10:00:00Z"}]})
    add("not an object: list", [base("in-list")])
    add("not an object: number", 42)
    add("not an object: null", None)

    lines = [(name, json.dumps(lead, ensure_ascii=False).encode()) for name, lead in cases]
    raw = {
        "escaped emoji": b'{"id":"esc","job_title":"\\ud83d\\ude80"}',
        "lone high surrogate": b'{"id":"sur1","job_title":"\\ud83d"}',
        "lone low surrogate": b'{"id":"sur2","job_title":"\\ude80"}',
        "invalid UTF-8 in a text": b'{"id":"bad1","job_title":"\xff"}',
        "invalid UTF-8 in an attribute": b'{"id":"bad2","attributes":{"a":"\xc3"}}',
        "invalid UTF-8 in an attribute key": b'{"id":"bad3","attributes":{"\xed\xa0\x80":1}}',
        "overlong UTF-8": b'{"id":"bad4","job_title":"\xc0\xaf"}',
        "duplicate key": b'{"id":"dk1","id":"dk2"}',
        "duplicate attribute key": b'{"id":"dk3","attributes":{"a":1,"a":"x"}}',
        "bare NaN": b'{"id":"bn","company":{"annual_revenue":NaN}}',
        "bare Infinity attribute": b'{"id":"bi","attributes":{"a":Infinity}}',
        "trailing comma": b'{"id":"tc",}',
        "truncated": b'{"id":"tr"',
        "trailing garbage": b'{"id":"tg"} x',
        "single quotes": b"{'id':'sq'}",
        "comment": b'{"id":"cm"} // note',
        "number with plus": b'{"id":"np","company":{"employee_count":+3}}',
        "number with leading zero": b'{"id":"lz","company":{"employee_count":03}}',
        "exponent integer": b'{"id":"ex","company":{"employee_count":3e2}}',
        "big exponent": b'{"id":"be","attributes":{"a":1e999}}',
        "tab in text": b'{"id":"tab","job_title":"a\tb"}',
        "escaped NUL": b'{"id":"nul","job_title":"a\\u0000b"}',
    }
    lines += [(name, line) for name, line in raw.items()]
    # Type changes between leads (a DataFrame column then holds mixed values).
    for i, value in enumerate([1, "one", True, ["one"], {"one": 1}, None, 2.5]):
        lines.append((f"type change {i}", json.dumps(set_path(base(f"tc{i}"), "attributes", "shifty", value)).encode()))
    return lines


@dataclass(frozen=True)
class Outcome:
    """Accepted with (total, grade, stage), or refused naming `field`."""

    accepted: bool
    field: str = ""
    score: tuple = ()


def accepted(total: int, grade: str, stage: str) -> Outcome:
    return Outcome(True, score=(total, grade, stage))


def refused(field: str) -> Outcome:
    # The fronts prefix the field with where the lead was: its row, line or index.
    return Outcome(False, re.sub(r"^(leads|events)?\[\d+\]\.?", "", field))


def result_outcome(result: score_result_pb2.ScoreResult) -> Outcome:
    return accepted(result.total_score, result.grade, sm.scoring.STAGES[result.recommended_stage])


CLI_ERROR = re.compile(rb"^leads\.jsonl:(\d+): (.*)$")


def cli_field(message: str) -> str:
    """The field a refusal of `smarketing score` names: the core's
    ("lead \"x\": events[2].type: is required") or protobuf's JSON parser's
    ("not a lead: (events[2].type): invalid value...", "not a lead: (company)
    color: Cannot find field.")."""
    validation = re.match(r'lead ".*?": (\S+): ', message)
    if validation:
        return validation.group(1)
    nested = re.match(r"not a lead: \(([^()]+)\)(?: ([^\s:]+))?: ", message)
    if nested:
        return ".".join(part for part in nested.groups() if part)
    unknown = re.match(r"not a lead: (\S+): Cannot find field\.", message)
    return unknown.group(1) if unknown else ""


def by_cli(lines: list[bytes], workdir: Path) -> list[Outcome]:
    path = workdir / "leads.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    done = subprocess.run([CLI, "score", "--now", NOW, "--explain=none", str(DEMO), path.name],
                          cwd=workdir, capture_output=True, check=False)
    assert done.returncode >= 0, done.stderr.decode(errors="replace")
    errors: dict[int, str] = {}
    for line in done.stderr.splitlines():
        match = CLI_ERROR.match(line)
        if match:
            errors[int(match.group(1))] = match.group(2).decode(errors="replace")
    results = iter(done.stdout.decode().splitlines())
    out = []
    for number in range(1, len(lines) + 1):
        if number in errors:
            out.append(refused(cli_field(errors[number])))
        else:
            out.append(result_outcome(json_format.Parse(next(results), score_result_pb2.ScoreResult())))
    assert next(results, None) is None
    return out


def as_dict(line: bytes) -> dict | None:
    """The lead as a Python dict, or None when no dict says the same (bytes
    that are not UTF-8, duplicate keys, JSON that Python reads otherwise)."""
    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(items)

    def constant(name):
        raise ValueError(name)

    def number(text):
        # 1e999 is infinity to Python: a lead JSON cannot hold.
        value = float(text)
        if math.isinf(value):
            raise ValueError(text)
        return value

    try:
        value = json.loads(line.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant,
                           parse_float=number)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def by_score(demo, lead: dict) -> Outcome:
    try:
        return result_outcome(sm.score(demo, lead, NOW))
    except sm.LeadError as error:
        return refused(error.path)
    except Exception as error:  # any other exception is a difference to report, not a crash of the test
        return Outcome(False, f"raised {type(error).__name__}: {error}")


def by_frame(demo, line: bytes, path: Path) -> Outcome:
    path.write_bytes(line + b"\n")
    try:
        data = sm.read_leads(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sm.DataWarning)
            row = sm.score_frame(demo, data.leads, data.events, now=NOW, explain="none", route=False).iloc[0]
    except sm.LeadError as error:
        return refused(error.path)
    except Exception as error:  # any other exception is a difference to report, not a crash of the test
        return Outcome(False, f"raised {type(error).__name__}: {error}")
    grade = row["grade"] if isinstance(row["grade"], str) else ""
    return accepted(float(row["total"]), grade, row["stage"])


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    from smarketing.v1 import scoring_service_pb2_grpc

    workdir = tmp_path_factory.mktemp("server")
    tokens = workdir / "tokens"
    tokens.write_text(f"{TOKEN} admin edge-tests\n")
    with running_server(f"--store={workdir / 'store.db'}", f"--token_file={tokens}",
                        f"--demo_playbook={DEMO}") as ports:
        channel = grpc.insecure_channel(f"127.0.0.1:{ports['server_started']}")
        yield scoring_service_pb2_grpc.ScoringServiceStub(channel), (("authorization", f"Bearer {TOKEN}"),)
        channel.close()


def by_stream(stub, leads: list) -> list[Outcome]:
    """Each lead (a smarketing.v1.Lead) scored over one ScoreLeads stream."""
    from smarketing.v1 import scoring_service_pb2

    service, metadata = stub
    request = scoring_service_pb2.ScoreLeadsRequest(leads=leads, omit_explanation=True)
    request.now.FromJsonString(NOW)
    out: list[Outcome | None] = [None] * len(leads)
    results = []
    for response in service.ScoreLeads(iter([request]), metadata=metadata, timeout=60):
        results.extend(response.results)
        for error in response.errors:
            out[error.index] = refused(error.problems[0].path if error.problems else "")
    scored = iter(results)
    for i, outcome in enumerate(out):
        if outcome is None:
            out[i] = result_outcome(next(scored))
    assert next(scored, None) is None
    return out


def test_edge_leads_are_read_alike_by_every_front(demo, stub, tmp_path):
    cases = edge_leads()
    names = [name for name, _ in cases]
    lines = [line for _, line in cases]
    assert len(set(names)) == len(names)
    assert 300 <= len(cases) <= 1000
    reference = by_cli(lines, tmp_path)
    # Both outcomes are in the set: the test cannot pass by refusing (or accepting) everything.
    assert 100 < sum(o.accepted for o in reference) < len(reference) - 100

    differences = []
    messages, sent = [], []
    for i, (name, line) in enumerate(cases):
        expected = reference[i]
        frame = by_frame(demo, line, tmp_path / "one.jsonl")
        if frame != expected:
            differences.append(f"score_frame, {name}: {frame} != {expected}")
        lead = as_dict(line)
        if lead is None:
            continue
        got = by_score(demo, lead)
        if got != expected:
            differences.append(f"sm.score, {name}: {got} != {expected}")
        # The client sends the message sm.score reads from the dict; a dict
        # it cannot read is refused before anything is sent.
        try:
            messages.append(sm.scoring.to_lead(lead))
            sent.append(i)
        except sm.LeadError:
            pass
    for i, got in zip(sent, by_stream(stub, messages), strict=True):
        if got != reference[i]:
            differences.append(f"ScoreLeads, {names[i]}: {got} != {reference[i]}")
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences)



def test_the_accepted_edge_leads_read_as_one_table_score_alike(demo, tmp_path):
    """All the leads the command line accepts, in one file: read_leads puts
    them in one table, whose attribute and property columns then hold values
    of several types (numbers, text, lists, objects) and times of every
    century; score_frame scores each row as the command line scores it."""
    cases = edge_leads()
    reference = by_cli([line for _, line in cases], tmp_path)
    # A table links events to leads by id: two leads with one id cannot be
    # told apart there, and score_frame says so (the command line scores
    # both); the second twin is left out.
    kept = [(line, outcome) for (name, line), outcome in zip(cases, reference, strict=True)
            if outcome.accepted and name != "duplicate lead id 2"]
    path = tmp_path / "accepted.jsonl"
    path.write_bytes(b"\n".join(line for line, _ in kept) + b"\n")
    data = sm.read_leads(path)
    assert data.events["occurred_at"].min() < pd.Timestamp("1677-01-01", tz="UTC")
    assert any(isinstance(v, list) for v in data.leads["attributes.tech_stack"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.DataWarning)
        frame = sm.score_frame(demo, data.leads, data.events, now=NOW, explain="none", route=False)
    got = [accepted(float(r.total), r.grade if isinstance(r.grade, str) else "", r.stage)
           for r in frame.itertuples()]
    assert got == [outcome for _, outcome in kept]

    twins = dict(cases)
    path.write_bytes(twins["duplicate lead id 1"] + b"\n" + twins["duplicate lead id 2"] + b"\n")
    data = sm.read_leads(path)
    with pytest.raises(sm.ColumnError) as refusal:
        sm.score_frame(demo, data.leads, data.events, now=NOW, explain="none", route=False)
    assert refusal.value.path == "leads.id"
