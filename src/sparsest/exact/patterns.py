"""Exact enumeration of the activation sets of docs/math.md §3.

On the data a neuron matters only through A = {i : w . x_i + b > 0}. The realizable sets are the
cells of the central arrangement {u : x~_i . u = 0} in R^{d+1} (a point of a lower-dimensional face
gives the same A as the open cell reached by lowering b, so open cells suffice). They are
enumerated exactly, never sampled:

* d = 1: by sorting (prefixes and suffixes of the sorted points).
* points in general position (every d+1 of the x~_i linearly independent, tested exactly): from
  the rays of the arrangement. Every cell is a pointed cone with an extreme ray, the null space of
  d of the x~_i; around such a ray r the d hyperplanes through it cut out all 2^d sign patterns,
  the other signs being sign(x~_j . r). Each candidate set gets an explicit witness
  u = r + eps * delta (X~_S delta = the wanted signs), and is kept only when floating-point
  evaluation of x~_j . u has the right strict sign with a rigorous rounding margin. The kept sets
  are then distinct realized cells; when their number equals the exact count
  2 * sum_{k<=d} C(N-1, k) of a general-position arrangement, the list is complete.
* otherwise (collinear points, grids, or if a witness or the count check fails): by incremental LP
  feasibility (each open cell of the first m hyperplanes is split by hyperplane m+1 or not,
  decided by an LP), which is always correct but slower.

With the affine skip term, a neuron on A and one on its complement differ by an affine function
(relu(z) - relu(-z) = z), so one set of each complementary pair suffices: we keep those that do not
contain the anchor point, the lexicographically smallest x_i (in 1-D the leftmost point, so the kept
sets are exactly the right-facing ones {i : x_i > t}).
"""

from __future__ import annotations

from itertools import combinations, permutations, product
from math import comb

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.rational import determinant, pivots
from sparsest.errors import SparsestError
from sparsest.exact.highs import INF, solve_lp

#: Refuse to enumerate when the a-priori bound on the number of sets exceeds this (``--max-patterns``).
DEFAULT_MAX_PATTERNS = 20_000

#: Unit roundoff of float64.
_UNIT_ROUNDOFF = 2.0 ** -53
#: Above this d + 1 the exact general-position test (d+1)! terms per determinant is not attempted.
_MAX_LEIBNIZ_SIZE = 6


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
        cells = _cells_general_position(dataset.X_tilde)
        if cells is None:
            cells = _cells_incremental_lp(dataset.X_tilde)
    return _useful(cells, anchor=anchor_point(dataset) if dataset.skip else None)


def arrangement_cells(X_tilde: np.ndarray) -> np.ndarray:
    """Every set {i : x~_i . u > 0}, u in R^m, of the rows x~_i of ``X_tilde`` (N, m; the last
    column the bias 1), as a (C, N) boolean matrix, the empty and the full set included. Repeated
    rows are allowed (the points projected on a few coordinates, docs/math.md §3.7): in 1-D
    (m = 2) the sets {x > t} and {x < t} at every distinct value t and beyond the ends; otherwise
    the open cells, from witnesses in general position, else by incremental LP."""
    X_tilde = np.asarray(X_tilde, dtype=np.float64)
    n = X_tilde.shape[0]
    if X_tilde.shape[1] == 2 and np.all(X_tilde[:, 1] == 1.0):
        x = X_tilde[:, 0]
        values = np.unique(x)
        sets = [x > t for t in values] + [x < t for t in values] + [np.ones(n, dtype=bool)]
        return np.unique(np.array(sets, dtype=bool).reshape(-1, n), axis=0)
    cells = _cells_general_position(X_tilde)
    if cells is None:
        cells = _cells_incremental_lp(X_tilde)
    return np.unique(cells, axis=0)


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


# ---------------------------------------------------------------------- general position: from rays
def in_general_position(X_tilde: np.ndarray) -> bool | None:
    """Whether every min(N, d+1) rows of X~ are linearly independent, decided exactly.

    The floats are exact rationals, so the answer is exact: a determinant is certified nonzero in
    floating point when it exceeds a rigorous bound on its rounding error, and recomputed in
    rationals otherwise. Returns None when d + 1 is too large for this test (no answer).
    """
    n, size = X_tilde.shape
    if n <= size:
        return _full_row_rank(X_tilde)
    if size > _MAX_LEIBNIZ_SIZE:
        return None
    subsets = np.array(list(combinations(range(n), size)), dtype=np.intp)
    for start in range(0, len(subsets), 50_000):
        chunk = subsets[start:start + 50_000]
        value, error = _leibniz_determinants(X_tilde[chunk])
        for index in np.flatnonzero(np.abs(value) <= error):
            if determinant(X_tilde[chunk[index]]) == 0:
                return False
    return True


def _leibniz_determinants(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """det of a stack of m x m matrices by the Leibniz sum, with a rigorous rounding bound.

    Each of the m! products carries relative error <= (m-1) u and summing m! terms adds <= (m!-1) u
    each, so |fl(det) - det| <= gamma_{m+m!} * perm(|M|) (gamma_k = k u / (1 - k u)); the permanent
    is itself computed in floating point, so it is inflated by the same factor once more.
    """
    m = matrices.shape[-1]
    value = np.zeros(matrices.shape[0])
    permanent = np.zeros(matrices.shape[0])
    for perm in permutations(range(m)):
        term = np.prod(matrices[:, np.arange(m), perm], axis=1)
        value += _permutation_sign(perm) * term
        permanent += np.abs(term)
    k = m + len(list(permutations(range(m))))
    gamma = k * _UNIT_ROUNDOFF / (1 - k * _UNIT_ROUNDOFF)
    return value, 2 * gamma * permanent * (1 + gamma) + np.finfo(float).tiny


def _permutation_sign(perm: tuple[int, ...]) -> int:
    sign, seen = 1, list(perm)
    for i in range(len(seen)):
        while seen[i] != i:
            j = seen[i]
            seen[i], seen[j] = seen[j], seen[i]
            sign = -sign
    return sign


def _full_row_rank(matrix: np.ndarray) -> bool:
    """Whether the rows of a wide (or square) float matrix are independent, decided exactly."""
    n, m = matrix.shape
    singular = np.linalg.svd(matrix, compute_uv=False)
    # Backward stability of the SVD: the computed values are exact for a matrix within a small
    # multiple of u * ||A||_2 (Weyl), so a smallest value well above that certifies full rank.
    if singular[-1] > 64 * max(n, m) ** 2 * _UNIT_ROUNDOFF * singular[0]:
        return True
    pivot_columns, _ = pivots(matrix.tolist())
    return len(pivot_columns) == n


def _cells_general_position(X_tilde: np.ndarray) -> np.ndarray | None:
    """All cells from explicit witnesses when the points are in general position, else None.

    None means "use the LP": the points are not in general position, the test does not apply, or
    some witness could not be certified or the certified cells fall short of the exact count.
    """
    n, size = X_tilde.shape
    if not in_general_position(X_tilde):
        return None
    if n <= size:
        signs = np.array(list(product((1.0, -1.0), repeat=n)))
        witnesses = (np.linalg.pinv(X_tilde) @ signs.T).T
    else:
        witnesses = _witnesses_around_rays(X_tilde)
    cells = _certified_signs(X_tilde, witnesses)
    if cells is None:
        return None
    cells = np.unique(cells, axis=0)
    if len(cells) != pattern_count_bound(n, size - 1):
        return None
    return cells


def _witnesses_around_rays(X_tilde: np.ndarray) -> np.ndarray:
    """Candidate interior points u = +-r + eps * delta of every cell around every ray r.

    r spans the null space of the rows S (|S| = d); delta solves X~_S delta = sigma for each of
    the 2^d sign vectors sigma; eps is half the largest step keeping every sign off S.
    """
    n, size = X_tilde.shape
    subsets = np.array(list(combinations(range(n), size - 1)), dtype=np.intp)
    rows = X_tilde[subsets]                                     # (R, d, d+1)
    _, _, vt = np.linalg.svd(rows)                              # full_matrices: last row spans the null space
    rays = vt[:, -1, :]                                         # (R, d+1)
    sigmas = np.array(list(product((1.0, -1.0), repeat=size - 1)))  # (2^d, d)
    deltas = np.einsum("rij,sj->rsi", np.linalg.pinv(rows), sigmas)  # (R, 2^d, d+1)
    off = np.ones((len(subsets), n), dtype=bool)
    off[np.arange(len(subsets))[:, None], subsets] = False
    along_ray = np.abs(rays @ X_tilde.T)                         # (R, N)
    gap = np.where(off, along_ray, np.inf).min(axis=1)           # (R,)
    along_delta = np.abs(np.einsum("rsi,ni->rsn", deltas, X_tilde))
    reach = np.where(off[:, None, :], along_delta, 0.0).max(axis=2)  # (R, 2^d)
    eps = 0.5 * gap[:, None] / np.maximum(reach, 1e-300)
    steps = eps[:, :, None] * deltas
    witnesses = np.concatenate([rays[:, None, :] + steps, -rays[:, None, :] + steps], axis=1)
    return witnesses.reshape(-1, size)


def _certified_signs(X_tilde: np.ndarray, witnesses: np.ndarray) -> np.ndarray | None:
    """Sign vectors {x~_i . u > 0} of the witnesses, or None if any sign is not certain.

    A dot product of length m evaluated in float64 is within gamma_m * sum |x~_ij u_j| of the exact
    value; a sign is certain when |value| exceeds twice that bound.
    """
    values = witnesses @ X_tilde.T
    m = X_tilde.shape[1]
    gamma = (m + 1) * _UNIT_ROUNDOFF / (1 - (m + 1) * _UNIT_ROUNDOFF)
    margin = 2 * gamma * (np.abs(witnesses) @ np.abs(X_tilde).T)
    if not np.all(np.abs(values) > margin) or not np.all(np.isfinite(values)):
        return None
    return values > 0


# ---------------------------------------------------------------------- any position: incremental LP
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
    """A point u with sigma_i x~_i . u >= 1 for all rows, or None when HiGHS proves there is none.

    A cell is dropped only on an explicit "infeasible" verdict: an LP HiGHS does not decide is
    retried once without presolve, and if still undecided the enumeration stops with an error
    (a missed cell would void every certificate built on the enumeration, docs/math.md §3.1)."""
    sigma = np.where(signs, 1.0, -1.0)
    n, width = X_tilde.shape
    problem = (np.zeros(width), sigma[:, None] * X_tilde, np.ones(n), np.full(n, INF),
               np.full(width, -INF), np.full(width, INF))
    for options in ({}, {"presolve": "off"}):
        result = solve_lp(*problem, **options)
        if result.status == "optimal":
            return result.x
        if result.status == "infeasible":
            return None
    raise SparsestError(f"activation-set enumeration: HiGHS did not decide whether a candidate cell exists "
                        f"(status: {result.status}), so the set of cells cannot be certified complete")
