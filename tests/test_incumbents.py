"""Incumbents (issue 11 items 2 and 4): the projection interpolant always exists and interpolates;
pruning never leaves the box, never raises the count, and every network it returns re-checks; a
feasible certify call always ends with a network."""

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.core.recheck import recheck
from sparsest.exact.certify import certify
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import search_exhaustive
from sparsest.exact.incumbents import projection_interpolant, prune_blocks, prune_coordinates
from sparsest.generators import planted_instance


@pytest.mark.parametrize("options", [dict(), dict(skip=True), dict(output_bias=True)])
def test_the_projection_interpolant_interpolates_random_data(options):
    rng = np.random.default_rng(41)
    for trial in range(20):
        n, d = int(rng.integers(2, 25)), int(rng.integers(1, 6))
        data = Dataset.from_arrays(rng.uniform(-1, 1, (n, d)), rng.normal(size=n), **options)
        network = projection_interpolant(data)
        check = recheck(network, data)
        assert check.interpolates, (trial, check.max_abs_residual)
        assert check.neurons <= n


def test_pruning_keeps_an_interpolant_and_never_raises_the_count():
    for seed in range(5):
        data = planted_instance(2, 12, 3, 300 + seed)
        dictionary = BlockDictionary(data)
        start = projection_interpolant(data)
        pruned = prune_blocks(dictionary, start)
        check = recheck(pruned, data)
        assert check.interpolates and check.neurons <= recheck(start, data).neurons
        optimum = search_exhaustive(dictionary).upper_bound
        assert check.neurons >= optimum  # an upper bound, never below the proven optimum
        for count_bias in (False, True):
            fewer = prune_coordinates(dictionary, pruned, count_bias=count_bias)
            thin = recheck(fewer, data, count_bias=count_bias)
            assert thin.interpolates
            assert thin.parameters <= recheck(pruned, data, count_bias=count_bias).parameters


def test_pruning_respects_the_box():
    data = planted_instance(2, 10, 3, 310)
    dictionary = BlockDictionary(data)
    start = projection_interpolant(data)
    R = 0.5 * float(np.abs(start.path_weights()).max())
    pruned = prune_blocks(dictionary, start, box=R)
    assert pruned is None or np.abs(pruned.path_weights()).max() <= R * (1 + 1e-9)
    assert prune_blocks(dictionary, start, box=1e-6) is None  # far too small a box: nothing fits


@pytest.mark.slow
def test_parameters_start_from_the_pruned_neuron_certificate():
    """Paper-like data (N < d): the parameter certificate has a network at a short limit, with no
    more parameters than the neuron certificate's network."""
    rng = np.random.default_rng(8)
    data = Dataset.from_arrays(rng.uniform(-1, 1, (6, 12)), rng.uniform(-1, 1, 6))
    neurons = certify(data, time_limit=30)
    params = certify(data, objective="parameters", time_limit=3)
    assert neurons.status == "optimal" and params.network is not None
    assert params.recheck.interpolates and params.parameters <= neurons.parameters
    assert params.seconds < 3 * 3 + 10


@pytest.mark.slow
def test_a_short_time_limit_still_ends_with_a_network():
    data = planted_instance(2, 30, 5, 320)
    c = certify(data, time_limit=2)
    assert c.network is not None and c.recheck.interpolates and c.upper_bound is not None
    assert c.seconds < 2 * 3 + 10


def test_progress_writes_nothing_when_stderr_is_not_a_terminal(capfd):
    certify(planted_instance(2, 10, 3, 330), time_limit=20)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_progress_tracks_the_bounds_when_enabled(capfd):
    from sparsest.exact.progress import Progress

    progress = Progress("neurons", 10.0, enabled=True)
    progress.update(lower=2, upper=7, stage="search")
    progress.update(lower=1, upper=9)  # a lower bound never falls, an upper bound never rises
    assert (progress.lower, progress.upper) == (2, 7)
    progress.close()
    out, err = capfd.readouterr()
    assert out == "" and "neurons in [2, 7]" in err
