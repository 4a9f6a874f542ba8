"""Exact enumeration of the activation sets of SPEC 3.

On the data a neuron matters only through A = {i : w . x_i + b > 0}. The realizable sets are the
cells of the central arrangement {u : x~_i . u = 0} in R^{d+1} (a point of a lower-dimensional face
gives the same A as the open cell reached by lowering b, so open cells suffice). They are
enumerated exactly, never sampled: in 1-D by sorting, otherwise by incremental LP feasibility
(each open cell of the first m hyperplanes is split by hyperplane m+1 or not, decided by an LP).

With the affine skip term, a neuron on A and one on its complement differ by an affine function
(relu(z) - relu(-z) = z), so one set of each complementary pair suffices: we keep those that do not
contain the anchor point, the lexicographically smallest x_i (in 1-D the leftmost point, so the kept
sets are exactly the right-facing ones {i : x_i > t}).
"""

from __future__ import annotations

from math import comb

import numpy as np

from .dataset import Dataset
from .errors import SparsestError
from .lp import INF, solve_lp

#: Refuse to enumerate when the a-priori bound on the number of sets exceeds this (``--max-patterns``).
DEFAULT_MAX_PATTERNS = 20_000


def pattern_count_bound(n_points: int, dim: int) -> int:
    """2 * sum_{k=0..d} C(N-1, k): the number of cells of the arrangement, reached in general position."""
    return 2 * sum(comb(n_points - 1, k) for k in range(dim + 1))


def activation_patterns(dataset: Dataset, *, max_patterns: int = DEFAULT_MAX_PATTERNS) -> np.ndarray:
    """Every useful activation set of the data, as a (P, N) boolean matrix in a fixed order.

    Useful: never the empty set; with the skip term, only sets without the anchor point (see the
    module docstring); without it, every nonempty set, the full set included. Raises
    :class:`SparsestError` when :func:`pattern_count_bound` exceeds ``max_patterns``.
    """
    bound = pattern_count_bound(dataset.n_points, dataset.dim)
    if bound > max_patterns:
        raise SparsestError(
            f"{dataset.name}: up to {bound} activation patterns (N={dataset.n_points}, d={dataset.dim}) "
            f"exceeds --max-patterns {max_patterns}; raise the limit or use a smaller instance"
        )
    if dataset.dim == 1:
        cells = _cells_1d(dataset.X[:, 0])
    else:
        cells = _cells_incremental_lp(dataset.X_tilde)
    return _useful(cells, anchor=anchor_point(dataset) if dataset.skip else None)


def anchor_point(dataset: Dataset) -> int:
    """Index of the lexicographically smallest x_i (the leftmost point in 1-D)."""
    return int(np.lexsort(dataset.X.T[::-1])[0])


def _useful(cells: np.ndarray, *, anchor: int | None) -> np.ndarray:
    """Drop the empty set, and (skip term) every set containing the anchor point; sort the rest."""
    keep = cells.any(axis=1)
    if anchor is not None:
        keep &= ~cells[:, anchor]
    cells = np.unique(cells[keep], axis=0)
    # A fixed, readable order: by size, then lexicographically by membership.
    order = np.lexsort(tuple(~cells.T[::-1]) + (cells.sum(axis=1),))
    return cells[order]


def _cells_1d(x: np.ndarray) -> np.ndarray:
    """All sets {i : w x_i + b > 0} in 1-D: prefixes and suffixes of the sorted points (2N sets)."""
    n = len(x)
    rank = np.empty(n, dtype=int)
    rank[np.argsort(x, kind="stable")] = np.arange(n)
    sets = [rank >= j for j in range(n + 1)] + [rank < j for j in range(n + 1)]
    return np.unique(np.array(sets, dtype=bool), axis=0)


def _cells_incremental_lp(X_tilde: np.ndarray) -> np.ndarray:
    """Sign vectors of the open cells of the central arrangement of the rows of ``X_tilde``.

    Adds one hyperplane at a time. A cell (sign vector sigma on the first m points, with an
    interior witness u) always keeps the side of the new hyperplane its witness lies on; the other
    side is kept exactly when the LP  sigma_j x~_j . u >= 1 (j <= m), t x~_{m+1} . u >= 1  is
    feasible (the open cone is nonempty iff the scaled closed one is). Returns (cells, N) booleans.
    """
    n, dim = X_tilde.shape
    # Start with the two half-spaces of the first hyperplane.
    first = X_tilde[0] / np.dot(X_tilde[0], X_tilde[0])
    cells = [(np.array([True]), first), (np.array([False]), -first)]
    for m in range(1, n):
        row = X_tilde[m]
        grown = []
        for signs, witness in cells:
            side = float(np.dot(row, witness))
            for positive in (True, False):
                if (side > 0) == positive and side != 0.0:
                    grown.append((np.append(signs, positive), witness))
                    continue
                found = _interior_point(X_tilde[: m + 1], np.append(signs, positive))
                if found is not None:
                    grown.append((np.append(signs, positive), found))
        cells = grown
    return np.array([signs for signs, _ in cells], dtype=bool)


def _interior_point(X_tilde: np.ndarray, signs: np.ndarray) -> np.ndarray | None:
    """A point u with sigma_i x~_i . u >= 1 for all rows, or None when there is none."""
    sigma = np.where(signs, 1.0, -1.0)
    n, width = X_tilde.shape
    result = solve_lp(
        np.zeros(width), sigma[:, None] * X_tilde, np.ones(n), np.full(n, INF),
        np.full(width, -INF), np.full(width, INF),
    )
    return result.x if result.status == "optimal" else None
