from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

import smarketing as sm
from smarketing import _native
from smarketing.v1 import score_result_pb2

from conftest import NOW

LEAD = {
    "id": "l-1",
    "contact": {"email": "ana@acme.io", "phone": "+33 1 23 45 67 89"},
    "job_title": "VP Marketing",
    "department": "marketing",
    "seniority": "vp",
    "company": {"name": "Acme", "domain": "acme.io", "industry": "saas", "employee_count": 300,
                "country": "FR", "region": "EMEA"},
    "events": [
        {"id": "e1", "type": "page_view", "occurred_at": dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
         "properties": {"url": "/pricing"}},
        {"id": "e1", "type": "page_view", "occurred_at": "2026-11-20T00:00:00Z",
         "properties": {"url": "/pricing"}},
        {"id": "e2", "type": "demo_request", "occurred_at": "2026-11-22T10:00:00Z"},
    ],
}


def small(sample, n=200):
    leads = sample.leads.iloc[:n]
    return leads, sample.events[sample.events["lead_id"].isin(leads["id"])]


def test_score_one_lead_from_a_dict_a_message_and_bytes(demo):
    result = sm.score(demo, LEAD, NOW)
    assert isinstance(result, score_result_pb2.ScoreResult)
    assert result.lead_id == "l-1"
    assert result.duplicate_events == 1 and result.events_counted == 2
    assert result.playbook_version == demo.version_label
    assert all(hit.sentence for hit in result.explanation)
    message = sm.scoring.to_lead(LEAD)
    assert sm.score(demo, message, NOW) == result
    assert sm.score(demo, message.SerializeToString(), NOW) == result


def test_score_one_lead_errors(demo):
    with pytest.raises(sm.LeadError):
        sm.score(demo, b"\x08\x96\x01\xff", NOW)
    with pytest.raises(sm.SmarketingError) as caught:
        sm.score(demo, {"id": "x", "seniority": "emperor"}, NOW)
    assert any("seniority" in p.path for p in caught.value.problems)
    with pytest.raises(sm.LeadError) as caught:
        sm.score(demo, {"id": "x", "company": {"employee_count": -3}}, NOW)
    assert caught.value.path == "company.employee_count"
    with pytest.raises(TypeError):
        sm.score(demo, 42, NOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="now is required"):
        sm.score(demo, LEAD, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a time"):
        sm.score(demo, LEAD, "yesterday")


def test_a_dict_is_read_as_the_command_line_reads_json(demo):
    """What a dict built in Python (from a DataFrame row, say) holds and
    JSON cannot say: the core's reading still decides, naming the field."""
    def refusal(lead: dict) -> str:
        with pytest.raises(sm.LeadError) as caught:
            sm.score(demo, lead, NOW)
        return caught.value.path

    assert refusal({"id": "x", "attributes": {"seats": float("inf")}}) == "attributes.seats"
    assert refusal({"id": "x", "events": [{"id": "e", "type": "page_view", "occurred_at": NOW,
                                           "properties": {"v": [1.0, float("nan")]}}]}) == "events[0].properties.v[1]"
    assert refusal({"id": "x", "company": {"annual_revenue": float("nan")}}) == "company.annual_revenue"
    assert refusal({"id": "x", "company": {"employee_count": "many"}}) == "company.employee_count"
    assert refusal({"id": "x", "color": "red"}) == "color"
    assert refusal({"id": "x", "events": [{"id": "e", "type": "page_view", "occurred_at": "2026-11-20t10:00:00z"}]}) \
        == "events[0].occurred_at"
    # A DataFrame row gives 250.0 for a whole number; emoji are text like any other.
    result = sm.score(demo, {"id": "\U0001f680", "company": {"employee_count": np.float64(250.0)}}, NOW)
    assert result.lead_id == "\U0001f680" and result.fit_score > 0


def test_score_frame_agrees_with_scoring_each_lead(demo, sample, scores):
    leads, events = small(sample, 50)
    for row in range(len(leads)):
        one = sm.score(demo, sm.lead_at(leads, events, row), NOW)
        got = scores.iloc[row]
        assert got["lead_id"] == one.lead_id
        assert got["fit"] == one.fit_score and got["total"] == one.total_score
        assert got["engagement"] == one.engagement_score
        assert (got["grade"] if isinstance(got["grade"], str) else "") == one.grade
        assert (got["persona"] if isinstance(got["persona"], str) else "") == one.persona_id
        assert got["stage"] == sm.scoring.STAGES[one.recommended_stage]
        assert (got["priority"] if isinstance(got["priority"], str) else "") == sm.scoring.PRIORITIES[one.priority]
        assert got["hand_raiser"] == one.hand_raiser
        assert got["explanation"] == "\n".join(h.sentence for h in one.explanation)


def test_score_frame_shape_and_dtypes(sample, scores):
    assert list(scores.columns) == ["lead_id", "fit", "grade", "persona", "engagement", "total", "stage",
                                    "priority", "hand_raiser", "team", "owner", "disqualification_reason",
                                    "events_counted", "duplicate_events", "explanation"]
    assert scores.index.equals(sample.leads.index)
    assert scores["fit"].between(0, 100).all()
    assert np.allclose(scores["total"], scores["fit"] + scores["engagement"])
    assert isinstance(scores["grade"].dtype, pd.CategoricalDtype)
    assert set(scores["stage"].unique()) <= {"mql", "nurture", "disqualified"}
    assert scores["priority"].cat.ordered
    disqualified = scores["stage"] == "disqualified"
    assert scores.loc[disqualified, "disqualification_reason"].notna().all()
    assert scores.loc[~disqualified, "disqualification_reason"].isna().all()


def test_index_and_thread_count_do_not_change_results(demo, sample, scores):
    leads = sample.leads.set_index(sample.leads.index * 3 + 1)
    one = sm.score_frame(demo, leads, sample.events, now=NOW, threads=1, explain="none")
    assert one.index.equals(leads.index)
    pd.testing.assert_frame_equal(one.reset_index(drop=True),
                                  scores.drop(columns="explanation").reset_index(drop=True))


def test_long_explanation_adds_up(demo, sample):
    leads, events = small(sample)
    wide = sm.score_frame(demo, leads, events, now=NOW, explain="none")
    long = sm.score_frame(demo, leads, events, now=NOW, explain="long")
    assert list(long.columns) == ["lead_id", "kind", "rule_id", "persona_id", "raw_points", "points",
                                  "event_count", "sentence"]
    fit_rows = long[long["kind"].isin(["persona_criterion", "fit"])]
    fit = fit_rows.groupby("lead_id")["points"].sum().reindex(wide["lead_id"], fill_value=0)
    unclamped = wide["fit"].between(0.001, 99.999).to_numpy()
    assert np.allclose(fit.to_numpy()[unclamped], wide["fit"].to_numpy()[unclamped])
    assert set(long["rule_id"]) <= set(demo.rules()["rule_id"])
    assert long["sentence"].str.len().gt(0).all()


def test_rule_matrix(demo, sample):
    leads, events = small(sample)
    matrix = sm.rule_matrix(demo, leads, events, now=NOW)
    assert isinstance(matrix.matrix, scipy.sparse.csr_matrix)
    assert matrix.matrix.shape == (len(leads), len(demo.rules()))
    wide = sm.score_frame(demo, leads, events, now=NOW, explain="none")
    kinds = matrix.rules["kind"].to_numpy()
    fit_part = np.asarray(matrix.matrix[:, np.isin(kinds, ["persona_criterion", "fit"])].sum(axis=1)).ravel()
    unclamped = wide["fit"].between(0.001, 99.999).to_numpy()
    assert np.allclose(fit_part[unclamped], wide["fit"].to_numpy()[unclamped])
    eng = np.asarray(matrix.matrix[:, kinds == "engagement"].sum(axis=1)).ravel()
    inside = (wide["engagement"] > 0) & (wide["engagement"] < demo.message.engagement.max_score)
    assert np.allclose(eng[inside.to_numpy()], wide["engagement"].to_numpy()[inside.to_numpy()])
    opted = kinds == "opt_out"
    assert set(np.unique(matrix.matrix[:, opted].toarray())) <= {0.0, 1.0}
    frame = matrix.to_frame()
    assert frame.shape == matrix.matrix.shape


def test_plain_dtypes_are_read_like_categories(demo, sample):
    leads, events = small(sample)
    plain_leads = leads.astype({c: object for c in leads.columns if isinstance(leads[c].dtype, pd.CategoricalDtype)})
    plain_events = events.astype({c: "string" for c in events.columns
                                  if isinstance(events[c].dtype, pd.CategoricalDtype)})
    a = sm.score_frame(demo, leads, events, now=NOW, explain="none")
    b = sm.score_frame(demo, plain_leads, plain_events, now=NOW, explain="none")
    pd.testing.assert_frame_equal(a, b)


def test_integer_ids_and_events_without_ids(demo):
    leads = pd.DataFrame({"id": [1, 2], "seniority": ["vp", None], "department": ["marketing", np.nan],
                          "opted_out": [False, True]})
    at = pd.Timestamp("2026-11-22T10:00:00Z")
    events = pd.DataFrame({"lead_id": ["1", "1", "2"], "type": ["page_view", "page_view", "email_open"],
                           "occurred_at": [at, at, at], "properties.url": ["/pricing", "/pricing", None]})
    scored = sm.score_frame(demo, leads, events, now=NOW, explain="none")
    assert scored["lead_id"].tolist() == [1, 2]
    assert scored["events_counted"].tolist() == [2, 1]  # without ids, rows are distinct events
    assert scored["duplicate_events"].tolist() == [0, 0]
    assert scored["stage"].iloc[1] == "disqualified"
    naive = events.assign(occurred_at=events["occurred_at"].dt.tz_localize(None))
    pd.testing.assert_frame_equal(scored, sm.score_frame(demo, leads, naive, now=pd.Timestamp(NOW).tz_localize(None),
                                                         explain="none"))
    assert sm.lead_at(leads, events, 0).events[0].id == "0"


def _column_error(demo, leads, events=None, *, column, match=None):
    with pytest.raises(sm.ColumnError, match=match) as caught:
        sm.score_frame(demo, leads, events, now=NOW)
    assert caught.value.column == column, caught.value
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, sm.LeadError)
    return caught.value


def test_column_errors_name_table_column_and_row(demo, sample):
    leads, events = small(sample, 20)
    _column_error(demo, leads.drop(columns="id"), events, column="id", match="required")
    _column_error(demo, leads.iloc[:0], events, column="id", match="empty")
    _column_error(demo, leads.assign(colour="red"), events, column="colour", match="unknown column")
    _column_error(demo, leads.assign(employee_count=leads["employee_count"].astype(str)), events,
                  column="employee_count", match="expected integer or floating point")
    _column_error(demo, leads.assign(employee_count=leads["employee_count"] + 0.5), events,
                  column="employee_count", match="whole number")
    _column_error(demo, leads.assign(annual_revenue=np.inf), events, column="annual_revenue", match="finite")
    error = _column_error(demo, leads.assign(seniority=["chief"] + [None] * (len(leads) - 1)), events,
                          column="seniority", match="row 0: unknown value \"chief\"")
    assert error.table == "leads"
    ids = leads["id"].astype(object).copy()
    ids.iloc[3] = None
    _column_error(demo, leads.assign(id=ids), events, column="id", match="row 3: is missing")
    _column_error(demo, leads.assign(id=leads["id"].iloc[0]), events, column="id", match="already appears")
    consent = leads["opted_out"].astype(object).copy()
    consent.iloc[2] = None
    _column_error(demo, leads.assign(opted_out=consent), events, column="opted_out", match="never guessed")
    mixed = leads["industry"].astype(object).copy()
    mixed.iloc[1] = 12
    _column_error(demo, leads.assign(industry=mixed), events, column="industry", match="row 1: expected text, found int")
    _column_error(demo, leads, events.drop(columns="occurred_at"), column="occurred_at")
    types = events["type"].astype(object).copy()
    types.iloc[5] = None
    _column_error(demo, leads, events.assign(type=types), column="type", match="row 5")
    _column_error(demo, leads, events.assign(type="teleport"), column="type", match="page_view")
    _column_error(demo, leads.iloc[1:], events, column="lead_id", match="no lead has id")
    _column_error(demo, leads, events.assign(occurred_at=pd.NaT), column="occurred_at", match="missing")
    _column_error(demo, leads, events.assign(occurred_at="yesterday"), column="occurred_at", match="expected datetime")
    _column_error(demo, leads.assign(created_at=[1j] * len(leads)), events, column="created_at", match="unsupported dtype")


@pytest.mark.parametrize("threads", [1, None])
def test_text_columns_read_in_chunks_keep_their_rows(demo, sample, threads):
    # Event ids, one str per event, are read in chunks, on every core or on
    # one; what is not ASCII is read again in place, a missing value is
    # marked and a wrong type named at its row, the first one when there
    # are several.
    leads, events = sample.leads, sample.events
    assert len(events) > 3 * 16384
    counts = events["lead_id"].value_counts()
    lead = events["lead_id"][events["lead_id"].isin(counts[counts >= 4].index)].iloc[-1]
    rows = np.flatnonzero(events["lead_id"] == lead)[:4]
    ids = events["id"].astype(object).to_numpy(copy=True)
    ids[rows] = ["évènement-1", "évènement-2", "évènement-3", "évènement-3"]

    def scores(events: pd.DataFrame) -> pd.DataFrame:
        return sm.score_frame(demo, leads, events, now=NOW, explain="none", threads=threads).set_index("lead_id")

    base = scores(events)
    renamed = scores(events.assign(id=ids))
    assert renamed.loc[lead, "duplicate_events"] == base.loc[lead, "duplicate_events"] + 1
    others = renamed.index != lead
    pd.testing.assert_frame_equal(renamed[others], base[others])

    def column_error(ids: np.ndarray, match: str) -> None:
        with pytest.raises(sm.ColumnError, match=match) as caught:
            sm.score_frame(demo, leads, events.assign(id=ids), now=NOW, threads=threads)
        assert caught.value.column == "id"

    missing = ids.copy()
    missing[rows[1]] = None
    column_error(missing, f"row {rows[1]}: is missing")
    wrong = ids.copy()
    wrong[rows[0]] = 12
    column_error(wrong, f"row {rows[0]}: expected text, found int")
    wrong[20000] = 3.5
    column_error(wrong, "row 20000: expected text, found float")


def test_other_argument_errors(demo, sample):
    leads, events = small(sample, 5)
    with pytest.raises(TypeError, match="DataFrame"):
        sm.score_frame(demo, leads.to_dict(), events, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="explain"):
        sm.score_frame(demo, leads, events, now=NOW, explain="short")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threads"):
        sm.score_frame(demo, leads, events, now=NOW, threads=0)
    with pytest.raises(TypeError, match="Playbook"):
        sm.score_frame(3, leads, events, now=NOW)  # type: ignore[arg-type]


def test_a_lead_the_core_refuses_names_its_row_and_field(demo, sample):
    leads, events = small(sample, 10)
    bad = leads.assign(employee_count=leads["employee_count"].where(leads.index != 4, -1))
    with pytest.raises(sm.LeadError) as caught:
        sm.score_frame(demo, bad, events, now=NOW)
    assert caught.value.path == "leads[4].company.employee_count"
    assert leads["id"].iloc[4] in str(caught.value)
    events = events.reset_index(drop=True)
    row = int(np.flatnonzero(events["lead_id"] == leads["id"].iloc[2])[1])
    long_id = events["id"].astype(object).copy()
    long_id.iloc[row] = "x" * 300
    with pytest.raises(sm.LeadError, match=f"events row {row}") as caught:
        sm.score_frame(demo, leads, events.assign(id=long_id), now=NOW)
    assert caught.value.path == "leads[2].events[1].id"


def test_playbook_path_is_accepted(sample):
    from conftest import DEMO
    leads, events = small(sample, 5)
    assert len(sm.score_frame(str(DEMO), leads, events, now=NOW)) == 5


def test_mqls_are_routed_to_a_team_and_an_owner(demo, scores):
    mql = scores["stage"] == "mql"
    teams = {t.id for t in demo.message.routing.teams}
    assert scores.loc[mql, "team"].notna().all()
    assert set(scores.loc[mql, "team"]) <= teams
    assert scores.loc[~mql, "team"].isna().all() and scores.loc[~mql, "owner"].isna().all()
    members = {m.id for t in demo.message.routing.teams for m in t.members}
    assert set(scores["owner"].dropna()) <= members


def test_routing_is_left_out_when_the_playbook_has_no_teams(demo, sample):
    bare = demo.copy()
    bare.message.ClearField("routing")
    bare.message.ClearField("sla")
    bare.message.ClearField("objectives")  # they name teams
    leads = sample.leads.iloc[:20]
    scored = sm.score_frame(bare, leads, sample.events[sample.events["lead_id"].isin(leads["id"])], now=NOW)
    assert "team" not in scored.columns
    assert "team" not in sm.score_frame(demo, leads, sample.events[sample.events["lead_id"].isin(leads["id"])],
                                        now=NOW, route=False).columns


def test_nothing_leaks_from_one_lead_to_the_next(demo):
    """Leads are built in place over the previous one: what a lead lacks must not be inherited."""
    at = pd.Timestamp("2026-11-20T10:00:00Z")
    leads = pd.DataFrame({"id": ["a", "b"], "attributes.plan": ["enterprise", None],
                          "industry": ["saas", None], "seniority": ["vp", None]})
    events = pd.DataFrame({"lead_id": ["a", "a", "b"], "id": ["1", "2", "3"],
                           "type": ["page_view", "custom", "page_view"],
                           "custom_type": [None, "trial_invite", None],
                           "occurred_at": [at, at, at], "properties.url": ["/pricing", None, None],
                           "properties.topic": [None, "x", "blog"]})
    together = sm.score_frame(demo, leads, events, now=NOW, threads=1)
    alone = sm.score_frame(demo, leads.iloc[1:], events.iloc[2:], now=NOW, threads=1)
    pd.testing.assert_frame_equal(together.iloc[1:].drop(columns=["team", "owner"]),
                                  alone.drop(columns=["team", "owner"]))
    lead = sm.lead_at(leads, events, 1)
    assert not lead.HasField("attributes") and lead.company.industry == ""
    assert list(lead.events[0].properties.fields) == ["topic"]


def test_column_forms_read_as_they_are_give_the_same_scores(demo, sample):
    """Columns cross without conversion in the forms pandas keeps them in:
    datetimes in any unit, categorical codes of any width, text with any
    missing marker, events in any order of leads; the scores are the same."""
    leads, events = small(sample, 300)
    events = events.reset_index(drop=True)
    baseline = sm.score_frame(demo, leads, events, now=NOW)

    def same(leads_variant, events_variant):
        pd.testing.assert_frame_equal(sm.score_frame(demo, leads_variant, events_variant, now=NOW), baseline)

    # Units of time other than nanoseconds (pandas 3 makes microseconds).
    for unit in ("us", "ms"):
        assert (events["occurred_at"].dt.as_unit(unit).dt.as_unit("ns") == events["occurred_at"]).all()
        same(leads.assign(created_at=leads["created_at"].dt.as_unit(unit)),
             events.assign(occurred_at=events["occurred_at"].dt.as_unit(unit)))
    # Categorical codes of 8, 16 and 32 bits.
    many = events["lead_id"].cat.add_categories([f"unused-{i}" for i in range(40000)])
    assert many.cat.codes.dtype == np.int32 and events["type"].cat.codes.dtype == np.int8
    same(leads, events.assign(lead_id=many))
    # Text as objects with None, NaN or pd.NA for a missing value, and as
    # pandas strings.
    for missing in (None, np.nan, pd.NA):
        department = leads["department"].astype(object).where(leads["department"].notna(), missing)
        same(leads.assign(department=department), events)
    same(leads.assign(department=leads["department"].astype("string")), events)
    # Events not listed lead by lead (each lead's events keep their order).
    rng = np.random.default_rng(3)
    rank = dict(zip(leads["id"], rng.permutation(len(leads)), strict=False))
    shuffled = events.iloc[np.argsort(events["lead_id"].map(rank).to_numpy(), kind="stable")]
    assert not shuffled.index.is_monotonic_increasing
    same(leads, shuffled)
    # More than 32 property columns.
    wide = events.assign(**{f"properties.extra_{i}": None for i in range(40)})
    wide["properties.extra_7"] = np.where(np.arange(len(wide)) % 3 == 0, "x", None)
    same(leads, wide)


def test_routing_does_not_depend_on_the_thread_count(demo, sample):
    leads, events = small(sample, 1500)
    one = sm.score_frame(demo, leads, events, now=NOW, threads=1, explain="none")
    all_cores = sm.score_frame(demo, leads, events, now=NOW, explain="none")
    assert (one["stage"] == "mql").sum() > 100
    pd.testing.assert_frame_equal(one, all_cores)


def test_score_frame_documents_the_cores_lead_columns_in_order():
    """The lead columns are declared once, in the core; score_frame's docs follow that list."""
    doc = sm.score_frame.__doc__ or ""
    at = 0
    for column in _native.lead_columns():
        found = re.compile(rf"\b{re.escape(column)}\b").search(doc, at)
        assert found, f"score_frame's docstring does not name the lead column {column} (after position {at})"
        at = found.end()
