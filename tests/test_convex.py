"""Convex solvers on the block dictionary: the l1 value against the 1-D slope-variation formula,
reweighted l1 against the closed form, the box, bad input."""

from fractions import Fraction

import numpy as np
import pytest

from sparsest.training.convex import min_l1_path, reweighted_l1
from sparsest.core.dataset import Dataset, load_dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.exact.closed_form import min_knots
from sparsest.core.recheck import recheck


def slope_variation(data: Dataset) -> float:
    """sum_i |s_i - s_{i-1}| in exact rationals (the 1-D min l1 path norm with the skip term)."""
    pairs = sorted(zip((row[0] for row in data.X_exact), data.y_exact))
    s = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(pairs, pairs[1:])]
    return float(sum((abs(b - a) for a, b in zip(s, s[1:])), Fraction(0)))


def random_1d(rng, convex=False):
    N = int(rng.integers(3, 10))
    x = np.sort(rng.choice(np.arange(-30, 30), size=N, replace=False))
    y = (x.astype(float) ** 2 / 10).round(1) if convex else rng.integers(-5, 6, size=N)
    return Dataset.from_arrays(x.tolist(), y.tolist())


@pytest.mark.parametrize("convex", [True, False])
def test_l1_value_is_the_total_slope_variation_in_1d(convex):
    rng = np.random.default_rng(1 + convex)
    for trial in range(12):
        data = random_1d(rng, convex)
        result = min_l1_path(data)
        assert result.status == "optimal" and result.check.interpolates, trial
        assert result.objective == pytest.approx(slope_variation(data), rel=1e-7, abs=1e-9)
        assert result.check.neurons >= min_knots(data)


def test_reweighted_l1_interpolates_never_beats_the_optimum_and_descends():
    rng = np.random.default_rng(3)
    reached = 0
    for trial in range(12):
        data = random_1d(rng)
        l1 = min_l1_path(data)
        result = reweighted_l1(data, p=0.4)
        assert result.check.interpolates, trial
        assert min_knots(data) <= result.check.neurons <= max(0, data.n_points - 2)
        surrogates = [row[2] for row in result.history]
        assert all(b <= a * (1 + 1e-7) + 1e-9 for a, b in zip(surrogates, surrogates[1:]))
        assert result.history[0][1] == l1.check.neurons  # warm start: the first LP is the l1 one
        assert 1 <= result.iterations <= 30
        reached += result.check.neurons == min_knots(data)
    assert reached >= 6  # usually sparsest in 1-D (a local method: not always)


def test_named_instances_match_their_proven_optima():
    for name, optimum in [("peak_plateau", 3), ("zigzag", 6)]:
        data = load_dataset(f"instances/{name}.json")
        assert reweighted_l1(data).check.neurons == optimum


def test_multivariate_l1_is_at_most_a_known_interpolant_and_respects_the_box():
    data = load_dataset("instances/square_corners_2d.json")
    known = Network([1.0, 1.0], [[1.0, 1.0], [-1.0, -1.0]], [-1.0, -1.0])  # l1 path norm 4
    assert recheck(known, data).interpolates
    dictionary = BlockDictionary(data)
    free = min_l1_path(data, dictionary=dictionary)
    assert free.check.interpolates and free.objective <= 4.0 + 1e-9
    boxed = min_l1_path(data, dictionary=dictionary, box=1.0)
    assert boxed.check.interpolates and np.all(np.abs(boxed.network.path_weights()) <= 1.0 + 1e-9)
    tiny = reweighted_l1(data, dictionary=dictionary, box=1e-3)
    assert tiny.network is None and tiny.to_json()["interpolates"] is False and tiny.status != "optimal"


def test_counting_biases_adds_them_to_the_objective():
    data = load_dataset("instances/square_corners_2d.json")
    without, with_bias = min_l1_path(data), min_l1_path(data, count_bias=True)
    assert with_bias.objective >= without.objective - 1e-9
    assert with_bias.check.count_bias and with_bias.check.interpolates


def test_json_has_the_train_keys():
    out = reweighted_l1(load_dataset("instances/peak_plateau.json")).to_json("peak_plateau")
    for key in ("method", "p", "neurons", "parameters", "interpolates", "max_abs_residual", "network",
                "objective", "iterations", "history", "tolerances"):
        assert key in out
    assert out["method"] == "convex-reweighted" and out["interpolates"] is True


@pytest.mark.parametrize("call", [
    lambda d: reweighted_l1(d, p=0.0), lambda d: reweighted_l1(d, p=2.0), lambda d: reweighted_l1(d, eps=-1.0),
    lambda d: reweighted_l1(d, iterations=0), lambda d: min_l1_path(d, box=-1.0),
    lambda d: min_l1_path(d, dictionary=BlockDictionary(Dataset.from_arrays([0, 1, 2], [0, 1, 0]))),
    lambda d: min_l1_path([[0, 1]]),
])
def test_bad_input_raises(call):
    with pytest.raises(SparsestError):
        call(Dataset.from_arrays([0, 1, 2, 3], [0, 1, 0, 1]))
