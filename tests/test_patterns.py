"""Exact activation sets (docs/math.md §3): counts, completeness, realizability, the fast path vs the LP path."""

import math
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.exact.highs import INF, solve_lp
from sparsest.exact.patterns import (
    _cells_general_position,
    _cells_incremental_lp,
    activation_patterns,
    anchor_point,
    in_general_position,
    pattern_count_bound,
)


def _random_dataset(rng, n, d, skip=False):
    return Dataset.from_arrays(rng.uniform(-1, 1, (n, d)), rng.normal(size=n), skip=skip)


def _as_set(rows):
    return {tuple(map(bool, row)) for row in rows}


def _realize(X_tilde, mask):
    """An explicit u = (w, b) with x~_i . u > 0 exactly on the mask, found by an LP and checked."""
    sigma = np.where(mask, 1.0, -1.0)
    n, m = X_tilde.shape
    sol = solve_lp(np.zeros(m), sigma[:, None] * X_tilde, np.ones(n), np.full(n, INF),
                   np.full(m, -INF), np.full(m, INF))
    assert sol.status == "optimal", f"set {mask.astype(int)} is not realizable"
    return sol.x


def _sampled_sets(X_tilde, rng, n_samples=20_000):
    """Activation sets of random (w, b) and of small perturbations around arrangement vertices."""
    n, m = X_tilde.shape
    U = rng.normal(size=(n_samples, m))
    U[:, -1] *= 2.0
    probes = [U]
    for subset in combinations(range(n), m - 1):
        _, s, vt = np.linalg.svd(X_tilde[list(subset)])
        if s[-1] < 1e-12 * s[0]:
            continue
        ray = vt[-1]
        for sign in (1.0, -1.0):
            probes.append(sign * ray + 1e-4 * rng.normal(size=(40, m)))
    values = np.vstack(probes) @ X_tilde.T
    values = values[np.all(np.abs(values) > 1e-12, axis=1)]
    return np.unique(values > 0, axis=0)


# ---------------------------------------------------------------------- counts in general position
@pytest.mark.parametrize("d, sizes", [(1, [1, 2, 5, 9]), (2, [2, 3, 4, 7, 12, 20]), (3, [3, 4, 5, 9, 15])])
def test_counts_equal_the_general_position_formula(d, sizes):
    rng = np.random.default_rng(d)
    for n in sizes:
        for skip in (False, True):
            ds = _random_dataset(rng, n, d, skip=skip)
            sets = activation_patterns(ds)
            bound = pattern_count_bound(n, d)
            # The empty set is dropped; with the skip term one of each complementary pair is kept.
            assert len(sets) == (bound // 2 - 1 if skip else bound - 1)
            assert len(_as_set(sets)) == len(sets)
            assert not np.any(~sets.any(axis=1))


def test_bound_formula_small_values():
    assert pattern_count_bound(5, 1) == 10  # 2N in 1-D
    assert pattern_count_bound(3, 2) == 8   # 2^N when N <= d + 1
    assert pattern_count_bound(10, 2) == 2 * (1 + 9 + 36)


# ---------------------------------------------------------------------- fast path == LP path
def test_fast_path_equals_incremental_lp_on_random_instances():
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(40):
        d = int(rng.integers(2, 4))
        n = int(rng.integers(2, 11))
        X_tilde = np.hstack([rng.uniform(-1, 1, (n, d)), np.ones((n, 1))])
        fast = _cells_general_position(X_tilde)
        assert fast is not None, "random points are in general position"
        slow = _cells_incremental_lp(X_tilde)
        assert _as_set(fast) == _as_set(slow)
        checked += 1
    assert checked == 40


def test_every_fast_set_is_realized_by_an_explicit_neuron():
    rng = np.random.default_rng(11)
    ds = _random_dataset(rng, 9, 2)
    for mask in activation_patterns(ds):
        u = _realize(ds.X_tilde, mask)
        assert np.array_equal(ds.X_tilde @ u > 0, mask)


# ---------------------------------------------------------------------- degenerate data: the LP path
def _degenerate_instances():
    collinear = [[t, 2 * t - 1] for t in (-1.0, -0.5, 0.0, 0.25, 1.0)] + [[0.3, 0.9]]
    grid = [[a, b] for a in (-1.0, 0.0, 1.0) for b in (-1.0, 0.0, 1.0)]
    repeated = [[0.5, -1.0], [0.5, 0.0], [0.5, 1.0], [-0.2, 0.3], [0.9, 0.3], [0.1, 0.3]]
    coplanar = [[a, b, a + b] for a, b in [(0, 0), (1, 0), (0, 1), (1, 1), (0.5, -0.5)]] + [[0.2, 0.1, 0.9]]
    return {"collinear": collinear, "grid": grid, "repeated": repeated, "coplanar-3d": coplanar}


@pytest.mark.parametrize("name", sorted(_degenerate_instances()))
def test_degenerate_sets_are_realized_and_complete(name):
    X = np.array(_degenerate_instances()[name], dtype=float)
    ds = Dataset.from_arrays(X, np.arange(len(X), dtype=float))
    assert in_general_position(ds.X_tilde) is False
    sets = activation_patterns(ds)
    assert len(sets) < pattern_count_bound(ds.n_points, ds.dim) - 1
    listed = _as_set(sets)
    for mask in sets:
        u = _realize(ds.X_tilde, mask)
        assert np.array_equal(ds.X_tilde @ u > 0, mask)
    sampled = _sampled_sets(ds.X_tilde, np.random.default_rng(3))
    nonempty = [s for s in _as_set(sampled) if any(s)]
    missing = [s for s in nonempty if s not in listed]
    assert not missing, f"sampled sets not enumerated: {missing[:3]}"
    # The sample reaches most listed sets: the check above is not vacuous.
    assert len(nonempty) >= 0.8 * len(listed)


def test_nearly_degenerate_floats_fall_back_correctly():
    # Exactly collinear in rationals would be degenerate; these floats are not, by one ulp.
    X = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, np.nextafter(3.0, 4.0)], [0.5, -0.7], [-0.4, 0.2]])
    ds = Dataset.from_arrays(X, np.zeros(5))
    assert in_general_position(ds.X_tilde) is True
    fast = activation_patterns(ds)
    slow = _cells_incremental_lp(ds.X_tilde)
    assert _as_set(fast) == {s for s in _as_set(slow) if any(s)}


def test_general_position_test_agrees_with_exact_rationals():
    rng = np.random.default_rng(5)
    outcomes = set()
    for trial in range(60):
        d = int(rng.integers(2, 4))
        n = int(rng.integers(d + 1, d + 5))
        X = rng.integers(-2, 3, size=(n, d)).astype(float)
        X = np.unique(X, axis=0)
        X_tilde = np.hstack([X, np.ones((len(X), 1))])
        m = min(len(X), d + 1)
        exact = True
        for subset in combinations(range(len(X)), m):
            rows = [[Fraction(float(v)) for v in X_tilde[i]] for i in subset]
            if m == d + 1:
                exact &= _fraction_det(rows) != 0
            else:
                exact &= _fraction_rank(rows) == m
        assert in_general_position(X_tilde) == exact
        outcomes.add(exact)
    assert outcomes == {True, False}


def _fraction_det(rows):
    if len(rows) == 1:
        return rows[0][0]
    return sum((-1) ** j * rows[0][j] * _fraction_det([r[:j] + r[j + 1:] for r in rows[1:]])
               for j in range(len(rows)))


def _fraction_rank(rows):
    m = len(rows)
    cols = len(rows[0])
    return max(
        (k for k in range(m + 1)
         for c in combinations(range(cols), k) for r in combinations(range(m), k)
         if k == 0 or _fraction_det([[rows[i][j] for j in c] for i in r]) != 0),
        default=0,
    )


# ---------------------------------------------------------------------- options and rules
def test_max_patterns_refusal():
    ds = _random_dataset(np.random.default_rng(0), 30, 3)
    with pytest.raises(SparsestError, match="max-patterns"):
        activation_patterns(ds, max_patterns=1000)
    assert len(activation_patterns(_random_dataset(np.random.default_rng(0), 6, 2), max_patterns=32)) == 31


@pytest.mark.parametrize("d", [1, 2, 3])
def test_skip_term_keeps_one_set_of_each_complementary_pair(d):
    rng = np.random.default_rng(20 + d)
    for n in (4, 7):
        ds = _random_dataset(rng, n, d)
        with_skip = activation_patterns(ds.with_options(skip=True))
        without = activation_patterns(ds.with_options(skip=False))
        anchor = anchor_point(ds)
        assert not with_skip[:, anchor].any()
        kept = _as_set(with_skip)
        for s in _as_set(without):
            complement = tuple(not v for v in s)
            if any(complement):
                assert (s in kept) != (complement in kept)
        assert kept <= _as_set(without)


def test_one_d_with_skip_keeps_exactly_the_right_facing_sets():
    rng = np.random.default_rng(9)
    x = rng.permutation(rng.uniform(-3, 3, 8))
    ds = Dataset.from_arrays(x, np.zeros(8))
    assert ds.skip
    sets = activation_patterns(ds)
    order = np.sort(x)
    expected = {tuple(bool(v) for v in x > t) for t in order[:-1]}
    assert _as_set(sets) == expected
    assert anchor_point(ds) == int(np.argmin(x))


def test_an_undecided_cell_lp_stops_the_enumeration_instead_of_dropping_the_cell(monkeypatch):
    """A cell is dropped only when HiGHS proves it empty: an undecided LP must not shrink the list."""
    from sparsest.exact import patterns
    from sparsest.exact.highs import LpSolution

    X_tilde = np.hstack([np.random.default_rng(3).uniform(-1, 1, (6, 2)), np.ones((6, 1))])
    complete = patterns._cells_incremental_lp(X_tilde)
    calls = []

    def undecided(*args, **options):
        calls.append(options)
        return LpSolution("Iteration limit reached", None, None)

    monkeypatch.setattr(patterns, "solve_lp", undecided)
    with pytest.raises(SparsestError, match="did not decide"):
        patterns._cells_incremental_lp(X_tilde)
    assert calls == [{}, {"presolve": "off"}]  # retried once before giving up
    assert len(complete) == 2 * sum(math.comb(5, k) for k in range(3))  # general position: the full count
