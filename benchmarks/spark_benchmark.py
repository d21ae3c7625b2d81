"""Scores the same leads with score_frame and with smarketing.spark (PySpark
in local mode on every core), and prints both times and their ratio: what
Spark adds around the core (moving rows to Arrow batches, gathering each
lead's events next to it, the executors' Python workers).

    pip install '.[spark]' && python benchmarks/spark_benchmark.py [--leads 1000000]

The leads and events are generated once, written to Parquet, and read back
by Spark as a warehouse table would be; reading them and the events' group
by lead are part of Spark's time, since a warehouse job does the same.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import smarketing as sm
from smarketing.spark import score_spark

NOW = "2026-11-23T09:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--playbook", default=os.path.join(os.path.dirname(__file__), "..",
                                                           "examples", "playbooks", "demo.yaml"))
    args = parser.parse_args()
    playbook = sm.Playbook.load(args.playbook).validate()
    data = sm.sample_leads(args.leads, seed=7, now=NOW)

    start = time.perf_counter()
    expected = sm.score_frame(playbook, data.leads, data.events, now=NOW, explain="none", route=False)
    frame_seconds = time.perf_counter() - start

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    cores = os.cpu_count() or 1
    spark = (SparkSession.builder.master(f"local[{cores}]").appName("smarketing-benchmark")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "8g")
             .config("spark.sql.shuffle.partitions", str(4 * cores)).getOrCreate())
    with tempfile.TemporaryDirectory() as folder:
        # Spark reads timestamps in microseconds, as warehouses store them.
        for name, frame in (("leads", data.leads), ("events", data.events)):
            frame.to_parquet(f"{folder}/{name}.parquet", coerce_timestamps="us",
                             allow_truncated_timestamps=True)
        leads = spark.read.parquet(f"{folder}/leads.parquet")
        events = spark.read.parquet(f"{folder}/events.parquet")
        start = time.perf_counter()
        counts = (score_spark(playbook, leads, events, now=NOW)
                  .groupBy("stage").count().toPandas().set_index("stage")["count"].to_dict())
        spark_seconds = time.perf_counter() - start
    spark.stop()
    assert counts == expected["stage"].astype(object).value_counts().to_dict(), "Spark and score_frame disagree"
    print(f"leads: {args.leads:,} with {len(data.events):,} events, {cores} cores")
    print(f"score_frame:        {frame_seconds:8.2f} s  ({args.leads / frame_seconds:,.0f} leads/s)")
    print(f"smarketing.spark:   {spark_seconds:8.2f} s  ({args.leads / spark_seconds:,.0f} leads/s)")
    print(f"overhead ratio (spark / score_frame): {spark_seconds / frame_seconds:.1f}x")


if __name__ == "__main__":
    main()
