"""Scoring a Spark DataFrame of leads with the same core as score_frame.

A warehouse of tens of millions of leads is scored where it lives: the
Playbook travels to the executors as bytes, each executor scores its
partitions batch by batch through Arrow (``mapInArrow``) with the C++ core,
and the results are those of :func:`smarketing.score_frame` on the same rows.

Needs the ``spark`` extra (``pip install 'smarketing[spark]'``): PySpark 4
and pyarrow, and Java 17 or later on the machine.

>>> import smarketing as sm
>>> from smarketing.spark import score_spark
>>> scores = score_spark(sm.Playbook.load("demo.yaml"), leads_df, events_df,
...                      now="2026-11-23T09:00:00Z")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ._tables import Now, to_nanos
from .playbook import Playbook
from .scoring import PlaybookLike, as_playbook

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = ["RESULT_COLUMNS", "score_spark"]

# The columns of score_spark's result, with their Spark SQL types: those of
# score_frame(explain="none", route=False), text instead of categories.
RESULT_COLUMNS: list[tuple[str, str]] = [
    ("lead_id", "string"),
    ("fit", "double"),
    ("grade", "string"),
    ("persona", "string"),
    ("engagement", "double"),
    ("total", "double"),
    ("stage", "string"),
    ("priority", "string"),
    ("hand_raiser", "boolean"),
    ("disqualification_reason", "string"),
    ("events_counted", "int"),
    ("duplicate_events", "int"),
]

_EVENTS = "__smarketing_events"


def score_spark(playbook: PlaybookLike, leads: DataFrame, events: DataFrame | None = None,
                *, now: Now) -> DataFrame:
    """Scores every lead of a Spark DataFrame, on the executors.

    Args:
        playbook: The Playbook, or a path to one (read on the driver).
        leads: One row per lead, with the columns score_frame reads (``id``
            required).
        events: One row per event with ``lead_id`` and the columns
            score_frame reads; each lead's events are gathered next to it
            before scoring.
        now: The time to score at, the same on every executor.

    Returns:
        A lazy DataFrame with one row per lead and RESULT_COLUMNS. Leads are
        not routed: routing assigns owners in turn, which needs one ordered
        pass, not independent partitions.

    Raises:
        PlaybookError: on the driver, when the Playbook is invalid.
        ColumnError, LeadError: on an executor (surfacing as a Spark job
            failure that carries the message), when a column or lead is
            refused.
    """
    from pyspark.sql import functions as F

    pb = as_playbook(playbook).validate()
    playbook_bytes = pb.message.SerializeToString()
    now_nanos = to_nanos(now)
    if events is not None:
        fields = [c for c in events.columns if c != "lead_id"]
        if "lead_id" not in events.columns:
            from ._tables import column_error
            raise column_error("events", "lead_id", "the lead_id column is required")
        gathered = events.groupBy(F.col("lead_id").alias("__lead_id")).agg(
            # Back-quoted: "properties.url" is a column's name, not a field of one.
            F.collect_list(F.struct(*[F.col(f"`{name}`") for name in fields])).alias(_EVENTS))
        columns = [leads[f"`{name}`"] for name in leads.columns]
        leads = leads.join(gathered, leads["id"] == gathered["__lead_id"], "left").select(
            *columns, gathered[_EVENTS])
    schema = ", ".join(f"{name} {kind}" for name, kind in RESULT_COLUMNS)
    # mapInArrow reads its input by column name unquoted, which a dotted name
    # ("attributes.plan") breaks: the columns cross as c0, c1... and take
    # their names back on the executor.
    names = list(leads.columns)
    positional = leads.select(*[leads[f"`{name}`"].alias(f"c{i}") for i, name in enumerate(names)])

    def score_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        compiled = Playbook.from_string(playbook_bytes, "binary")
        for batch in batches:
            if batch.num_rows == 0:
                continue
            yield _score_batch(compiled, batch.rename_columns(names), now_nanos)

    return positional.mapInArrow(score_batches, schema)


def _score_batch(playbook: Playbook, batch: pa.RecordBatch, now_nanos: int) -> pa.RecordBatch:
    """One Arrow batch of leads (with their events gathered in a list
    column) scored into one batch of results."""
    import pyarrow as pa

    from .scoring import score_frame

    events = None
    if _EVENTS in batch.schema.names:
        nested = batch.column(batch.schema.get_field_index(_EVENTS))
        rows = pa.compute.list_parent_indices(nested)
        flat = nested.flatten()
        ids = batch.column(batch.schema.get_field_index("id")).take(rows)
        events = pa.Table.from_arrays([ids, *flat.flatten()],
                                      names=["lead_id", *[f.name for f in flat.type]])
        batch = batch.drop_columns([_EVENTS])
    scores = score_frame(playbook, batch, events, now=now_nanos, explain="none", route=False,
                         threads=1)
    arrow_types = {"string": pa.string(), "double": pa.float64(), "boolean": pa.bool_(),
                   "int": pa.int32()}
    columns = []
    for name, kind in RESULT_COLUMNS:
        values = scores[name]
        if kind == "string":
            values = values.astype(object).where(values.notna(), None)
        columns.append(pa.array(values.to_numpy(), type=arrow_types[kind]))
    return pa.RecordBatch.from_arrays(columns, names=[name for name, _ in RESULT_COLUMNS])
