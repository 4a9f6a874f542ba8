"""The closed form of SPEC 4: the sparsest interpolant of 1-D data with the affine skip term.

Notation (SPEC 4). Sort the data by x: x_0 < x_1 < ... < x_{N-1} (positions in sorted order; the
dataset itself may list the points in any order). Segment slopes

    s_i = (y_{i+1} - y_i) / (x_{i+1} - x_i),        i = 0..N-2,

and the discrete curvature at an interior point i = 1..N-2 is kappa_i = sign(s_i - s_{i-1}) in
{-1, 0, +1} (0 when the points i-1, i, i+1 are collinear). A *run* is a maximal block of consecutive
interior points with the same nonzero kappa; a zero breaks a run. Then

    min neurons = sum over runs R of ceil(|R| / 2)   (<= N - 2)

(Debarre, Denoyelle, Unser, Fageot 2022), and the construction below attains it.

Construction. Write L_i for the line through the data points i and i+1 (slope s_i). Inside a run
p..e (all kappa equal to sigma != 0) take the points in pairs (p, p+1), (p+2, p+3), ...:

* a pair (i, i+1) becomes ONE knot t at the intersection of L_{i-1} and L_{i+1}. In a run
  sigma (s_i - s_{i-1}) > 0 and sigma (s_{i+1} - s_i) > 0, so s_{i-1} != s_{i+1}: the lines are
  never parallel. Moreover L_{i+1}(x_i) - y_i = -(s_{i+1} - s_i) h and L_{i-1}(x_{i+1}) - y_{i+1} =
  -(s_i - s_{i-1}) h (h = x_{i+1} - x_i) have the signs -sigma, -sigma, so L_{i+1} - L_{i-1} has
  sign -sigma at x_i and +sigma at x_{i+1}: the crossing is strictly inside (x_i, x_{i+1}). The
  kink max/min(L_{i-1}, L_{i+1}) passes through the points i-1, i, i+1, i+2; slope change
  s_{i+1} - s_{i-1} (sign sigma).
* an odd run keeps one knot exactly at its last point q (slope change s_q - s_{q-1}, sign sigma).

Consecutive pieces always share their line (a run ends on L_e, the next run starts on the line of
the segment before its first point, which is L_e, or L_z = L_{z-1} across a collinear point z), so
the function

    f(x) = s_0 x + (y_0 - s_0 x_0) + sum_k delta_k relu(x - t_k)

interpolates every point. Every knot lies in [x_1, x_{N-2}], strictly inside (x_0, x_{N-1}), so
every neuron is zero on x_0 and nonzero on x_{N-1}: none is idle or affine on the data. The slope
changes are differences of data slopes, so |delta_k| <= max_i s_i - min_i s_i (SPEC 3's big-M).

Everything is computed in exact rationals (the Dataset's X_exact / y_exact), converted to float64
only at the end; the float network is then re-checked (interpolation, counts, activation sets).
Cost: O(N log N) (one sort, then linear passes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.rational import to_fraction
from sparsest.errors import SparsestError
from sparsest.core.network import Network

__all__ = [
    "ClosedFormResult",
    "curvature_signs",
    "min_knots",
    "runs_of",
    "sparsest_interpolant",
]

_NEEDS_1D = "the closed form needs 1-D data with the skip term"


@dataclass(frozen=True)
class ClosedFormResult:
    """The sparsest 1-D interpolant with skip term (SPEC 4).

    knots : K = sum over runs of ceil(run length / 2), the proven minimum number of neurons.
    network : a Network with one right-facing neuron per knot (w_k > 0, knot t_k = -b_k / w_k),
        skip term a (shape (1,)) and c set; ``count_neurons(X, count_tol) == knots`` and it
        interpolates to ``dataset.interpolation_tol`` in float64 (both checked before returning).
    runs : (start, end, sign) per run: first and last interior point (inclusive, positions in
        the data sorted by x) and the common curvature sign.
    collinear_tol : the relative tolerance under which a curvature counted as 0 (0.0 = exact).
    knot_positions : the knots t_k in exact rationals, increasing.
    slope_changes : delta_k, the slope change at t_k, in exact rationals.
    order : the permutation that sorts the dataset's points by x (position -> dataset index).
    """

    knots: int
    network: Network
    runs: list[tuple[int, int, int]]
    collinear_tol: float = 0.0
    knot_positions: tuple[Fraction, ...] = ()
    slope_changes: tuple[Fraction, ...] = ()
    order: tuple[int, ...] = ()


# ---------------------------------------------------------------------- exact inputs
def _sorted_exact(x: Sequence[Any], y: Sequence[Any]) -> tuple[list[int], list[Fraction], list[Fraction]]:
    """Exact rationals of (x, y), sorted by x; the permutation; refuses repeated x."""
    xs = [to_fraction(v, f"x[{i}]") for i, v in enumerate(np.asarray(x, dtype=object).reshape(-1))]
    ys = [to_fraction(v, f"y[{i}]") for i, v in enumerate(np.asarray(y, dtype=object).reshape(-1))]
    if len(xs) != len(ys):
        raise SparsestError(f"x has {len(xs)} points but y has {len(ys)} values")
    order = sorted(range(len(xs)), key=xs.__getitem__)
    xs = [xs[i] for i in order]
    ys = [ys[i] for i in order]
    for i in range(1, len(xs)):
        if xs[i] == xs[i - 1]:
            raise SparsestError(f"x = {float(xs[i])} appears twice: 1-D data needs distinct x")
    return order, xs, ys


def _slopes(xs: Sequence[Fraction], ys: Sequence[Fraction]) -> list[Fraction]:
    return [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]


def _signs_from_slopes(s: Sequence[Fraction], collinear_tol: float) -> list[int]:
    if collinear_tol < 0 or not math.isfinite(collinear_tol):
        raise SparsestError(f"collinear_tol must be a finite number >= 0, got {collinear_tol}")
    threshold = Fraction(collinear_tol) * max((abs(v) for v in s), default=Fraction(0))
    signs = []
    for i in range(1, len(s)):
        diff = s[i] - s[i - 1]
        if abs(diff) <= threshold:
            signs.append(0)
        else:
            signs.append(1 if diff > 0 else -1)
    return signs


# ---------------------------------------------------------------------- public API
def curvature_signs(x: Sequence[Any], y: Sequence[Any], collinear_tol: float = 0.0) -> list[int]:
    """kappa_i = sign(s_i - s_{i-1}) at the interior points i = 1..N-2 of the data sorted by x.

    Returns a list of N-2 values in {-1, 0, +1} (empty for N <= 2); entry m is kappa at the
    sorted position m+1. The data may come in any order; it is sorted here, and x must be
    distinct. Computed in exact rational arithmetic: ints and Fractions are taken as they are,
    floats as the exact rationals of their binary values. With the default ``collinear_tol = 0``
    the sign is exact: 0 exactly when the three points are collinear. A float-only caller may
    pass ``collinear_tol > 0`` (relative): kappa_i = 0 whenever
    |s_i - s_{i-1}| <= collinear_tol * max_j |s_j|.
    """
    _, xs, ys = _sorted_exact(x, y)
    return _signs_from_slopes(_slopes(xs, ys), float(collinear_tol))


def runs_of(signs: Sequence[int]) -> list[tuple[int, int, int]]:
    """The maximal runs of equal nonzero kappa, as (start, end, sign) with inclusive sorted
    positions of interior points (signs[m] is the point at position m+1); a 0 breaks a run."""
    runs: list[tuple[int, int, int]] = []
    start = None
    for m, sg in enumerate(list(signs) + [0]):
        if start is not None and sg != signs[start - 1]:
            runs.append((start, m, signs[start - 1]))
            start = None
        if start is None and sg != 0:
            start = m + 1
    return runs


def _check_dataset(dataset: Dataset) -> None:
    if not isinstance(dataset, Dataset):
        raise SparsestError(f"expected a Dataset, got {type(dataset).__name__}")
    if dataset.dim != 1 or not dataset.skip:
        raise SparsestError(_NEEDS_1D)


def _dataset_xy(dataset: Dataset) -> tuple[list[Fraction], list[Fraction]]:
    return [row[0] for row in dataset.X_exact], list(dataset.y_exact)


def min_knots(dataset: Dataset, collinear_tol: float = 0.0) -> int:
    """K* = sum over runs R of ceil(|R| / 2): the minimum number of neurons of a 1-D ReLU network
    with skip term a x + c that interpolates the data (SPEC 4). 0 <= K* <= max(N - 2, 0).

    Exact on the dataset's rationals (X_exact, y_exact) unless ``collinear_tol > 0`` (see
    :func:`curvature_signs`). Raises SparsestError unless d = 1 with the skip term.
    """
    _check_dataset(dataset)
    x, y = _dataset_xy(dataset)
    signs = curvature_signs(x, y, collinear_tol)
    return sum((end - start + 2) // 2 for start, end, _ in runs_of(signs))


def sparsest_interpolant(dataset: Dataset, collinear_tol: float = 0.0) -> ClosedFormResult:
    """The sparsest interpolant f(x) = a x + c + sum_k v_k relu(w_k x + b_k) of SPEC 4.

    Promises (checked before returning, else SparsestError):
    * K = ``knots`` = :func:`min_knots` neurons, one per knot t_k = -b_k / w_k, all right-facing
      (w_k > 0); a knot exactly at a data point leaves that point out of the activation set
      {i : w_k x_i + b_k > 0} (strict), in float64 and - since w_k is a power of two - also in
      exact arithmetic whenever x is a float.
    * max_i |f(x_i) - y_i| <= dataset.interpolation_tol in float64, and
      ``network.count_neurons(dataset.X, dataset.count_tol) == knots``.
    * weights balanced up to a power of two: w_k = 2^e with 1/2 <= |v_k| / w_k <= 2, and
      v_k w_k = delta_k (the slope change, rounded once to float64).
    With N <= 2 the interpolant is affine (K = 0). With ``collinear_tol > 0`` near-collinear
    triples count as collinear; the slope change there is dropped, and if the network then misses
    the data by more than the interpolation tolerance a SparsestError says so.
    """
    _check_dataset(dataset)
    x_raw, y_raw = _dataset_xy(dataset)
    order, xs, ys = _sorted_exact(x_raw, y_raw)
    n = len(xs)
    s = _slopes(xs, ys)
    signs = _signs_from_slopes(s, float(collinear_tol))
    runs = runs_of(signs)

    if n >= 2:
        a_exact = s[0]
        c_exact = ys[0] - s[0] * xs[0]
    else:
        a_exact, c_exact = Fraction(0), ys[0]

    def line(i: int, t: Fraction) -> Fraction:  # L_i(t)
        return ys[i] + s[i] * (t - xs[i])

    knots: list[tuple[Fraction, Fraction, int]] = []  # (t, delta, first active sorted position)
    for start, end, sign in runs:
        i = start
        while i + 1 <= end:  # the pair (i, i+1): one knot where L_{i-1} meets L_{i+1}
            denom = s[i - 1] - s[i + 1]
            _assert(denom != 0, f"parallel lines in a run at positions {i}, {i + 1}")
            t = (ys[i + 1] - ys[i] - s[i + 1] * xs[i + 1] + s[i - 1] * xs[i]) / denom
            _assert(xs[i] < t < xs[i + 1], f"pair knot {t} outside ({xs[i]}, {xs[i + 1]})")
            _assert(line(i - 1, t) == line(i + 1, t), "pair knot is not on both lines")
            delta = s[i + 1] - s[i - 1]
            _assert((delta > 0) == (sign > 0), "pair slope change has the wrong sign")
            knots.append((t, delta, i + 1))
            i += 2
        if i == end:  # odd run: one knot at the data point i
            delta = s[i] - s[i - 1]
            _assert(delta != 0 and (delta > 0) == (sign > 0), "odd-run slope change has the wrong sign")
            knots.append((xs[i], delta, i + 1))
    for t, _, first in knots:
        # a knot at or beyond x_0 / x_{N-1} would be idle or affine on all the data
        _assert(xs[0] < t < xs[-1], f"knot {t} not strictly inside the data range")
        _assert(2 <= first <= n - 1, "activation set out of range")
    _assert(all(knots[k][0] < knots[k + 1][0] for k in range(len(knots) - 1)), "knots not increasing")
    _assert(len(knots) == sum((e - b + 2) // 2 for b, e, _ in runs), "knot count disagrees with the runs")
    if collinear_tol == 0:
        _assert_interpolates_exact(xs, ys, a_exact, c_exact, knots)

    network = _float_network(knots, a_exact, c_exact)
    _recheck_float(dataset, network, knots, order, collinear_tol)
    return ClosedFormResult(
        knots=len(knots),
        network=network,
        runs=runs,
        collinear_tol=float(collinear_tol),
        knot_positions=tuple(t for t, _, _ in knots),
        slope_changes=tuple(d for _, d, _ in knots),
        order=tuple(order),
    )


# ---------------------------------------------------------------------- internals
def _assert(condition: bool, message: str) -> None:
    """An internal invariant of the construction (a bug if it fails), kept under python -O."""
    if not condition:
        raise AssertionError(f"closed form invariant violated: {message}")


def _assert_interpolates_exact(xs, ys, a, c, knots) -> None:
    """The exact piecewise-linear function hits every point (before any rounding), in O(N + K):
    left of x_i it is (a + D) x + (c - T) with D = sum delta_k, T = sum delta_k t_k over t_k < x_i."""
    D = T = Fraction(0)
    k = 0
    for xi, yi in zip(xs, ys):
        while k < len(knots) and knots[k][0] < xi:
            D += knots[k][1]
            T += knots[k][1] * knots[k][0]
            k += 1
        _assert((a + D) * xi + (c - T) == yi, f"exact interpolant misses the point x={xi}")


def _float_network(knots, a_exact: Fraction, c_exact: Fraction) -> Network:
    """One neuron per knot: w = 2^e ~ sqrt|delta|, b = -w float(t), v = float(delta) / w."""
    K = len(knots)
    v = np.zeros(K)
    w = np.zeros(K)
    b = np.zeros(K)
    for k, (t, delta, _) in enumerate(knots):
        d = float(delta)
        if d == 0.0 or not math.isfinite(d):
            raise SparsestError(f"slope change {delta} at x={float(t)} does not fit in float64")
        _, e2 = math.frexp(abs(d))  # |d| = m 2^e2 with m in [1/2, 1)
        e = e2 // 2
        w[k] = math.ldexp(1.0, e)
        v[k] = d / w[k]  # exact: division by a power of two
        b[k] = -(w[k] * float(t))  # exact for normal numbers: multiplication by a power of two
    return Network(v=v, W=w.reshape(K, 1), b=b, a=np.array([float(a_exact)]), c=float(c_exact))


def _recheck_float(dataset: Dataset, network: Network, knots, order, collinear_tol) -> None:
    """The float64 network interpolates, counts K, and has the intended activation sets."""
    residual = float(np.max(np.abs(network(dataset.X) - dataset.y))) if dataset.n_points else 0.0
    if not residual <= dataset.interpolation_tol:
        if collinear_tol > 0:
            raise SparsestError(
                f"collinear_tol={collinear_tol} drops a slope change the data needs: the closed-form "
                f"network misses by {residual:.3g} > {dataset.interpolation_tol:.3g}; lower collinear_tol"
            )
        raise SparsestError(
            f"the closed-form network misses the data by {residual:.3g} > "
            f"{dataset.interpolation_tol:.3g} in float64 (badly scaled data?)"
        )
    count = network.count_neurons(dataset.X, dataset.count_tol)
    if count != len(knots):
        raise SparsestError(
            f"{len(knots) - count} of the {len(knots)} closed-form neurons contribute less than the "
            f"counting tolerance {dataset.count_tol:.3g} on the data (nearly collinear points); "
            "pass collinear_tol > 0 to treat them as collinear"
        )
    rank = np.empty(len(order), dtype=int)
    rank[np.asarray(order, dtype=int)] = np.arange(len(order))
    sets = network.activation_sets(dataset.X)
    for k, (t, _, first) in enumerate(knots):
        if not np.array_equal(sets[k], rank >= first):
            raise SparsestError(
                f"the knot {float(t)!r} rounds onto a neighbouring data point in float64; "
                "the data is too finely spaced for the closed form in float64"
            )
