"""Convex solvers on the block dictionary (docs/math.md §3, §5): the l1 path norm and reweighted l1 for l^p.

Every interpolating network is a sum of blocks (A_b, s_b) with u_b in the cone C_{A_b}, plus the
free affine part (:mod:`sparsest.exact.dictionary`). Over the whole dictionary (B blocks, U the B x (d+1)
matrix of the u_b, M_ib = s_b [i in A_b] and Sigma_ib = +1 on A_b, -1 off it):

    f(x_i)   = sum_b M_ib (x~_i . u_b) [+ affine]          (interpolation: f(x_i) = y_i)
    u_b in C_{A_b}  <=>  Sigma_ib (x~_i . u_b) >= 0  for all i

and the path weights of block b are u_b[:d] (its neuron has v = s_b, (w, b) = u_b), so

    min_l1_path:    min  sum_b ||u_b[:d]||_1  (+ |u_b[d]| with count_bias)     -- an LP;
    reweighted_l1:  min  sum_b sum_j c_bj |u_bj|,  c_bj = (|u_bj^(t-1)| + eps)^(p-1),

the second repeated from the l1 solution (Candes, Wakin and Boyd's reweighted l1: each solve
minimises the tangent majorizer of the concave sum_bj (|u_bj| + eps)^p, so that sum never
increases). The box |u_bj| <= R of the multivariate problem is an option (``box``); the bias of a
block is then bounded by its cone (:meth:`BlockDictionary.bias_bounds`). The LPs go to HiGHS
through cvxpy; the networks are re-checked with :func:`sparsest.core.recheck.recheck`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.exact.highs import quiet_highs
from sparsest.exact.problem import check_box
from sparsest.core.network import Network
from sparsest.core.recheck import Recheck, recheck

#: Default reweighting: eps of the weights (|u| + eps)^(p-1) and the maximum number of LPs.
REWEIGHT_EPS = 1e-3
REWEIGHT_ITERATIONS = 30
#: Stop reweighting once the support is unchanged and sum (|u| + eps)^p moved by less than this
#: (relative) between two consecutive solutions.
REWEIGHT_RTOL = 1e-6

__all__ = ["ConvexResult", "min_l1_path", "reweighted_l1"]


@dataclass(frozen=True)
class ConvexResult:
    """An interpolant from the block dictionary, re-checked from its weights.

    network : the neurons with nonzero contribution on the data (v = s_b, (w, b) = u_b) and the
        affine part; check : its :func:`recheck`. objective : the l1 path norm (``min_l1_path``) or
        sum |u|^p of the path weights (``reweighted_l1``) of ``network``. iterations : LPs solved.
    status : "optimal" or the solver's status; box : the box R used (None: no box).
    history : per LP, (sum |u|^p of its network, its neurons, the surrogate sum over the whole
        dictionary of (|u_bj| + eps)^p) -- the reweighting's trace (the surrogate never increases).
    """

    method: str
    p: float
    network: Network | None
    check: Recheck | None
    objective: float | None
    iterations: int
    status: str
    box: float | None
    seconds: float
    history: tuple[tuple[float, int, float], ...] = ()
    stopped: str = ""

    @property
    def neurons(self) -> int | None:
        return None if self.check is None else self.check.neurons

    def to_json(self, instance: str = "") -> dict:
        """The ``train --json`` object for the convex methods (the same keys as a training run)."""
        check = self.check
        return {
            "instance": instance,
            "method": self.method,
            "p": self.p,
            "neurons": None if check is None else check.neurons,
            "parameters": None if check is None else check.parameters,
            "interpolates": bool(check and check.interpolates),
            "max_abs_residual": None if check is None else check.max_abs_residual,
            "objective": self.objective,
            "iterations": self.iterations,
            "status": self.status,
            "stopped": self.stopped,
            "box": self.box,
            "seconds": self.seconds,
            "polished": None,
            "history": [{"objective": value, "neurons": n, "surrogate": g} for value, n, g in self.history],
            "network": None if self.network is None else self.network.to_json(),
            "tolerances": None if check is None else {"interpolation": check.tolerance, "count": check.count_tol},
        }


class _BlockLP:
    """The weighted-l1 LP over a dictionary, built once with the weights as a cvxpy Parameter."""

    def __init__(self, dictionary: BlockDictionary, *, box: float | None, count_bias: bool,
                 zero: np.ndarray | None = None):
        data = dictionary.dataset
        X_tilde = data.X_tilde
        masks = dictionary.patterns[dictionary.block_pattern]            # (B, N) activation sets
        M = (dictionary.block_sign[:, None] * masks).T                  # (N, B): s_b [i in A_b]
        Sigma = np.where(masks, 1.0, -1.0).T                            # (N, B): cone signs
        n_blocks, d = dictionary.n_blocks, data.dim
        self.dictionary, self.count_bias = dictionary, count_bias
        self.U = cp.Variable((n_blocks, d + 1), name="U")
        self.affine = cp.Variable(dictionary.n_affine, name="affine") if dictionary.n_affine else None
        self.weights = cp.Parameter((n_blocks, d + 1), nonneg=True, name="weights")
        outputs = X_tilde @ self.U.T                                    # (N, B): x~_i . u_b
        fitted = cp.sum(cp.multiply(M, outputs), axis=1)
        if self.affine is not None:
            fitted = fitted + dictionary.affine_design() @ self.affine
        constraints = [fitted == data.y, cp.multiply(Sigma, outputs) >= 0]
        if zero is not None and zero.any():
            constraints.append(cp.multiply(zero.astype(float), self.U) == 0)  # entries held at 0
        if box is not None:
            lower, upper = zip(*(dictionary.bias_bounds(b, box) for b in range(n_blocks)))
            constraints += [cp.abs(self.U[:, :d]) <= box, self.U[:, d] >= np.array(lower),
                            self.U[:, d] <= np.array(upper)]
        self.problem = cp.Problem(cp.Minimize(cp.sum(cp.multiply(self.weights, cp.abs(self.U)))), constraints)
        quiet_highs()  # HiGHS prints a banner on stdout once per process: let lp.py swallow it

    def unit_weights(self) -> np.ndarray:
        """1 on the path weights u_b[:d] (and on the bias u_b[d] when biases are counted)."""
        weights = np.ones(self.U.shape)
        if not self.count_bias:
            weights[:, -1] = 0.0
        return weights

    def solve(self, weights: np.ndarray) -> tuple[str, np.ndarray | None, np.ndarray | None]:
        self.weights.value = weights
        try:
            self.problem.solve(solver=cp.HIGHS)
        except cp.error.SolverError as err:
            return f"solver error: {err}", None, None
        if self.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return str(self.problem.status), None, None
        affine = None if self.affine is None else np.asarray(self.affine.value)
        return self.problem.status, np.asarray(self.U.value), affine


def _network(dictionary: BlockDictionary, U: np.ndarray, affine, count_tol: float) -> Network:
    """The network of the solution, neurons with no contribution on the data removed."""
    full = dictionary.network(range(dictionary.n_blocks), U, affine)
    return full.pruned(dictionary.dataset.X, count_tol)


def _lp_value(network: Network, p: float, count_bias: bool) -> float:
    """sum |u|^p over the path weights (and the bias path weights when counted) of the network."""
    paths = network.path_weights()
    if count_bias:
        paths = np.hstack([paths, (network.v * network.b)[:, None]])
    return float(np.sum(np.abs(paths[paths != 0]) ** p))


def _prepare(dataset: Dataset, dictionary: BlockDictionary | None, box: float | None) -> BlockDictionary:
    if not isinstance(dataset, Dataset):
        raise SparsestError("the convex solvers need a sparsest Dataset (see sparsest.load_dataset)")
    check_box(box)
    if dictionary is None:
        return BlockDictionary(dataset)
    if dictionary.dataset is not dataset and not (
            np.array_equal(dictionary.dataset.X, dataset.X) and np.array_equal(dictionary.dataset.y, dataset.y)
            and dictionary.dataset.skip == dataset.skip):
        raise SparsestError("the dictionary was built for other data or options than this dataset")
    return dictionary


def min_l1_path(dataset: Dataset, *, dictionary: BlockDictionary | None = None, box: float | None = None,
                count_bias: bool = False) -> ConvexResult:
    """The minimum l1 path-norm interpolant over the block dictionary (an LP, solved by HiGHS).

    Minimises sum_b ||u_b[:d]||_1 (plus |u_b[d]| when ``count_bias``) subject to interpolation and
    u_b in C_{A_b} (and |u_bj| <= R when ``box``). In 1-D with the skip term its value is the total
    slope variation sum_i |s_i - s_{i-1}| of the data. ``objective`` is the l1 path norm of the
    re-checked network.
    """
    started = time.perf_counter()
    dictionary = _prepare(dataset, dictionary, box)
    lp = _BlockLP(dictionary, box=box, count_bias=count_bias)
    status, U, affine = lp.solve(lp.unit_weights())
    if U is None:
        return ConvexResult("convex-l1", 1.0, None, None, None, 1, status, box, time.perf_counter() - started,
                            stopped="the LP has no solution")
    network = _network(dictionary, U, affine, dataset.count_tol)
    check = recheck(network, dataset, count_bias=count_bias)
    value = _lp_value(network, 1.0, count_bias)
    return ConvexResult("convex-l1", 1.0, network, check, value, 1, status, box, time.perf_counter() - started,
                        history=((value, check.neurons, value),), stopped="one LP")


def reweighted_l1(dataset: Dataset, *, p: float = 0.4, eps: float = REWEIGHT_EPS,
                  iterations: int = REWEIGHT_ITERATIONS, dictionary: BlockDictionary | None = None,
                  box: float | None = None, count_bias: bool = False) -> ConvexResult:
    """Iteratively reweighted l1 for the l^p path penalty, warm-started from :func:`min_l1_path`.

    LP t minimises sum_bj c_bj |u_bj| with c_bj = (|u_bj^(t-1)| + eps)^(p-1) over the same
    feasible set (interpolation, cones, box). Stopping rule: after at most ``iterations`` LPs, or
    as soon as the support (blocks with a nonzero contribution on the data) is the same as after
    the previous LP and sum (|u| + eps)^p changed by less than REWEIGHT_RTOL relative. The result
    is the last solution; ``objective`` is its sum |u|^p. A local method: its count is an upper
    bound on the sparsest, never a certificate.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not (0 < p <= 1):
        raise SparsestError(f"p must be in (0, 1], got {p!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (eps > 0) or not np.isfinite(eps):
        raise SparsestError(f"eps must be a positive number, got {eps!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise SparsestError(f"iterations must be a whole number >= 1, got {iterations!r}")
    started = time.perf_counter()
    dictionary = _prepare(dataset, dictionary, box)
    lp = _BlockLP(dictionary, box=box, count_bias=count_bias)
    mask = lp.unit_weights()
    weights = mask
    history, support, surrogate = [], None, None
    network = check = None
    status, stopped = "", f"{iterations} LPs (the limit)"
    for iteration in range(1, iterations + 1):
        status, U, affine = lp.solve(weights)
        if U is None:
            if network is None:
                return ConvexResult("convex-reweighted", float(p), None, None, None, iteration, status, box,
                                    time.perf_counter() - started, stopped="the LP has no solution")
            stopped = f"LP {iteration} failed ({status}); the previous solution is kept"
            iteration -= 1
            break
        network = _network(dictionary, U, affine, dataset.count_tol)
        check = recheck(network, dataset, count_bias=count_bias)
        new_support = tuple(sorted(zip(map(tuple, check.activation_sets), network.v.tolist())))
        new_surrogate = float(np.sum(mask * (np.abs(U) + eps) ** p))
        history.append((_lp_value(network, p, count_bias), check.neurons, new_surrogate))
        if (support == new_support and surrogate is not None
                and abs(surrogate - new_surrogate) <= REWEIGHT_RTOL * max(1.0, abs(surrogate))):
            stopped = f"converged after {iteration} LPs (support and sum (|u|+eps)^p unchanged)"
            break
        support, surrogate = new_support, new_surrogate
        weights = mask * (np.abs(U) + eps) ** (p - 1.0)
    return ConvexResult("convex-reweighted", float(p), network, check, history[-1][0], iteration, status, box,
                        time.perf_counter() - started, history=tuple(history), stopped=stopped)
