"""Suggest rule points and thresholds from outcomes, as a new Playbook to review."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.sparse
import scipy.special

from . import _native
from ._tables import Now
from .evaluation import Evaluation, _logistic_fit, align_outcomes, evaluate, roc_auc
from .playbook import Playbook
from .scoring import PlaybookLike, as_playbook, rule_matrix, score_frame
from .v1 import score_result_pb2

__all__ = ["Thresholds", "TuningError", "TuningResult", "suggest_thresholds", "tune", "playbook_diff"]

# The core's bounds on points, by rule kind (scoring.proto, enforced by
# validation): read from the core so that they are stated once.
_CORE_LIMITS = _native.limits()
_LIMITS = {"fit": _CORE_LIMITS["fit_rule_points"], "engagement": _CORE_LIMITS["engagement_rule_points"]}
# The smallest points a tuned rule keeps: the schema refuses 0, and a rule
# with no measurable effect is better flagged for review than silently
# dropped.
_MIN_POINTS = 0.5
# Penalties tried by cross-validation, on the mean log-loss per lead.
_L2_GRID = tuple(float(v) for v in np.logspace(-5, 0, 6))


class TuningError(ValueError):
    """The tuned Playbook ranks held-out leads worse than the input does.

    Attributes:
        result: The :class:`TuningResult` that was refused, to inspect.
    """

    def __init__(self, message: str, result: TuningResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Thresholds:
    """MQL and SQL total-score thresholds and what they give on the leads.

    Attributes:
        mql_min_total, sql_min_total: The thresholds.
        weeks: Weeks of leads the volumes are counted over (NaN when not
            known: the per-week volumes are then NaN too).
        mql_per_week, sql_per_week: Leads at or above each threshold per week
            (MQL counts hand-raisers too).
        mql_conversion, sql_conversion: Conversion rate of those leads.
        mql_leads, sql_leads: How many leads that is, in all.
    """

    mql_min_total: float
    sql_min_total: float
    weeks: float
    mql_per_week: float
    sql_per_week: float
    mql_conversion: float
    sql_conversion: float
    mql_leads: int = 0
    sql_leads: int = 0


def _meets(threshold, frame: pd.DataFrame, *, any_total: bool = False) -> np.ndarray:
    """Rows whose scores meet a StageThreshold, by the core's stage rule.

    ``any_total`` leaves the total free (the bound a threshold is searched for).
    """
    if any_total:
        threshold = type(threshold)(min_fit=threshold.min_fit, min_engagement=threshold.min_engagement,
                                    min_total=-np.inf)
    return _native.meets_threshold(threshold.SerializeToString(), frame["fit"].to_numpy(dtype=float),
                                   frame["engagement"].to_numpy(dtype=float),
                                   frame["total"].to_numpy(dtype=float))


def _threshold(totals: np.ndarray, converted: np.ndarray, always: int, always_converted: int,
               weeks: float, weekly: float | None, min_conversion: float | None,
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


def _check_weeks(weeks: float | None, needed: bool) -> float:
    if weeks is None:
        if needed:
            raise ValueError("give weeks=: a weekly target needs the number of weeks the leads arrived over")
        return float("nan")
    if not weeks or weeks <= 0 or not np.isfinite(weeks):
        raise ValueError(f"weeks must be positive, found {weeks!r}")
    return float(weeks)


def suggest_thresholds(scores: pd.DataFrame, outcomes: pd.DataFrame | np.ndarray | pd.Series, *,
                       playbook: PlaybookLike, weeks: float | None = None,
                       weekly_mql: float | None = None, min_mql_conversion: float | None = None,
                       weekly_sql: float | None = None,
                       min_sql_conversion: float | None = None) -> Thresholds:
    """MQL and SQL total thresholds that meet a weekly volume and/or a conversion target.

    The volume is what the sales team can absorb per week; the conversion
    rate the quality it expects. With both, the threshold meets both (the
    volume as a ceiling, the rate as a floor). Disqualified leads never
    count; hand-raisers always count as MQL. The Playbook's other MQL bounds
    (minimum fit and engagement) are kept, and which leads meet them is
    decided by the core's stage rule. Without a target for a stage, its
    threshold is kept, the SQL one staying at least at the MQL one.

    Args:
        scores: :func:`smarketing.score_frame`'s result for historical leads.
        outcomes: Their outcomes (see :func:`smarketing.evaluate`).
        playbook: The Playbook the scores come from.
        weeks: Weeks those leads arrived over; required with a weekly
            target, otherwise only used to report volumes per week.
    """
    weeks = _check_weeks(weeks, weekly_mql is not None or weekly_sql is not None)
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
    bounded = eligible & ~hand & _meets(mql, frame, any_total=True)
    totals = frame["total"].to_numpy()
    converted = frame["converted"].to_numpy()

    mql_total = mql.min_total
    if weekly_mql is not None or min_mql_conversion is not None:
        mql_total = _threshold(totals[bounded], converted[bounded], int(hand.sum()),
                               int(converted[hand].sum()), weeks, weekly_mql, min_mql_conversion, 0.0)
    sql = pb.message.thresholds.sql
    sql_bounded = eligible & _meets(sql, frame, any_total=True)
    sql_total = max(sql.min_total, mql_total)
    if weekly_sql is not None or min_sql_conversion is not None:
        sql_total = _threshold(totals[sql_bounded], converted[sql_bounded], 0, 0, weeks, weekly_sql,
                               min_sql_conversion, mql_total)

    is_mql = hand | (bounded & (totals >= mql_total))
    is_sql = sql_bounded & (totals >= sql_total)

    def rate(mask: np.ndarray) -> float:
        return float(converted[mask].mean()) if mask.any() else float("nan")

    return Thresholds(float(mql_total), float(sql_total), weeks, float(is_mql.sum() / weeks),
                      float(is_sql.sum() / weeks), rate(is_mql), rate(is_sql), int(is_mql.sum()),
                      int(is_sql.sum()))


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
        changes: One row per tuned rule: kind, rule_id, support (worked
            leads the rule fired for), old_points, new_points, coefficient
            (log-odds per firing), sign_flip, and note ("" or why the points
            were kept, bounded or floored).
        settings: One row per re-derived setting (grade band edges, MQL and
            SQL bounds, hand-raiser minimum fit): setting, old, new, reason.
        thresholds: The thresholds on the leads scored with the new Playbook.
        diff: The unified YAML diff from the old Playbook.
        before, after: Evaluations of the old and the new Playbook on all
            the leads (in-sample).
        l2: The penalty used (chosen by cross-validation unless given).
        cross_validation: Held-out log-loss per penalty tried (empty when
            ``l2`` was given).
        validation: Per held-out fold: leads, auc_before (the input) and
            auc_after (a Playbook tuned on the other folds).
        points_per_logit: The scale: points worth one unit of log-odds.
        forced: The tuned Playbook was returned although it ranked held-out
            leads worse (``force=True``).
    """

    playbook: Playbook
    changes: pd.DataFrame
    settings: pd.DataFrame
    thresholds: Thresholds
    diff: str
    before: Evaluation
    after: Evaluation
    l2: float
    cross_validation: pd.DataFrame
    validation: pd.DataFrame
    points_per_logit: float
    forced: bool = False

    @property
    def validation_auc(self) -> tuple[float, float]:
        """Mean held-out ROC AUC of the input and of the tuned Playbook."""
        return (float(self.validation["auc_before"].mean()), float(self.validation["auc_after"].mean()))

    def report(self) -> str:
        """What changed and why, in a few lines for a pull request."""
        before, after = self.validation_auc
        changed = self.changes[self.changes["old_points"] != self.changes["new_points"]]
        lines = [
            f"Held-out ROC AUC ({len(self.validation)} folds): {before:.3f} -> {after:.3f}"
            + (" (worse; returned because force=True)" if self.forced else ""),
            f"Penalty l2 = {self.l2:g}" + (" (chosen by cross-validation)" if len(self.cross_validation) else "")
            + f"; {self.points_per_logit:.3g} points per unit of log-odds",
            f"{len(changed)} of {len(self.changes)} rules changed points; "
            f"{int(self.changes['sign_flip'].sum())} changed sign",
        ]
        for row in changed.itertuples():
            flip = " (sign flip)" if row.sign_flip else ""
            note = f" - {row.note}" if row.note else ""
            lines.append(f"  {row.kind} {row.rule_id}: {row.old_points:g} -> {row.new_points:g}"
                         f" (fired for {row.support} leads){flip}{note}")
        for row in self.changes[(self.changes["old_points"] == self.changes["new_points"])
                                & (self.changes["note"] != "")].itertuples():
            lines.append(f"  {row.kind} {row.rule_id}: kept at {row.old_points:g} - {row.note}")
        for row in self.settings.itertuples():
            lines.append(f"  {row.setting}: {row.old:g} -> {row.new:g} ({row.reason})")
        return "\n".join(lines)


def _fit_logistic(x: scipy.sparse.csr_matrix, y: np.ndarray, offset: np.ndarray, prior: np.ndarray,
                  l2: float, bound: np.ndarray) -> tuple[float, np.ndarray]:
    """Intercept and coefficients of a logistic regression shrunk towards ``prior``.

    The penalty ``l2 / 2 * |beta - prior|^2`` is on the mean log-loss, in
    log-odds per firing (columns are not rescaled), so that a rule's
    evidence grows with the leads it fired for: a rule that fired for a
    handful of leads stays close to its prior (the points people gave it),
    one that fired for thousands follows the data. ``offset`` is the part of
    the log-odds held fixed (the persona fit); ``|beta| <= bound``.
    """
    n = len(y)
    xt = x.T.tocsr()

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        b0, beta = params[0], params[1:]
        t = b0 + offset + x @ beta
        p = scipy.special.expit(t)
        d = beta - prior
        value = np.sum(np.logaddexp(0, t) - y * t) / n + 0.5 * l2 * d @ d
        residual = (p - y) / n
        grad = np.concatenate(([residual.sum()], xt @ residual + l2 * d))
        return value, grad

    start = np.concatenate(([0.0], np.clip(prior, -bound, bound)))
    base = min(max(y.mean(), 1e-6), 1 - 1e-6)
    start[0] = np.log(base / (1 - base)) - offset.mean() - float(np.asarray(x.mean(axis=0)).ravel() @ start[1:])
    bounds = [(None, None)] + [(-b, b) for b in bound]
    result = scipy.optimize.minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                     options={"maxiter": 2000, "gtol": 1e-9})
    return float(result.x[0]), result.x[1:]


def _log_loss(t: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0, t) - y * t))


def _weeks(leads: pd.DataFrame) -> float:
    if "created_at" not in leads.columns:
        raise ValueError("give weeks=: the leads have no created_at column to count weeks from")
    created = pd.to_datetime(leads["created_at"], utc=True)
    span = (created.max() - created.min()) / pd.Timedelta(days=7)
    if not np.isfinite(span) or span <= 0:
        raise ValueError("give weeks=: the leads' created_at do not span any time")
    return float(span)


def _folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold number per lead, each fold with its share of conversions."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for value in (False, True):
        where = np.flatnonzero(y.astype(bool) == value)
        fold[rng.permutation(where)] = np.arange(len(where)) % folds
    return fold


def _same_share(old: np.ndarray, new: np.ndarray, cut: float) -> float:
    """A cut on ``new`` values keeping the share of values at or above ``cut`` on ``old`` ones.

    The old cut is kept when it already does; otherwise the new cut is
    rounded down to 0.1, so that the leads at it stay above it.
    """
    share = np.mean(old >= cut)
    if np.mean(new >= cut) == share or len(new) == 0:
        return float(cut)
    if share == 0:
        return float(max(cut, np.floor(new.max() * 10) / 10 + 0.1))
    if share == 1:
        return float(min(cut, np.floor(new.min() * 10) / 10))
    ranked = np.sort(new)[::-1]
    return float(np.floor(ranked[int(round(share * len(new))) - 1] * 10) / 10)


def _set_points(message, rules: pd.DataFrame, offsets: dict[int, int], column: int, points: float) -> None:
    kind = rules["kind"].iat[column]
    if kind == "fit":
        message.fit_rules[column - offsets[score_result_pb2.RULE_KIND_FIT]].points = points
        return
    rule = message.engagement.rules[column - offsets[score_result_pb2.RULE_KIND_ENGAGEMENT]]
    if rule.max_points and rule.points != points:
        # The cap scales with the points: a rule worth twice as much may add twice as much.
        rule.max_points = max(float(np.round(rule.max_points * abs(points / rule.points), 1)), 0.1)
    rule.points = points


def _fewest_clamped(raw: np.ndarray, base: float, lo: float, hi: float) -> tuple[float, int, int]:
    """The base points (within the schema's [-100, 100], to 0.1) that leave
    the fewest leads beyond the fit's bounds, where the clamp ties them;
    the nearest to ``base`` among equals. Returns it with the number of
    leads clamped at ``base`` and at it."""
    r = np.sort(raw)

    def clamped(b: np.ndarray) -> np.ndarray:
        return np.searchsorted(r, lo - b, "left") + (len(r) - np.searchsorted(r, hi - b, "right"))

    # Each lead lifted exactly onto the floor or lowered onto the ceiling
    # (rounded inwards, so that it stays within), and the current base.
    limit = _CORE_LIMITS["fit_rule_points"]  # the schema bounds the base like a fit rule
    candidates = np.unique(np.concatenate([
        np.ceil((lo - r) * 10) / 10, np.floor((hi - r) * 10) / 10, [base]]))
    candidates = candidates[(candidates >= -limit) & (candidates <= limit)]
    counts = clamped(candidates)
    best = np.lexsort((np.abs(candidates - base), counts))[0]
    return float(candidates[best]), int(clamped(np.array([base]))[0]), int(counts[best])


def _rebalance(old: Playbook, new: Playbook, before: pd.DataFrame, after: pd.DataFrame) -> list[tuple]:
    """Moves grade bands, stage bounds and hand-raiser fit so that each keeps its share of the leads."""
    rows: list[tuple] = []
    message = new.message
    # The fit's range: the Playbook's fit model, or the core's default.
    min_fit = message.fit.min if message.fit.HasField("min") else 0.0
    max_fit = message.fit.max if message.fit.HasField("max") else _CORE_LIMITS["max_fit"]
    old_fit, new_fit = before["fit"].to_numpy(), after["fit"].to_numpy()
    bands = sorted(range(len(message.grade_bands)), key=lambda i: message.grade_bands[i].min_fit)
    edges = [_same_share(old_fit, new_fit, message.grade_bands[i].min_fit) for i in bands[1:]]
    bounds = [min_fit] + edges + [max_fit]
    if all(a < b for a, b in zip(bounds, bounds[1:], strict=False)):
        for at, i in enumerate(bands):
            band = message.grade_bands[i]
            if band.min_fit != bounds[at]:
                rows.append((f"grade_bands[{band.grade}].min_fit", band.min_fit, bounds[at],
                             "same share of leads in the grade"))
            band.min_fit, band.max_fit = bounds[at], bounds[at + 1]
    eligible = (before["stage"] != "disqualified").to_numpy()
    values = {name: (before[name].to_numpy()[eligible], after[name].to_numpy()[eligible])
              for name in ("fit", "engagement", "total")}
    for stage in ("mql", "sql"):
        threshold = getattr(message.thresholds, stage)
        for name in ("fit", "engagement", "total"):
            field = f"min_{name}"
            cut = _same_share(*values[name], getattr(threshold, field))
            if name == "fit":
                cut = min(max(cut, min_fit), max_fit)
            if stage == "sql":
                cut = max(cut, getattr(message.thresholds.mql, field)) if name != "engagement" else cut
            if cut != getattr(threshold, field):
                rows.append((f"thresholds.{stage}.{field}", getattr(threshold, field), cut,
                             f"same share of leads meets the {stage.upper()} bound"))
                setattr(threshold, field, cut)
    for rule in message.hand_raiser_rules:
        cut = min(max(_same_share(old_fit, new_fit, rule.min_fit), min_fit), max_fit)
        if cut != rule.min_fit:
            rows.append((f"hand_raiser_rules[{rule.id}].min_fit", rule.min_fit, cut,
                         "same share of leads has the fit to raise a hand"))
            rule.min_fit = cut
    return rows


def _check_options(kinds: Sequence[str], l2: float | None, folds: int, min_support: int, prior_leads: float,
                   max_points: float | None) -> None:
    unknown = set(kinds) - set(_LIMITS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be among {sorted(_LIMITS)}, found {list(kinds)}")
    if l2 is not None and (not np.isfinite(l2) or l2 < 0):
        raise ValueError(f"l2 must not be negative, found {l2!r}")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, found {folds!r}")
    if min_support < 0:
        raise ValueError(f"min_support must not be negative, found {min_support!r}")
    if not prior_leads >= 0:
        raise ValueError(f"prior_leads must not be negative, found {prior_leads!r}")
    if max_points is not None and not max_points > 0:
        raise ValueError(f"max_points must be positive, found {max_points!r}")


def _outcomes_for(outcomes, target: str):
    """The outcomes with ``target`` as their "converted" column."""
    if target == "converted":
        return outcomes
    if not isinstance(outcomes, pd.DataFrame) or target not in outcomes.columns:
        raise KeyError(f"target={target!r} needs outcomes as a DataFrame with a {target!r} column")
    return outcomes.drop(columns=["converted"], errors="ignore").assign(converted=outcomes[target])


@dataclass
class _Design:
    """The worked leads (disqualified ones are never worked) and the rules tuned: what every fit reads.

    Columns of ``x`` are the tuned rules with enough support (``free``),
    one per firing; ``persona_fit`` is the fixed part of the fit.
    """

    old: Playbook
    rules: pd.DataFrame
    offsets: dict[int, int]
    y: np.ndarray
    k: int
    fold: np.ndarray
    tuned: np.ndarray
    m: scipy.sparse.csr_matrix
    old_points: np.ndarray
    persona_fit: np.ndarray
    support: np.ndarray
    old_total: np.ndarray
    kind_of: np.ndarray
    bound_points: np.ndarray
    free: np.ndarray
    x: scipy.sparse.csr_matrix
    prior_strength: float
    worked_rows: np.ndarray

    def fit(self, scale: float, penalty: float, rows: np.ndarray | slice = slice(None)) -> tuple[float, np.ndarray]:
        free = self.free
        return _fit_logistic(self.x[rows], self.y[rows], self.persona_fit[rows] / scale, self.old_points[free] / scale,
                             penalty + self.prior_strength, self.bound_points[free] / scale)

    def candidate(self, beta: np.ndarray, scale: float) -> tuple[Playbook, np.ndarray]:
        """The Playbook with the fitted points, rounded, bounded and kept off 0."""
        free = self.free
        points = self.old_points.copy()
        points[free] = np.clip(np.round(beta * scale, 1), -self.bound_points[free], self.bound_points[free])
        small = free & (np.abs(points) < _MIN_POINTS)
        points[small] = np.where(beta[small[free]] >= 0, _MIN_POINTS, -_MIN_POINTS)
        pb = self.old.copy()
        for j, column in enumerate(self.tuned):
            if points[j] != self.old_points[j]:
                _set_points(pb.message, self.rules, self.offsets, int(column), float(points[j]))
        return pb, points


def _design(old: Playbook, frame: pd.DataFrame, matrix, *, kinds: Sequence[str], folds: int, seed: int,
            min_support: int, prior_leads: float, max_points: float | None) -> _Design:
    rules = matrix.rules
    worked = (frame["stage"] != "disqualified").to_numpy()
    y = frame["converted"].to_numpy()[worked].astype(float)
    if len(y) == 0 or y.min() == y.max():
        raise ValueError("every worked lead has the same outcome: there is nothing to fit")
    k = int(min(folds, y.sum(), len(y) - y.sum()))
    if k < 2:
        raise ValueError("too few conversions (or non-conversions) among the worked leads to "
                         "validate the tuning on held-out folds: at least 2 of each are needed")

    tuned = np.flatnonzero(rules["kind"].isin(kinds).to_numpy())
    criteria = np.flatnonzero((rules["kind"] == "persona_criterion").to_numpy())
    m = matrix.matrix[worked]
    old_points = rules["points"].to_numpy()[tuned]
    unit = (m[:, tuned] @ scipy.sparse.diags(1 / old_points)).tocsr()
    support = np.asarray((unit != 0).sum(axis=0)).ravel()
    kind_of = rules["kind"].to_numpy()[tuned]
    bound_points = np.empty(len(tuned))
    for kind in set(kind_of):
        mask = kind_of == kind
        bound_points[mask] = min(_LIMITS[kind], max_points or 2 * np.abs(old_points[mask]).max())
    free = support >= max(min_support, 1)
    # The input's points count as `prior_leads` leads of evidence per rule:
    # the curvature of that many leads' log-loss at the base rate.
    base_rate = y.mean()
    return _Design(
        old=old, rules=rules, offsets=old._rule_offsets(), y=y, k=k, fold=_folds(y, k, seed), tuned=tuned, m=m,
        old_points=old_points, persona_fit=np.asarray(m[:, criteria].sum(axis=1)).ravel(), support=support,
        old_total=frame["total"].to_numpy()[worked], kind_of=kind_of, bound_points=bound_points, free=free,
        x=unit[:, free], prior_strength=prior_leads * base_rate * (1 - base_rate) / len(y),
        worked_rows=np.flatnonzero(worked))


def _scale(d: _Design, l2: float | None) -> float:
    """Points per unit of log-odds.

    From the input's calibration (a logistic fit of conversion on its
    total) when it ranks at all; but never so large that the tuned totals
    spread wider than the input's: a weak input would otherwise blow the
    new points up.
    """
    _, slope = _logistic_fit(d.old_total, d.y)
    spread = float(np.std(d.old_total)) or 1.0
    calibrated = 1 / slope if slope > 1 / (100 * spread) else spread
    scale = calibrated
    for _ in range(3):
        _, beta = d.fit(scale, l2 if l2 is not None else 1e-3)
        eta = d.persona_fit / scale + d.x @ beta
        scale = min(calibrated, spread / max(float(np.std(eta)), 1e-12))
    return scale


def _choose_l2(d: _Design, scale: float, l2: float | None) -> tuple[float, pd.DataFrame]:
    """The penalty given, or the one of ``_L2_GRID`` with the lowest held-out log-loss, with each one's."""
    cv_rows = []
    if l2 is None:
        for penalty in _L2_GRID:
            losses = []
            for f in range(d.k):
                train, test = d.fold != f, d.fold == f
                b0, beta = d.fit(scale, penalty, train)
                losses.append(_log_loss(b0 + d.persona_fit[test] / scale + d.x[test] @ beta, d.y[test]))
            cv_rows.append((penalty, float(np.mean(losses))))
        l2 = min(cv_rows, key=lambda row: row[1])[0]
    return l2, pd.DataFrame(cv_rows, columns=["l2", "held_out_log_loss"])


def _validate_on_folds(d: _Design, scale: float, l2: float, leads: pd.DataFrame, events: pd.DataFrame | None, *,
                       now: Now, threads: int | None) -> pd.DataFrame:
    """Held-out validation: tuned on the other folds, ranked on this one."""
    validation_rows = []
    for f in range(d.k):
        train, test = d.fold != f, d.fold == f
        _, beta = d.fit(scale, l2, train)
        pb, _ = d.candidate(beta, scale)
        totals = score_frame(pb, leads, events, now=now, explain="none", route=False,
                             threads=threads)["total"].to_numpy()[d.worked_rows[test]]
        validation_rows.append((f, int(test.sum()), roc_auc(d.old_total[test], d.y[test]), roc_auc(totals, d.y[test])))
    return pd.DataFrame(validation_rows, columns=["fold", "leads", "auc_before", "auc_after"])


def _fit_base(d: _Design, new: Playbook, points: np.ndarray) -> list[tuple]:
    """Moves the base points so that the fewest leads are tied at the fit's bounds.

    Reads the fit before its clamp, with the tuned points; returns the
    setting row, if the base moved.
    """
    rules = d.rules
    fit_columns = np.flatnonzero((rules["kind"] == "fit").to_numpy())
    tuned_points = dict(zip(d.tuned.tolist(), points.tolist(), strict=False))
    all_points = rules["points"].to_numpy()
    factors = np.array([tuned_points.get(c, all_points[c]) / all_points[c] for c in fit_columns])
    base = new.message.fit.base_points
    raw = base + d.persona_fit + (d.m[:, fit_columns] @ factors if len(fit_columns) else 0.0)
    lo = new.message.fit.min if new.message.fit.HasField("min") else 0.0
    hi = new.message.fit.max if new.message.fit.HasField("max") else _CORE_LIMITS["max_fit"]
    best, clamped_before, clamped_after = _fewest_clamped(raw - base, base, lo, hi)
    if clamped_after >= clamped_before:
        return []
    new.message.fit.base_points = best
    return [("fit.base_points", base, best,
             f"{clamped_after} worked leads at the fit's bounds instead of {clamped_before}")]


def _changes(d: _Design, points: np.ndarray, beta: np.ndarray, scale: float, min_support: int) -> pd.DataFrame:
    """One row per tuned rule, with why its points were kept or bounded."""
    coefficient = np.full(len(d.tuned), np.nan)
    coefficient[d.free] = beta
    change_rows = []
    for j, column in enumerate(d.tuned):
        note = ""
        if d.support[j] == 0:
            note = "never fired: kept"
        elif not d.free[j]:
            note = f"fired for {d.support[j]} leads (fewer than min_support={min_support}): kept"
        elif abs(points[j]) == _MIN_POINTS and abs(beta[np.count_nonzero(d.free[:j])] * scale) < _MIN_POINTS:
            note = "no measurable effect: review whether to keep the rule"
        elif abs(points[j]) == d.bound_points[j]:
            note = f"bounded at {d.bound_points[j]:g} points"
        change_rows.append((d.kind_of[j], d.rules["rule_id"].iat[column], int(d.support[j]),
                            float(d.old_points[j]), float(points[j]), float(coefficient[j]),
                            bool(np.sign(points[j]) != np.sign(d.old_points[j])), note))
    return pd.DataFrame(change_rows, columns=["kind", "rule_id", "support", "old_points", "new_points",
                                              "coefficient", "sign_flip", "note"])


def _meet_targets(old: Playbook, new: Playbook, after_scores: pd.DataFrame, outcomes, setting_rows: list[tuple], *,
                  weeks: float | None, weekly_mql: float | None, min_mql_conversion: float | None,
                  weekly_sql: float | None, min_sql_conversion: float | None) -> list[tuple]:
    """Sets the MQL/SQL totals that meet the weekly volume or conversion targets; the setting rows with theirs."""
    message = new.message
    thresholds = suggest_thresholds(
        after_scores, outcomes, weeks=weeks, playbook=new,
        weekly_mql=weekly_mql, min_mql_conversion=min_mql_conversion, weekly_sql=weekly_sql,
        min_sql_conversion=min_sql_conversion)
    # Rounded down to 0.1, for a Playbook people read; the leads at the cut stay in.
    for stage, total in (("mql", thresholds.mql_min_total), ("sql", thresholds.sql_min_total)):
        threshold = getattr(message.thresholds, stage)
        cut = np.floor(total * 10) / 10
        if stage == "sql":
            cut = max(cut, message.thresholds.mql.min_total)
        if cut != threshold.min_total:
            setting_rows = [r for r in setting_rows if r[0] != f"thresholds.{stage}.min_total"]
            setting_rows.append((f"thresholds.{stage}.min_total", getattr(old.message.thresholds, stage).min_total,
                                 float(cut), "meets the weekly volume / conversion target"))
            threshold.min_total = cut
    return setting_rows


def _unless_worse(result: TuningResult, force: bool, folds: int) -> TuningResult:
    """Refuses a result that ranks held-out leads worse than the input, unless forced."""
    auc_before, auc_after = result.validation_auc
    if auc_after < auc_before:
        if not force:
            raise TuningError(
                f"the tuned Playbook ranks held-out leads worse than the input (ROC AUC {auc_after:.4f} < "
                f"{auc_before:.4f} over {folds} folds); nothing was changed. Give force=True to get it anyway "
                "(the refused result is in .result).", result)
        result = dataclasses.replace(result, forced=True)
    return result


def tune(playbook: PlaybookLike, leads: pd.DataFrame, events: pd.DataFrame | None,
         outcomes: pd.DataFrame | np.ndarray | pd.Series, *, now: Now,
         l2: float | None = None, kinds: Sequence[str] = ("fit", "engagement"),
         folds: int = 5, seed: int = 0, min_support: int = 10, prior_leads: float = 20,
         max_points: float | None = None,
         force: bool = False, rebalance: bool = True,
         weeks: float | None = None, weekly_mql: float | None = None,
         min_mql_conversion: float | None = None, weekly_sql: float | None = None,
         min_sql_conversion: float | None = None, version: str | None = None,
         target: str = "converted", fit_base: bool = True,
         threads: int | None = None) -> TuningResult:
    """Fits rule points to outcomes and thresholds to targets; returns a new Playbook.

    Safe by default:

    - The scale comes from the input: a logistic fit of conversion on the
      input's total gives the points worth one unit of log-odds (never so
      many that the tuned totals spread wider than the input's), so tuned
      points speak the units of the Playbook people wrote, whatever the
      personas.
    - Each rule's points are a logistic regression coefficient shrunk
      towards the rule's current points: the input's points count as
      ``prior_leads`` leads of evidence, plus a penalty ``l2`` chosen by
      cross-validation on the leads unless given. A rule that fired for few
      leads stays near its points; one that fired for fewer than
      ``min_support`` worked leads keeps them.
    - Persona criteria are held fixed (the personas marketing and sales
      agreed on): the persona fit enters the fit as it is.
    - With ``fit_base`` (the default, when fit rules are tuned), the fit's
      base points (``fit.base_points``, the intercept) are moved so that the
      fewest worked leads fall beyond the fit's bounds, where the clamp
      would tie them (all at 0, say): grades and thresholds then tell
      those leads apart.
    - Points are bounded: within the core's limits and, unless
      ``max_points`` says otherwise, twice the largest points of their kind
      in the input.
    - The tuning is repeated on ``folds`` folds: a Playbook tuned on the
      other folds must rank each held-out fold at least as well as the
      input does on average (ROC AUC of the total), or :class:`TuningError`
      is raised, unless ``force=True``.
    - With ``rebalance`` (the default), grade bands, the MQL/SQL bounds and
      the hand-raisers' minimum fit move so that each keeps the share of
      leads it had with the input; then a weekly volume or conversion target,
      when given, sets the MQL/SQL total (:func:`suggest_thresholds`).

    Disqualified leads are left out of the fit (they are never worked).

    Args:
        kinds: Which rules to tune: "fit" and/or "engagement".
        l2: The penalty; None to choose it by cross-validation.
        folds, seed: The cross-validation folds (stratified on outcome).
        min_support: Rules firing for fewer worked leads keep their points.
        prior_leads: How many leads of evidence the input's points count as.
        max_points: Bound on the absolute points of a tuned rule.
        force: Return the tuned Playbook even if it validates worse.
        weeks: Weeks the leads arrived over; needed only with a weekly
            target (default: the span of ``leads.created_at``).
        version: The new Playbook's version (default: the old one + "-tuned").
        fit_base: Fit the base points (see above); False keeps them.
        target: The outcome column to learn from when ``outcomes`` is a
            DataFrame: "converted" (the default), "won", or sales'
            acceptance (e.g. "accepted"): any boolean column. The
            evaluations and thresholds then measure that outcome too.

    Raises:
        ValueError: no outcome varies, too few conversions to validate, or a
            target is out of range.
        TuningError: the tuned Playbook validates worse than the input.
    """
    _check_options(kinds, l2, folds, min_support, prior_leads, max_points)
    outcomes = _outcomes_for(outcomes, target)
    weekly = weekly_mql is not None or weekly_sql is not None
    if weeks is None and weekly:
        weeks = _weeks(leads)
    _check_weeks(weeks, weekly)

    old = as_playbook(playbook).validate()
    before_scores = score_frame(old, leads, events, now=now, explain="none", threads=threads)
    frame = align_outcomes(before_scores, outcomes)
    matrix = rule_matrix(old, leads, events, now=now, threads=threads)
    d = _design(old, frame, matrix, kinds=kinds, folds=folds, seed=seed, min_support=min_support,
                prior_leads=prior_leads, max_points=max_points)
    scale = _scale(d, l2)
    l2, cross_validation = _choose_l2(d, scale, l2)
    validation = _validate_on_folds(d, scale, l2, leads, events, now=now, threads=threads)

    _, beta = d.fit(scale, l2)
    new, points = d.candidate(beta, scale)
    base_rows = _fit_base(d, new, points) if fit_base and "fit" in kinds else []
    changes = _changes(d, points, beta, scale, min_support)
    message = new.message
    message.metadata.version = version or f"{old.version}-tuned"
    new.validate()

    after_scores = score_frame(new, leads, events, now=now, explain="none", threads=threads)
    setting_rows = base_rows + (_rebalance(old, new, before_scores, after_scores) if rebalance else [])
    if setting_rows:
        new.validate()
        after_scores = score_frame(new, leads, events, now=now, explain="none", threads=threads)
    if weekly or min_mql_conversion is not None or min_sql_conversion is not None:
        setting_rows = _meet_targets(old, new, after_scores, outcomes, setting_rows, weeks=weeks,
                                     weekly_mql=weekly_mql, min_mql_conversion=min_mql_conversion,
                                     weekly_sql=weekly_sql, min_sql_conversion=min_sql_conversion)
        new.validate()
        after_scores = score_frame(new, leads, events, now=now, explain="none", threads=threads)
    thresholds = suggest_thresholds(after_scores, outcomes, weeks=weeks, playbook=new)
    settings = pd.DataFrame(setting_rows, columns=["setting", "old", "new", "reason"])
    result = TuningResult(new, changes, settings, thresholds, playbook_diff(old, new),
                          evaluate(before_scores, outcomes), evaluate(after_scores, outcomes), float(l2),
                          cross_validation, validation, float(scale))
    return _unless_worse(result, force, d.k)
