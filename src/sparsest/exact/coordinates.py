"""Small parameter counts through coordinate-sparse neurons (docs/math.md §3.7).

For the parameter objective without counted biases, a network with k nonzero path weights has
active neurons j with input supports S_j = {l : w_jl != 0}, sum_j |S_j| <= k, plus constant
neurons (w = 0), which cost nothing. Neuron j acts on the data only through its activation set
A_j = {i : w_j . x_i + b_j > 0}, and since w_j vanishes off S_j, A_j is a cell of the arrangement
of the points *projected on S_j*: a set of the |S_j|-dimensional arrangement, not of the
d-dimensional one. When d is large next to N (the paper's N = 10, d = 50: every one of the 2^N
subsets is a cell in R^50) the support search over all cells meets millions of tuples at k = 2,
while the projected arrangements have 2N + 2 sets for |S| = 1 and O(N^2) for |S| = 2.

A size k is ruled out here when, for every multiset of neurons (S_j, A_j) with sum |S_j| = k:

* the span test of :mod:`sparsest.exact.exhaustive` fails: y is farther than SPAN_RTOL max(1,
  max|y|) from the span of the columns D_{A_j} X~[:, S_j + bias] (with the free constant and
  affine columns), computed by SVD at numerical rank RANK_RTOL; or
* the support LP (:meth:`BlockDictionary.fit_support` with the coordinate mask S_j + bias, every
  sign choice) is explicitly infeasible.

A size with an LP that HiGHS does not decide is not ruled out, and the search stops there. Sizes
are searched from 0 up while their number of supports stays below a limit, so the bound is that of
consecutive sizes: the result's ``lower_bound`` is the first size not ruled out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations, product
from math import comb

import numpy as np

from sparsest.core.network import Network
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.highs import OutOfTime
from sparsest.exact.patterns import arrangement_cells

__all__ = ["CoordinateSearch", "coordinate_search"]

#: A size is searched only when its supports (neuron multisets) number at most this many.
MAX_SUPPORTS = 3_000_000
#: Coordinate sets of one size whose arrangements are enumerated to count a size's supports, at most.
MAX_COORDINATE_SETS = 5000
#: Candidates of the last neuron whose span tests run as one stacked SVD.
_BATCH = 4096


@dataclass(frozen=True)
class CoordinateSearch:
    """lower_bound : every size below it was ruled out (span test or an infeasible LP); network :
    an interpolant of size lower_bound met by the search (re-check it), or None; supports,
    span_pruned, lps : work done; stopped : why the search ended ("feasible", "undecided", "too
    many supports", "upper bound reached", "time limit")."""

    lower_bound: int
    network: Network | None
    supports: int
    span_pruned: int
    lps: int
    seconds: float
    stopped: str


def coordinate_search(dictionary: BlockDictionary, *, box: float | None, upper: int | None,
                      deadline: float, max_supports: int = MAX_SUPPORTS) -> CoordinateSearch:
    """Rule out parameter counts k = 0, 1, 2, ... (biases not counted) by coordinate-sparse
    neurons, as long as a size has at most ``max_supports`` supports, stopping below ``upper`` (a
    known feasible count). See the module docstring; raises nothing on the deadline (the sizes
    completed stand)."""
    from sparsest.exact.exhaustive import RANK_RTOL, SPAN_RTOL

    started = time.monotonic()
    search = _Levels(dictionary, box, SPAN_RTOL * max(1.0, float(np.max(np.abs(dictionary.dataset.y)))), RANK_RTOL)
    k, network, stopped = 0, None, "upper bound reached"
    try:
        while upper is None or k < upper:
            if search.count(k, deadline) > max_supports:
                stopped = "too many supports"
                break
            outcome = search.level(k, deadline)
            if outcome == "infeasible":
                k += 1
                continue
            stopped = "undecided" if outcome == "undecided" else "feasible"
            network = search.network
            break
    except OutOfTime:
        stopped = "time limit"
    return CoordinateSearch(k, network, search.supports, search.span_pruned, search.lps,
                            time.monotonic() - started, stopped)


def _partitions(total: int, most: int | None = None):
    """The partitions of ``total`` into positive parts, each as a non-increasing tuple."""
    most = total if most is None else most
    if total == 0:
        yield ()
        return
    for part in range(min(total, most), 0, -1):
        for rest in _partitions(total - part, part):
            yield (part,) + rest


class _Levels:
    """The supports of each size, their span tests and LPs, over one dictionary."""

    def __init__(self, dictionary: BlockDictionary, box, threshold: float, rank_rtol: float):
        data = dictionary.dataset
        self.dictionary, self.box, self.threshold, self.rank_rtol = dictionary, box, threshold, rank_rtol
        self.d, self.n, self.y = data.dim, data.n_points, data.y
        self.X_tilde = data.X_tilde
        self.anchor = dictionary._anchor
        everything = np.ones(self.n, dtype=bool)
        constant = dictionary._pattern_index.get(everything.tobytes())
        # the free constant neuron (both signs, bias only), as exhaustive.py offers it
        self.constant_blocks = [] if constant is None else [dictionary.block_of(constant, 1), dictionary.block_of(constant, -1)]
        free = [dictionary.affine_design()] + ([np.ones((self.n, 1))] if constant is not None else [])
        self.free = np.hstack(free)
        self.cells: dict[tuple[int, ...], np.ndarray] = {}
        self.supports = self.span_pruned = self.lps = 0
        self.network: Network | None = None

    # ------------------------------------------------------------------ the neurons of one support size
    def _cells_on(self, S: tuple[int, ...]) -> np.ndarray:
        """The useful activation sets of neurons whose weights live on S (the projected arrangement)."""
        if S not in self.cells:
            cells = arrangement_cells(self.X_tilde[:, list(S) + [self.d]])
            cells = cells[cells.any(axis=1)]
            if self.anchor is not None:  # with the skip term a set and its complement differ by an affine map
                cells = cells[~cells[:, self.anchor]]
            self.cells[S] = np.unique(cells, axis=0)
        return self.cells[S]

    def _neurons(self, size: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
        """Every (S, A) with |S| = size: coordinate set and activation set."""
        return [(S, A) for S in combinations(range(self.d), size) for A in self._cells_on(S)]

    def count(self, k: int, deadline: float) -> int:
        """The number of supports of size k (multisets of neurons), from the projected cell counts
        (estimated by 2^N cells per coordinate set beyond MAX_COORDINATE_SETS sets of one size)."""
        total = 0
        for parts in _partitions(k):
            product_ = 1
            for size in set(parts):
                if comb(self.d, size) > MAX_COORDINATE_SETS:
                    per = comb(self.d, size) * 2 ** self.n
                else:
                    per = 0
                    for S in combinations(range(self.d), size):
                        if time.monotonic() > deadline:
                            raise OutOfTime
                        per += len(self._cells_on(S))
                product_ *= comb(per + parts.count(size) - 1, parts.count(size))
            total += product_
        return total

    def _columns(self, S: tuple[int, ...], A: np.ndarray) -> np.ndarray:
        """D_A X~[:, S + bias]: the neuron's outputs on the data as a linear map of (w_S, b)."""
        return A[:, None] * self.X_tilde[:, list(S) + [self.d]]

    # ------------------------------------------------------------------ one size
    def level(self, k: int, deadline: float) -> str:
        """"infeasible" (every support of size k ruled out), "feasible" (``self.network`` set) or
        "undecided" (an LP HiGHS did not decide). Supports are met once each: neurons of equal
        |S| in non-decreasing order of their index; the span test runs batched over the last neuron."""
        if k == 0:
            return self._decide([]) if self.free.shape[1] else self._empty()
        undecided = False
        for parts in _partitions(k):
            neurons = {size: self._neurons(size) for size in set(parts)}
            if not all(neurons.values()):
                continue  # no neuron uses that many coordinates: no support of this shape
            columns = {size: np.stack([self._columns(S, A) for S, A in neurons[size]]) for size in set(parts)}
            for prefix in self._prefixes(parts[:-1], neurons):
                if time.monotonic() > deadline:
                    raise OutOfTime
                size = parts[-1]
                first = prefix[-1][1] if prefix and prefix[-1][0] == size else 0
                fixed = np.hstack([self.free] + [columns[s][i] for s, i in prefix])
                for start in range(first, len(neurons[size]), _BATCH):
                    stop = min(start + _BATCH, len(neurons[size]))
                    near = self._near(fixed, columns[size][start:stop])
                    self.supports += stop - start
                    self.span_pruned += int((~near).sum())
                    for j in np.flatnonzero(near):
                        support = [neurons[s][i] for s, i in prefix] + [neurons[size][start + j]]
                        outcome = self._lps(support)
                        if outcome == "feasible":
                            return "feasible"
                        undecided |= outcome == "undecided"
        return "undecided" if undecided else "infeasible"

    def _prefixes(self, sizes: tuple[int, ...], neurons, at: int = 0, chosen: tuple = ()):
        """Every choice (size, index) for the neurons of these sizes, indices non-decreasing
        within a size (a multiset is met once)."""
        if at == len(sizes):
            yield chosen
            return
        size = sizes[at]
        first = chosen[-1][1] if chosen and chosen[-1][0] == size else 0
        for i in range(first, len(neurons[size])):
            yield from self._prefixes(sizes, neurons, at + 1, chosen + ((size, i),))

    def _empty(self) -> str:
        self.supports += 1
        return "feasible" if np.all(np.abs(self.y) <= 1e-10) else "infeasible"

    def _near(self, fixed: np.ndarray, last: np.ndarray) -> np.ndarray:
        """For each candidate (B, N, c) of the last neuron: could y lie within the threshold of the
        span of [fixed, candidate]? Householder QR of ``fixed``, then of each candidate projected
        off it, every direction kept: the spanned space contains the true span (a dependent column
        only adds a direction), so the distance computed is at most the true one and pruning on
        it is safe."""
        Q = np.linalg.qr(fixed)[0] if fixed.shape[1] else np.zeros((self.n, 0))
        r = self.y - Q @ (Q.T @ self.y)
        projected = last - np.einsum("nq,bqc->bnc", Q, np.einsum("nq,bnc->bqc", Q, last))
        Q2 = np.linalg.qr(projected)[0]
        residual = r[None, :] - np.einsum("bnc,bc->bn", Q2, np.einsum("bnc,n->bc", Q2, r))
        return np.linalg.norm(residual, axis=1) <= self.threshold

    def _decide(self, support) -> str:
        """Span test, then the support LP over every sign choice."""
        self.supports += 1
        columns = np.hstack([self.free] + [self._columns(S, A) for S, A in support])
        if self._distance(columns) > self.threshold:
            self.span_pruned += 1
            return "infeasible"
        return self._lps(support)

    def _lps(self, support) -> str:
        """The support LP over every sign choice: "feasible" (network kept), "infeasible" or "undecided"."""
        undecided = False
        index = self.dictionary._pattern_index
        for signs in product((1, -1), repeat=len(support)):
            blocks, rows = [], []
            for (S, A), sign in zip(support, signs):
                pattern = index.get(A.tobytes())
                if pattern is None:  # a projected cell the dictionary lacks: cannot decide here
                    return "undecided"
                blocks.append(self.dictionary.block_of(pattern, sign))
                mask = np.zeros(self.d + 1, dtype=bool)
                mask[list(S) + [self.d]] = True
                rows.append(mask)
            for b in self.constant_blocks:
                blocks.append(b)
                mask = np.zeros(self.d + 1, dtype=bool)
                mask[self.d] = True
                rows.append(mask)
            self.lps += 1
            fit = self.dictionary.fit_support(blocks, box=self.box, coordinates=np.array(rows))
            if fit.status == "optimal":
                self.network = fit.network
                return "feasible"
            undecided |= fit.status != "infeasible"
        return "undecided" if undecided else "infeasible"

    def _distance(self, columns: np.ndarray) -> float:
        """dist(y, span(columns)) in the 2-norm, at numerical rank rank_rtol."""
        if columns.shape[1] == 0:
            return float(np.linalg.norm(self.y))
        U, S, _ = np.linalg.svd(columns, full_matrices=False)
        U = U[:, S > self.rank_rtol * max(float(S[0]), 1e-300)]
        r = self.y - U @ (U.T @ self.y)
        return float(np.linalg.norm(r))
