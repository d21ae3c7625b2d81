"""Lead data checked against the Playbook that will score it, before its
scores silently mislead. The checks are the core's (``smarketing
check-data`` runs the same ones on files)."""

from __future__ import annotations

import warnings

import pandas as pd

from ._tables import Frame, leads_specs
from .errors import DataWarning
from .scoring import PlaybookLike, as_playbook

__all__ = ["check_data", "DATA_PROBLEM_KINDS"]

DATA_PROBLEM_KINDS: tuple[str, ...] = (
    "unknown_column", "unreachable_key", "number_as_text", "bool_as_text", "type_mismatch",
    "mixed_types", "no_values", "rule_never_fires", "unseen_value", "unread_column",
)
"""Every kind of problem, in the order they are reported."""

_COLUMNS = ["kind", "severity", "column", "rule", "rows", "example", "message"]

# Problems score_frame warns about: those that change scores without a word
# and can be told from a sample. Unknown columns already raise ColumnError;
# rule counts and unseen values need every lead.
_WARNED = ("unreachable_key", "number_as_text", "bool_as_text", "type_mismatch", "mixed_types")

# score_frame checks at most this many leads, spread over the table: enough
# to find a column of the wrong type, cheap next to scoring a large table.
_SAMPLED_LEADS = 10_000


def _problems(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    frame["kind"] = pd.Categorical(frame["kind"], categories=list(DATA_PROBLEM_KINDS))
    frame["severity"] = pd.Categorical(frame["severity"], categories=["warning", "note"])
    frame["rows"] = frame["rows"].astype("int64")
    return frame


def check_data(playbook: PlaybookLike, leads: Frame, events: Frame | None = None) -> pd.DataFrame:
    """Checks leads and events against every condition of the Playbook.

    Reports, one row each: unknown columns (all of them, where scoring
    stops at an error), attribute or property keys holding dots (a path
    such as ``attributes.emp.var.rate`` reads nested keys, so no condition
    reaches them), numbers written as text where a range or a number is
    compared, ``True``/``False`` written as text where a boolean is
    compared, text compared with numbers (``equals: "30"`` on numbers),
    types changing between rows, fields no lead has, rules and persona
    criteria that match no lead; and as notes, compared values never found
    in the data and columns no condition reads.

    Args:
        playbook: The Playbook, or a path to one.
        leads: The leads, as :func:`score_frame` reads them.
        events: Their events, optional.

    Returns:
        One row per problem: kind (see ``DATA_PROBLEM_KINDS``), severity
        (``"warning"``: scores are silently wrong; ``"note"``: worth a look),
        column (``"leads.attributes.age"``), rule (the Playbook path of the
        condition, ``"fit_rules[3].when.range"``, or ""), rows (how many
        leads or events show it), example (one offending value) and message
        (what is wrong and how to fix it). Empty when nothing was found.

    Raises:
        ColumnError: a column cannot be read at all (a wrong dtype, no id).
        PlaybookError: the Playbook is not valid.
    """
    pb = as_playbook(playbook)
    lead_specs, event_specs = leads_specs(leads, events)
    return _problems(pb._compile().check_table(lead_specs, event_specs, 0))


def warn_sampled_problems(found: list[tuple], stacklevel: int = 3) -> None:
    """Warns (DataWarning) once per column for the problems that change
    scores silently, among those the core found in a sample of the leads
    (``score_table``'s or ``replay_table``'s ``check_sample``)."""
    warned: set[str] = set()
    for kind, _, column, rule, _, _, message in found:
        if kind not in _WARNED or column in warned:
            continue
        warned.add(column)
        where = f" ({rule})" if rule else ""
        warnings.warn(DataWarning(f"{column}{where}: {message}; smarketing.check_data lists every "
                                  "problem", kind, column, rule), stacklevel=stacklevel)
