"""The M-free certificate of SPEC 3: search the supports by size, one LP per surviving support.

A feasible support stays feasible when blocks are added (every cone contains 0), so if no support
of size k-1 interpolates, k is a lower bound; the first size with a feasible support is the
optimum. No big-M is involved: each support is decided by the LP of
:meth:`~sparsest.exact.dictionary.BlockDictionary.fit_support` (with the box |u_bj| <= R when given).

Supports. ``"neurons"``: a set of blocks (A, s). It is enumerated as m distinct activation sets,
each with a sign mode +, - or both (the two blocks (A, +) and (A, -), which count 2).
``"parameters"``: the same blocks, each with the set J of its nonzero path weights (and its bias
when ``count_bias``); the size is the sum of |J|. Without ``count_bias`` a bias costs nothing, so
a constant neuron (the set of all points with w = 0) is free and is always offered to the LP.

Exact pruning before any LP. Every test below only removes supports that the LP would declare
infeasible, so the certificate is unchanged (the tests compare against a plain enumeration):

(a) covering: without the skip term or output bias, a point with |y_i| > tol (the interpolation
    tolerance of SPEC 6) must lie in some selected set, and in some set of the same sign as y_i
    (a block of sign s adds s * relu(...) to every point of its set and nothing elsewhere);
(b) span: y must lie in the span of the selected designs D_A X~ (and of the free affine columns).
    The span does not depend on the signs, so sets of patterns are tested first. A support is
    pruned only when the distance from y to that span exceeds SPAN_RTOL * max(1, max|y|) in the
    2-norm, far above the LP's feasibility tolerance (1e-10 per row) and, for N <= 100, above the
    interpolation tolerance of SPEC 6. The span is computed at numerical rank RANK_RTOL = 1e-12
    (singular directions weaker than 1e-12 of the strongest, i.e. rounding noise of exactly
    dependent columns, are dropped); data so close to degenerate that a true direction is that weak
    is beyond what the float LPs decide reliably in any case;
(c) symmetry: sets of patterns are increasing tuples; each support is met once.

Finding the optimum's support can cost more than ruling out the sizes below it, so large sizes are
first probed with supports proposed by random-start fits of a width-k network (see
:func:`search_exhaustive`); only the LP decides them, and a miss falls back to full enumeration.

The span test is vectorized: for a prefix of m-1 sets it builds W = (I - Q Q^T) G (G a fixed,
seeded, orthonormal N x (d+3) matrix; Q an orthonormal basis of the prefix's columns), so that
W^T y must lie in the range of W^T D_c X~ for the last set c. This projected distance is at most
the true one (||W|| <= 1; Q may carry extra directions for rank-deficient prefixes, which only
shrinks W), so pruning on it is safe; survivors are tested again on the full span.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations, count, product
from math import ceil, comb
from typing import Callable, Iterator

import highspy
import numpy as np

from sparsest.exact.dictionary import BlockDictionary, SupportFit
from sparsest.errors import SparsestError
from sparsest.exact.highs import INF, OutOfTime, quiet_highs, verdict
from sparsest.core.network import Network
from sparsest.exact.problem import check_box, check_objective, check_time_limit
from sparsest.exact.probe import fit_width
from sparsest.core.recheck import recheck

#: Prune a support when dist(y, span) > SPAN_RTOL * max(1, max |y|) (2-norm).
SPAN_RTOL = 1e-6
#: Numerical rank: a design direction weaker than this fraction of the strongest counts as absent.
RANK_RTOL = 1e-12
#: Seed of the fixed random projection of the span test (the result never depends on it).
PROJECTION_SEED = 0
#: Feasibility tolerance of the support LPs (that of :meth:`BlockDictionary.fit_support`).
_LP_FEASIBILITY_TOL = 1e-10
#: Sizes whose enumeration meets more than this many tuples of sets are probed first (neurons).
PROBE_ABOVE = 1_000_000
#: The probe: batches of random starts, up to this many in all, each fitted this many steps;
#: the supports of the best starts of each batch are decided by LP.
PROBE_BATCH, PROBE_RESTARTS, PROBE_ITERATIONS, PROBE_CANDIDATES = 512, 4096, 60, 8
#: Upper limit on floats held by one vectorized batch of the span test.
_BATCH_FLOATS = 2_000_000


@dataclass(frozen=True)
class LevelStats:
    """Work done at one size k: pattern tuples met, pruned by covering / span, LPs solved (the
    probe's included), seconds in all and in the probe."""

    size: int
    tuples: int
    cover_pruned: int
    span_pruned: int
    lps: int
    seconds: float
    probe_seconds: float


@dataclass(frozen=True)
class ExhaustiveResult:
    """Outcome of :func:`search_exhaustive`.

    status : "optimal" (lower_bound == upper_bound), "time_limit", or "undecided" (a support was
        found, but some LP below its size was neither solved nor proven infeasible by HiGHS, so the
        bounds do not meet).
    lower_bound : every support of size < lower_bound was proven infeasible.
    upper_bound : size of a known feasible support (found here, or the caller's ``upper``), or None.
    network : an interpolating network of size upper_bound found by the search (re-checked), or
        None when the upper bound came from the caller or nothing was found.
    blocks : the support of ``network`` (block indices of the dictionary), or None.
    found_by : how that support was met: "enumeration" or "probe" (see :func:`search_exhaustive`).
    box : the box R of the LPs (None: no box).
    n_lps : number of LPs solved; levels : per-size work (pruning statistics).
    """

    status: str
    objective: str
    count_bias: bool
    lower_bound: int
    upper_bound: int | None
    network: Network | None
    blocks: tuple[int, ...] | None
    found_by: str | None
    box: float | None
    n_lps: int
    seconds: float
    levels: tuple[LevelStats, ...]


class _Counter:
    """Mutable counters of one level (turned into a :class:`LevelStats`)."""

    def __init__(self):
        self.tuples = self.cover_pruned = self.span_pruned = self.lps = 0
        self.probe_seconds = 0.0


# ---------------------------------------------------------------------- the vectorized pruning
def _bits(mask: np.ndarray) -> np.ndarray:
    """Pack the last axis of a boolean array into uint64 words."""
    packed = np.packbits(mask, axis=-1, bitorder="little")
    pad = (-packed.shape[-1]) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros(packed.shape[:-1] + (pad,), dtype=np.uint8)], axis=-1)
    return np.ascontiguousarray(packed).view(np.uint64)


def _projected_distances(M: np.ndarray, t: np.ndarray) -> np.ndarray:
    """dist(t_k, range(M_k)) for stacks M (K, q, D), t (K, q), by Gram-Schmidt done twice.

    A column whose remainder after orthogonalization is below RANK_RTOL of its norm is dependent.
    """
    residual = t.copy()
    basis: list[np.ndarray] = []
    for j in range(M.shape[2]):
        v = M[:, :, j].copy()
        size = np.linalg.norm(v, axis=1)
        for _ in range(2):
            for b in basis:
                v -= b * np.einsum("kq,kq->k", b, v)[:, None]
        norm = np.linalg.norm(v, axis=1)
        independent = (norm > RANK_RTOL * size)[:, None]
        b = np.divide(v, norm[:, None], out=np.zeros_like(v), where=independent)
        basis.append(b)
        residual -= b * np.einsum("kq,kq->k", b, residual)[:, None]
    return np.linalg.norm(residual, axis=1)


def _distances_to_span(H: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dist(y, range(H_k)) for a stack H (K, N, h); singular directions below RANK_RTOL * the largest
    singular value are treated as absent."""
    if H.shape[2] == 0:
        return np.full(H.shape[0], float(np.linalg.norm(y)))
    U, singular, _ = np.linalg.svd(H, full_matrices=False)
    U = U * (singular > RANK_RTOL * singular[:, :1])[:, None, :]
    return np.linalg.norm(y - np.einsum("knh,kh->kn", U, np.einsum("knh,n->kh", U, y)), axis=1)


class _Pruner:
    """Covering and span tests for tuples of activation sets (pattern indices)."""

    def __init__(self, dictionary: BlockDictionary, *, free_columns: np.ndarray, cover: bool):
        ds = dictionary.dataset
        self.patterns = dictionary.patterns
        self.n_patterns, self.n_points = self.patterns.shape
        self.width = ds.dim + 1
        self.y = ds.y
        self.threshold = SPAN_RTOL * ds.y_scale
        self.free = free_columns
        self.designs = self.patterns[:, :, None] * ds.X_tilde[None, :, :]          # (P, N, D)
        self.flat = self.designs.transpose(1, 0, 2).reshape(self.n_points, -1)    # (N, P*D)
        self.masks = _bits(self.patterns)                                          # (P, words)
        tol = ds.interpolation_tol
        self.cover = cover
        self.positive, self.negative = self.y > tol, self.y < -tol
        self.need = _bits(self.positive | self.negative)
        # The same sets as Python integers (bit i = point i), for the per-support sign test.
        self._members = [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")
                         for row in self.patterns]
        self._positive, self._negative = (int.from_bytes(np.packbits(v, bitorder="little").tobytes(), "little")
                                          for v in (self.positive, self.negative))
        rng = np.random.default_rng(PROJECTION_SEED)
        self.G = np.linalg.qr(rng.normal(size=(self.n_points, min(self.n_points, self.width + 2))))[0]

    def span_can_prune(self, m: int) -> bool:
        """Whether m sets leave the span short of R^N (otherwise the span test is skipped)."""
        return self.free.shape[1] + m * self.width < self.n_points

    def tuples(self, m: int, deadline: float, stats: _Counter) -> Iterator[np.ndarray]:
        """Every increasing m-tuple of pattern indices passing covering and span, in batches."""
        P = self.n_patterns
        if m == 0:
            stats.tuples += 1
            survivors = self._test(np.zeros((1, 0), dtype=np.intp), stats)
            if len(survivors):
                yield survivors
            return
        if m > P:
            return
        for base in combinations(range(P), max(m - 2, 0)):
            if time.monotonic() > deadline:
                raise OutOfTime
            if m == 1:
                prefixes, low = np.zeros((1, 0), dtype=np.intp), np.zeros(1, dtype=np.intp)
            else:
                heads = np.arange(base[-1] + 1 if base else 0, P - 1)
                prefixes = np.column_stack([np.tile(np.array(base, dtype=np.intp), (len(heads), 1)), heads])
                low = heads + 1
            chunk = max(1, _BATCH_FLOATS // (self.G.shape[1] * self.flat.shape[1]))
            for start in range(0, len(prefixes), chunk):
                survivors = self._extend(prefixes[start:start + chunk], low[start:start + chunk], stats)
                if len(survivors):
                    yield survivors

    def _extend(self, prefixes: np.ndarray, low: np.ndarray, stats: _Counter) -> np.ndarray:
        """Tuples prefix + (c,) with c >= low that pass both tests."""
        valid = np.arange(self.n_patterns)[None, :] >= low[:, None]
        n_valid = int(valid.sum())
        stats.tuples += n_valid
        keep = valid
        if self.cover:
            union = np.bitwise_or.reduce(self.masks[prefixes], axis=1) if prefixes.shape[1] else \
                np.zeros((len(prefixes), self.masks.shape[1]), dtype=np.uint64)
            covered = np.all((union[:, None, :] | self.masks[None, :, :]) & self.need == self.need, axis=2)
            keep = valid & covered
            stats.cover_pruned += n_valid - int(keep.sum())
        rows, cands = np.nonzero(keep)
        if not len(rows):
            return np.zeros((0, prefixes.shape[1] + 1), dtype=np.intp)
        m = prefixes.shape[1] + 1
        if self.span_can_prune(m):
            W = self._complement_projection(prefixes)                     # (n_p, N, q)
            t = np.einsum("pnq,n->pq", W, self.y)
            M = np.matmul(W.transpose(0, 2, 1), self.flat)                 # (n_p, q, P*D)
            M = M.reshape(len(prefixes), W.shape[2], self.n_patterns, self.width)[rows, :, cands, :]
            near = _projected_distances(M, t[rows]) <= self.threshold
            stats.span_pruned += int((~near).sum())
            rows, cands = rows[near], cands[near]
        tuples = np.column_stack([prefixes[rows], cands]).astype(np.intp)
        return self._test(tuples, stats) if self.span_can_prune(m) else tuples

    def _complement_projection(self, prefixes: np.ndarray) -> np.ndarray:
        """W = (I - Q Q^T) G for each prefix, Q spanning the free columns and the prefix's designs."""
        H = self._columns(prefixes)
        if H.shape[2] == 0:
            return np.broadcast_to(self.G, (len(prefixes),) + self.G.shape)
        Q = np.linalg.qr(H)[0]
        return self.G[None] - np.matmul(Q, np.matmul(Q.transpose(0, 2, 1), self.G))

    def _columns(self, tuples: np.ndarray) -> np.ndarray:
        """[free columns, D_{A_1} X~, ..., D_{A_m} X~] for each tuple, shape (K, N, f + m D)."""
        K, m = tuples.shape
        designs = self.designs[tuples].transpose(0, 2, 1, 3).reshape(K, self.n_points, m * self.width)
        free = np.broadcast_to(self.free, (K,) + self.free.shape)
        return np.concatenate([free, designs], axis=2)

    def _test(self, tuples: np.ndarray, stats: _Counter) -> np.ndarray:
        """The full span test (and covering, for the empty tuple) on explicit tuples."""
        if tuples.shape[1] == 0 and self.cover and self.need.any():
            stats.cover_pruned += len(tuples)
            return tuples[:0]
        if not self.span_can_prune(tuples.shape[1]) or not len(tuples):
            return tuples
        chunk = max(1, _BATCH_FLOATS // (self.n_points * (self.free.shape[1] + tuples.shape[1] * self.width) + 1))
        near = np.concatenate([
            _distances_to_span(self._columns(tuples[s:s + chunk]), self.y) <= self.threshold
            for s in range(0, len(tuples), chunk)
        ])
        stats.span_pruned += int((~near).sum())
        return tuples[near]

    def signs_cover(self, plus: list[int], minus: list[int]) -> bool:
        """Covering with signs: y_i > tol needs a set of sign + at i, y_i < -tol one of sign -."""
        if not self.cover:
            return True
        up = down = 0
        for p in plus:
            up |= self._members[p]
        for p in minus:
            down |= self._members[p]
        return up & self._positive == self._positive and down & self._negative == self._negative

    def coordinates_reach(self, patterns: list[int], mask: np.ndarray) -> bool:
        """Span test restricted to the coordinates in ``mask`` (one row of d+1 flags per set)."""
        columns = [self.free] + [self.designs[p][:, mask[i]] for i, p in enumerate(patterns)]
        H = np.concatenate(columns, axis=1)[None]
        return bool(_distances_to_span(H, self.y)[0] <= self.threshold)


# ---------------------------------------------------------------------- the LP of one support
class _FeasibilityLP:
    """The constraints of :meth:`BlockDictionary.fit_support` without its objective, assembled fast.

    Columns: u_b (d+1 per block, fixed to 0 outside the coordinate mask), then the free affine part.
    Rows: sum_b s_b D_{A_b} X~ u_b + affine = y (N), and G_{A_b} u_b >= 0 (N per block). Feasible
    exactly when fit_support is (its extra |path weight| variables never constrain); one HiGHS
    object is reused, with fit_support's feasibility tolerance.

    Only an explicit infeasible status (:func:`sparsest.exact.highs.verdict`) rules a support out.
    Any other non-optimal status is retried once with :meth:`BlockDictionary.fit_support` (a fresh
    HiGHS object and another objective); if that does not decide either, the support is "undecided".
    """

    def __init__(self, dictionary: BlockDictionary, box: float | None):
        ds = dictionary.dataset
        self.dictionary, self.box = dictionary, box
        self.n, self.width = ds.n_points, ds.dim + 1
        self.y = ds.y
        self.solver = quiet_highs(primal_feasibility_tolerance=_LP_FEASIBILITY_TOL)
        self.affine = dictionary.affine_design()
        # Column j of a block: interpolation rows i in A (value s x~_ij), cone rows (sigma_i x~_ij).
        self._cone_rows = np.arange(self.n)
        self._members = [np.flatnonzero(mask) for mask in dictionary.patterns]
        self._sigma = np.where(dictionary.patterns, 1.0, -1.0)
        self._X_tilde = ds.X_tilde

    def feasible(self, blocks: list[int], mask: np.ndarray | None) -> str:
        """Whether some u_b in C_{A_b} (in the box, on the masked coordinates) interpolates:
        "feasible", "infeasible" or "undecided" (HiGHS proved neither)."""
        n, m, f = self.n, len(blocks), self.affine.shape[1]
        if m + f == 0:
            return "feasible" if np.all(np.abs(self.y) <= _LP_FEASIBILITY_TOL) else "infeasible"
        named = self._solve(blocks, mask)
        if named in ("optimal", "infeasible"):
            return "feasible" if named == "optimal" else "infeasible"
        retried = self.dictionary.fit_support(blocks, box=self.box, coordinates=mask).status
        return {"optimal": "feasible", "infeasible": "infeasible"}.get(retried, "undecided")

    def _solve(self, blocks: list[int], mask: np.ndarray | None) -> str:
        """The HiGHS verdict on the support's feasibility LP."""
        d = self.width - 1
        n, m, f = self.n, len(blocks), self.affine.shape[1]
        starts, indices, values = [0], [], []
        col_lower, col_upper = [], []
        for position, b in enumerate(blocks):
            p, s = int(self.dictionary.block_pattern[b]), float(self.dictionary.block_sign[b])
            members = self._members[p]
            cone_rows = n + position * n + self._cone_rows
            for j in range(self.width):
                indices += [members, cone_rows]
                values += [s * self._X_tilde[members, j], self._sigma[p] * self._X_tilde[:, j]]
                starts.append(starts[-1] + len(members) + n)
            lower, upper = np.full(self.width, -INF), np.full(self.width, INF)
            if self.box is not None:
                lower[:d], upper[:d] = -self.box, self.box
                lower[d], upper[d] = self.dictionary.bias_bounds(b, self.box)
            if mask is not None:
                lower[~mask[position]] = 0.0
                upper[~mask[position]] = 0.0
            col_lower.append(lower)
            col_upper.append(upper)
        for j in range(f):
            indices.append(np.arange(n))
            values.append(self.affine[:, j])
            starts.append(starts[-1] + n)
        col_lower.append(np.full(f, -INF))
        col_upper.append(np.full(f, INF))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = m * self.width + f, n + m * n
        lp.col_cost_ = np.zeros(lp.num_col_)
        lp.col_lower_, lp.col_upper_ = np.concatenate(col_lower), np.concatenate(col_upper)
        lp.row_lower_ = np.concatenate([self.y, np.zeros(m * n)])
        lp.row_upper_ = np.concatenate([self.y, np.full(m * n, INF)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32)
        lp.a_matrix_.value_ = np.concatenate(values) if values else np.zeros(0)
        self.solver.passModel(lp)
        self.solver.run()
        return verdict(self.solver.getModelStatus(), zero_cost=True)


# ---------------------------------------------------------------------- the search
def search_exhaustive(dictionary: BlockDictionary, *, objective: str = "neurons", count_bias: bool = False,
                      box: float | None = None, time_limit: float | None = None,
                      upper: int | None = None, seed: int = 0,
                      on_level: Callable[[int], None] | None = None) -> ExhaustiveResult:
    """Prove the sparsest interpolant's size by searching supports of size k = 0, 1, 2, ...

    ``objective`` is "neurons" (number of blocks) or "parameters" (nonzero path weights v_k w_kj,
    plus v_k b_k when ``count_bias``). ``box``: the R of |u_bj| <= R (None: no box). ``upper``: a
    size known to be feasible (e.g. a MILP incumbent), trusted as given: the search then stops after
    size upper-1 and reports optimal with no network of its own. On ``time_limit`` (seconds) the
    result is "time_limit" with the bounds proven so far. Returns an :class:`ExhaustiveResult`.
    A box too small for any interpolant is not detected up front (that takes one LP over all
    blocks, slower than the search itself on 3-D data): the search then runs to its time limit.

    Neurons: a size whose enumeration would meet more than PROBE_ABOVE tuples of sets is first
    probed: seeded (``seed``) random-start Levenberg-Marquardt fits of a width-k network propose
    supports, each decided by the LP. A hit ends the search sooner; a miss changes nothing (the
    size is then enumerated in full), so the certificate never depends on the probe.
    ``on_level(lower)`` is called with the proven lower bound after every completed size.
    """
    check_objective(objective)
    time_limit = check_time_limit(time_limit)
    if upper is not None and (isinstance(upper, bool) or not isinstance(upper, (int, np.integer)) or upper < 0):
        raise SparsestError(f"upper must be a nonnegative integer (a known feasible size), got {upper!r}")
    box = check_box(box)
    start = time.monotonic()
    deadline = start + time_limit if time_limit is not None else float("inf")
    search = _Search(dictionary, objective, count_bias, box, seed)
    levels: list[LevelStats] = []
    lower, found, found_size, timed_out = 0, None, None, False
    stop = upper if upper is not None else None
    try:
        for k in count():
            if stop is not None and k >= stop:
                break
            level_start, stats = time.monotonic(), _Counter()
            try:
                found = search.level(k, deadline, stats)
            finally:
                levels.append(LevelStats(k, stats.tuples, stats.cover_pruned, stats.span_pruned, stats.lps,
                                         time.monotonic() - level_start, stats.probe_seconds))
            if found is not None:
                found_size = k
                break
            lower = k + 1 if search.first_doubt is None else search.first_doubt
            if on_level is not None:
                on_level(lower)
            if k > search.max_size:
                if search.first_doubt is not None:
                    break  # some support was not decided: infeasibility is not proven
                raise SparsestError("no support interpolates the data within the box R = "
                                    f"{box}; use a larger box" if box is not None else
                                    "no support interpolates the data (this should not happen: report it)")
    except OutOfTime:
        timed_out = True
    n_lps = sum(level.lps for level in levels)
    seconds = time.monotonic() - start
    if found is not None:
        blocks, network, found_by = found
        status = "optimal" if lower == found_size else "undecided"
        return ExhaustiveResult(status, objective, count_bias, lower, found_size, network, tuple(blocks), found_by,
                                box, n_lps, seconds, tuple(levels))
    status = "optimal" if upper is not None and lower >= upper else \
        "time_limit" if timed_out else "undecided"
    return ExhaustiveResult(status, objective, count_bias, min(lower, upper) if upper is not None else lower,
                            upper, None, None, None, box, n_lps, seconds, tuple(levels))


class _Search:
    """The supports of one size, generated from the pruned pattern tuples, each decided by an LP."""

    def __init__(self, dictionary: BlockDictionary, objective: str, count_bias: bool, box: float | None,
                 seed: int):
        ds = dictionary.dataset
        self.dictionary, self.objective, self.count_bias, self.box = dictionary, objective, count_bias, box
        self.d = ds.dim
        affine = dictionary.affine_design()
        has_constant = affine.shape[1] > 0
        everything = np.flatnonzero(dictionary.patterns.all(axis=1))
        # Without count_bias a constant neuron (all points, w = 0) costs no parameter.
        self.constant_blocks: list[int] = []
        if objective == "parameters" and not count_bias and not has_constant and len(everything):
            self.constant_blocks = [dictionary.block_of(everything[0], s) for s in (1, -1)]
        free = np.hstack([affine, np.ones((ds.n_points, 1))]) if self.constant_blocks else affine
        cover = not ds.skip and not ds.output_bias and not self.constant_blocks
        self.pruner = _Pruner(dictionary, free_columns=free, cover=cover)
        self.lp = _FeasibilityLP(dictionary, box)
        self.survivors: dict[int, list[np.ndarray]] = {}
        self.first_doubt: int | None = None
        self.block_sets: dict[tuple[int, ...], bool] = {}
        self.rng = np.random.default_rng(seed)
        self.n_counted = self.d + (1 if count_bias else 0)
        self.max_size = dictionary.n_blocks * (self.n_counted if objective == "parameters" else 1)

    def level(self, k: int, deadline: float, stats: _Counter):
        """Search every support of size k; (blocks, network, found_by) of the first feasible one, or None."""
        smallest = ceil(k / 2) if self.objective == "neurons" else ceil(k / (2 * self.n_counted))
        # Tuples met at earlier sizes (cached), then the new tuples of size k, tested as they come.
        for m in range(max(smallest, 0), k):
            for batch in self.survivors.get(m, []):
                found = self._try(batch, k, deadline, stats)
                if found is not None:
                    return found
        if self.objective == "neurons" and k > 0 and comb(self.pruner.n_patterns, k) > PROBE_ABOVE:
            found = self._probe(k, deadline, stats)
            if found is not None:
                return found
        self.survivors[k] = []
        for batch in self.pruner.tuples(k, deadline, stats):
            self.survivors[k].append(batch.astype(np.int32))
            found = self._try(batch, k, deadline, stats)
            if found is not None:
                return found
        return None

    def _try(self, batch: np.ndarray, k: int, deadline: float, stats: _Counter):
        for patterns in batch.tolist():
            supports = self._neuron_supports(patterns, k) if self.objective == "neurons" \
                else self._parameter_supports(patterns, k, deadline, stats)
            for blocks, mask in supports:
                found = self._decide(blocks, mask, k, deadline, stats)
                if found is not None:
                    return found + ("enumeration",)
        return None

    def _decide(self, blocks: list[int], mask: np.ndarray | None, k: int, deadline: float, stats: _Counter):
        """(blocks, network) when the LP finds the support feasible and the network re-checks."""
        if time.monotonic() > deadline:
            raise OutOfTime
        stats.lps += 1
        decided = self.lp.feasible(blocks, mask)
        if decided == "infeasible":
            return None
        if decided == "feasible":
            fit = self._fit(blocks, mask)
            if fit.feasible and recheck(fit.network, self.dictionary.dataset, exact=False).interpolates:
                return blocks, fit.network
        # An LP that HiGHS did not decide, or one that accepts a support whose network cannot be
        # confirmed: this size cannot be ruled out, so the lower bound stops here.
        self.first_doubt = k if self.first_doubt is None else self.first_doubt
        return None

    def _probe(self, k: int, deadline: float, stats: _Counter):
        """Try the supports of the best random-start fits of a width-k network (seeded) first."""
        ds = self.dictionary.dataset
        started = time.monotonic()
        tried: set[tuple[int, ...]] = set()
        try:
            for _ in range(PROBE_RESTARTS // PROBE_BATCH):
                if time.monotonic() > deadline:
                    raise OutOfTime
                pre, signs, loss = fit_width(ds.X_tilde, ds.y, self.dictionary.affine_design(), k,
                                              PROBE_BATCH, PROBE_ITERATIONS, self.rng, deadline)
                for start in np.argsort(loss, kind="stable")[:PROBE_CANDIDATES]:
                    blocks = self.dictionary.blocks_of(pre[start], signs[start])
                    if len(blocks) != k or tuple(blocks) in tried:
                        continue
                    tried.add(tuple(blocks))
                    found = self._decide(blocks, None, k, deadline, stats)
                    if found is not None:
                        return found + ("probe",)
            return None
        finally:
            stats.probe_seconds += time.monotonic() - started

    def _fit(self, blocks: list[int], mask: np.ndarray | None):
        """fit_support's network on a feasible support (the empty network when nothing is free)."""
        if not blocks and self.dictionary.n_affine == 0:
            empty = self.dictionary.network([], np.zeros((0, self.d + 1)), np.zeros(0))
            return SupportFit(True, empty, "optimal")
        return self.dictionary.fit_support(blocks, box=self.box, coordinates=mask)

    def _neuron_supports(self, patterns: list[int], k: int):
        """Blocks of size k on these sets: k - m of them doubled (both signs), the others signed."""
        m = len(patterns)
        for doubled in combinations(range(m), k - m):
            single = [i for i in range(m) if i not in doubled]
            for signs in product((1, -1), repeat=len(single)):
                plus = [patterns[i] for i in doubled] + [patterns[i] for i, s in zip(single, signs) if s > 0]
                minus = [patterns[i] for i in doubled] + [patterns[i] for i, s in zip(single, signs) if s < 0]
                if not self.pruner.signs_cover(plus, minus):
                    continue
                block_of = self.dictionary.block_of
                blocks = sorted([block_of(p, 1) for p in plus] + [block_of(p, -1) for p in minus])
                yield blocks, None

    def _parameter_supports(self, patterns: list[int], k: int, deadline: float, stats: _Counter):
        """(blocks, coordinate mask) of total count k on these sets; the constant neuron is free.

        A set of blocks is first decided with every coordinate free (one LP, remembered across
        sizes): if that fails, no choice of coordinates on it can succeed. A block whose only
        coordinate is its bias (w = 0) is zero on the data unless its set is all points: skipped.
        """
        d, width = self.d, self.d + 1
        counted = list(range(self.n_counted))
        for modes in product((1, -1, 0), repeat=len(patterns)):
            signed = [(p, s) for p, mode in zip(patterns, modes) for s in ((1, -1) if mode == 0 else (mode,))]
            if not k >= len(signed) or len(signed) * self.n_counted < k:
                continue
            plus = [p for p, s in signed if s > 0]
            minus = [p for p, s in signed if s < 0]
            if not self.pruner.signs_cover(plus, minus):
                continue
            blocks = [self.dictionary.block_of(p, s) for p, s in signed]
            if not self._blocks_feasible(blocks, deadline, stats):
                continue
            everything = [bool(self.dictionary.patterns[p].all()) for p, _ in signed]
            for sizes in _compositions(k, len(signed), self.n_counted):
                options = [[J for J in combinations(counted, size) if J != (d,) or full]
                           for size, full in zip(sizes, everything)]
                for choice in product(*options):
                    mask = np.zeros((len(signed), width), dtype=bool)
                    for row, chosen in enumerate(choice):
                        mask[row, list(chosen)] = True
                    if not self.count_bias:
                        mask[:, d] = True
                    by_pattern = {}
                    for (p, _), row in zip(signed, mask):
                        by_pattern[p] = by_pattern.get(p, np.zeros(width, dtype=bool)) | row
                    if not self.pruner.coordinates_reach(list(by_pattern), np.array(list(by_pattern.values()))):
                        continue
                    yield self._with_constant(blocks, mask)

    def _blocks_feasible(self, blocks: list[int], deadline: float, stats: _Counter) -> bool:
        """Whether these blocks interpolate with every coordinate free (memoized LP)."""
        key = tuple(sorted(blocks))
        if key not in self.block_sets:
            if time.monotonic() > deadline:
                raise OutOfTime
            stats.lps += 1
            full = np.ones((len(blocks), self.d + 1), dtype=bool)
            # an undecided LP rules nothing out: the coordinate supports on these blocks are tried
            self.block_sets[key] = self.lp.feasible(*self._with_constant(blocks, full)) != "infeasible"
        return self.block_sets[key]

    def _with_constant(self, blocks: list[int], mask: np.ndarray):
        """Add the free constant neurons (bias only) unless their block is already in the support."""
        extra = [b for b in self.constant_blocks if b not in blocks]
        rows = np.zeros((len(extra), self.d + 1), dtype=bool)
        rows[:, self.d] = True
        order = np.argsort(blocks + extra, kind="stable")
        return [(blocks + extra)[i] for i in order], np.vstack([mask, rows])[order]


def _compositions(total: int, parts: int, most: int) -> Iterator[tuple[int, ...]]:
    """Tuples of ``parts`` integers in [1, most] summing to ``total``."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    for first in range(1, min(most, total - (parts - 1)) + 1):
        for rest in _compositions(total - first, parts - 1, most):
            yield (first,) + rest
