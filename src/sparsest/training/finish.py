"""The finishing phase: the trained network's own weights driven to interpolation (issue 10).

After the sparsifying phase the network fits the data only to the stop rule's loose tolerance.
:func:`finish` solves f(x_i) = y_i on the network's own weights with Levenberg-Marquardt in
float64: r_i(theta) = sum_k v_k relu(w_k . x_i + b_k) [+ a . x_i + c] - y_i is piecewise smooth,
its Jacobian on the current activation pattern is

    dr_i/dv_k = relu(z_ik),  dr_i/dw_kj = v_k [z_ik > 0] x_ij,  dr_i/db_k = v_k [z_ik > 0],
    dr_i/da_j = x_ij,        dr_i/dc = 1                         (z_ik = w_k . x_i + b_k),

and every accepted step lowers sum_i r_i^2 (activation patterns may change while it moves). Only
the active neurons move and every weight that is exactly 0 stays 0 (``frozen``: the sparsity the
l^p phase found is kept; docs/math.md §5). Nothing here proves anything: the caller re-checks
the result (docs/math.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsest.core.network import Network
from sparsest.training.knots import KnotFit

__all__ = ["Finish", "finish"]

#: LM steps of one prune-and-refit trial (a removal is kept only if this many reach the target).
PRUNE_ITERATIONS = 60
#: LM steps the prune-and-refit loop may spend in all, per data point (bounds its time: about
#: N * PRUNE_BUDGET_PER_POINT steps of one least-squares solve of N + P rows, P parameters).
PRUNE_BUDGET_PER_POINT = 2000
#: Passes of the knot slide (:meth:`KnotFit.slid`) per prune candidate: each moves one knot one grid step.
SLIDE_PASSES = 10
#: Passes of the knot relocation (:meth:`KnotFit.relocated`) per prune candidate, at least: each moves
#: one knot anywhere along the data (a candidate with k knots gets max(RELOCATION_PASSES, k) passes).
RELOCATION_PASSES = 10
#: Largest damping before the iteration gives up (the step has become a tiny gradient step).
MAX_DAMPING = 1e10


@dataclass(frozen=True)
class Finish:
    """network : the finished network (its inactive neurons dropped first); max_abs_residual : of it
    on the data it was fitted to; iterations : LM steps tried; converged : residual <= target."""

    network: Network
    max_abs_residual: float
    iterations: int
    converged: bool


def _unpack(theta, k, d, skip, bias):
    W = theta[: k * d].reshape(k, d)
    b = theta[k * d: k * d + k]
    v = theta[k * d + k: k * d + 2 * k]
    rest = theta[k * d + 2 * k:]
    a = rest[:d] if skip else None
    c = rest[-1] if (skip or bias) else None
    return W, b, v, a, c


def finish(network: Network, X: np.ndarray, y: np.ndarray, *, target: float, count_tol: float,
           count_bias: bool = False, keep_zero_weights: bool = True, max_iterations: int = 200) -> Finish:
    """Levenberg-Marquardt on the weights of ``network`` until max_i |f(x_i) - y_i| <= ``target``.

    Neurons inactive on the data (contribution <= ``count_tol`` everywhere) are dropped first;
    of the others every weight moves except, when ``keep_zero_weights``, the input weights w_kj
    that are 0 (and the biases b_k that are 0 when ``count_bias``): a zero path weight stays zero
    (what the parameter count needs; the neuron count only needs the dropped neurons to stay
    dropped). The skip term / output bias of ``network`` (if any) is free. Returns the iterate
    with the smallest residual.
    """
    net = network.pruned(X, count_tol)
    k, d = net.W.shape
    skip, bias = net.a is not None, net.c is not None
    theta = np.concatenate([net.W.ravel(), net.b, net.v,
                            net.a if skip else np.zeros(0), [net.c] if bias else np.zeros(0)])
    free = np.ones(theta.size, dtype=bool)
    if keep_zero_weights:
        free[: k * d] = net.W.ravel() != 0
    if count_bias and keep_zero_weights:
        free[k * d: k * d + k] = net.b != 0
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)

    def residual(theta):
        W, b, v, a, c = _unpack(theta, k, d, skip, bias)
        z = X @ W.T + b
        out = np.maximum(z, 0.0) @ v
        if a is not None:
            out = out + X @ a
        if c is not None:
            out = out + c
        return z, out - y

    def jacobian(theta, z):
        v = _unpack(theta, k, d, skip, bias)[2]
        on = (z > 0) * v  # (N, K)
        columns = [(on[:, :, None] * X[:, None, :]).reshape(len(y), k * d), on, np.maximum(z, 0.0)]
        if skip:
            columns.append(X)
        if bias:
            columns.append(np.ones((len(y), 1)))
        return np.hstack(columns)[:, free]

    z, r = residual(theta)
    # Variable projection first: the network is linear in (v, a, c), so on the current hyperplanes
    # their least-squares values are one solve away (kept only if it lowers the residual).
    outer = free.copy()
    outer[: k * d + k] = False
    if outer.any():
        trial = theta.copy()
        J = jacobian(theta, z)[:, outer[free]]
        trial[outer] += np.linalg.lstsq(J, -r, rcond=None)[0]
        z_new, r_new = residual(trial)
        if float(r_new @ r_new) < float(r @ r):
            theta, z, r = trial, z_new, r_new
    loss, damping, iterations, factors = float(r @ r), 1e-3, 0, None
    while iterations < max_iterations and np.max(np.abs(r)) > target and damping < MAX_DAMPING:
        iterations += 1
        if factors is None:  # a new iterate: its scaled Jacobian's SVD serves every damping tried
            factors = _scaled_svd(jacobian(theta, z), r)
        scale, U_r, S, Vt = factors
        # the minimiser of |J step + r|^2 + damping |scale * step|^2 (Marquardt's damping)
        step = -(Vt.T @ (S * U_r / (S * S + damping))) / scale
        trial = theta.copy()
        trial[free] += step
        z_new, r_new = residual(trial)
        new_loss = float(r_new @ r_new)
        if new_loss < loss:
            theta, z, r, loss, factors = trial, z_new, r_new, new_loss, None
            damping = max(damping / 5.0, 1e-12)
        else:
            damping *= 4.0
    W, b, v, a, c = _unpack(theta, k, d, skip, bias)
    finished = Network(v.copy(), W.copy(), b.copy(), None if a is None else a.copy(),
                       None if c is None else float(c))
    worst = float(np.max(np.abs(r))) if len(r) else 0.0
    return Finish(finished, worst, iterations, worst <= target)


def _scaled_svd(J: np.ndarray, r: np.ndarray):
    """(scale, U^T r, S, V^T) of J diag(1 / scale) = U S V^T: Marquardt's scaling by the column
    norms of J, floored so that a nearly dead weight (tiny column) is not sent flying: its damping
    is at least 1e-4 of the largest one. The damped step for any damping is then
    -diag(1 / scale) V S (S^2 + damping)^-1 U^T r, with no new factorisation."""
    norms = (J * J).sum(axis=0)
    scale = np.sqrt(np.maximum(norms, 1e-4 * max(float(norms.max(initial=0.0)), 1e-300)))
    U, S, Vt = np.linalg.svd(J / scale, full_matrices=False)
    return scale, U.T @ r, S, Vt


def reseeded(network: Network, X: np.ndarray, residual: np.ndarray) -> Network:
    """``network`` plus one neuron that removes the largest residual r_i (an escape for a run
    stuck away from the data, e.g. with a needed neuron pruned).

    Its hyperplane lies halfway between x_i (i = argmax |r_i|) and the nearest other data point
    x_j, with normal x_i - x_j (in 1-D: a knot between two neighbouring points), so it is active
    at x_i and not at x_j; v = -r_i / relu(w . x_i + b) makes f(x_i) = y_i at once.
    """
    X = np.asarray(X, dtype=np.float64)
    i = int(np.argmax(np.abs(residual)))
    distance = np.linalg.norm(X - X[i], axis=1)
    distance[i] = np.inf
    j = int(np.argmin(distance))
    if not np.isfinite(distance[j]):  # a single point: any neuron active there
        w, bias = np.zeros(X.shape[1]), 1.0
    else:
        w = (X[i] - X[j]) / distance[j]
        bias = -float(w @ (X[i] + X[j])) / 2
    height = float(w @ X[i] + bias)
    v = -float(residual[i]) / height
    return Network(np.append(network.v, v), np.vstack([network.W, w[None, :]]),
                   np.append(network.b, bias), network.a, network.c)


class _OutOfBudget(Exception):
    """The prune-and-refit loop has spent its LM step budget."""


def _one_fewer(net: Network, p: float):
    """The candidates of one prune-and-refit round, each with one neuron fewer than ``net``: first
    ``net`` without neuron k, the smallest l^p path penalty first; then two neurons of the same
    sign merged into one, u = |v_k| (w_k, b_k) + |v_l| (w_l, b_l), the ``net.width`` most alike
    pairs first (in 1-D: the knot moves to the slope-weighted mean of the two, across the data
    points between them, and the network is unchanged outside them). At most 2 k candidates."""
    keep = np.ones(net.width, dtype=bool)
    for k in np.argsort(path_penalty(net, p), kind="stable"):
        keep[:] = True
        keep[k] = False
        yield Network(net.v[keep], net.W[keep], net.b[keep], net.a, net.c)
    U = np.abs(net.v)[:, None] * np.hstack([net.W, net.b[:, None]])
    unit = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
    pairs = [(float(np.linalg.norm(unit[k] - unit[l])), k, l) for k in range(net.width)
             for l in range(k + 1, net.width) if np.sign(net.v[k]) == np.sign(net.v[l])]
    for _, k, l in sorted(pairs)[: net.width]:
        keep[:] = True
        keep[l] = False
        merged = U[k] + U[l]
        W, b, v = net.W.copy(), net.b.copy(), net.v.copy()
        W[k], b[k], v[k] = merged[:-1], merged[-1], np.sign(net.v[k])
        yield Network(v[keep], W[keep], b[keep], net.a, net.c)


def _knot_candidates_refit(knot_fit: KnotFit, net: Network, target: float, p: float, refit) -> tuple[Finish | None, bool]:
    """1-D: a candidate of :func:`_one_fewer` that ``refit`` brings to the data, and whether its
    knots had to be moved. Four stages: the candidates as they are (in their own order), then
    with their knots slid one grid step at a time (:meth:`KnotFit.slid`), then relocated anywhere
    along the data (:meth:`KnotFit.relocated`), then two neighbouring knots of ``net`` traded for
    one (:meth:`KnotFit.exchanged`); the moved candidates are refit in the order of their
    fixed-knot misfit. (None, False) when none converges."""
    candidates = list(_one_fewer(net, p))
    smaller = next((trial for trial in map(refit, candidates) if trial.converged), None)
    if smaller is not None:
        return smaller, False
    passes = max(RELOCATION_PASSES, net.width)
    moves = (lambda: (knot_fit.slid(c, target, SLIDE_PASSES) for c in candidates),
             lambda: (knot_fit.relocated(c, target, passes) for c in candidates),
             lambda: knot_fit.exchanged(net, target, passes))
    for move in moves:
        starts = [s for s in move() if s is not None]
        starts.sort(key=knot_fit.misfit)
        smaller = next((trial for trial in map(refit, starts) if trial.converged), None)
        if smaller is not None:
            return smaller, True
    return None, False


def path_penalty(network: Network, p: float) -> np.ndarray:
    """sum_j |v_k w_kj|^p of every neuron k (the l^p path penalty of docs/math.md §5, per neuron)."""
    return (np.abs(network.path_weights()) ** p).sum(axis=1)


@dataclass(frozen=True)
class Finishing:
    """What the finishing phase did: network (the sparsest interpolant it reached, or its best
    attempt), converged, neurons_before (merged neurons handed to it), reseeds (escapes tried:
    neurons added where the residual was largest), pruned (neurons removed by prune-and-refit),
    iterations (LM steps in all), relocated (of the pruned, those that needed the knots relocated first), out_of_budget (prune-and-refit
    stopped by its LM step budget, PRUNE_BUDGET_PER_POINT per data point, not by a failed round)."""

    network: Network
    converged: bool
    max_abs_residual: float
    neurons_before: int
    reseeds: int
    pruned: int
    iterations: int
    relocated: int
    out_of_budget: bool

    def to_json(self) -> dict:
        return {"converged": self.converged, "max_abs_residual": self.max_abs_residual,
                "neurons_before": self.neurons_before, "reseeds": self.reseeds, "pruned": self.pruned,
                "iterations": self.iterations, "relocated": self.relocated,
                "out_of_budget": self.out_of_budget}


def finishing_phase(network: Network, dataset, *, target: float, count_tol: float, count_bias: bool = False,
                    keep_zero_weights: bool = True, p: float = 1.0, max_reseeds: int = 3, prune: bool = True,
                    prune_iterations: int | None = None) -> Finishing:
    """Merge (:func:`sparsest.training.extract.merge_neurons`), then :func:`finish`; while that ends
    above ``target``, add a neuron where the residual is largest (:func:`reseeded`, at most
    ``max_reseeds`` times) and finish again. Once it interpolates and ``prune``: remove one neuron
    at a time (drop one, the smallest l^p path penalty first, or merge two alike ones: see
    :func:`_one_fewer`), keeping the first candidate that :func:`finish` (at most
    ``prune_iterations`` steps) brings to ``target``. In 1-D (biases not counted), when none does,
    the same candidates are tried again with their knots first moved along the data
    (:func:`_moved_knots_refit`: LM alone cannot carry a knot across data points to where the sparser fit
    needs it); it stops when that fails too. Each round tries at most 2 k candidates (twice in
    1-D), so the phase costs O(k^2) refits of at most ``prune_iterations`` LM steps for k
    neurons handed to it, and stops anyway once it has spent PRUNE_BUDGET_PER_POINT LM steps per
    data point (keeping the sparsest interpolant so far). Dropped neurons stay dropped throughout, and so do zero path weights
    when ``keep_zero_weights`` (see :func:`finish`).
    """
    from sparsest.training.extract import merge_neurons

    prune_iterations = PRUNE_ITERATIONS if prune_iterations is None else prune_iterations
    X, y = dataset.X, dataset.y
    start = merge_neurons(network, dataset, count_tol=count_tol)
    done = finish(start, X, y, target=target, count_tol=count_tol, count_bias=count_bias, keep_zero_weights=keep_zero_weights)
    iterations, reseeds = done.iterations, 0
    knot_fit = (KnotFit(X[:, 0], y, skip=start.a is not None, bias=start.c is not None)
                if X.shape[1] == 1 and not count_bias else None)
    if not done.converged and knot_fit is not None:  # 1-D: knots stuck between the wrong points
        moved = knot_fit.relocated(done.network, target, max(RELOCATION_PASSES, done.network.width))
        if moved is not None:
            again = finish(moved, X, y, target=target, count_tol=count_tol, count_bias=count_bias,
                           keep_zero_weights=keep_zero_weights)
            iterations += again.iterations
            done = again if again.max_abs_residual < done.max_abs_residual else done
    while not done.converged and reseeds < max_reseeds:
        reseeds += 1
        done = finish(reseeded(done.network, X, done.network(X) - y), X, y, target=target,
                      count_tol=count_tol, count_bias=count_bias, keep_zero_weights=keep_zero_weights)
        iterations += done.iterations
    current, pruned, relocated, out_of_budget = done, 0, 0, False

    budget = iterations + PRUNE_BUDGET_PER_POINT * len(y)

    def refit(candidate):
        nonlocal iterations
        if iterations >= budget:
            raise _OutOfBudget
        trial = finish(candidate, X, y, target=target, count_tol=count_tol, count_bias=count_bias,
                       keep_zero_weights=keep_zero_weights, max_iterations=prune_iterations)
        iterations += trial.iterations
        return trial

    try:
        while current.converged and prune and current.network.width > 0:
            net = merge_neurons(current.network, dataset, count_tol=count_tol)
            if knot_fit is None:
                smaller = next((trial for trial in map(refit, _one_fewer(net, p)) if trial.converged), None)
                if smaller is None:
                    break
                current, pruned = smaller, pruned + 1
                continue
            smaller, moved = _knot_candidates_refit(knot_fit, net, target, p, refit)
            if smaller is None:
                break
            current, pruned, relocated = smaller, pruned + 1, relocated + moved
    except _OutOfBudget:
        out_of_budget = True
    final = merge_neurons(current.network, dataset, count_tol=count_tol) if current.converged else current.network
    return Finishing(final, current.converged, current.max_abs_residual, start.width, reseeds, pruned, iterations, relocated,
                     out_of_budget)
