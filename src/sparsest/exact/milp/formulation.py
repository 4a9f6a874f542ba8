"""The big-M MILP over the blocks of a dictionary: columns, rows, covering cuts (see the package docstring)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.highs import INF, OutOfTime
from sparsest.exact.problem import check_objective
from sparsest.exact.milp.bounds import BigM

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
