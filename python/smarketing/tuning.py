"""Suggest rule points and thresholds from outcomes, as a new Playbook to review."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.sparse
import scipy.special

from ._tables import Now
from .evaluation import Evaluation, align_outcomes, evaluate
from .playbook import Playbook
from .scoring import PlaybookLike, as_playbook, rule_matrix, score_frame
from .v1 import score_result_pb2

__all__ = ["Thresholds", "TuningResult", "suggest_thresholds", "tune", "playbook_diff"]

# Points the schema allows per rule kind (scoring.proto).
_LIMITS = {"fit": 100.0, "engagement": 1000.0}
# The smallest points a tuned rule keeps: the schema refuses 0, and a rule
# with no measurable effect is better flagged for review than silently
# dropped.
_MIN_POINTS = 0.5


@dataclass(frozen=True)
class Thresholds:
    """MQL and SQL total-score thresholds and what they give on the leads.

    Attributes:
        mql_min_total, sql_min_total: The thresholds.
        weeks: Weeks of leads the volumes are counted over.
        mql_per_week, sql_per_week: Leads at or above each threshold per week
            (MQL counts hand-raisers too).
        mql_conversion, sql_conversion: Conversion rate of those leads.
    """

    mql_min_total: float
    sql_min_total: float
    weeks: float
    mql_per_week: float
    sql_per_week: float
    mql_conversion: float
    sql_conversion: float


def _threshold(totals: np.ndarray, converted: np.ndarray, always: int, always_converted: int,
               weeks: float, weekly: Optional[float], min_conversion: Optional[float],
               floor: float) -> float:
    """The lowest total threshold (>= floor) meeting both targets.

    ``always`` leads qualify whatever the threshold (hand-raisers);
    ``totals`` are the others' scores.
    """
    order = np.argsort(-totals, kind="stable")
    ranked = totals[order]
    cum_leads = np.arange(1, len(ranked) + 1) + always
    cum_conversions = np.cumsum(converted[order]) + always_converted
    # Only the last of equal scores is a valid cut: a threshold takes all ties.
    last_of_tie = np.append(ranked[1:] != ranked[:-1], True)
    ok = last_of_tie & (ranked >= floor)
    if weekly is not None:
        ok &= cum_leads <= weekly * weeks
    if min_conversion is not None:
        ok &= cum_conversions / cum_leads >= min_conversion
    candidates = np.flatnonzero(ok)
    if len(candidates) == 0:
        # No cut meets the targets: above every score, only hand-raisers qualify.
        return float(np.ceil(max(ranked.max(initial=floor), floor) + 1))
    return float(ranked[candidates[-1]])


def suggest_thresholds(scores: pd.DataFrame, outcomes: Union[pd.DataFrame, np.ndarray, pd.Series], *,
                       weeks: float, playbook: PlaybookLike,
                       weekly_mql: Optional[float] = None, min_mql_conversion: Optional[float] = None,
                       weekly_sql: Optional[float] = None,
                       min_sql_conversion: Optional[float] = None) -> Thresholds:
    """MQL and SQL total thresholds that meet a weekly volume and/or a conversion target.

    The volume is what the sales team can absorb per week; the conversion
    rate the quality it expects. With both, the threshold meets both (the
    volume as a ceiling, the rate as a floor). Disqualified leads never
    count; hand-raisers always count as MQL. The Playbook's other MQL bounds
    (minimum fit and engagement) are kept. Without a target for a stage, its
    threshold is kept, the SQL one staying at least at the MQL one.

    Args:
        scores: :func:`smarketing.score_frame`'s result for historical leads.
        outcomes: Their outcomes (see :func:`smarketing.evaluate`).
        weeks: Weeks those leads arrived over.
        playbook: The Playbook the scores come from.
    """
    if not weeks or weeks <= 0:
        raise ValueError(f"weeks must be positive, found {weeks!r}")
    for name, value in (("weekly_mql", weekly_mql), ("weekly_sql", weekly_sql)):
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be positive, found {value!r}")
    for name, value in (("min_mql_conversion", min_mql_conversion),
                        ("min_sql_conversion", min_sql_conversion)):
        if value is not None and not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1], found {value!r}")
    pb = as_playbook(playbook)
    frame = align_outcomes(scores, outcomes)
    eligible = (frame["stage"] != "disqualified").to_numpy()
    hand = frame["hand_raiser"].to_numpy() & eligible
    mql = pb.message.thresholds.mql
    bounded = eligible & ~hand & (frame["fit"].to_numpy() >= mql.min_fit) & (
        frame["engagement"].to_numpy() >= mql.min_engagement)
    totals = frame["total"].to_numpy()
    converted = frame["converted"].to_numpy()

    mql_total = mql.min_total
    if weekly_mql is not None or min_mql_conversion is not None:
        mql_total = _threshold(totals[bounded], converted[bounded], int(hand.sum()),
                               int(converted[hand].sum()), weeks, weekly_mql, min_mql_conversion, 0.0)
    sql = pb.message.thresholds.sql
    sql_bounded = eligible & (frame["fit"].to_numpy() >= sql.min_fit) & (
        frame["engagement"].to_numpy() >= sql.min_engagement)
    sql_total = max(sql.min_total, mql_total)
    if weekly_sql is not None or min_sql_conversion is not None:
        sql_total = _threshold(totals[sql_bounded], converted[sql_bounded], 0, 0, weeks, weekly_sql,
                               min_sql_conversion, mql_total)

    is_mql = hand | (bounded & (totals >= mql_total))
    is_sql = sql_bounded & (totals >= sql_total)

    def rate(mask: np.ndarray) -> float:
        return float(converted[mask].mean()) if mask.any() else float("nan")

    return Thresholds(float(mql_total), float(sql_total), float(weeks), float(is_mql.sum() / weeks),
                      float(is_sql.sum() / weeks), rate(is_mql), rate(is_sql))


def playbook_diff(old: Playbook, new: Playbook) -> str:
    """A unified diff of the two Playbooks' YAML, for review."""
    return "".join(difflib.unified_diff(
        old.to_yaml().splitlines(keepends=True), new.to_yaml().splitlines(keepends=True),
        fromfile=f"{old.name}@{old.version}", tofile=f"{new.name}@{new.version}"))


@dataclass(frozen=True)
class TuningResult:
    """A tuned Playbook, ready for review.

    Attributes:
        playbook: The new Playbook (validated).
        changes: One row per tuned rule: kind, rule_id, old_points,
            new_points, coefficient (log-odds per firing), leads (that the
            rule fired for), and note ("" or why the points were kept or
            floored).
        thresholds: The suggested thresholds on the leads scored with the new
            points.
        diff: The unified YAML diff from the old Playbook.
        before, after: Evaluations of the old and the new Playbook on the
            same leads.
    """

    playbook: Playbook
    changes: pd.DataFrame
    thresholds: Thresholds
    diff: str
    before: Evaluation
    after: Evaluation


def _fit_logistic(x: scipy.sparse.csr_matrix, y: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Intercept and coefficients of an L2-regularised logistic regression.

    The penalty ``l2 / 2 * |beta|^2`` is on the mean log-loss, with columns
    scaled to unit standard deviation, so that its strength does not depend
    on the number of leads and rules that fire rarely are not favoured. It
    also settles rules that always fire together or apart (a business or a
    personal e-mail address) instead of letting them drift to large
    opposite points. Coefficients are returned on the original scale.
    """
    x = x.tocsc()
    mean = np.asarray(x.mean(axis=0)).ravel()
    sq = np.asarray(x.multiply(x).mean(axis=0)).ravel()
    std = np.sqrt(np.maximum(sq - mean**2, 0))
    scale = np.where(std > 0, std, 1.0)
    xs = x @ scipy.sparse.diags(1 / scale)
    n = len(y)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        b0, beta = params[0], params[1:]
        t = b0 + xs @ beta
        p = scipy.special.expit(t)
        value = np.sum(np.logaddexp(0, t) - y * t) / n + 0.5 * l2 * beta @ beta
        residual = (p - y) / n
        grad = np.concatenate(([residual.sum()], xs.T @ residual + l2 * beta))
        return value, grad

    start = np.zeros(x.shape[1] + 1)
    base = min(max(y.mean(), 1e-6), 1 - 1e-6)
    start[0] = np.log(base / (1 - base))
    result = scipy.optimize.minimize(loss, start, jac=True, method="L-BFGS-B",
                                     options={"maxiter": 2000, "gtol": 1e-9})
    return float(result.x[0]), result.x[1:] / scale


def _weeks(leads: pd.DataFrame) -> float:
    if "created_at" not in leads.columns:
        raise ValueError("give weeks=: the leads have no created_at column to count weeks from")
    created = pd.to_datetime(leads["created_at"], utc=True)
    span = (created.max() - created.min()) / pd.Timedelta(days=7)
    if not np.isfinite(span) or span <= 0:
        raise ValueError("give weeks=: the leads' created_at do not span any time")
    return float(span)


def tune(playbook: PlaybookLike, leads: pd.DataFrame, events: Optional[pd.DataFrame],
         outcomes: Union[pd.DataFrame, np.ndarray, pd.Series], *, now: Now,
         l2: float = 0.01, kinds: Sequence[str] = ("fit", "engagement"),
         weeks: Optional[float] = None, weekly_mql: Optional[float] = None,
         min_mql_conversion: Optional[float] = None, weekly_sql: Optional[float] = None,
         min_sql_conversion: Optional[float] = None, version: Optional[str] = None,
         threads: Optional[int] = None) -> TuningResult:
    """Fits rule points to outcomes and thresholds to targets; returns a new Playbook.

    A logistic regression with an L2 penalty ``l2`` predicts conversion from
    how often each rule fired (its contribution over its points: decayed and
    capped event counts for engagement rules, 0/1 for fit rules), with the
    persona fit as a further predictor. Its coefficient gives the scale: a
    rule is worth its coefficient over the persona fit's, in points, so that
    the new points speak the same units as the personas. Disqualified leads
    are left out (they are never worked). Points are rounded to 0.1 and kept
    within the schema's limits; a rule that never fired keeps its points;
    engagement caps (max_points) scale with their rule's points. Then
    :func:`suggest_thresholds` sets the MQL/SQL thresholds on the rescored
    leads when targets are given.

    Args:
        kinds: Which rules to tune: "fit" and/or "engagement". Persona
            criteria weights are not tuned: they define the personas that
            marketing and sales agreed on.
        weeks: Weeks the leads arrived over (default: the span of
            ``leads.created_at``).
        version: The new Playbook's version (default: the old one + "-tuned").

    Raises:
        ValueError: no outcome varies, or a target is out of range.
    """
    unknown = set(kinds) - set(_LIMITS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be among {sorted(_LIMITS)}, found {list(kinds)}")
    if l2 < 0:
        raise ValueError(f"l2 must not be negative, found {l2!r}")
    old = as_playbook(playbook).validate()
    before_scores = score_frame(old, leads, events, now=now, explain="none", threads=threads)
    frame = align_outcomes(before_scores, outcomes)
    matrix = rule_matrix(old, leads, events, now=now, threads=threads)
    rules = matrix.rules
    worked = (frame["stage"] != "disqualified").to_numpy()
    y = frame["converted"].to_numpy()[worked].astype(float)
    if y.min() == y.max():
        raise ValueError("every worked lead has the same outcome: there is nothing to fit")

    tuned = np.flatnonzero(rules["kind"].isin(kinds).to_numpy())
    criteria = np.flatnonzero((rules["kind"] == "persona_criterion").to_numpy())
    m = matrix.matrix[worked]
    unit = m[:, tuned] @ scipy.sparse.diags(1 / rules["points"].to_numpy()[tuned])
    persona_fit = scipy.sparse.csr_matrix(m[:, criteria].sum(axis=1))
    _, coef = _fit_logistic(scipy.sparse.hstack([unit, persona_fit]).tocsr(), y, l2)
    beta, beta_fit = coef[:-1], coef[-1]
    if beta_fit > 1e-9:
        points_per_logit = 1 / beta_fit
    else:
        # Persona fit carries no signal here: keep the old points' spread.
        old_points = rules["points"].to_numpy()[tuned]
        points_per_logit = np.std(old_points) / max(np.std(beta), 1e-12)

    fired = np.asarray((unit != 0).sum(axis=0)).ravel()
    new = old.copy()
    message = new.message
    change_rows = []
    for j, column in enumerate(tuned):
        kind = rules["kind"].iat[column]
        old_points = float(rules["points"].iat[column])
        limit = _LIMITS[kind]
        note = ""
        if fired[j] == 0:
            points, note = old_points, "never fired: kept"
        else:
            points = float(np.clip(np.round(beta[j] * points_per_logit, 1), -limit, limit))
            if abs(points) < _MIN_POINTS:
                points = _MIN_POINTS if beta[j] >= 0 else -_MIN_POINTS
                note = "no measurable effect: review whether to keep the rule"
        if kind == "fit":
            rule = message.fit_rules[column - old._rule_offsets()[score_result_pb2.RULE_KIND_FIT]]
            rule.points = points
        else:
            rule = message.engagement.rules[column - old._rule_offsets()[score_result_pb2.RULE_KIND_ENGAGEMENT]]
            if rule.max_points:
                rule.max_points = float(np.round(rule.max_points * abs(points / old_points), 1))
            rule.points = points
        change_rows.append((kind, rules["rule_id"].iat[column], old_points, points, float(beta[j]),
                            int(fired[j]), note))
    changes = pd.DataFrame(change_rows, columns=["kind", "rule_id", "old_points", "new_points",
                                                 "coefficient", "leads", "note"])
    message.metadata.version = version or f"{old.version}-tuned"
    new.validate()

    after_scores = score_frame(new, leads, events, now=now, explain="none", threads=threads)
    thresholds = suggest_thresholds(
        after_scores, outcomes, weeks=weeks or _weeks(leads), playbook=new,
        weekly_mql=weekly_mql, min_mql_conversion=min_mql_conversion, weekly_sql=weekly_sql,
        min_sql_conversion=min_sql_conversion)
    # Rounded down to 0.1, for a Playbook people read; the leads at the cut stay in.
    message.thresholds.mql.min_total = np.floor(thresholds.mql_min_total * 10) / 10
    message.thresholds.sql.min_total = max(np.floor(thresholds.sql_min_total * 10) / 10,
                                           message.thresholds.mql.min_total)
    new.validate()
    if message.thresholds.mql.min_total != old.message.thresholds.mql.min_total:
        after_scores = score_frame(new, leads, events, now=now, explain="none", threads=threads)
    return TuningResult(new, changes, thresholds, playbook_diff(old, new),
                        evaluate(before_scores, outcomes), evaluate(after_scores, outcomes))
