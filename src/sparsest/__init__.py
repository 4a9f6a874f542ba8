"""sparsest: the provably sparsest one-hidden-layer ReLU interpolant of small data, and l^p training
held up against it. See README.md and SPEC.md for the mathematics."""

__version__ = "0.1.0"

from .dataset import Dataset, load_dataset  # noqa: E402
from .errors import SparsestError  # noqa: E402
from .network import Network  # noqa: E402

__all__ = ["Dataset", "Network", "SparsestError", "load_dataset", "__version__"]
