"""Exact rational arithmetic shared by the exact parts of the package (docs/math.md §3, §4, §6).

One home for the few exact routines the package needs, each written once:

* :func:`to_fraction` - a number as written (int, float, Fraction, decimal text) as an exact
  rational, or a one-line :class:`~sparsest.errors.SparsestError`;
* :func:`integer_determinant` / :func:`determinant` - det M exactly (fraction-free Bareiss
  elimination on integers; rational matrices are scaled to integer rows first);
* :func:`null_vector` - the primitive integer generator of the null line of a d x (d+1) matrix;
* :func:`integer_row` - a rational row scaled to integers (same hyperplane);
* :func:`pivots` - exact row reduction: pivot columns and the original rows that carry them;
* :func:`solve` - the solution of a nonsingular square system;
* :func:`common_denominator` - rationals q_i as integers n_i over one denominator D (q_i = n_i / D).

Floats are read as the exact rationals of their binary values (``Fraction(0.1) != Fraction(1, 10)``);
decimal text as the decimal it spells (``to_fraction("0.1") == Fraction(1, 10)``).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import reduce
from numbers import Rational
from typing import Any, Sequence

import numpy as np

from sparsest.errors import SparsestError

__all__ = [
    "common_denominator",
    "determinant",
    "floats_of",
    "integer_determinant",
    "integer_row",
    "null_vector",
    "pivots",
    "sign_of_cross",
    "solve",
    "to_fraction",
]


def to_fraction(value: Any, where: str = "value") -> Fraction:
    """``value`` as an exact rational q with q == value as written, or a SparsestError naming ``where``.

    Accepted: int (numpy integers too), Fraction and other exact Rationals, finite floats (their
    exact binary value), and text: a decimal or fraction literal ("0.1", "-3/4", "1e-5") read
    exactly, else anything float() reads to a finite number. Refused: booleans, NaN, infinities,
    non-numeric text and other types.
    """
    if isinstance(value, bool):
        raise SparsestError(f"{where}: expected a number, got a boolean ({value!r})")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, Rational):
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise SparsestError(f"{where}: {value!r} is not a finite number")
        return Fraction(float(value))
    if isinstance(value, str):
        text = value.strip()
        exponent = _DECIMAL_EXPONENT.search(text)
        if len(text) > MAX_TEXT_LENGTH or (exponent and abs(int(exponent.group(1))) > MAX_DECIMAL_EXPONENT):
            raise SparsestError(f"{where}: {_clip(value)} is beyond the range of numbers read (|exponent| <= "
                                f"{MAX_DECIMAL_EXPONENT}, at most {MAX_TEXT_LENGTH} characters)")
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            pass
        try:
            number = float(text)
        except ValueError:
            raise SparsestError(f"{where}: {_clip(value)} is not a number") from None
        if not math.isfinite(number):
            raise SparsestError(f"{where}: {value!r} is not a finite number")
        return Fraction(number)
    raise SparsestError(f"{where}: expected a number, got {type(value).__name__} ({value!r})")


#: Decimal text with a larger power of ten, or longer than this, is refused before it is expanded
#: (Fraction("1e999999999") would build a billion-digit integer); float64 ends near 1e308 anyway.
MAX_DECIMAL_EXPONENT = 4000
MAX_TEXT_LENGTH = 400
_DECIMAL_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


def _clip(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:30] + "...")


def integer_determinant(rows: Sequence[Sequence[int]]) -> int:
    """det M of a square integer matrix, exactly (Bareiss' fraction-free elimination; det of 0 x 0 is 1)."""
    a = [list(r) for r in rows]
    n = len(a)
    if n == 0:
        return 1
    sign, prev = 1, 1
    for k in range(n - 1):
        if a[k][k] == 0:
            swap = next((i for i in range(k + 1, n) if a[i][k] != 0), None)
            if swap is None:
                return 0
            a[k], a[swap] = a[swap], a[k]
            sign = -sign
        pivot = a[k][k]
        for i in range(k + 1, n):
            aik = a[i][k]
            row_i, row_k = a[i], a[k]
            for j in range(k + 1, n):
                row_i[j] = (row_i[j] * pivot - aik * row_k[j]) // prev
        prev = pivot
    return sign * a[n - 1][n - 1]


def determinant(rows: Sequence[Sequence[Any]]) -> Fraction:
    """det M of a square matrix of ints, Fractions or floats, exactly (floats as their binary values).

    Each row is scaled by the lcm of its denominators to integers (det scales by their product),
    then :func:`integer_determinant`.
    """
    scaled, scale = [], 1
    for row in rows:
        exact = [to_fraction(v, "matrix entry") for v in row]
        lcm = _lcm_of_denominators(exact)
        scaled.append([int(v * lcm) for v in exact])
        scale *= lcm
    return Fraction(integer_determinant(scaled), scale)


def null_vector(rows: Sequence[Sequence[int]]) -> tuple[int, ...] | None:
    """The primitive integer generator r of {u : M u = 0} for a d x (d+1) integer matrix M of rank d
    (the generalised cross product, r_j = (-1)^j det M_{-j}), or None when the rank is below d."""
    width = len(rows[0])
    vec = [(-1) ** j * integer_determinant([[r[c] for c in range(width) if c != j] for r in rows])
           for j in range(width)]
    g = reduce(math.gcd, (abs(v) for v in vec), 0)
    if g == 0:
        return None
    return tuple(v // g for v in vec)


def integer_row(values: Sequence[Any]) -> list[int]:
    """The row scaled by the lcm of its denominators: integers, same hyperplane (same null space)."""
    exact = [Fraction(v) for v in values]
    lcm = _lcm_of_denominators(exact)
    return [int(v * lcm) for v in exact]


def pivots(rows: Sequence[Sequence[Any]]) -> tuple[list[int], list[int]]:
    """Exact row reduction of the matrix with these rows: (pivot columns, the original rows carrying them).

    rank M = len(pivot columns); the pivot columns are the first independent columns (left to
    right) and the pivot rows a set of independent rows spanning the row space.
    """
    a = [[Fraction(v) for v in row] for row in rows]
    n_rows = len(a)
    n_cols = len(a[0]) if a else 0
    order = list(range(n_rows))
    pivot_cols, pivot_rows, r = [], [], 0
    for c in range(n_cols):
        found = next((i for i in range(r, n_rows) if a[i][c] != 0), None)
        if found is None:
            continue
        a[r], a[found] = a[found], a[r]
        order[r], order[found] = order[found], order[r]
        for i in range(r + 1, n_rows):
            if a[i][c] != 0:
                f = a[i][c] / a[r][c]
                a[i] = [vi - f * vr for vi, vr in zip(a[i], a[r])]
        pivot_cols.append(c)
        pivot_rows.append(order[r])
        r += 1
    return pivot_cols, pivot_rows


def solve(matrix: Sequence[Sequence[Any]], rhs: Sequence[Any]) -> list[Fraction]:
    """The unique solution u of M u = rhs for a nonsingular square M, in exact rationals (Gauss-Jordan)."""
    n = len(matrix)
    a = [[Fraction(v) for v in row] + [Fraction(rhs[i])] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(i for i in range(col, n) if a[i][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        inv = 1 / a[col][col]
        a[col] = [v * inv for v in a[col]]
        for i in range(n):
            if i != col and a[i][col] != 0:
                factor = a[i][col]
                a[i] = [vi - factor * vc for vi, vc in zip(a[i], a[col])]
    return [a[i][n] for i in range(n)]


def common_denominator(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """(n, D) with q_i = n_i / D exactly for every rational q_i of ``values`` and D = lcm of their
    denominators (D = 10^k for decimals with at most k digits after the point, 2^k for floats).

    With one denominator, sums and differences of the q_i are integer sums over D, so signs such as
    sign((y3 - y2)(x2 - x1) - (y2 - y1)(x3 - x2)) need integer products only (no gcd per step)."""
    denominator = math.lcm(*(q.denominator for q in values)) if len(values) else 1
    return [q.numerator * (denominator // q.denominator) for q in values], denominator


def _lcm_of_denominators(values: Sequence[Fraction]) -> int:
    return reduce(lambda p, q: p * q // math.gcd(p, q), (v.denominator for v in values), 1)


#: The unit roundoff of float64 (round to nearest).
UNIT_ROUNDOFF = 2.0 ** -53


def floats_of(values: np.ndarray) -> np.ndarray | None:
    """An object array of Python ints correctly rounded to float64, or None if one is beyond its range."""
    try:
        return np.fromiter(map(float, values.tolist()), dtype=np.float64, count=len(values))
    except OverflowError:
        return None


def sign_of_cross(p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray,
                  fp: np.ndarray | None = None, fq: np.ndarray | None = None,
                  fr: np.ndarray | None = None, fs: np.ndarray | None = None) -> np.ndarray:
    """sign(p_i q_i - r_i s_i) in {-1, 0, +1} (int8), exactly, for object arrays of Python ints.

    Decided in float64 where a proven error bound allows, in integers elsewhere: with p~ .. s~ the
    correctly rounded floats (``fp`` .. ``fs`` when already at hand), a = fl(p~ q~), b = fl(r~ s~),
    |fl(a - b) - (p q - r s)| <= 4.01 u (|a| + |b|) (three roundings per product, one for the
    difference; u = 2^-53; the values are integers, so nothing underflows), so the sign of
    fl(a - b) is exact when its magnitude exceeds 8u (|a| + |b|). Exact zeros, near-ties and
    values beyond float64 (NaN, inf) take the integer path."""
    floats = [f if f is not None else floats_of(v) for f, v in ((fp, p), (fq, q), (fr, r), (fs, s))]
    if any(f is None for f in floats):
        exact = p * q - r * s
        return (exact > 0).astype(np.int8) - (exact < 0).astype(np.int8)
    fp, fq, fr, fs = floats
    with np.errstate(over="ignore", invalid="ignore"):
        a, b = fp * fq, fr * fs
        difference = a - b
        unsure = np.flatnonzero(~(np.abs(difference) > 8 * UNIT_ROUNDOFF * (np.abs(a) + np.abs(b))))
    out = np.sign(difference).astype(np.int8)
    if len(unsure):
        exact = p[unsure] * q[unsure] - r[unsure] * s[unsure]
        out[unsure] = (exact > 0).astype(np.int8) - (exact < 0).astype(np.int8)
    return out
