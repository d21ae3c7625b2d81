"""How well scores predict outcomes: the figures of the weekly review."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.special
import scipy.stats

__all__ = ["Evaluation", "evaluate", "roc_auc", "align_outcomes"]


def _series_on(scores: pd.DataFrame, series: pd.Series) -> np.ndarray:
    """The values of ``series`` for each row of ``scores``, matched on the index.

    A Series indexed like ``scores`` is aligned on that index; one indexed
    by lead id, on the lead ids. Anything else is refused: matching by
    position would pair outcomes with the wrong leads without a word.
    """
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise ValueError(f"outcomes lists index {dup!r} more than once")
    for keys, _what in ((scores.index, "the index of scores"),
                       (pd.Index(scores["lead_id"]), "the lead ids of scores")):
        missing = keys.difference(series.index)
        if len(missing) == 0 and len(series) == len(keys):
            return series.reindex(keys).to_numpy()
    missing = scores.index.difference(series.index)
    extra = series.index.difference(scores.index)
    example = "; ".join(([f"no outcome for index {missing[0]!r}"] if len(missing) else [])
                        + ([f"index {extra[0]!r} is not a scored lead"] if len(extra) else []))
    raise ValueError(f"outcomes' index matches neither the index nor the lead ids of scores ({example}); "
                     "give a Series indexed like scores, or a DataFrame with lead_id and converted")


def align_outcomes(scores: pd.DataFrame, outcomes: pd.DataFrame | pd.Series | np.ndarray) -> pd.DataFrame:
    """The scores with converted/won/revenue columns, matched on lead_id or the index.

    ``outcomes`` is a DataFrame with lead_id and converted (won and revenue
    optional), matched on lead_id; a DataFrame with converted but no
    lead_id, or a boolean Series, matched on the index (that of ``scores``,
    or the lead ids); or a NumPy array of conversions in the order of
    ``scores``. A mismatch (a scored lead without an outcome, an outcome
    for no scored lead) is refused.
    """
    if not isinstance(scores, pd.DataFrame) or "lead_id" not in scores.columns or "total" not in scores.columns:
        raise ValueError("scores must be the DataFrame returned by score_frame (lead_id, total, grade, stage...)")
    if len(scores) == 0:
        raise ValueError("scores is empty: there is nothing to evaluate")
    if scores.index.has_duplicates:
        raise ValueError("scores has a duplicated index; outcomes could not be matched to it")
    if isinstance(outcomes, pd.DataFrame) and "lead_id" not in outcomes.columns and "converted" in outcomes.columns:
        columns = [c for c in ("converted", "won", "revenue") if c in outcomes.columns]
        joined = scores.copy()
        for column in columns:
            joined[column] = _series_on(scores, outcomes[column])
    elif isinstance(outcomes, pd.DataFrame):
        missing = {"lead_id", "converted"} - set(outcomes.columns)
        if missing:
            raise KeyError(f"outcomes needs the columns {sorted(missing)}; it has {list(outcomes.columns)}")
        if outcomes["lead_id"].duplicated().any():
            dup = outcomes["lead_id"][outcomes["lead_id"].duplicated()].iloc[0]
            raise ValueError(f"outcomes lists lead {dup!r} more than once")
        if outcomes["converted"].isna().any():
            raise ValueError("outcomes.converted holds missing values; give True or False for every lead")
        columns = [c for c in ("lead_id", "converted", "won", "revenue") if c in outcomes.columns]
        joined = scores.merge(outcomes[columns], on="lead_id", how="left", validate="many_to_one",
                              suffixes=("", "_outcome"))
        if joined["converted"].isna().any():
            lead = joined.loc[joined["converted"].isna(), "lead_id"].iloc[0]
            raise ValueError(f"no outcome for lead {lead!r}: every scored lead needs one")
        joined.index = scores.index
    elif isinstance(outcomes, pd.Series):
        joined = scores.copy()
        joined["converted"] = _series_on(scores, outcomes)
    else:
        values = np.asarray(outcomes)
        if values.shape != (len(scores),):
            raise ValueError(f"outcomes has shape {values.shape}; expected ({len(scores)},), one per scored lead")
        joined = scores.copy()
        joined["converted"] = values
    if pd.isna(joined["converted"]).any():
        raise ValueError("converted holds missing values; give True or False for every lead")
    joined["converted"] = joined["converted"].astype(bool)
    if "won" in joined.columns:
        joined["won"] = joined["won"].astype(bool)
    return joined


def roc_auc(score: np.ndarray, converted: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a converted lead outscores one that did not."""
    score = np.asarray(score, dtype=float)
    converted = np.asarray(converted, dtype=bool)
    positives = int(converted.sum())
    negatives = len(converted) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC AUC needs both converted and unconverted leads")
    ranks = scipy.stats.rankdata(score)
    return float((ranks[converted].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _group_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    groups = frame.groupby(by, observed=False)
    table = pd.DataFrame({
        "leads": groups.size(),
        "conversions": groups["converted"].sum(),
    })
    table["share"] = table["leads"] / len(frame)
    table["conversion_rate"] = table["conversions"] / table["leads"].where(table["leads"] > 0)
    if "won" in frame.columns:
        table["won"] = groups["won"].sum()
    if "revenue" in frame.columns:
        table["revenue"] = groups["revenue"].sum()
    return table


def _deciles(frame: pd.DataFrame, score: str) -> pd.DataFrame:
    """Decile 1 holds the best-scored tenth of the leads.

    Leads with equal scores share a decile (that of the first of them in
    score order), so that the table depends on the scores alone, never on
    the order of the rows; a decile that a large tie skips is empty.
    """
    values = frame[score].to_numpy(dtype=float)
    above = len(values) - scipy.stats.rankdata(values, method="max")  # leads scored strictly higher
    decile = above * 10 // len(values) + 1
    ranked = frame.assign(decile=pd.Categorical(decile, categories=range(1, 11)))
    table = _group_table(ranked, "decile")
    table.index = table.index.astype(int)
    table["min_score"] = ranked.groupby("decile", observed=False)[score].min()
    base = frame["converted"].mean()
    table["lift"] = table["conversion_rate"] / base if base > 0 else np.nan
    table["cumulative_capture"] = table["conversions"].cumsum() / max(frame["converted"].sum(), 1)
    return table


def _logistic_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of P(y) = 1 / (1 + exp(-(a + b x))), by maximum likelihood."""
    mean, std = x.mean(), x.std() or 1.0
    z = (x - mean) / std

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        t = params[0] + params[1] * z
        p = scipy.special.expit(t)
        value = np.sum(np.logaddexp(0, t) - y * t)
        grad = np.array([np.sum(p - y), np.sum((p - y) * z)])
        return value, grad

    result = scipy.optimize.minimize(loss, np.zeros(2), jac=True, method="L-BFGS-B")
    a, b = result.x
    return float(a - b * mean / std), float(b / std)


def _calibration(frame: pd.DataFrame, score: str, bins: int) -> tuple[pd.DataFrame, tuple[float, float]]:
    x = frame[score].to_numpy(dtype=float)
    y = frame["converted"].to_numpy(dtype=float)
    a, b = _logistic_fit(x, y)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    bucket = pd.cut(x, edges, include_lowest=True) if len(edges) > 1 else np.zeros(len(x))
    table = pd.DataFrame({"score": x, "converted": y, "bin": bucket}).groupby("bin", observed=True).agg(
        leads=("converted", "size"), mean_score=("score", "mean"), observed_rate=("converted", "mean"))
    table["predicted_rate"] = scipy.special.expit(a + b * table["mean_score"])
    return table, (a, b)


@dataclass(frozen=True)
class Evaluation:
    """Scores measured against outcomes.

    Attributes:
        leads: Leads evaluated.
        base_rate: Share of them that converted.
        roc_auc: Chance that a converted lead outscores an unconverted one.
        lift: Per score decile (1 = best tenth; equal scores share a
            decile, whatever the order of the rows): leads, conversions,
            conversion_rate, lift over the base rate, cumulative_capture.
        by_grade, by_stage: Volume and conversion per grade and per stage.
        mql: Precision and volume at the MQL threshold: mql_leads,
            mql_share, precision (conversion rate of MQLs), recall (share of
            conversions that were MQLs), other_rate (conversion of the rest).
        calibration: Per score bin (quantile edges; equal scores share a
            bin): leads, mean_score, observed_rate, and
            predicted_rate from a logistic fit of conversion on the score.
        logistic: (intercept, slope) of that fit: P = 1/(1+exp(-(a + b*score))).
    """

    leads: int
    base_rate: float
    roc_auc: float
    lift: pd.DataFrame
    by_grade: pd.DataFrame
    by_stage: pd.DataFrame
    mql: pd.Series
    calibration: pd.DataFrame
    logistic: tuple[float, float]
    score: str

    def summary(self) -> str:
        """The headline figures in a few lines."""
        top = self.lift.iloc[0]
        return (f"{self.leads} leads, {self.base_rate:.1%} converted; ROC AUC {self.roc_auc:.3f}; "
                f"top decile converts at {top['conversion_rate']:.1%} (lift {top['lift']:.2f}); "
                f"MQL: {int(self.mql['mql_leads'])} leads ({self.mql['mql_share']:.1%}), "
                f"precision {self.mql['precision']:.1%}, recall {self.mql['recall']:.1%}")


def evaluate(scores: pd.DataFrame, outcomes: pd.DataFrame | pd.Series | np.ndarray, *,
             score: str = "total", bins: int = 10) -> Evaluation:
    """Measures scores from :func:`smarketing.score_frame` against outcomes.

    Args:
        scores: The scored leads.
        outcomes: lead_id and converted (won, revenue optional) per lead;
            or converted per row matched on the index (a boolean Series, or
            a DataFrame without lead_id); or a NumPy array in the order of
            ``scores``. See :func:`align_outcomes`.
        score: The score column to rank leads by.
        bins: Score bins of the calibration table.
    """
    if bins < 2:
        raise ValueError("bins must be at least 2")
    frame = align_outcomes(scores, outcomes)
    if score not in scores.columns:
        raise KeyError(f"scores has no column {score!r}")
    converted = frame["converted"].to_numpy()
    is_mql = (frame["stage"] == "mql").to_numpy()
    conversions = int(converted.sum())
    mql = pd.Series({
        "mql_leads": int(is_mql.sum()),
        "mql_share": float(is_mql.mean()),
        "precision": float(converted[is_mql].mean()) if is_mql.any() else np.nan,
        "recall": float(converted[is_mql].sum() / conversions) if conversions else np.nan,
        "other_rate": float(converted[~is_mql].mean()) if (~is_mql).any() else np.nan,
    })
    calibration, logistic = _calibration(frame, score, bins)
    return Evaluation(
        leads=len(frame),
        base_rate=float(converted.mean()),
        roc_auc=roc_auc(frame[score].to_numpy(), converted),
        lift=_deciles(frame, score),
        by_grade=_group_table(frame, "grade"),
        by_stage=_group_table(frame, "stage"),
        mql=mql,
        calibration=calibration,
        logistic=logistic,
        score=score,
    )
