"""Bad, extreme and big input (issue 12): fuzzing, a fresh 1-D reference set, and big 1-D data.

    PYTHONPATH=src python -m benchmarks.bench_inputs fuzz [--count 10000] [--seed 20261201]
    PYTHONPATH=src python -m benchmarks.bench_inputs one-d [--splineops DIR]
    PYTHONPATH=src python -m benchmarks.bench_inputs big [--n 1000000] [--kind uniform|pwl|integers] [--write FILE]

fuzz: each input is a JSON or CSV text built by a seeded generator (valid instances, wrong shapes,
huge/tiny/non-finite values, text, booleans, nesting, truncation, stray characters, other
delimiters, missing headers) and goes through ``sparsest certify`` (and, for every 10th,
``sparsest claims``) in-process, as the console script runs it. Prints the outcome counts and
the number of tracebacks (an exception escaping ``main``, or stderr that is not one line on exit
2, or a file left in the folder); the goal is zero.

one-d: 200 fresh 1-D instances (seeds 7_770_000 + i, fixed before any run, never tuned against):
60 small-integer data with ties, 30 with repeated points, 30 with collinear runs, 40 uniform
floats, 40 floats sampled from a piecewise-linear function with 1-5 knots (written with 17
digits), N = 3..200, plus the shipped 1-D instances. Each goes through ``sparsest certify --json``;
reported: answered or not, the problem solved, proven or bounds, the re-check, and the count of
splineops' ``sparsest_interpolant`` (Debarre et al.; only when importable, e.g. from a folder given
with --splineops: it is never a dependency) and, for N <= 9, of ``--method exhaustive``.

big: N 1-D points through ``sparsest certify`` in-process; prints the seconds. ``--kind uniform``
(default; seed 20261201, the original instance) or the fresh set ``pwl`` / ``integers`` (and
``uniform --seed 55120001``), see :func:`big_instance`. ``--write FILE`` only writes the instance, to
time the command line end to end: ``/usr/bin/time -v sparsest certify FILE`` (peak memory:
"Maximum resident set size"). Never fails on timing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

from sparsest.cli.main import main

SPECIAL = [1e308, -1e308, 1e309, 1e-308, 5e-324, 1e12, 1e13, -0.0, 0.1, 2**53 + 1, 10**30, float("nan"),
           float("inf")]
TEXTS = ["0", "1.5", "1e999", "-1e-999", "inf", "nan", "abc", "", " 3 ", "1/3", "1/0", "0x10", "1_000", "1e400000"]


def value(rng: random.Random):
    kind = rng.randrange(12)
    if kind < 5:
        return rng.randint(-5, 5)
    if kind < 7:
        return round(rng.uniform(-10, 10), rng.randrange(0, 18))
    if kind == 7:
        return rng.choice(SPECIAL)
    if kind == 8:
        return rng.choice(TEXTS)
    if kind == 9:
        return rng.choice([True, False, None])
    if kind == 10:
        return [rng.randint(-2, 2) for _ in range(rng.randrange(3))]
    return rng.randint(-10**rng.randrange(1, 40), 10**rng.randrange(1, 40))


def instance(rng: random.Random) -> dict:
    n, d = rng.randrange(0, 9), rng.choice([1, 1, 1, 2, 2, 3])
    clean = rng.random() < 0.6
    spoil = 0.0 if clean else rng.choice([0.02, 0.1, 0.5])
    pick = lambda: value(rng) if rng.random() < spoil else rng.choice(  # noqa: E731
        [rng.randint(-4, 4), round(rng.uniform(-3, 3), rng.randrange(1, 18))])
    if d == 1 and rng.random() < 0.6:
        X = [pick() for _ in range(n)]
    else:
        X = [[pick() for _ in range(d + (rng.random() < 0.05))] for _ in range(n)]
    if clean and rng.random() < 0.3 and n:  # repeated points
        X.append(X[0])
        n += 1
    y = [pick() for _ in range(n - (rng.random() < 0.05))]
    obj = {"X": X, "y": y}
    for key in rng.sample(["name", "skip", "output_bias", "optimum", "colour", "description"], rng.choice([0, 0, 0, 1, 2])):
        obj[key] = rng.choice([True, False, 3, "s", None, {"neurons": 2}, [1]])
    if rng.random() < 0.05:
        del obj[rng.choice(["X", "y"])]
    return obj


def json_text(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(30)))
    text = json.dumps(instance(rng), default=str)
    if rng.random() < 0.1:
        cut = rng.randrange(len(text) + 1)
        text = text[:cut] + rng.choice(["", "]", "{", ",", "\x00", "NaN", "Infinity", "\u00e9"]) + text[cut + 1:]
    return text


def csv_text(rng: random.Random) -> str:
    sep = rng.choice([",", ";", "\t", "|", " ", ", "])
    width = rng.randrange(1, 5)
    rows = []
    for _ in range(rng.randrange(0, 9)):
        row = []
        for _ in range(width + (rng.random() < 0.05)):
            v = value(rng) if rng.random() < 0.3 else rng.randint(-5, 5)
            row.append(str(v) if not isinstance(v, float) else repr(v))
        rows.append(row)
    if rng.random() < 0.5:
        rows.insert(0, [f"c{j}" for j in range(width)])
    return "\n".join(sep.join(r) for r in rows) + rng.choice(["", "\n", "\n\n", "\r\n"])


def run_cli(argv: list[str]) -> tuple[int | None, str, str | None, str]:
    """main(argv) in-process: (exit code or None on a crash, stderr, the traceback or None, stdout)."""
    out, err = io.StringIO(), io.StringIO()
    crash = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
        except BaseException:  # noqa: BLE001 - counting exactly these is the point
            code, crash = None, traceback.format_exc()
    return code, err.getvalue(), crash, out.getvalue()


def main_bench(count: int, seed: int) -> int:
    rng = random.Random(seed)
    outcomes: Counter = Counter()
    failures: list[str] = []
    start = time.perf_counter()
    for index in range(count):
        suffix = ".csv" if rng.random() < 0.3 else ".json"
        text = csv_text(rng) if suffix == ".csv" else json_text(rng)
        commands = [["certify", "--time-limit", "1", "--json"]]
        if index % 10 == 0:
            commands.append(["claims", "--p-grid", "0.5", "--time-limit", "1"])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"data{suffix}"
            path.write_text(text)
            for command in commands:
                code, err, crash, _ = run_cli([command[0], str(path), *command[1:]])
                lines = [line for line in err.splitlines() if not line.startswith("sparsest: notice:")]
                bad = crash is not None or "Traceback" in err or code not in (0, 1, 2) or \
                    (code == 2 and len(lines) != 1) or (code in (0, 1) and lines)
                if sorted(p.name for p in Path(folder).iterdir()) != [path.name]:
                    bad = True
                outcomes[f"{command[0]} exit {code}" if not bad else f"{command[0]} TRACEBACK"] += 1
                if bad and len(failures) < 10:
                    failures.append(f"input {index} ({suffix}): {text[:200]!r}\n{crash or err}")
    seconds = time.perf_counter() - start
    tracebacks = sum(v for k, v in outcomes.items() if k.endswith("TRACEBACK"))
    print(f"{count} generated inputs (seed {seed}), {sum(outcomes.values())} command runs, {seconds:.0f} s")
    for key in sorted(outcomes):
        print(f"  {key}: {outcomes[key]}")
    print(f"tracebacks: {tracebacks}")
    for failure in failures:
        print("----\n" + failure)
    return tracebacks


# ---------------------------------------------------------------------- the fresh 1-D set
ONE_D_SEED = 7_770_000
SHIPPED_1D = ["peak_plateau", "convex_square", "zigzag", "collinear_run", "noisy_sine"]


def one_d_instance(i: int) -> tuple[str, dict]:
    """Instance i of the fresh 1-D set: (kind, JSON object)."""
    rng = np.random.default_rng(ONE_D_SEED + i)
    n = int(rng.integers(3, 201))
    if i < 120:
        x = rng.choice(np.arange(-3 * n, 3 * n), size=n, replace=False)
        y = rng.integers(-3, 4, size=n)  # small range: many ties
        kind = "integers, ties"
        if 60 <= i < 90:
            extra = rng.integers(0, n, size=max(1, n // 5))
            x, y = np.concatenate([x, x[extra]]), np.concatenate([y, y[extra]])
            kind = "integers, repeated points"
        elif i >= 90:
            order = np.argsort(x)
            for start in rng.integers(0, max(1, n - 6), size=3):  # collinear runs of 3-6 points
                run = order[start:start + int(rng.integers(3, 7))]
                y[run] = int(rng.integers(-2, 3)) * (x[run] - x[run[0]]) + y[run[0]]
            kind = "integers, collinear runs"
        return kind, {"X": x.tolist(), "y": y.tolist()}
    if i < 160:
        x, y = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
        kind = "uniform floats"
    else:
        k = int(rng.integers(1, 6))
        knots, changes = np.sort(rng.uniform(-1, 1, k)), rng.choice([-1, 1], k) * rng.uniform(0.2, 3, k)
        x = np.sort(rng.uniform(-1.2, 1.2, n))
        y = rng.normal() * x + rng.normal() + sum(c * np.maximum(x - t, 0) for t, c in zip(knots, changes))
        kind = f"piecewise-linear floats ({k} knots)"
    return kind, {"X": [float(f"{v:.17g}") for v in x], "y": [float(f"{v:.17g}") for v in y]}


def _splineops_count(obj: dict) -> tuple[int, float] | None:
    try:
        from splineops.adaptive_regression_splines.sparsification import linear_spline, sparsest_interpolant
    except ImportError:
        return None
    pairs = sorted(set(zip(obj["X"], obj["y"])))
    x, y = np.array([p[0] for p in pairs], dtype=float), np.array([p[1] for p in pairs], dtype=float)
    knots, amplitudes, polynomial = sparsest_interpolant(x, y)
    residual = float(np.max(np.abs(linear_spline(x, knots, amplitudes, polynomial) - y)))
    return len(knots), residual


def _certify_json(path: Path, *extra: str) -> dict | str:
    code, err, crash, out = run_cli(["certify", str(path), "--json", *extra])
    if code != 0 or crash:
        return (crash or err).strip()
    return json.loads(out)


def one_d_bench(splineops: str | None) -> None:
    if splineops:
        sys.path.insert(0, splineops)
    cases = [(f"fresh {i}", *one_d_instance(i)) for i in range(200)]
    root = Path(__file__).resolve().parents[1] / "instances"
    cases += [(name, "shipped", json.loads((root / f"{name}.json").read_text())) for name in SHIPPED_1D]
    tally: Counter = Counter()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, kind, obj in cases:
            path = Path(folder) / "case.json"
            path.write_text(json.dumps(obj))
            body = _certify_json(path)
            reference = _splineops_count(obj)
            exhaustive = None
            if isinstance(body, dict) and body["n_points"] <= 9:
                small = _certify_json(path, "--method", "exhaustive", "--time-limit", "60")
                exhaustive = small["upper_bound"] if isinstance(small, dict) and small["status"] == "optimal" else "?"
            group = kind.split(" (")[0]
            tally[group, "files"] += 1
            if not isinstance(body, dict):
                tally[group, "refused"] += 1
                rows.append(f"{label} [{kind}]: REFUSED {body}")
                continue
            count, interpolates = body["neurons"], body["recheck"]["interpolates"]
            tally[group, "answered"] += 1
            tally[group, "proven optimal"] += body["status"] == "optimal"
            tally[group, "within tolerance"] += body["assumptions"].get("problem") == "within tolerance"
            tally[group, "interpolates"] += bool(interpolates)
            if reference is not None:
                tally[group, "equal to splineops"] += count == reference[0]
                tally[group, "fewer than splineops"] += count < reference[0]
                tally[group, "MORE than splineops"] += count > reference[0]
                tally[group, "splineops misses 1e-7 scale"] += reference[1] > body["recheck"]["tolerance"]
            if exhaustive is not None:
                tally[group, "checked by exhaustive"] += 1
                tally[group, "DIFFERS from exhaustive"] += exhaustive != body["upper_bound"]
            if (reference is not None and count > reference[0]) or not interpolates or body["status"] != "optimal":
                rows.append(f"{label} [{kind}]: N={body['n_points']} {body['status']} "
                            f"[{body['lower_bound']}, {body['upper_bound']}] problem="
                            f"{body['assumptions'].get('problem')} exact={body['assumptions'].get('exact_neurons')} "
                            f"splineops={reference} interpolates={interpolates}")
    groups = sorted({g for g, _ in tally})
    keys = ["files", "answered", "refused", "proven optimal", "within tolerance", "interpolates",
            "equal to splineops", "fewer than splineops", "MORE than splineops", "splineops misses 1e-7 scale",
            "checked by exhaustive", "DIFFERS from exhaustive"]
    print("group | " + " | ".join(keys))
    for g in groups:
        print(f"{g} | " + " | ".join(str(tally[g, k]) for k in keys))
    print("total | " + " | ".join(str(sum(tally[g, k] for g in groups)) for k in keys))
    if _splineops_count({"X": [0, 1, 2], "y": [0, 1, 0]}) is None:
        print("splineops not importable: no reference column")
    for row in rows:
        print("  " + row)


# ---------------------------------------------------------------------- big 1-D data
#: The seed of the original big instance (uniform x and y, issue 12); the fresh set below uses others.
BIG_SEED = 20261201
#: Fresh big instances, seeds fixed before any run and never tuned against (issue 12, goal 2).
FRESH_BIG_SEEDS = {"uniform": 55_120_001, "pwl": 55_120_002, "integers": 55_120_003}


def big_instance(n: int, kind: str, seed: int) -> dict:
    """N 1-D points: ``uniform`` x, y in [-1, 1] (floats, 17 digits; the closed form's worst case:
    ~3N/4 knots, slopes float64 cannot resolve), ``pwl`` x uniform and y from a random piecewise-linear
    function with 50 knots (floats, 17 digits: answered within the tolerance), ``integers`` distinct
    integer x (shuffled) and y in -3..3 (exact, ties and collinear runs)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return {"X": rng.uniform(-1, 1, n).tolist(), "y": rng.uniform(-1, 1, n).tolist()}
    if kind == "pwl":
        x = rng.uniform(-1, 1, n)
        knots, changes = np.sort(rng.uniform(-1, 1, 50)), rng.normal(size=50)
        y = 0.3 * x + np.maximum(x[:, None] - knots[None, :], 0) @ changes
        return {"X": x.tolist(), "y": y.tolist()}
    x = rng.permutation(rng.choice(10 * n, size=n, replace=False))
    return {"X": x.tolist(), "y": rng.integers(-3, 4, n).tolist()}


def big_bench(n: int, kind: str, seed: int | None, write: str | None) -> None:
    seed = (BIG_SEED if kind == "uniform" else FRESH_BIG_SEEDS[kind]) if seed is None else seed
    data = big_instance(n, kind, seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(write) if write else Path(folder) / "big.json"
        path.write_text(json.dumps(data))
        if write:
            print(f"wrote {path} ({kind}, N = {n}, seed {seed}); time it with /usr/bin/time -v sparsest certify {path}")
            return
        start = time.perf_counter()
        code, err, crash, out = run_cli(["certify", str(path)])
        print(f"N = {n} ({kind}, seed {seed}): exit {code}, {time.perf_counter() - start:.1f} s "
              f"(file {path.stat().st_size / 1e6:.0f} MB)")
        print((crash or err).strip() or out.strip())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="bench", required=True)
    fuzz = commands.add_parser("fuzz")
    fuzz.add_argument("--count", type=int, default=10_000)
    fuzz.add_argument("--seed", type=int, default=20261201)
    one_d = commands.add_parser("one-d")
    one_d.add_argument("--splineops", metavar="DIR", help="a folder from which splineops can be imported")
    big = commands.add_parser("big")
    big.add_argument("--n", type=int, default=1_000_000)
    big.add_argument("--kind", choices=["uniform", "pwl", "integers"], default="uniform")
    big.add_argument("--seed", type=int, help=f"default {BIG_SEED} for uniform, else the fresh seeds {FRESH_BIG_SEEDS}")
    big.add_argument("--write", metavar="FILE", help="only write the instance to FILE (to time the command line on it)")
    options = parser.parse_args()
    if options.bench == "fuzz":
        main_bench(options.count, options.seed)
    elif options.bench == "one-d":
        one_d_bench(options.splineops)
    else:
        big_bench(options.n, options.kind, options.seed, options.write)
