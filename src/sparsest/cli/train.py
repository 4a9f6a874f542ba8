"""`sparsest train FILE`: l^p training (or a convex solver) on one instance. Parses and prints only."""

from __future__ import annotations

import argparse
import json
import sys

from sparsest.cli.main import load_instance
from sparsest.training.options import CONVEX_METHODS, SCHEDULES, TRAIN_METHODS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a ReLU network with an l^p path penalty and report how sparse it is",
        description="Train a one-hidden-layer ReLU network on one instance (full-batch Adam, MSE, an l^p "
                    "path-norm penalty or a baseline), merge the neurons that act alike on the data, "
                    "polish on the trained support with an exact LP, and report every count re-checked "
                    "from the weights. The convex methods solve the l1 / reweighted-l1 problem over the "
                    "exact block dictionary instead.",
    )
    parser.add_argument("file", metavar="FILE", help="instance file (.json or .csv)")
    parser.add_argument("--p", type=float, default=0.4, help="exponent of the l^p penalty, in (0, 1] (default 0.4)")
    parser.add_argument("--method", choices=TRAIN_METHODS + CONVEX_METHODS, default="lp",
                        help="lp (proximal reweighted l1, the paper's), lp-smooth, weight-decay, l1-path, none, "
                             "or a convex solver on the block dictionary (default lp)")
    parser.add_argument("--schedule", choices=SCHEDULES, default="continuation",
                        help="continuation (default: normalized coordinates, hyperplanes through the data, "
                             "merge same-block neurons while training, lambda 1e-3 lowered when stuck, then a "
                             "finishing phase that makes the network itself interpolate) or paper (the published "
                             "scheme: data coordinates, PyTorch init, constant lambda 3e-3 in 1-D / 5e-3 otherwise)")
    parser.add_argument("--width", type=int, metavar="K", help="hidden neurons (default 80 in 1-D, 100 otherwise)")
    parser.add_argument("--lam", type=float, metavar="L", help="penalty weight lambda (default: see --schedule)")
    parser.add_argument("--lr", type=float, default=0.01, metavar="LR", help="Adam learning rate (default 0.01)")
    parser.add_argument("--steps", type=int, metavar="S", help="maximum Adam steps (default 20000 continuation, 100000 paper)")
    parser.add_argument("--patience", type=int, metavar="S",
                        help="stop (paper; continuation: or lower lambda if the fit is loose) once the support "
                             "is unchanged for S steps "
                             "(default steps/10 for paper, 2000 for continuation; 0: never stop early)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    parser.add_argument("--skip", action=argparse.BooleanOptionalAction, default=None,
                        help="networks carry the free affine skip term (default: as in the file; on for 1-D)")
    parser.add_argument("--count-bias", action="store_true",
                        help="penalise and count the bias path weights v_k b_k too")
    parser.add_argument("--polish", action=argparse.BooleanOptionalAction, default=True,
                        help="exact LP on the trained support (default on; reported separately)")
    parser.add_argument("--box", type=float, metavar="R", help="convex methods: box |u_bj| <= R on the path weights")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    dataset = load_instance(args.file)  # notices go to stderr
    if args.skip is not None:
        dataset = dataset.with_options(skip=args.skip)
    if args.method in CONVEX_METHODS:
        from sparsest.training.convex import min_l1_path, reweighted_l1  # cvxpy: imported only when used

        if args.method == "convex-l1":
            result = min_l1_path(dataset, box=args.box, count_bias=args.count_bias)
        else:
            result = reweighted_l1(dataset, p=args.p, box=args.box, count_bias=args.count_bias)
        print(json.dumps(result.to_json(dataset.name), indent=2) if args.json else convex_summary(dataset, result))
        return 0
    from sparsest.training.trainer import LpTrainer  # torch: imported only when used

    trainer = LpTrainer(
        p=args.p, method=args.method, width=args.width, lam=args.lam, lr=args.lr, steps=args.steps,
        seed=args.seed, count_bias=args.count_bias, polish=args.polish, schedule=args.schedule,
        patience=args.patience, progress=sys.stderr.isatty() and not args.json,
    )
    result = trainer.fit(dataset).result_
    print(json.dumps(result.to_json(), indent=2) if args.json else train_summary(dataset, result))
    return 0


def _optimum_line(dataset) -> list[str]:
    known = dataset.optimum.get("neurons") if isinstance(dataset.optimum, dict) else None
    return [] if known is None else [f"  proven optimum (instance file): {known} neurons"]


def train_summary(dataset, r) -> str:
    """A few readable lines about one training run."""
    settings, tol = r.settings, r.tolerances
    p_text = f", p={r.p:g}" if r.method in ("lp", "lp-smooth", "l1-path") else ""
    lines = [dataset.summary(),
             f"  {r.method}{p_text}, {settings['schedule']} schedule, lambda {settings['lam']:g}, width "
             f"{settings['width']}, seed {r.seed}: {r.steps} steps, {r.stopped}, {r.seconds:.1f} s"]
    if r.scaling is not None:
        lines.append(f"  trained in normalized coordinates (x into [-1, 1]^d, y / {r.scaling.y_scale:.3g}), "
                     f"mapped back exactly; weights of step {r.weights_step}")
    if r.finishing is not None:
        f = r.finishing
        outcome = "interpolates" if f.converged else f"stopped at max |residual| {f.max_abs_residual:.2g} (normalized)"
        lines.append(f"  finishing phase (LM on the network's own weights): {outcome}; {f.neurons_before} merged "
                     f"neurons in, {f.reseeds} reseeded, {f.pruned} pruned by prune-and-refit")
    if r.fits:
        lines.append(f"  trained: {r.neurons} neurons ({r.neurons_raw} before merging), {r.parameters} parameters, "
                     f"max |f(x_i) - y_i| = {r.max_abs_residual:.2g} ({r.fit}; fit tolerance {tol['fit']:.1g}, "
                     f"interpolation {tol['interpolation']:.1g})")
    else:
        lines.append(f"  trained: FAILED to fit, max |f(x_i) - y_i| = {r.max_abs_residual:.2g} > {tol['fit']:.1g}: "
                     f"its {r.neurons} neurons say nothing about sparsity")
    if r.polished is not None:
        pol = r.polished
        if pol.feasible:
            lines.append(f"  polished (exact LP on the trained support): {pol.check.neurons} neurons, "
                         f"{pol.check.parameters} parameters, max |f(x_i) - y_i| = {pol.check.max_abs_residual:.2g}")
        else:
            lines.append("  polished: no exact interpolant on the trained support (LP infeasible)")
    lines.extend(_optimum_line(dataset))
    lines.append(f"  counting tolerance {tol['count']:.1g}; --json for the weights and the training history")
    return "\n".join(lines)


def convex_summary(dataset, r) -> str:
    """A few readable lines about one convex solve."""
    lines = [dataset.summary(), f"  {r.method}" + (f", p={r.p:g}" if r.method == "convex-reweighted" else "")
             + f": {r.iterations} LP(s), {r.stopped}, {r.seconds:.2f} s"
             + ("" if r.box is None else f", box R = {r.box:g}")]
    if r.check is None:
        lines.append(f"  no interpolant: the LP is {r.status}")
    else:
        verdict = "interpolates" if r.check.interpolates else "does NOT interpolate"
        lines.append(f"  {r.check.neurons} neurons, {r.check.parameters} parameters, objective {r.objective:.6g}, "
                     f"{verdict} (max |f(x_i) - y_i| = {r.check.max_abs_residual:.2g})")
    lines.extend(_optimum_line(dataset))
    return "\n".join(lines)
