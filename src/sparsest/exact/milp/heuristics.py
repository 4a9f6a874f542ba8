"""LPs on the formulation (support fits, the relaxation) and the incumbents they give: greedy
pruning, reweighted l1, network fits, a start network. They only propose: the MILP proves."""

from __future__ import annotations

import math
import time

import numpy as np

from sparsest.core.network import Network
from sparsest.errors import SparsestError
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.highs import INF, OutOfTime, Undecided, quiet_highs, to_highs_lp, verdict
from sparsest.exact.probe import fit_width
from sparsest.exact.milp.formulation import Formulation

#: HiGHS's random_seed in every LP and MILP (same command, same numbers).
HIGHS_RANDOM_SEED = 0
#: Seed of the numpy generator of the network fits and of the perturbed prune orders.
FIT_SEED = 0
#: Extra greedy prunes (seeded perturbed orders) of each fitted support, for the parameter objective.
PRUNE_TRIES = 16
#: A relaxed binary above this value marks its coordinates as used.
SUPPORT_TOL = 1e-9
#: Primal feasibility tolerance of the LPs that fit a support (polish, heuristic).
FIT_TOL = 1e-10


class SupportLP:
    """The LP relaxation of a formulation with some binaries switched off (upper bound 0) and
    re-weighted costs: support fits, polish and the heuristic.

    The relaxation over every block stays in one HiGHS object (warm-started across cost changes).
    A smaller support is solved as its own LP, restricted to the columns of its blocks (rows left
    empty must admit 0, e.g. a covering cut with no block left makes the support infeasible).
    Every LP stops at its ``deadline`` (:class:`OutOfTime`)."""

    def __init__(self, form: Formulation, dictionary: BlockDictionary):
        self.form, self.dictionary = form, dictionary
        self.full = quiet_highs(primal_feasibility_tolerance=FIT_TOL, random_seed=HIGHS_RANDOM_SEED)
        self.full.passModel(to_highs_lp(form.cost, form.A, form.row_lower, form.row_upper,
                                        form.col_lower, form.col_upper))
        self.binaries = np.arange(form.first_binary, form.n_cols, dtype=np.int32)
        # the block of every column (-1: the affine part, shared by every support)
        n_blocks = form.n_u // form.n_weights
        self.column_block = np.concatenate([np.repeat(np.arange(n_blocks), form.n_weights),
                                            np.full(form.n_affine, -1), form.binary_block])
        # the binaries of every block (indices counted from the first binary)
        by_block = np.argsort(form.binary_block, kind="stable")
        self.block_binaries = np.split(by_block, np.cumsum(np.bincount(form.binary_block, minlength=n_blocks))[:-1])

    def solve(self, allowed: np.ndarray, cost: np.ndarray | None = None,
              deadline: float = math.inf) -> tuple[np.ndarray, float] | None:
        """Minimise cost.z over the relaxation with z_k = 0 where not ``allowed``; (x, value), or None
        when HiGHS proves it infeasible. Raises :class:`OutOfTime` when the LP is not decided by
        ``deadline``, :class:`Undecided` when HiGHS stops for another reason."""
        form = self.form
        cost = np.asarray(form.cost[form.first_binary:] if cost is None else cost, dtype=np.float64)
        if allowed.all():
            self.full.changeColsCost(len(self.binaries), self.binaries, cost)
            return self._run(self.full, np.arange(form.n_cols), deadline)
        blocks = np.unique(form.binary_block[allowed])
        keep = np.flatnonzero((self.column_block < 0) | np.isin(self.column_block, blocks))
        A = form.A[:, keep].tocsr()
        used = A.getnnz(axis=1) > 0
        if np.any(~used & ((form.row_lower > 0) | (form.row_upper < 0))):
            return None
        full_cost = np.concatenate([np.zeros(form.first_binary), cost])
        upper = form.col_upper.copy()
        upper[form.first_binary:][~allowed] = 0.0
        solver = quiet_highs(primal_feasibility_tolerance=FIT_TOL, random_seed=HIGHS_RANDOM_SEED)
        solver.passModel(to_highs_lp(full_cost[keep], A[used], form.row_lower[used], form.row_upper[used],
                                     form.col_lower[keep], upper[keep]))
        return self._run(solver, keep, deadline)

    def _run(self, solver, keep: np.ndarray, deadline: float) -> tuple[np.ndarray, float] | None:
        limit = INF
        if math.isfinite(deadline):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OutOfTime
            # HiGHS (< 2.0) measures time_limit from the object's first run: add the time used so far
            limit = solver.getRunTime() + remaining
        solver.setOptionValue("time_limit", limit)
        solver.run()
        named = verdict(solver.getModelStatus())
        if named == "time_limit":
            raise OutOfTime
        if named == "infeasible":
            return None
        if named != "optimal":
            raise Undecided(solver.modelStatusToString(solver.getModelStatus()))
        x = np.zeros(self.form.n_cols)
        x[keep] = solver.getSolution().col_value
        return x, solver.getInfo().objective_function_value


def integral_point(form: Formulation, x: np.ndarray) -> np.ndarray:
    """Round a relaxed point to a feasible MIP point: z = 1 where z > tol, and every u a binary at 0
    controls set to 0 (its value was below M * tol)."""
    x = x.copy()
    x[form.first_binary:] = (x[form.first_binary:] > SUPPORT_TOL).astype(float)
    return zero_switched_off(form, x)


def zero_switched_off(form: Formulation, x: np.ndarray) -> np.ndarray:
    """Set to 0 every u coordinate whose binary is below 1/2 (in place; returns x)."""
    controlled = form.owner >= 0
    off = np.zeros(form.n_u, dtype=bool)
    off[controlled] = x[form.owner[controlled]] < 0.5
    x[:form.n_u][off] = 0.0
    return x


def objective_value(form: Formulation, x: np.ndarray) -> int:
    return int(round(float(form.cost[form.first_binary:] @ x[form.first_binary:])))


def prune(lp: SupportLP, allowed: np.ndarray, cost: np.ndarray, deadline: float) -> np.ndarray | None:
    """Greedy: from a feasible support, switch off whole blocks, then (parameters) single costly
    binaries, least used first, while the LP stays feasible and time remains. Returns an integral
    MIP point, or None when ``allowed`` is infeasible; raises :class:`OutOfTime` / :class:`Undecided`
    when even the LP on ``allowed`` is not decided."""
    form = lp.form
    found = lp.solve(allowed, cost, deadline)
    if found is None:
        return None
    x = found[0]
    z = x[form.first_binary:]
    support = z > SUPPORT_TOL
    costly = form.cost[form.first_binary:] > 0
    usage = np.bincount(form.binary_block, weights=np.where(costly, z, 0.0), minlength=len(lp.block_binaries))
    groups = [lp.block_binaries[b] for b in np.argsort(usage, kind="stable") if usage[b] > 0]
    if form.objective == "parameters":
        groups += [np.array([j]) for j in np.argsort(z, kind="stable") if costly[j] and support[j]]
    for group in groups:
        if not (support[group] & costly[group]).any():
            continue
        trial = support.copy()
        trial[group] = False
        try:
            found = lp.solve(trial, cost, deadline)
        except OutOfTime:
            break
        except Undecided:
            continue  # not proven droppable: keep the group
        if found is not None:
            x = found[0]
            support = trial & (x[form.first_binary:] > SUPPORT_TOL)
    return integral_point(form, x)


def relaxation_heuristic(lp: SupportLP, deadline: float, rounds: int = 6) -> tuple[np.ndarray | None, float | None]:
    """Reweighted l1 on the relaxation (cost_k / (z_k + 1e-2)), each support pruned greedily
    (at most ``rounds`` rounds, each new support pruned once; stops when the incumbent meets the
    LP bound, or after the first round once past ``deadline``).

    Returns the best integral point found (or None) and the LP relaxation's value (the first round,
    with the true costs: a valid lower bound), or None when the relaxation is infeasible. Raises
    :class:`OutOfTime` / :class:`Undecided` when the relaxation itself is not solved."""
    form = lp.form
    everything = np.ones(form.n_binaries, dtype=bool)
    true_cost = form.cost[form.first_binary:]
    first = lp.solve(everything, deadline=deadline)
    if first is None:
        return None, None
    relaxation_value = first[1]
    best, z, cost = None, first[0][form.first_binary:], true_cost
    pruned: set[bytes] = set()
    try:
        for _ in range(rounds):
            support = z > SUPPORT_TOL
            if support.tobytes() not in pruned:
                pruned.add(support.tobytes())
                point = prune(lp, support, cost, deadline)
                if point is not None and (best is None or objective_value(form, point) < objective_value(form, best)):
                    best = point
            if best is not None and objective_value(form, best) <= math.ceil(relaxation_value - 1e-6):
                break
            cost = true_cost / (z + 1e-2)
            found = lp.solve(everything, cost, deadline)
            if found is None:
                break
            z = found[0][form.first_binary:]
    except Undecided:
        pass  # keep the best point found in time
    return best, relaxation_value


# ---------------------------------------------------------------------- warm start from a network
def start_support(dictionary: BlockDictionary, start, count_tol: float) -> list[int]:
    """The blocks of a feasible start: a list of block ids, or a Network whose active neurons are
    mapped to (activation set on the data, sign of v). With the skip term a neuron whose set holds
    the anchor point is the block of the mirror set {w.x + b < 0} (relu(t) = t + relu(-t); see
    :meth:`BlockDictionary.blocks_of`)."""
    if not isinstance(start, Network):
        blocks = [int(b) for b in start]
        bad = [b for b in blocks if not 0 <= b < dictionary.n_blocks]
        if bad:
            raise SparsestError(f"start block {bad[0]} is not a block id (0..{dictionary.n_blocks - 1})")
        return sorted(set(blocks))
    data = dictionary.dataset
    if start.dim != data.dim:
        raise SparsestError(f"the start network has input dimension {start.dim}, the data has {data.dim}")
    active = start.active_mask(data.X, count_tol)
    return dictionary.blocks_of(start.preactivations(data.X)[:, active], start.v[active])


def fitted_incumbent(lp: SupportLP, best: np.ndarray | None, lower: int, deadline: float,
                      restarts: int = 256, iterations: int = 60, candidates: int = 4) -> np.ndarray | None:
    """For widths k = lower, lower+1, ... below the incumbent's value, seeded random-start
    Levenberg-Marquardt fits of a width-k network (the exhaustive search's probe,
    :func:`sparsest.exact.probe.fit_width`); the blocks of the best fits are decided by the LP and
    pruned (whole blocks, then single weights; for parameters also :data:`PRUNE_TRIES` greedy
    orders from seeded perturbed costs, since the greedy's result depends on its order). Only
    proposes incumbents: the MILP proves. Stops at ``deadline`` with the best point so far."""
    form = lp.form
    data = lp.dictionary.dataset
    rng = np.random.default_rng(FIT_SEED)
    true_cost = form.cost[form.first_binary:]
    tries = PRUNE_TRIES if form.objective == "parameters" else 0
    width = max(lower, 1)
    while (best is None or width < objective_value(form, best)) and time.monotonic() < deadline:
        pre, signs, loss = fit_width(data.X_tilde, data.y, lp.dictionary.affine_design(), width,
                                     restarts, iterations, rng, deadline)
        for r in np.argsort(loss, kind="stable")[:candidates]:
            allowed = np.isin(form.binary_block, lp.dictionary.blocks_of(pre[r], signs[r]))
            costs = [true_cost] + [true_cost * rng.uniform(0.5, 1.5, len(true_cost)) for _ in range(tries)]
            for cost in costs:
                try:
                    point = prune(lp, allowed, cost, deadline)
                except OutOfTime:
                    return best
                except Undecided:
                    break  # this support is not decided: next candidate
                if point is None:
                    break  # the support itself is infeasible
                if best is None or objective_value(form, point) < objective_value(form, best):
                    best = point
        width += 1
    return best
