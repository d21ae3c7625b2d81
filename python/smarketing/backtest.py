"""A candidate Playbook replayed over the service's history, each lead as it
arrived: what it would have handed to sales, and when, against what sales
did with the leads it was given."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._tables import Now, lead_ids_and_index, leads_specs, to_nanos
from .checks import _SAMPLED_LEADS, warn_sampled_problems
from .data import LeadData
from .scoring import _REASONS, PRIORITIES, STAGES, PlaybookLike, _categorical, _threads, as_playbook
from .v1 import lifecycle_pb2

__all__ = ["Backtest", "backtest"]

_OUTCOMES = ("mql", "accepted", "rejected", "won")


@dataclass(frozen=True)
class Backtest:
    """What a candidate Playbook would have decided on stored leads, as they
    arrived.

    Attributes:
        leads: One row per lead, in the order of the history: lead_id,
            ``arrived_at`` (created_at; without one, the first event), the
            candidate's ``stage`` when its replay stopped (mql, disqualified,
            nurture: never qualified; missing for a lead that arrived after
            ``now``), ``decided_at`` (when it became MQL or was
            disqualified; for the others, the last moment scored: their
            last event up to ``now``, or their arrival), ``decisions``
            (moments the lead was scored at), the scores of that moment
            (fit, engagement, total, grade, persona, priority, hand_raiser,
            disqualification_reason), ``candidate_mql`` and
            ``candidate_mql_at`` (when the candidate would have handed it to
            sales, hand-raisers fast-tracked included), and what happened:
            mql, mql_at (missing when the outcomes have no such column),
            accepted, rejected, won.
        playbook: The candidate's version label.
    """

    leads: pd.DataFrame
    playbook: str

    def summary(self) -> pd.DataFrame:
        """MQL volume, timing, acceptance and wins, as happened and by the
        candidate.

        Rows: ``mqls`` (leads handed to sales), ``hours_to_mql`` (median
        hours from a lead's arrival to its MQL; as happened, from the
        outcomes' mql_at, NaN without it), ``accepted`` and ``rejected`` (of
        those, how many sales accepted or rejected; for the candidate, among
        its MQLs that sales saw), ``acceptance_rate`` (accepted / decided),
        ``wins`` (won leads among the MQLs), ``wins_missed`` (won leads that
        were not MQLs), ``unseen`` (MQLs sales never saw, whose outcome is
        unknown). Columns: ``actual``, ``candidate``.
        """
        t = self.leads
        rows = {}
        for name, handed, mql_at in (("actual", t["mql"], t["mql_at"]),
                                     ("candidate", t["candidate_mql"], t["candidate_mql_at"])):
            seen = handed & t["mql"]
            accepted = int((seen & t["accepted"]).sum())
            rejected = int((seen & t["rejected"]).sum())
            decided = accepted + rejected
            waits = (mql_at - t["arrived_at"])[handed].dropna()
            rows[name] = {
                "mqls": int(handed.sum()),
                "hours_to_mql": waits.median() / pd.Timedelta(hours=1) if len(waits) else np.nan,
                "accepted": accepted,
                "rejected": rejected,
                "acceptance_rate": accepted / decided if decided else np.nan,
                "wins": int((handed & t["won"]).sum()),
                "wins_missed": int((~handed & t["won"]).sum()),
                "unseen": int((handed & ~t["mql"]).sum()),
            }
        return pd.DataFrame(rows)

    def changes(self) -> pd.DataFrame:
        """The leads the candidate decides otherwise: MQLs it would not hand
        over, and leads it would hand over that sales never saw."""
        t = self.leads
        return t[t["candidate_mql"] != t["mql"]]


def _times(nanos: np.ndarray) -> pd.DatetimeIndex:
    """Nanoseconds since the epoch (the minimum for none) as UTC times."""
    return pd.DatetimeIndex(nanos.view("M8[ns]")).tz_localize("UTC")


def backtest(candidate: PlaybookLike, history: LeadData, *, now: Now,
             threads: int | None = None) -> Backtest:
    """Replays stored leads as they arrived with a candidate Playbook and
    compares its decisions with what happened.

    Each lead is decided, in the C++ core, at the moments the service
    decides it: when it arrived (its created_at; without one, its first
    event) and when each of its events occurred, scored then with the
    events it had then (decay, hand-raiser lookbacks and window caps as of
    that moment) and moved through the lifecycle as the service moves it,
    until it becomes MQL or is disqualified; what follows is sales', and is
    taken from what happened. The service's periodic refresh between two
    events is not replayed (a score only falls then, unless negative points
    fade or leave a window). Leads are not routed.

    Args:
        candidate: The Playbook to try, or a path to one.
        history: What :meth:`smarketing.client.Client.history` returns, or
            any ``LeadData`` whose outcomes have lead_id, mql, accepted,
            rejected and won (and mql_at, for the timing).
        now: The end of the history: events after it are not replayed, and
            leads that arrived after it are not decided.
        threads: Threads to use; None for all cores.

    Warns:
        DataWarning: as :func:`score_frame` does.

    Raises:
        ValueError: the outcomes lack a column, or do not match the leads
            one for one.
        ColumnError: a column of the leads or events cannot be read.
        LeadError: the core refused a lead; ``path`` names its row and field.
    """
    end = to_nanos(now)
    if not isinstance(history, LeadData) or history.outcomes is None:
        raise ValueError("history must be LeadData with outcomes (Client.history returns it)")
    outcomes = history.outcomes
    missing = [c for c in ("lead_id", *_OUTCOMES) if c not in outcomes.columns]
    if missing:
        raise ValueError(f"the outcomes lack the columns {', '.join(missing)}; "
                         "Client.history gives lead_id, mql, accepted, rejected and won")
    if outcomes["lead_id"].duplicated().any():
        raise ValueError(f"the outcomes list lead {outcomes['lead_id'][outcomes['lead_id'].duplicated()].iloc[0]!r} "
                         "more than once")
    pb = as_playbook(candidate)
    lead_ids, index = lead_ids_and_index(history.leads)
    known = outcomes.set_index("lead_id")
    absent = pd.Index(lead_ids).difference(known.index)
    extra = known.index.difference(pd.Index(lead_ids))
    if len(absent) or len(extra):
        what = f"lead {absent[0]!r} has no outcome" if len(absent) else f"outcome for unknown lead {extra[0]!r}"
        raise ValueError(f"the outcomes do not match the leads one for one ({what})")
    lead_specs, event_specs = leads_specs(history.leads, history.events)
    native = pb._compile().replay_table(lead_specs, event_specs, end, _threads(threads),
                                        check_sample=_SAMPLED_LEADS)
    warn_sampled_problems(native["problems"])
    matched = known.reindex(lead_ids)
    message = pb.message
    stage = _categorical(native["stage"] - 1, STAGES[1:])
    decided_at = _times(native["decided_at"])
    handed = native["stage"] == lifecycle_pb2.LIFECYCLE_STAGE_MQL
    mql_at = (pd.DatetimeIndex(pd.to_datetime(matched["mql_at"], utc=True)) if "mql_at" in matched.columns
              else _times(np.full(len(lead_ids), np.iinfo(np.int64).min)))
    table = pd.DataFrame({
        "lead_id": lead_ids,
        "arrived_at": _times(native["arrived_at"]),
        "stage": stage,
        "decided_at": decided_at,
        "decisions": native["decisions"],
        "fit": native["fit"],
        "engagement": native["engagement"],
        "total": native["total"],
        "grade": _categorical(native["grade"], [b.grade for b in message.grade_bands]),
        "persona": _categorical(native["persona"], [p.id for p in message.personas]),
        "priority": _categorical(native["priority"] - 1, PRIORITIES[1:], ordered=True),
        "hand_raiser": native["hand_raiser"].astype(bool),
        "disqualification_reason": _categorical(native["disqualification_reason"] - 1, _REASONS[1:]),
        "candidate_mql": handed,
        "candidate_mql_at": decided_at.where(handed),
        "mql": matched["mql"].to_numpy(dtype=bool),
        "mql_at": mql_at,
        **{c: matched[c].to_numpy(dtype=bool) for c in _OUTCOMES if c != "mql"},
    }, index=index)
    return Backtest(table, pb.version_label)
