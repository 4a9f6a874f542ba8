"""Seeded random-start fits of a width-k ReLU network to the data: they propose likely supports.

Used by the exhaustive search (:mod:`sparsest.exact.exhaustive`, to probe large sizes before enumerating
them) and by the MILP (:mod:`sparsest.exact.milp`, for incumbents). Never a proof: every support they
propose is decided by an LP.
"""

from __future__ import annotations

import math
import time

import numpy as np


def fit_width(X_tilde: np.ndarray, y: np.ndarray, affine: np.ndarray, width: int, restarts: int,
              iterations: int, rng: np.random.Generator,
              deadline: float = math.inf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg-Marquardt fits of sum_j v_j relu(u_j . x~) [+ affine] to y from random starts.

    v_j = +-1 at random (the scale lives in u_j); each start puts hyperplane j through a random
    data point. Returns the pre-activations (R, N, width), the signs (R, width) and the squared
    residuals (R,) of every start, after ``iterations`` steps or at ``deadline`` (time.monotonic()),
    whichever comes first. Only used to order the search: its answers are re-decided by LP.
    """
    n, size = X_tilde.shape
    f = affine.shape[1]
    directions = rng.normal(size=(restarts, width, size - 1))
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    through = X_tilde[rng.integers(0, n, size=(restarts, width)), :-1]
    bias = -np.einsum("rkd,rkd->rk", directions, through) + 0.1 * rng.normal(size=(restarts, width))
    theta = np.concatenate([directions, bias[..., None]], axis=2) * max(1.0, float(np.abs(y).max()))
    signs = rng.choice([-1.0, 1.0], size=(restarts, width))
    phi = np.zeros((restarts, f))
    n_par = width * size + f

    def residuals(theta, phi):
        pre = np.einsum("nd,rkd->rnk", X_tilde, theta)
        return pre, (np.maximum(pre, 0.0) * signs[:, None, :]).sum(axis=2) + phi @ affine.T - y

    pre, res = residuals(theta, phi)
    loss = (res ** 2).sum(axis=1)
    damping = np.full(restarts, 1e-2)
    for _ in range(iterations):
        if time.monotonic() > deadline:
            break
        active = (pre > 0) * signs[:, None, :]
        J = (active[:, :, :, None] * X_tilde[None, :, None, :]).reshape(restarts, n, width * size)
        J = np.concatenate([J, np.broadcast_to(affine, (restarts, n, f))], axis=2)
        normal = np.einsum("rni,rnj->rij", J, J)
        diagonal = np.einsum("rii->ri", normal) + 1e-9
        normal[:, np.arange(n_par), np.arange(n_par)] += damping[:, None] * diagonal
        step = np.linalg.solve(normal, -np.einsum("rni,rn->ri", J, res)[..., None])[..., 0]
        new_theta = theta + step[:, :width * size].reshape(theta.shape)
        new_phi = phi + step[:, width * size:]
        new_pre, new_res = residuals(new_theta, new_phi)
        new_loss = (new_res ** 2).sum(axis=1)
        better = new_loss < loss
        theta[better], phi[better], pre[better] = new_theta[better], new_phi[better], new_pre[better]
        res[better], loss[better] = new_res[better], new_loss[better]
        damping = np.clip(np.where(better, damping / 3, damping * 4), 1e-9, 1e9)
    return pre, signs, loss
