"""Signs ruled out by the unique solution of a support's interpolation system (exact/unique_fit.py):
never a sign vector the support LP accepts, and most of the others."""

from itertools import combinations, product

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.unique_fit import possible_signs
from sparsest.generators import planted_instance


def _instances():
    rng = np.random.default_rng(77)
    yield planted_instance(2, 6, 3, 103)       # a planted optimum of 2 on 6 points: square systems
    yield planted_instance(2, 8, 3, 710)
    yield planted_instance(3, 9, 2, 711)
    for options in ({}, {"output_bias": True}, {"skip": True}):
        X = rng.uniform(-1, 1, (7, 2))
        W, b = rng.normal(size=(2, 2)), rng.uniform(-0.5, 0.5, 2)
        y = np.maximum(X @ W.T + b, 0) @ rng.choice([-1.0, 1.0], 2) + (0.3 * X[:, 0] if options else 0)
        yield Dataset.from_arrays(X, y, **options)


@pytest.mark.parametrize("index", range(6))
def test_no_ruled_out_sign_is_feasible_for_the_lp(index):
    ds = list(_instances())[index]
    dictionary = BlockDictionary(ds)
    free = dictionary.affine_design()
    ruled_out = lp_feasible = 0
    for m in (1, 2):
        tuples = np.array(list(combinations(range(len(dictionary.patterns)), m)), dtype=np.intp)
        decided, allowed = possible_signs(dictionary.patterns, ds.X_tilde, free, ds.y, tuples, ds.interpolation_tol)
        assert not allowed[~decided].size or allowed[~decided].all()
        rows = np.flatnonzero(decided)
        if len(rows) > 600:  # a seeded sample, but always the first rows (the square systems)
            rows = np.union1d(rows[:100], np.random.default_rng(m).choice(rows, 500, replace=False))
        for row in rows:
            for signs in product((0, 1), repeat=m):
                blocks = [dictionary.block_of(p, 1 if s == 0 else -1) for p, s in zip(tuples[row], signs)]
                feasible = dictionary.fit_support(blocks).feasible
                possible = all(allowed[row, b, s] for b, s in enumerate(signs))
                lp_feasible += feasible
                ruled_out += not possible
                assert possible or not feasible, (index, tuples[row], signs)
                if m == 2:  # the first set with both signs: only the second one's sign is fixed
                    doubled = [dictionary.block_of(tuples[row][0], 1), dictionary.block_of(tuples[row][0], -1)]
                    single = dictionary.block_of(tuples[row][1], 1 if signs[1] == 0 else -1)
                    if not allowed[row, 1, signs[1]]:
                        ruled_out += 1
                        assert not dictionary.fit_support(doubled + [single]).feasible, (index, tuples[row], signs)
    assert ruled_out > 0
    if index == 0:
        assert lp_feasible > 0  # the planted support of size 2 is among the decided ones
