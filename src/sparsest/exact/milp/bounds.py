"""Valid big-M bounds of the MILP (docs/math.md §3): the proven 1-D slope bound or the box R."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsest.exact.problem import check_box

#: Slack on the proven slope bound M, against rounding of the data slopes to float64.
_SLOPE_SLACK = 1.0 + 1e-9


@dataclass(frozen=True)
class BigM:
    """The bounds behind every big-M (see the module docstring).

    kind : "slope" (1-D skip term, proven without a box) or "box" (|path weight| <= R is part of
        the problem). weight : M on every path weight |u_bj|. box : R for "box", None for "slope".
    reason : one sentence saying why M is valid, for the certificate's assumptions.
    """

    kind: str
    weight: float
    box: float | None
    reason: str


def default_box(dataset) -> float:
    """The default box R = 10 max(S, max|y| / (1 + L)), S = max_{i != j} |y_i - y_j| / ||x_i - x_j||_1
    the data's steepest slope, L = max_i ||x_i||_1.

    Any interpolant has sum_k max_j |u_kj| >= S (|f(x_i) - f(x_j)| <= sum_k ||u_k||_inf
    ||x_i - x_j||_1 without the skip term), and a constant offset max|y| needs the all-points bias
    bound R (1 + L) (:meth:`BlockDictionary.bias_bounds`) to reach it: R is ten times the larger of
    the two scales the data itself demands of one neuron. A result that touches R says so
    (``box_touched``).
    """
    X, y = dataset.X, dataset.y
    dist = np.abs(X[:, None, :] - X[None, :, :]).sum(axis=2)
    rise = np.abs(y[:, None] - y[None, :])
    off_diagonal = dist > 0
    steepest = float(np.max(rise[off_diagonal] / dist[off_diagonal])) if off_diagonal.any() else 0.0
    offset = float(np.max(np.abs(y))) / (1.0 + float(np.abs(X).sum(axis=1).max()))
    scale = max(steepest, offset)
    return 10.0 * scale if scale > 0 else 1.0


def slope_bound(dataset) -> float:
    """max_i s_i - min_i s_i over the segment slopes of the 1-D data sorted by x (exact, then float)."""
    pairs = sorted(zip((row[0] for row in dataset.X_exact), dataset.y_exact))
    slopes = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(pairs, pairs[1:])]
    return float(max(slopes) - min(slopes)) if slopes else 0.0


def big_m(dataset, *, objective: str = "neurons", count_bias: bool = False,
          box: float | None = None) -> BigM:
    """Choose valid big-M bounds: the proven 1-D slope bound when it applies, else the box R
    (``box``, or :func:`default_box`)."""
    box = check_box(box)
    slope_case = dataset.dim == 1 and dataset.skip and (objective == "neurons" or not count_bias)
    if slope_case and box is None:
        M = slope_bound(dataset) * _SLOPE_SLACK
        return BigM("slope", M, None,
                    f"1-D with skip term: some sparsest interpolant (the closed form of docs/math.md §4) has "
                    f"every slope change |v w| <= max data slope - min data slope = {M:.6g}; "
                    f"its knots lie inside the data range, so the cone bounds the bias by M * |x|")
    R = float(box) if box is not None else default_box(dataset)
    origin = "given" if box is not None else "default: 10 x max(steepest data slope in l1, max|y| / (1 + max||x||_1))"
    return BigM("box", R, R,
                f"box |v_k w_kj| <= R = {R:.6g} on every path weight ({origin}) is part of the problem; "
                f"biases are bounded by the cones, the all-points bias by R (1 + max||x||_1)")
