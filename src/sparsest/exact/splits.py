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
from itertools import combinations, product
from math import comb
from typing import Callable, Iterator

import numpy as np

from sparsest.exact.highs import OutOfTime

#: Groups are all C(N, d+2) subsets up to this many; beyond it, the groups of each point with
#: its nearest neighbours (a subset of valid constraints is still valid).
MAX_GROUPS = 60_000
#: The branching row is the tightest of this many unsplit rows (fewest allowed splitters).
_LOOKAHEAD = 8
#: The last two levels of the search rule out (option, candidate) pairs on this many unsplit rows
#: (one matrix product), then check each remaining pair against all rows (after the sieve, when
#: there is one; see SplitConstraints._last_two).
_SCANNED_ROWS = 336
#: At most this many class sets of one size are remembered for the larger sizes.
KEEP_AT_MOST = 1_000_000
#: Class sets handed to the sieve at once.
_SIEVE_BATCH = 4096
#: (option, candidate) pairs checked at once.
_PAIR_BATCH = 8192
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
    must contain point i). ``sieve`` (optional): an exact test on class sets, called with
    (prefixes (K, j-1) of classes, candidates for the last class of each) and returning the class
    sets (rows of j classes, in the order given) that may hold a feasible pattern set; the others
    are never spelt out (see :mod:`sparsest.exact.exhaustive`, the class span test).

    Classes. A set A and its complement split the same groups (T meets A without containing it
    iff T meets the complement without containing it). Without the skip term both are patterns
    (the complement of a cell's sign vector is the opposite cell's), so the hitting search runs over
    the classes {A, complement of A} (or {A} alone), each class set once, and every class set is
    then spelt out into the pattern sets it stands for (one or both patterns of each chosen class),
    which are checked against the ``extra`` rows. A pattern set splits every group iff its classes
    do, so the pattern sets met are exactly those of a search over patterns.
    """

    def __init__(self, patterns: np.ndarray, X_tilde: np.ndarray, y: np.ndarray, threshold: float,
                 extra: np.ndarray | None = None, sieve: Callable[[np.ndarray, list[list[int]]], np.ndarray] | None = None):
        self.n_patterns = len(patterns)
        self.sieve = sieve
        self.kept: dict[int, np.ndarray] = {}
        n, width = X_tilde.shape
        # classes: a set and its complement (when both are patterns), numbered by their first pattern
        self.members, class_of = complement_classes(patterns)
        self.n_classes = len(self.members)
        self._class_of = class_of
        # a class splits a group iff its first pattern does (the complement splits the same groups)
        firsts = np.asarray(patterns[[members[0] for members in self.members]], dtype=np.float32).reshape(-1, n)
        rows = []
        if n >= width + 1:
            groups = _groups(X_tilde[:, :-1], width + 1)
            U, singular, _ = np.linalg.svd(X_tilde[groups], full_matrices=True)      # (G, d+2, d+2)
            general = singular[:, -1] > _RANK_RTOL * singular[:, 0]
            normal = U[:, :, -1]
            offaffine = np.abs(np.einsum("gk,gk->g", normal, y[groups])) > threshold
            groups = groups[general & offaffine]
            for start in range(0, len(groups), 4096):
                part = groups[start:start + 4096]
                members = np.zeros((len(part), n), dtype=np.float32)                 # (g, N) 0/1
                members[np.arange(len(part))[:, None], part] = 1.0
                counts = members @ firsts.T          # (g, classes): |A cap T|, exact (sums of <= d+2 ones)
                rows.append((counts > 0.5) & (counts < width + 0.5))
        by_class = np.concatenate(rows) if rows else np.zeros((0, self.n_classes), dtype=bool)
        extra = np.zeros((0, self.n_patterns), dtype=bool) if extra is None else np.asarray(extra, dtype=bool)
        self.n_rows = len(by_class) + len(extra)
        # tightest rows (fewest splitting classes) first: the search branches on them
        by_class = by_class[np.argsort(by_class.sum(axis=1), kind="stable")]
        self.n_split_rows = len(by_class)
        self._all = (1 << self.n_split_rows) - 1
        self._everything = (1 << self.n_classes) - 1
        self._splitters = _bits(by_class)                                   # per row: classes
        # the same rows as arrays, for the vectorized last two levels (see _last_two)
        self._splitting = by_class                                          # (rows, classes)
        self._miss_words = pack_words(~by_class.T)                              # (classes, row words): unsplit
        self._hits = _bits(by_class.T) if self.n_split_rows else [0] * self.n_classes  # per class: rows
        self._extra_all = (1 << len(extra)) - 1
        self._extra_hits = _bits(extra.T) if len(extra) else [0] * self.n_patterns     # per pattern
        self._extra_words = pack_words(extra.T)                                   # (patterns, extra words)
        self._extra_words_all = pack_words(np.ones(len(extra), dtype=bool))

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
        if m < 2 or m > self.n_classes or self.n_split_rows == 0:
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

    def groups(self, m: int, deadline: float, branches: tuple[int, int] | None = None,
               record: list | None = None, pulse: bool = False) -> Iterator[tuple[tuple[int, ...], list[int]] | None]:
        """(prefix of m-1 patterns, candidates for the last): prefix + (c,) for c in the candidates
        are every m-set of distinct patterns (m >= 1) that splits every row and whose classes pass
        the ``sieve``, each met once.

        First the pattern sets whose classes number fewer than m (some class gives both its
        patterns), from the class sets of each smaller size that passed the sieve
        (:meth:`kept_class_sets`); then those of m distinct classes, from the class search of size
        m. ``branches`` = (start, stop) keeps only those root branches of the latter (see
        :meth:`root_branches`); the slice starting at 0 also meets the former, so the slices of a
        partition of range(root_branches) meet, in order, exactly what the whole search meets.
        The class sets of size m that pass the sieve are appended to ``record`` (batches of rows)
        and, when the whole search ran to its end, kept for the larger sizes. With ``pulse``, None
        is also yielded after every batch of class sets the sieve emptied, so that a caller can
        take turns with other work while the search meets nothing. Raises :class:`OutOfTime` after
        ``deadline``.
        """
        if m > self.n_patterns or m < 1:
            return
        if branches is not None and self.root_branches(m) == 0:
            raise ValueError("this search does not branch at its root: run it whole")
        if branches is None or branches[0] == 0:
            for size in range(1, m):
                for classes in self.kept_class_sets(size, deadline):
                    _check(deadline)
                    yield from self._spell(classes, m)
        found = [] if record is None else record
        for batch in self._sieved(m, deadline, branches, keep_empty=pulse):
            if not len(batch):
                yield None
                continue
            found.append(batch)
            # rows with the same prefix, together
            edges = np.flatnonzero(np.any(batch[1:, :-1] != batch[:-1, :-1], axis=1)) + 1
            for start, end in zip([0, *edges.tolist()], [*edges.tolist(), len(batch)]):
                _check(deadline)  # one node of the search may hand out many groups
                yield from self._spell_distinct(tuple(batch[start, :-1].tolist()), batch[start:end, -1].tolist())
        if branches is None:
            self.keep(m, found)

    def keep(self, m: int, batches: list[np.ndarray]) -> None:
        """Remember the class sets of size m that passed the sieve (all of them, in order), unless
        there are more than :data:`KEEP_AT_MOST` (they are then searched again when needed)."""
        if sum(len(batch) for batch in batches) <= KEEP_AT_MOST:
            self.kept[m] = np.concatenate(batches) if batches else np.zeros((0, m), dtype=np.intp)

    def kept_class_sets(self, m: int, deadline: float) -> Iterator[tuple[int, ...]]:
        """The m-sets of distinct classes that split every row and pass the sieve, in the order of
        the search (remembered, or searched now)."""
        if m in self.kept:
            batches = [self.kept[m]]
        else:
            batches = []
            for batch in self._sieved(m, deadline, None):
                batches.append(batch)
                yield from (tuple(row) for row in batch.tolist())
            self.keep(m, batches)
            return
        for batch in batches:
            yield from (tuple(row) for row in batch.tolist())

    def _sieved(self, m: int, deadline: float, branches: tuple[int, int] | None,
                keep_empty: bool = False) -> Iterator[np.ndarray]:
        """The class sets of :meth:`class_groups` that pass the sieve, in batches of rows (with
        ``keep_empty``, also the batches it emptied)."""
        prefixes: list[tuple[int, ...]] = []
        lasts: list[list[int]] = []
        pending = 0

        def flush():
            prefix_array = np.array(prefixes, dtype=np.intp).reshape(len(prefixes), m - 1)
            if self.sieve is not None:
                kept = self.sieve(prefix_array, lasts)
                return kept[self._split_every_row(kept)]  # (the rows the last two levels left)
            rows = np.repeat(np.arange(len(prefixes)), [len(last) for last in lasts])
            return np.column_stack([prefix_array[rows], np.concatenate(lasts).astype(np.intp)])

        # With a sieve, the last two levels check only their scanned rows: the sieve, which
        # rejects most of their class sets (all of them at sizes whose span falls short of R^N),
        # costs less per set than a check against every row, which then runs on its survivors.
        for prefix, last in self.class_groups(m, deadline, branches, complete=self.sieve is None):
            _check(deadline)
            prefixes.append(prefix)
            lasts.append(last)
            pending += len(last)
            if pending >= _SIEVE_BATCH:
                batch, pending = flush(), 0
                prefixes, lasts = [], []
                if len(batch) or keep_empty:
                    yield batch
        if prefixes:
            batch = flush()
            if len(batch):
                yield batch

    def _split_every_row(self, class_sets: np.ndarray) -> np.ndarray:
        """Which rows (class sets, K x m) split every split row: no row is missed by all m classes."""
        missed = np.full((len(class_sets), self._miss_words.shape[1]), np.uint64(0xFFFFFFFFFFFFFFFF))
        for j in range(class_sets.shape[1]):
            missed &= self._miss_words[class_sets[:, j]]
        return ~missed.any(axis=1)

    def _spell(self, classes: tuple[int, ...], m: int) -> Iterator[tuple[tuple[int, ...], list[int]]]:
        """The m-sets of distinct patterns whose classes are exactly ``classes`` (fewer than m of
        them), covering the extra rows, as (prefix, [last]) pairs."""
        sizes = [len(self.members[c]) for c in classes]
        for counts in _compositions(m, len(classes), sizes):
            for choice in product(*(combinations(self.members[c], t) for c, t in zip(classes, counts))):
                chosen = [p for part in choice for p in part]
                if self._covers(chosen):
                    yield tuple(chosen[:-1]), [chosen[-1]]

    def _spell_distinct(self, prefix: tuple[int, ...], lasts: list[int]) -> Iterator[tuple[tuple[int, ...], list[int]]]:
        """The pattern sets of the class sets prefix + (c,), c in ``lasts``: one pattern per
        class, covering the extra rows."""
        last_patterns = np.array([p for c in lasts for p in self.members[c]], dtype=np.intp)
        last_words = self._extra_words[last_patterns]
        for chosen in product(*(self.members[c] for c in prefix)):
            if self._extra_all == 0:
                yield chosen, last_patterns
                continue
            need = self._extra_words_all & ~np.bitwise_or.reduce(self._extra_words[list(chosen)], axis=0)
            fitting = last_patterns[np.all(last_words & need == need, axis=1)]
            if len(fitting):
                yield chosen, fitting

    def _covers(self, chosen: list[int]) -> bool:
        covered = 0
        for p in chosen:
            covered |= self._extra_hits[p]
        return covered == self._extra_all

    def class_groups(self, m: int, deadline: float, branches: tuple[int, int] | None,
                     complete: bool = True) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
        """(prefix of m-1 classes, candidates for the last, increasing): every m-set of distinct
        classes that splits every split row, each met once. Without ``complete``, the candidates
        of the last two levels (:meth:`_last_two`) may also include classes that leave some rows
        unsplit beyond its scanned ones: the caller checks them (:meth:`_split_every_row`).

        Branching: an unsplit row (the one with the fewest allowed splitters among the first
        :data:`_LOOKAHEAD` unsplit rows, tightest first) must be split by one of its allowed
        splitters c_1, c_2, ...; branch i takes c_i and excludes c_1..c_{i-1}, so the branches
        partition the sets. With one class left, its candidates are the intersection of the
        splitters of every unsplit row. Once every row is split, the rest of the tuple is any
        choice of the classes not excluded. ``branches`` = (start, stop) keeps only those root
        branches.
        """
        if m > self.n_classes or m < 1:
            return
        clock = [0]

        def grow(chosen: list[int], split: int, banned: int):
            clock[0] += 1
            if clock[0] % 1024 == 0 and time.monotonic() > deadline:
                raise OutOfTime
            left = m - len(chosen)
            allowed = self._everything & ~banned
            for c in chosen:
                allowed &= ~(1 << c)
            unsplit = self._all & ~split
            if left == 0:
                return
            if unsplit == 0:
                free = _members(allowed)
                for rest in combinations(range(len(free)), left - 1):
                    after = rest[-1] + 1 if rest else 0
                    yield tuple(chosen) + tuple(free[i] for i in rest), np.array(free[after:], dtype=np.intp)
                return
            if left == 1:
                candidates = allowed
                while unsplit and candidates:
                    low = unsplit & -unsplit
                    candidates &= self._splitters[low.bit_length() - 1]
                    unsplit ^= low
                if candidates:
                    yield tuple(chosen), np.array(_members(candidates), dtype=np.intp)
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
            if left == 2:
                keep = None if chosen or branches is None else branches
                yield from self._last_two(chosen, unsplit, allowed, _members(best), keep, deadline, complete)
                return
            for index, c in enumerate(_members(best)):
                if not chosen and branches is not None and not branches[0] <= index < branches[1]:
                    banned |= 1 << c  # an earlier branch (another worker's) or a later one
                    continue
                yield from grow(chosen + [c], split | self._hits[c], banned)
                banned |= 1 << c

        yield from grow([], 0, 0)

    def _last_two(self, chosen: list[int], unsplit: int, allowed: int, options: list[int],
                   keep: tuple[int, int] | None, deadline: float,
                   complete: bool = True) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
        """The branches of a node with two classes left, all at once: what ``grow`` meets by
        taking each option c_i (excluding c_1..c_{i-1}) and then intersecting the splitters of
        the rows c_i leaves unsplit, in the same order. ``keep``: only the options of these
        indices (the root's slice); the others are still excluded from later branches. Raises
        :class:`OutOfTime` after ``deadline``.

        First the tightest :data:`_SCANNED_ROWS` unsplit rows: a candidate c is out for option c_i
        when some scanned row is missed by both, which one product of their 0/1 miss matrices
        counts (exact in float32: at most _SCANNED_ROWS ones per sum); an option with no candidate
        left drops out. Then each remaining (option, candidate) pair is checked against all the
        rows at once: the candidate's rows must contain those the option leaves unsplit (skipped
        without ``complete``: the pairs then split the scanned rows only).
        """
        _check(deadline)
        options_array = np.array(options, dtype=np.intp)
        alive = np.arange(len(options)) if keep is None else np.arange(keep[0], min(keep[1], len(options)))
        unsplit_bool = _unbits(unsplit, self.n_split_rows)
        rows = np.flatnonzero(unsplit_bool)
        start = min(len(rows), _SCANNED_ROWS)
        missed = ~self._splitting[rows[:start]]                                          # (scanned, classes)
        clashes = missed[:, options_array[alive]].T.astype(np.float32) @ missed.astype(np.float32)
        found = (clashes == 0) & _unbits(allowed, self.n_classes)[None, :]                # (alive, classes)
        some = found.any(axis=1)
        alive, found = alive[some], found[some]
        if not len(alive):
            return
        found[:, options_array] &= np.arange(len(options))[None, :] > alive[:, None]  # not c_1..c_i
        if complete and start < len(rows):
            pair_option, pair_class = np.nonzero(found)
            left = pack_words(unsplit_bool)[None, :] & self._miss_words[options_array[alive]]  # (alive, row words)
            ok = np.ones(len(pair_option), dtype=bool)
            for s in range(0, len(ok), _PAIR_BATCH):
                _check(deadline)
                o, c = pair_option[s:s + _PAIR_BATCH], pair_class[s:s + _PAIR_BATCH]
                ok[s:s + _PAIR_BATCH] = ~(left[o] & self._miss_words[c]).any(axis=1)
            found = np.zeros_like(found)
            found[pair_option[ok], pair_class[ok]] = True
        for row, i in enumerate(alive.tolist()):
            members = np.flatnonzero(found[row])
            if len(members):
                yield tuple(chosen) + (options[i],), members

    def count_ok(self, tuple_: tuple[int, ...]) -> bool:
        """Whether these patterns split every row (for cross-checks)."""
        split = covered = 0
        for p in tuple_:
            split |= self._hits[self._class_of[p]]
            covered |= self._extra_hits[p]
        return split == self._all and covered == self._extra_all


def complement_classes(patterns: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    """The classes {A, complement of A} of the patterns (P, N): their members (increasing, the
    classes ordered by their first member) and the class of each pattern."""
    index = {row.tobytes(): p for p, row in enumerate(patterns)}
    class_of = np.full(len(patterns), -1, dtype=np.intp)
    members: list[list[int]] = []
    for p, row in enumerate(patterns):
        if class_of[p] >= 0:
            continue
        q = index.get((~row).tobytes())
        members.append([p] if q is None or q == p else [p, q])
        class_of[members[-1]] = len(members) - 1
    return members, class_of


def _check(deadline: float) -> None:
    """Raise :class:`OutOfTime` once ``deadline`` (time.monotonic) has passed."""
    if time.monotonic() > deadline:
        raise OutOfTime


def _bits(matrix: np.ndarray) -> list[int]:
    """Each row of a boolean matrix as a Python int (bit j = column j)."""
    return [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in matrix]


def pack_words(matrix: np.ndarray) -> np.ndarray:
    """Pack the last axis of a boolean matrix into uint64 words (bit j of word j // 64 = column j)."""
    packed = np.packbits(matrix, axis=-1, bitorder="little")
    pad = (-packed.shape[-1]) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros(packed.shape[:-1] + (pad,), dtype=np.uint8)], axis=-1)
    return np.ascontiguousarray(packed).view(np.uint64)


def _unbits(mask: int, n: int) -> np.ndarray:
    """A Python int's low n bits as a boolean array."""
    raw = np.frombuffer(mask.to_bytes((n + 7) // 8 or 1, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:n].astype(bool)


def _compositions(total: int, parts: int, most: list[int]) -> Iterator[tuple[int, ...]]:
    """Tuples of ``parts`` integers, the i-th in [1, most[i]], summing to ``total``."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    for first in range(1, min(most[0], total - (parts - 1)) + 1):
        for rest in _compositions(total - first, parts - 1, most[1:]):
            yield (first,) + rest


def _members(mask: int) -> list[int]:
    """The set bits of a Python int, in increasing order."""
    members = []
    while mask:
        low = mask & -mask
        members.append(low.bit_length() - 1)
        mask ^= low
    return members
