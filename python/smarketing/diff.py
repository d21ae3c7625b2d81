"""The impact of a Playbook change on the same leads: who changes grade, stage or team.

The counting is the core's, the one ``smarketing diff --leads`` prints: both
Playbooks score every lead at ``now``, and a lead that qualifies is routed as
a new lead arriving alone (no routing memory), so its team depends on that
lead only.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from ._tables import Now, leads_specs, to_nanos
from .playbook import Playbook
from .scoring import PlaybookLike, _threads, as_playbook, score_frame
from .tuning import playbook_diff

__all__ = ["PlaybookDiff", "diff"]

_COMPARED = ("grade", "stage", "team")


class PlaybookDiff:
    """Two Playbooks compared on the same leads.

    Attributes:
        changed: One row per lead whose grade, stage or team changed, indexed
            like the leads: lead_id, then old and new grade, stage, (team,)
            total, and which changed (``grade_changed``...). A lead without
            a grade or team has None there.
        counts: How many leads changed grade, stage (and team), of how many.
        grade_transitions, stage_transitions, team_transitions: Counts of
            leads from each old value (rows) to each new one (columns); "-"
            stands for no grade and not routed. team_transitions is None when
            neither Playbook routes.
        text: The unified YAML diff of the two Playbooks.
        old, new: The two score tables (:func:`smarketing.score_frame`),
            computed when first read.
    """

    def __init__(self, old: Playbook, new: Playbook, leads: pd.DataFrame,
                 events: pd.DataFrame | None, now: Now, threads: int | None) -> None:
        lead_specs, event_specs = leads_specs(leads, events)
        native = old._compile().impact(new._compile(), lead_specs, event_specs, to_nanos(now),
                                       _threads(threads))
        self._inputs = (old, new, leads, events, now, threads)
        self.grade_transitions = _matrix(native["grades"], "grade")
        self.stage_transitions = _matrix(native["stages"], "stage")
        self.team_transitions = _matrix(native["teams"], "team") if "teams" in native else None
        fields = [f for f in _COMPARED if getattr(self, f"{f}_transitions") is not None]
        leads_id = leads["id"].to_numpy()
        rows = native["row"]
        table = pd.DataFrame({"lead_id": leads_id[rows]}, index=leads.index[rows])
        counts = {"leads": int(native["leads"])}
        for field in fields:
            before = pd.Series(native[f"{field}_before"], index=table.index, dtype=object)
            after = pd.Series(native[f"{field}_after"], index=table.index, dtype=object)
            if field != "stage":
                before, after = before.replace("-", None), after.replace("-", None)
            table[f"old_{field}"] = before
            table[f"new_{field}"] = after
            table[f"{field}_changed"] = ~((before == after) | (before.isna() & after.isna()))
            matrix = getattr(self, f"{field}_transitions").to_numpy()
            counts[f"{field}_changed"] = int(matrix.sum() - matrix.trace())
        table["old_total"] = native["total_before"]
        table["new_total"] = native["total_after"]
        self.changed = table
        self.counts = pd.Series(counts)
        self.text = playbook_diff(old, new)

    @cached_property
    def old(self) -> pd.DataFrame:
        old, _, leads, events, now, threads = self._inputs
        return score_frame(old, leads, events, now=now, explain="none", threads=threads)

    @cached_property
    def new(self) -> pd.DataFrame:
        _, new, leads, events, now, threads = self._inputs
        return score_frame(new, leads, events, now=now, explain="none", threads=threads)

    def summary(self) -> str:
        """One line per compared field: how many leads changed."""
        total = int(self.counts["leads"])
        lines = [f"{total} leads scored by both Playbooks"]
        for field in _COMPARED:
            key = f"{field}_changed"
            if key in self.counts:
                n = int(self.counts[key])
                lines.append(f"{field}: {n} changed ({n / total:.1%})" if total else f"{field}: 0 changed")
        return "\n".join(lines)


def _matrix(native: tuple[list[str], list[list[int]]], field: str) -> pd.DataFrame:
    labels, counts = native
    return pd.DataFrame(counts, index=pd.Index(labels, name=f"old_{field}"),
                        columns=pd.Index(labels, name=f"new_{field}"))


def diff(old: PlaybookLike, new: PlaybookLike, leads: pd.DataFrame,
         events: pd.DataFrame | None = None, *, now: Now, threads: int | None = None) -> PlaybookDiff:
    """Scores the same leads with two Playbooks and lists what changes.

    The counts are those of ``smarketing diff --leads`` on the same leads.
    Team is compared when either Playbook routes.
    """
    return PlaybookDiff(as_playbook(old).validate(), as_playbook(new).validate(), leads, events,
                        now, threads)
