"""Signs ruled out without an LP when a support's interpolation system has one solution (docs/math.md §3.5).

A neuron support of m distinct sets A_1..A_m, with signs s_b, interpolates when
y = F a + sum_b s_b D_{A_b} X~ u_b with u_b in the cone C_{A_b} (F the free affine columns). Write
H = [F, D_{A_1} X~, ..., D_{A_m} X~]. When H has full column rank, H c = y has at most one solution
c* = (a*, c_1*, ..., c_m*), and every interpolant on these sets has s_b u_b = c_b*: the sign s_b is
possible only if s_b c_b* lies in C_{A_b}, i.e. sigma_i x~_i . (s_b c_b*) >= 0 for every point i
(sigma_i = +1 in A_b, -1 outside).

Tolerances. Any u that interpolates to within tau per point (tau = the interpolation tolerance of
docs/math.md §6, far looser than the support LP's 1e-10) lies within ||H^+|| sqrt(N) tau =
sqrt(N) tau / sigma_min(H) of c* (2-norm), so its cone values differ from those of c* by at most
||x~_i|| sqrt(N) tau / sigma_min. A sign is ruled out only when some cone value of s_b c_b* is
below -SAFETY * (tau + max_i ||x~_i|| sqrt(N) tau / sigma_min): then no point within the LP's
tolerances (nor within tau) satisfies it, and the LP would declare the support infeasible.
Supports whose H is not of full column rank (sigma_min <= RANK_RTOL sigma_max) are left to the LP.
The box only shrinks the feasible set, so ignoring it keeps the argument valid.

A set used with both signs (blocks (A, +) and (A, -)) contributes D_A X~ (u_+ - u_-), and
u_+ - u_- ranges over all of R^{d+1} (C_A is a full-dimensional cone, §3.1), so its coefficient
constrains nothing: the signs fixed this way are those of the sets used once.
"""

from __future__ import annotations

import numpy as np

#: H counts as of full column rank when sigma_min > RANK_RTOL * sigma_max.
RANK_RTOL = 1e-8
#: Safety factor on the perturbation bound of the cone values.
SAFETY = 10.0
#: Upper limit on floats held by one batch.
_BATCH_FLOATS = 2_000_000


def possible_signs(patterns: np.ndarray, X_tilde: np.ndarray, free: np.ndarray, y: np.ndarray,
                   tuples: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """For each tuple of m distinct sets (rows of ``tuples``, indices into ``patterns`` (P, N)):
    ``decided`` (K,) whether H has full column rank, and ``allowed`` (K, m, 2) whether sign +1
    (column 0) and -1 (column 1) of set b are still possible. Rows not decided allow every sign."""
    K, m = tuples.shape
    n, width = X_tilde.shape
    f = free.shape[1]
    decided = np.zeros(K, dtype=bool)
    allowed = np.ones((K, m, 2), dtype=bool)
    if K == 0 or m == 0 or f + m * width > n:
        return decided, allowed
    row_norm = float(np.linalg.norm(X_tilde, axis=1).max())
    step = max(1, _BATCH_FLOATS // (n * (f + m * width) * 2))
    for s in range(0, K, step):
        chunk = tuples[s:s + step]
        inside = patterns[chunk]                                                       # (k, m, N)
        designs = (inside[:, :, :, None] * X_tilde[None, None]).transpose(0, 2, 1, 3).reshape(len(chunk), n, m * width)
        H = np.concatenate([np.broadcast_to(free, (len(chunk),) + free.shape), designs], axis=2)
        U, singular, Vt = np.linalg.svd(H, full_matrices=False)
        full_rank = singular[:, -1] > RANK_RTOL * singular[:, 0]
        safe = np.where(full_rank, singular[:, -1], 1.0)
        inverse = np.divide(1.0, singular, out=np.zeros_like(singular), where=full_rank[:, None])
        c = np.einsum("kji,kj->ki", Vt, np.einsum("knj,n->kj", U, y) * inverse)         # H^+ y
        blocks = c[:, f:].reshape(len(chunk), m, width)
        values = np.einsum("nd,kbd->kbn", X_tilde, blocks) * np.where(inside, 1.0, -1.0)  # sigma_i x~_i . c_b
        margin = SAFETY * (tau + row_norm * np.sqrt(n) * tau / safe)[:, None]
        plus = values.min(axis=2) >= -margin
        minus = (-values).min(axis=2) >= -margin
        decided[s:s + step] = full_rank
        allowed[s:s + step, :, 0] = np.where(full_rank[:, None], plus, True)
        allowed[s:s + step, :, 1] = np.where(full_rank[:, None], minus, True)
    return decided, allowed
