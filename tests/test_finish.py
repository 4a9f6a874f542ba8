"""The finishing phase and normalized coordinates of the trainer (issue 10): the exact map back,
LM on the network's own weights with its zeros kept, the reseed escape, and trained networks that
interpolate on their own (cross-checked against the closed-form optimum on seeded random data)."""

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.core.network import Network
from sparsest.core.recheck import recheck
from sparsest.exact.closed_form import min_knots, sparsest_interpolant
from sparsest.training.finish import finish, finishing_phase, reseeded
from sparsest.training.scaling import Scaling
from sparsest.training.trainer import LpTrainer


def _random_network(rng, k, d, skip):
    return Network(rng.normal(size=k), rng.normal(size=(k, d)), rng.normal(size=k),
                   rng.normal(size=d) if skip else None, float(rng.normal()) if skip else None)


@pytest.mark.parametrize("shift", [True, False])
def test_network_back_is_the_same_function_in_the_data_coordinates(shift):
    rng = np.random.default_rng(3)
    for trial in range(10):
        d, skip = 1 + trial % 3, trial % 2 == 0
        X = rng.uniform(-1, 1, (7, d)) * 10.0 ** rng.uniform(-2, 3, d) + rng.normal(size=d) * 100
        data = Dataset.from_arrays(X, rng.normal(size=7) * 10.0 ** rng.uniform(-2, 3), skip=skip)
        scaling = Scaling.of(data, shift=shift)
        Xn = scaling.points(data.X)
        assert np.all(np.abs(Xn) <= 1 + 1e-12) and np.max(np.abs(scaling.targets(data.y))) == pytest.approx(1.0)
        net = _random_network(rng, 4, d, skip)
        net.W[0, 0] = 0.0
        net.b[1] = 0.0
        back = scaling.network_back(net)
        expected = scaling.y_scale * net(Xn)
        assert np.allclose(back(data.X), expected, rtol=1e-10, atol=1e-10 * scaling.y_scale)
        assert back.W[0, 0] == 0.0  # the zero pattern of the path weights is kept
        assert (back.b[1] == 0.0) == (not shift)  # without the shift a zero bias stays zero


def test_finish_drives_a_near_fit_to_the_tolerance_and_keeps_zero_weights():
    rng = np.random.default_rng(5)
    for trial in range(8):
        X = rng.uniform(-1, 1, (8, 2))
        true = _random_network(rng, 3, 2, False)
        true.W[0, 1] = 0.0
        y = true(X)
        start = Network(true.v * (1 + 0.05 * rng.normal(size=3)), true.W + 0.05 * rng.normal(size=(3, 2)) * (true.W != 0),
                        true.b + 0.05 * rng.normal(size=3))
        done = finish(start, X, y, target=1e-10, count_tol=1e-12)
        if done.converged:
            assert np.max(np.abs(done.network(X) - y)) <= 1e-10
        assert done.max_abs_residual <= np.max(np.abs(start(X) - y))  # never worse than the start
        active = np.abs(start.neuron_outputs(X)).max(axis=0) > 1e-12
        assert done.network.width == active.sum()  # the inactive ones dropped, none added
        if active[0]:
            assert done.network.W[0, 1] == 0.0  # the zero input weight stayed zero
    free = finish(start, X, y, target=1e-10, count_tol=1e-12, keep_zero_weights=False)
    assert free.max_abs_residual <= np.max(np.abs(start(X) - y))


def test_finish_converges_on_most_near_fits():
    rng = np.random.default_rng(11)
    converged = 0
    for _ in range(10):
        X = rng.uniform(-1, 1, (6, 1))
        true = _random_network(rng, 2, 1, True)
        y = true(X)
        start = Network(true.v, true.W, true.b + 0.01 * rng.normal(size=2), true.a, true.c)
        converged += finish(start, X, y, target=1e-11, count_tol=1e-12).converged
    assert converged >= 8


def test_reseeded_neuron_fixes_the_largest_residual_and_is_off_at_the_nearest_point():
    rng = np.random.default_rng(2)
    for d in (1, 2, 3):
        X = rng.uniform(-1, 1, (9, d))
        net = _random_network(rng, 2, d, d == 1)
        r = net(X) - rng.normal(size=9)
        worst = int(np.argmax(np.abs(r)))
        grown = reseeded(net, X, r)
        assert grown.width == 3
        assert grown(X[worst:worst + 1])[0] - net(X[worst:worst + 1])[0] == pytest.approx(-r[worst])
        others = np.delete(np.arange(9), worst)
        nearest = others[np.argmin(np.linalg.norm(X[others] - X[worst], axis=1))]
        assert grown.preactivations(X[nearest:nearest + 1])[0, -1] < 0


def test_finishing_phase_never_goes_below_the_closed_form_optimum():
    rng = np.random.default_rng(8)
    for _ in range(6):
        n = int(rng.integers(5, 10))
        data = Dataset.from_arrays(np.sort(rng.uniform(-1, 1, n)), rng.normal(size=n))
        exact = sparsest_interpolant(data).network
        noisy = Network(exact.v * 1.01, exact.W, exact.b, exact.a, exact.c)
        result = finishing_phase(noisy, data, target=1e-9, count_tol=1e-12, p=0.4)
        assert result.converged
        check = recheck(result.network, data, tolerance=1e-8)
        assert check.interpolates and check.neurons == min_knots(data)  # an optimum: no prune below it


def test_trained_networks_interpolate_on_their_own_on_unseen_scales():
    # issue 10: at 1e-7 max(1, max|y|), unpolished, whatever the data's scale
    rng = np.random.default_rng(2026)
    for x_scale, y_scale in ((1e-2, 1e3), (1e3, 1e-2)):
        n = 7
        x = np.sort(rng.choice(np.arange(-15, 16), size=n, replace=False)) * x_scale
        data = Dataset.from_arrays(x, rng.integers(-3, 4, size=n) * y_scale, name="unseen")
        result = LpTrainer(seed=0, polish=False).fit(data).result_
        assert result.interpolates and result.fit == "interpolates"
        assert result.max_abs_residual <= data.interpolation_tol
        assert result.neurons >= min_knots(data)  # never below the proven optimum
        assert result.to_json()["normalization"]["x_scale"][0] == pytest.approx(np.ptp(x) / 2)
        assert result.finishing.converged


def test_best_iterate_is_the_sparsest_interpolating_check():
    data = Dataset.from_arrays([0, 1, 2, 3], [0, 1, 0, 1])
    result = LpTrainer(method="none", schedule="paper", width=10, steps=4000, patience=0, history_every=100,
                       polish=False, seed=1).fit(data).result_
    tol = result.tolerances["interpolation"]
    interpolating = [row for row in result.history if row["max_abs_residual"] <= tol]
    assert interpolating  # this run touches the data early: its result must interpolate too
    assert result.interpolates
    fewest = min(row["neurons"] for row in interpolating)
    assert result.weights_step in {row["step"] for row in interpolating if row["neurons"] == fewest} | {result.steps}


def _fixed_knot_misfit(net, x, y):
    """Least-squares misfit of the best (v, a, c) on the knots of the 1-D ``net``."""
    t = -net.b / net.W[:, 0]
    A = np.hstack([x[:, None], np.ones((len(x), 1)), np.maximum(np.sign(net.W[:, 0]) * (x[:, None] - t), 0)])
    r = A @ np.linalg.lstsq(A, y, rcond=None)[0] - y
    return float(r @ r)


def test_knot_slide_lowers_the_fixed_knot_misfit_and_recovers_displaced_sparsest_knots():
    """_slid from the sparsest interpolant with every knot displaced by half the smallest gap:
    the fixed-knot misfit never rises, and LM from the slid knots reaches the data in most seeds."""
    from sparsest.training.knots import KnotFit

    rng = np.random.default_rng(11)
    reached = 0
    for trial in range(12):
        n = int(rng.integers(6, 12))
        x = np.sort(rng.choice(np.arange(-15, 16), size=n, replace=False)).astype(float) / 15
        y = rng.integers(-3, 4, size=n).astype(float)
        data = Dataset.from_arrays(x, y)
        best = sparsest_interpolant(data).network
        assert best.width == min_knots(data)
        shift = np.min(np.diff(x)) / 2 * rng.choice([-1.0, 1.0], best.width)
        moved = Network(best.v, best.W.copy(), best.b + best.W[:, 0] * shift, best.a, best.c)
        slid = KnotFit(x, y, skip=True, bias=True).slid(moved, 1e-9, 10)
        if slid is None:
            continue
        assert slid.width == best.width and np.all(np.abs(slid.W[:, 0]) == 1.0)
        assert _fixed_knot_misfit(slid, x, y) <= _fixed_knot_misfit(moved, x, y) + 1e-12
        reached += finish(slid, data.X, y, target=1e-9, count_tol=1e-12).converged
    assert reached >= 6
