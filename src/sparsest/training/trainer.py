"""PyTorch training of a one-hidden-layer ReLU network with an l^p path-norm penalty (docs/math.md §5).

The network f(x) = sum_k v_k relu(w_k . x + b_k) [+ a . x + c] is trained full-batch with Adam on
the MSE loss (1/N) sum_i (f(x_i) - y_i)^2 and one of these regularisers (``method``):

``"lp"``            the paper's proximal reweighted-l1 step after every Adam step (docs/math.md §5): every
                    path weight u = v_k w_kj (and v_k b_k when ``count_bias``) is soft-thresholded by
                    C = lambda * lr * p * |u_prev|^(p-1), a weight that reached 0 stays 0, then every
                    neuron is rebalanced to |v_k| = ||w_k||_2 (the function does not change);
``"l1-path"``       the same proximal scheme with p = 1 (threshold lambda * lr);
``"lp-smooth"``     plain Adam on MSE + lambda * sum (|u| + eps)^p;
``"weight-decay"``  plain Adam on MSE + lambda * ||theta||_2^2 (v, W, b; the skip term is free);
``"none"``          MSE alone.

Two schedules (see :class:`Schedule`): ``"paper"`` is the published scheme (the data's own
coordinates, PyTorch's default initialisation, constant lambda); ``"continuation"`` (the default)
is this package's: it trains in normalized coordinates (:mod:`sparsest.training.scaling`; the
network is mapped back exactly), starts with hyperplanes through the data and a least-squares
output layer, merges the neurons of one block during training, lowers lambda when the support
settled away from the data, and ends with the finishing phase of :mod:`sparsest.training.finish`
(Levenberg-Marquardt on the network's own weights, zeros kept, until it interpolates at the
tolerance; escapes and prune-and-refit). The weights kept from the loop are those of the sparsest
interpolating check (the step is reported), never a worse last iterate. After training, :mod:`sparsest.training.extract` prunes, merges (exact on the data) and polishes (exact LP on the
trained support); the unpolished numbers are always kept next to the polished ones.

Gradients are written out by hand (the network is one matrix product) and the Adam update is the
textbook one on a single flat parameter vector; both are checked against ``torch.autograd`` and
``torch.optim.Adam`` in the tests. Everything runs in float64 on one CPU
thread: the same seed gives the same numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.training.extract import DEFAULT_SNAPS, Polish, data_diameter, extract, neuron_blocks, polish
from sparsest.core.network import Network
from sparsest.training.finish import Finishing, finishing_phase
from sparsest.training.options import SCHEDULES, TRAIN_METHODS
from sparsest.training.scaling import Scaling
from sparsest.exact.patterns import anchor_point

METHODS = TRAIN_METHODS
#: The methods whose penalty aims at sparsity: prune-and-refit is on by default for them only.
SPARSIFYING = ("lp", "lp-smooth", "l1-path")

#: Published settings (docs/math.md §5), keyed by "is the data 1-D": width and lambda.
PAPER_WIDTH = {True: 80, False: 100}
PAPER_LAMBDA = {True: 3e-3, False: 5e-3}
#: lambda of the continuation schedule (normalized coordinates: x in [-1, 1]^d, max |y| = 1).
CONTINUATION_LAMBDA = 1e-3
#: Ridge of the data initialisation's least-squares output layer, relative to the mean squared
#: feature norm.
INIT_RIDGE = 1e-8
#: The finishing phase aims at this fraction of the interpolation tolerance (room for the rounding
#: of the map back to the data's coordinates).
FINISH_MARGIN = 1e-2
#: Continuation: lambda is multiplied by this when the support settled away from the data ...
LAMBDA_DECAY = 0.3
#: ... and the run stops once lambda is below this fraction of its start.
MIN_LAMBDA_RATIO = 1e-3
#: Maximum number of steps of the published experiments.
PAPER_STEPS = 100_000
#: Maximum number of Adam steps of the continuation schedule (its finishing phase does the rest:
#: on the fresh 1-D set, seed 0, 20k steps reached the same counts as 100k in less time).
CONTINUATION_STEPS = 20_000
#: Adam's constants (PyTorch's defaults).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
#: The stop rule, merging and history look at the network every CHECK_EVERY steps.
CHECK_EVERY = 100
#: Relative fit tolerance of the stop rule: max |f(x_i) - y_i| <= FIT_RTOL * max(1, max|y|).
FIT_RTOL = 1e-3
#: Default patience of the continuation schedule (steps with an unchanged support).
CONTINUATION_PATIENCE = 2000

__all__ = [
    "LpTrainer",
    "METHODS",
    "SCHEDULES",
    "Schedule",
    "TrainResult",
    "adam_update_",
    "merge_duplicates_",
    "mse_gradients",
    "proximal_step",
    "rebalance",
]


# ---------------------------------------------------------------------- the math of one step
def mse_gradients(X, y, W, b, v, a=None, c=None):
    """Residual r = f(X) - y and the gradients of (1/N) sum_i r_i^2 in (W, b, v, a, c).

    Returns (r, gW, gb, gv, ga, gc); ga / gc are None when the network has no such term. The
    derivative of relu at 0 is taken as 0 (as torch.autograd does).
    """
    pre = torch.addmm(b, X, W.T)
    hidden = pre.clamp(min=0.0)
    out = hidden @ v
    if a is not None:
        out = out + X @ a
    if c is not None:
        out = out + c
    r = out - y
    g = r * (2.0 / len(y))
    gv = hidden.T @ g
    dpre = torch.outer(g, v).mul_(pre > 0)
    gW = dpre.T @ X
    gb = dpre.sum(dim=0)
    ga = None if a is None else X.T @ g
    gc = None if c is None else g.sum().reshape(c.shape)
    return r, gW, gb, gv, ga, gc


def adam_update_(theta, grad, m, s, step: int, lr: float) -> None:
    """One Adam step in place (Kingma & Ba; torch.optim.Adam with betas (0.9, 0.999), eps 1e-8):
    m, s are the first and second moment estimates, ``step`` counts from 1."""
    beta1, beta2 = ADAM_BETAS
    m.mul_(beta1).add_(grad, alpha=1.0 - beta1)
    s.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
    denom = (s / (1.0 - beta2 ** step)).sqrt_().add_(ADAM_EPS)
    theta.addcdiv_(m, denom, value=-lr / (1.0 - beta1 ** step))


def rebalance(v, W, b, *, count_bias: bool = False) -> None:
    """Rescale each neuron in place to |v_k| = ||w_k||_2 (||(w_k, b_k)||_2 when ``count_bias``).

    v relu(w.x + b) = (v / t) relu(t w.x + t b) for t > 0, so the function is unchanged; a neuron
    whose norm is 0 gets v_k = 0 (its path weights are all 0: it is dead).
    """
    norms = torch.linalg.vector_norm(torch.hstack([W, b[:, None]]) if count_bias else W, dim=1)
    alive = (norms > 0) & (v != 0)
    t = torch.where(alive, torch.sqrt(v.abs() / torch.where(alive, norms, 1.0)), 1.0)
    W.mul_(t[:, None])
    b.mul_(t)
    v.div_(t).mul_(alive)


def proximal_step(v, W, b, previous, *, threshold: float, p: float, count_bias: bool = False):
    """The proximal reweighted-l1 step of docs/math.md §5, in place; returns the new path weights u.

    u = v_k (w_k [, b_k]) is soft-thresholded, u <- sign(u) max(|u| - C, 0), with
    C = threshold * p * |u_prev|^(p-1) (``previous`` is u_prev; C = threshold when p = 1; C is
    infinite where u_prev = 0, so a weight that reached 0 stays 0). The result is written back as
    w = u / v (v, and b unless ``count_bias``, untouched) and the neuron rebalanced
    (:func:`rebalance`). ``threshold`` is lambda * lr.
    """
    weights = torch.hstack([W, b[:, None]]) if count_bias else W
    u = v[:, None] * weights
    C = threshold * p * previous.abs().pow(p - 1.0) if p != 1.0 else torch.full_like(u, threshold)
    C = torch.where(previous == 0, math.inf, C)
    u = u.sign() * (u.abs() - C).clamp_(min=0.0)
    new = torch.where(v[:, None] == 0, 0.0, u / torch.where(v == 0, 1.0, v)[:, None])
    W.copy_(new[:, : W.shape[1]])
    if count_bias:
        b.copy_(new[:, -1])
    rebalance(v, W, b, count_bias=count_bias)
    return u


def merge_duplicates_(v, W, b, a, c, X_tilde, anchor=None) -> int:
    """Merge, in place, the neurons that share a block (A, s) on the data; returns how many went.

    With the skip term (``a``, ``c`` given, ``anchor`` the anchor point's index) a neuron active at
    the anchor is first flipped: v relu(z) = v z + v relu(-z), its affine part added to (a, c).
    Then the neurons with the same strict set A = {i : x~_i . (w, b) > 0} and the same sign s of v
    become one: u = sum |v_k| (w_k, b_k) (still in C_A, with the same strict set), written as
    v = s, (w, b) = u and rebalanced; the others are zeroed. The network is unchanged on every data
    point, and no path penalty sum |u|^p (p <= 1) increases: t -> t^p is subadditive.
    """
    alive = (v != 0) & (W != 0).any(dim=1)
    if a is not None and anchor is not None:
        flip = alive & (X_tilde[anchor, :-1] @ W.T + b > 0)
        if bool(flip.any()):
            a.add_((v[flip, None] * W[flip]).sum(dim=0))
            c.add_((v[flip] * b[flip]).sum())
            W[flip] = -W[flip]
            b[flip] = -b[flip]
    sets = (X_tilde[:, :-1] @ W.T + b > 0).T & alive[:, None]
    index = torch.nonzero(alive & sets.any(dim=1)).flatten()
    if len(index) < 2:
        return 0
    keys = torch.hstack([sets[index].to(torch.float64), torch.sign(v[index])[:, None]])
    _, group = torch.unique(keys, dim=0, return_inverse=True)
    n_groups = int(group.max()) + 1
    if n_groups == len(index):
        return 0
    U = v[index].abs()[:, None] * torch.hstack([W[index], b[index, None]])
    sums = torch.zeros(n_groups, U.shape[1], dtype=U.dtype).index_add_(0, group, U)
    first = torch.full((n_groups,), len(index), dtype=torch.long).scatter_reduce_(
        0, group, torch.arange(len(index)), reduce="amin")
    keep = index[first]
    signs = torch.sign(v[keep])
    gone = index[~torch.isin(torch.arange(len(index)), first)]
    v[gone], W[gone], b[gone] = 0.0, 0.0, 0.0
    v[keep], W[keep], b[keep] = signs, sums[:, :-1], sums[:, -1]
    rebalance(v, W, b)
    return len(index) - n_groups


class Schedule:
    """lambda over the run, merging during training, and the stop rule.

    ``"paper"`` (the published scheme): lambda constant; stop once the support (the set of blocks
    (A, s) of the current network) has not changed for ``patience`` steps and some check in that
    window had max |f(x_i) - y_i| <= fit_tol.

    ``"continuation"``: prune with lambda, merging the neurons of each block every CHECK_EVERY
    steps (:func:`merge_duplicates_`; proximal methods only). Once the support has not changed for
    ``patience`` steps: stop if some check in that window was within fit_tol (the finishing phase
    of :mod:`sparsest.training.finish` then makes the network interpolate), otherwise continue
    with lambda * LAMBDA_DECAY (a run stuck away from the data gets a weaker penalty) until lambda
    falls below lam * MIN_LAMBDA_RATIO, then stop.

    Both: ``patience = 0`` turns the stop rule off.
    """

    def __init__(self, kind: str, lam: float, patience: int, *, proximal: bool):
        self.kind, self.lam, self.patience, self.proximal = kind, lam, patience, proximal
        self.current = lam

    @property
    def merging(self) -> bool:
        """Only the proximal methods merge: there a neuron that left stays dead anyway (its path
        weights are 0), and the merge never increases the penalized objective."""
        return self.kind == "continuation" and self.proximal

    def lam_at(self) -> float:
        return self.current

    def should_stop(self, step: int, stable_for: int, fit_ok: bool) -> bool:
        """Called at every check with the steps since the support last changed (or lambda last
        decreased) and whether the best fit in that window is within tolerance."""
        if not self.patience or stable_for < self.patience:
            return False
        if fit_ok or self.kind == "paper":
            return fit_ok
        self.current *= LAMBDA_DECAY
        return self.current < self.lam * MIN_LAMBDA_RATIO

    @property
    def lowered(self) -> bool:
        """Whether lambda was lowered since the start (the caller restarts its stability window)."""
        return self.current != self.lam


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class TrainResult:
    """What one training run produced, re-checked from the weights (docs/math.md §6).

    neurons / parameters : counts of the merged network (docs/math.md §2; the same function as the trained
        one on the data); neurons_raw / parameters_raw : of the trained weights, pruned.
    interpolates / max_abs_residual : of the trained (unpolished) network at ``tolerances``.
    fit : "interpolates" (residual <= interpolation tolerance), "approximate" (<= fit tolerance),
        "failed" (larger: its counts say nothing about sparsity, docs/math.md §5) or "collapsed" (failed
        with no active neuron left).
    steps : Adam steps taken; weights_step : the step whose weights are reported; stopped : why.
    polished : the exact LP on the trained support (:class:`sparsest.training.extract.Polish`) or None.
    history : rows (step, lambda, mse, max_abs_residual, neurons_raw, neurons) during training.
    """

    instance: str
    method: str
    p: float
    seed: int
    neurons: int
    neurons_raw: int
    parameters: int
    parameters_raw: int
    interpolates: bool
    max_abs_residual: float
    fit: str
    steps: int
    weights_step: int
    stopped: str
    seconds: float
    cpu_seconds: float
    network: Network
    polished: Polish | None
    history: tuple[dict, ...]
    settings: dict
    tolerances: dict
    finishing: Finishing | None = None
    scaling: Scaling | None = None
    polish_seconds: float | None = None

    @property
    def fits(self) -> bool:
        """Whether the trained network fits at the fit tolerance (its counts mean something)."""
        return self.fit in ("interpolates", "approximate")

    def to_json(self) -> dict:
        """The ``train --json`` object (issue #4's contract)."""
        return {
            "instance": self.instance,
            "method": self.method,
            "p": self.p,
            "seed": self.seed,
            "neurons": self.neurons,
            "neurons_raw": self.neurons_raw,
            "parameters": self.parameters,
            "parameters_raw": self.parameters_raw,
            "interpolates": self.interpolates,
            "max_abs_residual": self.max_abs_residual,
            "fit": self.fit,
            "steps": self.steps,
            "weights_step": self.weights_step,
            "stopped": self.stopped,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "polished": None if self.polished is None else self.polished.to_json(),
            "network": self.network.to_json(),
            "history": [dict(row) for row in self.history],
            "settings": dict(self.settings),
            "tolerances": dict(self.tolerances),
            "finishing": None if self.finishing is None else self.finishing.to_json(),
            "normalization": None if self.scaling is None else self.scaling.to_json(),
            "polish_seconds": self.polish_seconds,
        }


# ---------------------------------------------------------------------- the estimator
class LpTrainer:
    """Train a ReLU network with an l^p path penalty, then extract, merge and polish it.

    Parameters (None = the default for this data and schedule)
    ----------
    p : exponent in (0, 1] of the penalty (``"lp"``, ``"lp-smooth"``; ``"l1-path"`` uses 1).
    method : one of :data:`METHODS` (see the module docstring).
    width : hidden neurons K (docs/math.md §5: 80 in 1-D, 100 otherwise).
    lam : lambda (paper, docs/math.md §5: 3e-3 in 1-D, 5e-3 otherwise; continuation: 1e-3 in normalized
        coordinates, lowered when the run is stuck).
    lr : Adam's learning rate.
    steps : maximum number of Adam steps (paper: 100 000; continuation: 20 000).
    seed : seeds the initialisation; the same seed gives the same numbers.
    skip : affine skip term a.x + c (default: the dataset's setting).
    count_bias : penalise and count the bias path weights v_k b_k too.
    polish : run the exact LP on the trained support (:func:`sparsest.training.extract.polish`).
    tol : interpolation tolerance of every "interpolates" (default: the dataset's, docs/math.md §6).
    progress : a tqdm progress bar on stderr.
    schedule : ``"continuation"`` (default, as the command line: normalized coordinates, data
        initialisation, finishing phase) or ``"paper"`` (the published scheme, unchanged).
    count_tol : counting tolerance for "active" (default: the dataset's, 1e-9 max(1, max|y|)).
    fit_tol : the stop rule's fit tolerance (default 1e-3 max(1, max|y|)).
    patience : steps with an unchanged support before stopping (continuation: or lowering lambda
        when the fit is loose); default steps // 10 (paper), 2000 (continuation); 0 = never stop early.
    eps : smoothing of ``"lp-smooth"``.
    snaps : relative snapping distances of the polish.
    history_every : a history row at the first check after every multiple of this many steps.
    objective : what the polish minimises first, "neurons" or "parameters".
    prune_refit : continuation: after the finishing phase interpolates, drop neurons one at a time
        while the network still interpolates after a refit (:func:`sparsest.training.finish.finishing_phase`);
        default on for the sparsifying methods (lp, lp-smooth, l1-path), off for the baselines
        (weight-decay, none: they are finished to interpolation but not pruned).

    Fitted attributes: ``network_`` (merged), ``raw_network_`` (pruned), ``polished_network_``
    (or None), ``result_`` (:class:`TrainResult`), ``history_``.
    """

    def __init__(self, p: float = 0.4, method: str = "lp", width: int | None = None,
                 lam: float | None = None, lr: float = 0.01, steps: int | None = None,
                 seed: int = 0, skip: bool | None = None, count_bias: bool = False,
                 polish: bool = True, tol: float | None = None, progress: bool = False, *,
                 schedule: str = "continuation", count_tol: float | None = None,
                 fit_tol: float | None = None, patience: int | None = None, eps: float = 1e-3,
                 snaps: tuple[float, ...] = DEFAULT_SNAPS, history_every: int = 500,
                 objective: str = "neurons", prune_refit: bool | None = None):
        self.p = p
        self.method = method
        self.width = width
        self.lam = lam
        self.lr = lr
        self.steps = steps
        self.seed = seed
        self.skip = skip
        self.count_bias = count_bias
        self.polish = polish
        self.tol = tol
        self.progress = progress
        self.schedule = schedule
        self.count_tol = count_tol
        self.fit_tol = fit_tol
        self.patience = patience
        self.eps = eps
        self.snaps = snaps
        self.history_every = history_every
        self.objective = objective
        self.prune_refit = prune_refit

    def resolved_settings(self, dataset: Dataset) -> dict:
        """The settings a fit on ``dataset`` would use (every None resolved), validated: raises
        :class:`SparsestError` (one line) on anything out of range, before any training."""
        if self.method not in METHODS:
            raise SparsestError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.objective not in ("neurons", "parameters"):
            raise SparsestError(f"unknown objective {self.objective!r}; choose neurons or parameters")
        if self.schedule not in SCHEDULES:
            raise SparsestError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        _check_number("p", self.p, low=0.0, high=1.0, open_low=True)
        one_d = dataset.dim == 1
        paper = self.schedule == "paper"
        width = PAPER_WIDTH[one_d] if self.width is None else self.width
        lam = (PAPER_LAMBDA[one_d] if paper else CONTINUATION_LAMBDA) if self.lam is None else self.lam
        steps = (PAPER_STEPS if paper else CONTINUATION_STEPS) if self.steps is None else self.steps
        _check_int("width", width, low=1)
        _check_int("steps", steps, low=1)
        _check_int("seed", self.seed, low=0)
        _check_number("lam", lam, low=0.0)
        _check_number("lr", self.lr, low=0.0, open_low=True)
        _check_number("eps", self.eps, low=0.0, open_low=True)
        patience = (steps // 10 if paper else CONTINUATION_PATIENCE) if self.patience is None else self.patience
        _check_int("patience", patience, low=0)
        _check_int("history_every", self.history_every, low=1)
        for name in ("tol", "count_tol", "fit_tol"):
            if getattr(self, name) is not None:
                _check_number(name, getattr(self, name), low=0.0, open_low=True)
        if self.skip is not None and not isinstance(self.skip, bool):
            raise SparsestError(f"skip must be true, false or None, got {self.skip!r}")
        try:
            snaps = [float(s) for s in self.snaps]
        except (TypeError, ValueError):
            raise SparsestError(f"snaps must be a list of numbers >= 0, got {self.snaps!r}") from None
        for value in snaps:
            _check_number("snap", value, low=0.0)
        skip = dataset.skip if self.skip is None else self.skip
        return {
            "method": self.method, "p": 1.0 if self.method == "l1-path" else float(self.p),
            "schedule": self.schedule, "width": int(width), "lam": float(lam), "lr": float(self.lr),
            "steps": int(steps), "patience": int(patience), "seed": int(self.seed), "skip": skip,
            "output_bias": dataset.output_bias and not skip, "count_bias": bool(self.count_bias),
            "eps": float(self.eps), "polish": bool(self.polish), "snaps": snaps,
            "history_every": int(self.history_every), "objective": self.objective,
            "optimizer": "Adam", "loss": "mse",
            "init": "torch" if paper else "data", "dtype": "float64",
            "coordinates": "data" if paper else "normalized",
            "finish": not paper,
            "prune_refit": not paper and (self.method in SPARSIFYING if self.prune_refit is None else bool(self.prune_refit)),
        }

    def fit(self, dataset: Dataset) -> "LpTrainer":
        """Train on ``dataset``, then extract, merge and (optionally) polish; returns self."""
        if not isinstance(dataset, Dataset):
            raise SparsestError("LpTrainer.fit needs a sparsest Dataset (see sparsest.load_dataset)")
        settings = self.resolved_settings(dataset)
        data = dataset.with_options(skip=settings["skip"])
        tolerances = {
            "interpolation": data.interpolation_tol if self.tol is None else float(self.tol),
            "count": data.count_tol if self.count_tol is None else float(self.count_tol),
            "fit": FIT_RTOL * data.y_scale if self.fit_tol is None else float(self.fit_tol),
            "snap_scale": data_diameter(data),
        }
        wall, cpu = time.perf_counter(), time.process_time()
        scaling, train_data, train_tol = None, data, tolerances
        if settings["coordinates"] == "normalized":
            scaling = Scaling.of(data, shift=not settings["count_bias"])
            train_data = Dataset.from_arrays(scaling.points(data.X), scaling.targets(data.y), skip=data.skip,
                                             output_bias=data.output_bias, name=data.name)
            train_tol = {key: value / scaling.y_scale for key, value in tolerances.items() if key != "snap_scale"}
            train_tol["snap_scale"] = data_diameter(train_data)
        with _DeterministicTorch():
            network, steps, weights_step, stopped, history = _train(train_data, settings, train_tol, self.progress)
        finishing = None
        if settings["finish"]:
            finishing = finishing_phase(
                network, train_data, target=FINISH_MARGIN * train_tol["interpolation"], count_tol=train_tol["count"],
                count_bias=settings["count_bias"], p=settings["p"], prune=settings["prune_refit"],
                keep_zero_weights=self.objective == "parameters" or data.dim == 1)
            if finishing.converged:
                network = finishing.network
        if scaling is not None:
            network = scaling.network_back(network)
            history = [_history_in_data_units(row, scaling.y_scale) for row in history]
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu

        options = dict(tolerance=tolerances["interpolation"], count_tol=tolerances["count"],
                       count_bias=settings["count_bias"])
        extraction = extract(network, data, **options)
        polished, polish_seconds = None, None
        if settings["polish"]:
            started = time.perf_counter()
            polished = polish(extraction.merged, data, snaps=settings["snaps"], objective=self.objective, **options)
            polish_seconds = time.perf_counter() - started
        merged = extraction.merged_check

        self.raw_network_ = extraction.raw
        self.network_ = extraction.merged
        self.polished_network_ = None if polished is None else polished.network
        self.history_ = tuple(history)
        self.result_ = TrainResult(
            instance=dataset.name, method=settings["method"], p=settings["p"], seed=settings["seed"],
            neurons=merged.neurons, neurons_raw=extraction.raw_check.neurons,
            parameters=merged.parameters, parameters_raw=extraction.raw_check.parameters,
            interpolates=merged.interpolates, max_abs_residual=merged.max_abs_residual,
            fit=_fit_label(merged, tolerances["fit"]), steps=steps, weights_step=weights_step,
            stopped=stopped, seconds=seconds, cpu_seconds=cpu_seconds, network=extraction.merged,
            polished=polished, history=tuple(history), settings=settings, tolerances=tolerances,
            finishing=finishing, scaling=scaling, polish_seconds=polish_seconds,
        )
        return self


def _history_in_data_units(row: dict, y_scale: float) -> dict:
    """A history row of a normalized run with its residuals in the data's units."""
    return {**row, "mse": row["mse"] * y_scale ** 2, "max_abs_residual": row["max_abs_residual"] * y_scale}


def _fit_label(check, fit_tol: float) -> str:
    if check.interpolates:
        return "interpolates"
    if check.max_abs_residual <= fit_tol:
        return "approximate"
    return "collapsed" if check.neurons == 0 else "failed"


# ---------------------------------------------------------------------- the loop
class _Parameters:
    """One flat float64 vector theta = (W, b, v, a, c) with named views, and a gradient alike."""

    def __init__(self, width: int, dim: int, skip: bool, output_bias: bool):
        k, d = width, dim
        sizes = {"W": k * d, "b": k, "v": k, "a": d if skip else 0, "c": 1 if (skip or output_bias) else 0}
        self.theta = torch.zeros(sum(sizes.values()), dtype=torch.float64)
        self.grad = torch.zeros_like(self.theta)
        self.views, self.grads, start = {}, {}, 0
        for name, size in sizes.items():
            shape = (k, d) if name == "W" else (size,)
            self.views[name] = self.theta[start:start + size].view(shape) if size else None
            self.grads[name] = self.grad[start:start + size].view(shape) if size else None
            start += size
        self.decayed = torch.zeros_like(self.theta)
        self.decayed[: k * d + 2 * k] = 1.0  # weight decay: W, b, v (not the skip term)

    def network(self) -> Network:
        V = {name: (None if t is None else t.detach().numpy().copy()) for name, t in self.views.items()}
        return Network(V["v"], V["W"], V["b"], V["a"], None if V["c"] is None else float(V["c"][0]))


def _initialise(params: _Parameters, X: torch.Tensor, seed: int, kind: str, y: torch.Tensor | None = None) -> None:
    """Seeded initial weights (the skip term starts at 0).

    ``"torch"``: PyTorch's nn.Linear default, W, b ~ U(+-1/sqrt(d)), v ~ U(+-1/sqrt(K)).
    ``"data"``: each hyperplane gets a random unit normal w_k and passes through a uniform random
    point of the segment between two random data points (b_k = -w_k . z_k); then the output layer
    (v and the skip term / output bias), which the network is linear in, is the ridge least-squares
    fit to ``y`` (ridge INIT_RIDGE relative to the features' scale), so training starts at (or
    near) an interpolant; then rebalanced. In 1-D the knots spread over the data instead of
    crowding near 0.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n, dim = X.shape
    W, b, v = params.views["W"], params.views["b"], params.views["v"]
    width = len(v)

    def uniform(shape, bound):
        return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    if kind == "torch":
        W.copy_(uniform(W.shape, 1 / math.sqrt(dim)))
        b.copy_(uniform(b.shape, 1 / math.sqrt(dim)))
        v.copy_(uniform(v.shape, 1 / math.sqrt(width)))
        return
    normals = torch.randn((width, dim), generator=gen, dtype=torch.float64)
    W.copy_(normals / torch.linalg.vector_norm(normals, dim=1, keepdim=True))
    ends = torch.randint(0, n, (width, 2), generator=gen)
    t = torch.rand((width, 1), generator=gen, dtype=torch.float64)
    b.copy_(-(W * ((1 - t) * X[ends[:, 0]] + t * X[ends[:, 1]])).sum(dim=1))
    features = [(X @ W.T + b).clamp(min=0.0)]
    a, c = params.views["a"], params.views["c"]
    if a is not None:
        features.append(X)
    if c is not None:
        features.append(torch.ones((n, 1), dtype=torch.float64))
    Phi = torch.hstack(features)
    ridge = INIT_RIDGE * float((Phi * Phi).sum()) / Phi.shape[1]
    outer = torch.linalg.solve(Phi.T @ Phi + ridge * torch.eye(Phi.shape[1], dtype=torch.float64), Phi.T @ y)
    v.copy_(outer[:width])
    if a is not None:
        a.copy_(outer[width:width + dim])
    if c is not None:
        c.copy_(outer[-1:])
    rebalance(v, W, b)


def _train(data: Dataset, settings: dict, tolerances: dict, progress: bool):
    """The training loop on ``data`` (already in the coordinates training uses); returns (network,
    steps, step of the returned weights, why it stopped, history rows).

    The weights returned are those of the sparsest interpolating check (max residual <=
    tolerances["interpolation"], fewest blocks, the later one on a tie), and when no check
    interpolated, those of the check with the smallest residual since the support last changed.
    """
    method, p, lr, total = settings["method"], settings["p"], settings["lr"], settings["steps"]
    count_bias = settings["count_bias"]
    X = torch.as_tensor(data.X, dtype=torch.float64)
    y = torch.as_tensor(data.y, dtype=torch.float64)
    X_tilde = torch.as_tensor(data.X_tilde, dtype=torch.float64)
    anchor = anchor_point(data) if data.skip else None
    params = _Parameters(settings["width"], data.dim, data.skip, data.output_bias)
    _initialise(params, X, settings["seed"], settings["init"], y=y)
    W, b, v, a, c = (params.views[k] for k in ("W", "b", "v", "a", "c"))
    grads = [params.grads[k] for k in ("W", "b", "v", "a", "c")]
    m, s = torch.zeros_like(params.theta), torch.zeros_like(params.theta)
    proximal = method in ("lp", "l1-path")
    schedule = Schedule(settings["schedule"], settings["lam"], settings["patience"], proximal=proximal)

    def path_weights():
        return v[:, None] * (torch.hstack([W, b[:, None]]) if count_bias else W)

    previous = path_weights()
    # The support of the stop rule: blocks snapped at the polish's first distance, so that a kink
    # hovering on a data point does not count as a change.
    snap = max(settings["snaps"], default=0.0) * tolerances["snap_scale"]
    history: list[dict] = []
    support, support_since, best, sparsest = None, 0, (math.inf, None, 0), (math.inf, None, 0)
    stopped, bar, step, adam_step = "max steps", _progress_bar(total, progress), 0, 0
    for step in range(1, total + 1):
        lam = schedule.lam_at()
        for grad, value in zip(grads, mse_gradients(X, y, W, b, v, a, c)[1:]):
            if grad is not None:
                grad.copy_(value)
        if method == "lp-smooth" and lam > 0:
            _add_smooth_lp_gradient(params, lam, p, settings["eps"], count_bias)
        elif method == "weight-decay" and lam > 0:
            params.grad.addcmul_(params.theta, params.decayed, value=2.0 * lam)
        adam_step += 1
        adam_update_(params.theta, params.grad, m, s, adam_step, lr)
        if proximal:
            previous = proximal_step(v, W, b, previous, threshold=lam * lr, p=p, count_bias=count_bias)
        if step % CHECK_EVERY and step != total:
            continue

        # ---- every CHECK_EVERY steps: finiteness, merging, support, stop rule, history, progress
        if not bool(torch.isfinite(params.theta).all()):
            stopped = "diverged (non-finite weights)"
            break
        if schedule.merging and merge_duplicates_(v, W, b, a, c, X_tilde, anchor):
            previous = path_weights()
            # The moments belonged to the neurons before the merge: restart Adam (its bias
            # correction included) rather than push the merged neurons with stale momentum.
            m.zero_(), s.zero_()
            adam_step = 0
        network = params.network()
        errors = network(data.X) - data.y
        residual = float(np.max(np.abs(errors)))
        current = tuple(sorted(neuron_blocks(network, data, snap=snap, count_tol=tolerances["count"])))
        if current != support:
            support, support_since, best = current, step, (math.inf, None, step)
        if residual < best[0]:
            best = (residual, params.theta.clone(), step)
        if residual <= tolerances["interpolation"] and len(current) <= sparsest[0]:
            sparsest = (len(current), params.theta.clone(), step)
        lam_before = schedule.lam_at()
        stop = schedule.should_stop(step, step - support_since, best[0] <= tolerances["fit"])
        if schedule.lam_at() != lam_before:  # lambda lowered: a new stability window
            support_since, best = step, (residual, params.theta.clone(), step)
        every = settings["history_every"]
        if not history or step // every > history[-1]["step"] // every or stop or step == total:
            history.append({
                "step": step, "lambda": lam, "mse": float(np.mean(errors ** 2)),
                "max_abs_residual": residual,
                "neurons_raw": network.count_neurons(data.X, tolerances["count"]),
                "neurons": len(current),
            })
        if bar is not None:
            bar.update(step - bar.n)
            bar.set_postfix(residual=f"{residual:.1e}", neurons=len(current), refresh=False)
        if stop:
            stopped = f"early (support unchanged for {settings['patience']} steps)"
            break
    if bar is not None:
        bar.close()
    chosen = sparsest if sparsest[1] is not None else best
    if chosen[1] is not None:
        params.theta.copy_(chosen[1])
    if not bool(torch.isfinite(params.theta).all()):
        raise SparsestError(_divergence_message(step, settings, data))
    return params.network(), step, chosen[2] if chosen[1] is not None else step, stopped, history


def _divergence_message(step: int, settings: dict, data: Dataset) -> str:
    """Why a run diverged, in one line: the learning rate in normalized coordinates, the data's
    scale in the data's own coordinates (the published scheme)."""
    if settings["coordinates"] == "normalized":
        return (f"training diverged (non-finite weights by step {step}) on normalized data "
                f"(x in [-1, 1]^d, max |y| = 1): the learning rate {settings['lr']:g} is too large")
    scale = f"max |x| = {float(np.max(np.abs(data.X))):.3g}, max |y| = {float(np.max(np.abs(data.y))):.3g}"
    return (f"training diverged (non-finite weights by step {step}): the published scheme trains in the "
            f"data's own coordinates ({scale}); use --schedule continuation (normalized coordinates)")


def _add_smooth_lp_gradient(params: _Parameters, lam: float, p: float, eps: float, count_bias: bool):
    """Add the gradient of lam * sum (|u| + eps)^p, u = v_k w_kj (and v_k b_k), to params.grad."""
    W, b, v = params.views["W"], params.views["b"], params.views["v"]
    weights = torch.hstack([W, b[:, None]]) if count_bias else W
    u = v[:, None] * weights
    du = lam * p * (u.abs() + eps).pow(p - 1.0) * u.sign()
    params.grads["W"].add_(du[:, : W.shape[1]] * v[:, None])
    params.grads["v"].add_((du * weights).sum(dim=1))
    if count_bias:
        params.grads["b"].add_(du[:, -1] * v)


class _DeterministicTorch:
    """One thread for the duration of a fit (restored after). On the CPU, in float64, on one thread
    every operation used here is deterministic, so torch.use_deterministic_algorithms (whose first
    call imports the compiler stack, seconds) is not needed; the tests check same seed, same numbers."""

    def __enter__(self):
        self.saved = torch.get_num_threads()
        torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)
        return False


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="step", leave=False, dynamic_ncols=True)


def _check_number(name, value, *, low=None, high=None, open_low=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise SparsestError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (open_low and value == low)):
        bound = f"> {low:g}" if open_low else f">= {low:g}"
        upper = "" if high is None else f" and <= {high:g}"
        raise SparsestError(f"{name} must be {bound}{upper}, got {value:g}")
    if high is not None and value > high:
        raise SparsestError(f"{name} must be <= {high:g}, got {value:g}")


def _check_int(name, value, *, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SparsestError(f"{name} must be a whole number, got {value!r}")
    if value < low:
        raise SparsestError(f"{name} must be >= {low}, got {value}")
