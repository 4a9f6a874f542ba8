"""The big-M MILP of SPEC 3 over the blocks of a :class:`~sparsest.exact.dictionary.BlockDictionary`.

Variables: one u_b in R^{d+1} per block b = (A, s) (path weights u_b[:d], bias u_b[d]), the free
affine part (skip term a, c or output bias c, when the problem has one), and binaries. Rows:

* interpolation   sum_b s_b D_{A_b} X~ u_b [+ affine] = y                        (N rows)
* cones           G_{A_b} u_b >= 0                                              (N rows per block)
* big-M links     lo_c z <= u_c <= hi_c z  for every coordinate c a binary z controls
* covering cuts   valid inequalities that only remove fractional points (see :func:`_covering_groups`)

Objectives (SPEC 2), the cost of a binary is 1 unless said otherwise:

* ``"neurons"``: one z_b per block, controlling every coordinate of u_b.
* ``"parameters"``: a block indicator y_b (cost 0) and one z_bj <= y_b per path weight (j < d),
  with sum_j z_bj >= k_min(A_b) y_b (:func:`min_weights`); with ``count_bias`` one more binary per
  bias, else y_b controls the bias. A block whose set is not all points has b = 0 when w = 0 (some
  point is in A and some is not), so its bias is nonzero only if a weight is; the all-points block
  with w = 0 is a constant neuron, which :func:`sparsest.core.recheck.recheck` counts as zero parameters
  (and so does the exhaustive search): without ``count_bias`` it is free.

The parameter MILP is much slower than the neuron MILP (its LP bound is weak: a free constant
voids the covering cuts, and |u|/R is small); the exhaustive search is usually the faster proof.

Validity of the big-M (SPEC 3), see :func:`big_m`:

* ``"slope"`` (d = 1 with the skip term, no box, objective neurons or parameters without bias):
  the closed form of SPEC 4 is a sparsest interpolant whose slope changes are differences of data
  slopes, so |u_b0| <= M = max_i s_i - min_i s_i. Its knots lie inside the data range, so the bias
  b = -w t obeys the cone bounds of :meth:`BlockDictionary.bias_bounds` with R = M (b >= -w x_i on
  A, b <= -w x_i off A). No assumption is added.
* ``"box"`` (everything else): the box |u_bj| <= R on the path weights is part of the problem. The
  bias of a block is then bounded by its cone (:meth:`BlockDictionary.bias_bounds`: b >= -R ||x_i||_1
  on A, b <= R ||x_i||_1 off A), except on the set of all points, whose bias the cone leaves free:
  there the dictionary's stated assumption b <= R (1 + max_i ||x_i||_1) is part of the box problem
  (the same one the exhaustive search and every support fit use, so their bounds combine).

HiGHS runs with relative gap 0 and absolute gap 0.999 (the objective is an integer), so "optimal"
means ceil(dual bound) == incumbent. The lower bound reported is ceil(dual bound - 1e-6), never less
than the LP relaxation's. The network returned is rebuilt from the blocks the incumbent selects,
re-checked with :func:`sparsest.core.recheck.recheck`, and re-fitted on its support with tight LP
tolerances when the solver's own values miss the interpolation tolerance. Counts are always the
re-check's, never the solver's objective.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Sequence

import highspy
import numpy as np
import scipy.sparse as sp

from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.exact.highs import INF, OutOfTime, Undecided, quiet_highs, to_highs_lp, verdict
from sparsest.core.network import Network
from sparsest.exact.problem import check_box, check_objective, check_time_limit
from sparsest.exact.probe import fit_width
from sparsest.core.recheck import Recheck, recheck

SOLVERS = ("highs", "cbc")
#: A path weight within this relative distance of the box R counts as touching it.
BOX_TOUCH_RTOL = 1e-6
#: At most this many seconds of network fits to find a neuron incumbent (:func:`_fitted_incumbent`).
FIT_SECONDS = 10.0
#: Extra greedy prunes (seeded perturbed orders) of each fitted support, for the parameter objective.
PRUNE_TRIES = 16
#: Share of the remaining time the LP relaxation and its reweighted-l1 heuristic may take (the
#: network fits and the MILP need the rest; on large instances the relaxation alone can take hours).
HEURISTIC_SHARE = 0.5
#: Seconds the final re-fit of one incumbent's support may run past the deadline (a small LP).
POLISH_SECONDS = 2.0
#: HiGHS's random_seed in every LP and MILP (same command, same numbers).
HIGHS_RANDOM_SEED = 0
#: Seed of the numpy generator of the network fits and of the perturbed prune orders.
FIT_SEED = 0
#: Slack on the proven slope bound M, against rounding of the data slopes to float64.
_SLOPE_SLACK = 1.0 + 1e-9
#: A relaxed binary above this value marks its coordinates as used.
_SUPPORT_TOL = 1e-9
#: Primal feasibility tolerance of the LPs that fit a support (polish, heuristic).
_FIT_TOL = 1e-10


# ---------------------------------------------------------------------- the bounds that make M valid
@dataclass(frozen=True)
class BigM:
    """The bounds behind every big-M (see the module docstring).

    kind : "slope" (1-D skip term, proven without a box) or "box" (|path weight| <= R is part of
        the problem). weight : M on every path weight |u_bj|. box : R for "box", None for "slope".
    reason : one sentence saying why M is valid, for the certificate's assumptions.
    """

    kind: str
    weight: float
    box: float | None
    reason: str


def default_box(dataset) -> float:
    """The default box R = 10 max(S, max|y| / (1 + L)), S = max_{i != j} |y_i - y_j| / ||x_i - x_j||_1
    the data's steepest slope, L = max_i ||x_i||_1.

    Any interpolant has sum_k max_j |u_kj| >= S (|f(x_i) - f(x_j)| <= sum_k ||u_k||_inf
    ||x_i - x_j||_1 without the skip term), and a constant offset max|y| needs the all-points bias
    bound R (1 + L) (:meth:`BlockDictionary.bias_bounds`) to reach it: R is ten times the larger of
    the two scales the data itself demands of one neuron. A result that touches R says so
    (``box_touched``).
    """
    X, y = dataset.X, dataset.y
    dist = np.abs(X[:, None, :] - X[None, :, :]).sum(axis=2)
    rise = np.abs(y[:, None] - y[None, :])
    off_diagonal = dist > 0
    steepest = float(np.max(rise[off_diagonal] / dist[off_diagonal])) if off_diagonal.any() else 0.0
    offset = float(np.max(np.abs(y))) / (1.0 + float(np.abs(X).sum(axis=1).max()))
    scale = max(steepest, offset)
    return 10.0 * scale if scale > 0 else 1.0


def slope_bound(dataset) -> float:
    """max_i s_i - min_i s_i over the segment slopes of the 1-D data sorted by x (exact, then float)."""
    pairs = sorted(zip((row[0] for row in dataset.X_exact), dataset.y_exact))
    slopes = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(pairs, pairs[1:])]
    return float(max(slopes) - min(slopes)) if slopes else 0.0


def big_m(dataset, *, objective: str = "neurons", count_bias: bool = False,
          box: float | None = None) -> BigM:
    """Choose valid big-M bounds: the proven 1-D slope bound when it applies, else the box R
    (``box``, or :func:`default_box`)."""
    box = check_box(box)
    slope_case = dataset.dim == 1 and dataset.skip and (objective == "neurons" or not count_bias)
    if slope_case and box is None:
        M = slope_bound(dataset) * _SLOPE_SLACK
        return BigM("slope", M, None,
                    f"1-D with skip term: some sparsest interpolant (the closed form of SPEC 4) has "
                    f"every slope change |v w| <= max data slope - min data slope = {M:.6g}; "
                    f"its knots lie inside the data range, so the cone bounds the bias by M * |x|")
    R = float(box) if box is not None else default_box(dataset)
    origin = "given" if box is not None else "default: 10 x max(steepest data slope in l1, max|y| / (1 + max||x||_1))"
    return BigM("box", R, R,
                f"box |v_k w_kj| <= R = {R:.6g} on every path weight ({origin}) is part of the problem; "
                f"biases are bounded by the cones, the all-points bias by R (1 + max||x||_1)")


# ---------------------------------------------------------------------- the formulation
@dataclass(frozen=True)
class Formulation:
    """min cost.x  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper,  x_j integer
    where ``integrality[j]``. Columns: u (n_blocks * (d+1), block-major), the affine part, the
    binaries. ``n_weights`` = d + 1 columns per block. ``owner[c]`` is the binary column controlling u column c (-1: none);
    ``binary_block[k]`` is the block of binary k (counted from the first binary column)."""

    objective: str
    count_bias: bool
    cost: np.ndarray
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    n_u: int
    n_weights: int
    n_affine: int
    owner: np.ndarray
    binary_block: np.ndarray
    n_cuts: int

    @property
    def n_cols(self) -> int:
        return int(len(self.cost))

    @property
    def first_binary(self) -> int:
        return self.n_u + self.n_affine

    @property
    def n_binaries(self) -> int:
        return self.n_cols - self.first_binary


def build_formulation(dictionary: BlockDictionary, *, objective: str, count_bias: bool,
                      bounds: BigM, cuts: bool = True, deadline: float = math.inf) -> Formulation:
    """The MILP of the module docstring; ``cuts`` adds the covering cuts (:func:`with_floor` adds
    a proven lower bound as a row). Raises :class:`OutOfTime` when the build
    passes ``deadline`` (the clock is read between blocks and between assembly steps)."""
    check_objective(objective)

    def check_clock():
        if time.monotonic() > deadline:
            raise OutOfTime

    check_clock()
    data = dictionary.dataset
    n, d, k = data.n_points, data.dim, dictionary.n_weights
    n_blocks = dictionary.n_blocks
    n_u, n_aff = n_blocks * k, dictionary.n_affine
    full = dictionary.patterns[dictionary.block_pattern].all(axis=1)
    min_weights_ = min_weights(dictionary) if objective == "parameters" else None

    # Column bounds of u: path weights in [-M, M], biases from the cones (BlockDictionary.bias_bounds).
    lo_u = np.empty(n_u)
    hi_u = np.empty(n_u)
    for b in range(n_blocks):
        lo_u[b * k:b * k + d], hi_u[b * k:b * k + d] = -bounds.weight, bounds.weight
        lo_u[b * k + d], hi_u[b * k + d] = dictionary.bias_bounds(b, bounds.weight)

    # Binaries: one block indicator per block (neurons: the only binary, cost 1; parameters:
    # cost 0), and for parameters one per path weight (cost 1) and, with count_bias, per bias.
    owner = np.full(n_u, -1)
    binary_block, binary_cost = [], []
    block_binary = np.empty(n_blocks, dtype=int)
    first_bin = n_u + n_aff

    def new_binary(b: int, cost: float) -> int:
        binary_block.append(b)
        binary_cost.append(cost)
        return first_bin + len(binary_block) - 1

    rows = _Rows()
    for b in range(n_blocks):
        if b % 64 == 0:
            check_clock()
        block_binary[b] = new_binary(b, 1.0 if objective == "neurons" else 0.0)
        owner[b * k:(b + 1) * k] = block_binary[b]
        if objective == "neurons":
            continue
        for j in range(d):
            owner[b * k + j] = new_binary(b, 1.0)
        if count_bias:
            owner[b * k + d] = new_binary(b, 1.0)
        for col in set(owner[b * k:(b + 1) * k]) - {block_binary[b]}:
            rows.add({col: 1.0, block_binary[b]: -1.0}, -INF, 0.0)  # z_bj <= y_b
        # a used block pays at least k_min(A) weights (plus its bias, for a constant neuron)
        paid = {int(col): 1.0 for col in owner[b * k:b * k + d]}
        if full[b]:
            if count_bias:
                paid[int(owner[b * k + d])] = 1.0
                rows.add({**paid, int(block_binary[b]): -1.0}, 0.0, INF)
        else:
            rows.add({**paid, int(block_binary[b]): -float(min_weights_[b])}, 0.0, INF)
    n_bin = len(binary_block)
    n_cols = first_bin + n_bin

    # Big-M links  lo_c z <= u_c <= hi_c z  for every coordinate a binary controls.
    check_clock()
    for position, c in enumerate(np.flatnonzero(owner >= 0)):
        if position % 2048 == 0:
            check_clock()
        rows.add({int(c): 1.0, int(owner[c]): -hi_u[c]}, -INF, 0.0)
        rows.add({int(c): 1.0, int(owner[c]): -lo_u[c]}, 0.0, INF)
    n_cut = 0
    if cuts:
        for group, full_by_weights in _covering_groups(dictionary):
            check_clock()
            columns = set()
            for b in group:
                if full[b] and full_by_weights and objective == "parameters":
                    columns.update(int(c) for c in owner[b * k:b * k + d])  # its weight binaries
                else:
                    columns.add(int(block_binary[b]))
            rows.add(dict.fromkeys(columns, 1.0), 1.0, INF)
            n_cut += 1

    check_clock()
    block_designs = [sp.csr_matrix(dictionary.design(b)) for b in range(n_blocks)]
    block_cones = [sp.csr_matrix(dictionary.cone(b)) for b in range(n_blocks)]
    design = sp.hstack(block_designs + [sp.csr_matrix(dictionary.affine_design()), sp.csr_matrix((n, n_bin))])
    cones = sp.hstack([sp.block_diag(block_cones) if block_cones else sp.csr_matrix((0, 0)),
                       sp.csr_matrix((n * n_blocks, n_aff + n_bin))])
    check_clock()
    A = sp.vstack([design, cones, rows.matrix(n_cols)]).tocsc()
    check_clock()
    n_cone = n * n_blocks
    row_lower = np.concatenate([data.y, np.zeros(n_cone), rows.lower])
    row_upper = np.concatenate([data.y, np.full(n_cone, INF), rows.upper])
    col_lower = np.concatenate([lo_u, np.full(n_aff, -INF), np.zeros(n_bin)])
    col_upper = np.concatenate([hi_u, np.full(n_aff, INF), np.ones(n_bin)])
    cost = np.concatenate([np.zeros(n_u + n_aff), np.array(binary_cost)])
    integrality = np.concatenate([np.zeros(n_u + n_aff, dtype=bool), np.ones(n_bin, dtype=bool)])
    return Formulation(objective, count_bias, cost, A, row_lower, row_upper, col_lower, col_upper,
                       integrality, n_u, k, n_aff, owner, np.array(binary_block, dtype=int), n_cut)


def with_floor(form: Formulation, floor: int) -> Formulation:
    """The formulation with one more row: objective >= ``floor`` (a lower bound proven elsewhere)."""
    row = sp.csr_matrix(form.cost[None, :])
    return replace(form, A=sp.vstack([form.A, row]).tocsc(), row_lower=np.append(form.row_lower, float(floor)),
                   row_upper=np.append(form.row_upper, INF))


class _Rows:
    """Sparse rows lower <= sum_c coef_c x_c <= upper, collected one at a time."""

    def __init__(self):
        self.entries: list[tuple[int, int, float]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, coefficients: dict, lower: float, upper: float) -> None:
        r = len(self.lower)
        self.entries.extend((r, int(c), float(v)) for c, v in coefficients.items() if v != 0)
        self.lower.append(lower)
        self.upper.append(upper)

    def matrix(self, n_cols: int) -> sp.csr_matrix:
        r, c, v = zip(*self.entries) if self.entries else ((), (), ())
        return sp.csr_matrix((v, (r, c)), shape=(len(self.lower), n_cols))


def min_weights(dictionary: BlockDictionary) -> np.ndarray:
    """k_min per block: the fewest nonzero path weights a nonzero u in C_A can have (the set of all
    points: 0, a constant). 1 when A is a threshold set of one coordinate (exactly: some j with
    min_{A} x_j >= max_{not A} x_j or max_{A} x_j <= min_{not A} x_j, ties allowed since C_A is
    closed), else 2 (d >= 2; a lower bound in d >= 3)."""
    data = dictionary.dataset
    X = data.X_exact
    result = np.empty(dictionary.n_blocks, dtype=int)
    for p, inside in enumerate(dictionary.patterns):
        if inside.all():
            k = 0
        else:
            k = 2
            for j in range(data.dim):
                a = [X[i][j] for i in np.flatnonzero(inside)]
                o = [X[i][j] for i in np.flatnonzero(~inside)]
                if min(a) >= max(o) or max(a) <= min(o):
                    k = 1
                    break
        result[[dictionary.block_of(p, 1), dictionary.block_of(p, -1)]] = k
    return result


def _covering_groups(dictionary: BlockDictionary) -> list[tuple[list[int], bool]]:
    """Valid covering cuts: groups of blocks of which every interpolant uses at least one.

    Returns (blocks, full_by_weights) pairs; with ``full_by_weights`` an all-points block in the group
    only counts when it has a nonzero path weight (its constant part cannot help).

    * No affine part (no skip term, no output bias): f(x_i) is the sum of the blocks, positive
      blocks are >= 0 and negative ones <= 0, so y_i > 0 needs a used positive block active at i
      (y_i < 0 a negative one).
    * No skip term (with or without an output bias, and whatever constant the all-points blocks
      make): y_i > y_j needs a block with s (o(x_i) - o(x_j)) > 0 for its ReLU output o >= 0, so a
      positive block active at i or a negative block active at j, and not a constant one: a block
      whose set is not all points, or an all-points block with a nonzero weight. One cut per pair.
    * 1-D with the skip term: at an interior point with nonzero curvature (points i-1, i, i+1 not
      collinear) f is not affine on (x_{i-1}, x_{i+1}), so some knot lies strictly inside; its
      block's set is {x > x_{i-1}} or {x > x_i}, of either sign.
    * A skip term in d >= 2 adds any affine function: no cut is added there.
    """
    data = dictionary.dataset
    patterns = dictionary.patterns[dictionary.block_pattern]
    positive = dictionary.block_sign > 0
    groups: list[tuple[list[int], bool]] = []
    if not data.skip and not data.output_bias:
        for i in range(data.n_points):
            if data.y_exact[i] != 0:
                same_sign = positive if data.y_exact[i] > 0 else ~positive
                groups.append((np.flatnonzero(patterns[:, i] & same_sign).tolist(), False))
    if not data.skip:
        for i in range(data.n_points):
            for j in range(data.n_points):
                if data.y_exact[i] > data.y_exact[j]:
                    members = (patterns[:, i] & positive) | (patterns[:, j] & ~positive)
                    groups.append((np.flatnonzero(members).tolist(), True))
    elif data.dim == 1:
        order = sorted(range(data.n_points), key=lambda i: data.X_exact[i][0])
        xs = [data.X_exact[i][0] for i in order]
        ys = [data.y_exact[i] for i in order]
        rank = np.empty(len(order), dtype=int)
        rank[np.asarray(order, dtype=int)] = np.arange(len(order))
        for m in range(1, len(order) - 1):
            if (ys[m] - ys[m - 1]) / (xs[m] - xs[m - 1]) == (ys[m + 1] - ys[m]) / (xs[m + 1] - xs[m]):
                continue
            wanted = (rank >= m), (rank >= m + 1)
            groups.append(([b for b in range(dictionary.n_blocks)
                            if any(np.array_equal(patterns[b], w) for w in wanted)], False))
    return groups


# ---------------------------------------------------------------------- LPs on the formulation
class _SupportLP:
    """The LP relaxation of a formulation with some binaries switched off (upper bound 0) and
    re-weighted costs: support fits, polish and the heuristic.

    The relaxation over every block stays in one HiGHS object (warm-started across cost changes).
    A smaller support is solved as its own LP, restricted to the columns of its blocks (rows left
    empty must admit 0, e.g. a covering cut with no block left makes the support infeasible).
    Every LP stops at its ``deadline`` (:class:`OutOfTime`)."""

    def __init__(self, form: Formulation, dictionary: BlockDictionary):
        self.form, self.dictionary = form, dictionary
        self.full = quiet_highs(primal_feasibility_tolerance=_FIT_TOL, random_seed=HIGHS_RANDOM_SEED)
        self.full.passModel(to_highs_lp(form.cost, form.A, form.row_lower, form.row_upper,
                                        form.col_lower, form.col_upper))
        self.binaries = np.arange(form.first_binary, form.n_cols, dtype=np.int32)
        # the block of every column (-1: the affine part, shared by every support)
        n_blocks = form.n_u // form.n_weights
        self.column_block = np.concatenate([np.repeat(np.arange(n_blocks), form.n_weights),
                                            np.full(form.n_affine, -1), form.binary_block])
        # the binaries of every block (indices counted from the first binary)
        by_block = np.argsort(form.binary_block, kind="stable")
        self.block_binaries = np.split(by_block, np.cumsum(np.bincount(form.binary_block, minlength=n_blocks))[:-1])

    def solve(self, allowed: np.ndarray, cost: np.ndarray | None = None,
              deadline: float = math.inf) -> tuple[np.ndarray, float] | None:
        """Minimise cost.z over the relaxation with z_k = 0 where not ``allowed``; (x, value), or None
        when HiGHS proves it infeasible. Raises :class:`OutOfTime` when the LP is not decided by
        ``deadline``, :class:`Undecided` when HiGHS stops for another reason."""
        form = self.form
        cost = np.asarray(form.cost[form.first_binary:] if cost is None else cost, dtype=np.float64)
        if allowed.all():
            self.full.changeColsCost(len(self.binaries), self.binaries, cost)
            return self._run(self.full, np.arange(form.n_cols), deadline)
        blocks = np.unique(form.binary_block[allowed])
        keep = np.flatnonzero((self.column_block < 0) | np.isin(self.column_block, blocks))
        A = form.A[:, keep].tocsr()
        used = A.getnnz(axis=1) > 0
        if np.any(~used & ((form.row_lower > 0) | (form.row_upper < 0))):
            return None
        full_cost = np.concatenate([np.zeros(form.first_binary), cost])
        upper = form.col_upper.copy()
        upper[form.first_binary:][~allowed] = 0.0
        solver = quiet_highs(primal_feasibility_tolerance=_FIT_TOL, random_seed=HIGHS_RANDOM_SEED)
        solver.passModel(to_highs_lp(full_cost[keep], A[used], form.row_lower[used], form.row_upper[used],
                                     form.col_lower[keep], upper[keep]))
        return self._run(solver, keep, deadline)

    def _run(self, solver, keep: np.ndarray, deadline: float) -> tuple[np.ndarray, float] | None:
        limit = INF
        if math.isfinite(deadline):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OutOfTime
            # HiGHS (< 2.0) measures time_limit from the object's first run: add the time used so far
            limit = solver.getRunTime() + remaining
        solver.setOptionValue("time_limit", limit)
        solver.run()
        named = verdict(solver.getModelStatus())
        if named == "time_limit":
            raise OutOfTime
        if named == "infeasible":
            return None
        if named != "optimal":
            raise Undecided(solver.modelStatusToString(solver.getModelStatus()))
        x = np.zeros(self.form.n_cols)
        x[keep] = solver.getSolution().col_value
        return x, solver.getInfo().objective_function_value


def _integral_point(form: Formulation, x: np.ndarray) -> np.ndarray:
    """Round a relaxed point to a feasible MIP point: z = 1 where z > tol, and every u a binary at 0
    controls set to 0 (its value was below M * tol)."""
    x = x.copy()
    x[form.first_binary:] = (x[form.first_binary:] > _SUPPORT_TOL).astype(float)
    return _zero_switched_off(form, x)


def _zero_switched_off(form: Formulation, x: np.ndarray) -> np.ndarray:
    """Set to 0 every u coordinate whose binary is below 1/2 (in place; returns x)."""
    controlled = form.owner >= 0
    off = np.zeros(form.n_u, dtype=bool)
    off[controlled] = x[form.owner[controlled]] < 0.5
    x[:form.n_u][off] = 0.0
    return x


def _value(form: Formulation, x: np.ndarray) -> int:
    return int(round(float(form.cost[form.first_binary:] @ x[form.first_binary:])))


def _prune(lp: _SupportLP, allowed: np.ndarray, cost: np.ndarray, deadline: float) -> np.ndarray | None:
    """Greedy: from a feasible support, switch off whole blocks, then (parameters) single costly
    binaries, least used first, while the LP stays feasible and time remains. Returns an integral
    MIP point, or None when ``allowed`` is infeasible; raises :class:`OutOfTime` / :class:`Undecided`
    when even the LP on ``allowed`` is not decided."""
    form = lp.form
    found = lp.solve(allowed, cost, deadline)
    if found is None:
        return None
    x = found[0]
    z = x[form.first_binary:]
    support = z > _SUPPORT_TOL
    costly = form.cost[form.first_binary:] > 0
    usage = np.bincount(form.binary_block, weights=np.where(costly, z, 0.0), minlength=len(lp.block_binaries))
    groups = [lp.block_binaries[b] for b in np.argsort(usage, kind="stable") if usage[b] > 0]
    if form.objective == "parameters":
        groups += [np.array([j]) for j in np.argsort(z, kind="stable") if costly[j] and support[j]]
    for group in groups:
        if not (support[group] & costly[group]).any():
            continue
        trial = support.copy()
        trial[group] = False
        try:
            found = lp.solve(trial, cost, deadline)
        except OutOfTime:
            break
        except Undecided:
            continue  # not proven droppable: keep the group
        if found is not None:
            x = found[0]
            support = trial & (x[form.first_binary:] > _SUPPORT_TOL)
    return _integral_point(form, x)


def _heuristic(lp: _SupportLP, deadline: float, rounds: int = 6) -> tuple[np.ndarray | None, float | None]:
    """Reweighted l1 on the relaxation (cost_k / (z_k + 1e-2)), each support pruned greedily
    (at most ``rounds`` rounds, each new support pruned once; stops when the incumbent meets the
    LP bound, or after the first round once past ``deadline``).

    Returns the best integral point found (or None) and the LP relaxation's value (the first round,
    with the true costs: a valid lower bound), or None when the relaxation is infeasible. Raises
    :class:`OutOfTime` / :class:`Undecided` when the relaxation itself is not solved."""
    form = lp.form
    everything = np.ones(form.n_binaries, dtype=bool)
    true_cost = form.cost[form.first_binary:]
    first = lp.solve(everything, deadline=deadline)
    if first is None:
        return None, None
    relaxation_value = first[1]
    best, z, cost = None, first[0][form.first_binary:], true_cost
    pruned: set[bytes] = set()
    try:
        for _ in range(rounds):
            support = z > _SUPPORT_TOL
            if support.tobytes() not in pruned:
                pruned.add(support.tobytes())
                point = _prune(lp, support, cost, deadline)
                if point is not None and (best is None or _value(form, point) < _value(form, best)):
                    best = point
            if best is not None and _value(form, best) <= math.ceil(relaxation_value - 1e-6):
                break
            cost = true_cost / (z + 1e-2)
            found = lp.solve(everything, cost, deadline)
            if found is None:
                break
            z = found[0][form.first_binary:]
    except Undecided:
        pass  # keep the best point found in time
    return best, relaxation_value


# ---------------------------------------------------------------------- warm start from a network
def start_support(dictionary: BlockDictionary, start, count_tol: float) -> list[int]:
    """The blocks of a feasible start: a list of block ids, or a Network whose active neurons are
    mapped to (activation set on the data, sign of v). With the skip term a neuron whose set holds
    the anchor point is the block of the mirror set {w.x + b < 0} (relu(t) = t + relu(-t); see
    :meth:`BlockDictionary.blocks_of`)."""
    if not isinstance(start, Network):
        blocks = [int(b) for b in start]
        bad = [b for b in blocks if not 0 <= b < dictionary.n_blocks]
        if bad:
            raise SparsestError(f"start block {bad[0]} is not a block id (0..{dictionary.n_blocks - 1})")
        return sorted(set(blocks))
    data = dictionary.dataset
    if start.dim != data.dim:
        raise SparsestError(f"the start network has input dimension {start.dim}, the data has {data.dim}")
    active = start.active_mask(data.X, count_tol)
    return dictionary.blocks_of(start.preactivations(data.X)[:, active], start.v[active])


def _fitted_incumbent(lp: _SupportLP, best: np.ndarray | None, lower: int, deadline: float,
                      restarts: int = 256, iterations: int = 60, candidates: int = 4) -> np.ndarray | None:
    """For widths k = lower, lower+1, ... below the incumbent's value, seeded random-start
    Levenberg-Marquardt fits of a width-k network (the exhaustive search's probe,
    :func:`sparsest.exact.probe.fit_width`); the blocks of the best fits are decided by the LP and
    pruned (whole blocks, then single weights; for parameters also :data:`PRUNE_TRIES` greedy
    orders from seeded perturbed costs, since the greedy's result depends on its order). Only
    proposes incumbents: the MILP proves. Stops at ``deadline`` with the best point so far."""
    form = lp.form
    data = lp.dictionary.dataset
    rng = np.random.default_rng(FIT_SEED)
    true_cost = form.cost[form.first_binary:]
    tries = PRUNE_TRIES if form.objective == "parameters" else 0
    width = max(lower, 1)
    while (best is None or width < _value(form, best)) and time.monotonic() < deadline:
        pre, signs, loss = fit_width(data.X_tilde, data.y, lp.dictionary.affine_design(), width,
                                     restarts, iterations, rng, deadline)
        for r in np.argsort(loss, kind="stable")[:candidates]:
            allowed = np.isin(form.binary_block, lp.dictionary.blocks_of(pre[r], signs[r]))
            costs = [true_cost] + [true_cost * rng.uniform(0.5, 1.5, len(true_cost)) for _ in range(tries)]
            for cost in costs:
                try:
                    point = _prune(lp, allowed, cost, deadline)
                except OutOfTime:
                    return best
                except Undecided:
                    break  # this support is not decided: next candidate
                if point is None:
                    break  # the support itself is infeasible
                if best is None or _value(form, point) < _value(form, best):
                    best = point
        width += 1
    return best


# ---------------------------------------------------------------------- the backends
@dataclass(frozen=True)
class _SolverRun:
    status: str          # "optimal", "infeasible", "time_limit" or the solver's own text
    x: np.ndarray | None
    dual_bound: float | None
    nodes: int | None
    text: str


def _run_highs(form: Formulation, time_limit: float | None, start: np.ndarray | None) -> _SolverRun:
    options = dict(mip_rel_gap=0.0, mip_abs_gap=0.999, random_seed=HIGHS_RANDOM_SEED)
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 1e-3)
    solver = quiet_highs(**options)
    solver.passModel(to_highs_lp(form.cost, form.A, form.row_lower, form.row_upper,
                                 form.col_lower, form.col_upper, form.integrality))
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(map(float, start))
        solver.setSolution(solution)
    solver.run()
    status = solver.getModelStatus()
    info = solver.getInfo()
    text = solver.modelStatusToString(status)
    x = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        x = np.array(solver.getSolution().col_value)
    named = verdict(status)
    dual = info.mip_dual_bound  # trusted only when HiGHS finished or stopped on its clock
    dual = float(dual) if named in ("optimal", "time_limit") and dual is not None and math.isfinite(dual) else None
    return _SolverRun(named if named in ("optimal", "infeasible", "time_limit") else text, x, dual,
                      int(info.mip_node_count), f"HiGHS: {text}")


def _bundled_cbc(**options):
    """PuLP's bundled CBC binary. PuLP 3 deprecates PULP_CBC_CMD in favour of COIN_CMD, which needs
    a CBC installed on the system; the bundled one is the point of this backend (no system
    packages), so its deprecation warning is silenced here."""
    import pulp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


def _run_cbc(form: Formulation, time_limit: float | None, start: np.ndarray | None) -> _SolverRun:
    import pulp

    if not _bundled_cbc().available():
        raise SparsestError("PuLP's bundled CBC is not available here; use --solver highs")
    prob = pulp.LpProblem("sparsest", pulp.LpMinimize)
    # PuLP >= 3.3 attaches variables to the problem (LpVariable(...) alone is deprecated there)
    new_variable = getattr(prob, "add_variable", None) or pulp.LpVariable
    cols = []
    for j in range(form.n_cols):
        lo = None if form.col_lower[j] <= -INF else float(form.col_lower[j])
        hi = None if form.col_upper[j] >= INF else float(form.col_upper[j])
        cat = pulp.LpBinary if form.integrality[j] else pulp.LpContinuous
        var = new_variable(f"x{j}", lowBound=lo, upBound=hi, cat=cat)
        if start is not None:
            var.setInitialValue(float(start[j]))
        cols.append(var)
    prob += pulp.lpSum(float(c) * cols[j] for j, c in enumerate(form.cost) if c != 0)
    A = form.A.tocsr()
    for r in range(A.shape[0]):
        lo, hi = form.row_lower[r], form.row_upper[r]
        start_, end = A.indptr[r], A.indptr[r + 1]
        expr = pulp.LpAffineExpression([(cols[j], float(v)) for j, v in zip(A.indices[start_:end], A.data[start_:end])])
        if lo == hi:
            prob += expr == float(lo)
            continue
        if lo > -INF:
            prob += expr >= float(lo)
        if hi < INF:
            prob += expr <= float(hi)
    command = _bundled_cbc(msg=False, gapRel=0.0, gapAbs=0.999, warmStart=start is not None,
                           timeLimit=None if time_limit is None else max(1, math.ceil(time_limit)),
                           threads=1, options=["randomSeed 1", "randomCbcSeed 1"])
    prob.solve(command)
    text = f"CBC: {pulp.LpStatus[prob.status]} / solution {pulp.LpSolution.get(prob.sol_status, prob.sol_status)}"
    x = None
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        x = np.array([v.varValue if v.varValue is not None else 0.0 for v in cols], dtype=float)
    if prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif prob.status == pulp.LpStatusInfeasible or prob.sol_status == pulp.LpSolutionInfeasible:
        status = "infeasible"
    else:
        status = "time_limit"
    dual = _value(form, x) if status == "optimal" else None
    return _SolverRun(status, x, dual, None, text)


# ---------------------------------------------------------------------- from a MIP point to a network
def _network_of(dictionary: BlockDictionary, form: Formulation, x: np.ndarray) -> Network:
    """The network of the blocks the point selects (some binary > 1/2) with a nonzero u, every
    coordinate whose binary is off exactly 0."""
    x = _zero_switched_off(form, x.copy())
    U = x[:form.n_u].reshape(dictionary.n_blocks, dictionary.n_weights)
    selected = set(form.binary_block[x[form.first_binary:] > 0.5].tolist())
    blocks = [b for b in sorted(selected) if np.any(U[b] != 0)]
    return dictionary.network(blocks, U[blocks], x[form.n_u:form.n_u + form.n_affine])


def _polished(lp: _SupportLP, x: np.ndarray) -> np.ndarray | None:
    """Re-fit the point's support (binaries at 0 stay 0) with tight LP tolerances (at most
    :data:`POLISH_SECONDS`; None when infeasible or not done by then)."""
    try:
        found = lp.solve(x[lp.form.first_binary:] > 0.5, deadline=time.monotonic() + POLISH_SECONDS)
    except Undecided:
        return None
    return None if found is None else _integral_point(lp.form, found[0])


# ---------------------------------------------------------------------- the public function
@dataclass(frozen=True)
class MilpResult:
    """The outcome of :func:`solve_milp`.

    status : "optimal" (lower_bound == upper_bound, witnessed by a re-checked network),
        "time_limit" (bounds as far as they got), "infeasible" (no interpolant within the bounds),
        or "unverified" (the solver stopped but no network it returned passes the re-check).
    objective : "neurons" or "parameters".
    lower_bound : a valid lower bound on the objective (ceil of the solver's dual bound or of the
        LP relaxation), None if infeasible. upper_bound : the re-checked count of ``network``.
    gap : upper_bound - lower_bound (an integer), None without both.
    nodes : branch-and-bound nodes (None for CBC). seconds : wall time of this call.
    network : the best re-checked interpolant found, None if none. recheck : its re-check.
    solver : "highs" or "cbc"; solver_status : the solver's own status text.
    bounds : the big-M bounds used (:class:`BigM`); box : R, None for the proven 1-D slope bound.
    box_touched : a path weight of ``network`` reaches R (1 - 1e-6): a larger R might do better.
        None when there is no box.
    incumbent : where the network came from: "solver", "heuristic", "fit" or "start".
    lp_bound : the LP relaxation's value (with the cuts). n_blocks, n_cuts : sizes.
    notes : anything the caller should know (e.g. a start that did not fit the box).
    """

    status: str
    objective: str
    lower_bound: int | None
    upper_bound: int | None
    gap: int | None
    nodes: int | None
    seconds: float
    network: Network | None
    recheck: Recheck | None
    solver: str
    solver_status: str
    bounds: BigM
    box: float | None
    box_touched: bool | None
    incumbent: str | None
    lp_bound: float | None
    n_blocks: int
    n_cuts: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def solve_milp(dictionary: BlockDictionary, *, objective: str = "neurons", count_bias: bool = False,
               box: float | None = None, time_limit: float | None = 60.0, solver: str = "highs",
               start: Network | Sequence[int] | None = None, cuts: bool = True,
               heuristic_only: bool = False, lower: int | None = None) -> MilpResult:
    """The sparsest interpolant over the dictionary's blocks (SPEC 3), by a big-M MILP.

    Minimises the SPEC 2 count ``objective`` ("neurons"; or "parameters", the nonzero path weights
    v_k w_kj, plus v_k b_k with ``count_bias``) over f = sum_k v_k relu(w_k.x + b_k) [+ affine] with
    f(x_i) = y_i. ``box``: R of |v_k w_kj| <= R (default :func:`default_box`; not needed for 1-D data
    with the skip term, where the proven slope bound is used). ``start``: a feasible network or a
    list of block ids, used as a MIP start after a fit on its support. A heuristic incumbent
    (reweighted l1 + greedy pruning; for d >= 2 also seeded network fits) is always computed first. ``time_limit`` (seconds, None: no
    limit) covers the whole call. ``heuristic_only`` stops before the MILP: the result is "optimal"
    when the incumbent meets the LP bound, else "time_limit" with both bounds. ``cuts=False`` drops
    the covering cuts (for cross-checks). ``lower``: a lower bound proven elsewhere for the same
    problem (e.g. by :func:`sparsest.exact.exhaustive.search_exhaustive` with the same box), trusted and
    added as the row objective >= lower, so that an incumbent meeting it ends the search. The
    result's counts come from :func:`sparsest.core.recheck.recheck`.
    """
    t0 = time.monotonic()
    if solver not in SOLVERS:
        raise SparsestError(f"unknown solver {solver!r}; use one of {', '.join(SOLVERS)}")
    check_objective(objective)
    time_limit = check_time_limit(time_limit)
    data = dictionary.dataset
    bounds = big_m(data, objective=objective, count_bias=count_bias, box=box)
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    if lower is not None and (isinstance(lower, bool) or not isinstance(lower, (int, np.integer)) or lower < 0):
        raise SparsestError(f"lower must be a nonnegative integer (a proven lower bound), got {lower!r}")
    finish = _Finisher(dictionary, objective, count_bias, bounds, solver, t0)
    try:
        form = build_formulation(dictionary, objective=objective, count_bias=count_bias, bounds=bounds,
                                 cuts=cuts, deadline=deadline)
        lp = _SupportLP(form, dictionary)
    except OutOfTime:
        finish.notes.append(f"the MILP over {dictionary.n_blocks} blocks was not built within the time limit")
        return finish("time_limit", None, 0 if lower is None else lower, "time limit reached building the MILP", None)
    finish.form, finish.lp = form, lp

    # 1. incumbents: the start (fitted and pruned on its support), the heuristic, network fits.
    candidates: list[tuple[np.ndarray, str]] = []
    if start is not None:
        allowed = np.isin(form.binary_block, start_support(dictionary, start, data.count_tol))
        try:
            point = _prune(lp, allowed, form.cost[form.first_binary:], deadline)
        except Undecided:
            finish.notes.append("the start could not be fitted on its support (time limit or HiGHS undecided); ignored")
        else:
            if point is None:
                finish.notes.append("the start does not interpolate within the bounds of the MILP; ignored")
            else:
                candidates.append((point, "start"))
    heuristic_deadline = deadline
    if math.isfinite(deadline) and not heuristic_only:
        heuristic_deadline = time.monotonic() + HEURISTIC_SHARE * max(deadline - time.monotonic(), 0.0)
    proven = lower
    lower = 0 if proven is None else proven
    try:
        heuristic_point, relaxation = _heuristic(lp, heuristic_deadline)
        if relaxation is None:
            return finish("infeasible", None, None, "the LP relaxation is infeasible", None)
        finish.lp_bound = relaxation
        lower = max(lower, int(math.ceil(relaxation - 1e-6)))
    except Undecided as stopped:
        heuristic_point = None
        why = "within its share of the time limit" if isinstance(stopped, OutOfTime) else f"by HiGHS ({stopped})"
        finish.notes.append(f"the LP relaxation ({form.n_cols} columns, {form.A.shape[0]} rows) was not solved "
                            f"{why}: no LP bound")
    if heuristic_point is not None:
        candidates.append((heuristic_point, "heuristic"))
    if data.dim >= 2:  # (in 1-D the cuts already make the MILP strong)
        first_width = lower if objective == "neurons" else 1  # (a width-k network has >= k parameters)
        fitted = _fitted_incumbent(lp, heuristic_point, first_width, min(deadline, time.monotonic() + FIT_SECONDS))
        if fitted is not None and fitted is not heuristic_point:
            candidates.append((fitted, "fit"))
    best = None
    for point, source in candidates:
        checked = finish.checked(point)
        if checked is not None and (best is None or _value(form, checked) < _value(form, best[0])):
            best = (checked, source)
    if best is not None and _value(form, best[0]) <= lower:
        return finish("optimal", best, lower, "an incumbent meets the lower bound (LP relaxation or given)", None)
    remaining = None if time_limit is None else deadline - time.monotonic()
    if heuristic_only:
        return finish("time_limit", best, lower, "heuristic only: the MILP was not run", None)
    if remaining is not None and remaining <= 0:
        return finish("time_limit", best, lower, "time limit reached before the MILP", None)

    # 2. the MILP, started from the best incumbent (with the row objective >= a given lower bound).
    if proven is not None:
        form = with_floor(form, proven)
    # the solver stops early enough to re-fit its incumbent (a small LP) before the deadline
    limit = None if remaining is None else max(remaining - min(POLISH_SECONDS, 0.02 * remaining + 0.2), 1e-3)
    run = (_run_highs if solver == "highs" else _run_cbc)(form, limit, None if best is None else best[0])
    if run.status == "infeasible":
        return finish("infeasible", None, None, run.text, run.nodes)
    if run.dual_bound is not None:
        lower = max(lower, int(math.ceil(run.dual_bound - 1e-6)))
    status = run.status if run.status in ("optimal", "time_limit") else "unverified"
    found = None if run.x is None else finish.checked(run.x)
    if run.x is not None and found is None:
        finish.notes.append("the solver's incumbent does not re-check, even re-fitted on its support")
    if found is not None and (best is None or _value(form, found) <= _value(form, best[0])):
        best = (found, "solver")
    return finish(status, best, lower, run.text, run.nodes)


class _Finisher:
    """Re-checks points and assembles an honest :class:`MilpResult` (one per solve)."""

    def __init__(self, dictionary, objective, count_bias, bounds, solver, t0):
        self.dictionary, self.objective, self.count_bias = dictionary, objective, count_bias
        self.form: Formulation | None = None  # set once built (no point exists before)
        self.lp: _SupportLP | None = None
        self.bounds, self.solver, self.t0 = bounds, solver, t0
        self.notes: list[str] = []
        self.lp_bound: float | None = None

    def checked(self, x: np.ndarray) -> np.ndarray | None:
        """The point if its network re-checks, else its re-fit if that re-checks, else None."""
        for point in (x, None):
            point = _polished(self.lp, x) if point is None else point
            if point is not None and self._recheck(point).interpolates:
                return point
        return None

    def _recheck(self, point: np.ndarray) -> Recheck:
        network = _network_of(self.dictionary, self.form, point)
        return recheck(network, self.dictionary.dataset, count_bias=self.count_bias)

    def __call__(self, status, best, lower, text, nodes) -> MilpResult:
        form, bounds, notes = self.form, self.bounds, list(self.notes)
        network = check = source = None
        upper = None
        if best is not None:
            point, source = best
            network = _network_of(self.dictionary, form, point)
            check = self._recheck(point)
            upper = check.neurons if self.objective == "neurons" else check.parameters
        if status == "infeasible":
            lower = None
        if upper is not None and lower is not None and upper < lower:
            notes.append(f"the bound {lower} exceeded a re-checked witness of {upper}; bound lowered to it")
            lower = upper
        if status == "optimal" and (upper is None or lower != upper):
            status = "unverified"
            notes.append("the solver reported optimal, but its bound does not meet a re-checked count")
        if status == "time_limit" and upper is not None and lower == upper:
            status = "optimal"
        touched = None
        if bounds.box is not None and network is not None and network.width:
            touched = bool(np.max(np.abs(network.path_weights())) >= bounds.box * (1 - BOX_TOUCH_RTOL))
        return MilpResult(
            status=status, objective=self.objective, lower_bound=lower, upper_bound=upper,
            gap=None if upper is None or lower is None else upper - lower, nodes=nodes,
            seconds=time.monotonic() - self.t0, network=network, recheck=check, solver=self.solver,
            solver_status=text, bounds=bounds, box=bounds.box, box_touched=touched, incumbent=source,
            lp_bound=self.lp_bound, n_blocks=self.dictionary.n_blocks, n_cuts=0 if form is None else form.n_cuts,
            notes=tuple(notes),
        )
