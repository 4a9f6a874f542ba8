"""The loader's vectorised JSON token path (sparsest.core.decimals) equals Fraction(token) exactly.

Seeded random columns of JSON number tokens: integers, repr floats, decimals with 1-19 significant
digits and many leading zeros, exponents of both signs and cases, negative zeros, and tokens past
the fast path's limits (which must fall back, not be misread). The whole loader is compared too:
the fast path against Dataset.from_arrays on the Fractions of the same tokens.
"""

import json
import math
import re
from fractions import Fraction

import numpy as np
import pytest

from sparsest.core.dataset import Dataset, _fast_columns, load_dataset
from sparsest.core.decimals import exact_column


def token(rng) -> str:
    kind = int(rng.integers(7))
    sign = "-" if rng.random() < 0.5 else ""
    if kind == 0:
        return sign + str(int(rng.integers(0, 10 ** int(rng.integers(1, 19)))))
    if kind == 1:
        return repr(float(rng.uniform(-1, 1) * 10.0 ** int(rng.integers(-12, 12))))
    digits = "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(1, 20))))
    if kind == 2:  # leading zeros after the point
        return f"{sign}0.{'0' * int(rng.integers(0, 12))}{digits}"
    if kind == 3:  # exponent, either case and sign
        e = rng.choice(["e", "E"]) + rng.choice(["", "+", "-"]) + str(int(rng.integers(0, 30)))
        return f"{sign}{digits[0]}.{digits[1:] or '0'}{e}"
    if kind == 4:
        return rng.choice(["0", "-0", "0.0", "-0.0", "0e0", "-0E-5", "1", "-1", "1E+2", "12.5e-1"])
    if kind == 5:
        return f"{sign}{digits[:9]}.{digits[::-1][:10]}"
    return f"{sign}{digits}e-{int(rng.integers(0, 40))}"


def check(tokens):
    column = exact_column([t.encode() for t in tokens])
    if column is None:
        return False
    numerators, denominator, floats = column
    expected = [Fraction(t) for t in tokens]
    assert [Fraction(n, denominator) for n in numerators] == expected
    assert denominator == math.lcm(*(q.denominator for q in expected))
    assert floats.tolist() == [float(q) for q in expected]
    assert not np.any(np.signbit(floats) & (floats == 0))  # zero is +0.0, as 0 / D
    return True


@pytest.mark.parametrize("seed", range(40))
def test_token_columns_equal_their_fractions(seed):
    rng = np.random.default_rng(88_000 + seed)
    tokens = [token(rng) for _ in range(int(rng.integers(1, 300)))]
    assert check(tokens)  # every generated token is within the fast path's limits


def test_tokens_past_the_limits_fall_back():
    assert exact_column([b"1." + b"1" * 19]) is None  # 20 significant digits
    assert exact_column([b"-0.00012345678901234567890"]) is None  # 20 significant digits after zeros
    assert exact_column([b"1." + b"0" * 50]) is None  # longer than the fixed width allows
    assert exact_column([b"1e1000"]) is None  # four exponent digits
    assert check(["0.0000000000000000000001234567890123456789"])  # leading zeros do not count
    assert check(["9999999999999999999", "-9999999999999999999e-3"])  # 19 digits: the uint64 edge


@pytest.mark.parametrize("seed", range(15))
def test_json_fast_path_equals_the_fraction_loader(tmp_path, seed):
    rng = np.random.default_rng(89_000 + seed)
    n = int(rng.integers(1, 200))
    valid = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # the JSON number grammar
    xs = [t for t in dict.fromkeys(token(rng) for _ in range(n)) if valid.fullmatch(t)]
    xs = list({float(Fraction(t)): t for t in xs if abs(Fraction(t)) <= 1e12}.values()) or ["0"]
    ys = [token(rng) if rng.random() < 0.9 else xs[i % len(xs)] for i in range(len(xs))]
    ys = [t if valid.fullmatch(t) and abs(Fraction(t)) <= 1e12 else "1.5" for t in ys]
    if seed % 3 == 0 and len(xs) > 2:  # repeated points: merged with a notice on both paths
        xs, ys = xs + xs[:2], ys + ys[:2]
    path = tmp_path / "d.json"
    path.write_text('{"X": [' + ", ".join(xs) + '], "y": [' + ", ".join(ys) + '], "optimum": {"neurons": 2}}')
    assert _fast_columns(json.loads(path.read_text(), parse_float=str.encode, parse_int=str.encode)) is not None
    fast = load_dataset(path)
    plain = Dataset.from_arrays([Fraction(t) for t in xs], [Fraction(t) for t in ys], name="d",
                                optimum={"neurons": 2})
    assert fast.exact == plain.exact and fast.notices == plain.notices
    assert fast.X.tolist() == plain.X.tolist() and fast.y.tolist() == plain.y.tolist()
    assert fast.optimum == {"neurons": 2} and type(fast.optimum["neurons"]) is int


def test_text_numbers_still_take_the_noticed_path(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"X": [0, 1, "2"], "y": [0.5, 1, 2]}))
    data = load_dataset(path)
    assert any("written as text" in notice for notice in data.notices)
    assert data.X_exact == ((Fraction(0),), (Fraction(1),), (Fraction(2),))
