"""Benchmark of the continuous side against the proven optima (issue #4).

1. The speed goal: p = 0.4 on the paper's peak/plateau data, 10 seeds, default CLI settings
   (continuation schedule): neurons reached (trained = merged network, and polished), CPU seconds
   per run, hit rate (a hit: the network fits and has the proven number of neurons).
2. The published scheme (schedule "paper", no early stop) on the same data, with a step budget,
   as the baseline; 3 seeds.
3. Weight decay and no regularisation on the same data (the paper's baselines), likewise.
4. Zigzag and noisy sine against their optima (closed form of SPEC 4).

CPU seconds are process time of the training loop alone (the machine is shared: wall time is
noisier). Prints tables; never fails on timing. Run: .venv/bin/python -m benchmarks.bench_train
[--seeds N] [--paper-steps S] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from tabulate import tabulate

from sparsest.core.dataset import load_dataset
from sparsest.training.trainer import LpTrainer
from sparsest.exact.closed_form import min_knots

INSTANCES = Path(__file__).resolve().parent.parent / "instances"


def run(name: str, seeds, **options) -> list[dict]:
    data = load_dataset(INSTANCES / f"{name}.json")
    optimum = min_knots(data)
    rows = []
    for seed in seeds:
        r = LpTrainer(seed=seed, **options).fit(data).result_
        polished = r.polished.check.neurons if (r.polished and r.polished.feasible) else None
        rows.append({
            "instance": name, "method": r.method, "schedule": r.settings["schedule"], "seed": seed,
            "optimum": optimum, "neurons": r.neurons, "raw": r.neurons_raw, "fit": r.fit,
            "residual": r.max_abs_residual, "polished": polished, "steps": r.steps, "cpu_s": r.cpu_seconds,
            "hit": r.fits and r.neurons == optimum, "hit_polished": polished == optimum,
        })
    return rows


def summary(rows: list[dict]) -> list:
    cpu = [row["cpu_s"] for row in rows]
    first = rows[0]
    return [first["instance"], first["method"], first["schedule"], first["optimum"], len(rows),
            f"{sum(r['hit'] for r in rows)}/{len(rows)}", f"{sum(r['hit_polished'] for r in rows)}/{len(rows)}",
            " ".join(str(r["neurons"]) if r["fit"] in ("interpolates", "approximate") else f"{r['neurons']}!"
                     for r in rows),
            " ".join(str(r["raw"]) for r in rows),
            " ".join("-" if r["polished"] is None else str(r["polished"]) for r in rows),
            f"{statistics.median(cpu):.1f}", f"{max(cpu):.1f}", int(statistics.median(r["steps"] for r in rows))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds for the speed goal (default 10)")
    parser.add_argument("--paper-steps", type=int, default=20_000,
                        help="step budget of the published scheme and the baselines (default 20000)")
    parser.add_argument("--quick", action="store_true", help="3 seeds everywhere, 5000-step budgets")
    args = parser.parse_args()
    seeds = range(3 if args.quick else args.seeds)
    few = range(3)
    budget = 5000 if args.quick else args.paper_steps

    groups = [
        run("peak_plateau", seeds, p=0.4, schedule="continuation"),
        run("peak_plateau", few, p=0.4, schedule="paper", steps=budget, patience=0),
        run("peak_plateau", few, method="weight-decay", schedule="paper", steps=budget, patience=0),
        run("peak_plateau", few, method="none", schedule="paper", steps=budget, patience=0),
        run("zigzag", seeds, p=0.4, schedule="continuation"),
        run("noisy_sine", few, p=0.4, schedule="continuation", steps=budget),
    ]
    headers = ["instance", "method", "schedule", "optimum", "runs", "hits", "hits polished",
               "neurons (! = fit failed)", "raw", "polished", "median cpu s", "max cpu s", "median steps"]
    print(tabulate([summary(rows) for rows in groups], headers=headers))
    goal = groups[0]
    slow = [r for r in goal if r["cpu_s"] >= 15.0]
    print(f"\nspeed goal (p=0.4, peak_plateau, continuation, {len(goal)} seeds): "
          f"{sum(r['hit'] for r in goal)} trained hits, {sum(r['hit_polished'] for r in goal)} polished hits, "
          f"{len(goal) - len(slow)} runs under 15 s CPU (target: >= 9 of 10 hits, each under 15 s)")


if __name__ == "__main__":
    main()
