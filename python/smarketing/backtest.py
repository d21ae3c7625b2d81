"""A candidate Playbook replayed over the service's history: what it would
have handed to sales, against what sales did with the leads it was given."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._tables import Now
from .data import LeadData
from .scoring import PlaybookLike, as_playbook, score_frame

__all__ = ["Backtest", "backtest"]

_OUTCOMES = ("mql", "accepted", "rejected", "won")


@dataclass(frozen=True)
class Backtest:
    """What a candidate Playbook would have decided on stored leads.

    Attributes:
        leads: One row per lead: lead_id, the candidate's stage and total,
            ``candidate_mql`` (its stage is MQL, hand-raisers fast-tracked
            included), and what happened: mql, accepted, rejected, won.
        playbook: The candidate's version label.
    """

    leads: pd.DataFrame
    playbook: str

    def summary(self) -> pd.DataFrame:
        """MQL volume, acceptance and wins, as happened and by the candidate.

        Rows: ``mqls`` (leads handed to sales), ``accepted`` and
        ``rejected`` (of those, how many sales accepted or rejected; for the
        candidate, among its MQLs that sales saw), ``acceptance_rate``
        (accepted / decided), ``wins`` (won leads among the MQLs),
        ``wins_missed`` (won leads that were not MQLs), ``unseen`` (MQLs
        sales never saw, whose outcome is unknown). Columns: ``actual``,
        ``candidate``.
        """
        t = self.leads
        rows = {}
        for name, handed in (("actual", t["mql"]), ("candidate", t["candidate_mql"])):
            seen = handed & t["mql"]
            accepted = int((seen & t["accepted"]).sum())
            rejected = int((seen & t["rejected"]).sum())
            decided = accepted + rejected
            rows[name] = {
                "mqls": int(handed.sum()),
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


def backtest(candidate: PlaybookLike, history: LeadData, *, now: Now,
             threads: int | None = None) -> Backtest:
    """Replays stored leads with a candidate Playbook and compares its
    decisions with what happened.

    The leads are scored as of ``now`` with their events up to then (one
    time for all: a lead's state when it arrived is not replayed), without
    routing; ``history`` is what :meth:`smarketing.client.Client.history`
    returns, or any ``LeadData`` whose outcomes have lead_id, mql, accepted,
    rejected and won.

    Raises:
        ValueError: the outcomes lack a column, or do not match the leads
            one for one.
    """
    if not isinstance(history, LeadData) or history.outcomes is None:
        raise ValueError("history must be LeadData with outcomes (Client.history returns it)")
    outcomes = history.outcomes
    missing = [c for c in ("lead_id", *_OUTCOMES) if c not in outcomes.columns]
    if missing:
        raise ValueError(f"the outcomes lack the columns {', '.join(missing)}; "
                         "Client.history gives lead_id, mql, accepted, rejected and won")
    pb = as_playbook(candidate)
    scores = score_frame(pb, history.leads, history.events, now=now, explain="none", route=False,
                         threads=threads)
    if outcomes["lead_id"].duplicated().any():
        raise ValueError(f"the outcomes list lead {outcomes['lead_id'][outcomes['lead_id'].duplicated()].iloc[0]!r} "
                         "more than once")
    known = outcomes.set_index("lead_id")
    absent = pd.Index(scores["lead_id"]).difference(known.index)
    extra = known.index.difference(pd.Index(scores["lead_id"]))
    if len(absent) or len(extra):
        what = f"lead {absent[0]!r} has no outcome" if len(absent) else f"outcome for unknown lead {extra[0]!r}"
        raise ValueError(f"the outcomes do not match the leads one for one ({what})")
    matched = known.reindex(scores["lead_id"])
    handed = scores["stage"] == "mql"
    table = pd.DataFrame({
        "lead_id": scores["lead_id"].to_numpy(),
        "stage": scores["stage"].to_numpy(),
        "total": scores["total"].to_numpy(),
        "candidate_mql": handed.to_numpy(dtype=bool),
        **{c: matched[c].to_numpy(dtype=bool) for c in _OUTCOMES},
    }, index=scores.index)
    return Backtest(table, pb.version_label)
