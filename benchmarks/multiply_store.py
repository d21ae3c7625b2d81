"""Multiplies the leads of a store written by smarketing-demo-history, so
that review_benchmark.py can time a review over a million leads without
filling one through LeadDesk (about 44 minutes per 250,000 leads on a
loaded 2-core machine).

Copies every lead COPIES - 1 times under a new id (``ID~K``), with its
events, feedback, SLA due time and review facts, the ids inside the stored
messages rewritten too: the copies are the same history, arriving at the
same times, as a store of COPIES times the leads would hold if the same
arrivals had come COPIES times. Run it on a store no server has open.

    python benchmarks/multiply_store.py --store q.db --copies 4
"""

from __future__ import annotations

import argparse
import sqlite3
import time

from smarketing.v1 import lead_pb2, lifecycle_pb2, review_pb2, score_result_pb2

# Rows read and written at a time.
BATCH = 5000


def rewrite_leads(db: sqlite3.Connection, suffix: str) -> int:
    """Copies the original leads (ids without "~") under id + suffix."""
    copied = 0
    last = ""
    columns = (
        "revision, stage, team_id, owner_id, created_at_us, updated_at_us, lead, lifecycle, score, "
        "event_count, sla_state, sla_valid_until_us, sla_playbook, account"
    )
    while True:
        rows = db.execute(
            f"SELECT id, {columns} FROM leads WHERE id > ? AND instr(id, '~') = 0 ORDER BY id LIMIT ?", (last, BATCH)
        ).fetchall()
        if not rows:
            return copied
        out = []
        for row in rows:
            new_id = row[0] + suffix
            lead = lead_pb2.Lead.FromString(row[7])
            lead.id = new_id
            score = score_result_pb2.ScoreResult.FromString(row[9])
            score.lead_id = new_id
            out.append((new_id, *row[1:7], lead.SerializeToString(), row[8], score.SerializeToString(), *row[10:]))
        db.executemany(f"INSERT INTO leads(id, {columns}) VALUES ({', '.join('?' * 15)})", out)
        copied += len(out)
        last = rows[-1][0]


def rewrite_facts(db: sqlite3.Connection, suffix: str) -> None:
    last = ""
    while True:
        rows = db.execute(
            "SELECT lead_id, needed_until_us, facts FROM review_facts WHERE lead_id > ? "
            "AND instr(lead_id, '~') = 0 ORDER BY lead_id LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            return
        out = []
        for lead_id, needed_until, blob in rows:
            facts = review_pb2.LeadReviewFacts.FromString(blob)
            facts.lead.id = lead_id + suffix
            for feedback in facts.feedback:
                feedback.lead_id = lead_id + suffix
            out.append((lead_id + suffix, needed_until, facts.SerializeToString()))
        db.executemany("INSERT INTO review_facts(lead_id, needed_until_us, facts) VALUES (?, ?, ?)", out)
        last = rows[-1][0]


def rewrite_feedback(db: sqlite3.Connection, suffix: str) -> None:
    rows = db.execute("SELECT lead_id, at_us, body FROM feedback WHERE instr(lead_id, '~') = 0 ORDER BY rowid").fetchall()
    out = []
    for lead_id, at, body in rows:
        feedback = lifecycle_pb2.Feedback.FromString(body)
        feedback.lead_id = lead_id + suffix
        out.append((lead_id + suffix, at, feedback.SerializeToString()))
    db.executemany("INSERT INTO feedback(lead_id, at_us, body) VALUES (?, ?, ?)", out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--copies", type=int, default=4, help="leads afterwards: COPIES times the original ones")
    args = parser.parse_args()
    db = sqlite3.connect(args.store, isolation_level=None)
    # A scratch copy for a benchmark: no power loss to survive, but each
    # copy is committed whole, so that an interrupted run leaves a store.
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-500000")
    start = time.perf_counter()
    for k in range(1, args.copies):
        suffix = f"~{k}"
        db.execute("BEGIN")
        copied = rewrite_leads(db, suffix)
        rewrite_facts(db, suffix)
        rewrite_feedback(db, suffix)
        # Event bodies and SLA due times hold no lead id.
        db.execute(
            "INSERT INTO events(lead_id, event_id, body) SELECT lead_id || ?, event_id, body FROM events "
            "WHERE instr(lead_id, '~') = 0",
            (suffix,),
        )
        db.execute(
            "INSERT INTO sla_due(lead_id, due_us) SELECT lead_id || ?, due_us FROM sla_due WHERE instr(lead_id, '~') = 0", (suffix,)
        )
        db.execute("COMMIT")
        print(f"copy {k}: {copied} leads, {time.perf_counter() - start:.0f} s", flush=True)
    db.execute("PRAGMA journal_mode=WAL")
    total = db.execute("SELECT count(*) FROM leads").fetchone()[0]
    print(f"store: {total} leads in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
