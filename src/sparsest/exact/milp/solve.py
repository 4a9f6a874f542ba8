"""solve_milp: incumbents, then the MILP, then an honest result from re-checked networks."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from sparsest.core.network import Network
from sparsest.core.recheck import Recheck, recheck
from sparsest.errors import SparsestError
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.highs import OutOfTime, Undecided
from sparsest.exact.problem import box_touched, check_objective, check_time_limit, settle
from sparsest.exact.milp.backends import run_cbc, run_highs
from sparsest.exact.milp.bounds import BigM, big_m
from sparsest.exact.milp.formulation import Formulation, build_formulation, with_floor
from sparsest.exact.milp.heuristics import (SupportLP, fitted_incumbent, integral_point, objective_value, prune,
                                            relaxation_heuristic, start_support, zero_switched_off)

SOLVERS = ("highs", "cbc")
#: At most this many seconds of network fits to find a neuron incumbent (:func:`fitted_incumbent`).
FIT_SECONDS = 10.0
#: Share of the remaining time the LP relaxation and its reweighted-l1 heuristic may take (the
#: network fits and the MILP need the rest; on large instances the relaxation alone can take hours).
HEURISTIC_SHARE = 0.5
#: Seconds the final re-fit of one incumbent's support may run past the deadline (a small LP).
POLISH_SECONDS = 2.0


def network_of(dictionary: BlockDictionary, form: Formulation, x: np.ndarray) -> Network:
    """The network of the blocks the point selects (some binary > 1/2) with a nonzero u, every
    coordinate whose binary is off exactly 0."""
    x = zero_switched_off(form, x.copy())
    U = x[:form.n_u].reshape(dictionary.n_blocks, dictionary.n_weights)
    selected = set(form.binary_block[x[form.first_binary:] > 0.5].tolist())
    blocks = [b for b in sorted(selected) if np.any(U[b] != 0)]
    return dictionary.network(blocks, U[blocks], x[form.n_u:form.n_u + form.n_affine])


def _polished(lp: SupportLP, x: np.ndarray) -> np.ndarray | None:
    """Re-fit the point's support (binaries at 0 stay 0) with tight LP tolerances (at most
    :data:`POLISH_SECONDS`; None when infeasible or not done by then)."""
    try:
        found = lp.solve(x[lp.form.first_binary:] > 0.5, deadline=time.monotonic() + POLISH_SECONDS)
    except Undecided:
        return None
    return None if found is None else integral_point(lp.form, found[0])


# ---------------------------------------------------------------------- the public function
@dataclass(frozen=True)
class MilpResult:
    """The outcome of :func:`solve_milp`.

    status : "optimal" (lower_bound == upper_bound, witnessed by a re-checked network),
        "time_limit" (bounds as far as they got), "infeasible" (no interpolant within the bounds),
        or "unverified" (the solver stopped but no network it returned passes the re-check).
    objective : "neurons" or "parameters".
    lower_bound : a valid lower bound on the objective (ceil of the solver's dual bound or of the
        LP relaxation), None if infeasible. upper_bound : the re-checked count of ``network``.
    gap : upper_bound - lower_bound (an integer), None without both.
    nodes : branch-and-bound nodes (None for CBC). seconds : wall time of this call.
    network : the best re-checked interpolant found, None if none. recheck : its re-check.
    solver : "highs" or "cbc"; solver_status : the solver's own status text.
    bounds : the big-M bounds used (:class:`BigM`); box : R, None for the proven 1-D slope bound.
    box_touched : a path weight of ``network`` reaches R (1 - 1e-6): a larger R might do better.
        None when there is no box.
    incumbent : where the network came from: "solver", "heuristic", "fit" or "start".
    lp_bound : the LP relaxation's value (with the cuts). n_blocks, n_cuts : sizes.
    notes : anything the caller should know (e.g. a start that did not fit the box).
    """

    status: str
    objective: str
    lower_bound: int | None
    upper_bound: int | None
    gap: int | None
    nodes: int | None
    seconds: float
    network: Network | None
    recheck: Recheck | None
    solver: str
    solver_status: str
    bounds: BigM
    box: float | None
    box_touched: bool | None
    incumbent: str | None
    lp_bound: float | None
    n_blocks: int
    n_cuts: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def solve_milp(dictionary: BlockDictionary, *, objective: str = "neurons", count_bias: bool = False,
               box: float | None = None, time_limit: float | None = 60.0, solver: str = "highs",
               start: Network | Sequence[int] | None = None, cuts: bool = True,
               heuristic_only: bool = False, lower: int | None = None, bounds: BigM | None = None) -> MilpResult:
    """The sparsest interpolant over the dictionary's blocks (docs/math.md §3), by a big-M MILP.

    Minimises the docs/math.md §2 count ``objective`` ("neurons"; or "parameters", the nonzero path weights
    v_k w_kj, plus v_k b_k with ``count_bias``) over f = sum_k v_k relu(w_k.x + b_k) [+ affine] with
    f(x_i) = y_i. ``box``: R of |v_k w_kj| <= R (default :func:`default_box`; not needed for 1-D data
    with the skip term, where the proven slope bound is used). ``start``: a feasible network or a
    list of block ids, used as a MIP start after a fit on its support. A heuristic incumbent
    (reweighted l1 + greedy pruning; for d >= 2 also seeded network fits) is always computed first. ``time_limit`` (seconds, None: no
    limit) covers the whole call. ``heuristic_only`` stops before the MILP: the result is "optimal"
    when the incumbent meets the LP bound, else "time_limit" with both bounds. ``cuts=False`` drops
    the covering cuts (for cross-checks). ``lower``: a lower bound proven elsewhere for the same
    problem (e.g. by :func:`sparsest.exact.exhaustive.search_exhaustive` with the same box), trusted and
    added as the row objective >= lower, so that an incumbent meeting it ends the search. ``bounds``:
    the :class:`BigM` of this problem when the caller already computed it (then ``box`` is ignored).
    The result's counts come from :func:`sparsest.core.recheck.recheck`.
    """
    t0 = time.monotonic()
    if solver not in SOLVERS:
        raise SparsestError(f"unknown solver {solver!r}; use one of {', '.join(SOLVERS)}")
    check_objective(objective)
    time_limit = check_time_limit(time_limit)
    data = dictionary.dataset
    if bounds is None:
        bounds = big_m(data, objective=objective, count_bias=count_bias, box=box)
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    if lower is not None and (isinstance(lower, bool) or not isinstance(lower, (int, np.integer)) or lower < 0):
        raise SparsestError(f"lower must be a nonnegative integer (a proven lower bound), got {lower!r}")
    finish = _Finisher(dictionary, objective, count_bias, bounds, solver, t0)
    try:
        form = build_formulation(dictionary, objective=objective, count_bias=count_bias, bounds=bounds,
                                 cuts=cuts, deadline=deadline)
        lp = SupportLP(form, dictionary)
    except OutOfTime:
        finish.notes.append(f"the MILP over {dictionary.n_blocks} blocks was not built within the time limit")
        return finish("time_limit", None, 0 if lower is None else lower, "time limit reached building the MILP", None)
    finish.form, finish.lp = form, lp

    # 1. incumbents: the start (fitted and pruned on its support), the heuristic, network fits.
    candidates: list[tuple[np.ndarray, str]] = []
    if start is not None:
        allowed = np.isin(form.binary_block, start_support(dictionary, start, data.count_tol))
        try:
            point = prune(lp, allowed, form.cost[form.first_binary:], deadline)
        except Undecided:
            finish.notes.append("the start could not be fitted on its support (time limit or HiGHS undecided); ignored")
        else:
            if point is None:
                finish.notes.append("the start does not interpolate within the bounds of the MILP; ignored")
            else:
                candidates.append((point, "start"))
    heuristic_deadline = deadline
    if math.isfinite(deadline) and not heuristic_only:
        heuristic_deadline = time.monotonic() + HEURISTIC_SHARE * max(deadline - time.monotonic(), 0.0)
    proven = lower
    lower = 0 if proven is None else proven
    try:
        heuristic_point, relaxation = relaxation_heuristic(lp, heuristic_deadline)
        if relaxation is None:
            return finish("infeasible", None, None, "the LP relaxation is infeasible", None)
        finish.lp_bound = relaxation
        lower = max(lower, int(math.ceil(relaxation - 1e-6)))
    except Undecided as stopped:
        heuristic_point = None
        why = "within its share of the time limit" if isinstance(stopped, OutOfTime) else f"by HiGHS ({stopped})"
        finish.notes.append(f"the LP relaxation ({form.n_cols} columns, {form.A.shape[0]} rows) was not solved "
                            f"{why}: no LP bound")
    if heuristic_point is not None:
        candidates.append((heuristic_point, "heuristic"))
    if data.dim >= 2:  # (in 1-D the cuts already make the MILP strong)
        first_width = lower if objective == "neurons" else 1  # (a width-k network has >= k parameters)
        fitted = fitted_incumbent(lp, heuristic_point, first_width, min(deadline, time.monotonic() + FIT_SECONDS))
        if fitted is not None and fitted is not heuristic_point:
            candidates.append((fitted, "fit"))
    best = None
    for point, source in candidates:
        checked = finish.checked(point)
        if checked is not None and (best is None or objective_value(form, checked) < objective_value(form, best[0])):
            best = (checked, source)
    if best is not None and objective_value(form, best[0]) <= lower:
        return finish("optimal", best, lower, "an incumbent meets the lower bound (LP relaxation or given)", None)
    remaining = None if time_limit is None else deadline - time.monotonic()
    if heuristic_only:
        return finish("time_limit", best, lower, "heuristic only: the MILP was not run", None)
    if remaining is not None and remaining <= 0:
        return finish("time_limit", best, lower, "time limit reached before the MILP", None)

    # 2. the MILP, started from the best incumbent (with the row objective >= a given lower bound).
    if proven is not None:
        form = with_floor(form, proven)
    # the solver stops early enough to re-fit its incumbent (a small LP) before the deadline
    limit = None if remaining is None else max(remaining - min(POLISH_SECONDS, 0.02 * remaining + 0.2), 1e-3)
    run = (run_highs if solver == "highs" else run_cbc)(form, limit, None if best is None else best[0])
    if run.status == "infeasible":
        return finish("infeasible", None, None, run.text, run.nodes)
    if run.dual_bound is not None:
        lower = max(lower, int(math.ceil(run.dual_bound - 1e-6)))
    status = run.status if run.status in ("optimal", "time_limit") else "unverified"
    found = None if run.x is None else finish.checked(run.x)
    if run.x is not None and found is None:
        finish.notes.append("the solver's incumbent does not re-check, even re-fitted on its support")
    if found is not None and (best is None or objective_value(form, found) <= objective_value(form, best[0])):
        best = (found, "solver")
    return finish(status, best, lower, run.text, run.nodes)


class _Finisher:
    """Re-checks points and assembles an honest :class:`MilpResult` (one per solve)."""

    def __init__(self, dictionary, objective, count_bias, bounds, solver, t0):
        self.dictionary, self.objective, self.count_bias = dictionary, objective, count_bias
        self.form: Formulation | None = None  # set once built (no point exists before)
        self.lp: SupportLP | None = None
        self.bounds, self.solver, self.t0 = bounds, solver, t0
        self.notes: list[str] = []
        self.lp_bound: float | None = None

    def checked(self, x: np.ndarray) -> np.ndarray | None:
        """The point if its network re-checks, else its re-fit if that re-checks, else None."""
        for point in (x, None):
            point = _polished(self.lp, x) if point is None else point
            if point is not None and self._recheck(point).interpolates:
                return point
        return None

    def _recheck(self, point: np.ndarray) -> Recheck:
        network = network_of(self.dictionary, self.form, point)
        return recheck(network, self.dictionary.dataset, count_bias=self.count_bias)

    def __call__(self, status, best, lower, text, nodes) -> MilpResult:
        form, bounds, notes = self.form, self.bounds, list(self.notes)
        network = check = source = None
        upper = None
        if best is not None:
            point, source = best
            network = network_of(self.dictionary, form, point)
            check = self._recheck(point)
            upper = check.neurons if self.objective == "neurons" else check.parameters
        status, lower = settle(status, lower, upper, notes)
        touched = box_touched(network, bounds.box)
        return MilpResult(
            status=status, objective=self.objective, lower_bound=lower, upper_bound=upper,
            gap=None if upper is None or lower is None else upper - lower, nodes=nodes,
            seconds=time.monotonic() - self.t0, network=network, recheck=check, solver=self.solver,
            solver_status=text, bounds=bounds, box=bounds.box, box_touched=touched, incumbent=source,
            lp_bound=self.lp_bound, n_blocks=self.dictionary.n_blocks, n_cuts=0 if form is None else form.n_cuts,
            notes=tuple(notes),
        )
