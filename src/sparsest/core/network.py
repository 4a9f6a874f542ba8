"""The network object of docs/math.md §1: f(x) = sum_k v_k relu(w_k . x + b_k) [+ a . x + c].

Counts (docs/math.md §2) are always recomputed from the weights on the data, never carried along:
- a neuron is *active* when its contribution v_k relu(w_k . x_i + b_k) exceeds the counting
  tolerance at some data point (a neuron that is zero on every data point does nothing);
- a *parameter* is a nonzero path weight v_k w_kj of an active neuron (plus v_k b_k when biases
  are counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from sparsest.errors import SparsestError


@dataclass(frozen=True)
class Network:
    """A single-hidden-layer ReLU network of width K on R^d.

    v : (K,) output weights; W : (K, d) input weights; b : (K,) hidden biases;
    a : (d,) skip weights or None; c : output bias or None.
    """

    v: np.ndarray
    W: np.ndarray
    b: np.ndarray
    a: np.ndarray | None = None
    c: float | None = None

    def __post_init__(self):
        v = np.asarray(self.v, dtype=np.float64).reshape(-1)
        W = np.asarray(self.W, dtype=np.float64)
        if W.ndim == 1:
            W = W.reshape(len(v), -1) if len(v) else W.reshape(0, max(1, W.size))
        b = np.asarray(self.b, dtype=np.float64).reshape(-1)
        if W.shape[0] != len(v) or len(b) != len(v):
            raise SparsestError(f"network shapes disagree: v {v.shape}, W {W.shape}, b {b.shape}")
        a = None if self.a is None else np.asarray(self.a, dtype=np.float64).reshape(-1)
        if a is not None and len(a) != W.shape[1]:
            raise SparsestError(f"network skip weights a have {len(a)} entries, W has {W.shape[1]} columns")
        c = None if self.c is None else float(self.c)
        for arr in (v, W, b) + ((a,) if a is not None else ()):
            if not np.all(np.isfinite(arr)):
                raise SparsestError("network weights must be finite")
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "c", c)

    # ------------------------------------------------------------------ shape
    @property
    def width(self) -> int:
        """K, the number of hidden neurons stored (active or not)."""
        return int(len(self.v))

    @property
    def dim(self) -> int:
        """d, the input dimension."""
        return int(self.W.shape[1])

    # ------------------------------------------------------------------ evaluation
    def preactivations(self, X: np.ndarray) -> np.ndarray:
        """w_k . x_i + b_k for every point and neuron, shape (N, K)."""
        X = np.asarray(X, dtype=np.float64).reshape(-1, self.dim)
        return X @ self.W.T + self.b

    def neuron_outputs(self, X: np.ndarray) -> np.ndarray:
        """v_k relu(w_k . x_i + b_k), shape (N, K)."""
        return np.maximum(self.preactivations(X), 0.0) * self.v

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """f(x_i) for every row of X (a flat array is read as d = 1 points), in float64."""
        X = np.asarray(X, dtype=np.float64).reshape(-1, self.dim)
        out = self.neuron_outputs(X).sum(axis=1)
        if self.a is not None:
            out = out + X @ self.a
        if self.c is not None:
            out = out + self.c
        return out

    def evaluate_exact(self, X_exact: Sequence[Sequence[Fraction]]) -> list[Fraction]:
        """f(x_i) in exact rational arithmetic, the weights read as the exact rationals of their floats."""
        v = [Fraction(float(t)) for t in self.v]
        W = [[Fraction(float(t)) for t in row] for row in self.W]
        b = [Fraction(float(t)) for t in self.b]
        a = None if self.a is None else [Fraction(float(t)) for t in self.a]
        c = Fraction(0) if self.c is None else Fraction(float(self.c))
        values = []
        for x in X_exact:
            total = c
            if a is not None:
                total += sum((ai * xi for ai, xi in zip(a, x)), Fraction(0))
            for vk, wk, bk in zip(v, W, b):
                pre = sum((wj * xj for wj, xj in zip(wk, x)), Fraction(0)) + bk
                if pre > 0:
                    total += vk * pre
            values.append(total)
        return values

    # ------------------------------------------------------------------ counting (docs/math.md §2)
    def activation_sets(self, X: np.ndarray) -> np.ndarray:
        """A_k = {i : w_k . x_i + b_k > 0} for every neuron, as a (K, N) boolean matrix."""
        return (self.preactivations(X) > 0.0).T

    def active_mask(self, X: np.ndarray, tol: float) -> np.ndarray:
        """Neurons whose contribution |v_k relu(w_k . x_i + b_k)| exceeds ``tol`` at some data point."""
        if self.width == 0:
            return np.zeros(0, dtype=bool)
        X = np.asarray(X, dtype=np.float64).reshape(-1, self.dim)
        if self.dim == 1 and len(X):
            # w x + b is monotone in x (also in float64), so |v relu(w x + b)| peaks at an end point
            X = np.array([[X[:, 0].min()], [X[:, 0].max()]])
        return np.max(np.abs(self.neuron_outputs(X)), axis=0) > tol

    def count_neurons(self, X: np.ndarray, tol: float) -> int:
        """The neuron count of docs/math.md §2 on the data X, at counting tolerance ``tol``."""
        return int(self.active_mask(X, tol).sum())

    def path_weights(self) -> np.ndarray:
        """The path weights v_k w_kj, shape (K, d)."""
        return self.W * self.v[:, None]

    def count_parameters(self, X: np.ndarray, tol: float, count_bias: bool = False) -> int:
        """The parameter count of docs/math.md §2: nonzero path weights |v_k w_kj| > tol of active neurons,
        plus nonzero |v_k b_k| when ``count_bias``."""
        active = self.active_mask(X, tol)
        count = int((np.abs(self.path_weights()[active]) > tol).sum())
        if count_bias:
            count += int((np.abs(self.v[active] * self.b[active]) > tol).sum())
        return count

    def pruned(self, X: np.ndarray, tol: float) -> "Network":
        """The same function on the data with the inactive neurons removed."""
        keep = self.active_mask(X, tol)
        return Network(self.v[keep], self.W[keep], self.b[keep], self.a, self.c)

    # ------------------------------------------------------------------ JSON (the certify schema)
    def to_json(self) -> dict:
        """``{"v": [K], "W": [[d]*K], "b": [K], "a": [d] or null, "c": number or null}``."""
        return {
            "v": self.v.tolist(),
            "W": self.W.tolist(),
            "b": self.b.tolist(),
            "a": None if self.a is None else self.a.tolist(),
            "c": self.c,
        }

    @classmethod
    def from_json(cls, data: Any) -> "Network":
        """Inverse of :meth:`to_json`; raises :class:`SparsestError` on a malformed object."""
        if not isinstance(data, dict):
            raise SparsestError("a network must be an object with keys v, W, b (and optionally a, c)")
        missing = [k for k in ("v", "W", "b") if k not in data]
        if missing:
            raise SparsestError(f"network is missing key(s) {', '.join(missing)}")
        try:
            v = np.asarray(data["v"], dtype=np.float64)
            W = np.asarray(data["W"], dtype=np.float64)
            b = np.asarray(data["b"], dtype=np.float64)
            a = None if data.get("a") is None else np.asarray(data["a"], dtype=np.float64)
        except (TypeError, ValueError):
            raise SparsestError("network weights must be lists of numbers of matching shapes") from None
        if W.ndim != 2 and not (W.size == 0):
            raise SparsestError("network W must be a list of K rows of d numbers")
        c = data.get("c")
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float))):
            raise SparsestError("network c must be a number or null")
        if W.size == 0:
            d = len(a) if a is not None else 1
            W = W.reshape(0, d)
        return cls(v, W, b, a, c)
