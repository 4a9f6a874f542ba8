"""Issue 10's goals on the held-out sets: instances drawn like the trainer's development sets with
seeds fixed after its tuning (benchmarks/fresh_train.py), default settings, p = 0.4, no polish.

    python -m benchmarks.bench_train_holdout [--details]
"""

from __future__ import annotations

import argparse
import time

from tabulate import tabulate

from benchmarks.bench_train import proven_neurons, run_group, summary
from benchmarks.fresh_train import HOLDOUT2_1D_SEED, HOLDOUT_1D_SEED, HOLDOUT_PLANTED_SEED, fresh_1d, fresh_planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="print every run")
    args = parser.parse_args()
    started = time.perf_counter()
    sets = [("holdout-1d", fresh_1d(seed=HOLDOUT_1D_SEED), range(3)),
            ("holdout2-1d", fresh_1d(seed=HOLDOUT2_1D_SEED), range(3)),
            ("holdout-planted", fresh_planted(seed=HOLDOUT_PLANTED_SEED), range(2))]
    table, everything = [], []
    for name, datasets, seeds in sets:
        rows = run_group(name, datasets, [proven_neurons(d) for d in datasets], seeds)
        table.append(summary(rows, "default"))
        everything += rows
    print(tabulate(table, headers=["set", "schedule", "runs", "interpolate", "hits (certified count)",
                                   "max excess neurons", "median cpu s", "max cpu s", "median steps"]))
    if args.details:
        print(tabulate([[r["instance"], r["seed"], r["optimum"], r["neurons"], r["interpolates"],
                         f"{r['relative_residual']:.1e}", f"{r['cpu_s']:.1f}"] for r in everything],
                       headers=["instance", "seed", "optimum", "neurons", "interp", "resid/scale", "cpu s"]))
    print(f"\ntotal {time.perf_counter() - started:.0f} s (wall)")


if __name__ == "__main__":
    main()
