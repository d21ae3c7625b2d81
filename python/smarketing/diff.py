"""The impact of a Playbook change on the same leads: who changes grade, stage or team."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pandas as pd

from ._tables import Now
from .scoring import PlaybookLike, as_playbook, score_frame
from .tuning import playbook_diff

__all__ = ["PlaybookDiff", "diff"]

_COMPARED = ("grade", "stage", "team")


@dataclass(frozen=True)
class PlaybookDiff:
    """Two Playbooks scored on the same leads.

    Attributes:
        old, new: The two score tables (:func:`smarketing.score_frame`).
        changed: One row per lead whose grade, stage or team changed:
            lead_id, then old and new grade, stage, (team,) total, and which
            changed (``grade_changed``...).
        counts: How many leads changed grade, stage (and team), of how many.
        grade_transitions, stage_transitions: Counts of leads from each old
            value (rows) to each new one (columns).
        text: The unified YAML diff of the two Playbooks.
    """

    old: pd.DataFrame
    new: pd.DataFrame
    changed: pd.DataFrame
    counts: pd.Series
    grade_transitions: pd.DataFrame
    stage_transitions: pd.DataFrame
    text: str

    def summary(self) -> str:
        """One line per compared field: how many leads changed."""
        total = int(self.counts["leads"])
        lines = [f"{total} leads scored by both Playbooks"]
        for field in _COMPARED:
            key = f"{field}_changed"
            if key in self.counts:
                n = int(self.counts[key])
                lines.append(f"{field}: {n} changed ({n / total:.1%})")
        return "\n".join(lines)


def diff(old: PlaybookLike, new: PlaybookLike, leads: pd.DataFrame,
         events: Optional[pd.DataFrame] = None, *, now: Now, threads: Optional[int] = None) -> PlaybookDiff:
    """Scores the same leads with two Playbooks and lists what changes.

    Team is compared when the score tables have a team column (Playbooks
    that route).
    """
    old_pb, new_pb = as_playbook(old).validate(), as_playbook(new).validate()
    a = score_frame(old_pb, leads, events, now=now, explain="none", threads=threads)
    b = score_frame(new_pb, leads, events, now=now, explain="none", threads=threads)
    fields = [f for f in _COMPARED if f in a.columns and f in b.columns]
    table = pd.DataFrame({"lead_id": a["lead_id"].to_numpy()}, index=a.index)
    any_change = pd.Series(False, index=a.index)
    counts = {"leads": len(a)}
    for field in fields:
        before = a[field].astype(object)
        after = b[field].astype(object)
        changed = ~((before == after) | (before.isna() & after.isna()))
        table[f"old_{field}"] = before
        table[f"new_{field}"] = after
        table[f"{field}_changed"] = changed
        counts[f"{field}_changed"] = int(changed.sum())
        any_change |= changed
    table["old_total"] = a["total"]
    table["new_total"] = b["total"]
    return PlaybookDiff(
        old=a, new=b, changed=table[any_change],
        counts=pd.Series(counts),
        grade_transitions=pd.crosstab(a["grade"].rename("old_grade"), b["grade"].rename("new_grade"),
                                      dropna=False),
        stage_transitions=pd.crosstab(a["stage"].rename("old_stage"), b["stage"].rename("new_stage"),
                                      dropna=False),
        text=playbook_diff(old_pb, new_pb),
    )
