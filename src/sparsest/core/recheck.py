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
  active at x_i (prefix sums), evaluated EXACTLY in integer arithmetic on the float64 weights and
  data (every float is an integer times a power of two), so no cancellation can hide a residual;
  and, for the exact pass on the data as written, the same sums with the data's integers over
  common denominators and exact activation tests w_k x_i + b_k > 0 (no Fractions per point).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from itertools import accumulate

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
) -> Recheck:
    """Re-verify ``network`` on ``dataset``: residuals, activation sets and counts from the weights.

    ``tolerance`` defaults to the dataset's interpolation tolerance (§6) and ``count_tol`` to
    its counting tolerance. ``exact`` forces (True) or skips (False) the rational pass; by default
    it runs when N * K <= :data:`EXACT_CHECK_LIMIT` or d = 1 (above that size 1-D data is checked
    through the sorted points in integers: :meth:`SortedPass1D.max_abs_residual_exact`).
    """
    if network.dim != dataset.dim:
        raise ValueError(f"network has input dimension {network.dim}, data has {dataset.dim}")
    tolerance = dataset.interpolation_tol if tolerance is None else float(tolerance)
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    size = dataset.n_points * max(1, network.width)
    active = network.active_mask(dataset.X, count_tol)
    if dataset.dim == 1 and size > PLAIN_PASS_LIMIT:
        sorted_pass = SortedPass1D(network, dataset.X[:, 0])
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
        exact_residual = SortedPass1D(network, dataset.X[:, 0]).max_abs_residual_exact(dataset.exact)
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

    def __init__(self, network: Network, x: np.ndarray):
        if network.dim != 1:
            raise ValueError("SortedPass1D needs a 1-D network")
        self.network = network
        self.x = np.asarray(x, dtype=np.float64).reshape(-1)
        self.order = np.argsort(self.x, kind="stable")
        xs = self.x[self.order]
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

    def max_abs_residual(self, y: np.ndarray) -> float:
        """max_i |f(x_i) - y_i|, computed exactly on the float64 weights and data, rounded once."""
        net, n = self.network, len(self.x)
        if n == 0:
            return 0.0
        xs, ys = self.x[self.order], np.asarray(y, dtype=np.float64).reshape(-1)[self.order]
        v, w, b = net.v, net.W[:, 0], net.b
        slope = _Dyadic.products(v, w)          # v_k w_k
        offset = _Dyadic.products(v, b)         # v_k b_k
        a = _Dyadic.products(np.ones(1), np.zeros(1) if net.a is None else net.a[:1])
        c = _Dyadic.products(np.ones(1), np.zeros(1) if net.c is None else np.array([net.c]))
        P = self._prefix(slope, a, self.first)
        Q = self._prefix(offset, c, self.first)
        X, Y = _Dyadic.of(xs), _Dyadic.of(ys)
        # f_i - y_i = P_i X_i + Q_i - Y_i, every term brought to the common exponent
        px_exp = P.exponent + X.exponent
        low = min(px_exp, Q.exponent, Y.exponent)
        sp, sq, sy = px_exp - low, Q.exponent - low, Y.exponent - low
        worst = max(abs((p * x << sp) + (q << sq) - (t << sy)) for p, x, q, t in zip(P.ints, X.ints, Q.ints, Y.ints))
        return _to_float(worst, low)

    def max_abs_residual_exact(self, exact: ExactValues) -> float:
        """max_i |f(x_i) - y_i| on the data as written (x_i = X_i / Dx, y_i = Y_i / Dy exactly, see
        :class:`~sparsest.core.dataset.ExactValues`), the weights read as the exact rationals of their
        floats, rounded once. Activation is exact too: w_k x_i + b_k > 0 in rationals. It can differ
        from the float test only next to a knot, so the float boundary ``first`` is checked exactly
        there and searched exactly (bisection) where it is off."""
        net, n = self.network, len(self.x)
        if n == 0:
            return 0.0
        Dx, Dy = exact.X_den[0], exact.y_den
        order = self.order.tolist()
        X = np.array([exact.X_num[0][i] for i in order], dtype=object)
        Y = [exact.y_num[i] for i in order]
        w, b = net.W[:, 0], net.b
        ratios_w, ratios_b = [t.as_integer_ratio() for t in w.tolist()], [t.as_integer_ratio() for t in b.tolist()]
        # w x + b > 0  <=>  wm X qb + bm Dx qw > 0  (w = wm / qw, b = bm / qb, qw, qb > 0)
        wq = np.array([wm * qb for (wm, _), (_, qb) in zip(ratios_w, ratios_b)], dtype=object)
        bq = np.array([bm * qw * Dx for (_, qw), (bm, _) in zip(ratios_w, ratios_b)], dtype=object)

        def active(k, i):  # vectorised over neurons k and positions i (0 <= i < n)
            return (wq[k] * X[i] + bq[k]) > 0

        first = self.first.copy()
        moving = np.flatnonzero(w != 0)
        right = w[moving] > 0
        f = first[moving]
        # right: first is right when f is active and f-1 is not; left: the reverse (beyond the ends: vacuous)
        at = np.where(f < n, active(moving, np.minimum(f, n - 1)).astype(bool), right)  # position f
        before = np.where(f > 0, active(moving, np.maximum(f - 1, 0)).astype(bool), ~right)  # position f-1
        wrong = np.flatnonzero(np.where(right, ~at | before, at | ~before))
        for k in moving[wrong].tolist():  # rare: a data point within rounding of the knot
            lo, hi = 0, n
            while lo < hi:  # first position where "active (w > 0) / inactive (w < 0)" holds exactly
                mid = (lo + hi) // 2
                if bool(active(np.array([k]), np.array([mid]))[0]) == (w[k] > 0):
                    hi = mid
                else:
                    lo = mid + 1
            first[k] = lo
        slope = _Dyadic.products(net.v, w)
        offset = _Dyadic.products(net.v, b)
        a = _Dyadic.products(np.ones(1), np.zeros(1) if net.a is None else net.a[:1])
        c = _Dyadic.products(np.ones(1), np.zeros(1) if net.c is None else np.array([net.c]))
        P, Q = self._prefix(slope, a, first), self._prefix(offset, c, first)
        # f_i - y_i = P_i X_i / Dx + Q_i - Y_i / Dy with P_i = p_i 2^pe, Q_i = q_i 2^qe
        low = min(P.exponent, Q.exponent, 0)
        sp, sq, DxDy = P.exponent - low, Q.exponent - low, Dx * Dy
        worst = max(abs((p << sp) * xi * Dy + (q << sq) * DxDy - ((t * Dx) << -low))
                    for p, xi, q, t in zip(P.ints, X.tolist(), Q.ints, Y))
        try:
            return worst / (DxDy << -low)
        except OverflowError:
            return float("inf")

    def _prefix(self, terms: "_Dyadic", constant: "_Dyadic", first: np.ndarray) -> "_Dyadic":
        """Per sorted position, the constant plus the sum of ``terms`` over the neurons active there
        (neuron k: positions >= first[k] when rightward, < first[k] otherwise)."""
        n = len(self.x)
        low = min(terms.exponent, constant.exponent)
        scaled = [t << (terms.exponent - low) for t in terms.ints]
        diff = [0] * (n + 1)
        diff[0] = constant.ints[0] << (constant.exponent - low)
        for start, right, t in zip(first.tolist(), self.rightward.tolist(), scaled):
            if right:
                diff[start] += t
            else:
                diff[0] += t
                diff[start] -= t
        return _Dyadic(list(accumulate(diff[:n])), low)

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
    """Exact values ints[i] * 2**exponent (Python integers, one shared exponent)."""

    ints: list[int]
    exponent: int

    @classmethod
    def of(cls, values: np.ndarray) -> "_Dyadic":
        """The float64 values exactly: mantissa * 2**(e - 53) from frexp."""
        mantissa, exp = np.frexp(np.asarray(values, dtype=np.float64))
        m = np.ldexp(mantissa, 53).astype(np.int64)
        e = (exp - 53).astype(np.int64)
        low = int(e[m != 0].min()) if np.any(m != 0) else 0
        shifts = np.maximum(e - low, 0).tolist()
        return cls([mi << si for mi, si in zip(m.tolist(), shifts)], low)

    @classmethod
    def products(cls, u: np.ndarray, v: np.ndarray) -> "_Dyadic":
        """The exact products u_i * v_i of float64 values."""
        U, V = cls.of(u), cls.of(v)
        return cls([p * q for p, q in zip(U.ints, V.ints)], U.exponent + V.exponent)


def _to_float(value: int, exponent: int) -> float:
    """value * 2**exponent rounded to float64 (inf beyond its range)."""
    try:
        if exponent >= 0:
            return float(value << exponent)
        return float(Fraction(value, 1 << -exponent))
    except OverflowError:
        return float("inf")
