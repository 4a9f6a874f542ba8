"""The forced-split constraints (exact/splits.py): the hitting-set search meets exactly the tuples a
brute-force check keeps, each once, and it never removes a support the LP would accept."""

from itertools import combinations

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.exact import splits
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import SPAN_RTOL
from sparsest.exact.splits import SplitConstraints, complement_classes
from sparsest.generators import planted_instance


def _brute_force(constraints: SplitConstraints, m: int) -> set:
    return {t for t in combinations(range(constraints.n_patterns), m) if constraints.count_ok(t)}


def _non_affine_groups_split(patterns, X_tilde, y, threshold, chosen) -> bool:
    """Direct check: every d+2 points whose y is not affine (lstsq residual) are split."""
    n, width = X_tilde.shape
    for group in combinations(range(n), width + 1):
        A = X_tilde[list(group)]
        if np.linalg.matrix_rank(A, tol=1e-9 * np.linalg.norm(A, 2)) < width:
            continue
        residual = y[list(group)] - A @ np.linalg.lstsq(A, y[list(group)], rcond=None)[0]
        if np.linalg.norm(residual) <= threshold:
            continue
        inside = patterns[list(chosen)][:, list(group)].sum(axis=1)
        if not np.any((inside > 0) & (inside < width + 1)):
            return False
    return True


@pytest.mark.parametrize("case", [(2, 7, 2, 400), (2, 8, 3, 401), (3, 7, 2, 402), (1, 6, 2, 403)])
def test_the_hitting_search_meets_every_splitting_tuple_once(case):
    data = planted_instance(*case)
    dictionary = BlockDictionary(data)
    threshold = SPAN_RTOL * data.y_scale
    constraints = SplitConstraints(dictionary.patterns, data.X_tilde, data.y, threshold)
    for m in range(1, 4):
        met = list(constraints.sets(m, float("inf")))
        assert len(met) == len(set(met)), (case, m)  # once each
        assert set(met) == _brute_force(constraints, m), (case, m)
        for chosen in met[:50]:
            assert _non_affine_groups_split(dictionary.patterns, data.X_tilde, data.y, threshold, chosen)


def test_no_feasible_support_is_ever_removed():
    """Every LP-feasible support (plain enumeration, random data, every network option) splits
    every forced group."""
    rng = np.random.default_rng(52)
    for options in (dict(), dict(skip=True), dict(output_bias=True)):
        for trial in range(3):
            n = 5 + trial % 2
            data = Dataset.from_arrays(rng.uniform(-1, 1, (n, 2)), rng.normal(size=n), **options)
            dictionary = BlockDictionary(data)
            constraints = SplitConstraints(dictionary.patterns, data.X_tilde, data.y, SPAN_RTOL * data.y_scale)
            for m in (1, 2):
                for sets in combinations(range(len(dictionary.patterns)), m):
                    blocks = [dictionary.block_of(p, s) for p in sets for s in (1, -1)]
                    if dictionary.fit_support(blocks).feasible:
                        assert constraints.count_ok(sets), (options, trial, sets)


def _direct_sets(patterns, X_tilde, y, threshold, extra, m) -> set:
    """Every m-set of patterns that splits every non-affine group of d+2 points (lstsq residual,
    no classes) and meets every extra row, by brute force over all m-sets of patterns."""
    n, width = X_tilde.shape
    columns = []
    for group in combinations(range(n), width + 1):
        A = X_tilde[list(group)]
        if np.linalg.matrix_rank(A, tol=1e-9 * np.linalg.norm(A, 2)) < width:
            continue
        residual = y[list(group)] - A @ np.linalg.lstsq(A, y[list(group)], rcond=None)[0]
        if np.linalg.norm(residual) > threshold:
            inside = patterns[:, list(group)].sum(axis=1)
            columns.append((inside > 0) & (inside < width + 1))
    rows = np.array(columns + list(extra), dtype=bool).reshape(-1, len(patterns))   # (rows, P)
    tuples = np.array(list(combinations(range(len(patterns)), m)), dtype=np.intp)
    hit = rows[:, tuples].any(axis=2).all(axis=0)
    return {tuple(t) for t in tuples[hit].tolist()}


def _keep_all(prefixes, lasts):
    """A sieve that keeps every class set it is handed."""
    rows = np.repeat(np.arange(len(prefixes)), [len(last) for last in lasts])
    return np.column_stack([prefixes[rows], np.concatenate(lasts).astype(np.intp)]) if len(rows) else \
        np.zeros((0, prefixes.shape[1] + 1), dtype=np.intp)


@pytest.mark.parametrize("sieve", [None, _keep_all])
@pytest.mark.parametrize("scanned", [2, 16, 336])
@pytest.mark.parametrize("case", [(2, 9, 3, 410), (2, 10, 4, 411), (3, 8, 3, 412), (2, 9, 3, 413)])
def test_the_class_search_with_covering_rows_meets_what_a_direct_check_keeps(case, scanned, sieve, monkeypatch):
    """Classes {A, complement of A}, the vectorized last two levels (scanned rows, then the
    (option, candidate) pairs; with a sieve, the pairs are checked against every row after it)
    and covering rows: the same sets as brute force, each once."""
    monkeypatch.setattr(splits, "_SCANNED_ROWS", scanned)
    data = planted_instance(*case)
    dictionary = BlockDictionary(data)
    threshold = SPAN_RTOL * data.y_scale
    need = np.abs(data.y) > data.interpolation_tol
    extra = dictionary.patterns[:, need].T if case[3] % 2 == 0 else np.zeros((0, len(dictionary.patterns)), bool)
    constraints = SplitConstraints(dictionary.patterns, data.X_tilde, data.y, threshold, extra=extra, sieve=sieve)
    assert constraints.n_classes < constraints.n_patterns  # no skip term: complements pair up
    for m in range(1, 4):
        met = list(constraints.sets(m, float("inf")))
        assert len(met) == len(set(met)), (case, m)
        assert set(met) == _direct_sets(dictionary.patterns, data.X_tilde, data.y, threshold, extra, m), (case, m)


def test_complement_classes_pair_each_set_with_its_complement():
    for case in [(2, 8, 3, 420), (3, 7, 2, 421)]:
        patterns = BlockDictionary(planted_instance(*case)).patterns
        members, class_of = complement_classes(patterns)
        assert sorted(p for group in members for p in group) == list(range(len(patterns)))
        for c, group in enumerate(members):
            assert all(class_of[p] == c for p in group)
            if len(group) == 2:
                assert np.array_equal(patterns[group[0]], ~patterns[group[1]])
            else:  # the full set: its complement, the empty set, is not a pattern
                assert patterns[group[0]].all()


def test_class_sets_searched_again_when_too_many_to_keep(monkeypatch):
    data = planted_instance(2, 9, 3, 414)
    dictionary = BlockDictionary(data)
    need = np.abs(data.y) > data.interpolation_tol

    def all_sets():
        constraints = SplitConstraints(dictionary.patterns, data.X_tilde, data.y, SPAN_RTOL * data.y_scale,
                                       extra=dictionary.patterns[:, need].T)
        return [list(constraints.sets(m, float("inf"))) for m in range(1, 5)], constraints.kept

    kept_sets, kept = all_sets()
    monkeypatch.setattr(splits, "KEEP_AT_MOST", 0)
    again_sets, none_kept = all_sets()
    assert again_sets == kept_sets and any(len(sets) for sets in kept_sets)
    assert any(len(rows) for rows in kept.values()) and not any(len(rows) for rows in none_kept.values())
