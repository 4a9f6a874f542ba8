"""The planted benchmark instances of the certifier (issue 3), by name."""

from __future__ import annotations

from sparsest.core.dataset import Dataset
from sparsest.generators import planted_instance

#: name -> (d, N, planted width, seed). Each seed is the first
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


def benchmark_instance(name: str) -> Dataset:
    """One of :data:`BENCHMARK_INSTANCES` by name."""
    return planted_instance(*BENCHMARK_INSTANCES[name])
