"""`sparsest claims FILE`: check the theorem's claims C1-C6 on one instance and print the verdicts."""

from __future__ import annotations

import argparse
import json
import math

from tabulate import tabulate

from sparsest.cli.main import load_instance
from sparsest.errors import SparsestError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "claims",
        help="check the theorem's claims (C1-C6) on one small instance by exact methods",
        description="Checks the paper's claims on one instance: C1-C4 and C6 for 1-D data (with the free "
                    "skip term), C5 for d >= 2 (with the box R). Every l^p minimiser is the exact global "
                    "one (sparsest.claims.lp_minimizers); sparsest counts come from the closed form, the MILP and the "
                    "exhaustive search. Exit code 1 when a claim fails, 2 on bad input.",
    )
    parser.add_argument("file", metavar="FILE", help="instance file (.json or .csv); small: 1-D N <= 12, 2-D N <= 5")
    parser.add_argument("--p-grid", default=None, metavar="GRID",
                        help="exponents in (0, 1) for the sweeps: START:STOP:STEP (inclusive) or a comma "
                             "list, e.g. 0.05:0.95:0.05 or 0.1,0.5,0.9 (default: 0.01:0.99:0.01)")
    parser.add_argument("--box", type=float, default=None,
                        help="box R on the path weights for d >= 2 (default: 10 x the steepest data slope)")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="seconds for each certificate, MILP and exhaustive search (default: 60)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.set_defaults(handler=run)


def parse_grid(text: str | None) -> tuple[float, ...] | None:
    """'START:STOP:STEP' (inclusive, rounded to 10 digits) or 'a,b,c'; None keeps the default."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(":" if ":" in text else ","))
    except ValueError:
        raise SparsestError(f"--p-grid {text!r}: expected START:STOP:STEP or a comma list of numbers") from None
    if ":" not in text:
        return values
    if len(values) != 3:
        raise SparsestError(f"--p-grid {text!r}: expected START:STOP:STEP")
    start, stop, step = values
    if not step > 0 or not stop >= start:
        raise SparsestError(f"--p-grid {text!r}: need START <= STOP and STEP > 0")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 10_000:
        raise SparsestError(f"--p-grid {text!r} has {count} points; at most 10000")
    return tuple(round(start + i * step, 10) for i in range(count))


def run(args: argparse.Namespace) -> int:
    # Imported here: the certificates behind the claims (MILP, exhaustive search) are not needed to
    # build the command line, which every other command shares.
    from sparsest.claims.checks import check_claims

    dataset = load_instance(args.file)
    report = check_claims(dataset, p_grid=parse_grid(args.p_grid), box=args.box, time_limit=args.time_limit)
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(text_report(report))
    return 1 if report.failed else 0


def text_report(report) -> str:
    """The human-readable report: a header line and one table row per claim."""
    head = f"{report.instance}: N={report.n_points}, d={report.dim}"
    if report.sparsest is not None:
        head += f", sparsest {report.sparsest} neuron(s)"
    if report.sparsest_parameters is not None:
        head += f", {report.sparsest_parameters} parameter(s)"
    if report.box is not None:
        head += f", box R={report.box:g}"
    if report.p_star_estimate is not None:
        head += f", p* estimate {report.p_star_estimate:.6g}"
    grid = report.p_grid
    head += f"  (p grid {grid[0]:g}..{grid[-1]:g}, {len(grid)} points)"
    rows = [[c.id, _verdict(c.holds), c.summary] for c in report.claims]
    table = tabulate(rows, headers=["claim", "holds", "evidence"], tablefmt="simple", disable_numparse=True)
    settings = sorted({c.setting for c in report.claims if c.holds != "not applicable"})
    lines = [head, "", table]
    if settings:
        lines += ["", "checked in: " + "; ".join(settings)]
    if report.failed:
        lines += ["", f"FAILED: {', '.join(report.failed)} (run with --json for the full evidence)"]
    return "\n".join(lines)


def _verdict(holds) -> str:
    if holds is True:
        return "yes"
    if holds is False:
        return "NO"
    return str(holds)
