"""The integer fast paths (issue 12: 10^6 points) equal the plain Fraction arithmetic they replace.

The closed form and the loader now compute on integers over common denominators; here the
Fraction versions (the package's previous implementation, written out as references) are run
side by side on many seeded random instances: small integers with ties and collinear runs,
decimals with many digits and mixed exponents, binary floats, and decimals written as JSON text.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from sparsest.core.dataset import Dataset, load_dataset
from sparsest.core.network import Network
from sparsest.core.recheck import SortedPass1D, recheck
from sparsest.exact.closed_form import curvature_signs, min_knots, runs_of, sparsest_interpolant


# ---------------------------------------------------------------------- Fraction references
def reference_signs(xs, ys, tol):
    """kappa_i = sign(s_i - s_{i-1}), 0 when |s_i - s_{i-1}| <= tol max|s| (sorted exact data)."""
    s = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
    threshold = Fraction(tol) * max((abs(v) for v in s), default=Fraction(0))
    out = []
    for i in range(1, len(s)):
        diff = s[i] - s[i - 1]
        out.append(0 if abs(diff) <= threshold else (1 if diff > 0 else -1))
    return s, out


def reference_knots(xs, ys, s, signs):
    """(t, delta, first) of the §4 construction, in Fractions."""
    knots = []
    for start, end, _ in runs_of(signs):
        i = start
        while i + 1 <= end:
            t = (ys[i + 1] - ys[i] - s[i + 1] * xs[i + 1] + s[i - 1] * xs[i]) / (s[i - 1] - s[i + 1])
            knots.append((t, s[i + 1] - s[i - 1], i + 1))
            i += 2
        if i == end:
            knots.append((xs[i], s[i] - s[i - 1], i + 1))
    return knots


def reference_float_network(knots, xs, ys, s, xs_float):
    """The error-feedback rounding of the float network, in Fractions: (v, w, b, a, c)."""
    a_float = float(s[0]) if len(xs) >= 2 else 0.0
    c_float = float(ys[0] - s[0] * xs[0]) if len(xs) >= 2 else float(ys[0])
    S1, S0 = Fraction(a_float), Fraction(c_float)
    v, w, b = [], [], []
    for t, delta, first in knots:
        j = first - 1 if t == xs[first - 1] else first
        d = float(s[j] - S1)
        S1 += Fraction(d)
        knot = float((S0 + S1 * xs[j] - ys[j]) / Fraction(d))
        knot = min(max(knot, xs_float[first - 1]), float(np.nextafter(xs_float[first], -np.inf)))
        S0 -= Fraction(d) * Fraction(knot)
        _, e2 = math.frexp(abs(d))
        wk = math.ldexp(1.0, e2 // 2)
        v.append(d / wk)
        w.append(wk)
        b.append(-(wk * knot))
    return v, w, b, a_float, c_float


def sorted_exact(ds):
    order = np.argsort(ds.X[:, 0], kind="stable")
    return [ds.X_exact[i][0] for i in order], [ds.y_exact[i] for i in order]


# ---------------------------------------------------------------------- seeded instances
def integers_with_ties(rng, n):
    x = sorted(rng.choice(np.arange(-3 * n, 3 * n + 1), size=n, replace=False).tolist())
    y = rng.integers(-2, 3, size=n).tolist()  # few values: many ties and collinear triples
    return x, y


def collinear_runs(rng, n):
    x = sorted(rng.choice(np.arange(-5 * n, 5 * n + 1), size=n, replace=False).tolist())
    y, slope, level = [], 0, 0
    for i, xi in enumerate(x):
        if i == 0 or rng.random() < 0.3:  # a new line every few points
            slope = int(rng.integers(-3, 4))
            level = (y[-1] if y else 0) - slope * xi
        y.append(Fraction(slope * xi + level))
    return x, y


def long_decimals(rng, n):
    """Decimal text with 1..25 significant digits and exponents -30..+5 (x in sorted distinct order)."""
    def token():
        digits = "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(1, 26))))
        sign = "-" if rng.random() < 0.5 else ""
        return f"{sign}{digits[0]}.{digits[1:] or '0'}e{int(rng.integers(-30, 6))}"
    x = sorted({Fraction(token()) for _ in range(n)})
    return x, [token() for _ in range(len(x))]


def binary_floats(rng, n):
    return rng.uniform(-1, 1, n).tolist(), (rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-8, 3)).tolist()


KINDS = {"integers": integers_with_ties, "collinear": collinear_runs, "decimals": long_decimals,
         "floats": binary_floats}
CASES = [(kind, seed) for kind in KINDS for seed in range(30)]


def instance(kind, seed):
    rng = np.random.default_rng(41_000 + seed + 1000 * list(KINDS).index(kind))
    x, y = KINDS[kind](rng, int(rng.integers(3, 60)))
    perm = rng.permutation(len(x))
    return Dataset.from_arrays([x[i] for i in perm], [y[i] for i in perm])


@pytest.mark.parametrize("kind,seed", CASES)
def test_signs_and_knots_equal_the_fraction_path(kind, seed):
    ds = instance(kind, seed)
    xs, ys = sorted_exact(ds)
    for tol in (0.0, 1e-9, 0.3):
        s, signs = reference_signs(xs, ys, tol)
        assert curvature_signs([r[0] for r in ds.X_exact], ds.y_exact, tol) == signs
        assert min_knots(ds, tol) == sum((e - b + 2) // 2 for b, e, _ in runs_of(signs))
    s, signs = reference_signs(xs, ys, 0.0)
    knots = reference_knots(xs, ys, s, signs)
    res = sparsest_interpolant(ds, collinear_tol=1e-9)
    assert res.exact_knots == len(knots)
    if res.problem == "exact":
        assert res.knot_positions == tuple(t for t, _, _ in knots)
        assert res.slope_changes == tuple(d for _, d, _ in knots)
        v, w, b, a, c = reference_float_network(knots, xs, ys, s, np.sort(ds.X[:, 0]))
        net = res.network
        assert net.v.tolist() == v and net.W[:, 0].tolist() == w and net.b.tolist() == b  # bit for bit
        assert net.a.tolist() == [a] and net.c == c


def test_the_instance_mix_exercises_ties_collinearity_and_both_problems():
    zeros = problems = 0
    for kind, seed in CASES:
        ds = instance(kind, seed)
        zeros += 0 in curvature_signs([r[0] for r in ds.X_exact], ds.y_exact)
        problems += sparsest_interpolant(ds, collinear_tol=1e-9).problem == "exact"
    assert zeros >= 40 and problems >= 60


@pytest.mark.parametrize("seed", range(20))
def test_json_loader_integers_equal_fractions_of_the_tokens(tmp_path, seed):
    rng = np.random.default_rng(43_000 + seed)
    n = int(rng.integers(1, 40))
    tokens = []
    for _ in range(2 * n):
        kind = rng.integers(4)
        if kind == 0:
            tokens.append(str(int(rng.integers(-10**6, 10**6))))
        elif kind == 1:
            tokens.append(repr(float(rng.uniform(-1e3, 1e3))))
        else:
            digits = "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(1, 30))))
            tokens.append(f"{'-' if kind == 2 else ''}{digits[0]}.{digits[1:] or '0'}E{int(rng.integers(-40, 6)):+d}")
    xs, ys = tokens[:n], tokens[n:]
    if len({Fraction(t) for t in xs}) < n or len({float(Fraction(t)) for t in xs}) < n:
        return  # repeated points are tested in test_dataset.py
    path = tmp_path / "d.json"
    path.write_text('{"X": [' + ", ".join(xs) + '], "y": [' + ", ".join(ys) + "]}")
    ds = load_dataset(path)
    assert ds.X_exact == tuple((Fraction(t),) for t in xs) and ds.y_exact == tuple(Fraction(t) for t in ys)
    assert ds.X[:, 0].tolist() == [float(Fraction(t)) for t in xs]
    assert ds.y.tolist() == [float(Fraction(t)) for t in ys]
    same = Dataset.from_arrays([Fraction(t) for t in xs], [float(Fraction(t)) if i % 2 else t for i, t in enumerate(ys)])
    assert same.X_exact == ds.X_exact
    assert [v for i, v in enumerate(same.y_exact) if i % 2 == 0] == [Fraction(t) for t in ys[::2]]


def test_a_slope_change_equal_to_the_threshold_counts_as_zero():
    # slopes 0, 1, 2 (max 2): changes 1 = 0.5 * 2 are at the threshold, just below it they count
    x, y = ["0", "0.1", "0.2", "0.3"], ["0", "0", "0.1", "0.3"]
    assert curvature_signs(x, y, 0.5) == reference_signs([Fraction(v) for v in x], [Fraction(v) for v in y], 0.5)[1] == [0, 0]
    assert curvature_signs(x, y, 0.4999) == [1, 1]


@pytest.mark.parametrize("seed", range(25))
def test_sorted_exact_residual_equals_the_fraction_forward_pass(seed):
    """The big-data exact re-check (integers, exact activation tests) equals Network.evaluate_exact,
    also for knots placed on the float64 roundings of decimal data points (where the float and the
    exact activation tests disagree)."""
    rng = np.random.default_rng(47_000 + seed)
    n = int(rng.integers(2, 40))
    x = list({float(t): t for t in (f"{v:.{int(rng.integers(1, 19))}f}" for v in rng.uniform(-3, 3, n))}.values())
    ds = Dataset.from_arrays(x, [f"{v:.7f}" for v in rng.uniform(-2, 2, len(x))])
    K = int(rng.integers(0, 8))
    w = rng.choice([-1.0, 1.0, 0.0, 0.5], size=K, p=[0.4, 0.4, 0.1, 0.1]) * 2.0 ** rng.integers(-3, 4, K)
    knots = np.where(rng.random(K) < 0.6, rng.choice(ds.X[:, 0], size=K), rng.uniform(-3, 3, K))
    net = Network(v=rng.normal(size=K), W=w.reshape(K, 1), b=np.where(w == 0, rng.normal(size=K), -w * knots),
                  a=np.array([rng.normal()]), c=float(rng.normal()))
    if seed % 2 == 0:  # targets on the exact function: a wrong activation test shows as a nonzero residual
        ds = Dataset.from_arrays(x, net.evaluate_exact(ds.X_exact))
    expected = float(max(abs(f - t) for f, t in zip(net.evaluate_exact(ds.X_exact), ds.y_exact)))
    assert SortedPass1D(net, ds.X[:, 0]).max_abs_residual_exact(ds.exact) == expected
    check = recheck(net, ds, exact=True)
    assert check.max_abs_residual_exact == expected


# ---------------------------------------------------------------------- early stop of doomed roundings
def pwl_decimals(rng, n):
    """Decimals (7-12 digits) written from a random piecewise-linear function: the within-tolerance
    attempts of the closed form succeed or fail at different prefixes."""
    x = np.sort(rng.uniform(-1, 1, n))
    knots, changes = np.sort(rng.uniform(-1, 1, 6)), rng.normal(size=6)
    y = 0.3 * x + np.maximum(x[:, None] - knots[None, :], 0) @ changes
    digits = int(rng.integers(7, 13))
    return [f"{v:.{digits}f}" for v in x], [f"{v:.{digits}f}" for v in y]


EARLY_KINDS = {**KINDS, "pwl": pwl_decimals}


@pytest.mark.parametrize("kind,seed", [(kind, seed) for kind in EARLY_KINDS for seed in range(6)])
def test_early_stopped_roundings_give_the_same_verdicts_and_results(kind, seed, monkeypatch):
    """With checkpoints after a few neurons (and the sorted pass forced, as at scale), a rounding
    stopped early is one the full check rejects: the same faithful / not faithful verdict for every
    construction tried, and the same result of sparsest_interpolant."""
    import sparsest.core.recheck as recheck_module
    import sparsest.exact.closed_form as cf

    rng = np.random.default_rng(57_000 + seed + 100 * list(EARLY_KINDS).index(kind))
    x, y = EARLY_KINDS[kind](rng, int(rng.integers(30, 200)))
    x, y = list(x), list(y)
    keep = {float(Fraction(v)): i for i, v in enumerate(x)}  # distinct in float64
    ds = Dataset.from_arrays([x[i] for i in keep.values()], [y[i] for i in keep.values()])
    monkeypatch.setattr(recheck_module, "PLAIN_PASS_LIMIT", 0)
    monkeypatch.setattr(cf, "PLAIN_PASS_LIMIT", 0)
    _, data = cf._sorted_dataset(ds)
    for tol in (0.0, 1e-3, 1e-6, 1e-9, 0.05):
        construction = cf._construct(data, cf._signs(data, tol))
        monkeypatch.setattr(cf, "EARLY_CHECKS", ())
        _, full, _ = cf._faithful_network(ds, construction, early=True)
        monkeypatch.setattr(cf, "EARLY_CHECKS", (1, 3, 10, 40))
        _, early, _ = cf._faithful_network(ds, construction, early=True)
        assert (full is None) == (early is None)
    monkeypatch.setattr(cf, "EARLY_CHECKS", ())
    plain = cf.sparsest_interpolant(ds, collinear_tol=1e-9)
    monkeypatch.setattr(cf, "EARLY_CHECKS", (1, 3, 10, 40))
    early = cf.sparsest_interpolant(ds, collinear_tol=1e-9)
    assert (early.problem, early.knots, early.lower_bound, early.notes, early.collinear_tol) == \
        (plain.problem, plain.knots, plain.lower_bound, plain.notes, plain.collinear_tol)
    assert early.network.to_json() == plain.network.to_json()


def test_the_early_stop_is_exercised():
    """Over the instances above, some roundings are stopped early (the test is not vacuous)."""
    import sparsest.core.recheck as recheck_module
    import sparsest.exact.closed_form as cf

    stopped = 0
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(recheck_module, "PLAIN_PASS_LIMIT", 0)
        monkeypatch.setattr(cf, "PLAIN_PASS_LIMIT", 0)
        monkeypatch.setattr(cf, "EARLY_CHECKS", (1, 3, 10, 40))
        for seed in range(8):
            for kind in ("floats", "pwl"):
                rng = np.random.default_rng(57_000 + seed + 100 * list(EARLY_KINDS).index(kind))
                x, y = EARLY_KINDS[kind](rng, int(rng.integers(30, 200)))
                keep = {float(Fraction(v)): i for i, v in enumerate(list(x))}
                ds = Dataset.from_arrays([list(x)[i] for i in keep.values()], [list(y)[i] for i in keep.values()])
                _, data = cf._sorted_dataset(ds)
                for tol in (1e-3, 1e-9):
                    network, problem, _ = cf._faithful_network(ds, cf._construct(data, cf._signs(data, tol)), early=True)
                    stopped += network is None and problem is not None and "first neurons" in problem
    assert stopped >= 3
