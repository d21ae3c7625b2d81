"""Leads as DataFrames: synthetic leads with outcomes, lead files, and messages."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from . import _native
from ._tables import Now, frame_from_native, leads_specs, to_nanos
from .errors import InputError
from .v1 import lead_pb2

__all__ = ["LeadData", "sample_leads", "read_leads", "leads_frame", "lead_at", "lead_messages",
           "sample_outcomes"]


@dataclass
class LeadData:
    """Leads, their events, and (for synthetic leads) what became of them.

    Attributes:
        leads: One row per lead (the columns :func:`smarketing.score_frame` reads).
        events: One row per event, ``lead_id`` linking it to its lead.
        outcomes: For synthetic leads: lead_id, converted, won, revenue;
            None for leads read from a file.
    """

    leads: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame | None = None


def _outcomes_frame(lead_ids: pd.Series, native: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": lead_ids.to_numpy(),
        "converted": native["converted"].astype(bool),
        "won": native["won"].astype(bool),
        "revenue": native["revenue"],
    })


def sample_leads(count: int, *, seed: int = 1, now: Now, mean_events: float = 20,
                 start: int = 0) -> LeadData:
    """Realistic synthetic B2B leads with events and outcomes, shaped for the demo Playbook.

    The same seed gives the same leads as ``smarketing sample-leads --seed``:
    lead ``i`` is ``lead-i``, and ``start`` skips the first leads so that
    large sets can be made in parts. Events fall in the 120 days before
    ``now``. Outcomes (converted, won, revenue) are more likely with a good
    fit and strong recent intent, with noise: historical data to evaluate
    and tune a Playbook against.
    """
    if not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a non-negative integer, found {count!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, found {seed!r}")
    leads, events, outcomes = _native.sample_leads(int(count), int(seed), to_nanos(now),
                                                   float(mean_events), int(start))
    lead_frame = frame_from_native(leads)
    return LeadData(lead_frame, frame_from_native(events),
                    _outcomes_frame(lead_frame["id"], outcomes))


def sample_outcomes(leads: pd.DataFrame, events: pd.DataFrame | None = None, *, seed: int = 1,
                    now: Now, mean_events: float = 20) -> pd.DataFrame:
    """Outcomes of synthetic leads as they are now, perhaps altered since :func:`sample_leads`.

    Lead ``lead-i`` is read as the generator's lead ``i``; the outcome follows
    the lead's fields and events, so a notebook can see outcomes move when
    it changes them.
    """
    ids = leads["id"].astype(str)
    index = pd.to_numeric(ids.str.removeprefix("lead-"), errors="coerce")
    if index.isna().any():
        bad = ids[index.isna()].iloc[0]
        raise InputError(f"lead id {bad!r} is not a synthetic lead id (lead-<number>)")
    lead_specs, event_specs = leads_specs(leads, events)
    native = _native.outcomes(lead_specs, event_specs, int(seed), to_nanos(now),
                              float(mean_events), index.to_numpy(dtype=np.int64))
    return _outcomes_frame(leads["id"], native)


def read_leads(path: str | os.PathLike, format: Literal["", "jsonl", "csv"] = "") -> LeadData:
    """Reads a lead file: JSON lines in the protobuf JSON mapping, or CSV.

    The format comes from the extension (``.csv``, otherwise JSON lines)
    unless given. The columns are those of ``smarketing score``'s CSV.

    Raises:
        LeadError: a record is malformed; the message names file, line and field.
        InputError: the file cannot be opened.
    """
    if format not in ("", "jsonl", "csv"):
        raise ValueError(f"format must be '', 'jsonl' or 'csv', found {format!r}")
    leads, events = _native.read_leads(os.fspath(path), format)
    return LeadData(frame_from_native(leads), frame_from_native(events))


def leads_frame(leads: Iterable[lead_pb2.Lead]) -> LeadData:
    """``smarketing.v1.Lead`` messages as DataFrames."""
    data = []
    for lead in leads:
        if not isinstance(lead, lead_pb2.Lead):
            raise TypeError(f"expected smarketing.v1.Lead messages, found {type(lead).__name__}")
        data.append(lead.SerializeToString())
    lead_columns, event_columns = _native.leads_to_columns(data)
    return LeadData(frame_from_native(lead_columns), frame_from_native(event_columns))


def lead_at(leads: pd.DataFrame, events: pd.DataFrame | None, row: int) -> lead_pb2.Lead:
    """The ``smarketing.v1.Lead`` the core builds from row ``row`` (0-based position) of ``leads``."""
    lead_specs, event_specs = leads_specs(leads, events)
    data = _native.table_leads(lead_specs, event_specs, int(row), int(row) + 1)
    return lead_pb2.Lead.FromString(data[0])


def lead_messages(leads: pd.DataFrame, events: pd.DataFrame | None = None) -> list[lead_pb2.Lead]:
    """Every lead of the tables as the ``smarketing.v1.Lead`` the core builds, in row order."""
    lead_specs, event_specs = leads_specs(leads, events)
    return [lead_pb2.Lead.FromString(data)
            for data in _native.table_leads(lead_specs, event_specs, 0, len(leads))]
