"""Independent re-check of a network against the data (SPEC 6), outside any solver.

Whatever produced a network (closed form, MILP, LP on a support, training), its claims are
recomputed here from the weights alone: the forward-pass residual in float64 and, for small
instances, in exact rationals; the activation set of every active neuron; the counts of SPEC 2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.network import Network

#: Above this many point-neuron products the exact rational pass is skipped (and reported so).
EXACT_CHECK_LIMIT = 20_000


@dataclass(frozen=True)
class Recheck:
    """What the weights themselves say on the data.

    max_abs_residual : max_i |f(x_i) - y_i| in float64.
    max_abs_residual_exact : the same in exact rationals (None when the instance is too large).
    interpolates : max_abs_residual (and the exact one, when computed) <= tolerance.
    tolerance, count_tol : the interpolation and counting tolerances used.
    neurons, parameters : SPEC 2 counts recomputed from the weights (parameters: path weights
        v_k w_kj, plus v_k b_k when ``count_bias``).
    activation_sets : for every active neuron, the sorted indices {i : w_k.x_i + b_k > 0}.
    """

    max_abs_residual: float
    max_abs_residual_exact: float | None
    interpolates: bool
    tolerance: float
    count_tol: float
    neurons: int
    parameters: int
    count_bias: bool
    activation_sets: list[list[int]]

    def to_json(self) -> dict:
        return asdict(self)


def recheck(
    network: Network,
    dataset: Dataset,
    *,
    tolerance: float | None = None,
    count_tol: float | None = None,
    count_bias: bool = False,
    exact: bool | None = None,
) -> Recheck:
    """Re-verify ``network`` on ``dataset``: residuals, activation sets and counts from the weights.

    ``tolerance`` defaults to the dataset's interpolation tolerance (SPEC 6) and ``count_tol`` to
    its counting tolerance. ``exact`` forces (True) or skips (False) the rational pass; by default
    it runs when N * K <= :data:`EXACT_CHECK_LIMIT`.
    """
    if network.dim != dataset.dim:
        raise ValueError(f"network has input dimension {network.dim}, data has {dataset.dim}")
    tolerance = dataset.interpolation_tol if tolerance is None else float(tolerance)
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    residual = float(np.max(np.abs(network(dataset.X) - dataset.y)))
    if exact is None:
        exact = dataset.n_points * max(1, network.width) <= EXACT_CHECK_LIMIT
    exact_residual = None
    if exact:
        values = network.evaluate_exact(dataset.X_exact)
        exact_residual = float(max(abs(f - t) for f, t in zip(values, dataset.y_exact)))
    interpolates = residual <= tolerance and (exact_residual is None or exact_residual <= tolerance)
    active = network.active_mask(dataset.X, count_tol)
    sets = network.activation_sets(dataset.X)[active]
    return Recheck(
        max_abs_residual=residual,
        max_abs_residual_exact=exact_residual,
        interpolates=bool(interpolates),
        tolerance=tolerance,
        count_tol=count_tol,
        neurons=int(active.sum()),
        parameters=network.count_parameters(dataset.X, count_tol, count_bias=count_bias),
        count_bias=count_bias,
        activation_sets=[np.flatnonzero(row).tolist() for row in sets],
    )
