"""The two MILP backends: HiGHS (highspy, direct) and PuLP's bundled CBC."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import highspy
import numpy as np

from sparsest.errors import SparsestError
from sparsest.exact.highs import INF, quiet_highs, to_highs_lp, verdict
from sparsest.exact.milp.formulation import Formulation
from sparsest.exact.milp.heuristics import HIGHS_RANDOM_SEED, objective_value

@dataclass(frozen=True)
class SolverRun:
    status: str          # "optimal", "infeasible", "time_limit" or the solver's own text
    x: np.ndarray | None
    dual_bound: float | None
    nodes: int | None
    text: str


def run_highs(form: Formulation, time_limit: float | None, start: np.ndarray | None) -> SolverRun:
    options = dict(mip_rel_gap=0.0, mip_abs_gap=0.999, random_seed=HIGHS_RANDOM_SEED)
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 1e-3)
    solver = quiet_highs(**options)
    solver.passModel(to_highs_lp(form.cost, form.A, form.row_lower, form.row_upper,
                                 form.col_lower, form.col_upper, form.integrality))
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(map(float, start))
        solver.setSolution(solution)
    solver.run()
    status = solver.getModelStatus()
    info = solver.getInfo()
    text = solver.modelStatusToString(status)
    x = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        x = np.array(solver.getSolution().col_value)
    named = verdict(status)
    dual = info.mip_dual_bound  # trusted only when HiGHS finished or stopped on its clock
    dual = float(dual) if named in ("optimal", "time_limit") and dual is not None and math.isfinite(dual) else None
    return SolverRun(named if named in ("optimal", "infeasible", "time_limit") else text, x, dual,
                      int(info.mip_node_count), f"HiGHS: {text}")


def _bundled_cbc(**options):
    """PuLP's bundled CBC binary. PuLP 3 deprecates PULP_CBC_CMD in favour of COIN_CMD, which needs
    a CBC installed on the system; the bundled one is the point of this backend (no system
    packages), so its deprecation warning is silenced here."""
    import pulp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


def run_cbc(form: Formulation, time_limit: float | None, start: np.ndarray | None) -> SolverRun:
    import pulp

    if not _bundled_cbc().available():
        raise SparsestError("PuLP's bundled CBC is not available here; use --solver highs")
    prob = pulp.LpProblem("sparsest", pulp.LpMinimize)
    # PuLP >= 3.3 attaches variables to the problem (LpVariable(...) alone is deprecated there)
    new_variable = getattr(prob, "add_variable", None) or pulp.LpVariable
    cols = []
    for j in range(form.n_cols):
        lo = None if form.col_lower[j] <= -INF else float(form.col_lower[j])
        hi = None if form.col_upper[j] >= INF else float(form.col_upper[j])
        cat = pulp.LpBinary if form.integrality[j] else pulp.LpContinuous
        var = new_variable(f"x{j}", lowBound=lo, upBound=hi, cat=cat)
        if start is not None:
            var.setInitialValue(float(start[j]))
        cols.append(var)
    prob += pulp.lpSum(float(c) * cols[j] for j, c in enumerate(form.cost) if c != 0)
    A = form.A.tocsr()
    for r in range(A.shape[0]):
        lo, hi = form.row_lower[r], form.row_upper[r]
        start_, end = A.indptr[r], A.indptr[r + 1]
        expr = pulp.LpAffineExpression([(cols[j], float(v)) for j, v in zip(A.indices[start_:end], A.data[start_:end])])
        if lo == hi:
            prob += expr == float(lo)
            continue
        if lo > -INF:
            prob += expr >= float(lo)
        if hi < INF:
            prob += expr <= float(hi)
    command = _bundled_cbc(msg=False, gapRel=0.0, gapAbs=0.999, warmStart=start is not None,
                           timeLimit=None if time_limit is None else max(1, math.ceil(time_limit)),
                           threads=1, options=["randomSeed 1", "randomCbcSeed 1"])
    prob.solve(command)
    text = f"CBC: {pulp.LpStatus[prob.status]} / solution {pulp.LpSolution.get(prob.sol_status, prob.sol_status)}"
    x = None
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        x = np.array([v.varValue if v.varValue is not None else 0.0 for v in cols], dtype=float)
    if prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif prob.status == pulp.LpStatusInfeasible or prob.sol_status == pulp.LpSolutionInfeasible:
        status = "infeasible"
    else:
        status = "time_limit"
    dual = objective_value(form, x) if status == "optimal" else None
    return SolverRun(status, x, dual, None, text)
