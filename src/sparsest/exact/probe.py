"""Seeded random-start fits of a width-k ReLU network to the data: they propose likely supports.

Used by the exhaustive search (:mod:`sparsest.exact.exhaustive`, to probe large sizes before enumerating
them) and by the MILP (:mod:`sparsest.exact.milp`, for incumbents). Never a proof: every support they
propose is decided by an LP.
"""

from __future__ import annotations

import math
import time

import numpy as np


#: The starts of one call are fitted in consecutive chunks of this many (in this process or, with
#: ``jobs``, on joblib workers). Every start is fitted on its own, and the chunks are the same for
#: every ``jobs``, so the fits do not depend on where they ran.
FIT_CHUNK = 128


def fit_width(X_tilde: np.ndarray, y: np.ndarray, affine: np.ndarray, width: int, restarts: int,
              iterations: int, rng: np.random.Generator,
              deadline: float = math.inf, jobs: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg-Marquardt fits of sum_j v_j relu(u_j . x~) [+ affine] to y from random starts.

    v_j = +-1 at random (the scale lives in u_j); each start puts hyperplane j through a random
    data point. Returns the pre-activations (R, N, width), the signs (R, width) and the squared
    residuals (R,) of every start, after ``iterations`` steps or at ``deadline`` (time.monotonic()),
    whichever comes first. Only used to order the search: its answers are re-decided by LP.
    The starts are drawn here from ``rng``; ``jobs`` != 1 fits their chunks (:data:`FIT_CHUNK`)
    on joblib workers, with the same results as ``jobs=1`` (up to the deadline, which each worker
    reads on its own clock).
    """
    theta, signs = _draw_starts(X_tilde, y, width, restarts, rng)
    pieces = [slice(start, start + FIT_CHUNK) for start in range(0, restarts, FIT_CHUNK)]
    if jobs == 1 or len(pieces) < 2:
        fitted = [_fit_starts(X_tilde, y, affine, theta[part], signs[part], iterations, deadline) for part in pieces]
    else:
        from joblib import Parallel, delayed

        def remaining():  # read when joblib hands the chunk out, which it does lazily
            return None if math.isinf(deadline) else max(deadline - time.monotonic(), 0.0)

        fitted = Parallel(n_jobs=jobs)(delayed(_fit_chunk)(X_tilde, y, affine, theta[part], signs[part], iterations,
                                                           remaining()) for part in pieces)
    if not fitted:
        return np.zeros((0, len(y), width)), signs, np.zeros(0)
    return (np.concatenate([pre for pre, _ in fitted]), signs,
            np.concatenate([loss for _, loss in fitted]))


def _draw_starts(X_tilde: np.ndarray, y: np.ndarray, width: int, restarts: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The random starts of :func:`fit_width`: theta (R, width, d+1) and signs (R, width)."""
    n, size = X_tilde.shape
    directions = rng.normal(size=(restarts, width, size - 1))
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    through = X_tilde[rng.integers(0, n, size=(restarts, width)), :-1]
    bias = -np.einsum("rkd,rkd->rk", directions, through) + 0.1 * rng.normal(size=(restarts, width))
    theta = np.concatenate([directions, bias[..., None]], axis=2) * max(1.0, float(np.abs(y).max()))
    signs = rng.choice([-1.0, 1.0], size=(restarts, width))
    return theta, signs


def _fit_chunk(X_tilde, y, affine, theta, signs, iterations, remaining: float | None):
    """:func:`_fit_starts` on a worker, until ``remaining`` seconds after its start (None: no limit)."""
    deadline = math.inf if remaining is None else time.monotonic() + remaining
    return _fit_starts(X_tilde, y, affine, theta, signs, iterations, deadline)


def _fit_starts(X_tilde: np.ndarray, y: np.ndarray, affine: np.ndarray, theta: np.ndarray, signs: np.ndarray,
                iterations: int, deadline: float) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt steps from the starts (theta, signs), each start on its own (its own
    damping): the pre-activations (R, N, width) and squared residuals (R,) at the end."""
    theta = theta.copy()
    n, size = X_tilde.shape
    restarts, width = signs.shape
    f = affine.shape[1]
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
    return pre, loss
