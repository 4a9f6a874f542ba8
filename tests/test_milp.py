"""The big-M MILP (docs/math.md §3) against independent methods: the 1-D closed form, the M-free exhaustive
search, itself without cuts, and the CBC backend; and its honesty (time limit, box, infeasible)."""


import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.exact.exhaustive import search_exhaustive
from sparsest.exact.highs import INF, solve_lp
from sparsest.exact.milp import big_m, default_box, min_weights, slope_bound, solve_milp, start_support
from sparsest.core.network import Network
from sparsest.exact.closed_form import min_knots, sparsest_interpolant
from sparsest.core.recheck import recheck

from sparsest.generators import planted_instance


def _assert_witnessed(result, dataset, count_bias=False):
    """The result's upper bound is the re-checked count of its interpolating network."""
    check = recheck(result.network, dataset, count_bias=count_bias)
    assert check.interpolates
    value = check.neurons if result.objective == "neurons" else check.parameters
    assert value == result.upper_bound
    return check


# ---------------------------------------------------------------------- 1-D: the closed form
def _random_1d(rng, kind, most=12):
    n = int(rng.integers(2, most + 1))
    if kind == "integer":  # small ranges: ties in y and collinear triples are frequent
        x = rng.choice(np.arange(-6, 7), size=n, replace=False).tolist()
        y = rng.integers(-2, 3, size=n).tolist()
    elif kind == "collinear-float":  # exact binary fractions on a few lines
        x = (rng.choice(np.arange(-24, 25), size=n, replace=False) / 4.0).tolist()
        y = [float(abs(t - 1.0) * 2.0 - 0.5 * t) if rng.random() < 0.5 else float(t) for t in x]
    else:
        x = rng.uniform(-3, 3, size=n).tolist()
        y = rng.normal(size=n).tolist()
    return Dataset.from_arrays(x, y)


@pytest.mark.slow
def test_milp_equals_the_closed_form_on_105_random_1d_instances():
    rng = np.random.default_rng(20240601)
    kinds = ("integer", "collinear-float", "float")
    for trial in range(105):
        data = _random_1d(rng, kinds[trial % 3])
        objective = ("neurons", "parameters")[trial % 2]
        result = solve_milp(BlockDictionary(data), objective=objective)
        expected = min_knots(data)
        assert (result.status, result.lower_bound, result.upper_bound) == ("optimal", expected, expected), trial
        assert result.box is None and result.bounds.kind == "slope" and result.box_touched is None
        _assert_witnessed(result, data)
        # the proven slope bound really bounds the closed form's slope changes
        closed = sparsest_interpolant(data).network
        if closed.width:
            assert np.max(np.abs(closed.path_weights())) <= result.bounds.weight
        assert np.all(np.abs(result.network.path_weights()) <= result.bounds.weight * (1 + 1e-9))


def test_1d_without_cuts_and_with_count_bias_against_the_exhaustive_search():
    rng = np.random.default_rng(7)
    for trial in range(8):
        data = _random_1d(rng, "integer", most=5)
        dictionary = BlockDictionary(data)
        plain = solve_milp(dictionary, cuts=False)
        assert plain.status == "optimal" and plain.upper_bound == min_knots(data)
        # with biases counted there is no proven slope bound: the box R is part of the problem
        R = default_box(data)
        counted = solve_milp(dictionary, objective="parameters", count_bias=True, box=R)
        search = search_exhaustive(dictionary, objective="parameters", count_bias=True, box=R, time_limit=30)
        assert counted.bounds.kind == "box" and counted.box == R
        assert search.status == "optimal" and counted.status == "optimal"
        assert counted.upper_bound == search.upper_bound, trial
        _assert_witnessed(counted, data, count_bias=True)


# ---------------------------------------------------------------------- planted 2-D and 3-D
def _planted(seed):
    rng = np.random.default_rng(seed)
    dim = int(rng.integers(2, 4))
    n = int(rng.integers(5, 8))
    width = int(rng.integers(1, 4))
    return planted_instance(dim, n, width, seed)


def test_milp_equals_the_exhaustive_search_on_planted_instances_neurons():
    for seed in range(10):
        data = _planted(seed)
        dictionary = BlockDictionary(data)
        R = default_box(data)
        result = solve_milp(dictionary, box=R, time_limit=30)
        search = search_exhaustive(dictionary, box=R, time_limit=30)
        assert result.status == search.status == "optimal", seed
        assert result.upper_bound == search.upper_bound == result.lower_bound, seed
        _assert_witnessed(result, data)


@pytest.mark.slow
@pytest.mark.parametrize("seed, dim, n", [(1, 2, 5), (2, 2, 5), (3, 2, 6), (4, 2, 5), (6, 2, 6), (9, 3, 5), (11, 3, 5)])
def test_milp_equals_the_exhaustive_search_on_planted_instances_parameters(seed, dim, n):
    data = planted_instance(dim, n, 1 + seed % 3, seed)
    dictionary = BlockDictionary(data)
    R = default_box(data)
    result = solve_milp(dictionary, objective="parameters", box=R, time_limit=40)
    search = search_exhaustive(dictionary, objective="parameters", box=R, time_limit=40)
    assert result.status == search.status == "optimal"
    assert result.upper_bound == search.upper_bound == result.lower_bound
    _assert_witnessed(result, data)


def _options_variants(seed, n):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = np.maximum(X @ [1.0, -2.0] + 0.3, 0) - 0.5 * np.maximum(X @ [0.5, 1.0] - 0.1, 0)
    return [Dataset.from_arrays(X, y), Dataset.from_arrays(X, y + 1.5, output_bias=True),
            Dataset.from_arrays(X, y + X @ [1.0, 2.0], skip=True), Dataset.from_arrays(X, np.full(n, 3.0)),
            Dataset.from_arrays(X, np.abs(y) + 0.25)]


@pytest.mark.slow
@pytest.mark.parametrize("seed, n, objective", [(0, 6, "neurons"), (2, 5, "parameters")])
def test_cuts_never_change_the_optimum_with_any_network_options(seed, n, objective):
    for data in _options_variants(seed, n):
        dictionary = BlockDictionary(data)
        R = default_box(data)
        with_cuts = solve_milp(dictionary, objective=objective, box=R, time_limit=30)
        search = search_exhaustive(dictionary, objective=objective, box=R, time_limit=30)
        assert with_cuts.status == search.status == "optimal"
        assert with_cuts.upper_bound == search.upper_bound, data.summary()
        if objective == "neurons":  # (the parameter MILP without cuts is slow; the search is the check)
            without = solve_milp(dictionary, objective=objective, box=R, time_limit=30, cuts=False)
            assert without.status == "optimal" and without.upper_bound == search.upper_bound


@pytest.mark.slow
def test_highs_and_cbc_agree():
    # instances where the incumbent does not already meet the LP bound (no cuts for neurons): CBC runs
    cases = [(planted_instance(2, 5, 2, 13), "neurons", False), (planted_instance(2, 5, 2, 14), "neurons", False),
             (planted_instance(2, 5, 1, 13), "parameters", True)]
    for data, objective, cuts in cases:
        dictionary = BlockDictionary(data)
        R = default_box(data)
        highs = solve_milp(dictionary, objective=objective, box=R, solver="highs", cuts=cuts)
        cbc = solve_milp(dictionary, objective=objective, box=R, solver="cbc", cuts=cuts)
        assert cbc.solver_status.startswith("CBC") and highs.solver_status.startswith("HiGHS")
        assert highs.status == cbc.status == "optimal"
        assert highs.upper_bound == cbc.upper_bound
        assert cbc.solver == "cbc" and cbc.nodes is None
        _assert_witnessed(cbc, data)


# ---------------------------------------------------------------------- honesty
@pytest.mark.slow
def test_time_limit_reports_both_bounds_and_a_rechecked_network():
    data = planted_instance(3, 8, 3, 5)
    result = solve_milp(BlockDictionary(data), objective="parameters", time_limit=3.0)  # needs well over 20 s
    assert result.status == "time_limit"
    assert result.lower_bound is not None and result.upper_bound is not None
    assert result.lower_bound < result.upper_bound and result.gap == result.upper_bound - result.lower_bound
    _assert_witnessed(result, data)


def test_a_tiny_box_is_reported_infeasible_without_bounds():
    data = Dataset.from_arrays([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [0.0, 5.0, 0.0])
    result = solve_milp(BlockDictionary(data), box=0.1)
    assert result.status == "infeasible"
    assert result.lower_bound is None and result.upper_bound is None and result.network is None


def test_box_touched_is_flagged_only_when_a_path_weight_reaches_R():
    # y = 3 relu(x_1) on points where one neuron must have path weight exactly 3 on x_1
    X = [[-1.0, 0.0], [0.0, 0.5], [1.0, -0.5], [2.0, 1.0]]
    y = [3.0 * max(row[0], 0.0) for row in X]
    dictionary = BlockDictionary(Dataset.from_arrays(X, y))
    tight = solve_milp(dictionary, box=3.0)
    loose = solve_milp(dictionary, box=30.0)
    assert tight.status == loose.status == "optimal" and tight.upper_bound == loose.upper_bound == 1
    assert tight.box_touched is True and loose.box_touched is False


def test_same_call_same_numbers():
    dictionary = BlockDictionary(planted_instance(2, 8, 3, 3))
    first = solve_milp(dictionary, cuts=False)
    second = solve_milp(dictionary, cuts=False)
    assert first.upper_bound == second.upper_bound and first.box == second.box
    assert np.array_equal(first.network.W, second.network.W) and np.array_equal(first.network.b, second.network.b)


# ---------------------------------------------------------------------- start and bounds
def test_start_networks_map_to_blocks_including_left_facing_neurons_with_the_skip_term():
    data = Dataset.from_arrays([0, 1, 2, 3, 4, 5], [0, 1, 0, 2, 0, 1])
    dictionary = BlockDictionary(data)
    closed = sparsest_interpolant(data).network
    blocks = start_support(dictionary, closed, data.count_tol)
    assert len(blocks) == closed.width
    # relu(t) = t + relu(-t): the same function with left-facing neurons and a changed skip term
    flipped = Network(closed.v, -closed.W, -closed.b, closed.a + (closed.v * closed.W[:, 0]).sum(),
                      closed.c + (closed.v * closed.b).sum())
    assert recheck(flipped, data).interpolates
    assert start_support(dictionary, flipped, data.count_tol) == blocks
    result = solve_milp(dictionary, start=flipped, heuristic_only=True)
    assert not result.notes and result.upper_bound == closed.width


def test_a_planted_start_is_used_and_never_worsens_the_result():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (9, 2))
    W, b, v = rng.normal(size=(3, 2)), rng.normal(size=3) * 0.3, np.array([1.0, -1.0, 0.7])
    data = Dataset.from_arrays(X, np.maximum(X @ W.T + b, 0) @ v)
    planted = Network(v, W, b)
    result = solve_milp(BlockDictionary(data), start=planted, box=10.0, heuristic_only=True)
    assert not result.notes
    assert result.upper_bound <= planted.count_neurons(data.X, data.count_tol)
    with pytest.raises(SparsestError):
        solve_milp(BlockDictionary(data), start=Network([1.0], [[1.0]], [0.0]))


def test_min_weights_agrees_with_an_lp_on_random_data():
    rng = np.random.default_rng(5)
    for dim in (2, 3):
        data = Dataset.from_arrays(rng.integers(-2, 3, (6, dim)).astype(float), rng.normal(size=6))
        dictionary = BlockDictionary(data)
        k_min = min_weights(dictionary)
        Xt = data.X_tilde
        for p, inside in enumerate(dictionary.patterns):
            if inside.all():
                assert k_min[2 * p] == 0
                continue
            sigma = np.where(inside, 1.0, -1.0)
            single = False
            for j in range(dim):
                for sign in (1.0, -1.0):
                    lower = np.full(dim + 1, -INF)
                    upper = np.full(dim + 1, INF)
                    lower[:dim] = upper[:dim] = 0.0
                    lower[j] = upper[j] = sign
                    fit = solve_lp(np.zeros(dim + 1), sigma[:, None] * Xt, np.zeros(len(Xt)),
                                   np.full(len(Xt), INF), lower, upper)
                    single |= fit.status == "optimal"
            assert k_min[2 * p] == (1 if single else 2), (p, inside)


def test_big_m_choices_and_bad_arguments():
    one_d = Dataset.from_arrays([0, 1, 2, 4], [0, 2, 1, 5])
    assert slope_bound(one_d) == pytest.approx(2.0 - (-1.0))
    assert big_m(one_d).kind == "slope"
    assert big_m(one_d, box=2.0).kind == "box"
    assert big_m(one_d, objective="parameters", count_bias=True).kind == "box"
    two_d = planted_instance(2, 6, 2, 1)
    assert big_m(two_d).box == default_box(two_d) > 0
    dictionary = BlockDictionary(two_d)
    for kwargs in (dict(objective="weights"), dict(solver="gurobi"), dict(box=-1.0), dict(box=float("nan")),
                   dict(time_limit=0), dict(lower=-1), dict(start=[10 ** 6])):
        with pytest.raises(SparsestError):
            solve_milp(dictionary, **kwargs)


def test_a_proven_lower_bound_ends_the_search_at_a_matching_incumbent():
    data = planted_instance(2, 6, 2, 14)
    dictionary = BlockDictionary(data)
    R = default_box(data)
    optimum = search_exhaustive(dictionary, box=R).upper_bound
    result = solve_milp(dictionary, box=R, lower=optimum)
    assert result.status == "optimal" and result.lower_bound == result.upper_bound == optimum
