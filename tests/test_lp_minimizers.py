"""Exact global l^p minimizers (sparsest.claims.lp_minimizers) against independent methods.

Independent references, sharing no code with the package's search:
* 1-D: the matching characterization. With the skip term every interpolant's data values are
  a x + c + sum_k g_k relu(x - x_k) with g_k = s_k - s_{k-1} (the slope jumps at the interior data
  points); a neuron either sits at one data point (cost |g_k|^p) or merges two neighbouring
  jumps of the same sign into one knot between them (cost (|g_k| + |g_k+1|)^p). The candidates
  are the matchings of neighbouring same-sign jumps, enumerated here by brute force.
* random interpolating networks and local minimization from seeded starts (any dimension):
  none may beat the exact minimum;
* at p = 1: the min-l1 path-norm LP over the block dictionary, written here with scipy linprog.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from sparsest.core.dataset import Dataset, load_dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.core.rational import integer_determinant, null_vector
from sparsest.claims.lp_minimizers import (
    BoxBindsError,
    _maximal_partitions,
    _set_partitions,
    minimize_lp,
    vertex_catalogue,
)
from sparsest.exact.closed_form import min_knots

from oracles import distinct_2d, matching_oracle, random_1d

pytestmark = pytest.mark.claims
PS = (0.05, 0.3, 0.5, 0.8, 0.95, 1.0)


# ====================================================================== references


def l1_lp_value(ds: Dataset) -> float:
    """min sum_b ||u_b[:d]||_1 over the block dictionary (docs/math.md §3), by scipy linprog."""
    D = BlockDictionary(ds)
    n, d, k = ds.n_points, ds.dim, ds.dim + 1
    B, n_aff = D.n_blocks, D.n_affine
    nu, nt = B * k, B * d
    nv = nu + nt + n_aff
    A_eq = np.zeros((n, nv))
    for b in range(B):
        A_eq[:, b * k:(b + 1) * k] = D.design(b)
    A_eq[:, nu + nt:] = D.affine_design()
    rows = []
    for b in range(B):
        G = D.cone(b)
        for g in G:
            r = np.zeros(nv)
            r[b * k:(b + 1) * k] = -g
            rows.append(r)
        for j in range(d):
            for sign in (1, -1):
                r = np.zeros(nv)
                r[b * k + j] = sign
                r[nu + b * d + j] = -1
                rows.append(r)
    cost = np.zeros(nv)
    cost[nu:nu + nt] = 1
    res = linprog(cost, A_ub=np.array(rows), b_ub=np.zeros(len(rows)), A_eq=A_eq, b_eq=ds.y,
                  bounds=[(None, None)] * nu + [(0, None)] * nt + [(None, None)] * n_aff, method="highs")
    assert res.status == 0, res.message
    return float(res.fun)


def exact_values(ds: Dataset, vertex):
    """f(x_i) in rationals from the vertex's exact neurons and affine part (independent of lpmin)."""
    out = []
    for x in ds.X_exact:
        xt = list(x) + [Fraction(1)]
        v = Fraction(0)
        if ds.skip:
            v += sum(a * t for a, t in zip(vertex.affine, xt))
        elif ds.output_bias:
            v += vertex.affine[0]
        for s, u in vertex.neurons:
            v += s * max(Fraction(0), sum(a * t for a, t in zip(u, xt)))
        out.append(v)
    return out


# ====================================================================== 1-D: the oracle
@pytest.mark.parametrize("seed", range(40))
def test_1d_matches_the_matching_oracle(seed):
    rng = np.random.default_rng(seed)
    ds = random_1d(rng, int(rng.integers(2, 9)), integer=seed % 2 == 0)
    cat = vertex_catalogue(ds)
    for p in PS[:-1]:
        result = minimize_lp(ds, p, catalogue=cat)
        value, knot_sets = matching_oracle([r[0] for r in ds.X_exact], ds.y_exact, p)
        assert result.value == pytest.approx(value, rel=1e-12, abs=1e-12)
        found = {tuple(m.knots()) for m in result.minimizers}
        assert found == knot_sets, (p, found, knot_sets)
        assert result.unique == (len(knot_sets) == 1)


def test_shipped_1d_instances_match_the_oracle():
    from pathlib import Path
    for path in sorted((Path(__file__).resolve().parents[1] / "instances").glob("*.json")):
        ds = load_dataset(path)
        if ds.dim != 1 or ds.n_points > 12:
            continue
        cat = vertex_catalogue(ds)
        for p in (0.1, 0.5, 0.9):
            result = minimize_lp(ds, p, catalogue=cat)
            value, knot_sets = matching_oracle([r[0] for r in ds.X_exact], ds.y_exact, p)
            assert result.value == pytest.approx(value, rel=1e-12)
            assert {tuple(m.knots()) for m in result.minimizers} == knot_sets


def test_symmetric_data_has_two_minimizers_at_every_p():
    # slope jumps 1, 2, 1: pairing (1,2) or (2,1) gives the same magnitudes {3, 1} at every p
    ds = Dataset.from_arrays([0, 1, 2, 3, 4], [0, 0, 1, 4, 8])
    for p in (0.1, 0.5, 0.9):
        result = minimize_lp(ds, p)
        assert not result.unique
        assert {tuple(m.knots()) for m in result.minimizers} == {
            ((Fraction(5, 3), Fraction(3)), (Fraction(3), Fraction(1))),
            ((Fraction(1), Fraction(1)), (Fraction(7, 3), Fraction(3))),
        }
        assert result.neurons == 2


def test_minimizer_changes_with_p_on_a_run_of_four():
    # jumps 0.1, 1, 1, 0.1 in one convex run: small p pairs (ab)(cd) (2 neurons); near p = 1 the
    # cheaper a (bc) d (3 neurons) wins, as predicted: 2^p + 2 (0.1)^p < 2 (1.1)^p there.
    slopes = [Fraction(0), Fraction(1, 10), Fraction(11, 10), Fraction(21, 10), Fraction(22, 10)]
    y = [Fraction(0)]
    for s in slopes:
        y.append(y[-1] + s)
    ds = Dataset.from_arrays(list(range(6)), y)
    assert minimize_lp(ds, 0.2).neurons == 2
    assert minimize_lp(ds, 0.95).neurons == 3
    assert min_knots(ds) == 2


# ====================================================================== properties (hypothesis)
@st.composite
def data_1d(draw, min_n=2, max_n=8):
    n = draw(st.integers(min_n, max_n))
    xs = draw(st.lists(st.integers(-30, 30), min_size=n, max_size=n, unique=True))
    ys = draw(st.lists(st.fractions(-5, 5, max_denominator=4), min_size=n, max_size=n))
    return Dataset.from_arrays(xs, ys)


PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROP
@given(data_1d(), st.sampled_from([0.1, 0.4, 0.7, 0.99]))
def test_minimizer_count_between_closed_form_and_n_minus_2(ds, p):
    result = minimize_lp(ds, p)
    for m in result.minimizers:
        assert min_knots(ds) <= m.n_neurons <= max(ds.n_points - 2, 0)
        assert m.network.count_neurons(ds.X, ds.count_tol) == m.n_neurons


@PROP
@given(data_1d(), st.sampled_from([0.1, 0.5, 0.9, 1.0]))
def test_minimizers_interpolate_exactly_in_fractions(ds, p):
    for m in minimize_lp(ds, p).minimizers:
        assert exact_values(ds, m) == list(ds.y_exact)
        assert m.cost(p) == pytest.approx(minimize_lp(ds, p).value, rel=1e-9)


@PROP
@given(data_1d(), st.fractions(-6, 6, max_denominator=5).filter(lambda c: c != 0), st.sampled_from([0.2, 0.6, 0.9]))
def test_value_scales_as_abs_c_to_the_p(ds, c, p):
    scaled = Dataset.from_arrays([r[0] for r in ds.X_exact], [c * v for v in ds.y_exact])
    assert minimize_lp(scaled, p).value == pytest.approx(float(abs(c)) ** p * minimize_lp(ds, p).value,
                                                         rel=1e-9, abs=1e-12)


@PROP
@given(data_1d(), st.fractions(-3, 3, max_denominator=4), st.fractions(-3, 3, max_denominator=4),
       st.sampled_from([0.3, 0.8]))
def test_the_free_affine_part_costs_nothing(ds, a, c, p):
    tilted = Dataset.from_arrays([r[0] for r in ds.X_exact], [v + a * r[0] + c for v, r in zip(ds.y_exact, ds.X_exact)])
    assert minimize_lp(tilted, p).value == pytest.approx(minimize_lp(ds, p).value, rel=1e-12, abs=1e-12)


# ====================================================================== p = 1 against the LP
@pytest.mark.parametrize("seed", range(12))
def test_value_at_p1_equals_the_min_l1_lp_1d(seed):
    rng = np.random.default_rng(100 + seed)
    ds = random_1d(rng, int(rng.integers(3, 9)), integer=seed % 2 == 1)
    assert minimize_lp(ds, 1.0).value == pytest.approx(l1_lp_value(ds), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("seed,options", [(s, o) for s in range(3) for o in ({}, {"output_bias": True}, {"skip": True})])
def test_value_at_p1_equals_the_min_l1_lp_2d(seed, options):
    rng = np.random.default_rng(200 + seed)
    ds = distinct_2d(rng, 4, **options)
    assert minimize_lp(ds, 1.0).value == pytest.approx(l1_lp_value(ds), rel=1e-7, abs=1e-9)


# ====================================================================== nothing beats it
def _random_interpolant_costs(ds: Dataset, rng, p, samples):
    """Costs sum_k sum_j |v_k w_kj|^p of random interpolating networks: random hidden layers
    (width N + 2 to N + 5), output weights from the interpolation equations plus a random null-space move."""
    n, d = ds.n_points, ds.dim
    X, y = ds.X, ds.y
    costs = []
    for _ in range(samples):
        width = n + int(rng.integers(2, 6))
        W = rng.normal(size=(width, d))
        # biases put each hyperplane through a random point near a random data point
        spread = (X.max(axis=0) - X.min(axis=0)) / n
        anchor = X[rng.integers(0, n, size=width)] + rng.normal(size=(width, d)) * spread
        b = -(W * anchor).sum(axis=1)
        H = np.maximum(X @ W.T + b, 0.0)
        aff = ds.X_tilde if ds.skip else (np.ones((n, 1)) if ds.output_bias else np.zeros((n, 0)))
        A = np.hstack([H, aff])
        sol, *_ = np.linalg.lstsq(A, y, rcond=None)
        _, sv, vt = np.linalg.svd(A)
        rank = int((sv > 1e-10 * sv[0]).sum())
        null = vt[rank:].T
        if null.shape[1]:
            sol = sol + null @ rng.normal(size=null.shape[1]) * rng.uniform(0, 2)
        if np.max(np.abs(A @ sol - y)) > 1e-9:
            continue
        v = sol[:width]
        costs.append(float(np.sum(np.abs(v[:, None] * W) ** p)))
    return costs


@pytest.mark.parametrize("seed", range(8))
def test_random_interpolants_never_beat_the_minimum(seed):
    rng = np.random.default_rng(300 + seed)
    ds = random_1d(rng, 6) if seed < 4 else distinct_2d(rng, 4)
    cat = vertex_catalogue(ds)
    for p in (0.3, 0.7, 1.0):
        best = minimize_lp(ds, p, catalogue=cat).value
        costs = _random_interpolant_costs(ds, rng, p, 200)
        assert len(costs) > 50
        assert min(costs) >= best * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_local_minimization_from_seeded_starts_never_beats_the_minimum(seed):
    """Nelder-Mead on the knots of a width-(N-2) 1-D network (slope changes and skip term solved
    from the interpolation equations): the best local minimum is never below the exact one."""
    rng = np.random.default_rng(400 + seed)
    ds = random_1d(rng, 6)
    x, y = ds.X[:, 0], ds.y
    p = 0.5
    exact = minimize_lp(ds, p).value

    def cost(t):
        A = np.hstack([np.maximum(x[:, None] - t[None, :], 0.0), x[:, None], np.ones((len(x), 1))])
        sol, *_ = np.linalg.lstsq(A, y, rcond=None)
        if np.max(np.abs(A @ sol - y)) > 1e-8:
            return 1e6
        return float(np.sum(np.abs(sol[:len(t)]) ** p))

    lows = []
    for start in range(10):
        t0 = np.sort(rng.uniform(x.min(), x.max(), size=len(x) - 2))
        res = minimize(cost, t0, method="Nelder-Mead", options={"maxiter": 400, "xatol": 1e-10, "fatol": 1e-12})
        lows.append(res.fun)
    assert min(lows) >= exact * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_2d_local_minimization_from_seeded_starts_never_beats_the_minimum(seed):
    """Nelder-Mead on the hidden layer (W, b) of a width-N 2-D network without skip term, the
    output weights solved from the interpolation equations."""
    rng = np.random.default_rng(450 + seed)
    ds = distinct_2d(rng, 4)
    X, y, n, p = ds.X, ds.y, ds.n_points, 0.5
    exact = minimize_lp(ds, p).value

    def cost(theta):
        W, b = theta[:2 * n].reshape(n, 2), theta[2 * n:]
        H = np.maximum(X @ W.T + b, 0.0)
        v, *_ = np.linalg.lstsq(H, y, rcond=None)
        if np.max(np.abs(H @ v - y)) > 1e-8:
            return 1e6
        return float(np.sum(np.abs(v[:, None] * W) ** p))

    lows = []
    for _ in range(8):
        W0 = rng.normal(size=(n, 2))
        b0 = -(W0 * X[rng.permutation(n)]).sum(axis=1) + 0.1  # each hyperplane near a data point
        res = minimize(cost, np.concatenate([W0.ravel(), b0]), method="Nelder-Mead", options={"maxiter": 800})
        lows.append(res.fun)
    assert min(lows) < 1e6  # some start interpolates
    assert min(lows) >= exact * (1 - 1e-9)


# ====================================================================== 2-D
def test_square_corners_small_p_is_two_neurons_with_four_path_weights():
    from pathlib import Path
    ds = load_dataset(Path(__file__).resolve().parents[1] / "instances" / "square_corners_2d.json")
    result = minimize_lp(ds, 0.05)
    assert (result.neurons, result.parameters) == (2, 4)
    for m in result.minimizers:
        assert exact_values(ds, m) == list(ds.y_exact)


@pytest.mark.parametrize("seed", range(6))
def test_2d_minimizers_interpolate_exactly_and_their_costs_agree(seed):
    rng = np.random.default_rng(500 + seed)
    ds = distinct_2d(rng, 4, output_bias=seed % 2 == 1)
    cat = vertex_catalogue(ds)
    for p in (0.1, 0.6):
        result = minimize_lp(ds, p, catalogue=cat)
        assert result.value == pytest.approx(float(cat.costs(p).min()), rel=1e-7)
        for m in result.minimizers:
            assert exact_values(ds, m) == list(ds.y_exact)
            assert m.cost(p) == pytest.approx(result.value, rel=1e-9)
            assert m.network.count_parameters(ds.X, ds.count_tol) == m.n_parameters
        assert result.parameters <= ds.n_points


def test_box_keeps_minimizers_inside_and_refuses_a_binding_box():
    ds = Dataset.from_arrays([[0, 0], [1, 0], [0, 1]], [0, 1, 5])
    free = minimize_lp(ds, 0.5)
    largest = max(float(abs(u[j])) for m in free.minimizers for _, u in m.neurons for j in range(2))
    boxed = minimize_lp(ds, 0.5, box=largest)
    assert boxed.value == pytest.approx(free.value)
    assert boxed.touches_box
    with pytest.raises(BoxBindsError, match="lies on the box"):
        minimize_lp(ds, 0.5, box=largest / 2)


# ====================================================================== exact helpers, errors, determinism
def test_bareiss_determinant_matches_fraction_elimination():
    rng = np.random.default_rng(7)
    for n in range(1, 7):
        for _ in range(20):
            M = rng.integers(-3, 4, size=(n, n)).tolist()
            if rng.random() < 0.3:
                M[-1] = M[0]  # singular
            ref = Fraction(1)
            a = [[Fraction(v) for v in row] for row in M]
            for c in range(n):
                piv = next((r for r in range(c, n) if a[r][c] != 0), None)
                if piv is None:
                    ref = Fraction(0)
                    break
                if piv != c:
                    a[c], a[piv] = a[piv], a[c]
                    ref = -ref
                ref *= a[c][c]
                for r in range(c + 1, n):
                    f = a[r][c] / a[c][c]
                    a[r] = [x - f * z for x, z in zip(a[r], a[c])]
            assert integer_determinant(M) == ref


def test_maximal_partitions_match_a_brute_force_over_all_set_partitions():
    for n, bell in enumerate([1, 1, 2, 5, 15, 52, 203]):
        parts = [frozenset(map(frozenset, q)) for q in _set_partitions(list(range(n)))]
        assert len(parts) == len(set(parts)) == bell
    rng = np.random.default_rng(11)
    for _ in range(60):
        n = int(rng.integers(1, 7))
        upper = np.triu(rng.random((n, n)) < 0.5, 1)
        joinable = upper | upper.T
        clique = lambda g: all(joinable[a, b] for a in g for b in g if a != b)  # noqa: E731
        expected = set()
        for partition in _set_partitions(list(range(n))):
            if not all(clique(g) for g in partition):
                continue
            if any(clique(g + h) for i, g in enumerate(partition) for h in partition[i + 1:]):
                continue
            expected.add(frozenset(map(frozenset, partition)))
        found = [frozenset(map(frozenset, part)) for part in _maximal_partitions(list(range(n)), joinable)]
        assert len(found) == len(set(found)) and set(found) == expected


def test_null_line_is_orthogonal_and_primitive():
    rng = np.random.default_rng(8)
    for d in (1, 2, 3):
        for _ in range(20):
            rows = rng.integers(-5, 6, size=(d, d + 1)).tolist()
            line = null_vector(rows)
            if np.linalg.matrix_rank(np.array(rows, dtype=float)) < d:
                assert line is None
                continue
            assert all(sum(a * b for a, b in zip(r, line)) == 0 for r in rows)
            assert math.gcd(*map(abs, line)) == 1


@pytest.mark.parametrize("p", [0, -0.5, 1.5, float("nan"), "0.5", True])
def test_bad_p_is_refused(p):
    with pytest.raises(SparsestError, match="0 < p <= 1"):
        minimize_lp(Dataset.from_arrays([0, 1, 2], [0, 1, 0]), p)


def test_too_large_instances_are_refused_with_one_line():
    with pytest.raises(SparsestError, match="N <= 12"):
        vertex_catalogue(Dataset.from_arrays(list(range(13)), [0, 1] * 6 + [0]))
    rng = np.random.default_rng(9)
    with pytest.raises(SparsestError, match="determinants") as err:
        vertex_catalogue(distinct_2d(rng, 6))
    assert "\n" not in str(err.value)


def test_a_bad_box_and_a_foreign_catalogue_are_refused():
    ds = Dataset.from_arrays([0, 1, 2], [0, 1, 0])
    with pytest.raises(SparsestError, match="box"):
        minimize_lp(ds, 0.5, box=-1.0)
    other = Dataset.from_arrays([0, 1, 2], [0, 2, 0])
    with pytest.raises(SparsestError, match="catalogue"):
        minimize_lp(ds, 0.5, catalogue=vertex_catalogue(other))


def test_same_input_same_output():
    rng = np.random.default_rng(10)
    ds = distinct_2d(rng, 4)
    a, b = minimize_lp(ds, 0.4), minimize_lp(ds, 0.4)
    assert a.value == b.value
    assert [m.key() for m in a.minimizers] == [m.key() for m in b.minimizers]


def test_affine_data_needs_no_neuron():
    result = minimize_lp(Dataset.from_arrays([0, 1, 2, 5], [1, 3, 5, 11]), 0.5)
    assert (result.value, result.neurons, result.unique) == (0.0, 0, True)


@pytest.mark.parametrize("X,y,neurons", [([5], [2], 0), ([[1, 2]], [3], 1), ([[1, 2]], [0], 0)])
def test_a_single_point(X, y, neurons):
    # 1-D: the skip term fits it; 2-D without skip term: a free constant neuron (w = 0), or nothing
    result = minimize_lp(Dataset.from_arrays(X, y), 0.5)
    assert (result.value, result.neurons) == (0.0, neurons)
