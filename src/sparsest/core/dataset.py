"""Instances: loading, validating and holding the data (x_i, y_i) of SPEC 1.

A :class:`Dataset` is the only way data enters the package. It keeps two copies of the data:
float64 arrays for computing, and the exact rational values as they were written (``X_exact``,
``y_exact``: decimal text read as :class:`fractions.Fraction`, floats converted exactly), so that
exact checks (collinearity, rational residuals) never depend on a rounding.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from sparsest.core.rational import to_fraction
from sparsest.errors import SparsestError

#: Relative interpolation tolerance of SPEC 6: max |f(x_i) - y_i| <= 1e-7 * max(1, max |y|).
INTERPOLATION_RTOL = 1e-7
#: Relative counting tolerance: a neuron (path weight) is active when its contribution on the data
#: (its magnitude) exceeds 1e-9 * max(1, max |y|). Reported with every count.
COUNT_RTOL = 1e-9


@dataclass(frozen=True)
class Dataset:
    """N data points x_i in R^d with targets y_i (SPEC 1), validated and deduplicated.

    Attributes
    ----------
    X, y : float64 arrays of shape (N, d) and (N,).
    X_exact, y_exact : the same values as exact rationals (tuples of Fraction).
    skip : whether networks carry the affine skip term a.x + c (not counted; default for d = 1).
    output_bias : whether networks carry an output bias c alone (ignored when ``skip``).
    name, description, source : provenance, as written in the instance file.
    optimum : proven optima recorded with the instance, e.g. ``{"neurons": 3}`` (may be empty).
    notices : messages about changes made while loading (merged repeated points).
    """

    X: np.ndarray
    y: np.ndarray
    X_exact: tuple[tuple[Fraction, ...], ...]
    y_exact: tuple[Fraction, ...]
    skip: bool
    output_bias: bool = False
    name: str = "data"
    description: str = ""
    source: str = ""
    optimum: dict = field(default_factory=dict)
    notices: tuple[str, ...] = ()

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
    ) -> "Dataset":
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
        X_exact = [tuple(to_fraction(v, f"X[{i}][{j}]") for j, v in enumerate(row)) for i, row in enumerate(rows)]
        y_exact = [to_fraction(v, f"y[{i}]") for i, v in enumerate(targets)]
        X_exact, y_exact, notices = _merge_repeated(X_exact, y_exact)
        if skip is None:
            skip = dim == 1
        return cls(
            X=np.array([[float(v) for v in row] for row in X_exact], dtype=np.float64).reshape(len(X_exact), dim),
            y=np.array([float(v) for v in y_exact], dtype=np.float64),
            X_exact=tuple(X_exact),
            y_exact=tuple(y_exact),
            skip=bool(skip),
            output_bias=bool(output_bias) and not skip,
            name=str(name),
            description=str(description),
            source=str(source),
            optimum=dict(optimum or {}),
            notices=tuple(notices),
        )

    def with_options(self, *, skip: bool | None = None, output_bias: bool | None = None) -> "Dataset":
        """Return the same data with the network options changed (None keeps the current one)."""
        new_skip = self.skip if skip is None else bool(skip)
        new_bias = self.output_bias if output_bias is None else bool(output_bias)
        return Dataset(
            X=self.X, y=self.y, X_exact=self.X_exact, y_exact=self.y_exact,
            skip=new_skip, output_bias=new_bias and not new_skip, name=self.name,
            description=self.description, source=self.source, optimum=self.optimum,
            notices=self.notices,
        )

    # ------------------------------------------------------------------ derived quantities
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
        """The lifted points x~_i = (x_i, 1) of SPEC 1, shape (N, d+1)."""
        return np.hstack([self.X, np.ones((self.n_points, 1))])

    @property
    def y_scale(self) -> float:
        """max(1, max |y_i|), the scale of SPEC 6's interpolation tolerance."""
        return max(1.0, float(np.max(np.abs(self.y))))

    @property
    def interpolation_tol(self) -> float:
        """The default interpolation tolerance of SPEC 6: 1e-7 * max(1, max |y|)."""
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
        """The instance-file form of SPEC/issue 2 (exact values written as JSON numbers)."""
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


def _merge_repeated(X_exact, y_exact):
    """Merge points that repeat exactly; refuse a repeated x with two different targets."""
    first_index: dict[tuple, int] = {}
    keep_X, keep_y, notices = [], [], []
    for i, (x, t) in enumerate(zip(X_exact, y_exact)):
        if x in first_index:
            j = first_index[x]
            if keep_y[j] != t:
                shown = ", ".join(str(float(v)) for v in x)
                raise SparsestError(
                    f"point x=({shown}) appears twice with different targets "
                    f"({float(keep_y[j])} and {float(t)}): no function can fit both"
                )
            notices.append(f"merged repeated point {i} into an earlier one with the same x and y")
            continue
        first_index[x] = len(keep_X)
        keep_X.append(x)
        keep_y.append(t)
    return keep_X, keep_y, notices


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
    try:
        text = path.read_text()
        raw = json.loads(text, parse_float=Fraction, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise SparsestError(f"{path}: malformed JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except UnicodeDecodeError:
        raise SparsestError(f"{path}: not a text file") from None
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
    try:
        return Dataset.from_arrays(
            raw["X"], raw["y"], skip=raw.get("skip"), output_bias=raw.get("output_bias", False),
            name=raw.get("name", path.stem), description=raw.get("description", ""),
            source=raw.get("source", ""), optimum=raw.get("optimum"),
        )
    except SparsestError as err:
        raise SparsestError(f"{path}: {err}") from None


def _reject_constant(token: str):
    raise SparsestError(f"{token} is not a finite number")


def _load_csv(path: Path) -> Dataset:
    try:
        with path.open(newline="") as handle:
            table = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise SparsestError(f"{path}: not a text file") from None
    if len(table) < 2:
        raise SparsestError(f"{path}: a CSV instance needs a header row and at least one data row")
    header, body = table[0], table[1:]
    if len(header) < 2:
        raise SparsestError(f"{path}: the header needs at least two columns (x ... and y last)")
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise SparsestError(f"{path}: line {i} has {len(row)} columns, the header has {len(header)}")
    try:
        X = [[to_fraction(cell, f"line {i} column {j + 1}") for j, cell in enumerate(row[:-1])] for i, row in enumerate(body, start=2)]
        y = [to_fraction(row[-1], f"line {i} column {len(row)}") for i, row in enumerate(body, start=2)]
        return Dataset.from_arrays(X, y, name=path.stem, source=str(path))
    except SparsestError as err:
        raise SparsestError(f"{path}: {err}") from None

