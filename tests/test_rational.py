"""sparsest.core.rational: exact determinants, row reduction, solves and number conversion,
cross-checked against numpy and the fractions module on seeded random instances."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sparsest.core.rational import (
    determinant, integer_determinant, integer_row, null_vector, pivots, solve, to_fraction,
)
from sparsest.errors import SparsestError


@pytest.mark.parametrize("seed", range(40))
def test_integer_determinant_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    M = rng.integers(-9, 10, size=(n, n))
    if seed % 4 == 0:  # a singular one: a row repeated
        M[-1] = M[0]
    exact = integer_determinant(M.tolist())
    assert isinstance(exact, int)
    assert exact == round(np.linalg.det(M.astype(float)))
    assert determinant(M.tolist()) == exact


@pytest.mark.parametrize("seed", range(20))
def test_rational_determinant_scales_exactly(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 5))
    M = rng.integers(-9, 10, size=(n, n))
    q = [int(v) for v in rng.integers(1, 8, size=n)]
    rows = [[Fraction(int(v), q[i]) for v in M[i]] for i in range(n)]
    expected = Fraction(integer_determinant(M.tolist()), int(np.prod(q)))
    assert determinant(rows) == expected
    # floats are read as their exact binary values: halves stay exact
    assert determinant((M / 2.0).tolist()) == Fraction(integer_determinant(M.tolist()), 2 ** n)


@pytest.mark.parametrize("seed", range(20))
def test_pivots_rank_matches_numpy(seed):
    rng = np.random.default_rng(200 + seed)
    rows, cols, rank = (int(v) for v in rng.integers(1, 6, size=3))
    rank = min(rank, rows, cols)
    M = rng.integers(-3, 4, size=(rows, rank)) @ rng.integers(-3, 4, size=(rank, cols))
    pivot_cols, pivot_rows = pivots(M.tolist())
    assert len(pivot_cols) == len(pivot_rows) == np.linalg.matrix_rank(M.astype(float))
    assert np.linalg.matrix_rank(M[np.ix_(pivot_rows, pivot_cols)].astype(float)) == len(pivot_cols)


@pytest.mark.parametrize("seed", range(20))
def test_solve_and_null_vector(seed):
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(1, 5))
    M = rng.integers(-9, 10, size=(n, n))
    if integer_determinant(M.tolist()) == 0:
        M = M + 20 * np.eye(n, dtype=int)
    u = [Fraction(int(v), int(w)) for v, w in zip(rng.integers(-9, 10, n), rng.integers(1, 9, n))]
    rhs = [sum(int(M[i][j]) * u[j] for j in range(n)) for i in range(n)]
    assert solve(M.tolist(), rhs) == u
    wide = rng.integers(-5, 6, size=(n, n + 1)).tolist()
    r = null_vector(wide)
    if r is None:
        assert np.linalg.matrix_rank(np.array(wide, dtype=float)) < n
    else:
        assert all(sum(a * b for a, b in zip(row, r)) == 0 for row in wide)
        assert any(r)


def test_integer_row_keeps_the_hyperplane():
    assert integer_row([Fraction(1, 2), Fraction(1, 3), 1]) == [3, 2, 6]


@pytest.mark.parametrize("text, value", [
    ("0.1", Fraction(1, 10)), ("-3/4", Fraction(-3, 4)), ("1e-5", Fraction(1, 100000)),
    (" 12 ", Fraction(12)), ("1.25e2", Fraction(125)), ("1e999", Fraction(10) ** 999),
])
def test_decimal_text_is_exact(text, value):
    assert to_fraction(text) == value


@pytest.mark.parametrize("seed", range(10))
def test_decimal_strings_roundtrip_exactly(seed):
    rng = np.random.default_rng(400 + seed)
    for _ in range(50):
        digits, exponent = int(rng.integers(-10**12, 10**12)), int(rng.integers(-30, 30))
        text = f"{digits}e{exponent}"
        assert to_fraction(text) == Fraction(digits) * Fraction(10) ** exponent


def test_floats_are_their_binary_values():
    assert to_fraction(0.1) == Fraction(0.1) != Fraction(1, 10)
    assert to_fraction(np.float64(0.5)) == Fraction(1, 2)
    assert to_fraction(np.int64(7)) == 7


@pytest.mark.parametrize("bad", [True, float("nan"), float("inf"), "inf", "nan", "abc", None, [1]])
def test_bad_numbers_are_one_line_errors(bad):
    with pytest.raises(SparsestError) as err:
        to_fraction(bad, "y[3]")
    assert "y[3]" in str(err.value) and "\n" not in str(err.value)
