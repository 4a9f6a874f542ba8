"""Seeded random-start fits of a width-k ReLU network to the data: they propose likely supports.

Used by the exhaustive search (:mod:`sparsest.exact.exhaustive`, to probe large sizes before enumerating
them) and by the MILP (:mod:`sparsest.exact.milp`, for incumbents). Never a proof: every support they
propose is decided by an LP.
"""

from __future__ import annotations

import math
import time

import numpy as np


#: Smoothing of the fits: 1 - PLAIN_SHARE of the starts fit tau softplus(z / tau) in place of relu(z),
#: tau shrinking geometrically from tau_0 (log-uniform in SMOOTHING_RANGE times max(1, max|y|),
#: one per start) by SMOOTHING_END over all but the last HARD_TAIL steps, which fit the ReLU itself.
#: On planted 2-D/3-D development instances this raised the share of best-loss candidates whose
#: support the LP finds feasible on most (3-D N=20: 4% to 30%; 2-D N=30: 25% to 48%) and lowered it
#: on one (1% to 0%): a smooth start lets a neuron's hyperplane cross data points that would stop
#: a ReLU fit.
SMOOTHING_RANGE, SMOOTHING_END, PLAIN_SHARE, HARD_TAIL = (0.03, 1.0), 1e-4, 0.25, 10


def _activation(pre: np.ndarray, tau: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(tau softplus(pre / tau), its derivative) per start (tau (R,); tau = 0: relu and its 0/1
    derivative); tau None: relu for every start."""
    if tau is None:
        return np.maximum(pre, 0.0), (pre > 0).astype(np.float64)
    t = np.where(tau > 0, tau, 1.0)[:, None, None]
    z = pre / t
    value, slope = t * np.logaddexp(0.0, z), 0.5 * (1.0 + np.tanh(z / 2))
    plain = tau == 0
    value[plain], slope[plain] = np.maximum(pre[plain], 0.0), pre[plain] > 0
    return value, slope


#: The starts of one call are fitted in consecutive chunks of this many (in this process or, with
#: ``jobs``, on joblib workers). Every start is fitted on its own, and the chunks are the same for
#: every ``jobs``, so the fits do not depend on where they ran.
FIT_CHUNK = 128


def fit_width(X_tilde: np.ndarray, y: np.ndarray, affine: np.ndarray, width: int, restarts: int,
              iterations: int, rng: np.random.Generator,
              deadline: float = math.inf, jobs: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg-Marquardt fits of sum_j v_j relu(u_j . x~) [+ affine] to y from random starts.

    v_j = +-1 at random (the scale lives in u_j); each start puts hyperplane j through a random
    data point. Most starts begin on a smoothed ReLU and end on the ReLU (see SMOOTHING_RANGE).
    Returns the pre-activations (R, N, width), the signs (R, width) and the squared ReLU
    residuals (R,) of every start, after ``iterations`` steps or at ``deadline``
    (time.monotonic()), whichever comes first. Only used to order the search: its answers are
    re-decided by LP. The starts are drawn here from ``rng``; ``jobs`` != 1 fits their chunks
    (:data:`FIT_CHUNK`) on joblib workers, with the same results as ``jobs=1`` (up to the
    deadline, which each worker reads on its own clock).
    """
    theta, signs, tau_0 = _draw_starts(X_tilde, y, width, restarts, rng)
    pieces = [slice(start, start + FIT_CHUNK) for start in range(0, restarts, FIT_CHUNK)]
    if jobs == 1 or len(pieces) < 2:
        fitted = [_fit_starts(X_tilde, y, affine, theta[part], signs[part], tau_0[part], iterations, deadline)
                  for part in pieces]
    else:
        from joblib import Parallel, delayed

        def remaining():  # read when joblib hands the chunk out, which it does lazily
            return None if math.isinf(deadline) else max(deadline - time.monotonic(), 0.0)

        fitted = Parallel(n_jobs=jobs)(delayed(_fit_chunk)(X_tilde, y, affine, theta[part], signs[part], tau_0[part],
                                                           iterations, remaining()) for part in pieces)
    if not fitted:
        return np.zeros((0, len(y), width)), signs, np.zeros(0)
    return (np.concatenate([pre for pre, _ in fitted]), signs,
            np.concatenate([loss for _, loss in fitted]))


def _draw_starts(X_tilde: np.ndarray, y: np.ndarray, width: int, restarts: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The random starts of :func:`fit_width`: theta (R, width, d+1), signs (R, width) and the
    first smoothing tau_0 (R,; 0 for the plain starts)."""
    n, size = X_tilde.shape
    directions = rng.normal(size=(restarts, width, size - 1))
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    through = X_tilde[rng.integers(0, n, size=(restarts, width)), :-1]
    bias = -np.einsum("rkd,rkd->rk", directions, through) + 0.1 * rng.normal(size=(restarts, width))
    scale = max(1.0, float(np.abs(y).max()))
    theta = np.concatenate([directions, bias[..., None]], axis=2) * scale
    signs = rng.choice([-1.0, 1.0], size=(restarts, width))
    low, high = SMOOTHING_RANGE
    tau_0 = scale * np.exp(rng.uniform(np.log(low), np.log(high), size=restarts))
    tau_0[rng.random(restarts) < PLAIN_SHARE] = 0.0
    return theta, signs, tau_0


def _fit_chunk(X_tilde, y, affine, theta, signs, tau_0, iterations, remaining: float | None):
    """:func:`_fit_starts` on a worker, until ``remaining`` seconds after its start (None: no limit)."""
    deadline = math.inf if remaining is None else time.monotonic() + remaining
    return _fit_starts(X_tilde, y, affine, theta, signs, tau_0, iterations, deadline)


def _fit_starts(X_tilde: np.ndarray, y: np.ndarray, affine: np.ndarray, theta: np.ndarray, signs: np.ndarray,
                tau_0: np.ndarray, iterations: int, deadline: float) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt steps from the starts (theta, signs, smoothing tau_0), each start on its
    own (its own damping): the pre-activations (R, N, width) and squared ReLU residuals (R,) at the end."""
    theta = theta.copy()
    n, size = X_tilde.shape
    restarts, width = signs.shape
    f = affine.shape[1]
    smooth_steps = max(iterations - HARD_TAIL, 0)
    phi = np.zeros((restarts, f))
    n_par = width * size + f

    def residuals(theta, phi, tau):
        pre = np.einsum("nd,rkd->rnk", X_tilde, theta)
        value, slope = _activation(pre, tau)
        return slope, (value * signs[:, None, :]).sum(axis=2) + phi @ affine.T - y

    damping = np.full(restarts, 1e-2)
    for step_index in range(iterations):
        if time.monotonic() > deadline:
            break
        tau = tau_0 * SMOOTHING_END ** (step_index / max(smooth_steps - 1, 1)) if step_index < smooth_steps else None
        slope, res = residuals(theta, phi, tau)
        loss = (res ** 2).sum(axis=1)
        active = slope * signs[:, None, :]
        J = (active[:, :, :, None] * X_tilde[None, :, None, :]).reshape(restarts, n, width * size)
        J = np.concatenate([J, np.broadcast_to(affine, (restarts, n, f))], axis=2)
        normal = np.einsum("rni,rnj->rij", J, J)
        diagonal = np.einsum("rii->ri", normal) + 1e-9
        normal[:, np.arange(n_par), np.arange(n_par)] += damping[:, None] * diagonal
        step = np.linalg.solve(normal, -np.einsum("rni,rn->ri", J, res)[..., None])[..., 0]
        new_theta = theta + step[:, :width * size].reshape(theta.shape)
        new_phi = phi + step[:, width * size:]
        better = (residuals(new_theta, new_phi, tau)[1] ** 2).sum(axis=1) < loss
        theta[better], phi[better] = new_theta[better], new_phi[better]
        damping = np.clip(np.where(better, damping / 3, damping * 4), 1e-9, 1e9)
    pre = np.einsum("nd,rkd->rnk", X_tilde, theta)
    res = (np.maximum(pre, 0.0) * signs[:, None, :]).sum(axis=2) + phi @ affine.T - y
    return pre, (res ** 2).sum(axis=1)
