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
import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.rational import to_fraction
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.core.recheck import EXACT_CHECK_LIMIT, SortedPass1D, recheck

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
    knot_positions : the knots t_k in exact rationals, increasing.
    slope_changes : delta_k, the slope change at t_k, in exact rationals.
    order : the permutation that sorts the dataset's points by x (position -> dataset index).
    notes : what was done to reach the answer (thresholds lowered, knots dropped), one line each.
    """

    knots: int
    network: Network
    runs: list[tuple[int, int, int]]
    collinear_tol: float = 0.0
    knot_positions: tuple[Fraction, ...] = ()
    slope_changes: tuple[Fraction, ...] = ()
    order: tuple[int, ...] = ()
    problem: str = "exact"
    lower_bound: int = 0
    exact_knots: int = 0
    tolerance: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        """One sentence: why ``lower_bound`` holds for ``problem``."""
        if self.problem == "exact":
            return ("docs/math.md §4: the minimum number of neurons of a 1-D interpolant with the skip term "
                    "is the sum over runs of equal discrete curvature of ceil(run length / 2) (Debarre, "
                    "Denoyelle, Unser, Fageot 2022), computed in exact rationals on the data as written; "
                    "each neuron has one path weight, so parameters equal neurons")
        return (f"within the interpolation tolerance {self.tolerance:.3g}: the network (slope changes below "
                f"{self.collinear_tol:.3g} x the largest data slope dropped) is an upper bound; the lower "
                "bound counts the fewest runs of consecutive points each within the tolerance of one line, "
                f"minus one; the exact data needs {self.exact_knots} (proven, exact rationals)")


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
    x_raw, y_raw = _dataset_xy(dataset)
    # a Dataset's points are distinct in float64 (sparsest.core.dataset), so the float order is exact
    order = np.argsort(dataset.X[:, 0], kind="stable").tolist()
    xs, ys = [x_raw[i] for i in order], [y_raw[i] for i in order]
    s = _slopes(xs, ys)
    exact_signs = _signs_from_slopes(s, 0.0)
    exact = _construct(xs, ys, s, exact_signs)
    _assert_interpolates_exact(xs, ys, exact.a, exact.c, exact.knots)
    exact_network, problem_with_exact = _faithful_network(dataset, exact, xs, ys, s)
    exact_result = exact.result(exact_network, order, problem="exact", lower_bound=len(exact.knots),
                                exact_knots=len(exact.knots), collinear_tol=0.0, tolerance=0.0)
    if collinear_tol == 0:
        if problem_with_exact is not None:
            raise SparsestError(
                f"the exact sparsest interpolant has {len(exact.knots)} knots (proven in exact rationals), "
                f"but {problem_with_exact}; pass collinear_tol > 0 (command line: --collinear-tol) for the "
                "sparsest interpolant within the interpolation tolerance"
            )
        return exact_result
    candidate = _within_tolerance(dataset, xs, ys, s, exact_signs, exact, exact_network,
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
    construction, network, threshold, notes = candidate
    if problem_with_exact is None and len(construction.knots) >= len(exact.knots):
        return exact_result
    eps = dataset.interpolation_tol
    lower = _tube_lower_bound(dataset.X[order, 0], dataset.y[order], eps)
    notes = [
        f"the data as written (exact rationals) needs {len(exact.knots)} neurons (proven); "
        + (f"its float64 network is not shown because {problem_with_exact}" if problem_with_exact
           else "within the interpolation tolerance fewer suffice"),
        f"answered within the interpolation tolerance {eps:.3g}: slope changes below {threshold:.3g} x "
        f"the largest data slope treated as zero",
    ] + notes
    if lower > len(construction.knots):  # cannot happen unless float rounding broke the greedy fit
        notes.append(f"the tube lower bound {lower} exceeded the network's count; lowered to it")
        lower = len(construction.knots)
    return construction.result(network, order, problem="within tolerance", lower_bound=lower,
                               exact_knots=len(exact.knots), collinear_tol=threshold, tolerance=eps,
                               notes=tuple(notes))


# ---------------------------------------------------------------------- the two problems
@dataclass(frozen=True)
class _Construction:
    """Knots (t, delta, first active sorted position), runs and the affine part of one construction."""

    knots: list
    runs: list
    a: Fraction
    c: Fraction

    def result(self, network, order, *, problem, lower_bound, exact_knots, collinear_tol, tolerance,
               notes=()) -> ClosedFormResult:
        return ClosedFormResult(
            knots=network.width if network is not None else len(self.knots), network=network,
            runs=self.runs, collinear_tol=float(collinear_tol),
            knot_positions=tuple(t for t, _, _ in self.knots),
            slope_changes=tuple(d for _, d, _ in self.knots), order=tuple(order), problem=problem,
            lower_bound=lower_bound, exact_knots=exact_knots, tolerance=tolerance, notes=tuple(notes),
        )


def _construct(xs, ys, s, signs) -> _Construction:
    """The knots of §4 for these curvature signs (exact rationals; see the module docstring)."""
    n = len(xs)
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
    return _Construction(knots, runs, a_exact, c_exact)


def _faithful_network(dataset: Dataset, construction: _Construction, xs, ys, s) -> tuple[Network | None, str | None]:
    """The float64 network of a construction and None, or (network or None, why it is not faithful)."""
    try:
        network = _float_network(construction.knots, construction.a, construction.c, xs, ys, s,
                                 np.sort(dataset.X[:, 0]))
    except SparsestError as err:
        return None, str(err)
    return network, _unfaithful_because(dataset, network, [first for _, _, first in construction.knots])


def _within_tolerance(dataset, xs, ys, s, exact_signs, exact, exact_network, exact_is_faithful, collinear_tol):
    """The first faithful float64 network within the interpolation tolerance, trying slope-change
    thresholds collinear_tol, collinear_tol / 1e3, collinear_tol / 1e6 (those >= 1e-16), then 0 with the neurons below the
    counting tolerance dropped. Returns (construction, network, threshold, notes), or None when
    nothing faithful was found or (``exact_is_faithful``) nothing differs from the exact construction."""
    thresholds = [t for t in (collinear_tol, collinear_tol * 1e-3, collinear_tol * 1e-6) if t >= 1e-16]
    tried = set()
    for threshold in thresholds:
        signs = _signs_from_slopes(s, threshold)
        key = tuple(signs)
        if key in tried:
            continue
        tried.add(key)
        if signs == exact_signs:
            if exact_is_faithful:  # smaller thresholds give the same signs: nothing new to try
                return None
            break
        construction = _construct(xs, ys, s, signs)
        network, problem = _faithful_network(dataset, construction, xs, ys, s)
        if problem is None:
            notes = [] if threshold == collinear_tol else [
                f"collinear_tol {collinear_tol:.3g} dropped a slope change the data needs; "
                f"lowered to {threshold:.3g}"]
            return construction, network, threshold, notes
    if exact_network is None:
        return None
    keep = exact_network.active_mask(dataset.X, dataset.count_tol)
    kept = _Construction([k for k, on in zip(exact.knots, keep) if on], exact.runs, exact.a, exact.c)
    network, problem = _faithful_network(dataset, kept, xs, ys, s)
    if problem is not None:
        return None
    dropped = int((~keep).sum())
    return kept, network, 0.0, [f"{dropped} exact knots below the counting tolerance dropped"]


def _unfaithful_because(dataset: Dataset, network: Network, firsts: list[int]) -> str | None:
    """None when the float64 network interpolates at the dataset's tolerance, every neuron counts
    at its counting tolerance and neuron k is active exactly on the sorted positions >= firsts[k];
    otherwise the reason, as a phrase."""
    check = recheck(network, dataset, exact=dataset.n_points * max(1, network.width) <= EXACT_CHECK_LIMIT)
    if not check.interpolates:
        worst = max(check.max_abs_residual, check.max_abs_residual_exact or 0.0)
        return (f"its float64 network misses the data by {worst:.3g} > {dataset.interpolation_tol:.3g} "
                "(badly scaled data?)")
    if check.neurons != network.width:
        return (f"{network.width - check.neurons} of its {network.width} neurons contribute less than the "
                f"counting tolerance {dataset.count_tol:.3g} on the data (nearly collinear points)")
    sorted_pass = SortedPass1D(network, dataset.X[:, 0])
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


def _float_network(knots, a_exact: Fraction, c_exact: Fraction, xs, ys, s, xs_float: np.ndarray) -> Network:
    """One neuron per knot, rounded to float64 with error feedback so that rounding never accumulates.

    Right of every knot (t, delta, first) the construction runs along a data line L_j through the
    sorted points j and j + 1 (slope s_j): j = first - 1 for a knot on the data point x_j (odd
    run), j = first for a pair knot inside (x_{first-1}, x_first). The float network's own line there is
    S1 x + S0, S1 and S0 the exact sums of its rounded weights. Each knot's float slope change is
    fl(s_j - S1_before), and its float knot is where the new float line passes through the data
    point j, clamped into [x_{first-1}, x_first) of the sorted float data (so the activation set
    {x > t} is the intended one, also for a knot on a data point): the error of each piece is one
    rounding, not the sum of the roundings of every knot to its left. Then w = 2^e ~
    sqrt|slope change|, v = slope change / w, b = -w t (exact: scalings by powers of two).
    """
    K = len(knots)
    v = np.zeros(K)
    w = np.zeros(K)
    b = np.zeros(K)
    a_float, c_float = float(a_exact), float(c_exact)
    S1, S0 = Fraction(a_float), Fraction(c_float)
    for k, (t, delta, first) in enumerate(knots):
        j = first - 1 if t == xs[first - 1] else first  # odd-run knot on x_j: L_j; pair knot: L_first
        d = float(s[j] - S1)
        if d == 0.0 or not math.isfinite(d):
            raise SparsestError(f"slope change {float(delta)!r} at x={float(t)!r} does not fit in float64")
        S1 += Fraction(d)
        knot = float((S0 + S1 * xs[j] - ys[j]) / Fraction(d))
        low, high = xs_float[first - 1], xs_float[first]
        knot = min(max(knot, low), float(np.nextafter(high, -np.inf)))
        S0 -= Fraction(d) * Fraction(knot)
        _, e2 = math.frexp(abs(d))  # |d| = m 2^e2 with m in [1/2, 1)
        e = e2 // 2
        w[k] = math.ldexp(1.0, e)
        v[k] = d / w[k]  # exact: division by a power of two
        b[k] = -(w[k] * knot)  # exact for normal numbers: multiplication by a power of two
    return Network(v=v, W=w.reshape(K, 1), b=b, a=np.array([a_float]), c=c_float)
