"""Regenerate the hand-made and seeded instance files of this folder (deterministic).

    PYTHONPATH=src python instances/make_instances.py [OUTDIR]      # default: this folder

Writes peak_plateau, convex_square, zigzag, collinear_run, noisy_sine (1-D, skip term, with the
proven optimum) and planted_2d_n10, planted_2d_n12, square_corners_2d (2-D, no skip term, no
optimum recorded: they are for the multivariate certifier). Every random step is seeded here, so
running the script again gives byte-identical files (tests/test_closed_form.py checks this).

1-D optima come from the closed form of docs/math.md §4 (sparsest.exact.closed_form.min_knots); for N <= 8 the
exhaustive M-free LP search of tests/test_closed_form.py re-proves them on every test run.
"""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from sparsest.core.dataset import Dataset  # noqa: E402
from sparsest.exact.closed_form import min_knots  # noqa: E402

EXHAUSTIVE_N = 8  # instances up to this size are re-proven by the exhaustive search in the tests


def _num(value: Fraction):
    """A JSON number whose decimal text is exactly ``value`` (int, or a short decimal)."""
    if value.denominator == 1:
        return int(value)
    out = float(value)
    if Fraction(repr(out)) != value:
        raise ValueError(f"{value} has no short decimal form")
    return out


def _dec(value: float, places: int) -> Fraction:
    """The decimal rounding of ``value`` to ``places`` places, as an exact rational."""
    return Fraction(f"{value:.{places}f}")


# ---------------------------------------------------------------------- 1-D
def _one_d(name, X, y, description, source):
    ds = Dataset.from_arrays(X, y, name=name)
    k = min_knots(ds)
    n = ds.n_points
    if n <= EXHAUSTIVE_N:
        how = (f"Optimum {k} neuron(s) with the skip term, proven twice: by the closed form of docs/math.md §4 "
               "(sum over curvature runs of ceil(run/2), sparsest.exact.closed_form) and by the exhaustive "
               "M-free LP search over all supports in tests/test_closed_form.py, which re-proves it on "
               "every test run.")
    else:
        how = (f"Optimum {k} neurons with the skip term, proven by the closed form of docs/math.md §4 (the "
               "1-D theorem: sum over curvature runs of ceil(run/2), computed in exact rationals, with "
               "a constructed network of that size re-checked in float64 and exact rationals); N is too "
               "large for the exhaustive search.")
    return {
        "name": name,
        "X": [_num(Fraction(v)) for v in X],
        "y": [_num(Fraction(v)) for v in y],
        "skip": True,
        "description": f"{description} {how}",
        "source": source,
        "optimum": {"neurons": k},
    }


def peak_plateau():
    return _one_d(
        "peak_plateau", list(range(-2, 4)), [0, 0, 1, 1, 0, 0],
        "The paper's 1-D example: x = -2..3, y = 0,0,1,1,0,0. Curvature signs +,-,-,+ give runs "
        "1, 2, 1, hence 1 + 1 + 1 = 3 knots (the paper's count).",
        "the paper (docs/math.md §5, §1-D experiment)",
    )


def convex_square():
    xs = list(range(-3, 4))
    return _one_d(
        "convex_square", xs, [x * x for x in xs],
        "Samples of x^2 at x = -3..3: five interior points of positive curvature form one run, "
        "ceil(5/2) = 3 knots (pairs of knots merged where neighbouring chords meet).",
        "hand-made (y = x^2)",
    )


def zigzag():
    return _one_d(
        "zigzag", list(range(8)), [0, 1] * 4,
        "Alternating zigzag y = 0,1,0,1,0,1,0,1 at x = 0..7: curvature alternates, every run has "
        "length 1, so it needs N - 2 = 6 knots (the worst case).",
        "hand-made",
    )


def collinear_run():
    return _one_d(
        "collinear_run", list(range(7)), [0, 1, 3, 6, 9, 13, 18],
        "x = 0..6, slopes 1,2,3,3,4,5: convex everywhere except that x = 2,3,4 are collinear. The "
        "zero curvature at x = 3 breaks the convex run into two runs of 2: 1 + 1 = 2 knots, where a "
        "strictly convex 7-point set needs ceil(5/2) = 3 (compare convex_square).",
        "hand-made",
    )


def noisy_sine(n: int = 50, seed: int = 0, sd: float = 0.1):
    x = [_dec(v, 4) for v in np.linspace(0.0, 2.0 * math.pi, n)]
    noise = np.random.default_rng(seed).normal(0.0, sd, n)
    y = [_dec(math.sin(float(xi)) + e, 4) for xi, e in zip(x, noise)]
    return _one_d(
        "noisy_sine", x, y,
        f"{n} noisy samples of sin on [0, 2 pi].",
        f"instances/make_instances.py: x = numpy.linspace(0, 2*pi, {n}) rounded to 4 decimals; "
        f"y = sin(x) + numpy.random.default_rng({seed}).normal(0, {sd}, {n}) rounded to 4 decimals "
        "(sin of the rounded x; rounding = Python's '%.4f' of the float).",
    )


# ---------------------------------------------------------------------- 2-D
def planted_weights(rng: np.random.Generator, X: list[list[Fraction]], width: int = 3):
    """Seeded planted ReLU network with short decimal weights, so y = f(X) is exact to 6 places:
    w in {-1.0, -0.9, ..., 1.0} (1 place), b in [-0.5, 0.5] (2 places), v = +-{0.5..2.0} (1 place).
    Redrawn until every neuron is active on at least 2 and inactive on at least 2 points and the
    activation sets differ."""
    n = len(X)
    while True:
        W = [[Fraction(int(t), 10) for t in rng.integers(-10, 11, 2)] for _ in range(width)]
        b = [Fraction(int(t), 100) for t in rng.integers(-50, 51, width)]
        v = [Fraction(int(m) * int(s), 10) for m, s in zip(rng.integers(5, 21, width), rng.choice([-1, 1], width))]
        sets = [tuple(W[k][0] * p[0] + W[k][1] * p[1] + b[k] > 0 for p in X) for k in range(width)]
        if all(2 <= sum(A) <= n - 2 for A in sets) and len(set(sets)) == width:
            return v, W, b


def planted_output(v, W, b, X) -> list[Fraction]:
    """f(x) = sum_k v_k relu(w_k . x + b_k), exact."""
    return [sum((vk * max(Fraction(0), wk[0] * p[0] + wk[1] * p[1] + bk) for vk, wk, bk in zip(v, W, b)), Fraction(0)) for p in X]


def planted_2d(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = [[_dec(t, 4) for t in row] for row in rng.uniform(-1.0, 1.0, (n, 2))]
    v, W, b = planted_weights(rng, X)
    y = planted_output(v, W, b, X)
    assert all((t * 10**6).denominator == 1 for t in y)  # exact to 6 places: rounding is a no-op
    show = lambda seq: "[" + ", ".join(str(float(t)) for t in seq) + "]"  # noqa: E731
    return {
        "name": f"planted_2d_n{n}",
        "X": [[_num(t) for t in row] for row in X],
        "y": [_num(t) for t in y],
        "skip": False,
        "description": (
            f"{n} points uniform on [-1,1]^2 with targets from a planted width-3 ReLU network (no skip "
            "term, no output bias); the planted network interpolates exactly, so the optimum is at most 3 "
            "neurons. Not certified here."
        ),
        "source": (
            f"instances/make_instances.py: rng = numpy.random.default_rng({seed}); X = rng.uniform(-1, 1, "
            f"({n}, 2)) rounded to 4 decimals (Python's '%.4f'); then from the same rng the planted weights (see planted_weights) "
            f"v = {show(v)}, W = [{', '.join(show(r) for r in W)}], b = {show(b)}; "
            "y = sum_k v_k relu(W_k . x + b_k), exact, i.e. rounded to 6 decimals with no change."
        ),
    }


def square_corners_2d():
    return {
        "name": "square_corners_2d",
        "X": [[-1, -1], [-1, 1], [1, -1], [1, 1], [0, 0]],
        "y": [1, 0, 0, 1, 0],
        "skip": False,
        "description": (
            "The 4 corners of the square [-1,1]^2 and its centre, XOR-like targets: 1 on the diagonal "
            "corners (1,1), (-1,-1), 0 on the other two and at the centre; no skip term. By hand: "
            "relu(x1 + x2 - 1) + relu(-x1 - x2 - 1) interpolates (2 neurons), and one neuron cannot "
            "(positive at (1,1) and (-1,-1) forces b > 0, hence a nonzero value at the centre), so the "
            "optimum should be 2 neurons; left for the multivariate certifier to prove."
        ),
        "source": "hand-made",
    }


def all_instances() -> dict[str, dict]:
    """Every instance of this script, by file stem."""
    items = [peak_plateau(), convex_square(), zigzag(), collinear_run(), noisy_sine(),
             planted_2d(10, 10), planted_2d(12, 12), square_corners_2d()]
    return {item["name"]: item for item in items}


def to_text(item: dict) -> str:
    """JSON with one top-level key per line (number lists kept on one line)."""
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in item.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_all(outdir: Path = HERE) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, item in all_instances().items():
        path = outdir / f"{name}.json"
        path.write_text(to_text(item))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
