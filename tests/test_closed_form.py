"""The 1-D closed form (docs/math.md §4) against an exhaustive M-free search over supports (docs/math.md §3).

The exhaustive search lives here, not in the package, and shares no code with it.

Blocks. With the skip term in 1-D a neuron acts on the sorted data only through a right-facing
activation set, the suffix {i >= j} for j = 1..N-1, and a sign s = +-1 (docs/math.md §3): block (j, s)
has variables (w, b) in the closed cone C_j = {w x_i + b >= 0 (i >= j), w x_i + b <= 0 (i < j)}
and adds s (w x_i + b) to the points i >= j. A support S (a set of blocks) is feasible when the
LP  a x_i + c + sum_{(j,s) in S} s [i >= j] (w x_i + b) = y_i,  (w, b) in C_j,  a, c free,
has a solution. No big-M anywhere. Cones contain 0, so feasibility is monotone: a superset of a
feasible support is feasible, a subset of an infeasible one is infeasible. The sparsest count is
the least |S| over feasible S.

Two searches:
* ``exhaustive_plain``: every support, by increasing size, one scipy linprog(method="highs") each.
  Literal, slow: used on the small instances.
* ``exhaustive_ihs``: implicit hitting sets. Keep a list of maximal infeasible supports M (found
  by growing an infeasible support one block at a time while it stays infeasible); a minimum-size
  support that is contained in no M is the only kind that can be feasible; test it; stop at the
  first feasible one. Exact by monotonicity. The search runs on a fast re-used HiGHS model; its
  certificate (each M infeasible, the final support feasible) is then re-proved with linprog, and
  the combinatorial part (every support of size K-1 lies inside some M) is re-checked by brute
  force. Cross-validated against ``exhaustive_plain`` on small instances.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import time
from fractions import Fraction
from pathlib import Path

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from sparsest.core.dataset import Dataset, load_dataset
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.core.recheck import recheck
from sparsest.exact.closed_form import (
    _tube_lower_bound,
    ClosedFormResult,
    curvature_signs,
    min_knots,
    runs_of,
    sparsest_interpolant,
)

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


# ====================================================================== exhaustive search
def _sorted_xy(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(dataset.X[:, 0], kind="stable")
    return dataset.X[order, 0].astype(float), dataset.y[order].astype(float)


def _blocks(n: int) -> list[tuple[int, int]]:
    return [(j, s) for j in range(1, n) for s in (1, -1)]


def lp_feasible(x: np.ndarray, y: np.ndarray, support) -> bool:
    """The support LP of the module docstring with scipy linprog (HiGHS), built from scratch.
    ``support`` is a list of blocks (j, s)."""
    n, K = len(x), len(support)
    nv = 2 + 2 * K
    A_eq = np.zeros((n, nv))
    A_eq[:, 0], A_eq[:, 1] = x, 1.0
    A_ub = np.zeros((n * K, nv))
    for k, (j, s) in enumerate(support):
        A_eq[j:, 2 + 2 * k] = s * x[j:]
        A_eq[j:, 3 + 2 * k] = s
        side = np.where(np.arange(n) >= j, -1.0, 1.0)  # -(w x + b) <= 0 on the suffix, w x + b <= 0 before
        A_ub[n * k:n * (k + 1), 2 + 2 * k] = side * x
        A_ub[n * k:n * (k + 1), 3 + 2 * k] = side
    res = linprog(np.zeros(nv), A_ub=A_ub if K else None, b_ub=np.zeros(n * K) if K else None,
                  A_eq=A_eq, b_eq=y, bounds=(None, None), method="highs")
    if res.status == 0:
        return True
    if res.status == 2:
        return False
    raise RuntimeError(f"linprog status {res.status}: {res.message}")


class BlockLP:
    """The same LP with all 2(N-1) blocks in one HiGHS model; a support is chosen by fixing the
    (w, b) of every other block to 0. Re-solving after a bound change is fast (warm start)."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.blocks = _blocks(len(x))
        n, m = len(x), len(self.blocks)
        self.nv = 2 + 2 * m
        inf = highspy.kHighsInf
        self.inf = inf
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.addVars(self.nv, np.full(self.nv, -inf), np.full(self.nv, inf))
        for i in range(n):
            idx, val = [0, 1], [x[i], 1.0]
            for k, (j, s) in enumerate(self.blocks):
                if i >= j:
                    idx += [2 + 2 * k, 3 + 2 * k]
                    val += [s * x[i], float(s)]
            h.addRow(y[i], y[i], len(idx), np.array(idx, dtype=np.int32), np.array(val))
            for k, (j, _) in enumerate(self.blocks):
                lo, hi = (0.0, inf) if i >= j else (-inf, 0.0)
                h.addRow(lo, hi, 2, np.array([2 + 2 * k, 3 + 2 * k], dtype=np.int32), np.array([x[i], 1.0]))
        self.h = h
        self.cols = np.arange(2, self.nv, dtype=np.int32)
        self.solves = 0

    def feasible(self, support_ids) -> bool:
        lo = np.zeros(self.nv - 2)
        hi = np.zeros(self.nv - 2)
        for k in support_ids:
            lo[2 * k:2 * k + 2] = -self.inf
            hi[2 * k:2 * k + 2] = self.inf
        self.h.changeColsBounds(self.nv - 2, self.cols, lo, hi)
        self.h.run()
        self.solves += 1
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return True
        if status == highspy.HighsModelStatus.kInfeasible:
            return False
        raise RuntimeError(f"HiGHS status {status}")


def exhaustive_plain(dataset: Dataset) -> int:
    """Least |S| over feasible supports, trying every support by increasing size (linprog)."""
    x, y = _sorted_xy(dataset)
    blocks = _blocks(len(x))
    for k in range(len(blocks) + 1):
        for support in itertools.combinations(blocks, k):
            if lp_feasible(x, y, list(support)):
                return k
    raise AssertionError("even the full support is infeasible")


@functools.lru_cache(maxsize=None)
def _masks_by_size(m: int) -> tuple[tuple[int, ...], ...]:
    by_size: list[list[int]] = [[] for _ in range(m + 1)]
    for mask in range(1 << m):
        by_size[bin(mask).count("1")].append(mask)
    return tuple(tuple(v) for v in by_size)


def exhaustive_ihs(dataset: Dataset) -> tuple[int, int, list[int]]:
    """Least |S| over feasible supports by implicit hitting sets (see the module docstring).

    Returns (K, feasible support mask of size K, maximal infeasible support masks)."""
    x, y = _sorted_xy(dataset)
    lp = BlockLP(x, y)
    m = len(lp.blocks)
    full = (1 << m) - 1
    infeasible: list[int] = []  # maximal infeasible supports M
    masks = _masks_by_size(m)
    k = 0
    while True:
        while True:  # least-size support inside no known infeasible M
            cand = next((s for s in masks[k] if all(s & ~M & full for M in infeasible)), None)
            if cand is not None:
                break
            k += 1
            if k > m:
                raise AssertionError("even the full support is infeasible")
        ids = [i for i in range(m) if cand >> i & 1]
        if lp.feasible(ids):
            return k, cand, infeasible
        grown = cand
        for i in range(m):  # grow to a maximal infeasible support
            if not grown >> i & 1 and not lp.feasible(ids + [i]):
                ids.append(i)
                grown |= 1 << i
        infeasible.append(grown)


def certified_exhaustive(dataset: Dataset) -> int:
    """exhaustive_ihs, with its certificate re-proved by scipy linprog and brute force."""
    x, y = _sorted_xy(dataset)
    blocks = _blocks(len(x))
    m = len(blocks)
    K, feasible, infeasible = exhaustive_ihs(dataset)
    pick = lambda mask: [blocks[i] for i in range(m) if mask >> i & 1]  # noqa: E731
    assert bin(feasible).count("1") == K and lp_feasible(x, y, pick(feasible))
    for M in infeasible:
        assert not lp_feasible(x, y, pick(M))
    if K > 0:  # every support of size K-1 (hence, by monotonicity, every smaller one) is infeasible
        for s in _masks_by_size(m)[K - 1]:
            assert any(s & ~M == 0 for M in infeasible)
    return K


# ====================================================================== closed-form checks
def check_closed_form(dataset: Dataset) -> ClosedFormResult:
    """Everything the closed form promises, recomputed from the weights."""
    res = sparsest_interpolant(dataset)
    net = res.network
    n = dataset.n_points
    assert res.knots == min_knots(dataset)
    assert 0 <= res.knots <= max(n - 2, 0)
    assert net.width == res.knots and net.W.shape == (res.knots, 1)
    assert net.a is not None and net.a.shape == (1,) and net.c is not None
    assert np.all(net.W > 0)
    # float64 interpolation and the count from the weights
    assert np.max(np.abs(net(dataset.X) - dataset.y)) <= dataset.interpolation_tol
    assert net.count_neurons(dataset.X, dataset.count_tol) == res.knots
    # exact rational residual, tiny relative to the data
    exact = net.evaluate_exact(dataset.X_exact)
    resid = max(abs(f - t) for f, t in zip(exact, dataset.y_exact))
    assert resid <= Fraction(1, 10**9) * Fraction(dataset.y_scale)
    # every activation set is a proper, nonempty suffix of the sorted data (x_0 off, x_{N-1} on)
    x = dataset.X[:, 0]
    order = np.argsort(x)
    sets = net.activation_sets(dataset.X)
    for k in range(net.width):
        on = sets[k][order]
        assert not on[0] and on[-1]
        first = int(np.argmax(on))
        assert on[first:].all() and not on[:first].any()
        # the knot: -b/w in (x_0, x_{N-1}); a knot on a data point leaves that point out
        t = -net.b[k] / net.W[k, 0]
        assert x.min() < t < x.max()
    # each float knot lies between the same two data points as its exact knot (or on the same one)
    xs = np.sort(x)
    for t, knot in zip(res.knot_positions, range(net.width)):
        float_knot = -net.b[knot] / net.W[knot, 0]
        assert np.searchsorted(xs, float(t), side="right") == np.searchsorted(xs, float_knot, side="right")
    # balanced up to a power of two
    if net.width:
        ratio = np.abs(net.v) / net.W[:, 0]
        assert np.all((ratio >= 0.5) & (ratio <= 2.0))
    return res


# ====================================================================== random instances
def integer_instance(seed: int) -> Dataset:
    """N in 3..8, distinct integer x, small integer y (ties and collinear triples are common);
    every 4th instance gets one planted collinear triple (a rational y), every 2nd is shuffled."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    if seed % 3 == 0:  # consecutive integers
        x = int(rng.integers(-5, 5)) + np.arange(n)
    else:  # distinct integers with random gaps
        x = np.sort(rng.choice(np.arange(-8, 9), size=n, replace=False))
    x = [int(v) for v in x]
    y = [Fraction(int(v)) for v in rng.integers(-2, 3, size=n)]
    if seed % 4 == 0:
        i = int(rng.integers(1, n - 1))
        y[i + 1] = y[i] + (y[i] - y[i - 1]) * Fraction(x[i + 1] - x[i], x[i] - x[i - 1])
    if seed % 2 == 1:  # given in random order
        perm = rng.permutation(n)
        x, y = [x[i] for i in perm], [y[i] for i in perm]
    return Dataset.from_arrays(x, y, name=f"int{seed}")


def float_instance(seed: int) -> Dataset:
    rng = np.random.default_rng(10_000 + seed)
    n = int(rng.integers(3, 8))
    x = np.cumsum(rng.uniform(0.3, 1.5, size=n)) - 3.0  # well separated
    x = rng.permutation(x) if seed % 3 == 0 else x
    y = rng.normal(size=n)
    if seed % 5 == 0:  # some plateaus and repeated values
        y = np.round(y)
    return Dataset.from_arrays(x.tolist(), y.tolist(), name=f"float{seed}")


N_INT, N_FLOAT, CHUNKS = 240, 120, 4


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_closed_form_equals_exhaustive_integer(chunk):
    seeds = range(chunk, N_INT, CHUNKS)
    hist = {}
    for seed in seeds:
        ds = integer_instance(seed)
        res = check_closed_form(ds)
        K = certified_exhaustive(ds)
        assert res.knots == K, (seed, ds.X.ravel().tolist(), ds.y.tolist())
        hist[K] = hist.get(K, 0) + 1
    assert len(hist) >= 3  # the instances are not all alike


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_closed_form_equals_exhaustive_float(chunk):
    for seed in range(chunk, N_FLOAT, CHUNKS):
        ds = float_instance(seed)
        res = check_closed_form(ds)
        assert res.knots == certified_exhaustive(ds), (seed, ds.X.ravel().tolist(), ds.y.tolist())


def test_fast_search_equals_plain_enumeration():
    """exhaustive_ihs against the literal every-support enumeration, on small instances."""
    done = 0
    for seed in range(200):
        ds = integer_instance(seed)
        if ds.n_points > 5:
            continue
        assert exhaustive_ihs(ds)[0] == exhaustive_plain(ds) == min_knots(ds), seed
        done += 1
        if done == 25:
            break
    assert done == 25


def test_instance_mix_has_degeneracies():
    """The random integer instances do hit collinear triples and unsorted input."""
    zeros = sum(0 in curvature_signs([r[0] for r in ds.X_exact], ds.y_exact)
                for ds in map(integer_instance, range(N_INT)))
    assert zeros >= N_INT // 4
    assert any(not np.all(np.diff(integer_instance(s).X[:, 0]) > 0) for s in range(N_INT))


# ====================================================================== unit tests
def _ds(x, y, **kw):
    return Dataset.from_arrays(x, y, **kw)


def test_paper_example():
    ds = _ds(list(range(-2, 4)), [0, 0, 1, 1, 0, 0])
    assert curvature_signs(ds.X[:, 0].tolist(), ds.y.tolist()) == [1, -1, -1, 1]
    res = check_closed_form(ds)
    assert res.knots == 3
    assert res.runs == [(1, 1, 1), (2, 3, -1), (4, 4, 1)]
    assert res.knot_positions == (Fraction(-1), Fraction(1, 2), Fraction(2))
    assert res.slope_changes == (Fraction(1), Fraction(-2), Fraction(1))
    assert res.collinear_tol == 0.0


def test_knot_on_a_data_point_is_not_active_there():
    ds = _ds([0, 1, 2], [0, 0, 1])
    res = check_closed_form(ds)
    assert res.knots == 1 and res.knot_positions == (Fraction(1),)
    assert res.network.activation_sets(ds.X).tolist() == [[False, False, True]]
    pre = res.network.W[0, 0] * Fraction(1) + Fraction(res.network.b[0])
    assert pre == 0  # exactly on the knot, also in exact arithmetic


def test_pair_knot_at_chord_intersection():
    # y = x^2 on 0..3: one run of two; lines through (0,0),(1,1) and (2,4),(3,9) meet at 3/2
    res = check_closed_form(_ds([0, 1, 2, 3], [0, 1, 4, 9]))
    assert res.knots == 1 and res.knot_positions == (Fraction(3, 2),)
    assert res.slope_changes == (Fraction(4),)


@pytest.mark.parametrize("n", [1, 2])
def test_two_points_or_fewer_is_affine(n):
    ds = _ds([3, -1][:n], [5, 2][:n])
    res = check_closed_form(ds)
    assert res.knots == 0 and res.runs == [] and res.network.width == 0
    assert min_knots(ds) == 0


def test_collinear_data_needs_no_knot():
    ds = _ds([0, 1, 2, 5, 9], [1, 3, 5, 11, 19])
    assert curvature_signs(ds.X[:, 0].tolist(), ds.y.tolist()) == [0, 0, 0]
    assert check_closed_form(ds).knots == 0


def test_zero_breaks_a_run():
    # slopes 1,2,3,3,4,5: runs (1,2) and (4,5), 2 knots; without the collinear triple it would be 3
    ds = _ds(list(range(7)), [0, 1, 3, 6, 9, 13, 18])
    res = check_closed_form(ds)
    assert res.runs == [(1, 2, 1), (4, 5, 1)] and res.knots == 2
    assert check_closed_form(_ds(list(range(7)), [0, 1, 3, 6, 10, 15, 21])).knots == 3


def test_unsorted_input_gives_the_same_function():
    x = [0, 1, 2, 3, 4, 5]
    y = [0, 2, 1, 1, 3, 0]
    perm = [3, 0, 5, 1, 4, 2]
    a = check_closed_form(_ds(x, y))
    b = check_closed_form(_ds([x[i] for i in perm], [y[i] for i in perm]))
    assert a.knots == b.knots and a.knot_positions == b.knot_positions
    assert list(b.order) == sorted(range(6), key=lambda i: x[perm[i]])
    grid = np.linspace(-1, 6, 29)
    assert np.allclose(a.network(grid), b.network(grid))


def test_decimal_data_is_exact():
    # 0.1, 0.2, 0.3 are collinear as decimals but not as floats: the Dataset keeps the decimals
    ds = load_dataset_from_text('{"X": [0.1, 0.2, 0.3, 0.4], "y": [0.1, 0.2, 0.3, 0.5]}')
    assert curvature_signs([r[0] for r in ds.X_exact], list(ds.y_exact)) == [0, 1]
    assert check_closed_form(ds).knots == 1


def load_dataset_from_text(text: str) -> Dataset:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "inst.json"
        p.write_text(text)
        return load_dataset(p)


def test_errors_are_one_line_sparsest_errors():
    two_d = _ds([[0, 0], [1, 0], [0, 1]], [0, 1, 2])
    no_skip = _ds([0, 1, 2], [0, 1, 0], skip=False)
    for ds in (two_d, two_d.with_options(skip=True), no_skip):
        for fn in (sparsest_interpolant, min_knots):
            with pytest.raises(SparsestError, match="the closed form needs 1-D data with the skip term"):
                fn(ds)
    with pytest.raises(SparsestError, match="appears twice"):
        curvature_signs([0, 1, 1], [0, 1, 2])
    with pytest.raises(SparsestError, match="collinear_tol"):
        curvature_signs([0, 1, 2], [0, 1, 0], collinear_tol=-1.0)
    with pytest.raises(SparsestError):
        curvature_signs([0, 1, float("nan")], [0, 1, 0])


def test_collinear_tol_for_float_callers():
    x = [0.0, 1.0, 2.0, 3.0]
    y = [0.0, 1.0, 2.0 + 1e-13, 3.0]  # nearly collinear
    assert curvature_signs(x, y) == [1, -1]
    assert curvature_signs(x, y, collinear_tol=1e-9) == [0, 0]
    ds = _ds(x, y)
    with pytest.raises(SparsestError, match="--collinear-tol"):
        sparsest_interpolant(ds, collinear_tol=0.0)  # exact only: two neurons too small to count
    res = sparsest_interpolant(ds)  # the dataset's default threshold
    assert res.problem == "within tolerance" and res.knots == 0 and res.lower_bound == 0
    assert res.exact_knots == 2 == min_knots(ds) and res.collinear_tol == 1e-9
    assert recheck(res.network, ds).interpolates
    # a threshold that drops a slope change the data needs is lowered until the network fits
    res = sparsest_interpolant(_ds([0, 1, 2], [0, 1, 0]), collinear_tol=10.0)
    assert res.problem == "exact" and res.knots == 1


def _piecewise_linear_decimals(seed: int):
    """N points of a random continuous piecewise-linear function with 1-5 knots, written as decimals
    (17 significant digits), and its number of knots."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(8, 120)), int(rng.integers(1, 6))
    knots = np.sort(rng.uniform(-1, 1, k))
    changes = rng.choice([-1, 1], k) * rng.uniform(0.5, 3, k)
    x = np.sort(rng.uniform(-1.2, 1.2, n))
    y = 0.3 * x + 0.1 + sum(c * np.maximum(x - t, 0) for t, c in zip(knots, changes))
    return [f"{v:.17g}" for v in x], [f"{v:.17g}" for v in y], k


@pytest.mark.parametrize("seed", range(40))
def test_decimals_from_a_piecewise_linear_function_are_answered(seed):
    x, y, k = _piecewise_linear_decimals(seed)
    ds = _ds(x, y)
    res = sparsest_interpolant(ds)
    check = recheck(res.network, ds)
    assert check.interpolates and check.neurons == res.knots
    assert res.lower_bound <= res.knots <= k  # never more knots than the generating function
    assert res.exact_knots == min_knots(ds, collinear_tol=0.0)
    if res.problem == "exact":
        assert res.lower_bound == res.knots == res.exact_knots
    else:
        assert res.knots < res.exact_knots or res.notes


def test_tolerance_answers_are_mostly_proven():
    proven = sum(r.lower_bound == r.knots for r in
                 (sparsest_interpolant(_ds(*_piecewise_linear_decimals(s)[:2])) for s in range(40)))
    assert proven >= 30


@pytest.mark.parametrize("seed", range(60))
def test_tube_lower_bound_never_exceeds_an_interpolant(seed):
    """Any network within eps bounds the tube count from above: the exact one (eps >= 0), and the
    tolerance one. A tiny eps on data with no collinear triple gives pieces of two points."""
    ds = integer_instance(seed)
    order = np.argsort(ds.X[:, 0])
    xs, ys = ds.X[order, 0], ds.y[order]
    for eps in (1e-9, 0.5, 2.0):
        assert _tube_lower_bound(xs, ys, eps) <= min_knots(ds)
    if 0 not in curvature_signs(xs.tolist(), ys.tolist()):
        assert _tube_lower_bound(xs, ys, 1e-9) == (len(xs) + 1) // 2 - 1
    assert _tube_lower_bound(xs, 3 * xs + 1, 1e-9) == 0


def test_runs_of():
    assert runs_of([]) == []
    assert runs_of([0, 0]) == []
    assert runs_of([1, 1, 0, 1, -1, -1, -1]) == [(1, 2, 1), (4, 4, 1), (5, 7, -1)]


def test_network_round_trips_through_json():
    res = check_closed_form(_ds(list(range(-3, 4)), [v * v for v in range(-3, 4)]))
    again = Network.from_json(json.loads(json.dumps(res.network.to_json())))
    assert np.array_equal(again.v, res.network.v) and np.array_equal(again.b, res.network.b)


def test_closed_form_is_fast():
    rng = np.random.default_rng(7)
    x = np.sort(rng.choice(np.arange(-10**6, 10**6), size=2000, replace=False))
    ds = _ds(x.tolist(), rng.integers(-3, 4, size=2000).tolist())
    start = time.perf_counter()
    res = sparsest_interpolant(ds)
    assert time.perf_counter() - start < 5.0
    assert res.knots == min_knots(ds) <= 1998


# ====================================================================== properties (hypothesis)
small_ints = st.integers(-6, 6)


@st.composite
def data_1d(draw, min_n=3, max_n=9):
    n = draw(st.integers(min_n, max_n))
    x = draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n, unique=True))
    y = draw(st.lists(small_ints, min_size=n, max_size=n))
    return [Fraction(v) for v in x], [Fraction(v) for v in y]


def _k(x, y) -> int:
    return min_knots(Dataset.from_arrays(list(x), list(y)))


PROP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROP
@given(data_1d(), st.fractions(-5, 5, max_denominator=7), st.fractions(-5, 5, max_denominator=7))
def test_adding_an_affine_function_keeps_the_count(data, alpha, beta):
    x, y = data
    assert _k(x, y) == _k(x, [yi + alpha * xi + beta for xi, yi in zip(x, y)])


@PROP
@given(data_1d())
def test_reflection_keeps_the_count(data):
    x, y = data
    assert _k(x, y) == _k([-v for v in x], y)


@PROP
@given(data_1d(), st.fractions(-9, 9, max_denominator=5).filter(lambda c: c != 0))
def test_scaling_y_keeps_the_count(data, scale):
    x, y = data
    assert _k(x, y) == _k(x, [scale * v for v in y])
    signs = curvature_signs(x, y)
    assert curvature_signs(x, [scale * v for v in y]) == [s if scale > 0 else -s for s in signs]


@PROP
@given(data_1d(), st.fractions(1, 9, max_denominator=5), st.integers(-5, 5))
def test_affine_change_of_x_keeps_the_count(data, scale, shift):
    x, y = data
    assert _k(x, y) == _k([scale * v + shift for v in x], y)


@PROP
@given(data_1d(min_n=1, max_n=12))
def test_count_is_between_zero_and_n_minus_two(data):
    x, y = data
    k = _k(x, y)
    assert 0 <= k <= max(len(x) - 2, 0)
    signs = curvature_signs(x, y)
    assert (k == 0) == all(s == 0 for s in signs)
    # a lower bound that needs no theory: each knot bends at most two interior points
    assert 2 * k >= sum(1 for s in signs if s != 0)


@PROP
@given(data_1d(), st.randoms(use_true_random=False))
def test_order_of_the_points_does_not_matter(data, rnd):
    x, y = data
    idx = list(range(len(x)))
    rnd.shuffle(idx)
    assert _k(x, y) == _k([x[i] for i in idx], [y[i] for i in idx])


@settings(max_examples=100, deadline=None)
@given(data_1d(min_n=1, max_n=14))
def test_closed_form_interpolates_exactly(data):
    x, y = data
    check_closed_form(Dataset.from_arrays(list(x), list(y)))


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 10), st.integers(0, 10**6))
def test_closed_form_on_decimal_data(n, seed):
    rng = np.random.default_rng(seed)
    x = np.round(np.sort(rng.choice(np.arange(1, 10**4), size=n, replace=False)) / 997.0, 4)
    assume(len(set(x.tolist())) == n)
    y = np.round(rng.normal(size=n) * 10, 3)
    check_closed_form(Dataset.from_arrays(x.tolist(), y.tolist()))


# ====================================================================== instance files
ONE_D = ["peak_plateau", "convex_square", "zigzag", "collinear_run", "noisy_sine"]
TWO_D = ["planted_2d_n10", "planted_2d_n12", "square_corners_2d"]
EXPECTED = {"peak_plateau": 3, "convex_square": 3, "zigzag": 6, "collinear_run": 2}


@pytest.mark.parametrize("name", ONE_D)
def test_one_d_instance_optimum(name):
    ds = load_dataset(INSTANCES / f"{name}.json")
    assert ds.dim == 1 and ds.skip
    K = ds.optimum["neurons"]
    assert K == min_knots(ds) == check_closed_form(ds).knots
    if name in EXPECTED:
        assert K == EXPECTED[name]
    if ds.n_points <= 8:
        assert certified_exhaustive(ds) == K
    if ds.n_points <= 7:
        assert exhaustive_plain(ds) == K


def _make_instances_module():
    spec = importlib.util.spec_from_file_location("make_instances", INSTANCES / "make_instances.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_instance_files_regenerate_identically(tmp_path):
    mod = _make_instances_module()
    for path in mod.write_all(tmp_path):
        assert path.read_text() == (INSTANCES / path.name).read_text(), path.name


@pytest.mark.parametrize("name", TWO_D)
def test_two_d_instances(name):
    ds = load_dataset(INSTANCES / f"{name}.json")
    assert ds.dim == 2 and not ds.skip and not ds.output_bias and ds.optimum == {}
    if name.startswith("planted"):
        mod = _make_instances_module()
        n = ds.n_points
        rng = np.random.default_rng(n)
        rng.uniform(-1.0, 1.0, (n, 2))
        v, W, b = mod.planted_weights(rng, [list(r) for r in ds.X_exact])
        assert mod.planted_output(v, W, b, ds.X_exact) == list(ds.y_exact)
        net = Network(v=[float(t) for t in v], W=[[float(t) for t in r] for r in W], b=[float(t) for t in b])
        assert np.max(np.abs(net(ds.X) - ds.y)) <= ds.interpolation_tol
        assert net.count_neurons(ds.X, ds.count_tol) == 3
    else:
        net = Network(v=[1.0, 1.0], W=[[1.0, 1.0], [-1.0, -1.0]], b=[-1.0, -1.0])
        assert net.evaluate_exact(ds.X_exact) == list(ds.y_exact)
