"""Seeded instance generators: the same arguments always give the same data.

``planted_instance``:

X is uniform on [-1, 1]^d; y is the output of a random ReLU network of the planted width with no
skip term and no output bias: unit-norm directions w_k, each hyperplane through a point drawn
uniformly in [-0.5, 0.5]^d (so it cuts the data), and output weights v_k = +-(0.5 + U[0, 1]).
The planted width is an upper bound on the optimum; the certifier proves the optimum.
"""

from __future__ import annotations

import numpy as np

from sparsest.core.dataset import Dataset


def planted_instance(dim: int, n_points: int, width: int, seed: int) -> Dataset:
    """The planted instance (d, N, width, seed): same arguments, same data."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_points, dim))
    W = rng.normal(size=(width, dim))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    anchors = rng.uniform(-0.5, 0.5, (width, dim))
    b = -np.einsum("kd,kd->k", W, anchors)
    v = rng.choice([-1.0, 1.0], size=width) * (0.5 + rng.uniform(0.0, 1.0, width))
    y = np.maximum(X @ W.T + b, 0.0) @ v
    return Dataset.from_arrays(
        X, y, skip=False, name=f"planted-{dim}d-n{n_points}-w{width}-s{seed}",
        description=f"planted ReLU network of width {width}, X uniform on [-1,1]^{dim}, seed {seed}",
        source="sparsest.generators.planted_instance",
    )
