"""Instances: loading, validating and holding the data (x_i, y_i) of docs/math.md §1.

A :class:`Dataset` is the only way data enters the package. It keeps two copies of the data:
float64 arrays for computing, and the exact rational values as they were written (decimal text
read exactly, floats converted exactly), so that exact checks (collinearity, rational residuals)
never depend on a rounding. The exact values are held as integers over one common denominator per
column (:class:`ExactValues`: cheap for 10^6 points); ``X_exact`` / ``y_exact`` give them as
:class:`fractions.Fraction` on first access.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sparsest.core.decimals import exact_column
from sparsest.core.rational import (
    MAX_DECIMAL_EXPONENT,
    MAX_TEXT_LENGTH,
    common_denominator,
    to_fraction,
)
from sparsest.errors import SparsestError

#: Relative interpolation tolerance of docs/math.md §6: max |f(x_i) - y_i| <= 1e-7 * max(1, max |y|).
INTERPOLATION_RTOL = 1e-7
#: Relative counting tolerance: a neuron (path weight) is active when its contribution on the data
#: (its magnitude) exceeds 1e-9 * max(1, max |y|). Reported with every count.
COUNT_RTOL = 1e-9
#: Every |x_ij| and |y_i| must be at most this. Beyond it the float LPs stop deciding reliably
#: (HiGHS reads bounds >= 1e20 as infinite and distrusts matrix entries >= 1e15, and the big-M and
#: box grow with the data's slopes), and float64 products of data values can overflow.
MAX_ABS_VALUE = 1e12
_MAX_ABS_INT = int(MAX_ABS_VALUE)
#: Default relative slope-change threshold of the 1-D closed form's "within tolerance" answer
#: (docs/math.md §4, :func:`sparsest.exact.closed_form.sparsest_interpolant`): well above the
#: rounding of decimals written from a piecewise-linear function, far below real slope changes.
DEFAULT_COLLINEAR_TOL = 1e-9


@dataclass(frozen=True)
class ExactValues:
    """The data as written, exactly: x_ij = X_num[j][i] / X_den[j] and y_i = y_num[i] / y_den
    (Python ints; one common denominator per column, e.g. 10^k for decimals with k digits after
    the point), so exact signs and comparisons need integer arithmetic only."""

    X_num: tuple[list[int], ...]
    X_den: tuple[int, ...]
    y_num: list[int]
    y_den: int

    def take(self, keep: np.ndarray) -> ExactValues:
        """The same values at the rows ``keep`` (same denominators)."""
        rows = keep.tolist()
        return ExactValues(tuple([col[i] for i in rows] for col in self.X_num), self.X_den,
                           [self.y_num[i] for i in rows], self.y_den)


@dataclass(frozen=True)
class Dataset:
    """N data points x_i in R^d with targets y_i (docs/math.md §1), validated and deduplicated.

    Attributes
    ----------
    X, y : float64 arrays of shape (N, d) and (N,).
    exact : the same values exactly, as integers over common denominators (:class:`ExactValues`).
    X_exact, y_exact : the same values as exact rationals (tuples of Fraction, built on first access).
    skip : whether networks carry the affine skip term a.x + c (not counted; default for d = 1).
    output_bias : whether networks carry an output bias c alone (ignored when ``skip``).
    name, description, source : provenance, as written in the instance file.
    optimum : proven optima recorded with the instance, e.g. ``{"neurons": 3}`` (may be empty).
    notices : messages about changes made while loading (merged repeated points, text read as
        numbers, CSV layout), one line each.
    collinear_tol : the 1-D closed form's slope-change threshold for its "within tolerance"
        answer (0: exact only); see :func:`sparsest.exact.closed_form.sparsest_interpolant`.
    """

    X: np.ndarray
    y: np.ndarray
    exact: ExactValues
    skip: bool
    output_bias: bool = False
    name: str = "data"
    description: str = ""
    source: str = ""
    optimum: dict = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    collinear_tol: float = DEFAULT_COLLINEAR_TOL

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        X: Any,
        y: Any,
        *,
        skip: bool | None = None,
        output_bias: bool = False,
        name: str = "data",
        description: str = "",
        source: str = "",
        optimum: dict | None = None,
    ) -> Dataset:
        """Validate raw data and build a dataset.

        ``X`` is a list of N rows of d numbers, or a flat list of N numbers (d = 1); ``y`` has N
        numbers. Numbers may be int, float, Fraction or numeric strings. ``skip`` defaults to True
        for d = 1 and False otherwise. Repeated points with equal targets are merged (with a
        notice); repeated points with different targets raise :class:`SparsestError`, since no
        function fits them.
        """
        rows = _rows_of(X)
        targets = _flat_of(y, "y")
        if len(rows) == 0:
            raise SparsestError("the data is empty: at least one point is needed")
        if len(rows) != len(targets):
            raise SparsestError(f"X has {len(rows)} points but y has {len(targets)} values")
        dim = len(rows[0])
        if dim == 0:
            raise SparsestError("X rows are empty: each point needs at least one coordinate")
        for i, row in enumerate(rows):
            if len(row) != dim:
                raise SparsestError(
                    f"X is ragged: row {i} has {len(row)} values, row 0 has {dim}"
                )
        columns = [_exact_column([row[j] for row in rows], "X", j) for j in range(dim)]
        y_column = _exact_column(targets, "y")
        X_float = np.stack([_floats(num, den) for num, den in columns], axis=1)
        return cls._assemble(columns, y_column, X_float, None, _text_notice(rows, targets), skip=skip,
                             output_bias=output_bias, name=name, description=description, source=source,
                             optimum=optimum)

    @classmethod
    def _from_exact_column(cls, x: tuple[list[int], int, np.ndarray], y: tuple[list[int], int, np.ndarray],
                           **options) -> Dataset:
        """1-D data already read exactly: (numerators, denominator, correctly rounded float64 values)
        for x and for y (:func:`sparsest.core.decimals.exact_column`), N >= 1 each. Range checks,
        merging and options as in :meth:`from_arrays`."""
        if len(x[0]) != len(y[0]):
            raise SparsestError(f"X has {len(x[0])} points but y has {len(y[0])} values")
        _check_range(x[0], x[1], "X", 0)
        _check_range(y[0], y[1], "y")
        return cls._assemble([x[:2]], y[:2], x[2].reshape(-1, 1), y[2], [], **options)

    @classmethod
    def _assemble(cls, columns, y_column, X_float, y_float, notices, *, skip, output_bias, name, description,
                  source, optimum) -> Dataset:
        """The dataset of exact columns (numerators, denominator) and their float64 values (y's computed
        here when None): repeated points merged (:func:`_merge_repeated`), options applied."""
        exact = ExactValues(tuple(num for num, _ in columns), tuple(den for _, den in columns), *y_column)
        exact, keep, merged = _merge_repeated(exact, X_float)
        if keep is not None:
            X_float = X_float[keep]
            y_float = None if y_float is None else y_float[keep]
        if skip is None:
            skip = len(columns) == 1
        return cls(
            X=X_float,
            y=_floats(exact.y_num, exact.y_den) if y_float is None else y_float,
            exact=exact,
            skip=bool(skip),
            output_bias=bool(output_bias) and not skip,
            name=str(name),
            description=str(description),
            source=str(source),
            optimum=dict(optimum or {}),
            notices=tuple(notices) + tuple(merged),
        )

    def with_options(self, *, skip: bool | None = None, output_bias: bool | None = None,
                     collinear_tol: float | None = None) -> Dataset:
        """Return the same data with the network options changed (None keeps the current one)."""
        new_skip = self.skip if skip is None else bool(skip)
        new_bias = self.output_bias if output_bias is None else bool(output_bias)
        if collinear_tol is not None and (isinstance(collinear_tol, bool) or not isinstance(collinear_tol, (int, float))
                                          or not math.isfinite(collinear_tol) or collinear_tol < 0):
            raise SparsestError(f"the collinear tolerance must be a finite number >= 0, got {collinear_tol!r}")
        return dataclasses.replace(
            self, skip=new_skip, output_bias=new_bias and not new_skip,
            collinear_tol=self.collinear_tol if collinear_tol is None else float(collinear_tol),
        )

    # ------------------------------------------------------------------ derived quantities
    @cached_property
    def order_1d(self) -> np.ndarray:
        """The stable permutation sorting 1-D points by x (computed once; shared by the closed form and
        the re-checks of docs/math.md §4, §6)."""
        return np.argsort(self.X[:, 0], kind="stable")

    @cached_property
    def X_exact(self) -> tuple[tuple[Fraction, ...], ...]:
        """The points as exact rationals, one tuple of d Fractions per point."""
        columns = [[Fraction(n, den) for n in num] for num, den in zip(self.exact.X_num, self.exact.X_den)]
        return tuple(zip(*columns))

    @cached_property
    def y_exact(self) -> tuple[Fraction, ...]:
        """The targets as exact rationals."""
        return tuple(Fraction(n, self.exact.y_den) for n in self.exact.y_num)

    @property
    def n_points(self) -> int:
        """N, the number of (distinct) data points."""
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        """d, the input dimension."""
        return int(self.X.shape[1])

    @property
    def X_tilde(self) -> np.ndarray:
        """The lifted points x~_i = (x_i, 1) of docs/math.md §1, shape (N, d+1)."""
        return np.hstack([self.X, np.ones((self.n_points, 1))])

    @property
    def y_scale(self) -> float:
        """max(1, max |y_i|), the scale of docs/math.md §6's interpolation tolerance."""
        return max(1.0, float(np.max(np.abs(self.y))))

    @property
    def interpolation_tol(self) -> float:
        """The default interpolation tolerance of docs/math.md §6: 1e-7 * max(1, max |y|)."""
        return INTERPOLATION_RTOL * self.y_scale

    @property
    def count_tol(self) -> float:
        """The default counting tolerance: 1e-9 * max(1, max |y|) (see :data:`COUNT_RTOL`)."""
        return COUNT_RTOL * self.y_scale

    def summary(self) -> str:
        """A one-line description: name, N, d and the network options."""
        extras = "skip term" if self.skip else ("output bias" if self.output_bias else "no skip term")
        return f"{self.name}: N={self.n_points}, d={self.dim}, {extras}"

    # ------------------------------------------------------------------ serialisation
    def to_json(self) -> dict:
        """The instance-file form of docs/math.md §1 and issue 2 (exact values written as JSON numbers)."""
        def num(v: Fraction):
            return int(v) if v.denominator == 1 else float(v)
        X = [num(r[0]) for r in self.X_exact] if self.dim == 1 else [[num(v) for v in r] for r in self.X_exact]
        out = {"name": self.name, "X": X, "y": [num(v) for v in self.y_exact], "skip": self.skip}
        if self.output_bias:
            out["output_bias"] = True
        for key in ("description", "source"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.optimum:
            out["optimum"] = self.optimum
        return out


# ---------------------------------------------------------------------- helpers
def _rows_of(X: Any) -> list[list[Any]]:
    if isinstance(X, np.ndarray):
        if X.ndim == 1:
            return [[v] for v in X.tolist()]
        if X.ndim == 2:
            return X.tolist()
        raise SparsestError(f"X must be a list of rows or a flat list, got an array of {X.ndim} dimensions")
    if not isinstance(X, (list, tuple)):
        raise SparsestError(f"X must be a list of rows or a flat list of numbers, got {type(X).__name__}")
    if all(not isinstance(v, (list, tuple)) for v in X):
        return [[v] for v in X]
    if any(not isinstance(v, (list, tuple)) for v in X):
        raise SparsestError("X is ragged: it mixes numbers and rows")
    return [list(v) for v in X]


def _flat_of(y: Any, name: str) -> list[Any]:
    if isinstance(y, np.ndarray):
        if y.ndim != 1:
            raise SparsestError(f"{name} must be a flat list of numbers, got an array of {y.ndim} dimensions")
        return y.tolist()
    if not isinstance(y, (list, tuple)):
        raise SparsestError(f"{name} must be a flat list of numbers, got {type(y).__name__}")
    for i, v in enumerate(y):
        if isinstance(v, (list, tuple, dict)):
            raise SparsestError(f"{name}[{i}] must be a number, got a {type(v).__name__}")
    return list(y)


def _exact(value: Any, name: str, i: int, j: int | None = None) -> Fraction:
    """:func:`to_fraction` of X[i][j] or y[i], with the fast path for values already exact."""
    if type(value) is Fraction:
        return value
    if type(value) is int:
        return Fraction(value)
    if type(value) is Decimal:  # a JSON number token (see _json_number): the decimal it spells
        return Fraction(value)
    return to_fraction(value, f"{name}[{i}]" if j is None else f"{name}[{i}][{j}]")


def _exact_column(values: list[Any], name: str, j: int | None = None) -> tuple[list[int], int]:
    """One column (X[:, j] or y) exactly, as integers over a common denominator (see
    :func:`sparsest.core.rational.common_denominator`), refusing values beyond :data:`MAX_ABS_VALUE`.

    JSON number tokens (Decimal) and ints take a fast path: Decimal.as_integer_ratio is exact."""
    if all(type(v) is Decimal or type(v) is int for v in values):
        ratios = [v.as_integer_ratio() for v in values]
        den = math.lcm(*(d for _, d in ratios)) if ratios else 1
        nums = [n if d == den else n * (den // d) for n, d in ratios]
    else:
        nums, den = common_denominator([_exact(v, name, i, j) for i, v in enumerate(values)])
    _check_range(nums, den, name, j)
    return nums, den


def _check_range(nums: list[int], den: int, name: str, j: int | None = None) -> None:
    """Refuse a value n / den beyond :data:`MAX_ABS_VALUE` (naming the first one)."""
    bound = _MAX_ABS_INT * den
    if nums and max(max(nums), -min(nums)) > bound:
        i = next(i for i, n in enumerate(nums) if abs(n) > bound)
        where = f"{name}[{i}]" if j is None else f"{name}[{i}][{j}]"
        raise SparsestError(
            f"{where} = {_show(Fraction(nums[i], den))} is beyond the supported range |value| <= {MAX_ABS_VALUE:.0e} "
            "(the float LPs and the re-check are not reliable there): rescale the data"
        )


def _floats(nums: list[int], den: int) -> np.ndarray:
    """n_i / den correctly rounded to float64 (Python's int division rounds correctly)."""
    if den == 1:
        return np.array(nums, dtype=np.float64) if all(abs(n) < 2 ** 53 for n in nums) else \
            np.array([float(n) for n in nums], dtype=np.float64)
    return np.array([n / den for n in nums], dtype=np.float64)


def _merge_repeated(exact: ExactValues, X_float: np.ndarray):
    """Merge points that repeat exactly (one notice); refuse a repeated x with two different targets,
    and two different points that are the same point in float64 (every float method sees one).

    Exact repeats are also float repeats, so only the rows that repeat in float64 are compared
    exactly (integers over common denominators: equal values have equal numerators): O(N log N)
    with few exact comparisons. Returns (exact values kept, the rows kept or None for all, notices)."""
    n = X_float.shape[0]
    order = np.lexsort(X_float.T[::-1]) if n > 1 else np.arange(n)
    same_as_previous = np.all(X_float[order[1:]] == X_float[order[:-1]], axis=1) if n > 1 else np.zeros(0, bool)
    repeats = np.concatenate([[False], same_as_previous])
    run_start = np.maximum.accumulate(np.where(repeats, 0, np.arange(n)))  # lexsort is stable:
    drop = set()                                                             # the run's first is earliest

    def point(i):
        return tuple(Fraction(col[i], den) for col, den in zip(exact.X_num, exact.X_den))

    for position in np.flatnonzero(repeats):
        i, j = int(order[run_start[position]]), int(order[position])
        if any(col[i] != col[j] for col in exact.X_num):
            raise SparsestError(
                f"points {i} and {j} differ (x=({_show_point(point(i))}) and ({_show_point(point(j))})) "
                "but are the same point in float64: round or rescale the data"
            )
        if exact.y_num[i] != exact.y_num[j]:
            raise SparsestError(
                f"point x=({_show_point(point(i))}) appears twice with different targets "
                f"({_show(Fraction(exact.y_num[i], exact.y_den))} and {_show(Fraction(exact.y_num[j], exact.y_den))}): "
                "no function can fit both"
            )
        drop.add(j)
    if not drop:
        return exact, None, []
    merged = sorted(drop)
    keep = np.setdiff1d(np.arange(n), merged)
    listed = ", ".join(map(str, merged[:5])) + (", ..." if len(merged) > 5 else "")
    notice = (f"merged {len(merged)} repeated point(s) (same x and y as an earlier one; "
              f"input rows {listed}, counted from 0): N = {len(keep)} distinct points")
    return exact.take(keep), keep, [notice]


def _text_notice(rows, targets) -> list[str]:
    """One notice when numbers were given as text (e.g. "0" in JSON) and read as numbers."""
    texts = [(f"X[{i}][{j}]", v) for i, row in enumerate(rows) for j, v in enumerate(row) if type(v) is str]
    texts += [(f"y[{i}]", v) for i, v in enumerate(targets) if type(v) is str]
    if not texts:
        return []
    where, value = texts[0]
    return [f"{len(texts)} value(s) written as text were read as numbers (first: {where} = {value!r})"]


def _show(value: Fraction) -> str:
    """A short decimal form of an exact rational (also beyond the float64 range)."""
    try:
        return repr(float(value))
    except OverflowError:
        digits = len(str(abs(value.numerator) // value.denominator)) - 1
        return f"{'-' if value < 0 else ''}~1e+{digits}"


def _show_point(x) -> str:
    return ", ".join(_show(v) for v in x)


# ---------------------------------------------------------------------- files
_KNOWN_KEYS = {"name", "X", "y", "skip", "output_bias", "description", "source", "optimum"}


def load_dataset(path: str | Path) -> Dataset:
    """Read an instance file (.json or .csv, see the README) into a validated :class:`Dataset`.

    JSON numbers are read exactly (decimal text becomes a Fraction), so exact checks see the data
    as written. A CSV has a header row; the last column is y, the others are x.
    """
    path = Path(path)
    if not path.exists():
        raise SparsestError(f"{path}: no such file")
    if path.is_dir():
        raise SparsestError(f"{path}: is a folder, not an instance file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _load_csv(path)
    if suffix == ".json":
        return _load_json(path)
    raise SparsestError(f"{path}: unknown instance format {suffix or '(none)'!r}; use .json or .csv")


def _load_json(path: Path) -> Dataset:
    """A JSON instance. Number tokens come out of the scanner as bytes (text stays str, so a string
    such as "0" is still told apart and noticed); a flat 1-D X and its y are read by the vectorised
    :func:`sparsest.core.decimals.exact_column`, everything else token by token (:func:`_numbers`)."""
    try:
        text = path.read_text()
        raw = json.loads(text, parse_float=str.encode, parse_int=str.encode, parse_constant=_reject_constant)
        columns = _fast_columns(raw)
        if columns is not None:
            raw = {key: (value if key in ("X", "y") else _numbers(value)) for key, value in raw.items()}
        else:
            raw = _numbers(raw)
    except json.JSONDecodeError as err:
        raise SparsestError(f"{path}: malformed JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except UnicodeDecodeError:
        raise SparsestError(f"{path}: not a text file") from None
    except RecursionError:
        raise SparsestError(f"{path}: malformed JSON (nested too deeply)") from None
    except SparsestError as err:
        raise SparsestError(f"{path}: {err}") from None
    if not isinstance(raw, dict):
        raise SparsestError(f"{path}: the top level must be an object with keys 'X' and 'y'")
    for key in ("X", "y"):
        if key not in raw:
            raise SparsestError(f"{path}: missing key {key!r}")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise SparsestError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}")
    for key in ("skip", "output_bias"):
        if key in raw and not isinstance(raw[key], bool):
            raise SparsestError(f"{path}: {key!r} must be true or false")
    if "optimum" in raw and not isinstance(raw["optimum"], dict):
        raise SparsestError(f"{path}: 'optimum' must be an object such as {{\"neurons\": 3}}")
    options = {"skip": raw.get("skip"), "output_bias": raw.get("output_bias", False),
               "name": raw.get("name", path.stem), "description": raw.get("description", ""),
               "source": raw.get("source", ""), "optimum": raw.get("optimum")}
    try:
        if columns is not None:
            return Dataset._from_exact_column(*columns, **options)
        return Dataset.from_arrays(raw["X"], raw["y"], **options)
    except SparsestError as err:
        raise SparsestError(f"{path}: {err}") from None


def _fast_columns(raw: Any):
    """The exact columns of a flat 1-D X and its y when every entry is a number token within the
    limits of :func:`sparsest.core.decimals.exact_column`, else None."""
    if not isinstance(raw, dict):
        return None
    X, y = raw.get("X"), raw.get("y")
    if not (type(X) is list and type(y) is list and X and y):
        return None
    if set(map(type, X)) != {bytes} or set(map(type, y)) != {bytes}:
        return None
    x_column = exact_column(X)
    y_column = exact_column(y) if x_column is not None else None
    return None if y_column is None else (x_column, y_column)


def _numbers(value: Any) -> Any:
    """A parsed JSON value with its number tokens (bytes) read exactly: integers as int, the others
    as the Decimal they spell (:func:`_json_int`, :func:`_json_number`)."""
    if type(value) is bytes:
        token = value.decode()
        return _json_int(token) if token.lstrip("-").isdigit() else _json_number(token)
    if type(value) is list:
        return [_numbers(v) for v in value]
    if type(value) is dict:
        return {key: _numbers(v) for key, v in value.items()}
    return value


def _json_number(token: str) -> Decimal:
    """A JSON number token (-?digits[.digits][(e|E)[+-]digits], as json guarantees) read exactly:
    the decimal it spells (a Decimal, made exact rational by :class:`Dataset`). Tokens too long or
    with too large an exponent to expand are refused (see :func:`sparsest.core.rational.to_fraction`)."""
    if len(token) > MAX_TEXT_LENGTH:
        return to_fraction(token, "a number")  # raises the one-line error
    number = Decimal(token)
    if abs(number.adjusted()) > MAX_DECIMAL_EXPONENT - MAX_TEXT_LENGTH:
        return to_fraction(token, "a number")  # refused when its power of ten is too large
    return number


def _json_int(token: str) -> int:
    """A JSON integer token; refused beyond :data:`MAX_TEXT_LENGTH` digits (before it is expanded)."""
    if len(token) > MAX_TEXT_LENGTH:
        return to_fraction(token, "a number")  # raises the one-line error
    return int(token)


def _reject_constant(token: str):
    raise SparsestError(f"{token} is not a finite number")


#: Column separators recognised in CSV files, in order of preference.
CSV_DELIMITERS = (",", ";", "\t", "|")


def _load_csv(path: Path) -> Dataset:
    """A CSV instance: the last column is y, the others x. The delimiter (one of
    :data:`CSV_DELIMITERS`, else runs of spaces) is detected from the lines; a first row that is
    all numbers is data, not a header. Both are reported as notices when they are not the default."""
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise SparsestError(f"{path}: not a text file") from None
    if not lines:
        raise SparsestError(f"{path}: the CSV file is empty: it needs rows of x ... y")
    delimiter = _detect_delimiter(lines)
    if delimiter is None:
        table = [line.split() for line in lines]
    else:
        table = [row for row in csv.reader(lines, delimiter=delimiter)]
    notices = []
    if delimiter != ",":
        notices.append(f"columns separated by {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}")
    width = len(table[0])
    if width < 2:
        raise SparsestError(
            f"{path}: line 1 has one column; a CSV instance needs x ... and y last, separated by one of "
            "',' ';' tab '|' or spaces"
        )
    if _all_numbers(table[0]):
        body, first_line = table, 1
        notices.append("the first row is numbers, so it is read as data (no header row)")
    else:
        body, first_line = table[1:], 2
    if not body:
        raise SparsestError(f"{path}: a CSV instance needs at least one data row after the header")
    for i, row in enumerate(body, start=first_line):
        if len(row) != width:
            raise SparsestError(f"{path}: line {i} has {len(row)} columns, line 1 has {width}")
    try:
        X = [[to_fraction(cell, f"line {i} column {j + 1}") for j, cell in enumerate(row[:-1])]
             for i, row in enumerate(body, start=first_line)]
        y = [to_fraction(row[-1], f"line {i} column {len(row)}") for i, row in enumerate(body, start=first_line)]
        data = Dataset.from_arrays(X, y, name=path.stem, source=str(path))
    except SparsestError as err:
        raise SparsestError(f"{path}: {err}") from None
    return dataclasses.replace(data, notices=tuple(notices) + data.notices)


_DELIMITER_NAMES = {";": "semicolons", "\t": "tabs", "|": "'|'", None: "spaces"}


def _detect_delimiter(lines: list[str]) -> str | None:
    """The first of :data:`CSV_DELIMITERS` that splits the first lines into equal numbers (>= 2)
    of columns; None for whitespace-separated columns; ',' when nothing fits (the error then names it)."""
    sample = lines[:50]
    for delimiter in CSV_DELIMITERS:
        widths = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(widths) == 1 and widths.pop() >= 2:
            return delimiter
    widths = {len(line.split()) for line in sample}
    if len(widths) == 1 and widths.pop() >= 2:
        return None
    return ","


def _all_numbers(cells: list[str]) -> bool:
    try:
        for cell in cells:
            to_fraction(cell)
    except SparsestError:
        return False
    return True
