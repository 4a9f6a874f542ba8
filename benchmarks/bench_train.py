"""Benchmark of the l^p trainer against the proven optima (issue 10's goals; never fails on timing).

Groups (p = 0.4, no polish unless said; a *hit* is a trained network that interpolates at
1e-7 max(1, max|y|) with the certified number of neurons):

1. ``fresh-1d``: the fresh univariate set of benchmarks/fresh_train.py (24 instances, N = 5..30,
   integer and float data, x and y scales 1e-2..1e3) x 3 seeds, default settings (continuation);
   optimum by the closed form. Goal: >= 90% interpolate, >= 80% hits, median < 5 s per run.
2. ``fresh-planted``: the fresh planted 2-D / 3-D set (12 instances, N = 6..12) x 2 seeds, default
   settings; optimum by sparsest.exact.certify. Goal: >= 70% hits.
3. ``peak-no-skip``: the paper's peak/plateau data without the skip term (its own setting, as in
   benchmarks/paper_experiments.py) x 10 seeds. Goal: 10 of 10 at 3 neurons, interpolating.
4. ``shipped-1d``: the shipped 1-D instances (peak_plateau, zigzag, convex_square, collinear_run,
   noisy_sine) x 3 seeds.
5. The published scheme (schedule "paper", its constant lambda, no early stop) on the same sets
   with a step budget (``--paper-steps``, default 20000: fewer than its 100k steps, to fit the
   time), as the baseline. ``--skip-paper`` leaves it out.
6. ``--ablations`` (alone): which part of the default does the work, fresh 1-D set, seed 0: the
   default, l^p without prune-and-refit, and no penalty ("none") with prune-and-refit.

CPU seconds are the process time of one fit (the machine is shared: say so when quoting them).
Run: python -m benchmarks.bench_train [--seeds N] [--paper-steps S] [--quick] [--skip-paper] [--ablations]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from tabulate import tabulate

from benchmarks.fresh_train import fresh_1d, fresh_planted
from benchmarks.paper_experiments import one_d_instance
from sparsest.core.dataset import load_dataset
from sparsest.exact.certify import certify
from sparsest.training.trainer import LpTrainer

INSTANCES = Path(__file__).resolve().parent.parent / "instances"
SHIPPED_1D = ("peak_plateau", "zigzag", "convex_square", "collinear_run", "noisy_sine")


def proven_neurons(dataset, time_limit: float = 120.0) -> int | None:
    """The certified optimum (neurons) or None when the certificate leaves a gap."""
    cert = certify(dataset, time_limit=time_limit)
    return cert.upper_bound if cert.status == "optimal" and cert.lower_bound == cert.upper_bound else None


def run_group(name: str, datasets, optima, seeds, **options) -> list[dict]:
    rows = []
    for dataset, optimum in zip(datasets, optima):
        for seed in seeds:
            r = LpTrainer(p=0.4, seed=seed, polish=False, **options).fit(dataset).result_
            rows.append({"group": name, "instance": dataset.name, "seed": seed, "optimum": optimum,
                         "neurons": r.neurons, "interpolates": r.interpolates,
                         "hit": r.interpolates and r.neurons == optimum,
                         "relative_residual": r.max_abs_residual / dataset.interpolation_tol * 1e-7,
                         "cpu_s": r.cpu_seconds, "steps": r.steps,
                         "finishing": None if r.finishing is None else r.finishing.to_json()})
    return rows


def summary(rows: list[dict], schedule: str) -> list:
    cpu = [r["cpu_s"] for r in rows]
    known = [r for r in rows if r["optimum"] is not None]
    excess = [r["neurons"] - r["optimum"] for r in known if r["interpolates"]]
    return [rows[0]["group"], schedule, len(rows),
            f"{sum(r['interpolates'] for r in rows)}/{len(rows)} ({100 * sum(r['interpolates'] for r in rows) / len(rows):.0f}%)",
            f"{sum(r['hit'] for r in known)}/{len(known)} ({100 * sum(r['hit'] for r in known) / max(1, len(known)):.0f}%)",
            f"{max(excess, default=0)}", f"{statistics.median(cpu):.2f}", f"{max(cpu):.1f}",
            int(statistics.median(r["steps"] for r in rows))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per fresh 1-D instance (default 3)")
    parser.add_argument("--paper-steps", type=int, default=20_000,
                        help="step budget of the published scheme (default 20000; the paper ran 100000)")
    parser.add_argument("--quick", action="store_true", help="1 seed, 8 + 4 fresh instances, 5000 paper steps")
    parser.add_argument("--skip-paper", action="store_true", help="leave the published scheme out")
    parser.add_argument("--details", action="store_true", help="print every run")
    parser.add_argument("--ablations", action="store_true", help="only the ablations of group 6")
    args = parser.parse_args()
    if args.ablations:
        ablations()
        return
    seeds = range(1 if args.quick else args.seeds)
    budget = 5000 if args.quick else args.paper_steps
    started = time.perf_counter()

    one_d = fresh_1d()[: 8 if args.quick else None]
    planted = fresh_planted()[: 4 if args.quick else None]
    shipped = [load_dataset(INSTANCES / f"{name}.json") for name in SHIPPED_1D]
    peak = one_d_instance()
    sets = [
        ("fresh-1d", one_d, [proven_neurons(d) for d in one_d], seeds),
        ("fresh-planted", planted, [proven_neurons(d) for d in planted], range(2)),
        ("peak-no-skip", [peak], [proven_neurons(peak)], range(10)),
        ("shipped-1d", shipped, [proven_neurons(d) for d in shipped], range(3)),
    ]
    print(f"certificates: {time.perf_counter() - started:.0f} s")
    table, everything = [], []
    for name, datasets, optima, group_seeds in sets:
        rows = run_group(name, datasets, optima, group_seeds)
        table.append(summary(rows, "continuation (default)"))
        everything += rows
        if not args.skip_paper:
            paper = run_group(name, datasets, optima, range(min(2, len(group_seeds))) if name != "peak-no-skip"
                              else range(3), schedule="paper", steps=budget, patience=0)
            table.append(summary(paper, f"paper, {budget} steps"))
            everything += paper
        print(tabulate(table[-2:] if not args.skip_paper else table[-1:], tablefmt="plain"), flush=True)
    headers = ["set", "schedule", "runs", "interpolate", "hits (certified count)", "max excess neurons",
               "median cpu s", "max cpu s", "median steps"]
    print()
    print(tabulate(table, headers=headers))
    if args.details:
        print()
        print(tabulate([[r["group"], r["instance"], r["seed"], r["optimum"], r["neurons"], r["interpolates"],
                         f"{r['relative_residual']:.1e}", f"{r['cpu_s']:.1f}", r["finishing"]] for r in everything],
                       headers=["set", "instance", "seed", "optimum", "neurons", "interp", "resid/scale", "cpu s",
                                "finishing"]))
    print(f"\ntotal {time.perf_counter() - started:.0f} s (shared machine)")


def ablations() -> None:
    """Group 6: the default against itself without prune-and-refit, and without the l^p penalty."""
    one_d = fresh_1d()
    optima = [proven_neurons(d) for d in one_d]
    variants = [("lp (default)", {}), ("lp, no prune-and-refit", {"prune_refit": False}),
                ("none + prune-and-refit", {"method": "none", "prune_refit": True})]
    table = [[label, *summary(run_group("fresh-1d", one_d, optima, range(1), **options), "continuation")[2:]]
             for label, options in variants]
    print(tabulate(table, headers=["variant", "runs", "interpolate", "hits", "max excess neurons",
                                   "median cpu s", "max cpu s", "median steps"]))


if __name__ == "__main__":
    main()
