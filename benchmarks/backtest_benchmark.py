"""Times sm.backtest, which replays each lead at its arrival and at each of its
events, on synthetic leads of about 20 events, against one score_frame of the
same leads at one time; prints both and their ratio.

    python benchmarks/backtest_benchmark.py [--leads 100000] [--repeat 3] [--threads N]

Outcomes are made as the example notebook makes them: the demo Playbook's
MQLs scored at the end, accepted when they converted, rejected otherwise.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import smarketing as sm

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-23T09:00:00Z"


def best_of(repeat: int, fn) -> tuple[float, float]:
    """The best wall-clock time of `repeat` runs, and the CPU time of the
    process (all threads) of that run."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    args = parser.parse_args()

    playbook = sm.Playbook.load(ROOT / "examples" / "playbooks" / "demo.yaml")
    history = sm.sample_leads(args.leads, seed=7, now=NOW, mean_events=20)
    scores = sm.score_frame(playbook, history.leads, history.events, now=NOW, explain="none", route=False)
    outcomes = history.outcomes.assign(mql=(scores["stage"] == "mql").to_numpy())
    outcomes["accepted"] = outcomes["mql"] & outcomes["converted"]
    outcomes["rejected"] = outcomes["mql"] & ~outcomes["converted"]
    data = sm.LeadData(history.leads, history.events, outcomes)
    print(f"{len(history.leads):,} leads, {len(history.events):,} events, threads: {args.threads or 'all'}")

    once, once_cpu = best_of(args.repeat, lambda: sm.score_frame(playbook, history.leads, history.events, now=NOW,
                                                       explain="none", route=False, threads=args.threads))
    result = sm.backtest(playbook, data, now=NOW, threads=args.threads)
    replay, replay_cpu = best_of(args.repeat, lambda: sm.backtest(playbook, data, now=NOW, threads=args.threads))
    decisions = int(result.leads["decisions"].sum())
    print(f"score_frame at one time: {once:.2f} s, {once_cpu:.2f} s of CPU ({len(history.leads) / once:,.0f} leads/s)")
    print(f"backtest (replay):       {replay:.2f} s, {replay_cpu:.2f} s of CPU ({len(history.leads) / replay:,.0f} leads/s, "
          f"{decisions:,} scorings, {decisions / len(history.leads):.1f} per lead), "
          f"{replay / once:.1f}x score_frame")
    print(result.summary().to_string())


if __name__ == "__main__":
    main()
