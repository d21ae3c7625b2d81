"""Arrow tables in score_frame, and Spark DataFrames scored on executors
(PySpark in local mode, a real JVM): both give score_frame's results."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import smarketing as sm
from smarketing.spark import RESULT_COLUMNS, score_spark

from conftest import NOW

COLUMNS = [name for name, _ in RESULT_COLUMNS]


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[COLUMNS].copy()
    for name, kind in RESULT_COLUMNS:
        if kind == "string":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out.sort_values("lead_id").reset_index(drop=True)


def test_arrow_tables_score_as_dataframes(demo, sample):
    expected = sm.score_frame(demo, sample.leads, sample.events, now=NOW, explain="none", route=False)
    leads = pa.Table.from_pandas(sample.leads, preserve_index=False)
    events = pa.Table.from_pandas(sample.events, preserve_index=False)
    got = sm.score_frame(demo, leads, events, now=NOW, explain="none", route=False)
    pd.testing.assert_frame_equal(_comparable(got), _comparable(expected))
    assert list(got.index) == list(range(len(sample.leads)))


def test_arrow_columns_with_missing_values_and_dictionaries(demo):
    leads = pa.table({
        "id": ["a", "b", "c"],
        "industry": pa.array(["software", None, "retail"]).dictionary_encode(),
        "employee_count": pa.array([250, None, 12], type=pa.int32()),
        "seniority": ["vp", None, "director"],
        "opted_out": [False, False, True],
    })
    frame = leads.to_pandas()
    expected = sm.score_frame(demo, frame, now=NOW, explain="none", route=False)
    got = sm.score_frame(demo, leads, now=NOW, explain="none", route=False)
    pd.testing.assert_frame_equal(_comparable(got), _comparable(expected))


def test_arrow_column_of_an_unsupported_type_is_named(demo):
    leads = pa.table({"id": ["a"], "employee_count": pa.array([[1, 2]])})
    with pytest.raises(sm.ColumnError, match="leads.employee_count: unsupported Arrow type"):
        sm.score_frame(demo, leads, now=NOW)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark binds to loopback only, whatever the host name resolves to.
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (SparkSession.builder.master("local[2]").appName("smarketing-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2500")
               .getOrCreate())
    yield session
    session.stop()


def test_spark_gives_score_frames_results(demo, spark):
    data = sm.sample_leads(10_000, seed=19, now=NOW)
    expected = sm.score_frame(demo, data.leads, data.events, now=NOW, explain="none", route=False)
    leads = spark.createDataFrame(data.leads).repartition(3)
    events = spark.createDataFrame(data.events)
    got = score_spark(demo, leads, events, now=NOW).toPandas()
    assert len(got) == 10_000
    assert got["stage"].value_counts().to_dict() == expected["stage"].astype(object).value_counts().to_dict()
    pd.testing.assert_frame_equal(_comparable(got), _comparable(expected), check_dtype=False)
    assert np.isin(["mql", "nurture"], got["stage"]).all()


def test_spark_leads_without_events(demo, spark):
    data = sm.sample_leads(200, seed=3, now=NOW)
    expected = sm.score_frame(demo, data.leads, now=NOW, explain="none", route=False)
    got = score_spark(demo, spark.createDataFrame(data.leads), now=NOW).toPandas()
    pd.testing.assert_frame_equal(_comparable(got), _comparable(expected), check_dtype=False)


def test_spark_refused_lead_fails_the_job_with_the_reason(demo, spark):
    leads = spark.createDataFrame(pd.DataFrame({"id": ["ok", "bad"], "seniority": ["vp", "emperor"]}))
    with pytest.raises(Exception, match="seniority"):
        score_spark(demo, leads, now=NOW).collect()
