"""Seeded planted instances for the certifier benchmarks (MEASURED.md, issue 3).

X is uniform on [-1, 1]^d; y is the output of a random ReLU network of the planted width with no
skip term and no output bias: unit-norm directions w_k, each hyperplane through a point drawn
uniformly in [-0.5, 0.5]^d (so it cuts the data), and output weights v_k = +-(0.5 + U[0, 1]).
The planted width is an upper bound on the optimum; the certifier proves the optimum.
"""

from __future__ import annotations

import numpy as np

from sparsest.dataset import Dataset

#: name -> (d, N, planted width, seed). The benchmark instances of issue 3. Each seed is the first
#: tried (1) and its certified optimum equals the planted width, as for MEASURED.md's instances.
#: 3-D N=15 is planted with width 3 (a width-4 lower bound needs all C(939, 3) triples of sets).
BENCHMARK_INSTANCES = {
    "2d-n10-w3": (2, 10, 3, 1),
    "2d-n12-w3": (2, 12, 3, 1),
    "3d-n10-w3": (3, 10, 3, 1),
    "2d-n15-w4": (2, 15, 4, 1),
    "2d-n20-w4": (2, 20, 4, 1),
    "3d-n15-w3": (3, 15, 3, 1),
}


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
        source="benchmarks/planted.py",
    )


def benchmark_instance(name: str) -> Dataset:
    """One of :data:`BENCHMARK_INSTANCES` by name."""
    return planted_instance(*BENCHMARK_INSTANCES[name])
