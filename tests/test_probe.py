"""Seeded random-start fits (sparsest.exact.probe): the smoothed activation, the ReLU loss they
report, seeding, and that they reach interpolating supports of planted networks."""

import numpy as np
import pytest

from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.probe import _activation, fit_width
from sparsest.generators import planted_instance


def test_the_smoothed_activation_is_softplus_with_its_derivative_and_relu_at_zero():
    rng = np.random.default_rng(3)
    pre = rng.normal(scale=2.0, size=(4, 7, 3))
    tau = np.array([0.5, 0.01, 0.0, 2.0])
    value, slope = _activation(pre, tau)
    for r, t in enumerate(tau):
        if t == 0:
            assert np.array_equal(value[r], np.maximum(pre[r], 0)) and np.array_equal(slope[r], pre[r] > 0)
            continue
        assert np.allclose(value[r], t * np.log1p(np.exp(pre[r] / t)))
        h = 1e-6
        numeric = (t * np.log1p(np.exp((pre[r] + h) / t)) - t * np.log1p(np.exp((pre[r] - h) / t))) / (2 * h)
        assert np.allclose(slope[r], numeric, atol=1e-5)
        assert np.all(value[r] >= np.maximum(pre[r], 0) - 1e-12) and np.all(value[r] - np.maximum(pre[r], 0) <= t * np.log(2) + 1e-12)
    plain, plain_slope = _activation(pre, None)
    assert np.array_equal(plain, np.maximum(pre, 0)) and np.array_equal(plain_slope, pre > 0)


def test_fits_report_the_relu_loss_of_what_they_return_and_are_seeded():
    ds = planted_instance(2, 12, 3, 5)
    affine = BlockDictionary(ds).affine_design()
    pre, signs, loss = fit_width(ds.X_tilde, ds.y, affine, 3, 64, 40, np.random.default_rng(0))
    assert pre.shape == (64, ds.n_points, 3) and signs.shape == (64, 3)
    # the affine part is fitted by least squares on the returned ReLU outputs at least as well
    outputs = (np.maximum(pre, 0) * signs[:, None, :]).sum(axis=2)
    for r in range(0, 64, 9):
        target = ds.y - outputs[r]
        best = np.linalg.lstsq(affine, target, rcond=None)[0] if affine.shape[1] else np.zeros(0)
        assert loss[r] >= float(((target - affine @ best) ** 2).sum()) - 1e-9
    again = fit_width(ds.X_tilde, ds.y, affine, 3, 64, 40, np.random.default_rng(0))
    assert np.array_equal(again[0], pre) and np.array_equal(again[2], loss)


@pytest.mark.parametrize("case", [(2, 15, 3, 1), (2, 20, 4, 2), (3, 15, 3, 3)])
def test_fits_of_the_planted_width_reach_an_interpolating_support(case):
    """Among 512 seeded starts at the planted width, some fit reaches (near) zero loss and its
    activation sets form a support that the LP finds feasible."""
    ds = planted_instance(*case)
    dictionary = BlockDictionary(ds)
    pre, signs, loss = fit_width(ds.X_tilde, ds.y, dictionary.affine_design(), case[2], 512, 40,
                                 np.random.default_rng(0))
    feasible = [dictionary.fit_support(dictionary.blocks_of(pre[r], signs[r])).feasible
                for r in np.argsort(loss, kind="stable")[:8]]
    assert any(feasible), (case, np.sort(loss)[:3])
