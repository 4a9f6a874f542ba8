"""Normalized coordinates for training, and the exact map of a network back to the data's own.

Training runs on x' = (x - m) / h (coordinatewise: m the midpoint and h the half-range of each
coordinate, so the data lie in the box [-1, 1]^d) and y' = y / s (s = max |y_i|; y is not shifted,
since a network without the skip term or output bias has no constant to absorb a shift). ReLU is
positively homogeneous, so a network f' on the normalized data maps back exactly:

    s f'((x - m) / h) = sum_k (s v'_k) relu((w'_k / h) . x + b'_k - (w'_k / h) . m)
                        + (s a' / h) . x + s (c' - (a' / h) . m),

with the zero pattern of every path weight v_k w_kj unchanged (docs/math.md §2: the counts are
the same). When the biases are counted (``count_bias``) the data is only scaled (m = 0), so a zero
bias stays zero too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.core.network import Network

__all__ = ["Scaling"]


@dataclass(frozen=True)
class Scaling:
    """x' = (x - center) / x_scale (coordinatewise), y' = y / y_scale."""

    center: np.ndarray
    x_scale: np.ndarray
    y_scale: float

    @classmethod
    def of(cls, dataset: Dataset, *, shift: bool = True) -> Scaling:
        """The map putting ``dataset`` into [-1, 1]^d with max |y'| = 1 (``shift=False``: x' = x / max|x_j|).

        A constant coordinate (or y = 0) keeps scale 1."""
        X = dataset.X
        if shift:
            low, high = X.min(axis=0), X.max(axis=0)
            center, half = (low + high) / 2, (high - low) / 2
        else:
            center, half = np.zeros(dataset.dim), np.abs(X).max(axis=0)
        y_max = float(np.max(np.abs(dataset.y)))
        return cls(center, np.where(half > 0, half, 1.0), y_max if y_max > 0 else 1.0)

    def to_json(self) -> dict:
        return {"x_center": self.center.tolist(), "x_scale": self.x_scale.tolist(), "y_scale": self.y_scale}

    def points(self, X: np.ndarray) -> np.ndarray:
        """x' for every row of X."""
        return (np.asarray(X, dtype=np.float64) - self.center) / self.x_scale

    def targets(self, y: np.ndarray) -> np.ndarray:
        """y' = y / y_scale."""
        return np.asarray(y, dtype=np.float64) / self.y_scale

    def network_back(self, net: Network) -> Network:
        """The network on the original coordinates equal to y_scale * net(x') (exact up to rounding)."""
        W = net.W / self.x_scale
        b = net.b - W @ self.center
        a = None if net.a is None else self.y_scale * net.a / self.x_scale
        c = net.c
        if net.a is not None:
            c = self.y_scale * ((c or 0.0) - float((net.a / self.x_scale) @ self.center))
        elif c is not None:
            c = self.y_scale * c
        return Network(self.y_scale * net.v, W, b, a, c)
