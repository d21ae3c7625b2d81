"""Scoring with the C++ core: one lead, or whole DataFrames at native speed."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np
import pandas as pd
import scipy.sparse

from . import _native
from ._tables import Frame, Now, lead_ids_and_index, leads_specs, to_nanos
from .errors import LeadError, Problem
from .playbook import Playbook
from .v1 import event_pb2, lead_pb2, lifecycle_pb2, priority_pb2, score_result_pb2, scoring_pb2

__all__ = ["score", "score_frame", "rule_matrix", "RuleMatrix", "STAGES", "PRIORITIES"]

PlaybookLike = Union[Playbook, str, os.PathLike]
Explain = Literal["none", "column", "long"]


def _short_names(enum: Any) -> list[str]:
    """Labels by enum number ("mql" for LIFECYCLE_STAGE_MQL), from the core; "" for 0."""
    labels = _native.enum_labels(enum.DESCRIPTOR.full_name)
    names = [""] * (max(labels) + 1)
    for number, label in labels.items():
        names[number] = "" if number == 0 else label
    return names


STAGES: list[str] = _short_names(lifecycle_pb2.LifecycleStage)
"""Lifecycle stages by number, short names ("mql", "nurture", "disqualified"...)."""
PRIORITIES: list[str] = _short_names(priority_pb2.Priority)
"""Priorities by number: "", "low", "medium", "high", "urgent"."""
_REASONS = _short_names(scoring_pb2.DisqualificationReason)
_KINDS = _short_names(score_result_pb2.RuleKind)


def as_playbook(playbook: PlaybookLike) -> Playbook:
    """A Playbook object from a Playbook or a path to one."""
    if isinstance(playbook, Playbook):
        return playbook
    if isinstance(playbook, (str, os.PathLike)):
        return Playbook.load(playbook)
    raise TypeError(f"expected a Playbook or a path to one, found {type(playbook).__name__}")


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None (all cores), found {threads!r}")
    return int(threads)


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        return ts.tz_convert("UTC").isoformat().replace("+00:00", "Z")
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot put a {type(value).__name__} in a lead")


def _full_names(enum: Any) -> dict[str, str]:
    """The Playbook's short names ("vp") to the protobuf JSON names ("SENIORITY_VP")."""
    return {label: enum.Name(number) for number, label in _native.enum_labels(enum.DESCRIPTOR.full_name).items()
            if number != 0}


_SENIORITIES = _full_names(lead_pb2.Seniority)
_EVENT_TYPES = _full_names(event_pb2.EventType)


def _struct_value(value: Any, path: str) -> Any:
    """A value of attributes or properties, checked for what JSON cannot say:
    NaN and infinities, which the core refuses in a struct."""
    if isinstance(value, float) and not math.isfinite(value):
        raise LeadError(f"{path}: must be a finite number", [Problem(path, "must be a finite number")],
                        "INVALID_ARGUMENT")
    if isinstance(value, Mapping):
        return {k: _struct_value(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_struct_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _plain_value(value: Any) -> Any:
    """Any other value: NaN and infinities as the protobuf JSON mapping spells them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Mapping):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    return value


def _event_json(event: Any, path: str) -> Any:
    if not isinstance(event, Mapping):
        return _plain_value(event)
    out = {}
    for key, value in event.items():
        if key == "properties":
            out[key] = _struct_value(value, f"{path}.properties")
        elif key == "type" and isinstance(value, str):
            out[key] = _EVENT_TYPES.get(value, value)
        else:
            out[key] = _plain_value(value)
    return out


def _lead_json(lead: Mapping[str, Any]) -> Any:
    out = {}
    for key, value in lead.items():
        if key == "attributes":
            out[key] = _struct_value(value, "attributes")
        elif key == "seniority" and isinstance(value, str):
            out[key] = _SENIORITIES.get(value, value)
        elif key == "events" and isinstance(value, (list, tuple)):
            out[key] = [_event_json(event, f"events[{i}]") for i, event in enumerate(value)]
        else:
            out[key] = _plain_value(value)
    return out


def to_lead(lead: lead_pb2.Lead | Mapping[str, Any] | bytes) -> lead_pb2.Lead:
    """A ``smarketing.v1.Lead`` from a message, serialized bytes or a dict.

    A dict is read as ``smarketing score`` reads a line of JSON (the protobuf
    JSON mapping: the same leads accepted, the same field named when one is
    refused), with three conveniences: seniority and event types may be
    written as the Playbook writes them (``"seniority": "vp"``, ``"type":
    "demo_request"``), datetimes as ``datetime`` objects, and numbers as
    numpy scalars.

    Raises:
        LeadError: the dict or bytes are not a lead; ``path`` names the field
            when the problem is in one.
    """
    if isinstance(lead, lead_pb2.Lead):
        return lead
    if isinstance(lead, bytes):
        try:
            return lead_pb2.Lead.FromString(lead)
        except Exception as error:  # the runtime's DecodeError varies by version
            raise LeadError(f"not a serialized smarketing.v1.Lead: {error}") from None
    if isinstance(lead, Mapping):
        text = json.dumps(_lead_json(lead), default=_json_default)
        return lead_pb2.Lead.FromString(_native.parse_lead_json(text.encode()))
    raise TypeError(f"expected a smarketing.v1.Lead, bytes or a dict, found {type(lead).__name__}")


def score(playbook: PlaybookLike, lead: lead_pb2.Lead | Mapping[str, Any] | bytes,
          now: Now) -> score_result_pb2.ScoreResult:
    """Scores one lead at time ``now``.

    Args:
        playbook: The Playbook, or a path to one.
        lead: A ``smarketing.v1.Lead`` message, its serialized bytes, or a dict
            in the protobuf JSON mapping.
        now: When to score (a datetime, pandas Timestamp or RFC 3339 text; UTC
            when it has no time zone). Events after it are ignored.

    Returns:
        The ``smarketing.v1.ScoreResult``, with its explanation sentences.

    Raises:
        LeadError: the lead is malformed; ``path`` names the field.
        PlaybookError: the Playbook is not valid.
    """
    compiled = as_playbook(playbook)._compile()
    message = to_lead(lead)
    data = compiled.score(message.SerializeToString(), to_nanos(now))
    return score_result_pb2.ScoreResult.FromString(data)


def _categorical(codes: np.ndarray, labels: list[str], ordered: bool = False) -> pd.Categorical:
    """Codes (indexes into labels, negative for none) as a categorical."""
    return pd.Categorical.from_codes(codes, categories=labels, ordered=ordered)


def _native_scores(playbook: Playbook, leads: Frame, events: Frame | None,
                   now: Now, threads: int | None, explain: str, route: bool = False,
                   check_sample: int = 0) -> dict:
    lead_specs, event_specs = leads_specs(leads, events)
    return playbook._compile().score_table(lead_specs, event_specs, to_nanos(now),
                                          _threads(threads), explain, route, check_sample)


def score_frame(playbook: PlaybookLike, leads: Frame, events: Frame | None = None,
                *, now: Now, explain: Explain = "column", route: bool = True,
                threads: int | None = None) -> pd.DataFrame:
    """Scores every lead of a DataFrame with its events, on all cores.

    The leads are built and scored in C++ from the columns, with the GIL
    released; no message is made per row in Python. Arrow tables (pyarrow
    Table or RecordBatch) are read as they are: numbers and timestamps
    without a copy, text dictionary-encoded by Arrow; the result is then
    indexed by row number.

    Args:
        playbook: The Playbook, or a path to one.
        leads: One row per lead. ``id`` is required; the other columns are
            optional: first_name, last_name, email, phone, job_title,
            department, seniority (``"vp"``...), company_name, company_domain,
            industry, employee_count, annual_revenue, country, region, source,
            campaign, product, opted_out, do_not_email, do_not_call (booleans,
            never missing), created_at, and ``attributes.<key>`` columns.
            Missing values (None, NaN, NaT) leave a field unset.
        events: One row per event: ``lead_id`` (a lead's id), ``type``
            (``"page_view"``...), ``occurred_at`` (datetimes; UTC when naive),
            optionally ``id`` (repeated ids count once; without the column
            each row is a distinct event), ``custom_type`` and
            ``properties.<key>`` columns.
        now: The time to score at.
        explain: ``"column"`` adds an ``explanation`` column (one sentence
            per rule that fired, one per line); ``"none"`` leaves it out, for
            speed; ``"long"`` returns instead the explanation as a table, one
            row per rule that fired: lead_id, kind, rule_id, persona_id,
            raw_points, points, event_count, sentence.
        route: Route the MQLs when the Playbook has teams (team and owner
            columns). Routing runs on one thread, in table order; False
            skips it when only the scores matter.
        threads: Threads to use; None for all cores.

    Returns:
        One row per lead, in the order and with the index of ``leads``:
        lead_id, fit, grade, persona, engagement, total, stage, priority,
        hand_raiser, team and owner (when the Playbook routes: MQLs are
        routed in table order from an empty routing state, as if they all
        arrived at ``now``; no owner when the lead waits in the team's
        queue), disqualification_reason, events_counted, duplicate_events
        (and explanation).

    Warns:
        DataWarning: once per column whose values some condition cannot
            match as intended (numbers or booleans written as text, keys
            with dots, types changing between rows), found on a sample of
            10,000 leads; the scores are unchanged. :func:`check_data` lists
            every problem.

    Raises:
        ColumnError: a column is missing, unknown (every unknown column is
            named), of the wrong dtype, or holds a missing value where one
            is required; it names the table, column and row.
        LeadError: the core refused a lead; ``path`` names its row and field.
    """
    if explain not in ("none", "column", "long"):
        raise ValueError(f"explain must be 'none', 'column' or 'long', found {explain!r}")
    pb = as_playbook(playbook)
    routes = route and explain != "long" and len(pb.message.routing.teams) > 0
    # Imported here: the checks build on this module.
    from .checks import _SAMPLED_LEADS, warn_sampled_problems
    native = _native_scores(pb, leads, events, now, threads,
                            {"none": "none", "column": "column", "long": "sentences"}[explain], routes,
                            check_sample=_SAMPLED_LEADS)
    warn_sampled_problems(native["problems"])
    lead_ids, index = lead_ids_and_index(leads)
    if explain == "long":
        return _long_explanation(pb, native, lead_ids)
    message = pb.message
    frame = pd.DataFrame({
        "lead_id": lead_ids,
        "fit": native["fit"],
        "grade": _categorical(native["grade"], [b.grade for b in message.grade_bands]),
        "persona": _categorical(native["persona"], [p.id for p in message.personas]),
        "engagement": native["engagement"],
        "total": native["total"],
        "stage": _categorical(native["stage"] - 1, STAGES[1:]),
        "priority": _categorical(native["priority"] - 1, PRIORITIES[1:], ordered=True),
        "hand_raiser": native["hand_raiser"].astype(bool),
        **({name: _categorical(*native[name]) for name in ("team", "owner")} if routes else {}),
        "disqualification_reason": _categorical(native["disqualification_reason"] - 1, _REASONS[1:]),
        "events_counted": native["events_counted"],
        "duplicate_events": native["duplicate_events"],
    }, index=index)
    if explain == "column":
        frame["explanation"] = native["explanation"]
    return frame


def _rule_ids(pb: Playbook) -> dict[int, list[str]]:
    m = pb.message
    return {
        score_result_pb2.RULE_KIND_FIT: [r.id for r in m.fit_rules],
        score_result_pb2.RULE_KIND_ENGAGEMENT: [r.id for r in m.engagement.rules],
        score_result_pb2.RULE_KIND_DISQUALIFICATION: [r.id for r in m.disqualification_rules],
        score_result_pb2.RULE_KIND_HAND_RAISER: [r.id for r in m.hand_raiser_rules],
        score_result_pb2.RULE_KIND_PRIORITY: [r.id for r in m.priority.rules],
    }


def _hit_columns(pb: Playbook, native: dict) -> np.ndarray:
    """The rule_matrix column of each contribution."""
    offsets = pb._rule_offsets()
    kind = native["kind"]
    rule = native["rule"]
    persona = native["persona_index"]
    criteria_before = np.cumsum([0] + [len(p.criteria) for p in pb.message.personas])
    base = np.zeros(len(kind), dtype=np.int64)
    for k, offset in offsets.items():
        base[kind == k] = offset
    column = base + np.maximum(rule, 0)
    is_criterion = kind == score_result_pb2.RULE_KIND_PERSONA_CRITERION
    column[is_criterion] += criteria_before[persona[is_criterion]]
    return column


def _long_explanation(pb: Playbook, native: dict, lead_ids: np.ndarray) -> pd.DataFrame:
    begin = native["contribution_begin"]
    counts = np.diff(begin)
    rules = pb.rules()
    columns = _hit_columns(pb, native)
    return pd.DataFrame({
        "lead_id": np.repeat(lead_ids, counts),
        "kind": _categorical(native["kind"] - 1, _KINDS[1:]),
        "rule_id": rules["rule_id"].to_numpy()[columns],
        "persona_id": rules["persona_id"].to_numpy()[columns],
        "raw_points": native["raw_points"],
        "points": native["points"],
        "event_count": native["event_count"],
        "sentence": np.asarray(native["sentences"], dtype=object),
    })


@dataclass(frozen=True)
class RuleMatrix:
    """Each rule's contribution to each lead: the raw material for fitting.

    Attributes:
        matrix: ``scipy.sparse.csr_matrix`` of shape (leads, rules). For
            persona criteria, fit and engagement rules the entry is the points
            the rule contributed (after decay and caps; criteria only for the
            lead's best persona); for disqualification, opt-out, hand-raiser
            and priority rules it is 1.0 where the rule fired.
        rules: The columns: :meth:`Playbook.rules`.
        lead_ids: The rows.
    """

    matrix: scipy.sparse.csr_matrix
    rules: pd.DataFrame
    lead_ids: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a dense DataFrame (leads x rule ids); for small sets of leads."""
        labels = [f"{k}:{p + '/' if p else ''}{r}" for k, r, p in
                  zip(self.rules["kind"], self.rules["rule_id"], self.rules["persona_id"], strict=False)]
        return pd.DataFrame(self.matrix.toarray(), index=self.lead_ids, columns=labels)


def rule_matrix(playbook: PlaybookLike, leads: pd.DataFrame, events: pd.DataFrame | None = None,
                *, now: Now, threads: int | None = None) -> RuleMatrix:
    """The contribution of every rule to every lead, as a sparse matrix.

    Takes the same arguments as :func:`score_frame`.
    """
    pb = as_playbook(playbook)
    native = _native_scores(pb, leads, events, now, threads, "contributions")
    rules = pb.rules()
    columns = _hit_columns(pb, native)
    kind = native["kind"]
    scoring = np.isin(kind, [score_result_pb2.RULE_KIND_PERSONA_CRITERION,
                             score_result_pb2.RULE_KIND_FIT,
                             score_result_pb2.RULE_KIND_ENGAGEMENT])
    values = np.where(scoring, native["points"], 1.0)
    matrix = scipy.sparse.csr_matrix((values, columns, native["contribution_begin"]),
                                     shape=(len(leads), len(rules)))
    matrix.sum_duplicates()
    return RuleMatrix(matrix, rules, leads["id"].to_numpy())
