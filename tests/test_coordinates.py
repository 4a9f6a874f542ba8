"""Small parameter counts through coordinate-sparse neurons (sparsest.exact.coordinates,
docs/math.md §3.7), cross-checked against the plain exhaustive parameter search on seeded random
instances, and the projected arrangements against brute force."""

import time

import numpy as np
import pytest

from sparsest.core.dataset import load_dataset
from sparsest.core.recheck import recheck
from sparsest.exact.coordinates import coordinate_search
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import search_exhaustive
from sparsest.exact.patterns import arrangement_cells
from sparsest.generators import planted_instance


def test_arrangement_cells_with_repeated_points_are_exactly_the_realizable_sets():
    """1-D and 2-D projections with repeated points: every set cut out by a random hyperplane is a
    listed cell, and every listed 1-D cell is a threshold set."""
    rng = np.random.default_rng(4)
    for trial in range(20):
        n, m = int(rng.integers(3, 9)), 1 + trial % 2
        X = rng.integers(-2, 3, (n, m)).astype(float)  # many ties
        X_tilde = np.hstack([X, np.ones((n, 1))])
        cells = {row.tobytes() for row in arrangement_cells(X_tilde)}
        for u in rng.normal(size=(3000, m + 1)):
            assert (X_tilde @ u > 0).tobytes() in cells
        if m == 1:
            x = X[:, 0]
            for row in arrangement_cells(X_tilde):
                inside, outside = x[row], x[~row]
                assert (not len(inside) or not len(outside) or inside.min() > outside.max()
                        or inside.max() < outside.min())


@pytest.mark.parametrize("dim", [2, 3, 4])
def test_coordinate_search_agrees_with_the_exhaustive_parameter_search(dim):
    """Run to its first feasible size, the coordinate search's bound is the exhaustive search's
    proven parameter optimum, and its network interpolates with that many path weights."""
    rng = np.random.default_rng(100 + dim)
    compared = 0
    for trial in range(6):
        n = int(rng.integers(4, 7 if dim < 4 else 6))
        data = planted_instance(dim, n, int(rng.integers(1, 3)), int(rng.integers(0, 10**6)))
        dictionary = BlockDictionary(data)
        plain = search_exhaustive(dictionary, objective="parameters", time_limit=60)
        if plain.status != "optimal":
            continue
        found = coordinate_search(dictionary, box=None, upper=None, deadline=time.monotonic() + 60,
                                  max_supports=10**7)
        assert found.stopped == "feasible" and found.lower_bound == plain.lower_bound
        check = recheck(found.network, data)
        assert check.interpolates and check.parameters <= found.lower_bound
        compared += 1
    assert compared >= 4


def test_sizes_with_more_coordinates_per_neuron_than_d_are_skipped_not_stacked():
    """In 2-D a size-5 support can only split as neurons of at most 2 coordinates; the partitions
    with a part of 3 or more have no neurons and used to raise from np.stack (a traceback from
    certify on this planted instance)."""
    data = planted_instance(2, 12, 3, 621)
    found = coordinate_search(BlockDictionary(data), box=None, upper=None, deadline=time.monotonic() + 60,
                              max_supports=10**7)
    assert found.stopped == "feasible"
    check = recheck(found.network, data)
    assert check.interpolates and check.parameters <= found.lower_bound


@pytest.mark.slow
def test_paper_setting_parameter_lower_bound_is_above_two():
    """N = 10, d = 50 (the paper's multivariate setting): no interpolant with 2 path weights."""
    data = load_dataset("instances/paper_multivariate.json")
    found = coordinate_search(BlockDictionary(data), box=None, upper=None, deadline=time.monotonic() + 300)
    assert found.lower_bound >= 3 and found.span_pruned == found.supports
