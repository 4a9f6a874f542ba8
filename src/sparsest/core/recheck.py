"""Independent re-check of a network against the data (docs/math.md §6), outside any solver.

Whatever produced a network (closed form, MILP, LP on a support, training), its claims are
recomputed here from the weights alone: the forward-pass residual in float64 and, for small
instances, in exact rationals; the activation set of every active neuron; the counts of §2.

Two ways to evaluate, both from the weights only:

* the plain forward pass f(x_i) = sum_k v_k relu(w_k . x_i + b_k) [+ a . x_i + c] in float64, an
  N x K matrix - used whenever N * K <= :data:`PLAIN_PASS_LIMIT` or d >= 2;
* 1-D above that size, through the sorted points in O((N + K) log N) time and O(N + K) memory:
  w x + b is monotone in x, so every neuron is active (fl(w_k x_i + b_k) > 0, the same float64 test
  as the plain pass) on a prefix or a suffix of the sorted points, found by bisection; then
  f(x_i) = (a + P_i) x_i + (c + Q_i) with P_i, Q_i the sums of v_k w_k, v_k b_k over the neurons
  active at x_i (prefix sums over the K boundaries, in integers: every float is an integer times a
  power of two), and the maximum residual is EXACT: a float64 evaluation with a proven per-point
  error bound rules out the points that cannot hold the maximum, the rest are evaluated in
  integers (:func:`_candidates`), so no cancellation can hide a residual; and, for the exact pass
  on the data as written, the same with the data's integers over common denominators and exact
  activation tests w_k x_i + b_k > 0, decided in float64 under a proven bound and in integers next
  to a knot (:class:`_ExactTest`), needed only at each neuron's float boundary (monotonicity).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from sparsest.core.dataset import Dataset, ExactValues
from sparsest.core.network import Network

#: Above this many point-neuron products the exact rational pass is skipped (and reported so).
EXACT_CHECK_LIMIT = 20_000
#: Above this many point-neuron products 1-D networks are evaluated through the sorted points.
PLAIN_PASS_LIMIT = 2_000_000
#: Activation sets are listed only while their total size stays below this (else None, said in ``evaluation``).
LISTED_MEMBERSHIPS_LIMIT = 2_000_000


@dataclass(frozen=True)
class Recheck:
    """What the weights themselves say on the data.

    max_abs_residual : max_i |f(x_i) - y_i| on the float64 data (see ``evaluation``).
    max_abs_residual_exact : the same in exact rationals of the data as written (None when the
        instance is too large: N * K > :data:`EXACT_CHECK_LIMIT`).
    interpolates : max_abs_residual (and the exact one, when computed) <= tolerance.
    tolerance, count_tol : the interpolation and counting tolerances used.
    neurons, parameters : §2 counts recomputed from the weights (parameters: path weights
        v_k w_kj, plus v_k b_k when ``count_bias``).
    activation_sets : for every active neuron, the sorted indices {i : w_k.x_i + b_k > 0}; None
        when listing them would exceed :data:`LISTED_MEMBERSHIPS_LIMIT` memberships.
    evaluation : how max_abs_residual was computed.
    """

    max_abs_residual: float
    max_abs_residual_exact: float | None
    interpolates: bool
    tolerance: float
    count_tol: float
    neurons: int
    parameters: int
    count_bias: bool
    activation_sets: list[list[int]] | None
    evaluation: str = "plain float64 forward pass"

    def to_json(self) -> dict:
        return asdict(self)


def recheck(
    network: Network,
    dataset: Dataset,
    *,
    tolerance: float | None = None,
    count_tol: float | None = None,
    count_bias: bool = False,
    exact: bool | None = None,
    sorted_pass: SortedPass1D | None = None,
) -> Recheck:
    """Re-verify ``network`` on ``dataset``: residuals, activation sets and counts from the weights.

    ``tolerance`` defaults to the dataset's interpolation tolerance (§6) and ``count_tol`` to
    its counting tolerance. ``exact`` forces (True) or skips (False) the rational pass; by default
    it runs when N * K <= :data:`EXACT_CHECK_LIMIT` or d = 1 (above that size 1-D data is checked
    through the sorted points in integers: :meth:`SortedPass1D.max_abs_residual_exact`).
    ``sorted_pass``: a :class:`SortedPass1D` of this network on ``dataset.X[:, 0]`` already built (and
    perhaps already evaluated: its float residual is memoised), to share it between re-checks.
    """
    if network.dim != dataset.dim:
        raise ValueError(f"network has input dimension {network.dim}, data has {dataset.dim}")
    tolerance = dataset.interpolation_tol if tolerance is None else float(tolerance)
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    size = dataset.n_points * max(1, network.width)
    active = network.active_mask(dataset.X, count_tol)
    if sorted_pass is not None and (sorted_pass.network is not network
                                    or not np.array_equal(sorted_pass.x, dataset.X[:, 0])):
        raise ValueError("the sorted pass is of another network or data")
    if dataset.dim == 1 and size > PLAIN_PASS_LIMIT:
        sorted_pass = sorted_pass or SortedPass1D(network, dataset.X[:, 0], dataset.order_1d)
        residual = sorted_pass.max_abs_residual(dataset.y)
        sets = sorted_pass.activation_sets(active)
        evaluation = ("1-D sorted points: float64 activation tests, residual exact in integer arithmetic "
                      "on the float64 weights and data")
    else:
        residual = float(np.max(np.abs(network(dataset.X) - dataset.y)))
        listed = network.activation_sets(dataset.X)[active]
        sets = [np.flatnonzero(row).tolist() for row in listed]
        evaluation = "plain float64 forward pass"
    if sets is not None and sum(map(len, sets)) > LISTED_MEMBERSHIPS_LIMIT:
        sets = None
    if sets is None:
        evaluation += f"; activation sets not listed (more than {LISTED_MEMBERSHIPS_LIMIT:,} memberships)"
    if exact is None:
        exact = size <= EXACT_CHECK_LIMIT or dataset.dim == 1
    exact_residual = None
    if exact and size > EXACT_CHECK_LIMIT and dataset.dim == 1:
        sorted_pass = sorted_pass or SortedPass1D(network, dataset.X[:, 0], dataset.order_1d)
        exact_residual = sorted_pass.max_abs_residual_exact(dataset.exact, dataset.y)
        evaluation += ("; exact residual on the data as written (integers over common denominators, "
                       "exact activation tests, the weights as the rationals of their floats)")
    elif exact:
        values = network.evaluate_exact(dataset.X_exact)
        exact_residual = float(max(abs(f - t) for f, t in zip(values, dataset.y_exact)))
    else:
        evaluation += f"; exact rational pass skipped (N x K = {size:,} > {EXACT_CHECK_LIMIT:,})"
    interpolates = residual <= tolerance and (exact_residual is None or exact_residual <= tolerance)
    parameters = int((np.abs(network.path_weights()[active]) > count_tol).sum())
    if count_bias:
        parameters += int((np.abs(network.v[active] * network.b[active]) > count_tol).sum())
    return Recheck(
        max_abs_residual=residual,
        max_abs_residual_exact=exact_residual,
        interpolates=bool(interpolates),
        tolerance=tolerance,
        count_tol=count_tol,
        neurons=int(active.sum()),
        parameters=parameters,
        count_bias=count_bias,
        activation_sets=sets,
        evaluation=evaluation,
    )


class SortedPass1D:
    """A 1-D network on 1-D points through the sorted points (see the module docstring).

    ``first[k]``: the sorted position where neuron k's activation changes: it is active on the
    positions ``>= first[k]`` when ``rightward[k]`` (w_k > 0, or w_k = 0 with b_k > 0, first = 0)
    and on the positions ``< first[k]`` otherwise. The test is fl(w_k x + b_k) > 0 in float64,
    exactly as in the plain forward pass (fl is monotone, so the active points are contiguous).
    """

    def __init__(self, network: Network, x: np.ndarray, order: np.ndarray | None = None):
        """``order``: the stable permutation sorting x, when already known (else computed)."""
        if network.dim != 1:
            raise ValueError("SortedPass1D needs a 1-D network")
        self.network = network
        self.x = np.asarray(x, dtype=np.float64).reshape(-1)
        self.order = np.argsort(self.x, kind="stable") if order is None else order
        self.xs = xs = self.x[self.order]
        w, b = network.W[:, 0], network.b
        self.rightward = (w > 0) | ((w == 0) & (b > 0))
        n, lo, hi = len(xs), np.zeros(len(w), dtype=np.int64), np.full(len(w), len(xs), dtype=np.int64)
        # first position where the monotone test "active (w > 0) / inactive (w < 0)" holds
        while n and np.any(lo < hi):
            mid = np.minimum((lo + hi) // 2, n - 1)
            positive = w * xs[mid] + b > 0
            holds = np.where(w > 0, positive, ~positive)
            hi = np.where((lo < hi) & holds, mid, hi)
            lo = np.where((lo < hi) & ~holds, mid + 1, lo)
        first = lo
        first[(w == 0) & (b > 0)] = 0          # active everywhere
        first[(w == 0) & ~(b > 0)] = 0         # active nowhere (leftward with an empty prefix)
        self.first = first
        self._float_residual = None  # (y, max_abs_residual(y)) of the last y
        self._terms = None           # exact v_k w_k, a, v_k b_k, c (see _sums)
        self._last_sums = None       # (order of the boundaries, the sums of _sums for it)

    def max_abs_residual(self, y: np.ndarray) -> float:
        """max_i |f(x_i) - y_i|, computed exactly on the float64 weights and data, rounded once.

        Memoised for the array ``y`` last passed (the re-checks of one network on one dataset share it)."""
        if self._float_residual is not None and self._float_residual[0] is y:
            return self._float_residual[1]
        value = self._max_abs_residual(y)
        self._float_residual = (y, value)
        return value

    def _max_abs_residual(self, y: np.ndarray) -> float:
        if len(self.x) == 0:
            return 0.0
        ys = np.asarray(y, dtype=np.float64).reshape(-1)[self.order]
        P, Q = self._sums(self.first)
        segment = self._segment(self.first)
        at = _candidates(P, Q, segment, self.xs, ys)
        X, Y = _Dyadic.of(self.xs[at]), _Dyadic.of(ys[at])
        P, Q, segment = P.take(segment[at]), Q.take(segment[at]), np.arange(len(at))
        # f_i - y_i = P_i X_i + Q_i - Y_i, every term brought to the common exponent `low`
        low = min(P.exponent + X.exponent, Q.exponent, Y.exponent)
        worst = _max_abs_at(P.shifted(P.exponent + X.exponent - low), X.ints, Q.shifted(Q.exponent - low),
                            Y.shifted(Y.exponent - low), segment)
        return _to_float(worst, low)

    def max_abs_residual_exact(self, exact: ExactValues, y: np.ndarray | None = None) -> float:
        """max_i |f(x_i) - y_i| on the data as written (x_i = X_i / Dx, y_i = Y_i / Dy exactly, see
        :class:`~sparsest.core.dataset.ExactValues`; ``self.x`` must be their correctly rounded floats,
        as a Dataset's are, and ``y``, when given, those of the targets), the weights read as the exact
        rationals of their floats, rounded once.
        Activation is exact too: w_k x_i + b_k > 0 in rationals. It can differ from the float test
        only next to a knot, so the float boundary ``first`` is checked exactly there and searched
        exactly (galloping, then bisection) where it is off (:meth:`exact_first`). The residual is
        evaluated in integers only at the points that a float64 evaluation with a proven error bound
        cannot rule out as the largest (:func:`_candidates`)."""
        n = len(self.x)
        if n == 0:
            return 0.0
        Dx, Dy = exact.X_den[0], exact.y_den
        X = _Sorted(exact.X_num[0], self.order)
        first = self.exact_first(X, Dx)
        P, Q = self._sums(first)
        segment = self._segment(first)
        if y is None:
            y = np.array([t / Dy for t in exact.y_num], dtype=np.float64)
        at = _candidates(P, Q, segment, self.xs, np.asarray(y, dtype=np.float64).reshape(-1)[self.order])
        Y = _Sorted(exact.y_num, self.order)
        P, Q = P.take(segment[at]), Q.take(segment[at])
        # (f_i - y_i) Dx Dy 2^-low = P_i X_i Dy + Q_i Dx Dy - Y_i Dx, with P_i = p_i 2^pe, Q_i = q_i 2^qe
        low = min(P.exponent, Q.exponent, 0)
        DxDy = Dx * Dy
        worst = _max_abs_at(P.shifted(P.exponent - low) * Dy, X[at], Q.shifted(Q.exponent - low) * DxDy,
                            Y[at] * (Dx << -low), np.arange(len(at)))
        try:
            return worst / (DxDy << -low)
        except OverflowError:
            return float("inf")

    def exact_first(self, X: np.ndarray, Dx: int) -> np.ndarray:
        """``first`` for the exact activation test w_k x_i + b_k > 0 on x_i = X[i] / Dx (the data as
        written, sorted; X an object array of ints, ``self.x`` its correctly rounded float64 values).
        The exact test is monotone in i like the float one, so only the neurons whose float boundary
        fails the exact test at positions first-1 / first are searched again."""
        n, w = len(self.x), self.network.W[:, 0]
        first = self.first.copy()
        moving = np.flatnonzero(w != 0)
        if n == 0 or len(moving) == 0:
            return first
        test = _ExactTest(w, self.network.b, self.xs, X, Dx)
        f = first[moving]
        # holds(p): "active (w > 0) / inactive (w < 0)" at position p; first = the least p where it holds
        upward = w[moving] > 0
        at = np.ones(len(moving), dtype=bool)      # holds at f (vacuous at f = n)
        inside = f < n
        at[inside] = test.positive(moving[inside], f[inside]) == upward[inside]
        before = np.zeros(len(moving), dtype=bool)  # holds at f-1 (vacuous at f = 0)
        inside = f > 0
        before[inside] = test.positive(moving[inside], f[inside] - 1) == upward[inside]
        wrong = np.flatnonzero(~at | before)       # rare: a data point within rounding of the knot
        if len(wrong):
            first[moving[wrong]] = _search_first(test, moving[wrong], upward[wrong], f[wrong], at[wrong], n)
        return first

    def _sums(self, first: np.ndarray) -> tuple[_Dyadic, _Dyadic]:
        """Per segment (see :meth:`_segment`), the exact slope a + sum v_k w_k and offset c + sum v_k b_k
        over the neurons active there (object arrays of ints at one exponent each). The exact products
        are computed once per network; the sums depend on ``first`` only through the order of the
        boundaries, so they are computed once per distinct order."""
        order = np.argsort(first, kind="stable")
        if self._last_sums is not None and np.array_equal(self._last_sums[0], order):
            return self._last_sums[1]
        if self._terms is None:
            net, w = self.network, self.network.W[:, 0]
            a = _Dyadic.products(np.ones(1), np.zeros(1) if net.a is None else net.a[:1])
            c = _Dyadic.products(np.ones(1), np.zeros(1) if net.c is None else np.array([net.c]))
            self._terms = (_Dyadic.products(net.v, w), a, _Dyadic.products(net.v, net.b), c)
        slopes, a, offsets, c = self._terms
        sums = (self._prefix(slopes, a, order), self._prefix(offsets, c, order))
        self._last_sums = (order, sums)
        return sums

    def _prefix(self, terms: _Dyadic, constant: _Dyadic, order: np.ndarray) -> _Dyadic:
        """Per segment j = 0..K (segment j: the positions with exactly j of the boundaries ``first``
        at or before them; ``order`` sorts the boundaries), the constant plus the sum of ``terms``
        over the neurons active there (neuron k: positions >= first[k] when rightward, < first[k]
        otherwise)."""
        low = min(terms.exponent, constant.exponent)
        scaled = terms.shifted(terms.exponent - low)
        base = constant.ints[0] << (constant.exponent - low)
        left = ~self.rightward
        if left.any():
            base += sum(scaled[left].tolist())
            scaled = np.where(left, -scaled, scaled)
        sums = np.empty(len(scaled) + 1, dtype=object)
        sums[0] = base
        if len(scaled):
            sums[1:] = np.cumsum(scaled[order]) + base
        return _Dyadic(sums, low)

    def _segment(self, first: np.ndarray) -> np.ndarray:
        """For every sorted position, its segment: how many boundaries ``first[k]`` are at or before it."""
        return np.searchsorted(np.sort(first), np.arange(len(self.x)), side="right")

    def activation_sets(self, active: np.ndarray) -> list[list[int]] | None:
        """The sorted data indices {i : fl(w_k x_i + b_k) > 0} of every active neuron, or None when
        listing them would exceed :data:`LISTED_MEMBERSHIPS_LIMIT`."""
        sizes = np.where(self.rightward, len(self.x) - self.first, self.first)
        if int(sizes[active].sum()) > LISTED_MEMBERSHIPS_LIMIT:
            return None
        sets = []
        for k in np.flatnonzero(active):
            part = self.order[self.first[k]:] if self.rightward[k] else self.order[:self.first[k]]
            sets.append(np.sort(part).tolist())
        return sets


@dataclass(frozen=True)
class _Dyadic:
    """Exact values ints[i] * 2**exponent (an object array of Python ints, one shared exponent)."""

    ints: np.ndarray
    exponent: int

    @classmethod
    def of(cls, values: np.ndarray) -> _Dyadic:
        """The float64 values exactly: mantissa * 2**(e - 53) from frexp."""
        m, e = _mantissas(np.asarray(values, dtype=np.float64))
        return cls._aligned(_objects(m.tolist()), e, m != 0)

    @classmethod
    def products(cls, u: np.ndarray, v: np.ndarray) -> _Dyadic:
        """The exact products u_i * v_i of float64 values (mantissa products, then one shift each)."""
        (mu, eu), (mv, ev) = _mantissas(np.asarray(u, dtype=np.float64)), _mantissas(np.asarray(v, dtype=np.float64))
        return cls._aligned(_objects(mu.tolist()) * _objects(mv.tolist()), eu + ev, (mu != 0) & (mv != 0))

    @classmethod
    def _aligned(cls, ints: np.ndarray, exponents: np.ndarray, nonzero: np.ndarray) -> _Dyadic:
        """ints[i] * 2**exponents[i] brought to the lowest exponent of the nonzero ones."""
        low = int(exponents[nonzero].min()) if nonzero.any() else 0
        shifts = np.where(nonzero, exponents - low, 0)
        return cls(ints << _objects(shifts.tolist()) if np.any(shifts) else ints, low)

    def take(self, rows: np.ndarray) -> _Dyadic:
        """The values at ``rows``."""
        return _Dyadic(self.ints[rows], self.exponent)

    @cached_property
    def floats(self) -> np.ndarray | None:
        """The values rounded to float64 (each int rounded once, then scaled by 2**exponent: exact
        unless the result is subnormal; +-inf beyond the range), None if an int is beyond float64."""
        try:
            rounded = np.fromiter(map(float, self.ints.tolist()), dtype=np.float64, count=len(self.ints))
        except OverflowError:
            return None
        with np.errstate(over="ignore", under="ignore"):
            return np.ldexp(rounded, self.exponent)

    def shifted(self, bits: int) -> np.ndarray:
        """ints * 2**bits (bits >= 0): the same values at the exponent ``exponent - bits``."""
        return self.ints << bits if bits else self.ints


class _ExactTest:
    """The sign of w_k x_p + b_k in exact rationals (x_p = X[p] / Dx, w and b the rationals of their
    floats), decided in float64 wherever a rigorous error bound allows, else in integers.

    With x~ = fl(x) (correctly rounded: |x - x~| <= u |x~| + 2^-1075, u = 2^-53) and
    z = fl(fl(w x~) + b): |z - (w x + b)| <= 2u |w x~| + u |fl(w x~) + b| + (|w| + 2) 2^-1075
    <= 3.01 u (|w x~| + |b|) + (|w| + 2) 2^-1075, so the sign of z is exact when |z| exceeds the
    (larger) bound 4u (|w x~| + |b|) + (|w| + 2) 2^-1000 computed below (its own rounding is
    covered by the margin). NaN or infinite z goes to the integer test."""

    def __init__(self, w: np.ndarray, b: np.ndarray, xs: np.ndarray, X: np.ndarray, Dx: int):
        self.w, self.b, self.xs, self.X, self.Dx = w, b, xs, X, Dx

    def positive(self, ks: np.ndarray, ps: np.ndarray) -> np.ndarray:
        """w_k x_p + b_k > 0, exactly, for the pairs (ks[i], ps[i])."""
        w, b = self.w[ks], self.b[ks]
        with np.errstate(over="ignore", invalid="ignore"):
            wx = w * self.xs[ps]
            z = wx + b
            bound = 4 * _UNIT_ROUNDOFF * (np.abs(wx) + np.abs(b)) + (np.abs(w) + 2) * 2.0 ** -1000
            unsure = np.flatnonzero(~(np.abs(z) > bound))
        out = z > 0
        if len(unsure):
            out[unsure] = self._integer_test(ks[unsure], ps[unsure])
        return out

    def _integer_test(self, ks: np.ndarray, ps: np.ndarray) -> np.ndarray:
        # w = mw 2^ew, b = mb 2^eb (integer mantissas, frexp): with e = min(ew, eb),
        # w x + b > 0  <=>  mw X 2^(ew - e) + mb Dx 2^(eb - e) > 0
        (mw, ew), (mb, eb) = _mantissas(self.w[ks]), _mantissas(self.b[ks])
        low = np.minimum(ew, eb)
        slope_part = (_objects(mw.tolist()) * self.X[ps]) << (ew - low)
        offset_part = (_objects(mb.tolist()) * self.Dx) << (eb - low)
        return (slope_part + offset_part > 0).astype(bool)


def _search_first(test: _ExactTest, ks: np.ndarray, upward: np.ndarray, f: np.ndarray, at: np.ndarray,
                  n: int) -> np.ndarray:
    """The least position p in [0, n] where holds(k, p) = (test.positive(k, p) == upward) (n: none),
    for neurons whose float boundary f is off: holds fails at f (``~at``: the answer is past f) or
    holds at f - 1 (the answer is before f). holds is monotone in p. Gallops from f with doubling
    steps to a bracket, then bisects it; vectorised over the neurons."""
    def holds(sel, p):
        return test.positive(ks[sel], p) == upward[sel]

    past = ~at
    lo = np.where(past, f + 1, 0)   # the answer is in [lo, hi]; holds(hi) unless hi == n
    hi = np.where(past, n, f - 1)
    step, open_ = 1, np.ones(len(ks), dtype=bool)
    while open_.any():
        idx = np.flatnonzero(open_)
        forward = past[idx]
        probe = np.where(forward, f[idx] + step, f[idx] - 1 - step)
        outside = np.where(forward, probe >= hi[idx], probe < lo[idx])
        open_[idx[outside]] = False
        idx, forward, probe = idx[~outside], forward[~outside], probe[~outside]
        h = holds(idx, probe)
        hi[idx] = np.where(h, probe, hi[idx])
        lo[idx] = np.where(h, lo[idx], probe + 1)
        open_[idx] = np.where(forward, ~h, h)  # forward stops once it holds, backward once it fails
        step *= 2
    while np.any(lo < hi):
        idx = np.flatnonzero(lo < hi)
        mid = (lo[idx] + hi[idx]) // 2
        h = holds(idx, mid)
        hi[idx] = np.where(h, mid, hi[idx])
        lo[idx] = np.where(h, lo[idx], mid + 1)
    return lo


#: The unit roundoff of float64 (round to nearest).
_UNIT_ROUNDOFF = 2.0 ** -53


def _mantissas(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, e) with values == m * 2**e exactly: m integers (int64, |m| < 2^53), from frexp."""
    mantissa, exp = np.frexp(values)
    return np.ldexp(mantissa, 53).astype(np.int64), exp.astype(np.int64) - 53


def _objects(values) -> np.ndarray:
    """A 1-D object array of the given Python ints (no conversion to numpy integers)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class _Sorted:
    """Python ints read in sorted order without sorting them all: ``view[positions]`` is the object
    array of ``values[order[p]]``."""

    def __init__(self, values: list[int], order: np.ndarray):
        self.values, self.order = _objects(values), order

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        return self.values[self.order[positions]]


def _candidates(P: _Dyadic, Q: _Dyadic, segment: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The sorted positions i where |r_i| = |P_s x_i + Q_s - y_i| (s = segment[i]; P, Q exact, x_i, y_i
    the exact values whose correctly rounded floats are xs, ys) may be the largest, for the exact
    evaluation. r~_i = fl(fl(fl(P~ x~) + Q~) - y~) with P~, Q~ the rounded sums is within
    E_i = 5.01 u (|P x| + |Q| + |y|) (+ underflow) of r_i: five roundings of relative size u = 2^-53
    (P~, Q~, x~, y~ and three operations, summed and expanded). With the larger bound
    8u (|P~ x~| + |Q~| + |y~|) + (|P~| + 2) 2^-1000 (its own rounding covered by the margin), every
    i with |r~_i| + E_i below L = max_j (|r~_j| - E_j) has |r_i| < L <= max_j |r_j| and is left
    out; NaN or infinite values stay in. All positions when a sum is beyond float64."""
    Pf, Qf = P.floats, Q.floats
    if Pf is None or Qf is None:
        return np.arange(len(xs))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        Pi, Qi = Pf[segment], Qf[segment]
        px = Pi * xs
        r = np.abs(px + Qi - ys)
        error = 8 * _UNIT_ROUNDOFF * (np.abs(px) + np.abs(Qi) + np.abs(ys)) + (np.abs(Pi) + 2) * 2.0 ** -1000
        lower = r - error
        if not np.any(np.isfinite(lower)):
            return np.arange(len(xs))
        best = np.max(lower[np.isfinite(lower)])
        return np.flatnonzero(~(r + error < best))


def _max_abs_at(slopes: np.ndarray, X: np.ndarray, offsets: np.ndarray, Y: np.ndarray,
                segment: np.ndarray) -> int:
    """max_i |slopes[segment_i] X_i + offsets[segment_i] - Y_i| over exact integers (object arrays)."""
    if len(X) == 0:
        return 0
    R = slopes[segment] * X + offsets[segment] - Y
    return max(R.max(), -R.min())


def _to_float(value: int, exponent: int) -> float:
    """value * 2**exponent rounded to float64 (inf beyond its range)."""
    try:
        if exponent >= 0:
            return float(value << exponent)
        return float(Fraction(value, 1 << -exponent))
    except OverflowError:
        return float("inf")
