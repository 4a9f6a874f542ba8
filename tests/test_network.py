"""The network object: evaluation (float and exact), counts of docs/math.md §2, JSON round trip."""

from fractions import Fraction

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.core.recheck import recheck


def test_evaluation_matches_formula_and_exact_rationals():
    rng = np.random.default_rng(0)
    for _ in range(20):
        K, d, N = rng.integers(1, 5), rng.integers(1, 4), 7
        net = Network(rng.normal(size=K), rng.normal(size=(K, d)), rng.normal(size=K), rng.normal(size=d), 0.5)
        X = rng.normal(size=(N, d))
        expected = np.maximum(X @ net.W.T + net.b, 0) @ net.v + X @ net.a + 0.5
        assert np.allclose(net(X), expected)
        exact = net.evaluate_exact([[Fraction(float(t)) for t in row] for row in X])
        assert np.allclose([float(v) for v in exact], expected, atol=1e-12)


def test_counts_ignore_neurons_dead_on_the_data():
    X = np.array([[0.0], [1.0], [2.0]])
    # neuron 0 kinks at 0.5 (active), neuron 1 at 5 (dead on the data), neuron 2 has v = 0.
    net = Network([1.0, 3.0, 0.0], [[1.0], [1.0], [1.0]], [-0.5, -5.0, 0.0])
    assert net.count_neurons(X, 1e-9) == 1
    assert net.count_parameters(X, 1e-9) == 1
    assert net.count_parameters(X, 1e-9, count_bias=True) == 2
    assert net.pruned(X, 1e-9).width == 1


def test_parameter_count_is_entrywise_path_weights():
    X = np.array([[1.0, 0.0, 0.0]])
    net = Network([2.0], [[1.0, 0.0, -1.0]], [0.0])
    assert net.count_parameters(X, 1e-9) == 2


def test_json_round_trip_and_bad_json():
    net = Network([1.0, -2.0], [[1.0, 2.0], [0.0, 1.0]], [0.0, 1.0], None, 3.0)
    again = Network.from_json(net.to_json())
    assert np.array_equal(again.W, net.W) and again.c == 3.0 and again.a is None
    with pytest.raises(SparsestError):
        Network.from_json({"v": [1.0]})
    with pytest.raises(SparsestError):
        Network.from_json({"v": [1.0], "W": [[1.0]], "b": [float("nan")]})


def test_recheck_reports_residual_sets_and_counts():
    data = Dataset.from_arrays([0, 1, 2, 3], [0, 0, 1, 2])
    good = Network([1.0], [[1.0]], [-1.0], [0.0], 0.0)
    bad = Network([1.0], [[1.0]], [-1.5], [0.0], 0.0)
    ok = recheck(good, data)
    assert ok.interpolates and ok.neurons == 1 and ok.activation_sets == [[2, 3]]
    assert ok.max_abs_residual_exact == 0.0
    assert not recheck(bad, data).interpolates


@pytest.mark.parametrize("seed", range(8))
def test_sorted_pass_matches_exact_rationals_and_the_plain_pass(seed):
    """The 1-D sorted-points evaluation (used above PLAIN_PASS_LIMIT) against an exact rational
    forward pass with the same float64 activation test, on random networks with knots on data points,
    zero and negative input weights."""
    from sparsest.core.recheck import SortedPass1D

    rng = np.random.default_rng(seed)
    for _ in range(40):
        x = np.unique(np.round(rng.normal(size=int(rng.integers(1, 30))) * 4, int(rng.integers(0, 3))))
        K = int(rng.integers(0, 8))
        w = rng.normal(size=K)
        w[rng.random(K) < 0.2] = 0.0
        b = rng.normal(size=K)
        if K:
            b[0] = -w[0] * x[rng.integers(0, len(x))]  # a knot on a data point
        net = Network(rng.normal(size=K), w.reshape(K, 1), b, np.array([rng.normal()]), rng.normal())
        y = rng.normal(size=len(x))
        expected = max(abs(
            sum((Fraction(vk) * (Fraction(wk) * Fraction(xi) + Fraction(bk))
                 for vk, wk, bk in zip(net.v, w, b) if wk * xi + bk > 0), Fraction(0))
            + Fraction(net.a[0]) * Fraction(xi) + Fraction(net.c) - Fraction(yi)) for xi, yi in zip(x, y))
        sorted_pass = SortedPass1D(net, x)
        assert sorted_pass.max_abs_residual(y) == float(expected)
        assert np.isclose(sorted_pass.max_abs_residual(y), np.max(np.abs(net(x) - y)), rtol=1e-9, atol=1e-12)
        plain_sets = [np.flatnonzero(r).tolist() for r in net.activation_sets(x.reshape(-1, 1))]
        assert sorted_pass.activation_sets(np.ones(K, dtype=bool)) == plain_sets


def test_recheck_of_a_large_1d_network_uses_the_sorted_pass(monkeypatch):
    import sparsest.core.recheck as module

    data = Dataset.from_arrays(list(range(40)), [abs(i - 20) for i in range(40)])
    net = Network([2.0, 1.0], [[1.0], [1.0]], [-20.0, -50.0], [-1.0], 20.0)
    plain = recheck(net, data)
    monkeypatch.setattr(module, "PLAIN_PASS_LIMIT", 10)
    monkeypatch.setattr(module, "LISTED_MEMBERSHIPS_LIMIT", 5)
    fast = recheck(net, data)
    assert plain.interpolates and fast.interpolates and fast.neurons == plain.neurons == 1
    assert fast.max_abs_residual == plain.max_abs_residual == 0.0
    assert fast.activation_sets is None and "sorted points" in fast.evaluation and "not listed" in fast.evaluation
