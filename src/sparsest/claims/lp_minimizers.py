"""Exact global l^p minimizers (0 < p <= 1) of interpolating ReLU networks on small data.

The problem. Over all networks f(x) = sum_k v_k relu(w_k . x + b_k) [+ affine] that interpolate the
data (docs/math.md §1), minimise the l^p path norm (docs/math.md §5)

    F_p = sum_k sum_{j in J} |v_k u_kj|^p,    u_k = (w_k, b_k),

where J holds the path-weight coordinates j = 1..d, plus the bias coordinate when biases are
counted (``count_bias``). The affine part (the skip term a . x + c, or the output bias c) is free
and unpenalised. In 1-D with the skip term this is the paper's sum_k |v_k w_k|^p.

Why a finite, exact search finds the global minimum (the argument this module implements):

1. Blocks, one neuron per block. On the data a neuron acts as s D_A X~ u with s = sign(v),
   u = |v| (w, b) in the closed cone C_A (docs/math.md §3), and its cost is sum_{j in J} |u_j|^p. Split
   each cone by the closed orthant sigma of its penalised coordinates: a *sub-block* is
   q = (A, s, sigma) with cone K_q = C_A cap O_sigma. Two neurons in one sub-block merge into one
   (u + u' is in K_q, the data outputs add) without raising the cost, because t -> t^p is
   subadditive for 0 < p <= 1 and on O_sigma the coordinates u_j, u'_j have the same sign, so
   |u_j + u'_j|^p <= |u_j|^p + |u'_j|^p. Hence one neuron per sub-block loses nothing. With the
   skip term, a neuron whose set contains the anchor point is a neuron on the complement plus an
   affine function of the same cost (relu(z) = z + relu(-z)), so only sets without the anchor are
   needed (in 1-D: the right-facing neurons).
2. Atoms. K_q is pointed (no line has all penalised coordinates of constant sign except through 0,
   and a line with zero penalised part moves the bias, changing every x~_i . u), so it is generated
   by its extreme rays. These are *atoms*: the 1-dimensional faces of the central arrangement of the
   planes {x~_i . u = 0} (data) and {u_j = 0} (j in J) in R^{d+1}, i.e. the null lines of d of the
   planes. A ray whose data column relu(X~ rho) is 0 only adds cost; it is dropped. Writing
   u_q = sum_r lambda_qr rho_r (lambda >= 0), the problem becomes: minimise
       G(lambda) = sum_q sum_{j in J} (sum_r lambda_qr |rho_rj|)^p
   over the polyhedron P = {lambda >= 0, g free : sum_{q,r} s_q lambda_qr relu(X~ rho_r) + H g = y}
   (H: the affine columns, reduced to independent ones). G is concave on lambda >= 0 (t^p is
   concave and nondecreasing, its argument linear and nonnegative) and bounded below by 0; P is
   pointed (lambda >= 0, H of full column rank). A concave function bounded below on a pointed
   polyhedron attains its minimum at a vertex: write a point as z = x + r with x in the convex hull
   of the vertices and r a recession direction; along the ray x + t r a concave function bounded
   below cannot decrease, so G(z) >= G(x) >= min over the vertices.
3. Vertices. lambda is a vertex of P iff the columns s_q relu(X~ rho_r) of its positive entries,
   with H, are linearly independent. So a vertex uses each atom at most once: it is a set T of
   atoms whose columns are independent with H, with the unique coefficients c of
   [H, cols_T] (g, c) = y all nonzero (s_r = sign(c_r), lambda_r = |c_r|), and an assignment of
   the atoms of T to sub-blocks. The atoms assigned to one sub-block form a *group* (one neuron,
   u = sum |c_r| rho_r): same sign s and pairwise sign-consistent (no data plane and no penalised
   coordinate plane has two of them strictly on opposite sides). Conversely every such group lies
   in one sub-block: the relative interior of the cone it spans has a constant sign vector, so it
   lies in one face of the arrangement, whose closure lies in a closed cell without the anchor.
   Every T extends to a basis (|B| = rank - |H| independent atom columns), whose solution has
   zeros off T; so all vertices are found by enumerating bases.
4. Groups. For a fixed T only the partition into groups matters, and merging two groups whose
   union is consistent never raises the cost (point 1). So the candidates are (T, maximal
   partition); equal-cost refinements of a minimiser (split groups with disjoint penalised
   supports, or any split at p = 1) are minimisers too and are reported as ties.

Exactness. Data, rays and the linear system are exact (integers after scaling each equation by
the common denominator of its row). Bases are decided by determinants: a float64 determinant is
trusted only when it exceeds 1e-6 of its Hadamard bound (with partial pivoting its rounding error
is below ~1e-11 of that bound for n <= 12); every smaller one is recomputed exactly (fraction-free
Bareiss on Python integers). So which sets are bases and which coefficients are zero is decided
exactly, and the float coefficients (Cramer ratios) carry a relative error below ~1e-5 (typically
~1e-12). Costs are compared in float64: every candidate within 1e-4 (relative) of the smallest
cost is re-derived in exact rationals (coefficients, neurons, exact interpolation of every data
point) and its cost is recomputed from the exact magnitudes; ties are decided at ``tie_rtol``
(default 1e-9, relative).

Size. The work grows like C(m + 1, rank - |H|) determinants (m atoms): 1-D up to N = 12 is
instant; 2-D without skip term is fine to N = 5 (about 2e5 determinants), N = 6 needs about
1.2e7 and is refused (``max_determinants``).

The box of the multivariate problem (docs/math.md §3). The search runs without a box. With a box R the
unboxed minimisers that satisfy it (|u_j| <= R on the path weights, and the dictionary's bias
bound for neurons active on every point) are the boxed minimisers, since the boxed minimum is at
least the unboxed one; when none satisfies it the boxed minimum lies on the box and is not
computed here (SparsestError).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.exact.patterns import anchor_point
from sparsest.core.rational import integer_determinant, integer_row, null_vector, pivots, solve
from sparsest.exact.problem import check_box
from sparsest.core.recheck import recheck

__all__ = [
    "BoxBindsError",
    "LpMinResult",
    "LpVertex",
    "VertexCatalogue",
    "check_small",
    "describe_setting",
    "exact_minimizers",
    "minimize_lp",
    "vertex_catalogue",
]

class BoxBindsError(SparsestError):
    """With the box R, no unboxed l^p minimiser fits the box: the boxed minimum lies on the box and
    is not computed here (raise R)."""


#: Refuse instances whose basis enumeration needs more determinants than this.
MAX_DETERMINANTS = 1_000_000
#: Refuse more points than this (the float determinant check is argued for small matrices).
MAX_POINTS = 12
#: Refuse catalogues with more (vertex, partition) candidates than this.
MAX_CANDIDATES = 500_000
#: A float determinant below this fraction of its Hadamard bound is recomputed exactly.
_DET_TRUST = 1e-6
#: Float candidates within this relative distance of the smallest cost are re-derived exactly.
_CANDIDATE_WINDOW = 1e-4
#: At most this many tied minimisers are listed (``ties_truncated`` says when more exist).
MAX_LISTED_TIES = 100


def _sign(v) -> int:
    return (v > 0) - (v < 0)


# ====================================================================== the finite reformulation
@dataclass(frozen=True)
class _System:
    """Atoms and the exact linear system [H, cols, y] of point 2 of the module docstring."""

    dataset: Dataset
    penalised: tuple[int, ...]          # J, coordinates of u = (w, b) that are penalised
    rays: tuple[tuple[int, ...], ...]   # atoms rho_r, primitive integer vectors in R^{d+1}
    sign_vectors: np.ndarray            # (m, N + |J|): sign(x~_i . rho), then sign(rho_j)
    affine_columns: tuple[int, ...]     # the independent columns of H kept (indices into x~)
    rows: tuple[int, ...]               # the data rows spanning the row space
    matrix: tuple[tuple[int, ...], ...]  # integer [H_kept, cols, y] on ``rows`` (rows scaled)

    @property
    def n_atoms(self) -> int:
        return len(self.rays)

    @property
    def n_affine(self) -> int:
        return len(self.affine_columns)


def _affine_columns(dataset: Dataset) -> list[list[Fraction]]:
    """The free affine columns: x~ (skip term a.x + c), the ones (output bias c), or none."""
    n = dataset.n_points
    if dataset.skip:
        return [[row[j] for row in dataset.X_exact] for j in range(dataset.dim)] + [[Fraction(1)] * n]
    if dataset.output_bias:
        return [[Fraction(1)] * n]
    return []


def _build_system(dataset: Dataset, count_bias: bool) -> _System:
    d, n = dataset.dim, dataset.n_points
    X_t = [list(row) + [Fraction(1)] for row in dataset.X_exact]
    penalised = tuple(range(d)) + ((d,) if count_bias else ())
    unit = [[int(j == c) for c in range(d + 1)] for j in penalised]
    planes = [integer_row(row) for row in X_t] + unit
    anchor = anchor_point(dataset) if dataset.skip else None
    rays: dict[tuple[int, ...], None] = {}
    for subset in itertools.combinations(range(len(planes)), d):
        line = null_vector([planes[i] for i in subset])
        if line is None:
            continue
        for rho in (line, tuple(-v for v in line)):
            values = [sum(xc * rc for xc, rc in zip(x, rho)) for x in X_t]
            if max(values) <= 0:
                continue  # zero data column: only adds cost
            if anchor is not None and values[anchor] > 0:
                continue  # the complement of a useful set (point 1)
            rays.setdefault(rho, None)
    rays_t = tuple(sorted(rays))
    sign_vectors = np.array(
        [[_sign(sum(xc * rc for xc, rc in zip(x, rho))) for x in X_t] + [_sign(rho[j]) for j in penalised]
         for rho in rays_t], dtype=np.int8).reshape(len(rays_t), n + len(penalised))
    columns = [[max(Fraction(0), sum(xc * rc for xc, rc in zip(x, rho))) for x in X_t] for rho in rays_t]
    affine = _affine_columns(dataset)
    kept, _ = pivots([[col[i] for col in affine] for i in range(n)])
    affine_kept = [affine[c] for c in kept]
    full = affine_kept + columns
    _, basis_rows = pivots([[col[i] for col in full] for i in range(n)])
    y = list(dataset.y_exact)
    _, with_y_rows = pivots([[col[i] for col in full] + [y[i]] for i in range(n)])
    if len(with_y_rows) > len(basis_rows):
        raise SparsestError(f"{dataset.name}: no network of this form interpolates the data")
    matrix = []
    for i in sorted(basis_rows):
        matrix.append(tuple(integer_row([col[i] for col in full] + [y[i]])))
    return _System(dataset, penalised, rays_t, sign_vectors, tuple(kept), tuple(sorted(basis_rows)),
                   tuple(matrix))


# ====================================================================== bases by determinants
def _colex_ranks(combos: np.ndarray, binom: np.ndarray) -> np.ndarray:
    """Colexicographic rank of sorted combinations: sum_i C(c_i, i + 1)."""
    ranks = np.zeros(len(combos), dtype=np.int64)
    for i in range(combos.shape[1]):
        ranks += binom[combos[:, i], i + 1]
    return ranks


def _determinants(system: _System, combos: np.ndarray) -> np.ndarray:
    """det [H, columns of combo] for every combination (indices into atoms, m = y), exact zeros.

    Float64 values, except that every determinant below ``_DET_TRUST`` of its Hadamard bound is
    recomputed exactly (0 when the matrix has a zero row, else Bareiss on integers) and stored as
    the float of the exact value."""
    Z = np.array(system.matrix, dtype=np.float64)
    n_aff = system.n_affine
    out = np.empty(len(combos))
    chunk = 50_000
    for start in range(0, len(combos), chunk):
        part = combos[start:start + chunk]
        cols = np.concatenate([np.broadcast_to(np.arange(n_aff), (len(part), n_aff)), n_aff + part], axis=1)
        mats = Z[:, cols].transpose(1, 0, 2)  # (B, n, n)
        dets = np.linalg.det(mats) if mats.shape[1] else np.ones(len(part))
        bound = np.prod(np.linalg.norm(mats, axis=1), axis=1) if mats.shape[1] else np.ones(len(part))
        doubtful = ~(np.abs(dets) >= _DET_TRUST * bound)
        zero_row = np.any(np.all(mats == 0, axis=2), axis=1)  # a zero row: exactly singular
        dets[doubtful & zero_row] = 0.0
        for b in np.flatnonzero(doubtful & ~zero_row):
            exact = integer_determinant([[system.matrix[i][c] for c in cols[b]] for i in range(len(system.matrix))])
            dets[b] = float(exact)
        out[start:start + chunk] = dets
    return out


@dataclass(frozen=True)
class _Vertices:
    """The distinct vertex supports: for vertex v, ``bases[v]`` (a basis producing it), the boolean
    support over atoms, and the float coefficients c (0 off the support)."""

    bases: np.ndarray
    support: np.ndarray
    coefficients: np.ndarray


def _vertices(system: _System, max_determinants: int) -> _Vertices:
    m, k = system.n_atoms, len(system.rows) - system.n_affine
    if k == 0:  # the affine part alone interpolates
        return _Vertices(np.zeros((1, 0), dtype=np.int64), np.zeros((1, m), dtype=bool), np.zeros((1, m)))
    total = math.comb(m + 1, k)
    if total > max_determinants:
        ds = system.dataset
        raise SparsestError(
            f"{ds.name}: the exact l^p search needs {total:,} determinants ({m} atoms, bases of {k}; "
            f"N={ds.n_points}, d={ds.dim}), over the limit {max_determinants:,}; use a smaller instance"
        )
    combos = np.array(list(itertools.combinations(range(m + 1), k)), dtype=np.int64).reshape(total, k)
    binom = np.array([[math.comb(a, b) for b in range(k + 2)] for a in range(m + 2)], dtype=np.int64)
    dets = _determinants(system, combos)
    row_of_rank = np.empty(total, dtype=np.int64)
    row_of_rank[_colex_ranks(combos, binom)] = np.arange(total)
    is_basis = (combos[:, -1] < m) & (dets != 0)
    bases = combos[is_basis]
    base_dets = dets[is_basis]
    coefficients = np.zeros((len(bases), k))
    for t in range(k):
        with_y = np.concatenate([np.delete(bases, t, axis=1), np.full((len(bases), 1), m)], axis=1)
        dy = dets[row_of_rank[_colex_ranks(with_y, binom)]]
        coefficients[:, t] = (-1) ** (k - 1 - t) * dy / base_dets
    support = np.zeros((len(bases), m), dtype=bool)
    full_coef = np.zeros((len(bases), m))
    rows = np.arange(len(bases))[:, None]
    support[rows, bases] = coefficients != 0
    full_coef[rows, bases] = coefficients
    _, first = np.unique(support, axis=0, return_index=True)
    first = np.sort(first)
    return _Vertices(bases[first], support[first], full_coef[first])


# ====================================================================== groups (neurons)
def _consistent(system: _System) -> np.ndarray:
    """(m, m) booleans: atoms r, r' are sign-consistent (no plane strictly separates them)."""
    sv = system.sign_vectors.astype(np.int16)
    return ~np.any(sv[:, None, :] * sv[None, :, :] < 0, axis=2)


def _maximal_partitions(atoms: Sequence[int], joinable: np.ndarray) -> list[tuple[tuple[int, ...], ...]]:
    """All partitions of ``atoms`` into cliques of ``joinable`` (a symmetric boolean matrix indexed
    by the atoms) with no two blocks whose union is a clique (point 4 of the module docstring)."""
    atoms = list(atoms)
    out: list[tuple[tuple[int, ...], ...]] = []

    def cliques_with(first: int, rest: list[int]):
        candidates = [a for a in rest if joinable[first, a]]
        for size in range(len(candidates) + 1):
            for extra in itertools.combinations(candidates, size):
                if all(joinable[a, b] for a, b in itertools.combinations(extra, 2)):
                    yield (first,) + extra

    def extend(remaining: list[int], blocks: list[tuple[int, ...]]):
        if not remaining:
            for g, h in itertools.combinations(blocks, 2):
                if all(joinable[a, b] for a in g for b in h):
                    return
            out.append(tuple(blocks))
            return
        first, rest = remaining[0], remaining[1:]
        for clique in cliques_with(first, rest):
            extend([a for a in rest if a not in clique], blocks + [clique])

    extend(atoms, [])
    return out


# ====================================================================== the catalogue
@dataclass(frozen=True)
class LpVertex:
    """One interpolating network of the finite reformulation, in exact rationals.

    neurons : (s, u) per neuron: s = +-1 the output sign, u = |v| (w, b) exact (the path weights
        are s * u[:d]); the float network has v = s, (w, b) = u.
    affine : the free affine part, exact: (a_1..a_d, c) with the skip term, (c,) with an output
        bias, () otherwise.
    magnitudes : the nonzero |u_j| over neurons and penalised coordinates j in J, sorted (exact);
        F_p = sum of magnitudes^p.
    network : the float64 network; ``recheck(network, dataset)`` interpolates (checked).
    n_neurons, n_parameters : its neuron count and its number of nonzero penalised weights.
    atom_groups : per neuron (s, ((rho, lambda), ...)): the atoms it is made of, u = sum lambda rho.
    penalised : J, the penalised coordinates of u.
    """

    neurons: tuple[tuple[int, tuple[Fraction, ...]], ...]
    affine: tuple[Fraction, ...]
    magnitudes: tuple[Fraction, ...]
    network: Network = field(repr=False)
    n_neurons: int = 0
    n_parameters: int = 0
    atom_groups: tuple = field(default=(), repr=False)
    penalised: tuple[int, ...] = ()

    def cost(self, p: float) -> float:
        """F_p = sum over penalised weights of |u_j|^p, from the exact magnitudes."""
        return math.fsum(float(m) ** p for m in self.magnitudes)

    def knots(self) -> list[tuple[Fraction, Fraction]]:
        """1-D only: (knot t = -b/w, slope change s w) per neuron, sorted by t (exact)."""
        if self.network.dim != 1:
            raise SparsestError("knots are defined for 1-D networks only")
        return sorted((-u[1] / u[0], s * u[0]) for s, u in self.neurons)

    def key(self) -> tuple:
        """Identity of the network: neurons (s, u) as a sorted tuple, and the affine part."""
        return (tuple(sorted(self.neurons)), self.affine)

    def to_json(self) -> dict:
        """Neurons and affine part as exact rational strings, counts, and the float network."""
        return {
            "neurons": [{"s": s, "u": [str(v) for v in u]} for s, u in self.neurons],
            "affine": [str(v) for v in self.affine],
            "n_neurons": self.n_neurons,
            "n_parameters": self.n_parameters,
            "network": self.network.to_json(),
        }


@dataclass(frozen=True)
class VertexCatalogue:
    """Every candidate (vertex T, maximal partition into neurons) of the finite reformulation.

    Built once per instance (:func:`vertex_catalogue`); ``costs(p)`` evaluates F_p on all of them
    at once, so sweeps over p are cheap. ``magnitudes`` is (E, L) float64, zero-padded, holding the
    penalised |u_j| of every neuron of every candidate; ``neurons`` / ``parameters`` their counts.
    """

    dataset: Dataset
    count_bias: bool
    system: _System = field(repr=False)
    vertices: _Vertices = field(repr=False)
    candidate_vertex: np.ndarray = field(repr=False)
    candidate_partition: np.ndarray = field(repr=False)
    partitions: tuple = field(repr=False)
    magnitudes: np.ndarray = field(repr=False)
    neurons: np.ndarray = field(repr=False)
    parameters: np.ndarray = field(repr=False)

    @property
    def n_candidates(self) -> int:
        return int(len(self.candidate_vertex))

    def costs(self, p: float) -> np.ndarray:
        """F_p of every candidate (float64)."""
        _check_p(p)
        mags = self.magnitudes
        powered = np.where(mags > 0, np.abs(mags) ** p, 0.0)
        return powered.sum(axis=1)

    def exact(self, candidate: int) -> LpVertex:
        """Re-derive candidate ``candidate`` in exact rationals and verify it (docs/math.md §6)."""
        vertex = int(self.candidate_vertex[candidate])
        basis = self.vertices.bases[vertex]
        groups = [[int(basis[t]) for t in group] for group in self.partitions[int(self.candidate_partition[candidate])]]
        return _exact_vertex(self, vertex, groups)


def check_small(dataset: Dataset, what: str) -> None:
    """Refuse, in one line, anything but a Dataset of at most MAX_POINTS points (``what`` names the
    caller's job in the message)."""
    if not isinstance(dataset, Dataset):
        raise SparsestError(f"expected a Dataset, got {type(dataset).__name__}")
    if dataset.n_points > MAX_POINTS:
        raise SparsestError(f"{dataset.name}: {what} for small instances (N <= {MAX_POINTS}); "
                            f"this one has N={dataset.n_points}")


def vertex_catalogue(dataset: Dataset, *, count_bias: bool = False,
                     max_determinants: int = MAX_DETERMINANTS) -> VertexCatalogue:
    """All candidates of the exact l^p search on ``dataset`` (module docstring, points 2-4).

    The global minimum of F_p for every 0 < p <= 1 is the smallest ``costs(p)`` entry. Raises
    SparsestError for too large instances (N > MAX_POINTS, or more than ``max_determinants``
    determinants, or more than MAX_CANDIDATES candidates) and for data no network fits.
    """
    check_small(dataset, "the exact l^p search is")
    system = _build_system(dataset, bool(count_bias))
    vertices = _vertices(system, int(max_determinants))
    bases = vertices.bases
    n_vert, k = bases.shape
    coef = np.take_along_axis(vertices.coefficients, bases, axis=1)  # (V, k): c at basis positions
    present = coef != 0
    joinable_atoms = _consistent(system)
    # code = support bits + bits of the joinable pairs of positions (same sign, consistent atoms)
    code = (present * (1 << np.arange(k))).sum(axis=1).astype(np.int64)
    position_pairs = list(itertools.combinations(range(k), 2))
    for bit, (a, b) in enumerate(position_pairs):
        ok = (joinable_atoms[bases[:, a], bases[:, b]] & present[:, a] & present[:, b]
              & (np.sign(coef[:, a]) == np.sign(coef[:, b])))
        code |= ok.astype(np.int64) << (k + bit)
    abs_rays = np.abs(np.array(system.rays, dtype=np.float64)).reshape(system.n_atoms, dataset.dim + 1)
    abs_rays = abs_rays[:, list(system.penalised)]
    weights = np.abs(coef)[:, :, None] * abs_rays[bases]  # (V, k, |J|): |c_r| |rho_rj|
    n_pen = len(system.penalised)
    partitions: list[tuple[tuple[int, ...], ...]] = []
    cand_vertex, cand_partition, mags_blocks = [], [], []
    codes, inverse = np.unique(code, return_inverse=True)
    inverse = inverse.reshape(-1)
    total = 0
    for c_index, value in enumerate(codes.tolist()):
        members = np.flatnonzero(inverse == c_index)
        positions = [t for t in range(k) if value >> t & 1]
        joinable = np.zeros((k, k), dtype=bool)
        for bit, (a, b) in enumerate(position_pairs):
            if value >> (k + bit) & 1:
                joinable[a, b] = joinable[b, a] = True
        for groups in _maximal_partitions(positions, joinable):
            partitions.append(groups)
            block = np.zeros((len(members), k * n_pen))
            for g_index, group in enumerate(groups):
                block[:, g_index * n_pen:(g_index + 1) * n_pen] = weights[members][:, list(group)].sum(axis=1)
            cand_vertex.append(members)
            cand_partition.append(np.full(len(members), len(partitions) - 1))
            mags_blocks.append(block)
            total += len(members)
        if total > MAX_CANDIDATES:
            raise SparsestError(f"{dataset.name}: more than {MAX_CANDIDATES:,} candidates; use a smaller instance")
    magnitudes = np.concatenate(mags_blocks) if mags_blocks else np.zeros((0, max(1, k * n_pen)))
    if magnitudes.shape[1] == 0:
        magnitudes = np.zeros((len(magnitudes), 1))
    cand_vertex_arr = np.concatenate(cand_vertex) if cand_vertex else np.zeros(0, dtype=np.int64)
    cand_partition_arr = np.concatenate(cand_partition) if cand_partition else np.zeros(0, dtype=np.int64)
    order = np.lexsort((cand_partition_arr, cand_vertex_arr))  # a fixed order: by vertex, then partition
    neurons = np.array([len(partitions[i]) for i in cand_partition_arr[order]], dtype=np.int64)
    return VertexCatalogue(dataset, bool(count_bias), system, vertices, cand_vertex_arr[order],
                           cand_partition_arr[order], tuple(partitions), magnitudes[order], neurons,
                           (magnitudes[order] > 0).sum(axis=1))


def _exact_vertex(catalogue: VertexCatalogue, vertex: int, groups: Sequence[Sequence[int]]) -> LpVertex:
    system, ds = catalogue.system, catalogue.dataset
    n_aff = system.n_affine
    basis = [int(a) for a in catalogue.vertices.bases[vertex]]
    cols = list(range(n_aff)) + [n_aff + a for a in basis]
    square = [[Fraction(row[c]) for c in cols] for row in system.matrix]
    rhs = [Fraction(row[-1]) for row in system.matrix]
    solution = solve(square, rhs) if square else []
    g_exact, c_basis = solution[:n_aff], dict(zip(basis, solution[n_aff:]))
    support = {a for a, c in c_basis.items() if c != 0}
    if support != set(np.flatnonzero(catalogue.vertices.support[vertex]).tolist()):
        raise AssertionError("exact re-derivation of a vertex disagrees with its float support")
    atom_groups = tuple(
        (_sign(c_basis[group[0]]), tuple((system.rays[a], abs(c_basis[a])) for a in group)) for group in groups)
    return _make_vertex(ds, system.penalised, atom_groups, _affine_vector(ds, system.affine_columns, g_exact))


def _make_vertex(ds: Dataset, penalised: Sequence[int], atom_groups, affine) -> LpVertex:
    """The exact network with one neuron per group (s, ((rho, lambda), ...)): u = sum lambda rho;
    checked to interpolate exactly (rationals) and in float64 (docs/math.md §6)."""
    d = ds.dim
    neurons = tuple((s, tuple(sum((lam * rho[j] for rho, lam in atoms), Fraction(0)) for j in range(d + 1)))
                    for s, atoms in atom_groups)
    _verify_exact(ds, neurons, affine)
    magnitudes = tuple(sorted(abs(u[j]) for _, u in neurons for j in penalised if u[j] != 0))
    a = c = None
    if ds.skip:
        a, c = np.array([float(t) for t in affine[:d]]), float(affine[d])
    elif ds.output_bias:
        c = float(affine[0])
    network = Network(
        np.array([float(s) for s, _ in neurons]),
        np.array([[float(t) for t in u[:d]] for _, u in neurons]).reshape(len(neurons), d),
        np.array([float(u[d]) for _, u in neurons]), a, c)
    check = recheck(network, ds)
    if not check.interpolates:
        raise SparsestError(
            f"{ds.name}: an exact l^p minimiser misses the data by {check.max_abs_residual:.3g} once rounded "
            "to float64 (badly scaled data?)"
        )
    return LpVertex(neurons, tuple(affine), magnitudes, network, n_neurons=len(neurons),
                    n_parameters=len(magnitudes), atom_groups=tuple(atom_groups), penalised=tuple(penalised))


def _affine_vector(ds: Dataset, kept: Sequence[int], values: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """The full affine vector ((a, c), (c,) or ()) from the values of the kept independent columns."""
    size = ds.dim + 1 if ds.skip else (1 if ds.output_bias else 0)
    full = [Fraction(0)] * size
    for col, value in zip(kept, values):
        full[col] = value
    return tuple(full)


def _verify_exact(ds: Dataset, neurons, affine) -> None:
    """Every data point is interpolated exactly, in rationals (docs/math.md §6)."""
    for x, y in zip(ds.X_exact, ds.y_exact):
        xt = tuple(x) + (Fraction(1),)
        total = Fraction(0)
        if ds.skip:
            total += sum((ai * xi for ai, xi in zip(affine, xt)), Fraction(0))
        elif ds.output_bias:
            total += affine[0]
        for s, u in neurons:
            total += s * max(Fraction(0), sum((ui * xi for ui, xi in zip(u, xt)), Fraction(0)))
        if total != y:
            raise AssertionError("an exact l^p vertex does not interpolate the data exactly")


# ====================================================================== minimisation at one p
@dataclass(frozen=True)
class LpMinResult:
    """The global minimum of F_p over all interpolating networks (exact search, module docstring).

    p : the exponent, 0 < p <= 1.
    value : min F_p, from the exact magnitudes of a minimiser (float64 sum of powers).
    minimizers : every distinct minimising network found (vertex candidates and their equal-cost
        refinements), first the one with fewest neurons; at most MAX_LISTED_TIES of them. Networks
        are compared in reduced form: parallel neurons (same sign, proportional u) count as one;
        splitting a neuron into parallel copies gives the same function and raises the cost, except
        at p = 1 or for a neuron without penalised weight (a constant), where it ties.
    unique : exactly one minimising network in reduced form (ties decided at ``tie_rtol``).
    ties_truncated : more tied minimisers exist than are listed.
    network, neurons, parameters : of ``minimizers[0]``.
    setting : the problem in words (affine part, what is penalised, box).
    box, touches_box : the box R (None: no box) and whether a minimiser reaches |u_j| = R.
    n_candidates : how many (vertex, partition) candidates were compared.
    tie_rtol : relative tolerance under which two costs are a tie.
    """

    p: float
    value: float
    minimizers: tuple[LpVertex, ...]
    unique: bool
    ties_truncated: bool
    network: Network
    neurons: int
    parameters: int
    setting: str
    box: float | None
    touches_box: bool
    n_candidates: int
    tie_rtol: float

    def to_json(self) -> dict:
        return {
            "p": self.p, "value": self.value, "neurons": self.neurons, "parameters": self.parameters,
            "unique": self.unique, "ties_truncated": self.ties_truncated, "setting": self.setting,
            "box": self.box, "touches_box": self.touches_box, "n_candidates": self.n_candidates,
            "tie_rtol": self.tie_rtol, "minimizers": [m.to_json() for m in self.minimizers],
        }


def _check_p(p: float) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not (0 < float(p) <= 1):
        raise SparsestError(f"p must be a number with 0 < p <= 1, got {p!r}")


def describe_setting(dataset: Dataset, count_bias: bool, box: float | None) -> str:
    """The problem of the search in words: affine part, penalised coordinates, box."""
    affine = "affine skip term a.x + c (free)" if dataset.skip else (
        "output bias c (free)" if dataset.output_bias else "no skip term, no output bias")
    pen = "path weights |v w_j|^p and biases |v b|^p" if count_bias else "path weights |v w_j|^p (biases free)"
    boxed = f", box |v w_j| <= {box:g}" if box is not None else ", no box"
    return f"d={dataset.dim}, {affine}, penalised: {pen}{boxed}"


def minimize_lp(dataset: Dataset, p: float, *, box: float | None = None, count_bias: bool = False,
                tie_rtol: float = 1e-9, catalogue: VertexCatalogue | None = None) -> LpMinResult:
    """The exact global minimiser(s) of F_p = sum_k sum_{j in J} |v_k u_kj|^p over all networks
    that interpolate ``dataset`` (0 < p <= 1; module docstring), with every tie.

    Pass a ``catalogue`` from :func:`vertex_catalogue` to reuse it across several p. With ``box``,
    only minimisers inside the box are kept; :class:`BoxBindsError` when none is (the boxed minimum
    is then on the box and not computed here).
    """
    _check_p(p)
    p = float(p)
    check_box(box)
    if not (0 <= tie_rtol < 1e-3):
        raise SparsestError(f"tie_rtol must be in [0, 1e-3), got {tie_rtol!r}")
    if catalogue is None:
        catalogue = vertex_catalogue(dataset, count_bias=count_bias)
    elif catalogue.dataset is not dataset or catalogue.count_bias != bool(count_bias):
        raise SparsestError("the catalogue was built for another dataset or another count_bias")
    minimizers = exact_minimizers(catalogue, p, tie_rtol=tie_rtol)
    if box is not None:
        inside = [m for m in minimizers if _in_box(dataset, m, box)]
        if not inside:
            largest = max(float(abs(u[j])) for m in minimizers for _, u in m.neurons for j in range(dataset.dim))
            raise BoxBindsError(
                f"{dataset.name}: the l^p minimiser needs path weights up to {largest:.6g} > R={box:g}; "
                f"the minimum with this box lies on the box and is not computed here; use R >= {largest:.6g}"
            )
        minimizers = inside
    listed = _distinct(sorted(minimizers, key=lambda m: (m.n_neurons, m.n_parameters)))
    best = listed[0]
    touches = box is not None and any(
        abs(u[j]) == Fraction(box) for m in listed for _, u in m.neurons for j in range(dataset.dim))
    return LpMinResult(
        p=p, value=best.cost(p), minimizers=tuple(listed[:MAX_LISTED_TIES]), unique=len(listed) == 1,
        ties_truncated=len(listed) > MAX_LISTED_TIES, network=best.network, neurons=best.n_neurons,
        parameters=best.n_parameters, setting=describe_setting(dataset, count_bias, box), box=box,
        touches_box=bool(touches), n_candidates=catalogue.n_candidates, tie_rtol=tie_rtol,
    )


def exact_minimizers(catalogue: VertexCatalogue, p: float, *, tie_rtol: float = 1e-9) -> list[LpVertex]:
    """Every minimising network of F_p: the exact re-derivation of the candidates within the float
    window of the minimum, those within ``tie_rtol`` of the exact minimum, and their equal-cost
    refinements (module docstring, point 4). Distinct networks, in no particular order."""
    costs = catalogue.costs(p)
    floor = float(costs.min())
    window = np.flatnonzero(costs <= floor * (1 + _CANDIDATE_WINDOW) + 1e-300)
    exact = [catalogue.exact(int(e)) for e in window]
    exact_costs = [m.cost(p) for m in exact]
    best = min(exact_costs)
    found = [m for m, c in zip(exact, exact_costs) if c <= best * (1 + tie_rtol)]
    more = []
    for m in found:
        more.extend(_equal_cost_refinements(catalogue.dataset, m, p))
    return _distinct(found + more)


def _distinct(vertices: list[LpVertex]) -> list[LpVertex]:
    seen, out = set(), []
    for v in vertices:
        key = v.key()
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _equal_cost_refinements(ds: Dataset, vertex: LpVertex, p: float) -> list[LpVertex]:
    """Networks obtained by splitting neurons of ``vertex`` into parts of the same total cost.

    A neuron u = sum lambda_r rho_r may be split into neurons on a partition of its atoms; the data
    outputs are unchanged (the atoms share a closed cell). At p < 1 the cost is unchanged iff no
    penalised coordinate is nonzero in two parts; at p = 1 always.
    """
    if all(len(atoms) == 1 for _, atoms in vertex.atom_groups):
        return []
    options = []
    for sign, atoms in vertex.atom_groups:
        splits = []
        for partition in _set_partitions(list(range(len(atoms)))):
            parts = [tuple(atoms[i] for i in part) for part in partition]
            if p < 1:
                support = [{j for j in vertex.penalised if sum(lam * rho[j] for rho, lam in part) != 0}
                           for part in parts]
                if any(support[a] & support[b] for a, b in itertools.combinations(range(len(parts)), 2)):
                    continue
            splits.append([(sign, part) for part in parts])
        options.append(splits)
    out = []
    for choice in itertools.product(*options):
        groups = tuple(g for parts in choice for g in parts)
        if len(groups) == len(vertex.atom_groups):
            continue
        out.append(_make_vertex(ds, vertex.penalised, groups, vertex.affine))
        if len(out) > MAX_LISTED_TIES:
            break
    return out


def _set_partitions(items: list[int]):
    """Every partition of ``items`` into nonempty blocks (lists of tuples)."""
    if len(items) <= 1:
        yield [tuple(items)]
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        yield [(first,)] + partition
        for i in range(len(partition)):
            yield partition[:i] + [(first,) + partition[i]] + partition[i + 1:]


def _in_box(ds: Dataset, vertex: LpVertex, box: float) -> bool:
    """|u_j| <= R on the path weights and, for a neuron active on every point, the dictionary's
    bias bound b <= R (1 + max_i ||x_i||_1) (docs/math.md §3)."""
    R = Fraction(box)
    l1 = max(sum(abs(v) for v in x) for x in ds.X_exact)
    for _, u in vertex.neurons:
        if any(abs(u[j]) > R for j in range(ds.dim)):
            return False
        every = all(sum((ui * xi for ui, xi in zip(u, tuple(x) + (Fraction(1),))), Fraction(0)) > 0 for x in ds.X_exact)
        if every and u[ds.dim] > R * (1 + l1):
            return False
    return True
