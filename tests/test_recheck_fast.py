"""The 1-D re-check's fast paths (issue 12: 10^6 points) equal plain Fraction arithmetic.

SortedPass1D decides the exact activation tests w x + b > 0 in float64 under a rigorous error bound
(integers only where the bound does not decide), searches a boundary that is off by galloping, and
sums the network per segment between boundaries in integers. Here each is checked against the
Fraction forward pass (Network.evaluate_exact) and brute-force exact activation sets, on seeded
adversarial instances: knots on the float64 roundings of decimal data points, data points a few
ulps apart far from 0 (exact and float boundaries several positions apart), huge and tiny scales,
integers, long decimals, zero and negative input weights.
"""

from fractions import Fraction

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.core.network import Network
from sparsest.core.recheck import SortedPass1D, _search_first, recheck


def _decimal(rng, value, digits):
    return f"{value:.{digits}e}"


def adversarial_instance(seed):
    """(dataset, network) of one of five kinds, chosen by the seed."""
    rng = np.random.default_rng(91_000 + seed)
    kind = seed % 5
    n = int(rng.integers(2, 60))
    if kind == 0:  # decimals with many digits at a random scale
        scale = 10.0 ** int(rng.integers(-9, 10))
        x = [_decimal(rng, v, int(rng.integers(1, 25))) for v in rng.uniform(-3, 3, n) * scale]
    elif kind == 1:  # a cluster a few ulps apart, far from 0: float tests off by several positions
        centre = float(rng.choice([1e6, -3e8, 12345.678, 1e9]))
        ulp = np.spacing(centre)
        x = [Fraction(centre) + Fraction(float(ulp)) * (k + Fraction(int(rng.integers(-3, 4)), 7))
             for k in range(n)]
    elif kind == 2:  # integers
        x = rng.choice(np.arange(-10 * n, 10 * n), size=n, replace=False).tolist()
    elif kind == 3:  # tiny scale, long decimals
        x = [_decimal(rng, v, 30) for v in rng.uniform(-1, 1, n) * 1e-7]
    else:  # binary floats
        x = (rng.uniform(-1, 1, n) * 10.0 ** int(rng.integers(-5, 6))).tolist()
    ds = Dataset.from_arrays(x, [0] * len(x))
    xf = ds.X[:, 0]
    K = int(rng.integers(0, 10))
    w = rng.choice([-1.0, 1.0, 0.0], size=K, p=[0.4, 0.5, 0.1]) * np.exp(rng.normal(size=K) * 3)
    if K and rng.random() < 0.5:
        w[rng.random(K) < 0.5] = 2.0 ** rng.integers(-4, 5)  # powers of two: exact products
    knots = np.where(rng.random(K) < 0.7, rng.choice(xf, size=K), rng.uniform(xf.min(), xf.max(), K))
    b = np.where(w == 0, rng.normal(size=K), -w * knots)
    net = Network(v=rng.normal(size=K) * 10.0 ** rng.integers(-3, 1, K), W=w.reshape(K, 1), b=b,
                  a=np.array([rng.normal() / 100]), c=float(rng.normal()))
    ys = net.evaluate_exact(ds.X_exact)
    if seed % 3 == 0:  # targets on the exact function: any wrong activation shows as a residual
        y = ys
    else:
        y = [f + Fraction(int(rng.integers(-5, 6)), 10 ** int(rng.integers(3, 12))) for f in ys]
    return Dataset.from_arrays(x, y), net


def exact_first(net, ds, sorted_pass):
    """first[k] from the exact activation sets in Fractions (sorted positions)."""
    xs = sorted(r[0] for r in ds.X_exact)
    out = []
    for k in range(net.width):
        w, b = Fraction(float(net.W[k, 0])), Fraction(float(net.b[k]))
        active = [w * x + b > 0 for x in xs]
        if sorted_pass.rightward[k]:
            out.append(active.index(True) if any(active) else len(xs))
        else:
            out.append(active.index(False) if not all(active) else len(xs))
    return out


@pytest.mark.parametrize("seed", range(60))
def test_exact_residual_and_boundaries_equal_the_fraction_pass(seed):
    ds, net = adversarial_instance(seed)
    sorted_pass = SortedPass1D(net, ds.X[:, 0])
    X = np.empty(ds.n_points, dtype=object)
    X[:] = [ds.exact.X_num[0][i] for i in sorted_pass.order]
    first = sorted_pass.exact_first(X, ds.exact.X_den[0])
    moving = net.W[:, 0] != 0
    assert first[moving].tolist() == np.array(exact_first(net, ds, sorted_pass))[moving].tolist()
    expected = float(max(abs(f - t) for f, t in zip(net.evaluate_exact(ds.X_exact), ds.y_exact)))
    assert sorted_pass.max_abs_residual_exact(ds.exact) == expected
    float_expected = max(abs(
        sum((Fraction(vk) * (Fraction(wk) * Fraction(xi) + Fraction(bk))
             for vk, wk, bk in zip(net.v, net.W[:, 0], net.b) if wk * xi + bk > 0), Fraction(0))
        + Fraction(net.a[0]) * Fraction(xi) + Fraction(net.c) - Fraction(yi)) for xi, yi in zip(ds.X[:, 0], ds.y))
    assert sorted_pass.max_abs_residual(ds.y) == float(float_expected)


def test_the_adversarial_mix_moves_boundaries():
    """The float and exact boundaries differ on many instances (the integer test and the search run)."""
    moved = 0
    for seed in range(60):
        ds, net = adversarial_instance(seed)
        sorted_pass = SortedPass1D(net, ds.X[:, 0])
        moved += int(np.any(np.array(exact_first(net, ds, sorted_pass), dtype=int) != sorted_pass.first))
    assert moved >= 20


class _Threshold:
    """A monotone stand-in for the exact test: neuron k (rightward when upward[k]) first holds at cut[k]."""

    def __init__(self, cut, upward):
        self.cut, self.upward = cut, upward

    def positive(self, ks, ps):  # active on p >= cut (rightward) or on p < cut (leftward)
        return np.where(self.upward[ks], ps >= self.cut[ks], ps < self.cut[ks])


@pytest.mark.parametrize("seed", range(20))
def test_the_boundary_search_finds_far_boundaries(seed):
    """_search_first from a float boundary off by any distance (both directions, both neuron
    orientations, boundaries at 0 and n)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    K = 200
    truth = rng.integers(0, n + 1, K)
    upward = rng.random(K) < 0.5
    test = _Threshold(truth, upward)
    f = np.clip(truth + rng.integers(-n, n + 1, K) // rng.integers(1, 50, K), 0, n)
    holds = lambda ks, ps: test.positive(ks, ps) == upward[ks]
    at = np.where(f < n, holds(np.arange(K), np.minimum(f, n - 1)), True)
    before = np.where(f > 0, holds(np.arange(K), np.maximum(f - 1, 0)), False)
    wrong = np.flatnonzero(~at | before)
    found = _search_first(test, wrong, upward[wrong], f[wrong], at[wrong], n)
    assert found.tolist() == truth[wrong].tolist()
    assert np.array_equal(f[~np.isin(np.arange(K), wrong)], truth[~np.isin(np.arange(K), wrong)])


def test_a_shared_sorted_pass_gives_the_same_recheck_and_refuses_another_network():
    ds, net = adversarial_instance(4)
    sorted_pass = SortedPass1D(net, ds.X[:, 0])
    assert recheck(net, ds, sorted_pass=sorted_pass) == recheck(net, ds)
    other = Network(net.v, net.W, net.b, net.a, net.c)
    with pytest.raises(ValueError):
        recheck(other, ds, sorted_pass=sorted_pass)


# ---------------------------------------------------------------------- exact signs with a float filter
def _objects(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@pytest.mark.parametrize("seed", range(10))
def test_sign_of_cross_equals_integer_signs_on_near_ties(seed):
    """sign(p q - r s) on adversarial integers: exact ties, differences of +-1 far beyond 2^53,
    values beyond float64, zeros, mixed scales."""
    from sparsest.core.rational import sign_of_cross

    rng = np.random.default_rng(95_000 + seed)
    p, q, r, s = [], [], [], []
    for _ in range(400):
        bits = int(rng.integers(1, 700 if seed % 3 == 0 else 120))
        a, b = int(rng.integers(1, 2 ** 62)) << bits, int(rng.integers(1, 2 ** 62)) << bits
        kind = int(rng.integers(5))
        if kind == 0:    # p q == r s exactly
            p.append(a), q.append(b), r.append(b), s.append(a)
        elif kind == 1:  # p q - r s = +-1 (p = a, q = b, r s = a b -+ 1 with r = 1)
            p.append(a), q.append(b), r.append(1), s.append(a * b + int(rng.choice([-1, 1])))
        elif kind == 2:  # zeros
            p.append(0), q.append(b), r.append(a * int(rng.integers(0, 2))), s.append(b)
        elif kind == 3:  # negatives, near ties
            p.append(-a), q.append(b), r.append(-b), s.append(a + int(rng.integers(-2, 3)))
        else:            # random
            p.append(a), q.append(-b), r.append(int(rng.integers(-9, 9))), s.append(a)
    p, q, r, s = map(_objects, (p, q, r, s))
    exact = p * q - r * s
    expected = (exact > 0).astype(np.int8) - (exact < 0).astype(np.int8)
    assert sign_of_cross(p, q, r, s).tolist() == expected.tolist()


@pytest.mark.parametrize("seed", range(10))
def test_small_slope_changes_equal_the_integer_comparison(seed):
    """The thresholded curvature (collinear_tol > 0) against the plain integer comparison, on data
    whose slope changes sit at, just below and just above the threshold."""
    from sparsest.exact.closed_form import (
        _largest_scaled_slope,
        _small_slope_changes,
        _SortedData,
    )

    rng = np.random.default_rng(96_000 + seed)
    n = 60
    x = np.cumsum(rng.integers(1, 5, n)).tolist()
    slopes = [Fraction(int(rng.integers(-4, 5)), 1)]
    tol = float(rng.choice([0.5, 0.25, 1e-3, 1e-9]))
    for _ in range(n - 2):  # slope changes of exactly tol * max|s|, or that +- one part in 10^20
        step = Fraction(tol) * 8 * (1 + Fraction(int(rng.integers(-1, 2)), 10 ** 20))
        slopes.append(max(min(slopes[-1] + step * int(rng.choice([-1, 1])), Fraction(8)), Fraction(-8)))
    slopes[int(rng.integers(0, n - 1))] = Fraction(8)  # max |s| = 8
    y = [Fraction(0)]
    for i in range(n - 1):
        y.append(y[-1] + slopes[i] * (x[i + 1] - x[i]))
    data = _SortedData.of([Fraction(v) for v in x], y)
    top, bottom = _largest_scaled_slope(data)
    assert Fraction(top, bottom) * Fraction(data.Dx, data.Dy) == max(abs(v) for v in slopes)
    p_, q_ = Fraction(tol).as_integer_ratio()
    dX, dY = data.dX, data.dY
    cross = dY[1:] * dX[:-1] - dY[:-1] * dX[1:]
    expected = (np.abs(cross) * (q_ * bottom) <= (dX[:-1] * dX[1:]) * (p_ * top)).astype(bool)
    assert _small_slope_changes(data, tol).tolist() == expected.tolist()
    assert 0 < expected.sum() < len(expected)  # changes at the threshold, and above it
