"""Kinks the data forces: every non-affine group of d+2 points must be split by a chosen set.

On a group T of points, a block (A, s) acts as s X~_T u when T is inside A and as 0 when T is
outside A (docs/math.md §3: D_A X~ u). So if no chosen activation set splits T (meets T without
containing it), every interpolant on those sets is affine on T, plus the affine skip term or output
bias: y restricted to T must be affine. For d+2 points in general position that is one linear
condition, n_T . y_T = 0 with n_T the unit left null vector of X~_T. Contrapositive:

    if |n_T . y_T| > SPAN_RTOL * max(1, max|y|), some chosen set A has 0 < |A cap T| < d+2.

This is exact (no M, no box) and holds for every sign and coordinate choice, so it prunes supports
of both objectives before any LP; the threshold is the span test's (see
:mod:`sparsest.exact.exhaustive`): an LP-feasible support at tolerance 1e-10 has |n_T . y_T| far
below it. Groups whose X~_T is rank deficient (affinely dependent points) are not used.

With all such groups the condition says: in the arrangement of the chosen hyperplanes, y is affine
on the points of every cell. :class:`SplitConstraints` enumerates exactly the m-sets of patterns
that split every group (a hitting-set search, branching on the splitters of the tightest unsplit
group, each set met once), which is far fewer than all C(P, m) tuples.
"""

from __future__ import annotations

import time
from itertools import combinations
from math import comb
from typing import Iterator

import numpy as np

from sparsest.exact.highs import OutOfTime

#: Groups are all C(N, d+2) subsets up to this many; beyond it, the groups of each point with
#: its nearest neighbours (a subset of valid constraints is still valid).
MAX_GROUPS = 60_000
#: The branching row is the tightest of this many unsplit rows (fewest allowed splitters).
_LOOKAHEAD = 8
#: A group is affine when its smallest singular value is below this fraction of its largest.
_RANK_RTOL = 1e-9


def _groups(X: np.ndarray, size: int) -> np.ndarray:
    """Index groups (G, size): all subsets, or neighbourhood subsets when there are too many."""
    n = len(X)
    if comb(n, size) <= MAX_GROUPS:
        return np.array(list(combinations(range(n), size)), dtype=np.intp).reshape(-1, size)
    distances = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=2)
    groups: set[tuple[int, ...]] = set()
    neighbours = size + 3
    while True:
        for i in range(n):
            near = np.argsort(distances[i], kind="stable")[1:neighbours + 1]
            groups.update(tuple(sorted((i,) + rest)) for rest in combinations(near.tolist(), size - 1))
        if len(groups) >= MAX_GROUPS // 2 or neighbours >= n - 1:
            break
        neighbours += 1
    return np.array(sorted(groups), dtype=np.intp).reshape(-1, size)


class SplitConstraints:
    """The groups T that must be split, and the enumeration of pattern sets that split them all.

    ``patterns`` (P, N) booleans; ``X_tilde`` (N, d+1); ``y`` (N,); ``threshold`` the span test's
    distance. ``extra`` (optional, (E, P) booleans): more hitting rows (e.g. covering: some set
    must contain point i).
    """

    def __init__(self, patterns: np.ndarray, X_tilde: np.ndarray, y: np.ndarray, threshold: float,
                 extra: np.ndarray | None = None):
        self.n_patterns = len(patterns)
        n, width = X_tilde.shape
        rows = []
        if n >= width + 1:
            groups = _groups(X_tilde[:, :-1], width + 1)
            U, singular, _ = np.linalg.svd(X_tilde[groups], full_matrices=True)      # (G, d+2, d+2)
            general = singular[:, -1] > _RANK_RTOL * singular[:, 0]
            normal = U[:, :, -1]
            offaffine = np.abs(np.einsum("gk,gk->g", normal, y[groups])) > threshold
            groups = groups[general & offaffine]
            inside = patterns.astype(np.int16)
            for start in range(0, len(groups), 512):
                counts = inside[:, groups[start:start + 512]].sum(axis=2)            # (P, g)
                rows.append(((counts > 0) & (counts < width + 1)).T)
        if extra is not None and len(extra):
            rows.append(np.asarray(extra, dtype=bool))
        splitters = np.concatenate(rows) if rows else np.zeros((0, self.n_patterns), dtype=bool)
        # tightest rows (fewest splitters) first: the search branches on them
        order = np.argsort(splitters.sum(axis=1), kind="stable")
        splitters = splitters[order]
        self.n_rows = len(splitters)
        self._all = (1 << self.n_rows) - 1
        self._everything = (1 << self.n_patterns) - 1

        def bits(matrix):
            return [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in matrix]

        self._splitters = bits(splitters)                                  # per row: patterns
        self._hits = bits(splitters.T) if self.n_rows else [0] * self.n_patterns  # per pattern: rows

    def sets(self, m: int, deadline: float) -> Iterator[tuple[int, ...]]:
        """Every increasing m-tuple of distinct pattern indices that splits every row, once each
        (the tuples of :meth:`groups`, spelt out)."""
        if m == 0:
            if self.n_rows == 0:
                yield ()
            return
        for prefix, last in self.groups(m, deadline):
            for p in last:
                yield tuple(sorted(prefix + (p,)))

    def root_branches(self, m: int) -> int:
        """How many branches the search of :meth:`groups` starts with (0: it does not branch at
        its root, e.g. m = 1); ``branches=`` slices of range(root_branches) split it for workers."""
        if m < 2 or m > self.n_patterns or self.n_rows == 0:
            return 0
        return len(_members(self._root_options()))

    def _root_options(self) -> int:
        best, rest = None, self._all
        for _ in range(_LOOKAHEAD):
            if not rest:
                break
            low = rest & -rest
            options = self._splitters[low.bit_length() - 1] & self._everything
            if best is None or options.bit_count() < best.bit_count():
                best = options
            rest ^= low
        return best

    def groups(self, m: int, deadline: float,
               branches: tuple[int, int] | None = None) -> Iterator[tuple[tuple[int, ...], list[int]]]:
        """(prefix of m-1 patterns, candidates for the last): prefix + (c,) for c in the candidates
        are every m-set of distinct patterns (m >= 1) that splits every row, each met once.

        Branching: an unsplit row (the one with the fewest allowed splitters among the first
        :data:`_LOOKAHEAD` unsplit rows, tightest first) must be split by one of its allowed
        splitters p_1, p_2, ...; branch i takes p_i and excludes p_1..p_{i-1}, so the branches
        partition the sets. With one set left, its candidates are the intersection of the
        splitters of every unsplit row. Once every row is split, the rest of the tuple is any
        choice of the patterns not excluded. ``branches`` = (start, stop) keeps only those root
        branches (see :meth:`root_branches`); the slices of a partition of range(root_branches)
        meet, in order, exactly what the whole search meets. Raises :class:`OutOfTime` after
        ``deadline``.
        """
        if m > self.n_patterns or m < 1:
            return
        clock = [0]

        def grow(chosen: list[int], split: int, banned: int):
            clock[0] += 1
            if clock[0] % 1024 == 0 and time.monotonic() > deadline:
                raise OutOfTime
            left = m - len(chosen)
            allowed = self._everything & ~banned
            for p in chosen:
                allowed &= ~(1 << p)
            unsplit = self._all & ~split
            if left == 0:
                return
            if unsplit == 0:
                free = _members(allowed)
                for rest in combinations(range(len(free)), left - 1):
                    after = rest[-1] + 1 if rest else 0
                    yield tuple(chosen) + tuple(free[i] for i in rest), free[after:]
                return
            if left == 1:
                candidates = allowed
                while unsplit and candidates:
                    low = unsplit & -unsplit
                    candidates &= self._splitters[low.bit_length() - 1]
                    unsplit ^= low
                if candidates:
                    yield tuple(chosen), _members(candidates)
                return
            best, rest = None, unsplit
            for _ in range(_LOOKAHEAD):
                if not rest:
                    break
                low = rest & -rest
                options = self._splitters[low.bit_length() - 1] & allowed
                if best is None or options.bit_count() < best.bit_count():
                    best = options
                rest ^= low
            for index, p in enumerate(_members(best)):
                if not chosen and branches is not None and not branches[0] <= index < branches[1]:
                    banned |= 1 << p  # an earlier branch (another worker's) or a later one
                    continue
                yield from grow(chosen + [p], split | self._hits[p], banned)
                banned |= 1 << p

        if branches is not None and self.root_branches(m) == 0:
            raise ValueError("this search does not branch at its root: run it whole")
        yield from grow([], 0, 0)

    def count_ok(self, tuple_: tuple[int, ...]) -> bool:
        """Whether these patterns split every row (for cross-checks)."""
        split = 0
        for p in tuple_:
            split |= self._hits[p]
        return split == self._all


def _members(mask: int) -> list[int]:
    """The set bits of a Python int, in increasing order."""
    members = []
    while mask:
        low = mask & -mask
        members.append(low.bit_length() - 1)
        mask ^= low
    return members
