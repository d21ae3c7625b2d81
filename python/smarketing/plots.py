"""Charts for the weekly review (matplotlib; install the ``plot`` extra).

Each function draws on ``ax`` (a new figure's axes when None) and returns it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .evaluation import Evaluation, align_outcomes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["score_distribution", "lift_curve", "calibration", "funnel", "review_objectives", "review_funnel",
           "review_sla_by_owner", "review_rejection_reasons", "review_weekly"]

_FUNNEL = ["new", "nurture", "mql", "sal", "sql", "opportunity", "customer"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'smarketing[plot]'") from None
    return plt.subplots(figsize=(7, 4))[1]


def score_distribution(scores: pd.DataFrame, outcomes: pd.DataFrame | pd.Series | np.ndarray, *,
                       score: str = "total", bins: int = 40, ax: Axes | None = None) -> Axes:
    """Histograms of the score of converted and unconverted leads, each normalised."""
    frame = align_outcomes(scores, outcomes)
    ax = _axes(ax)
    edges = np.histogram_bin_edges(frame[score], bins=bins)
    for converted, label in ((False, "not converted"), (True, "converted")):
        values = frame.loc[frame["converted"] == converted, score]
        if len(values):
            ax.hist(values, bins=edges.tolist(), density=True, alpha=0.55, label=f"{label} ({len(values)})")
    ax.set_xlabel(f"{score} score")
    ax.set_ylabel("density")
    ax.set_title("Score by outcome")
    ax.legend()
    return ax


def lift_curve(evaluation: Evaluation, *, ax: Axes | None = None) -> Axes:
    """Lift per score decile (bars) and the share of conversions captured (line)."""
    ax = _axes(ax)
    lift = evaluation.lift
    ax.bar(lift.index, lift["lift"], color="tab:blue", alpha=0.7, label="lift")
    ax.axhline(1, color="grey", linewidth=0.8)
    ax.set_xlabel("score decile (1 = best)")
    ax.set_ylabel("lift over base rate")
    ax.set_xticks(list(lift.index))
    capture = ax.twinx()
    capture.plot(lift.index, lift["cumulative_capture"], color="tab:orange", marker="o",
                 label="conversions captured")
    capture.set_ylim(0, 1.05)
    capture.set_ylabel("cumulative share of conversions")
    ax.set_title(f"Lift (ROC AUC {evaluation.roc_auc:.3f})")
    return ax


def calibration(evaluation: Evaluation, *, ax: Axes | None = None) -> Axes:
    """Observed conversion per score bin against the logistic fit of the score."""
    ax = _axes(ax)
    table = evaluation.calibration
    ax.plot(table["mean_score"], table["observed_rate"], marker="o", label="observed")
    ax.plot(table["mean_score"], table["predicted_rate"], linestyle="--", label="logistic fit")
    ax.set_xlabel(f"mean {evaluation.score} score of the bin")
    ax.set_ylabel("conversion rate")
    ax.set_title("Calibration")
    ax.legend()
    return ax


def funnel(scores: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Leads per lifecycle stage, in funnel order, with disqualified leads apart."""
    if "stage" not in scores.columns:
        raise KeyError("scores has no stage column: pass score_frame's result")
    ax = _axes(ax)
    counts = scores["stage"].astype(str).value_counts()
    stages = [s for s in _FUNNEL if counts.get(s, 0)] + ["disqualified"]
    values = [int(counts.get(s, 0)) for s in stages]
    colors = ["tab:grey" if s == "disqualified" else "tab:green" for s in stages]
    ax.barh(stages[::-1], values[::-1], color=colors[::-1])
    for y, value in enumerate(values[::-1]):
        ax.text(value, y, f" {value}", va="center")
    ax.set_xlabel("leads")
    ax.set_title("Funnel")
    return ax


_STATUS_COLORS = {"on_track": "tab:green", "at_risk": "tab:orange", "off_track": "tab:red"}


def review_objectives(review, *, ax: Axes | None = None) -> Axes:
    """Share of each objective's target done, with the pace expected by now as a tick."""
    ax = _axes(ax)
    o = review.objectives
    names = list(o["objective"])[::-1]
    done = [0.0 if pd.isna(v) else float(v) for v in o["share_done"]][::-1]
    pace = [float(e) / t if t else 0.0 for e, t in zip(o["expected_by_now"], o["target"], strict=False)][::-1]
    colors = [_STATUS_COLORS.get(s, "tab:grey") for s in o["status"]][::-1]
    ax.barh(names, done, color=colors)
    ax.scatter(pace, names, marker="|", s=300, color="black", label="pace expected by now")
    ax.set_xlabel("share of target")
    ax.set_title("Objectives")
    ax.legend(loc="lower right")
    return ax


def review_funnel(review, *, ax: Axes | None = None) -> Axes:
    """Leads entering each stage in the period, against the previous period."""
    ax = _axes(ax)
    f = review.funnel
    y = np.arange(len(f))[::-1]
    ax.barh(y + 0.2, f["entered"], height=0.4, color="tab:blue", label="period")
    ax.barh(y - 0.2, f["previous"], height=0.4, color="tab:grey", label="previous")
    ax.set_yticks(y, f["stage"])
    ax.set_xlabel("leads entering")
    ax.set_title("Funnel")
    ax.legend(loc="lower right")
    return ax


def review_sla_by_owner(review, *, ax: Axes | None = None) -> Axes:
    """Share of first touches on time per team and owner."""
    ax = _axes(ax)
    s = review.sla_by_owner.dropna(subset=["first_touch_on_time"])
    labels = [f"{t} / {o or '(queue)'}" for t, o in zip(s["team"], s["owner"], strict=False)]
    ax.barh(labels[::-1], list(s["first_touch_on_time"])[::-1], color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_xlabel("first touch on time")
    ax.set_title("SLA per owner")
    return ax


def review_rejection_reasons(review, *, ax: Axes | None = None) -> Axes:
    """Rejections per reason code, most frequent on top."""
    ax = _axes(ax)
    r = review.rejection_reasons
    ax.barh(list(r["reason"])[::-1], list(r["count"])[::-1], color="tab:purple")
    ax.set_xlabel("rejections")
    ax.set_title("Rejection reasons")
    return ax


def review_weekly(review, *, ax: Axes | None = None) -> Axes:
    """MQLs per week (bars) and the acceptance rate (line, right axis)."""
    ax = _axes(ax)
    w = review.weekly
    x = np.arange(len(w))
    ax.bar(x, w["mqls"], color="tab:blue", label="MQLs")
    ax.set_xticks(x, [week[-3:] for week in w["week"]])
    ax.set_ylabel("MQLs")
    rate_ax = ax.twinx()
    rate_ax.plot(x, w["acceptance_rate"].astype(float), color="tab:orange", marker="o", label="acceptance rate")
    rate_ax.set_ylim(0, 1)
    rate_ax.set_ylabel("acceptance rate")
    ax.set_title("Last 12 weeks")
    return ax
