"""`sparsest certify FILE [FILE...]`: prove the sparsest interpolant of each instance. Parses and prints only."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from tabulate import tabulate

from sparsest.exact.certify import METHODS, certify
from sparsest.cli.main import error_line, load_instance
from sparsest.core.dataset import DEFAULT_COLLINEAR_TOL
from sparsest.errors import SparsestError
from sparsest.exact.milp import SOLVERS
from sparsest.exact.problem import OBJECTIVES
from sparsest.core.network import Network
from sparsest.exact.patterns import DEFAULT_MAX_PATTERNS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "certify",
        help="prove the sparsest ReLU interpolant of each instance",
        description="Find the sparsest one-hidden-layer ReLU network that interpolates each instance and "
                    "prove it (closed form in 1-D, MILP and exhaustive search otherwise).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="instance files (.json or .csv)")
    parser.add_argument("--method", choices=METHODS, default="auto",
                        help="exact method (default auto: closed form where valid, else MILP + exhaustive search)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="neurons",
                        help="count neurons or nonzero path weights (default neurons)")
    parser.add_argument("--count-bias", action="store_true",
                        help="with --objective parameters, count the hidden biases v_k b_k too")
    parser.add_argument("--skip", action=argparse.BooleanOptionalAction, default=None,
                        help="networks carry the free affine skip term a.x + c (default: as in the file; "
                             "on for 1-D)")
    parser.add_argument("--output-bias", action="store_true",
                        help="networks carry a free output bias c (needs --no-skip in 1-D)")
    parser.add_argument("--box", type=float, metavar="R",
                        help="box |v_k w_kj| <= R on the path weights (default: 10 x the data's scale)")
    parser.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                        help="seconds per instance (default 60)")
    parser.add_argument("--solver", choices=SOLVERS, default="highs", help="MILP backend (default highs)")
    parser.add_argument("--start", metavar="FILE",
                        help="a feasible network (JSON: the certify schema, or an output with a 'network' key)")
    parser.add_argument("--max-patterns", type=int, default=DEFAULT_MAX_PATTERNS, metavar="N",
                        help=f"refuse instances with more activation sets than this (default {DEFAULT_MAX_PATTERNS})")
    parser.add_argument("--collinear-tol", type=_nonnegative_float, default=DEFAULT_COLLINEAR_TOL, metavar="T",
                        help="1-D closed form: when the exact answer on the data as written is not faithful in "
                             "float64 (e.g. decimals rounded from a piecewise-linear function) or needs more "
                             "neurons than the interpolation tolerance does, slope changes below T x the largest "
                             "data slope count as zero and the certificate answers the problem within the "
                             f"interpolation tolerance, with proven bounds (default {DEFAULT_COLLINEAR_TOL:g}; "
                             "0: the exact problem only)")
    parser.add_argument("--jobs", type=int, default=1, metavar="J",
                        help="parallel workers for the exhaustive proof (-1: one per core; same certificate)")
    parser.add_argument("--json", action="store_true",
                        help="print the certificate as JSON (a list for several files; a file that fails is "
                             "{\"file\": ..., \"error\": ...})")
    parser.set_defaults(handler=run)


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def run(args) -> int:
    """Certify every file on its own: a file that fails gets its own one-line error (stderr, and an
    {"file", "error"} object in --json) and the others still get their results; exit 2 if any failed."""
    start = None if args.start is None else read_start(args.start)
    results = []  # (path, certificate or None, error line or None)
    for path in args.files:
        try:
            results.append((path, _certify_file(path, args, start), None))
        except SparsestError as err:
            line = error_line(path, err)
            print(f"sparsest: error: {line}", file=sys.stderr)
            results.append((path, None, line))
    certificates = [c for _, c, _ in results if c is not None]
    failed = len(results) - len(certificates)
    if args.json:
        objects = [c.to_json() if c is not None else {"file": path, "error": line} for path, c, line in results]
        if len(objects) > 1:
            print(json.dumps(objects, indent=2))
        elif certificates:
            print(json.dumps(objects[0], indent=2))
    elif len(results) == 1:
        if certificates:
            print(summary(certificates[0]))
    else:
        print(table(results))
    return 2 if failed else 0


def _certify_file(path: str, args, start):
    dataset = load_instance(path)
    if args.output_bias and (dataset.skip if args.skip is None else args.skip):
        raise SparsestError(f"{path}: --output-bias applies to networks without the skip term; add --no-skip")
    dataset = dataset.with_options(skip=args.skip, output_bias=args.output_bias or None,
                                   collinear_tol=args.collinear_tol)
    return certify(dataset, method=args.method, objective=args.objective, count_bias=args.count_bias,
                   box=args.box, time_limit=args.time_limit, solver=args.solver, start=start,
                   max_patterns=args.max_patterns, jobs=args.jobs)


def read_start(path: str) -> Network:
    """A network from a JSON file: the certify schema, or any object with a "network" key."""
    file = Path(path)
    if not file.is_file():
        raise SparsestError(f"{path}: no such file (--start)")
    try:
        data = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SparsestError(f"{path}: malformed JSON in --start ({getattr(err, 'msg', err)})") from None
    if isinstance(data, dict) and "network" in data:
        data = data["network"]
    if data is None:
        raise SparsestError(f"{path}: the 'network' of --start is null")
    try:
        return Network.from_json(data)
    except SparsestError as err:
        raise SparsestError(f"{path}: {err}") from None


def _number(value) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def summary(c) -> str:
    """A few readable lines about one certificate."""
    options = "skip term" if c.assumptions.get("skip") else (
        "output bias" if c.assumptions.get("output_bias") else "no skip term")
    measure = c.objective + (" (biases counted)" if c.count_bias and c.objective == "parameters" else "")
    if c.status == "optimal":
        verdict = f"optimal {c.upper_bound} (proven)"
    elif c.method == "closed-form" and c.lower_bound == c.upper_bound and not c.recheck.interpolates:
        verdict = (f"{c.upper_bound} (proven in exact rationals; the float64 network below misses the "
                   "tolerance: unverified in float64)")
    else:
        verdict = f"{c.status}: between {_number(c.lower_bound)} and {_number(c.upper_bound)}"
    lines = [f"{c.instance}: N={c.n_points}, d={c.dim}, {options}",
             f"  {measure}: {verdict}  [{c.method}, {c.seconds:.2f} s]"]
    if c.assumptions.get("problem") == "within tolerance":
        lines.append(f"  problem: within the interpolation tolerance {c.assumptions['tolerances']['interpolation']:.3g}"
                     f" (the data as written, exactly, needs {c.assumptions.get('exact_neurons')} neurons: proven)")
    if c.recheck is not None:
        lines.append(f"  network: {c.neurons} neurons, {c.parameters} parameters, max |f(x_i) - y_i| = "
                     f"{c.max_abs_residual:.3g} (tolerance {c.recheck.tolerance:.3g})")
    if c.box is not None:
        touched = "touched: a larger R might do better" if c.box_touched else "not touched"
        lines.append(f"  box R = {c.box:.6g} ({touched})")
    lines.append(f"  why: {c.assumptions.get('why', '')}")
    lines.extend(f"  note: {note}" for note in c.notes)
    return "\n".join(lines)


def table(results) -> str:
    """One row per file: its certificate, or "error" (the message went to stderr)."""
    rows = []
    for path, c, _ in results:
        if c is None:
            rows.append([path, "-", "-", "-", "error", "-", "-", "-", "-", "-"])
            continue
        rows.append([c.instance, c.n_points, c.dim, c.method, c.status, _number(c.neurons), _number(c.parameters),
                     f"[{_number(c.lower_bound)}, {_number(c.upper_bound)}]", _number(c.max_abs_residual),
                     f"{c.seconds:.2f}"])
    headers = ["instance", "N", "d", "method", "status", "neurons", "parameters", "bounds", "residual", "seconds"]
    return tabulate(rows, headers=headers)
