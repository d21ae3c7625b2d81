"""The weekly review as DataFrames: what ``Client.review`` returns.

The figures are the service's (``ReportService.GetReview``); this module only
lays them out as tables for notebooks and ``smarketing.plots``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Review"]


def _enum(message: Any, field: str, value: int) -> str:
    """'mql' for LIFECYCLE_STAGE_MQL, as Playbooks write enum values."""
    enum = message.DESCRIPTOR.fields_by_name[field].enum_type
    name = enum.values_by_number[value].name
    prefix = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(enum.name)).upper() + "_"
    return (name[len(prefix):] if name.startswith(prefix) else name).lower()


def _figure(figure: Any) -> dict:
    return {"value": figure.value if figure.available else None,
            "previous": figure.previous if figure.previous_available else None,
            "change": figure.change if figure.available and figure.previous_available else None}


@dataclass
class Review:
    """One period's review.

    Attributes:
        message: The ``smarketing.v1.Review`` message, every figure included.
        headline: The headline numbers: name -> {value, previous, change}
            (None where there is no data).
        objectives: One row per objective: actual, target, share done, pace
            expected by now, projection, status, and the Playbook version
            that declared it.
        playbook_versions: The Playbook versions in force during the period,
            oldest first: number, label, active_from, active_until (None
            while still active), activated_by.
        funnel: One row per stage: leads that entered it, the previous
            period's, and the median hours spent in it.
        sla_by_owner: One row per team and owner: MQLs, on-time rates,
            median and 90th percentile business hours to first touch,
            breaches, escalations.
        rejection_reasons: One row per reason code, most frequent first.
        weekly: The last 12 weeks: MQLs, accepted, rejected, acceptance rate,
            and the closed loop of each week's MQLs (meetings,
            opportunities, wins, revenue).
    """

    message: Any
    headline: dict
    objectives: pd.DataFrame
    playbook_versions: pd.DataFrame
    funnel: pd.DataFrame
    sla_by_owner: pd.DataFrame
    rejection_reasons: pd.DataFrame
    weekly: pd.DataFrame

    @classmethod
    def from_message(cls, review: Any) -> Review:
        m, s = review.marketing, review.sales
        headline = {
            "mqls": _figure(m.mqls), "accepted": _figure(m.accepted), "rejected": _figure(m.rejected),
            "acceptance_rate": _figure(m.acceptance_rate), "first_touch_rate": _figure(s.first_touch_rate),
            "median_hours_to_first_touch": _figure(s.median_hours_to_first_touch),
            "untreated": {"value": len(s.untreated), "previous": None, "change": None},
        }
        objectives = pd.DataFrame([{
            "objective": o.objective_id, "team": o.team_id, "metric": _enum(o, "metric", o.metric),
            "actual": o.actual if o.available else None, "target": o.target,
            "share_done": o.share_done if o.available else None, "expected_by_now": o.expected_by_now,
            "projection": o.projection if o.available else None, "status": _enum(o, "status", o.status),
            "unavailable_reason": o.unavailable_reason,
            "business_days_elapsed": o.business_days_elapsed, "business_days_total": o.business_days_total,
            "playbook_version": o.playbook_version,
        } for o in review.objectives], columns=[
            "objective", "team", "metric", "actual", "target", "share_done", "expected_by_now", "projection",
            "status", "unavailable_reason", "business_days_elapsed", "business_days_total", "playbook_version"])

        def when(v: Any, field: str) -> Any:
            if not v.HasField(field):
                return None
            t = getattr(v, field)
            return pd.Timestamp(t.seconds * 1_000_000_000 + t.nanos, unit="ns", tz="UTC")

        playbook_versions = pd.DataFrame([{
            "number": v.number, "label": v.label, "active_from": when(v, "active_from"),
            "active_until": when(v, "active_until"), "activated_by": v.activated_by,
        } for v in review.playbook_versions], columns=["number", "label", "active_from", "active_until",
                                                       "activated_by"])
        hours = {_enum(t, "stage", t.stage): (t.median_hours.value if t.median_hours.available else None)
                 for t in review.funnel.time_in_stage}
        funnel = pd.DataFrame([{
            "stage": _enum(c, "stage", c.stage), "entered": int(c.entered.value),
            "previous": int(c.entered.previous), "median_hours_in_stage": hours.get(_enum(c, "stage", c.stage)),
        } for c in review.funnel.entered], columns=["stage", "entered", "previous", "median_hours_in_stage"])

        def rate(r: Any) -> Any:
            return r.rate if r.due else None

        sla_by_owner = pd.DataFrame([{
            "team": c.team_id, "owner": c.owner_id, "mqls": c.mqls,
            "first_touch_on_time": rate(c.first_touch), "first_touch_due": c.first_touch.due,
            "decision_on_time": rate(c.accept_or_reject), "feedback_on_time": rate(c.feedback_after_meeting),
            "touched": c.touched,
            "median_hours_to_first_touch": c.median_hours_to_first_touch if c.touched else None,
            "p90_hours_to_first_touch": c.p90_hours_to_first_touch if c.touched else None,
            "breaches": c.breaches, "escalations": c.escalations,
        } for c in s.by_owner], columns=[
            "team", "owner", "mqls", "first_touch_on_time", "first_touch_due", "decision_on_time",
            "feedback_on_time", "touched", "median_hours_to_first_touch", "p90_hours_to_first_touch",
            "breaches", "escalations"])
        rejection_reasons = pd.DataFrame([{
            "reason": r.reason_code, "count": r.count, "examples": list(r.example_lead_ids),
        } for r in m.rejection_reasons], columns=["reason", "count", "examples"])
        loops = {w.week: w.total for w in review.closed_loop}
        weekly = pd.DataFrame([{
            "week": w.week, "week_start": pd.Timestamp(w.week_start.seconds, unit="s", tz="UTC"),
            "mqls": w.mqls, "accepted": w.accepted, "rejected": w.rejected,
            "acceptance_rate": w.acceptance_rate if w.accepted + w.rejected else None,
            "meetings": loops[w.week].meetings if w.week in loops else 0,
            "opportunities": loops[w.week].opportunities if w.week in loops else 0,
            "wins": loops[w.week].wins if w.week in loops else 0,
            "revenue": loops[w.week].revenue if w.week in loops else 0.0,
        } for w in review.weekly], columns=[
            "week", "week_start", "mqls", "accepted", "rejected", "acceptance_rate", "meetings",
            "opportunities", "wins", "revenue"])
        return cls(review, headline, objectives, playbook_versions, funnel, sla_by_owner, rejection_reasons, weekly)
