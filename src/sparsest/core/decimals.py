"""JSON number tokens read exactly, vectorised: the loader's fast path for large 1-D files.

The JSON scanner hands every number token over as text (``parse_float`` / ``parse_int``, see
:func:`sparsest.core.dataset.load_dataset`); here a column of such tokens becomes the exact values it
spells, as integers over one common denominator (the form of
:class:`sparsest.core.dataset.ExactValues`), and their correctly rounded float64 values.

A token -?digits[.digits][(e|E)[+-]digits] is  sign * M / 10^s  with M its digits without the point
(an integer below 10^19 when it has at most 19 significant digits: exact in uint64) and s = (digits after the
point) - exponent. With S = max(0, max_i s_i), q_i = sign_i M_i 10^(S - s_i) / 10^S exactly; dividing
numerators and 10^S by their gcd gives the lcm of the reduced denominators, the same integers as
``Fraction(token)`` brought to a common denominator (:func:`sparsest.core.rational.common_denominator`).
Columns outside these limits (long mantissas, exponents of four digits or more) return None and are
read token by token instead.
"""

from __future__ import annotations

import math

import numpy as np

#: Longest token, significant mantissa digits and exponent digits of the vectorised path.
MAX_TOKEN_LENGTH, MAX_MANTISSA_DIGITS, MAX_EXPONENT_DIGITS = 48, 19, 3
#: 10^0 .. 10^22, every one exact in float64.
_POW10 = np.array([float(10 ** k) for k in range(23)])


def exact_column(tokens: list[bytes]) -> tuple[list[int], int, np.ndarray] | None:
    """(numerators, denominator, float64 values) of the JSON number tokens (bytes), or None when a
    token is outside the vectorised path's limits. value_i = numerators[i] / denominator exactly
    (denominator = the lcm of the reduced denominators), float64 values correctly rounded (+0.0 for
    a zero)."""
    n = len(tokens)
    if n == 0:
        return None
    table = np.array(tokens)  # fixed width: the longest token, shorter ones padded with NUL
    width = table.dtype.itemsize
    if table.dtype.kind != "S" or width > MAX_TOKEN_LENGTH:
        return None
    chars = np.ascontiguousarray(table.view(np.uint8).reshape(n, width).T)  # one row per character place
    digit = (chars - 48) < 10  # uint8: NUL and the signs wrap above 9
    in_exponent = _from_first((chars | 32) == 101)  # from 'e' / 'E' on
    mantissa_digit = digit & ~in_exponent
    exponent_digit = digit & in_exponent
    seen = _from_first(mantissa_digit & (chars != 48))  # from the first nonzero digit
    if _count(mantissa_digit & seen).max() > MAX_MANTISSA_DIGITS \
            or _count(exponent_digit).max() > MAX_EXPONENT_DIGITS:
        return None
    mantissa = np.zeros(n, dtype=np.uint64)
    exponent = np.zeros(n, dtype=np.int64)
    for j in range(width):  # Horner along the places: exact (mantissa < 10^19 < 2^64)
        value = chars[j] - np.uint8(48)
        mantissa = np.where(mantissa_digit[j], mantissa * np.uint64(10) + value, mantissa)
        exponent = np.where(exponent_digit[j], exponent * 10 + value, exponent)
    exponent = np.where(_count(in_exponent & (chars == 45)) > 0, -exponent, exponent)
    scale = _count(_from_first(chars == 46) & mantissa_digit).astype(np.int64) - exponent
    negative = chars[0] == 45
    top = max(0, int(scale.max()))
    numerators = np.empty(n, dtype=object)
    numerators[:] = mantissa.tolist()
    shift = top - scale
    powers = np.empty(int(shift.max()) + 1, dtype=object)
    powers[:] = [10 ** k for k in range(len(powers))]
    factors = powers[shift]
    factors[negative] = -factors[negative]
    numerators = numerators * factors
    denominator = 10 ** top
    common = math.gcd(denominator, *numerators.tolist())
    if common > 1:
        numerators, denominator = numerators // common, denominator // common
    return numerators.tolist(), denominator, _floats(tokens, mantissa, scale, negative)


def _count(flags: np.ndarray) -> np.ndarray:
    """Per token (column): how many character places (rows) are flagged (uint8: rows <= 48)."""
    out = np.zeros(flags.shape[1], dtype=np.uint8)
    for row in flags:
        out += row
    return out


def _from_first(flags: np.ndarray) -> np.ndarray:
    """Per character place (row) and token (column): whether a flag is set at this place or before."""
    out = np.empty_like(flags)
    seen = np.zeros(flags.shape[1], dtype=bool)
    for j, row in enumerate(flags):
        seen |= row
        out[j] = seen
    return out


def _floats(tokens: list[bytes], mantissa: np.ndarray, scale: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """The tokens' values (+-mantissa / 10^scale) correctly rounded to float64. When the mantissa and
    10^|scale| are exact floats (mantissa <= 2^53, |scale| <= 22) one IEEE division or product rounds
    once (Clinger's fast path); the other tokens go through float(), which rounds correctly. Zero
    is +0.0 (as 0 / D)."""
    fast = (mantissa <= np.uint64(2 ** 53)) & (np.abs(scale) <= 22)
    m, s = mantissa[fast].astype(np.float64), scale[fast]
    out = np.empty(len(tokens), dtype=np.float64)
    out[fast] = np.where(s >= 0, m / _POW10[np.maximum(s, 0)], m * _POW10[np.maximum(-s, 0)])
    slow = np.flatnonzero(~fast)
    if len(slow):
        out[slow] = np.abs(np.fromiter(map(float, (tokens[i] for i in slow.tolist())), dtype=np.float64,
                                       count=len(slow)))
    return np.where(negative, -out, out) + 0.0
