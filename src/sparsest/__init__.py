"""sparsest: the provably sparsest one-hidden-layer ReLU interpolant of small data, and l^p training
held up against it. The mathematics is in docs/math.md; the layout in docs/ARCHITECTURE.md.

Public names are imported lazily (PEP 562), so ``import sparsest`` and the command line stay fast:
torch, cvxpy and the solvers load only when the name that needs them is first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Dataset": "sparsest.core.dataset",
    "load_dataset": "sparsest.core.dataset",
    "Network": "sparsest.core.network",
    "recheck": "sparsest.core.recheck",
    "SparsestError": "sparsest.errors",
    "certify": "sparsest.exact.certify",
    "Certificate": "sparsest.exact.certify",
    "LpTrainer": "sparsest.training.trainer",
    "check_claims": "sparsest.claims.checks",
    "compare": "sparsest.comparison.compare",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    """Import a public name on first use (``sparsest.certify``, ``sparsest.LpTrainer``, ...)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sparsest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
