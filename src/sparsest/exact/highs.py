"""A quiet, direct door to HiGHS (``highspy``) for the package's LPs and MILPs.

HiGHS prints a banner the first time a solver object is made and a log on every solve; both would
corrupt ``--json`` output on stdout. :func:`quiet_highs` returns a solver with all output off.
:func:`solve_lp` solves  min c.x  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper.

:func:`verdict` is the one map from a HiGHS model status to what the package may conclude from it,
used by every LP and MILP: only ``"infeasible"`` rules a model out; ``"time_limit"`` and
``"undecided"`` (iteration limit, numerical trouble, unknown, ...) decide nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

INF = highspy.kHighsInf
_banner_shown = False
_S = highspy.HighsModelStatus
_VERDICTS = {_S.kOptimal: "optimal", _S.kInfeasible: "infeasible", _S.kUnbounded: "unbounded",
             _S.kUnboundedOrInfeasible: "infeasible_or_unbounded",
             _S.kTimeLimit: "time_limit", _S.kInterrupt: "time_limit"}


class Undecided(Exception):
    """HiGHS neither solved a model nor proved it infeasible (a :func:`verdict` of "undecided")."""


class OutOfTime(Undecided):
    """A search, an LP or a MILP reached its deadline before deciding (neither feasible nor infeasible)."""


def verdict(status: highspy.HighsModelStatus, *, zero_cost: bool = False) -> str:
    """What a HiGHS model status proves: "optimal", "infeasible", "unbounded",
    "infeasible_or_unbounded", "time_limit" (deadline or interrupt) or "undecided" (anything else:
    iteration limit, numerical failure, unknown, ...). With ``zero_cost`` (a feasibility problem,
    nothing can be unbounded) "infeasible_or_unbounded" is "infeasible"."""
    named = _VERDICTS.get(status, "undecided")
    if named == "infeasible_or_unbounded" and zero_cost:
        return "infeasible"
    return named


@contextlib.contextmanager
def _stdout_silenced():
    """Point file descriptor 1 at /dev/null (the banner is printed from C, below Python's sys.stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def quiet_highs(**options) -> highspy.Highs:
    """A new ``highspy.Highs`` with logging off and the given options set (name=value)."""
    global _banner_shown
    if not _banner_shown:
        with _stdout_silenced():
            solver = highspy.Highs()
            solver.setOptionValue("output_flag", False)
        _banner_shown = True
    else:
        solver = highspy.Highs()
        solver.setOptionValue("output_flag", False)
    for name, value in options.items():
        solver.setOptionValue(name, value)
    return solver


def to_highs_lp(cost, A, row_lower, row_upper, col_lower, col_upper, integrality=None) -> highspy.HighsLp:
    """Build a ``HighsLp`` (column-wise matrix) from dense or scipy-sparse data."""
    A = sp.csc_matrix(A, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_ = int(A.shape[1])
    lp.num_row_ = int(A.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    if integrality is not None:
        lp.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
                           for flag in integrality]
    return lp


@dataclass(frozen=True)
class LpSolution:
    """status: a :func:`verdict`, or HiGHS's own status text for an "undecided" one; x: the primal point."""

    status: str
    x: np.ndarray | None
    objective: float | None


def solve_lp(cost, A, row_lower, row_upper, col_lower, col_upper, **options) -> LpSolution:
    """Solve an LP with HiGHS, output off; ``options`` are HiGHS options (e.g. time_limit)."""
    solver = quiet_highs(**options)
    solver.passModel(to_highs_lp(cost, A, row_lower, row_upper, col_lower, col_upper))
    solver.run()
    status = solver.getModelStatus()
    named = verdict(status, zero_cost=not np.any(cost))
    if named == "optimal":
        return LpSolution("optimal", np.array(solver.getSolution().col_value), solver.getInfo().objective_function_value)
    if named == "undecided":
        return LpSolution(solver.modelStatusToString(status), None, None)
    return LpSolution(named, None, None)
