"""The 1-D knot moves of prune-and-refit (sparsest.training.knots) and the SVD-based
Levenberg-Marquardt step, cross-checked against plain least squares on seeded random data, and
prune-and-refit brought back to the closed-form optimum from networks with extra knots."""

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.network import Network
from sparsest.exact.closed_form import min_knots, sparsest_interpolant
from sparsest.training.finish import _scaled_svd, finishing_phase
from sparsest.training.knots import KnotFit


def _random_1d(rng, n):
    x = np.sort(rng.choice(np.arange(-20, 21), size=n, replace=False)).astype(float)
    return x, rng.normal(size=n)


def test_best_place_matches_brute_force_over_intervals_and_facings():
    """_best_place's misfit is the smallest two-column (ramp + step) least-squares misfit over all
    intervals (and facings without skip); where its knot lands inside the interval, the plain
    fixed-knot fit there attains that misfit."""
    rng = np.random.default_rng(5)
    attained = 0
    for trial in range(60):
        skip = trial % 3 != 0
        x, y = _random_1d(rng, int(rng.integers(6, 14)))
        fit = KnotFit(x, y, skip=skip, bias=True)
        k = int(rng.integers(0, 4))
        knots, sigma = rng.uniform(-1, 1, k), rng.choice([-1.0, 1.0], k) if not skip else np.ones(k)
        t, sense, misfit = fit._best_place(knots, sigma, fit._places())
        base = fit.columns(knots, sigma)
        brute = np.inf
        for facing in ((1.0,) if skip else (1.0, -1.0)):
            for j in range(len(x) - 1):
                mid = (x[j] + x[j + 1]) / 2
                z = facing * (x - mid)
                A = np.hstack([base, np.maximum(z, 0)[:, None], (z > 0)[:, None].astype(float)])
                r = A @ np.linalg.lstsq(A, y, rcond=None)[0] - y
                brute = min(brute, float(r @ r))
        assert misfit == np.float64(misfit) and abs(misfit - brute) <= 1e-9 * max(1.0, float(y @ y))
        plain = fit.fit(np.append(knots, t), np.append(sigma, sense))[0]
        assert plain >= misfit - 1e-9 * max(1.0, float(y @ y))  # a lower estimate at worst
        if not np.any(np.abs(x - t) <= 1e-12):  # not clamped onto a data point: the estimate is exact
            assert abs(plain - misfit) <= 1e-9 * max(1.0, float(y @ y))
            attained += 1
    assert attained >= 5


def test_relocation_and_exchange_never_raise_the_fixed_knot_misfit_and_keep_their_counts():
    rng = np.random.default_rng(8)
    for trial in range(20):
        x, y = _random_1d(rng, int(rng.integers(6, 14)))
        fit = KnotFit(x, y, skip=True, bias=True)
        k = int(rng.integers(2, 5))
        net = Network(rng.normal(size=k), np.ones((k, 1)), -rng.uniform(-1, 1, k), np.zeros(1), 0.0)
        moved = fit.relocated(net, 1e-12, 10)
        if moved is not None:
            assert moved.width == k and fit.misfit(moved) <= fit.misfit(net) * (1 + 1e-9) + 1e-12
        traded = fit.exchanged(net, 1e-12, 10)
        assert len(traded) == k - 1 and all(t.width == k - 1 for t in traded)


def test_svd_step_equals_the_stacked_least_squares_step():
    """The damped step from one SVD per iterate equals Marquardt's stacked least-squares solve."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        n, p = int(rng.integers(3, 12)), int(rng.integers(2, 15))
        J = rng.normal(size=(n, p)) * 10.0 ** rng.uniform(-3, 3, p)
        r = rng.normal(size=n)
        scale, U_r, S, Vt = _scaled_svd(J, r)
        for damping in (1e-8, 1e-3, 1.0, 1e3):
            step = -(Vt.T @ (S * U_r / (S * S + damping))) / scale
            system = np.vstack([J, np.diag(np.sqrt(damping) * scale)])
            expected = np.linalg.lstsq(system, np.concatenate([-r, np.zeros(p)]), rcond=None)[0]
            assert np.allclose(step, expected, rtol=1e-6, atol=1e-9 * np.linalg.norm(expected))


def test_prune_and_refit_returns_to_the_optimum_from_extra_knots():
    """From the closed-form sparsest interpolant plus two extra knots (it still interpolates),
    prune-and-refit reaches the proven count K* in most seeded instances and never goes below it."""
    rng = np.random.default_rng(21)
    reached, trials = 0, 10
    for _ in range(trials):
        x, y = _random_1d(rng, int(rng.integers(7, 13)))
        y = np.round(y * 2)
        data = Dataset.from_arrays(x, y)
        best = sparsest_interpolant(data).network
        extra = rng.uniform(x[0], x[-1], 2)
        net = Network(np.append(best.v, rng.normal(size=2) * 0.1), np.vstack([best.W, np.ones((2, 1))]),
                      np.append(best.b, -extra), best.a, best.c)
        done = finishing_phase(net, data, target=1e-9, count_tol=1e-12, p=0.4)
        assert done.converged and done.network.width >= min_knots(data)
        reached += done.network.width == min_knots(data)
    assert reached >= 8
