"""Interpolants that bound the optimum from above (never a proof): every one is decided by the
support LP and re-checked (docs/math.md §3, §6).

* :func:`projection_interpolant`: an interpolant that always exists (N neurons or fewer): project
  the data on a seeded direction and interpolate the projected values with ReLUs at midpoints.
  It guarantees that a feasible problem never ends without a network.
* :func:`fitted_interpolant`: seeded random-start network fits of increasing width; the supports
  of the best fits are decided by the support LP (the upper bound at the planted width within
  seconds on the planted families of issue 11).
* :func:`prune_blocks`: drop whole blocks while the support LP stays feasible.
* :func:`prune_coordinates`: zero path weights (and biases, when counted) one by one while the
  support LP stays feasible: from a neuron certificate's network to a parameter incumbent.
"""

from __future__ import annotations

import math
import time

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.network import Network
from sparsest.core.recheck import recheck
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.probe import fit_width

#: Seed of the projection directions (same data, same network).
PROJECTION_SEED = 0
#: Seed of the network fits of :func:`fitted_interpolant`.
FIT_SEED = 0
#: One batch of network fits: random starts, each fitted this many steps; the supports of the best
#: starts are decided by LP.
FIT_RESTARTS, FIT_ITERATIONS, FIT_CANDIDATES = 512, 40, 16


def projection_interpolant(dataset: Dataset, seed: int = PROJECTION_SEED) -> Network | None:
    """f(x) = sum_k c_k relu(w.x - t_k) (+ nothing else) with f(x_i) = y_i, or None when the points
    do not project to distinct values on the seeded unit direction w.

    Sorted projections z_(1) < ... < z_(N); t_1 = z_(1) - 1 and t_k = (z_(k-1) + z_(k)) / 2, so the
    matrix relu(z_(i) - t_k) is lower triangular with a positive diagonal and c solves it exactly.
    Neurons with c_k = 0 are dropped. The caller re-checks the network (it can be ill-conditioned).
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(size=dataset.dim)
    w /= np.linalg.norm(w)
    z = dataset.X @ w
    order = np.argsort(z, kind="stable")
    zs = z[order]
    if len(zs) and np.any(np.diff(zs) <= 1e-12 * max(1.0, float(np.abs(zs).max()))):
        return None
    t = np.concatenate([[zs[0] - 1.0], (zs[:-1] + zs[1:]) / 2]) if len(zs) else np.zeros(0)
    H = np.maximum(zs[:, None] - t[None, :], 0.0)
    c = np.linalg.solve(H, dataset.y[order]) if len(zs) else np.zeros(0)
    keep = c != 0
    scale = np.abs(c[keep])
    W = scale[:, None] * w[None, :]
    a = np.zeros(dataset.dim) if dataset.skip else None
    c0 = 0.0 if dataset.skip or dataset.output_bias else None
    return Network(np.sign(c[keep]), W, -scale * t[keep], a, c0)


def projection_support_interpolant(dictionary: BlockDictionary, *, box: float | None = None,
                                   directions: int = 4, deadline: float = math.inf) -> Network | None:
    """An interpolant inside the box R: the blocks of :func:`projection_interpolant` for
    ``directions`` seeded directions together (more blocks, smaller weights: one projection alone
    usually needs weights far above R), fitted by the support LP, then pruned block by block.
    None when even that support does not interpolate in the box."""
    data = dictionary.dataset
    blocks: set[int] = set()
    for seed in range(PROJECTION_SEED, PROJECTION_SEED + directions):
        network = projection_interpolant(data, seed)
        if network is not None:
            blocks.update(_blocks(dictionary, network))
    fit = dictionary.fit_support(sorted(blocks), box=box)
    if not fit.feasible or _count(data, fit.network, "neurons", False) is None:
        return None
    return prune_blocks(dictionary, fit.network, box=box, deadline=deadline)


def fitted_interpolant(dictionary: BlockDictionary, first_width: int, below: int | None, *,
                       box: float | None = None, deadline: float = math.inf, seed: int = FIT_SEED,
                       jobs: int = 1) -> Network | None:
    """The sparsest interpolant met by seeded network fits of widths first_width <= k < ``below``
    until ``deadline`` (None when none is met).

    Passes over the widths in increasing order, one batch of :data:`FIT_RESTARTS` random-start
    Levenberg-Marquardt fits (:func:`sparsest.exact.probe.fit_width`) per width; the blocks of the
    best :data:`FIT_CANDIDATES` fits are decided by the support LP (inside the box) and the network
    re-checked and pruned block by block. A hit at width k ends the pass and the next passes stay
    below its count, so the widths just below the best keep getting new starts; after a hit in
    batch h the fits go on to batch 2 h + 2 at most (counted in batches, not seconds, so that the
    answer depends on the deadline only, not on how fast the fits ran). An upper bound only: the
    proof is the search's.
    """
    data = dictionary.dataset
    rng = np.random.default_rng(seed)
    affine = dictionary.affine_design()
    first = max(int(first_width), 1)
    best, top = None, below
    tried: set[tuple[int, ...]] = set()
    batches, last = 0, math.inf
    while time.monotonic() < deadline and (top is None or first < top) and batches < last:
        width = first
        while (top is None or width < top) and time.monotonic() < deadline and batches < last:
            found = _fitted_at(dictionary, width, rng, affine, tried, box, deadline, jobs)
            batches += 1
            if found is not None:
                best, top = found, _count(data, found, "neurons", False)
                # patience: after a hit, look below it for about as long again as the hit took
                last = min(last, 2 * batches + 2)
                break
            width += 1
    return best


def _fitted_at(dictionary, width, rng, affine, tried, box, deadline, jobs=1) -> Network | None:
    """One batch of fits of a width-``width`` network; the first re-checked interpolant, pruned."""
    data = dictionary.dataset
    pre, signs, loss = fit_width(data.X_tilde, data.y, affine, width, FIT_RESTARTS, FIT_ITERATIONS, rng, deadline,
                                  jobs=jobs)
    for r in np.argsort(loss, kind="stable")[:FIT_CANDIDATES]:
        blocks = tuple(dictionary.blocks_of(pre[r], signs[r]))
        if blocks in tried or time.monotonic() > deadline:
            continue
        tried.add(blocks)
        fit = dictionary.fit_support(list(blocks), box=box)
        if fit.feasible and _count(data, fit.network, "neurons", False) is not None:
            return prune_blocks(dictionary, fit.network, box=box, deadline=deadline) or fit.network
    return None


def _count(dataset: Dataset, network: Network, objective: str, count_bias: bool) -> int | None:
    """The re-checked count of an interpolating network, None when it does not interpolate."""
    check = recheck(network, dataset, count_bias=count_bias, exact=False)
    if not check.interpolates:
        return None
    return check.neurons if objective == "neurons" else check.parameters


def _blocks(dictionary: BlockDictionary, network: Network) -> list[int]:
    active = network.active_mask(dictionary.dataset.X, dictionary.dataset.count_tol)
    return dictionary.blocks_of(network.preactivations(dictionary.dataset.X)[:, active], network.v[active])


def prune_blocks(dictionary: BlockDictionary, network: Network, *, box: float | None = None,
                 deadline: float = math.inf) -> Network | None:
    """The network re-fitted on its blocks (inside the box R when given), then blocks dropped one
    at a time (smallest path weights first) while the support LP stays feasible and its network
    re-checks; stops at ``deadline``. None when its own support does not interpolate in the box."""
    data = dictionary.dataset
    blocks = _blocks(dictionary, network)
    fit = dictionary.fit_support(blocks, box=box)
    if not fit.feasible or _count(data, fit.network, "neurons", False) is None:
        return None
    best = fit.network
    size = np.abs(best.path_weights()).sum(axis=1) if best.width else np.zeros(0)
    for b in [blocks[i] for i in np.argsort(size, kind="stable")]:
        if time.monotonic() > deadline:
            break
        trial = [c for c in blocks if c != b]
        fit = dictionary.fit_support(trial, box=box)
        if fit.feasible and _count(data, fit.network, "neurons", False) is not None:
            blocks, best = trial, fit.network
    return best


def prune_coordinates(dictionary: BlockDictionary, network: Network, *, count_bias: bool = False,
                      box: float | None = None, deadline: float = math.inf) -> Network | None:
    """The network re-fitted on its blocks (inside the box R when given), then path weights u_bj
    (j < d; also the bias when ``count_bias``) fixed to 0 one at a time, smallest |u_bj| first,
    while the support LP (:meth:`BlockDictionary.fit_support` with the coordinate mask; its l1
    objective zeroes more) stays feasible and re-checks. One pass: feasibility is monotone in the
    mask. Stops at ``deadline``. None when its own support does not interpolate in the box."""
    data, d = dictionary.dataset, dictionary.dataset.dim
    blocks = _blocks(dictionary, network)
    mask = np.ones((len(blocks), d + 1), dtype=bool)
    fit = dictionary.fit_support(blocks, box=box, coordinates=mask)
    if not fit.feasible or _count(data, fit.network, "parameters", count_bias) is None:
        return None
    best, weights = fit.network, np.column_stack([fit.network.W, fit.network.b])
    counted = d + 1 if count_bias else d
    mask[:, :counted] = weights[:, :counted] != 0
    # One pass suffices: the support LP is monotone in the mask, so a coordinate that cannot be
    # zeroed now cannot be zeroed after others are.
    order = np.argsort(np.where(mask[:, :counted], np.abs(weights[:, :counted]), np.inf), axis=None, kind="stable")
    for flat in order[: int(mask[:, :counted].sum())]:
        row, col = np.unravel_index(flat, (len(blocks), counted))
        if not mask[row, col]:
            continue  # already zeroed by an earlier fit
        if time.monotonic() > deadline:
            break
        trial = mask.copy()
        trial[row, col] = False
        fit = dictionary.fit_support(blocks, box=box, coordinates=trial)
        if fit.feasible and _count(data, fit.network, "parameters", count_bias) is not None:
            best, weights = fit.network, np.column_stack([fit.network.W, fit.network.b])
            mask = trial
            mask[:, :counted] &= weights[:, :counted] != 0
    return best
