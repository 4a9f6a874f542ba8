"""Sound verdicts (issue 11 item 1): only an explicit infeasible status from HiGHS rules a support
or a model out; an undecided LP leaves its size open and no "optimal" rests on it."""

import highspy
import numpy as np
import pytest

from sparsest.exact import exhaustive
from sparsest.exact.milp import backends, heuristics, solve_milp
from sparsest.exact.certify import certify
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import search_exhaustive
from sparsest.exact.highs import quiet_highs, to_highs_lp, verdict
from sparsest.core.recheck import recheck
from sparsest.generators import planted_instance


def test_the_status_map_rules_out_only_on_infeasible():
    S = highspy.HighsModelStatus
    assert verdict(S.kOptimal) == "optimal" and verdict(S.kInfeasible) == "infeasible"
    assert verdict(S.kUnboundedOrInfeasible) == "infeasible_or_unbounded"
    assert verdict(S.kUnboundedOrInfeasible, zero_cost=True) == "infeasible"
    assert verdict(S.kTimeLimit) == verdict(S.kInterrupt) == "time_limit"
    for status in (S.kIterationLimit, S.kUnknown, S.kSolveError, S.kNotset, S.kObjectiveBound):
        assert verdict(status) == "undecided"


def test_a_real_iteration_limit_is_undecided():
    """A feasible LP stopped after 0 simplex iterations is neither solved nor infeasible."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 8))
    b = A @ rng.uniform(1, 2, 8)
    solver = quiet_highs(simplex_iteration_limit=0, presolve="off")
    solver.passModel(to_highs_lp(np.ones(8), A, b, b, np.zeros(8), np.full(8, 5.0)))
    solver.run()
    assert verdict(solver.getModelStatus()) == "undecided"


def _optimum(data):
    result = search_exhaustive(BlockDictionary(data))
    assert result.status == "optimal"
    return result.upper_bound


def _undecided_at(monkeypatch, size):
    """Every support LP with ``size`` blocks comes back undecided (feasible or not)."""
    original = exhaustive._FeasibilityLP.feasible

    def feasible(self, blocks, mask):
        return "undecided" if len(blocks) == size else original(self, blocks, mask)

    monkeypatch.setattr(exhaustive._FeasibilityLP, "feasible", feasible)


def test_an_undecided_lp_on_a_feasible_support_leaves_its_size_open(monkeypatch):
    for seed in (1, 2):
        data = planted_instance(2, 7, 2, seed)
        k = _optimum(data)
        _undecided_at(monkeypatch, k)
        result = search_exhaustive(BlockDictionary(data))
        # ruling the undecided size out would "prove" k + 1
        assert result.status == "undecided", seed
        assert result.lower_bound == k and result.upper_bound == k + 1
        assert recheck(result.network, data).interpolates
        monkeypatch.undo()


def test_the_certificate_does_not_claim_optimality_on_an_undecided_size(monkeypatch):
    data = planted_instance(2, 7, 2, 1)
    k = _optimum(data)
    _undecided_at(monkeypatch, k)
    c = certify(data, method="exhaustive", time_limit=60)
    assert c.lower_bound == k and c.upper_bound in (k, k + 1)
    # optimal only when the re-checked network itself meets the proven bound k
    assert c.status == ("optimal" if c.upper_bound == k else "unverified")
    assert any("not ruled out" in note for note in c.notes)


@pytest.mark.slow
def test_an_undecided_relaxation_is_never_called_infeasible(monkeypatch):
    """With every HiGHS status of the MILP module undecided nothing is proven, and nothing is
    reported infeasible or optimal."""
    data = planted_instance(2, 7, 2, 1)
    for module in (heuristics, backends):
        monkeypatch.setattr(module, "verdict", lambda status, **_: "undecided")
    result = solve_milp(BlockDictionary(data), time_limit=30)
    assert result.status not in ("optimal", "infeasible")
    assert result.lower_bound == 0
