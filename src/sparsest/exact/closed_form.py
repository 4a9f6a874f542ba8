"""The closed form of docs/math.md §4: the sparsest interpolant of 1-D data with the affine skip term.

Notation (docs/math.md §4). Sort the data by x: x_0 < x_1 < ... < x_{N-1} (positions in sorted order; the
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
changes are differences of data slopes, so |delta_k| <= max_i s_i - min_i s_i (docs/math.md §3's big-M).

Everything is computed exactly on the Dataset's X_exact / y_exact, brought to integers over one
common denominator for x and one for y (:class:`_SortedData`): slopes, curvature signs, thresholds
and the construction's invariants are signs of integer polynomials (no rational arithmetic per
point). Each sign is decided in float64 where a proven error bound allows and in integers
(numpy object arrays) only where it does not (:func:`sparsest.core.rational.sign_of_cross`): the
answer is the exact one either way. Floats come last, each one correctly rounded integer division
(a sequential pass with error feedback, :func:`_float_network`); the float network is then
re-checked (interpolation, counts, activation sets). Cost: O(N log N) (one sort, then linear passes).
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.rational import UNIT_ROUNDOFF, common_denominator, floats_of, sign_of_cross, to_fraction
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.core.recheck import EXACT_CHECK_LIMIT, PLAIN_PASS_LIMIT, SortedPass1D, recheck

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
    """The sparsest 1-D interpolant with skip term (docs/math.md §4), and which problem it answers.

    problem : "exact" (interpolate the data as written, in exact rationals) or "within tolerance"
        (max_i |f(x_i) - y_i| <= ``tolerance``); see :func:`sparsest_interpolant`.
    knots : the number of neurons of ``network``: for "exact" the proven minimum, for "within
        tolerance" an upper bound (attained by ``network``).
    lower_bound : a proven lower bound for ``problem`` (== knots for "exact"; proven optimal when
        equal to ``knots``).
    exact_knots : K_exact = sum over runs of ceil(run length / 2), the proven minimum number of
        neurons of an exact interpolant of the data as written (always computed).
    network : a Network with one right-facing neuron per knot (w_k > 0, knot t_k = -b_k / w_k),
        skip term a (shape (1,)) and c set; it counts ``knots`` neurons at the counting tolerance
        and interpolates to ``dataset.interpolation_tol`` in float64 (checked before returning).
    runs : (start, end, sign) per run of the construction: first and last interior point
        (inclusive, positions in the data sorted by x) and the common curvature sign.
    collinear_tol : the relative slope-change threshold under which a curvature counted as 0
        (0.0 = exact).
    tolerance : the interpolation tolerance of the "within tolerance" problem (0.0 for "exact").
    knot_positions : the knots t_k in exact rationals, increasing (built on first access).
    slope_changes : delta_k, the slope change at t_k, in exact rationals (built on first access).
    order : the permutation that sorts the dataset's points by x (position -> dataset index).
    notes : what was done to reach the answer (thresholds lowered, knots dropped), one line each.
    """

    knots: int
    network: Network
    runs: list[tuple[int, int, int]]
    collinear_tol: float = 0.0
    order: tuple[int, ...] = ()
    problem: str = "exact"
    lower_bound: int = 0
    exact_knots: int = 0
    tolerance: float = 0.0
    notes: tuple[str, ...] = ()
    _exact: Any = dataclasses.field(default=None, repr=False, compare=False)  # (_Knots, _SortedData)
    _sorted_pass: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def sorted_pass(self) -> SortedPass1D | None:
        """The :class:`~sparsest.core.recheck.SortedPass1D` of ``network`` on the data that the float64
        check of this result used (None if none was built), for a later re-check to share."""
        return self._sorted_pass

    @property
    def knot_positions(self) -> tuple[Fraction, ...]:
        return () if self._exact is None else self._exact[0].positions(self._exact[1])

    @property
    def slope_changes(self) -> tuple[Fraction, ...]:
        return () if self._exact is None else self._exact[0].slope_changes(self._exact[1])

    @property
    def why(self) -> str:
        """One sentence: why ``lower_bound`` holds for ``problem``."""
        if self.problem == "exact":
            return ("docs/math.md §4: the minimum number of neurons of a 1-D interpolant with the skip term "
                    "is the sum over runs of equal discrete curvature of ceil(run length / 2) (Debarre, "
                    "Denoyelle, Unser, Fageot 2022), computed in exact rationals on the data as written; "
                    "each neuron has one path weight, so parameters equal neurons")
        dropped = (f"slope changes below {self.collinear_tol:.3g} x the largest data slope dropped"
                   if self.collinear_tol else "knots below the counting tolerance dropped")
        return (f"within the interpolation tolerance {self.tolerance:.3g}: the network ({dropped}) is an "
                "upper bound; the lower "
                "bound counts the fewest runs of consecutive points each within the tolerance of one line, "
                f"minus one; the exact data needs {self.exact_knots} (proven, exact rationals)")


# ---------------------------------------------------------------------- exact inputs
@dataclass(frozen=True)
class _SortedData:
    """The data sorted by x as integers over two common denominators: x_i = X[i] / Dx and
    y_i = Y[i] / Dy exactly (object arrays of Python ints), with dX[i] = X[i+1] - X[i] > 0 and
    dY[i] = Y[i+1] - Y[i]. In these units the slope s_i = (Dx / Dy) dY[i] / dX[i], so every sign
    and comparison of §4 is a sign of an integer polynomial: no rational arithmetic (no gcd) per point.
    """

    X: np.ndarray
    Y: np.ndarray
    Dx: int
    Dy: int
    dX: np.ndarray
    dY: np.ndarray

    @classmethod
    def of(cls, xs: Sequence[Fraction], ys: Sequence[Fraction]) -> "_SortedData":
        """From exact rationals already sorted by x (strictly increasing)."""
        X, Dx = common_denominator(xs)
        Y, Dy = common_denominator(ys)
        X, Y = np.array(X, dtype=object), np.array(Y, dtype=object)  # (avoid numpy int64 for big ints)
        return cls(X, Y, Dx, Dy, X[1:] - X[:-1], Y[1:] - Y[:-1])

    @property
    def n(self) -> int:
        return len(self.X)

    @cached_property
    def fdX(self) -> np.ndarray | None:
        """dX correctly rounded to float64 (None beyond its range)."""
        return floats_of(self.dX)

    @cached_property
    def fdY(self) -> np.ndarray | None:
        """dY correctly rounded to float64 (None beyond its range)."""
        return floats_of(self.dY)

    @cached_property
    def cross_floats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(a, b, fl(a - b)) with a = fl(dY~[m+1] dX~[m]), b = fl(dY~[m] dX~[m+1]): cross_m in float64."""
        if self.fdX is None or self.fdY is None:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            a, b = self.fdY[1:] * self.fdX[:-1], self.fdY[:-1] * self.fdX[1:]
            return a, b, a - b

    @cached_property
    def curvature(self) -> np.ndarray:
        """kappa at the interior points, exactly: sign(cross_m), cross_m = dY[m+1] dX[m] - dY[m] dX[m+1]
        = (s_{m+1} - s_m) dX[m] dX[m+1] (Dy / Dx) (:func:`sparsest.core.rational.sign_of_cross`)."""
        dX, dY = self.dX, self.dY
        if self.fdX is None or self.fdY is None:
            return sign_of_cross(dY[1:], dX[:-1], dY[:-1], dX[1:])
        return sign_of_cross(dY[1:], dX[:-1], dY[:-1], dX[1:], self.fdY[1:], self.fdX[:-1], self.fdY[:-1],
                             self.fdX[1:])

    def slope(self, j: int) -> Fraction:
        """s_j, the slope of the segment (j, j+1), exactly."""
        return Fraction(int(self.dY[j]) * self.Dx, int(self.dX[j]) * self.Dy)


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


def _signs(data: _SortedData, collinear_tol: float) -> np.ndarray:
    """kappa at the interior points (int8 array, entry m for the sorted position m+1): the exact
    sign of s_{m+1} - s_m, or 0 when |s_{m+1} - s_m| <= collinear_tol * max_j |s_j| (exact too:
    cross-multiplied integers, the float collinear_tol read as its exact binary value; decided in
    float64 under proven error bounds where they allow, see :meth:`_SortedData.curvature`)."""
    if collinear_tol < 0 or not math.isfinite(collinear_tol):
        raise SparsestError(f"collinear_tol must be a finite number >= 0, got {collinear_tol}")
    if data.n < 3:
        return np.zeros(0, dtype=np.int8)
    signs = data.curvature.copy()
    if collinear_tol > 0:
        signs[_small_slope_changes(data, collinear_tol)] = 0
    return signs


def _small_slope_changes(data: _SortedData, collinear_tol: float) -> np.ndarray:
    """The interior points m (entry m: sorted position m+1) with |s_{m+1} - s_m| <= tol max_j |s_j|,
    i.e. |cross_m| q bottom <= p top dX[m] dX[m+1] with tol = p / q exactly and max_j |s_j| = top /
    bottom (in the units of :class:`_SortedData`; cross_m = dY[m+1] dX[m] - dY[m] dX[m+1]).

    In float64: |cross~ - cross| <= E = 8u (|a| + |b|) (:func:`sparsest.core.rational.sign_of_cross`),
    QB~ = fl(q bottom) and R~ = fl(fl(dX~ dX~') PT~) carry at most 5 roundings each, so with the
    margins below a point is decided small when (|cross~| + E) QB~ (1 + 8u) < R~ (1 - 16u) and not
    small when (|cross~| - E) QB~ (1 - 8u) > R~ (1 + 16u); the rest, NaN and inf included, in integers."""
    p, q = Fraction(collinear_tol).as_integer_ratio()
    top, bottom = _largest_scaled_slope(data)  # max_j |dY_j| / dX_j = top / bottom
    QB, PT = q * bottom, p * top
    floats = data.cross_floats
    unsure = np.arange(data.n - 2)
    small = np.zeros(data.n - 2, dtype=bool)
    if floats is not None and QB.bit_length() < 1000 and PT.bit_length() < 1000:
        a, b, difference = floats
        fdX, qb, pt = data.fdX, float(QB), float(PT)
        u = UNIT_ROUNDOFF
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            error = 8 * u * (np.abs(a) + np.abs(b))
            right = fdX[:-1] * fdX[1:] * pt
            high = (np.abs(difference) + error) * qb * (1 + 8 * u)
            low = np.maximum(np.abs(difference) - error, 0) * qb * (1 - 8 * u)
            yes = high < right * (1 - 16 * u)
            no = low > right * (1 + 16 * u)
        small[yes] = True
        unsure = np.flatnonzero(~(yes | no))
    if len(unsure):
        dX, dY = data.dX, data.dY
        cross = dY[unsure + 1] * dX[unsure] - dY[unsure] * dX[unsure + 1]
        small[unsure] = (np.abs(cross) * QB <= (dX[unsure] * dX[unsure + 1]) * PT).astype(bool)
    return small


def _largest_scaled_slope(data: _SortedData) -> tuple[int, int]:
    """max_j |dY_j| / dX_j exactly, as (numerator, denominator). The float ratios fl(|dY~| / dX~)
    are within 3.01u of the exact ones (relative), so the maximum is among the segments whose float
    ratio is at least (1 - 8u) times the largest; those are compared exactly."""
    magnitude = np.abs(data.dY)
    fdX, fdY = data.fdX, data.fdY
    candidates = range(len(magnitude))
    if fdX is not None and fdY is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            ratios = np.abs(fdY) / fdX
        if np.all(np.isfinite(ratios)):
            candidates = np.flatnonzero(ratios >= ratios.max() * (1 - 8 * UNIT_ROUNDOFF)).tolist()
    best = max(candidates, key=lambda j: Fraction(int(magnitude[j]), int(data.dX[j])))
    return int(magnitude[best]), int(data.dX[best])


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
    return _signs(_SortedData.of(xs, ys), float(collinear_tol)).tolist()


def runs_of(signs: Sequence[int]) -> list[tuple[int, int, int]]:
    """The maximal runs of equal nonzero kappa, as (start, end, sign) with inclusive sorted
    positions of interior points (signs[m] is the point at position m+1); a 0 breaks a run."""
    start, end, sign = _run_bounds(signs)
    return list(zip(start.tolist(), end.tolist(), sign.tolist()))


def _run_bounds(signs: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`runs_of` as three arrays: first and last position (inclusive) and sign of every run."""
    kappa = np.asarray(signs, dtype=np.int8).reshape(-1)
    if kappa.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8)
    starts = np.flatnonzero((kappa != 0) & np.concatenate([[True], kappa[1:] != kappa[:-1]]))
    ends = np.flatnonzero((kappa != 0) & np.concatenate([kappa[:-1] != kappa[1:], [True]]))
    return starts + 1, ends + 1, kappa[starts]


def _check_dataset(dataset: Dataset) -> None:
    if not isinstance(dataset, Dataset):
        raise SparsestError(f"expected a Dataset, got {type(dataset).__name__}")
    if dataset.dim != 1 or not dataset.skip:
        raise SparsestError(_NEEDS_1D)


def _sorted_dataset(dataset: Dataset) -> tuple[np.ndarray, _SortedData]:
    """The permutation sorting the dataset by x and its data in integers (:class:`_SortedData`).
    A Dataset's points are distinct in float64 (sparsest.core.dataset), so the float order is exact."""
    order = dataset.order_1d
    exact = dataset.exact
    X, Y = np.array(exact.X_num[0], dtype=object)[order], np.array(exact.y_num, dtype=object)[order]
    return order, _SortedData(X, Y, exact.X_den[0], exact.y_den, X[1:] - X[:-1], Y[1:] - Y[:-1])


def min_knots(dataset: Dataset, collinear_tol: float = 0.0) -> int:
    """K* = sum over runs R of ceil(|R| / 2): the minimum number of neurons of a 1-D ReLU network
    with skip term a x + c that interpolates the data (docs/math.md §4). 0 <= K* <= max(N - 2, 0).

    Exact on the dataset's rationals (X_exact, y_exact) unless ``collinear_tol > 0`` (see
    :func:`curvature_signs`). Raises SparsestError unless d = 1 with the skip term.
    """
    _check_dataset(dataset)
    _, data = _sorted_dataset(dataset)
    signs = _signs(data, float(collinear_tol))
    return sum((end - start + 2) // 2 for start, end, _ in runs_of(signs))


def sparsest_interpolant(dataset: Dataset, collinear_tol: float | None = None) -> ClosedFormResult:
    """The sparsest interpolant f(x) = a x + c + sum_k v_k relu(w_k x + b_k) of docs/math.md §4.

    Two problems, and the result says which one its network answers (``problem``):

    * "exact": interpolate the data as written, exactly (rationals). Its minimum K_exact =
      :func:`min_knots` is always computed and proven (``exact_knots``). The network is returned
      for this problem when its float64 rounding is faithful: it interpolates to
      ``dataset.interpolation_tol``, each of its K_exact neurons contributes more than
      ``dataset.count_tol`` (so the re-check counts K_exact), and the activation sets are the
      intended ones.
    * "within tolerance": max_i |f(x_i) - y_i| <= eps = ``dataset.interpolation_tol``. Used when
      ``collinear_tol > 0`` and either the exact network is not faithful in float64 (decimals
      rounded from a piecewise-linear function: slope changes far below the counting tolerance)
      or it needs fewer neurons than K_exact. Slope changes |s_i - s_{i-1}| <= collinear_tol *
      max_j |s_j| count as zero (tried with collinear_tol, then 1e3 and 1e6 times smaller, then 0
      with the neurons below the counting tolerance dropped) until the float64 network is faithful at
      eps. ``knots`` is then an upper bound for this problem and ``lower_bound`` a proven lower
      bound: every continuous piecewise-linear f within eps of the data has at least (P - 1)
      knots, P the least number of runs of consecutive points each within eps of one line
      (greedy, in float64 with eps widened by 1e-6 relative).

    ``collinear_tol`` defaults to ``dataset.collinear_tol``; 0 asks for the exact problem only
    (a SparsestError when its float64 network is not faithful). Promises of the returned network
    (checked before returning): ``knots`` right-facing neurons (w_k = 2^e, 1/2 <= |v_k| / w_k <= 2,
    v_k w_k = the slope change rounded once), interpolating at eps in float64 and counting
    ``knots`` at the counting tolerance. With N <= 2 the interpolant is affine (K = 0).
    """
    _check_dataset(dataset)
    collinear_tol = dataset.collinear_tol if collinear_tol is None else collinear_tol
    if isinstance(collinear_tol, bool) or not isinstance(collinear_tol, (int, float)) \
            or not math.isfinite(collinear_tol) or collinear_tol < 0:
        raise SparsestError(f"collinear_tol must be a finite number >= 0, got {collinear_tol!r}")
    order, data = _sorted_dataset(dataset)
    exact_signs = _signs(data, 0.0)
    exact = _construct(data, exact_signs)
    _assert_interpolates_exact(exact, exact_signs)
    exact_network, problem_with_exact, exact_pass = _faithful_network(dataset, exact)
    exact_result = exact.result(exact_network, order, problem="exact", lower_bound=len(exact.knots),
                                exact_knots=len(exact.knots), collinear_tol=0.0, tolerance=0.0,
                                sorted_pass=exact_pass)
    if collinear_tol == 0:
        if problem_with_exact is not None:
            raise SparsestError(
                f"the exact sparsest interpolant has {len(exact.knots)} knots (proven in exact rationals), "
                f"but {problem_with_exact}; pass collinear_tol > 0 (command line: --collinear-tol) for the "
                "sparsest interpolant within the interpolation tolerance"
            )
        return exact_result
    candidate = _within_tolerance(dataset, data, exact_signs, exact, exact_network,
                                  problem_with_exact is None,
                                  float(collinear_tol))
    if candidate is None:
        if problem_with_exact is None:
            return exact_result
        if exact_network is None:
            raise SparsestError(
                f"the exact sparsest interpolant has {len(exact.knots)} knots (proven in exact rationals), "
                f"but {problem_with_exact}: the data is badly scaled for float64"
            )
        return dataclasses.replace(exact_result, notes=(
            f"the count {len(exact.knots)} is proven in exact rationals on the data as written, but "
            f"{problem_with_exact}, and no float64 network within the tolerance was found (float64 cannot "
            "resolve slopes this steep at this spacing of x)",))
    construction, network, sorted_pass, threshold, notes = candidate
    if problem_with_exact is None and len(construction.knots) >= len(exact.knots):
        return exact_result
    eps = dataset.interpolation_tol
    lower = _tube_lower_bound(dataset.X[order, 0], dataset.y[order], eps)
    notes = [
        f"the data as written (exact rationals) needs {len(exact.knots)} neurons (proven); "
        + (f"its float64 network is not shown because {problem_with_exact}" if problem_with_exact
           else "within the interpolation tolerance fewer suffice"),
        f"answered within the interpolation tolerance {eps:.3g}: "
        + (f"slope changes below {threshold:.3g} x the largest data slope treated as zero" if threshold > 0
           else "no slope change dropped (knots below the counting tolerance left out)"),
    ] + notes
    if lower > len(construction.knots):  # cannot happen unless float rounding broke the greedy fit
        notes.append(f"the tube lower bound {lower} exceeded the network's count {len(construction.knots)}: "
                     f"a float64 contradiction, so no lower bound is claimed")
        lower = 0
    return construction.result(network, order, problem="within tolerance", lower_bound=lower,
                               exact_knots=len(exact.knots), collinear_tol=threshold, tolerance=eps,
                               notes=tuple(notes), sorted_pass=sorted_pass)


# ---------------------------------------------------------------------- the two problems
@dataclass(frozen=True)
class _Knots:
    """The knots of one construction in the integer units of :class:`_SortedData`, increasing.

    Knot k sits where the data line L_left[k] meets L_right[k] (L_j through the sorted points j,
    j+1); its slope change is s_right - s_left; it is active (x > t_k) on the sorted positions
    >= first[k]. Pair knots: left = i-1, right = i+1, first = i+1; odd-run knots on the data point
    q: left = q-1, right = q, first = q+1, t = x_q. The positions t_k = Tn / (Td Dx) are computed
    exactly on demand (:meth:`fraction_parts`).
    """

    left: np.ndarray
    right: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    def subset(self, keep: np.ndarray) -> _Knots:
        return _Knots(self.left[keep], self.right[keep], self.first[keep])

    def fraction_parts(self, data: _SortedData, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Tn, Td) of the knots ``rows`` (object arrays, Td > 0): t = Tn / (Td Dx). A pair knot, where
        L_l meets L_r: T (dY_l dX_r - dY_r dX_l) = (Y_r - Y_l) dX_l dX_r - dY_r dX_l X_r + dY_l dX_r X_l;
        an odd one: T = X_q."""
        X, Y, dX, dY = data.X, data.Y, data.dX, data.dY
        l, r = self.left[rows], self.right[rows]
        Tn = (Y[r] - Y[l]) * dX[l] * dX[r] - dY[r] * dX[l] * X[r] + dY[l] * dX[r] * X[l]
        Td = dY[l] * dX[r] - dY[r] * dX[l]
        odd = r == self.first[rows] - 1
        Tn[odd], Td[odd] = X[r[odd]], 1
        flip = (Td < 0).astype(bool)
        return np.where(flip, -Tn, Tn), np.where(flip, -Td, Td)

    def positions(self, data: _SortedData) -> tuple[Fraction, ...]:
        """t_k exactly."""
        return self.positions_of(data, np.arange(len(self)))

    def positions_of(self, data: _SortedData, rows) -> tuple[Fraction, ...]:
        """t_k exactly for the knots ``rows``."""
        Tn, Td = self.fraction_parts(data, np.asarray(rows, dtype=np.int64))
        return tuple(Fraction(int(n), int(d) * data.Dx) for n, d in zip(Tn, Td))

    def slope_changes(self, data: _SortedData) -> tuple[Fraction, ...]:
        """delta_k = s_right - s_left exactly."""
        return tuple(data.slope(r) - data.slope(l) for l, r in zip(self.left.tolist(), self.right.tolist()))


@dataclass(frozen=True)
class _Construction:
    """The knots, curvature signs and data of one construction (affine part: the line L_0, a = s_0)."""

    knots: _Knots
    signs: np.ndarray
    data: _SortedData

    @cached_property
    def runs(self) -> list[tuple[int, int, int]]:
        """:func:`runs_of` the signs (built when a result is)."""
        return runs_of(self.signs)

    def result(self, network, order, *, problem, lower_bound, exact_knots, collinear_tol, tolerance,
               notes=(), sorted_pass=None) -> ClosedFormResult:
        return ClosedFormResult(
            knots=network.width if network is not None else len(self.knots), network=network,
            runs=self.runs, collinear_tol=float(collinear_tol), order=tuple(order.tolist()), problem=problem,
            lower_bound=lower_bound, exact_knots=exact_knots, tolerance=tolerance, notes=tuple(notes),
            _exact=(self.knots, self.data), _sorted_pass=sorted_pass,
        )


def _construct(data: _SortedData, signs: np.ndarray) -> _Construction:
    """The knots of §4 for these curvature signs (exact integers; see the module docstring),
    with the invariants of the construction checked exactly (vectorised over the knots).

    A pair knot t where L_{i-1} meets L_{i+1} satisfies (module docstring, h = x_{i+1} - x_i)
    t - x_i = (s_{i+1} - s_i) h / (s_{i+1} - s_{i-1}) and x_{i+1} - t = (s_i - s_{i-1}) h / (s_{i+1} - s_{i-1}),
    so it is strictly inside (x_i, x_{i+1}) (and the lines are not parallel) exactly when the exact
    curvatures at i and i+1 and sign(s_{i+1} - s_{i-1}) are one nonzero sign: that is what is checked,
    with exact signs (:func:`sparsest.core.rational.sign_of_cross`). Knots in these intervals (odd
    ones on x_q) are increasing when their ``first`` positions are."""
    n = data.n
    start, end, _ = _run_bounds(signs)
    n_pairs = (end - start + 1) // 2
    # the pairs (i, i+1) of every run: i = start, start + 2, ... (n_pairs of them)
    offsets = np.arange(int(n_pairs.sum())) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    pair_at = np.repeat(start, n_pairs) + 2 * offsets
    odd_at = end[(end - start) % 2 == 0]
    # by position (a pair's knot lies in (x_i, x_{i+1}), an odd one on x_q)
    sorted_by = np.argsort(np.concatenate([2 * pair_at + 1, 2 * odd_at]), kind="stable")
    left = np.concatenate([pair_at - 1, odd_at - 1])[sorted_by]
    right = np.concatenate([pair_at + 1, odd_at])[sorted_by]
    first = np.concatenate([pair_at + 1, odd_at + 1])[sorted_by]
    knots = _Knots(left, right, first)
    if len(knots):
        # sign(s_r - s_l) = sign(dY_r dX_l - dY_l dX_r) = the run's sign (kappa at the pair's first point /
        # the odd knot's point)
        dX, dY, fdX, fdY = data.dX, data.dY, data.fdX, data.fdY
        floats = (None,) * 4 if fdX is None or fdY is None else (fdY[right], fdX[left], fdY[left], fdX[right])
        change = sign_of_cross(dY[right], dX[left], dY[left], dX[right], *floats)
        _assert(bool(np.all(change == signs[first - 2])), "a slope change has the wrong sign")
        pair = right == first
        curvature = data.curvature
        _assert(bool(np.all((curvature[first[pair] - 2] == change[pair]) & (curvature[first[pair] - 1] == change[pair])
                            & (change[pair] != 0))), "a pair knot is outside its data interval")
        # a knot at or beyond x_0 / x_{N-1} would be idle or affine on all the data
        _assert(bool(np.all((first >= 2) & (first <= n - 1))), "activation set out of range")
        _assert(bool(np.all(first[1:] > first[:-1])), "knots not increasing")
    _assert(len(knots) == int(((end - start + 2) // 2).sum()), "knot count disagrees with the runs")
    return _Construction(knots, signs, data)


def _faithful_network(dataset: Dataset, construction: _Construction, early: bool = False):
    """(network, None, sorted pass) for the float64 network of a construction when it is faithful,
    else (network or None, why it is not faithful, sorted pass or None).

    ``early``: the caller needs only whether the network is faithful, not why not: its first neurons
    are then checked at :data:`EARLY_CHECKS` and the rounding stops at the first prefix that fails
    (:func:`_prefix_fails`; the reason is then a generic phrase)."""
    xs = np.sort(dataset.X[:, 0])
    check = None
    if early and dataset.n_points * len(construction.knots) > PLAIN_PASS_LIMIT:
        ys = dataset.y[dataset.order_1d]
        firsts = construction.knots.first

        def check(prefix: Network) -> bool:
            return _prefix_fails(dataset, prefix, firsts, xs, ys)
    try:
        network = _float_network(construction, xs, check)
    except SparsestError as err:
        return None, str(err), None
    if network is None:
        return None, "its first neurons are not faithful in float64", None
    sorted_pass = SortedPass1D(network, dataset.X[:, 0], dataset.order_1d)
    return network, _unfaithful_because(dataset, network, construction.knots.first, sorted_pass), sorted_pass


def _within_tolerance(dataset, data, exact_signs, exact, exact_network, exact_is_faithful, collinear_tol):
    """The first faithful float64 network within the interpolation tolerance, trying slope-change
    thresholds collinear_tol, collinear_tol / 1e3, collinear_tol / 1e6 (those >= 1e-16), then 0 with the neurons below the
    counting tolerance dropped. Returns (construction, network, its sorted pass, threshold, notes), or None when
    nothing faithful was found or (``exact_is_faithful``) nothing differs from the exact construction."""
    thresholds = [t for t in (collinear_tol, collinear_tol * 1e-3, collinear_tol * 1e-6) if t >= 1e-16]
    tried = set()
    for threshold in thresholds:
        signs = _signs(data, threshold)
        key = signs.tobytes()
        if key in tried:
            continue
        tried.add(key)
        if np.array_equal(signs, exact_signs):
            if exact_is_faithful:  # smaller thresholds give the same signs: nothing new to try
                return None
            break
        construction = _construct(data, signs)
        network, problem, sorted_pass = _faithful_network(dataset, construction, early=True)
        if problem is None:
            notes = [] if threshold == collinear_tol else [
                f"collinear_tol {collinear_tol:.3g} dropped a slope change the data needs; "
                f"lowered to {threshold:.3g}"]
            return construction, network, sorted_pass, threshold, notes
    if exact_network is None:
        return None
    keep = exact_network.active_mask(dataset.X, dataset.count_tol)
    if keep.all():  # nothing to drop: the same network as the exact one, already found unfaithful
        return None
    kept = _Construction(exact.knots.subset(keep), exact.signs, data)
    network, problem, sorted_pass = _faithful_network(dataset, kept, early=True)
    if problem is not None:
        return None
    dropped = int((~keep).sum())
    return kept, network, sorted_pass, 0.0, [f"{dropped} exact knots below the counting tolerance dropped"]


#: Neuron counts after which a network whose faithfulness alone matters is checked (:func:`_prefix_fails`).
EARLY_CHECKS = (4_096, 32_768)


def _prefix_fails(dataset: Dataset, prefix: Network, firsts: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> bool:
    """Whether the first k = prefix.width neurons of a construction's float64 network already prove
    that the whole network is not faithful (:func:`_unfaithful_because`), with xs, ys the data
    sorted by x. Sound for data with N K > PLAIN_PASS_LIMIT (then the full check uses the sorted pass):

    * a neuron's count and its float activation set depend on its own weights only, so a prefix
      neuron below the counting tolerance, or active elsewhere than on the positions >= firsts[k],
      fails the full check too;
    * on the positions below firsts[k] (the next knot's) the full network equals the prefix, unless a
      later neuron is active there, which fails the activation check: so a residual above the
      tolerance there (exact on the float weights, :meth:`SortedPass1D.max_abs_residual`) fails it too.
    """
    k = prefix.width
    if not np.all(prefix.active_mask(dataset.X, dataset.count_tol)):
        return True
    end = int(firsts[k]) if k < len(firsts) else len(xs)
    sorted_pass = SortedPass1D(prefix, xs[:end], np.arange(end))
    if not (np.all(sorted_pass.rightward) and np.array_equal(sorted_pass.first, firsts[:k])):
        return True
    return sorted_pass.max_abs_residual(ys[:end]) > dataset.interpolation_tol


def _unfaithful_because(dataset: Dataset, network: Network, firsts: list[int], sorted_pass: SortedPass1D) -> str | None:
    """None when the float64 network interpolates at the dataset's tolerance, every neuron counts
    at its counting tolerance and neuron k is active exactly on the sorted positions >= firsts[k];
    otherwise the reason, as a phrase."""
    check = recheck(network, dataset, exact=dataset.n_points * max(1, network.width) <= EXACT_CHECK_LIMIT,
                    sorted_pass=sorted_pass)
    if not check.interpolates:
        worst = max(check.max_abs_residual, check.max_abs_residual_exact or 0.0)
        return (f"its float64 network misses the data by {worst:.3g} > {dataset.interpolation_tol:.3g} "
                "(badly scaled data?)")
    if check.neurons != network.width:
        return (f"{network.width - check.neurons} of its {network.width} neurons contribute less than the "
                f"counting tolerance {dataset.count_tol:.3g} on the data (nearly collinear points)")
    if network.width and not (np.all(sorted_pass.rightward) and np.array_equal(sorted_pass.first, firsts)):
        return "a knot rounds onto a neighbouring data point in float64 (the data is too finely spaced)"
    return None


def _tube_lower_bound(xs: np.ndarray, ys: np.ndarray, eps: float) -> int:
    """A lower bound on the knots of any continuous piecewise-linear f with |f(x_i) - y_i| <= eps.

    Between two consecutive knots f is affine, so K knots split the sorted points into at most
    K + 1 runs of consecutive points, each within eps of one line: K >= P - 1 with P the least
    number of such runs, which the greedy (extend a run while a line fits) attains. A line
    c + a (x - x_start) fits when the polygon {(a, c) : |c + a (x_j - x_start) - y_j| <= eps} is
    nonempty; it is clipped point by point, in float64, with eps widened by 1e-6 relative so that
    rounding cannot end a run early.
    """
    n = len(xs)
    if n <= 2:
        return 0
    wide = eps * (1 + 1e-6)
    xs, ys = xs.tolist(), ys.tolist()
    pieces, i = 0, 0
    while i < n:
        pieces += 1
        if i + 1 >= n:
            break
        x0, h = xs[i], xs[i + 1] - xs[i]
        polygon = [((ys[i + 1] - e2 - (ys[i] + e1)) / h, ys[i] + e1)
                   for e1, e2 in ((-wide, -wide), (-wide, wide), (wide, wide), (wide, -wide))]
        j = i + 2
        while j < n and polygon:
            dx = xs[j] - x0
            polygon = _clip(polygon, dx, 1.0, ys[j] + wide)
            polygon = _clip(polygon, -dx, -1.0, -(ys[j] - wide))
            if polygon:
                j += 1
        i = j
    return pieces - 1


def _clip(polygon: list[tuple[float, float]], pa: float, pc: float, bound: float) -> list[tuple[float, float]]:
    """The convex polygon (vertices (a, c)) cut by the half-plane pa a + pc c <= bound."""
    out = []
    count = len(polygon)
    for k in range(count):
        p, q = polygon[k], polygon[(k + 1) % count]
        fp, fq = pa * p[0] + pc * p[1] - bound, pa * q[0] + pc * q[1] - bound
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            r = fp / (fp - fq)
            out.append((p[0] + r * (q[0] - p[0]), p[1] + r * (q[1] - p[1])))
    return out


# ---------------------------------------------------------------------- internals
def _assert(condition: bool, message: str) -> None:
    """An internal invariant of the construction (a bug if it fails), kept under python -O."""
    if not condition:
        raise AssertionError(f"closed form invariant violated: {message}")


def _assert_interpolates_exact(construction: _Construction, exact_signs: np.ndarray) -> None:
    """The exact piecewise-linear function hits every point (before any rounding), in O(N + K).

    f is L_0 left of the first knot and L_right[k] right of knot k (its slope changes by
    s_right - s_left there and the knot is on both lines, checked in :func:`_construct`), so it
    interpolates when the lines chain: L_0 = L_left[0], L_right[k] = L_left[k+1] and L_right[last]
    = L_{N-2}. Two data lines L_a, L_b (a <= b) are the same line exactly when the points a+1..b
    are collinear with their neighbours: every exact kappa there is 0. (Each piece's points lie
    between its knots on its line, by the intervals of :class:`_Knots`.)"""
    knots, n = construction.knots, construction.data.n
    if n < 3:
        _assert(len(knots) == 0, "knots on two points")
        return
    bends = np.concatenate([[0], np.cumsum(exact_signs != 0)])  # bends[m] = #nonzero kappa at points 1..m

    def same_line(a, b):  # L_a == L_b for a <= b: kappa = 0 at the points a+1..b
        return (a <= b) & (bends[b] == bends[a])

    ends_from = np.concatenate([[0], knots.right])
    ends_to = np.concatenate([knots.left, [n - 2]])
    _assert(bool(np.all(same_line(ends_from, ends_to))), "exact interpolant misses a data point (lines do not chain)")


def _exact_dyadic(value: float) -> tuple[int, int]:
    """(m, e) with value == m / 2^e exactly (e >= 0)."""
    m, d = value.as_integer_ratio()
    return m, d.bit_length() - 1


def _float_network(construction: _Construction, xs_float: np.ndarray, check=None) -> Network | None:
    """One neuron per knot, rounded to float64 with error feedback so that rounding never accumulates.
    (``check``: called with the network of the first k neurons at every k of :data:`EARLY_CHECKS`;
    when it returns True the rounding stops and None is returned.)

    Right of every knot k the construction runs along the data line L_j, j = right[k] (slope
    s_j). The float network's own line there is S1 x + S0, S1 and S0 the exact sums of its rounded
    weights. Each knot's float slope change is fl(s_j - S1_before), and its float knot is where the
    new float line passes through the data point j, clamped into [x_{first-1}, x_first) of the
    sorted float data (so the activation set {x > t} is the intended one, also for a knot on a data
    point): the error of each piece is one rounding, not the sum of the roundings of every knot to
    its left. Then w = 2^e ~ sqrt|slope change|, v = slope change / w, b = -w t (exact: scalings by
    powers of two). S1 = n1 / 2^G and S0 = n0 / 2^G are kept as integers (floats are dyadic), and
    every float is one correctly rounded integer division (Python's int / int), so this is the
    exact-rational rounding without rational arithmetic.
    """
    data, knots = construction.data, construction.knots
    X, Y, Dx, Dy = data.X, data.Y, data.Dx, data.Dy
    K = len(knots)
    if data.n >= 2:  # a = s_0, c = y_0 - s_0 x_0
        dX0, dY0 = int(data.dX[0]), int(data.dY[0])
        a_float = _ratio(dY0 * Dx, dX0 * Dy)
        c_float = _ratio(int(Y[0]) * dX0 - dY0 * int(X[0]), dX0 * Dy)
    else:
        a_float, c_float = 0.0, _ratio(int(Y[0]), Dy)
    (n1, g1), (n0, g0) = _exact_dyadic(a_float), _exact_dyadic(c_float)
    G = max(g1, g0)
    n1, n0 = n1 << (G - g1), n0 << (G - g0)
    DxDy = Dx * Dy
    j = knots.right
    # per knot, in the units of the line S1 x + S0 = (n1 x + n0) / 2^G:
    # s_j - S1 = (A 2^G - n1 B) / (B 2^G) and S0 + S1 x_j - y_j = (n0 Dx Dy + n1 C - E 2^G) / (Dx Dy 2^G)
    # (A, B, C, E and the clamps are computed per stretch between checkpoints: a stopped rounding skips the rest)
    d_out, knot_out = [0.0] * K, [0.0] * K
    bounds = [0] + [k for k in EARLY_CHECKS if check is not None and k < K] + [K]
    for begin, stop in zip(bounds[:-1], bounds[1:]):
        if begin and check(_neurons(d_out[:begin], knot_out[:begin], a_float, c_float)):
            return None
        jj, first = j[begin:stop], knots.first[begin:stop]
        A, B = (data.dY[jj] * Dx).tolist(), (data.dX[jj] * Dy).tolist()
        C, E = (X[jj] * Dy).tolist(), (Y[jj] * Dx).tolist()
        lows = xs_float[first - 1].tolist()
        highs = np.nextafter(xs_float[first], -np.inf).tolist()
        for i in range(stop - begin):  # (the hot loop of the closed form: divisions inlined, _ratio on overflow)
            b_i = B[i]
            numerator, denominator = (A[i] << G) - n1 * b_i, b_i << G
            try:
                d = numerator / denominator  # fl(s_j - S1)
            except OverflowError:
                d = _ratio(numerator, denominator)
            if d == 0.0 or d == math.inf or d == -math.inf:
                k = begin + i
                left = int(knots.left[k])
                raise SparsestError(f"slope change {float(data.slope(int(j[k])) - data.slope(left))!r} at "
                                    f"x={float(knots.positions_of(data, [k])[0])!r} does not fit in float64")
            p, q = d.as_integer_ratio()
            e = q.bit_length() - 1
            if e > G:
                n1, n0, G = n1 << (e - G), n0 << (e - G), e
            n1 += p << (G - e)
            # fl((S0 + S1 x_j - y_j) / d), clamped into [x_{first-1}, x_first)
            numerator, denominator = (n0 * DxDy + n1 * C[i] - (E[i] << G)) << e, (DxDy * p) << G
            try:
                knot = numerator / denominator
            except OverflowError:
                knot = _ratio(numerator, denominator)
            if knot < lows[i]:
                knot = lows[i]
            elif knot > highs[i]:
                knot = highs[i]
            pk, qk = knot.as_integer_ratio()
            ek = qk.bit_length() - 1
            if e + ek > G:
                n1, n0, G = n1 << (e + ek - G), n0 << (e + ek - G), e + ek
            n0 -= (p * pk) << (G - e - ek)
            d_out[begin + i], knot_out[begin + i] = d, knot
    return _neurons(d_out, knot_out, a_float, c_float)


def _neurons(slope_changes: list[float], knots: list[float], a: float, c: float) -> Network:
    """The network of these float slope changes d_k and knots t_k: w = 2^e ~ sqrt|d|, v = d / w
    (exact: division by a power of two), b = -w t (exact for normal numbers), skip term a x + c."""
    d, knot = np.array(slope_changes, dtype=np.float64), np.array(knots, dtype=np.float64)
    _, e2 = np.frexp(np.abs(d))  # |d| = m 2^e2 with m in [1/2, 1)
    w = np.ldexp(1.0, e2 // 2)
    return Network(v=d / w, W=w.reshape(-1, 1), b=-(w * knot), a=np.array([a]), c=c)


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator correctly rounded to float64 (+-inf beyond its range)."""
    try:
        return numerator / denominator
    except OverflowError:
        return math.copysign(math.inf, numerator) * math.copysign(1, denominator)
