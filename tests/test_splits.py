"""The forced-split constraints (exact/splits.py): the hitting-set search meets exactly the tuples a
brute-force check keeps, each once, and it never removes a support the LP would accept."""

from itertools import combinations

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import SPAN_RTOL
from sparsest.exact.splits import SplitConstraints
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
