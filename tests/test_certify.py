"""certify(): method choice, the certificate's honesty (counts from the re-check, "optimal" only with
closed bounds) and its JSON contract."""

import json

import numpy as np
import pytest

from sparsest.exact.certify import Certificate, certify
from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.exact.milp import default_box
from sparsest.core.network import Network
from sparsest.exact.closed_form import min_knots, sparsest_interpolant
from sparsest.core.recheck import recheck

from sparsest.generators import planted_instance

CONTRACT_KEYS = {"instance", "n_points", "dim", "objective", "method", "status", "neurons", "parameters",
                 "lower_bound", "upper_bound", "max_abs_residual", "seconds", "assumptions", "network"}


def _assert_honest(c: Certificate, data: Dataset):
    """Counts are the re-check's; "optimal" only with equal bounds and an interpolating network."""
    assert c.status in ("optimal", "time_limit", "infeasible", "unverified")
    if c.network is not None:
        check = recheck(c.network, data, count_bias=c.count_bias)
        assert (c.neurons, c.parameters) == (check.neurons, check.parameters)
        assert c.max_abs_residual == check.max_abs_residual
        if check.interpolates:
            assert c.upper_bound == (check.neurons if c.objective == "neurons" else check.parameters)
    if c.status == "optimal":
        assert c.lower_bound == c.upper_bound is not None and c.recheck.interpolates
    if c.status == "time_limit":
        assert c.lower_bound is not None
        assert c.upper_bound is None or c.lower_bound < c.upper_bound
    body = c.to_json()
    assert CONTRACT_KEYS <= set(body)
    json.dumps(body)  # plain JSON types only


def test_1d_auto_uses_the_closed_form_and_counts_come_from_the_recheck():
    rng = np.random.default_rng(3)
    for _ in range(10):
        x = rng.choice(np.arange(-8, 9), size=9, replace=False).tolist()
        data = Dataset.from_arrays(x, rng.integers(-3, 4, size=9).tolist())
        for objective in ("neurons", "parameters"):
            c = certify(data, objective=objective)
            assert c.method == "closed-form" and c.status == "optimal"
            assert c.upper_bound == c.lower_bound == min_knots(data) == c.neurons == c.parameters
            assert c.assumptions["bound"] == "closed-form"
            _assert_honest(c, data)


def test_every_method_agrees_on_planted_instances():
    for seed in (1, 2, 3):
        data = planted_instance(2, 7, 2, seed)
        R = default_box(data)
        results = {m: certify(data, method=m, box=R, time_limit=30) for m in ("auto", "milp", "exhaustive")}
        values = {m: c.upper_bound for m, c in results.items()}
        assert len(set(values.values())) == 1, values
        for c in results.values():
            assert c.status == "optimal" and c.box == R
            _assert_honest(c, data)
        assert results["milp"].assumptions["bound"] == "box" and results["milp"].assumptions["box"] == R


def test_1d_certificates_from_milp_and_exhaustive_match_the_closed_form():
    data = Dataset.from_arrays([0, 1, 2, 3, 4, 5, 6], [0, 2, 1, 1, 3, 0, 0])
    expected = min_knots(data)
    for method in ("milp", "exhaustive"):
        c = certify(data, method=method)
        assert c.status == "optimal" and c.upper_bound == expected
        _assert_honest(c, data)
    milp = certify(data, method="milp")
    assert milp.assumptions["bound"] == "slope" and milp.box is None
    assert "slope" in milp.assumptions["why"]


def test_parameters_with_count_bias_in_1d_leave_the_closed_form_for_a_box_problem():
    data = Dataset.from_arrays([0, 1, 2, 3, 4], [0, 1, 0, 1, 3])
    c = certify(data, objective="parameters", count_bias=True, time_limit=30)
    assert c.method != "closed-form" and c.box == default_box(data)
    assert c.status == "optimal" and c.count_bias
    _assert_honest(c, data)
    assert c.upper_bound >= min_knots(data)
    with pytest.raises(SparsestError, match="closed form"):
        certify(data, method="closed-form", objective="parameters", count_bias=True)


def test_closed_form_refuses_2d_data_and_a_box_it_leaves():
    with pytest.raises(SparsestError, match="closed form"):
        certify(planted_instance(2, 5, 1, 1), method="closed-form")
    data = Dataset.from_arrays([0, 1, 2, 3], [0, 0, 10, 0])
    steepest = float(np.max(np.abs(sparsest_interpolant(data).network.path_weights())))
    with pytest.raises(SparsestError, match="box"):
        certify(data, method="closed-form", box=steepest / 2)
    inside = certify(data, box=steepest * 2)
    assert inside.method == "closed-form" and inside.box_touched is False
    outside = certify(data, box=steepest / 2, time_limit=30)  # auto: the box problem, by search/MILP
    assert outside.method != "closed-form" and outside.box == steepest / 2
    _assert_honest(outside, data)


@pytest.mark.slow
def test_a_time_limit_certificate_carries_both_bounds():
    data = planted_instance(3, 8, 3, 5)  # the parameter MILP needs well over 20 s here
    c = certify(data, method="milp", objective="parameters", time_limit=3.0)
    assert c.status == "time_limit" and c.lower_bound < c.upper_bound
    assert c.to_json()["gap"] == c.upper_bound - c.lower_bound
    _assert_honest(c, data)


@pytest.mark.slow
def test_the_time_limit_holds_when_the_lp_relaxation_alone_takes_longer():
    # N = 10, d = 6: 931 activation sets; the relaxation of the parameter MILP takes ~75 s here.
    rng = np.random.default_rng(1)
    data = Dataset.from_arrays(rng.uniform(-1, 1, (10, 6)), rng.uniform(-1, 1, 10))
    c = certify(data, method="milp", objective="parameters", count_bias=True, time_limit=1.0)
    assert c.seconds < 1.0 * 3 + 10  # generous slack: the machine may be loaded (issue 12.8)
    assert c.status == "time_limit"
    assert any("LP relaxation" in note or "not built" in note for note in c.notes)
    _assert_honest(c, data)


def test_an_impossible_box_is_infeasible():
    data = Dataset.from_arrays([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [0.0, 5.0, 0.0])
    c = certify(data, method="milp", box=0.1)
    assert c.status == "infeasible" and c.lower_bound is None and c.network is None
    _assert_honest(c, data)


def test_json_contract_and_assumptions():
    data = planted_instance(2, 6, 2, 14)
    body = certify(data, method="milp").to_json()
    assert body["upper_bound"] == 2
    assert CONTRACT_KEYS <= set(body)
    assert set(body["network"]) == {"v", "W", "b", "a", "c"}
    assumptions = body["assumptions"]
    for key in ("skip", "output_bias", "count_bias", "bound", "box", "why", "tolerances", "solver_status"):
        assert key in assumptions
    assert assumptions["tolerances"]["interpolation"] == data.interpolation_tol
    assert body["recheck"]["activation_sets"] and body["solver"] == "highs"
    again = Network.from_json(body["network"])
    assert recheck(again, data).interpolates


def test_a_start_network_is_accepted_and_same_call_same_numbers():
    data = planted_instance(2, 7, 2, 6)
    first = certify(data, method="milp")
    second = certify(data, method="milp", start=first.network)
    assert second.status == first.status == "optimal" and second.upper_bound == first.upper_bound
    assert not second.notes
    third = certify(data, method="milp")
    assert np.array_equal(first.network.W, third.network.W) and np.array_equal(first.network.b, third.network.b)


def test_bad_options_raise_one_line_errors():
    data = planted_instance(2, 5, 1, 1)
    bad = [dict(method="magic"), dict(objective="weights"), dict(solver="gurobi"), dict(box=0.0),
           dict(box=float("inf")), dict(time_limit=-1.0), dict(max_patterns=0), dict(max_patterns=2),
           dict(start="network.json"), dict(start=Network([1.0], [[1.0]], [0.0]))]
    for kwargs in bad:
        with pytest.raises(SparsestError) as info:
            certify(data, **kwargs)
        assert "\n" not in str(info.value)
    with pytest.raises(SparsestError):
        certify({"X": [1, 2], "y": [1, 2]})


def test_a_bound_above_the_rechecked_witness_is_never_reported_optimal():
    """settle: lower > upper is a contradiction between an exact-interpolation bound and a count at
    tolerance; the verdict is 'unverified', never 'optimal' or 'time_limit'."""
    from sparsest.exact.problem import settle

    for status in ("optimal", "time_limit", "undecided"):
        notes = []
        verdict, lower = settle(status, 4, 3, notes)
        assert verdict == "unverified" and lower == 3
        assert any("contradiction" in n for n in notes)
    notes = []
    assert settle("time_limit", 3, 3, notes) == ("optimal", 3) and not notes
    assert settle("time_limit", 2, 3, []) == ("time_limit", 2)
