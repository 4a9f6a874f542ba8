"""`sparsest compare FILES...`: the certified optimum beside every training run; writes a report."""

from __future__ import annotations

import argparse
import sys

from sparsest.cli.main import load_instance
from sparsest.comparison.compare import DEFAULT_METHODS, DEFAULT_PS, METHODS, OBJECTIVES, compare


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="certify each instance and compare l^p training runs against the proven optimum",
        description="For each instance: the certified sparsest interpolant (status, bounds), then every "
                    "(method, p, seed) training run, summarised per method and p. Writes results.json, "
                    "results.csv, report.md and PNG figures into --out.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="instance files (.json or .csv)")
    parser.add_argument("--p", nargs="+", type=float, default=list(DEFAULT_PS), metavar="P",
                        help="exponents in (0, 1] for the l^p methods (default: %(default)s)")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), metavar="METHOD",
                        help=f"training methods, from {', '.join(METHODS)} (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per method and p (default: 3)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers, -1 for all cores (default: 1)")
    parser.add_argument("--backend", default=None,
                        help="joblib backend: loky (default), threading, or dask/ray once registered "
                             "(see docs/scaling.md)")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="seconds for each certificate (default: 60)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="neurons",
                        help="what the certificate minimises (default: neurons)")
    parser.add_argument("--box", type=float, default=None,
                        help="box R on the path weights for multivariate certificates (docs/math.md §3)")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the trainer's)")
    parser.add_argument("--width", type=int, default=None, help="network width (default: the trainer's)")
    parser.add_argument("--lam", type=float, default=None, help="regularisation weight lambda (default: the trainer's)")
    parser.add_argument("--schedule", choices=("continuation", "paper"), default="continuation",
                        help="training schedule (see sparsest train --help; default: continuation)")
    parser.add_argument("--count-bias", action="store_true",
                        help="penalise the bias path weights v_k b_k in training and count them as parameters")
    parser.add_argument("--out", default="out/compare", help="output folder (default: %(default)s)")
    parser.add_argument("--json", action="store_true",
                        help="print the results object on stdout (and no progress bar)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # the report module brings matplotlib: imported here, not at parse time (sparsest certify starts fast)
    from sparsest.comparison.report import check_output_folder, results_json, text_summary, write_report

    check_output_folder(args.out)
    datasets = [load_instance(path) for path in args.files]  # notices go to stderr
    train_options = {key: getattr(args, key) for key in ("steps", "width", "lam", "schedule")
                     if getattr(args, key) is not None}
    if args.count_bias:
        train_options["count_bias"] = True
    comparison = compare(
        datasets, methods=args.methods, ps=args.p, seeds=args.seeds, objective=args.objective,
        time_limit=args.time_limit, box=args.box, train_options=train_options, jobs=args.jobs,
        backend=args.backend, progress=not args.json and sys.stderr.isatty(),
    )
    files = write_report(comparison, args.out)
    if args.json:
        print(results_json(comparison), end="")
    else:
        print(text_summary(comparison))
        print(f"\nreport written to {files.report}")
    return 0
