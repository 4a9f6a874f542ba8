"""The finite block dictionary of docs/math.md §3 and the LP that fits a fixed support.

A block is a pair (A, s) of an activation set and a sign. Its neuron acts on the data as
s * D_A X~ u with u = |v| (w, b) in the closed cone C_A = {u : x~_i . u >= 0 (i in A),
x~_i . u <= 0 (i not in A)}. Every interpolating network is a sum of blocks (plus the affine skip
term a.x + c, or the output bias c, when the problem has one), and vice versa; so

    min neurons = min |S|  such that  y in  sum_{(A,s) in S} s D_A X~ C_A  [+ X a + c].

The box of the multivariate problem (docs/math.md §3) bounds the path weights |u_j| <= R (j = 1..d); on the
cone C_A this also bounds the bias coordinate (see :meth:`BlockDictionary.bias_bounds`), except for
the set of all points, whose bias we bound by R * (1 + max_i ||x_i||_1) as a stated assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from sparsest.core.dataset import Dataset
from sparsest.exact.highs import INF, solve_lp
from sparsest.core.network import Network
from sparsest.exact.patterns import DEFAULT_MAX_PATTERNS, activation_patterns, anchor_point


@dataclass(frozen=True)
class SupportFit:
    """The result of fitting a fixed support: ``feasible`` and, if so, the interpolating network."""

    feasible: bool
    network: Network | None
    status: str


class BlockDictionary:
    """All blocks (A, s) of a dataset: patterns (P, N) booleans, block b = (pattern[b], sign[b]).

    Blocks are ordered pattern by pattern, the positive sign first: block 2p is (A_p, +1) and block
    2p+1 is (A_p, -1).
    """

    def __init__(self, dataset: Dataset, patterns: np.ndarray | None = None, *,
                 max_patterns: int = DEFAULT_MAX_PATTERNS):
        self.dataset = dataset
        self.patterns = activation_patterns(dataset, max_patterns=max_patterns) if patterns is None else np.asarray(patterns, dtype=bool)
        n_patterns = len(self.patterns)
        self.block_pattern = np.repeat(np.arange(n_patterns), 2)
        self.block_sign = np.tile([1.0, -1.0], n_patterns)
        self._l1_norms = np.abs(dataset.X).sum(axis=1)
        self._pattern_index = {row.tobytes(): p for p, row in enumerate(self.patterns)}
        self._anchor = anchor_point(dataset) if dataset.skip else None

    # ------------------------------------------------------------------ sizes
    @property
    def n_blocks(self) -> int:
        return int(len(self.block_pattern))

    @property
    def n_weights(self) -> int:
        """d + 1, the length of one block's u = |v| (w, b)."""
        return self.dataset.dim + 1

    @property
    def n_affine(self) -> int:
        """Number of free affine variables: d + 1 (skip a, c), 1 (output bias c) or 0."""
        if self.dataset.skip:
            return self.dataset.dim + 1
        return 1 if self.dataset.output_bias else 0

    def block_of(self, pattern: int, sign: float) -> int:
        """The block (A_pattern, sign): 2 pattern for sign > 0, 2 pattern + 1 for sign < 0."""
        return 2 * int(pattern) + (1 if sign < 0 else 0)

    def blocks_of(self, pre: np.ndarray, signs: np.ndarray) -> list[int]:
        """The blocks (sorted, distinct) of neurons with pre-activations ``pre`` = w_k.x_i + b_k on
        the data (N, K) and output signs ``signs`` (K,): block (A_k, sign) with A_k = {pre > 0}.

        With the skip term a neuron active at the anchor point (:func:`sparsest.exact.patterns.anchor_point`)
        is taken as its mirror image, relu(t) = t + relu(-t): the set {pre < 0}, same sign (the
        difference is affine). Sets with no block (the empty set; with the skip term, the set of all
        points) are dropped.
        """
        blocks = set()
        for column, sign in zip(np.asarray(pre, dtype=float).T, signs):
            active = column > 0
            if self._anchor is not None and active[self._anchor]:
                active = column < 0
            pattern = self._pattern_index.get(active.tobytes())
            if pattern is not None:
                blocks.add(self.block_of(pattern, sign))
        return sorted(blocks)

    # ------------------------------------------------------------------ the linear algebra of a block
    def activation_set(self, block: int) -> np.ndarray:
        """A, as an (N,) boolean mask."""
        return self.patterns[self.block_pattern[block]]

    def design(self, block: int) -> np.ndarray:
        """s D_A X~, the (N, d+1) map from u to the block's outputs on the data."""
        return self.block_sign[block] * self.activation_set(block)[:, None] * self.dataset.X_tilde

    def cone(self, block: int) -> np.ndarray:
        """G_A with rows sigma_i x~_i (sigma = +1 on A, -1 off A): u in C_A iff G_A u >= 0."""
        sigma = np.where(self.activation_set(block), 1.0, -1.0)
        return sigma[:, None] * self.dataset.X_tilde

    def affine_design(self) -> np.ndarray:
        """The (N, n_affine) map of the free affine part: [X, 1] with skip, [1] with output bias."""
        if self.dataset.skip:
            return self.dataset.X_tilde
        if self.dataset.output_bias:
            return np.ones((self.dataset.n_points, 1))
        return np.zeros((self.dataset.n_points, 0))

    def bias_bounds(self, block: int, box: float) -> tuple[float, float]:
        """Bounds on the bias coordinate u_b over C_A under |u_j| <= R (j = 1..d).

        For i in A, w.x_i + b >= 0 gives b >= -R ||x_i||_1; for i not in A, b <= R ||x_i||_1. The
        set of all points has no upper bound from its cone: there we use R (1 + max_i ||x_i||_1).
        """
        inside = self.activation_set(block)
        lower = -box * float(self._l1_norms[inside].min())
        if inside.all():
            upper = box * (1.0 + float(self._l1_norms.max()))
        else:
            upper = box * float(self._l1_norms[~inside].min())
        return lower, upper

    # ------------------------------------------------------------------ from variables to a network
    def network(self, blocks: Sequence[int], weights: np.ndarray, affine: np.ndarray | None = None) -> Network:
        """The network with one neuron per block: v = s, (w, b) = u (so the path weights are u).

        ``weights`` is (len(blocks), d+1); ``affine`` holds the n_affine free variables.
        """
        blocks = list(blocks)
        weights = np.asarray(weights, dtype=np.float64).reshape(len(blocks), self.n_weights)
        d = self.dataset.dim
        a = c = None
        if self.dataset.skip:
            a, c = np.asarray(affine[:d]), float(affine[d])
        elif self.dataset.output_bias:
            c = float(affine[0])
        return Network(self.block_sign[blocks], weights[:, :d], weights[:, d], a, c)

    # ------------------------------------------------------------------ the LP of a fixed support
    def _support_matrix(self, blocks: list[int]) -> sp.csc_matrix:
        """Rows of the support LP: interpolation (N), cones (N per block), t -+ u >= 0 (2 per path weight).

        Columns: u (d+1 per block), t (d per block), then the affine part. Assembled in one COO pass.
        """
        n, k, m, d = self.dataset.n_points, self.n_weights, len(blocks), self.dataset.dim
        n_u, n_t = m * k, m * d
        rows, cols, vals = [], [], []

        def put(row_index, col_index, values):
            r, c = np.meshgrid(row_index, col_index, indexing="ij")
            rows.append(r.ravel())
            cols.append(c.ravel())
            vals.append(np.asarray(values, dtype=np.float64).ravel())

        for i, b in enumerate(blocks):
            block_cols = np.arange(i * k, (i + 1) * k)
            put(np.arange(n), block_cols, self.design(b))
            put(n + i * n + np.arange(n), block_cols, self.cone(b))
        put(np.arange(n), n_u + n_t + np.arange(self.n_affine), self.affine_design())
        # t >= |u_j| for the path-weight coordinates j < d of every block: t - u >= 0, t + u >= 0.
        path = np.arange(n_t)
        u_of_path = (path // d) * k + path % d
        first = n + m * n
        for offset, sign in ((0, -1.0), (n_t, 1.0)):
            rows += [first + offset + path, first + offset + path]
            cols += [u_of_path, n_u + path]
            vals += [np.full(n_t, sign), np.ones(n_t)]
        shape = (first + 2 * n_t, n_u + n_t + self.n_affine)
        matrix = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=shape).tocsc()
        matrix.eliminate_zeros()
        return matrix

    def fit_support(self, blocks: Sequence[int], *, box: float | None = None,
                    feasibility_tol: float = 1e-10, coordinates: np.ndarray | None = None) -> SupportFit:
        """Is there u_b in C_{A_b} (b in S), with |u_bj| <= R when ``box``, that interpolates?

        Solves  sum_b s_b D_{A_b} X~ u_b [+ affine] = y,  G_{A_b} u_b >= 0  as an LP with HiGHS
        (objective: the l1 norm of the path weights, which keeps the answer small and unique-ish).
        ``coordinates``, a (len(blocks), d+1) boolean mask, fixes u_bj = 0 where it is False (the
        supports of the parameter count); None leaves every coordinate free.
        The returned network should still be re-checked (:func:`sparsest.core.recheck.recheck`).
        """
        blocks = list(blocks)
        n, k, m = self.dataset.n_points, self.n_weights, len(blocks)
        n_u = m * k
        # Variables: u (m*k), then |path weights| helper t (m*d), then the affine part.
        d = self.dataset.dim
        n_t = m * d
        n_var = n_u + n_t + self.n_affine
        A = self._support_matrix(blocks)
        n_cone_rows = m * n
        row_lower = np.concatenate([self.dataset.y, np.zeros(n_cone_rows), np.zeros(2 * n_t)])
        row_upper = np.concatenate([self.dataset.y, np.full(n_cone_rows, INF), np.full(2 * n_t, INF)])
        col_lower = np.full(n_var, -INF)
        col_upper = np.full(n_var, INF)
        col_lower[n_u:n_u + n_t] = 0.0
        if box is not None:
            for i, b in enumerate(blocks):
                col_lower[i * k:i * k + d] = -box
                col_upper[i * k:i * k + d] = box
                col_lower[i * k + d], col_upper[i * k + d] = self.bias_bounds(b, box)
        if coordinates is not None:
            fixed = ~np.asarray(coordinates, dtype=bool).reshape(n_u)
            col_lower[:n_u][fixed] = 0.0
            col_upper[:n_u][fixed] = 0.0
        cost = np.zeros(n_var)
        cost[n_u:n_u + n_t] = 1.0
        result = solve_lp(cost, A, row_lower, row_upper, col_lower, col_upper,
                          primal_feasibility_tolerance=feasibility_tol)
        if result.status != "optimal":
            return SupportFit(False, None, result.status)
        weights = result.x[:n_u].reshape(m, k)
        return SupportFit(True, self.network(blocks, weights, result.x[n_u + n_t:]), "optimal")
