"""Extraction: merging is exact on the data, blocks are the dictionary's, polish is an exact fit
on the trained support and never adds neurons (docs/math.md §3, §6)."""

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.training.extract import data_diameter, extract, merge_neurons, neuron_blocks, polish
from sparsest.core.network import Network
from sparsest.exact.closed_form import min_knots, sparsest_interpolant
from sparsest.core.recheck import recheck


def random_network(rng, K, d, skip, output_bias=False):
    a = rng.normal(size=d) if skip else None
    c = float(rng.normal()) if (skip or output_bias) else None
    return Network(rng.normal(size=K), rng.normal(size=(K, d)), rng.normal(size=K), a, c)


def duplicated(net, rng, copies=3):
    """The same function written with each neuron split into positive multiples of itself."""
    v, W, b = [], [], []
    for k in range(net.width):
        shares = rng.uniform(0.2, 1.0, size=copies)
        shares /= shares.sum()
        for share in shares:
            scale = 2.0 ** rng.integers(-2, 3)  # v relu(z) = (v / t) relu(t z); powers of 2 are exact
            v.append(net.v[k] * share / scale)
            W.append(net.W[k] * scale)
            b.append(net.b[k] * scale)
    return Network(np.array(v), np.array(W), np.array(b), net.a, net.c)


@pytest.mark.parametrize("d, skip, output_bias", [(1, True, False), (2, False, False), (3, True, False), (2, False, True)])
def test_merge_is_exact_on_the_data_and_leaves_one_neuron_per_block(d, skip, output_bias):
    rng = np.random.default_rng(d + 10 * skip)
    for trial in range(25):
        N, K = int(rng.integers(3, 9)), int(rng.integers(1, 30))
        data = Dataset.from_arrays(rng.normal(size=(N, d)).round(3), rng.normal(size=N), skip=skip,
                                   output_bias=output_bias)
        net = random_network(rng, K, d, skip, output_bias)
        merged = merge_neurons(net, data)
        assert np.allclose(merged(data.X), net(data.X), atol=1e-10), trial
        assert merged.width <= net.count_neurons(data.X, data.count_tol)
        # one neuron per (set, sign), every neuron active, signs +-1 (the block convention)
        keys = {(tuple(row), s) for row, s in zip(merged.activation_sets(data.X), merged.v)}
        assert len(keys) == merged.width
        assert set(np.abs(merged.v)) <= {1.0}
        assert merged.count_neurons(data.X, data.count_tol) == merged.width
        if skip:  # no merged neuron contains the anchor point (it was flipped into the skip term)
            anchor = int(np.lexsort(data.X.T[::-1])[0])
            assert not merged.activation_sets(data.X)[:, anchor].any()


def test_split_neurons_merge_back_to_the_original_count():
    rng = np.random.default_rng(3)
    data = Dataset.from_arrays(np.arange(8.0), rng.normal(size=8))
    closed = sparsest_interpolant(data).network
    noisy = duplicated(closed, rng)
    extraction = extract(noisy, data)
    assert extraction.raw_check.neurons == 3 * closed.width
    assert extraction.merged_check.neurons == closed.width
    assert extraction.merged_check.interpolates


def test_left_facing_neuron_becomes_right_facing_with_the_same_sign():
    data = Dataset.from_arrays([0, 1, 2, 3], [0, 0, 0, 0])
    left = Network([2.0], [[-1.0]], [1.5], [0.0], 0.0)  # 2 relu(1.5 - x): active at x = 0, 1
    merged = merge_neurons(left, data)
    assert merged.v.tolist() == [2.0 / abs(2.0)]  # sign kept
    assert merged.activation_sets(data.X).tolist() == [[False, False, True, True]]
    assert np.allclose(merged(data.X), left(data.X))


def test_affine_neuron_goes_into_the_skip_term():
    data = Dataset.from_arrays([0, 1, 2], [1, 2, 3])
    net = Network([1.0], [[1.0]], [1.0], [0.0], 0.0)  # relu(x + 1) = x + 1 on the data
    merged = merge_neurons(net, data)
    assert merged.width == 0 and np.allclose(merged(data.X), [1, 2, 3])


def test_blocks_are_in_the_dictionary():
    rng = np.random.default_rng(5)
    for d, skip in [(1, True), (2, False), (2, True)]:
        data = Dataset.from_arrays(rng.normal(size=(7, d)), rng.normal(size=7), skip=skip)
        patterns = {tuple(row) for row in BlockDictionary(data).patterns}
        for snap in (0.0, 0.05, 0.3):
            for members, sign in neuron_blocks(random_network(rng, 12, d, skip), data, snap=snap):
                mask = tuple(i in members for i in range(7))
                assert mask in patterns and sign in (-1, 1)


def test_snapping_joins_kinks_on_both_sides_of_a_data_point():
    data = Dataset.from_arrays([-2, -1, 0, 1, 2, 3], [0, 0, 1, 1, 0, 0])
    near = Network([0.5, 0.5], [[1.0], [1.0]], [1.0 - 1e-3, 1.0 + 1e-3], [0.0], 0.0)  # knots -1 +- 1e-3
    assert len(neuron_blocks(near, data, snap=0.0)) == 2
    assert neuron_blocks(near, data, snap=0.01) == [((2, 3, 4, 5), 1)]


def test_polish_recovers_the_sparsest_from_a_perturbed_sparsest_network():
    rng = np.random.default_rng(7)
    for trial in range(15):
        x = np.sort(rng.choice(np.arange(-20, 20), size=int(rng.integers(4, 9)), replace=False))
        data = Dataset.from_arrays(x, rng.integers(-3, 4, size=len(x)))
        closed = sparsest_interpolant(data).network
        # move the knots a little (the trained network is only approximately right)
        jitter = Network(closed.v, closed.W, closed.b + rng.normal(scale=1e-4, size=closed.width), closed.a, closed.c)
        result = polish(duplicated(jitter, rng), data)
        assert result.feasible, trial
        assert result.check.interpolates and recheck(result.network, data).interpolates
        assert result.check.neurons == min_knots(data)


def test_polish_never_increases_the_merged_count_and_always_interpolates_when_feasible():
    rng = np.random.default_rng(11)
    seen_feasible = seen_infeasible = 0
    for trial in range(40):
        d, skip = [(1, True), (2, False), (2, True)][trial % 3]
        N = int(rng.integers(3, 7))
        data = Dataset.from_arrays(rng.normal(size=(N, d)).round(2), rng.normal(size=N).round(2), skip=skip)
        net = random_network(rng, int(rng.integers(1, 8)), d, skip)
        merged = merge_neurons(net, data)
        result = polish(merged, data)
        if result.feasible:
            seen_feasible += 1
            assert result.check.interpolates
            assert result.check.neurons <= merged.width
            assert len(result.blocks) <= merged.width
        else:
            seen_infeasible += 1
            assert result.network is None and result.to_json()["neurons"] is None
    assert seen_feasible and seen_infeasible


def test_infeasible_polish_says_so():
    data = Dataset.from_arrays(np.arange(8), [0, 1, 0, 1, 0, 1, 0, 1])
    one = Network([1.0], [[1.0]], [-3.5], [0.0], 0.0)
    result = polish(one, data)
    out = result.to_json()
    assert not result.feasible and out["feasible"] is False and out["interpolates"] is False
    assert all(attempt[3] == "infeasible" for attempt in result.attempts)


def test_data_diameter():
    assert data_diameter(Dataset.from_arrays([[0, 0], [3, 4]], [0, 1])) == 5.0
    assert data_diameter(Dataset.from_arrays([2.0], [1.0])) == 1.0


def test_polish_keeps_trained_zero_path_weights_when_parameters_come_first():
    rng = np.random.default_rng(13)
    seen = 0
    for trial in range(6):
        # data made by a network with sparse path weights: its zero pattern is what the polish keeps
        X = rng.uniform(-1, 1, size=(8, 4)).round(3)
        W = rng.normal(size=(5, 4)) * (rng.random((5, 4)) < 0.5)
        net = Network(rng.choice([-1.0, 1.0], size=5), W, rng.normal(size=5))
        data = Dataset.from_arrays(X, net(X))
        merged = merge_neurons(net, data)
        by_parameters = polish(merged, data, objective="parameters")
        by_neurons = polish(merged, data)
        if by_parameters.feasible:
            seen += 1
            assert by_parameters.check.interpolates
            assert by_neurons.feasible and by_neurons.check.neurons <= by_parameters.check.neurons
            assert by_parameters.check.parameters <= by_neurons.check.parameters
            kept = [a for a in by_parameters.attempts if a[2] == "pattern" and a[5] is not None]
            assert all(a[5] <= merged.count_parameters(data.X, data.count_tol) for a in kept), trial
    assert seen >= 3
    with pytest.raises(SparsestError):
        polish(Network([1.0], [[1.0]], [0.0]), Dataset.from_arrays([0, 1], [0, 1]), objective="size")
