"""The exact problem, validated once: data, objective, bias count, box R and deadline.

In the spirit of cvxpy's ``Problem``: :meth:`Problem.create` checks every option and fails with one
clear :class:`~sparsest.errors.SparsestError`; the engines (exhaustive search, MILP) take the object
instead of repeating the checks. :func:`check_box` is the one test of a box R (docs/math.md §3),
shared with the claims and the convex solvers.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError

#: The exact objectives of docs/math.md §2.
OBJECTIVES = ("neurons", "parameters")


def check_box(box) -> float | None:
    """R of |v_k w_kj| <= R as a float: None (no box) or a positive finite real number (not a bool)."""
    if box is None:
        return None
    if isinstance(box, bool) or not isinstance(box, numbers.Real) or not (math.isfinite(box) and box > 0):
        raise SparsestError(f"the box R must be a positive finite number, got {box!r}")
    return float(box)


def check_objective(objective) -> str:
    if objective not in OBJECTIVES:
        raise SparsestError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    return objective


def check_time_limit(time_limit) -> float | None:
    """Seconds as a float: None (no limit) or a positive finite number."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or not time_limit > 0 \
            or math.isnan(time_limit):
        raise SparsestError(f"the time limit must be a positive number of seconds, got {time_limit!r}")
    return float(time_limit)


@dataclass(frozen=True)
class Problem:
    """min objective(f) over interpolants f of ``dataset`` (docs/math.md §2-3), validated.

    objective : "neurons" or "parameters" (path weights v_k w_kj, plus v_k b_k with ``count_bias``).
    box : R of |v_k w_kj| <= R on every path weight, None for none. deadline : time.monotonic()
    value by which every engine returns (inf: none).
    """

    dataset: Dataset
    objective: str = "neurons"
    count_bias: bool = False
    box: float | None = None
    deadline: float = math.inf

    @classmethod
    def create(cls, dataset: Dataset, *, objective: str = "neurons", count_bias: bool = False,
               box: float | None = None, time_limit: float | None = None,
               started: float | None = None) -> "Problem":
        """Validate the options; the deadline is ``started`` (default: now) + ``time_limit``."""
        if not isinstance(dataset, Dataset):
            raise SparsestError(f"expected a Dataset, got {type(dataset).__name__}")
        if not isinstance(count_bias, bool):
            raise SparsestError(f"count_bias must be true or false, got {count_bias!r}")
        limit = check_time_limit(time_limit)
        t0 = time.monotonic() if started is None else started
        return cls(dataset, check_objective(objective), count_bias, check_box(box),
                   math.inf if limit is None else t0 + limit)

    def with_box(self, box: float | None) -> "Problem":
        return Problem(self.dataset, self.objective, self.count_bias, check_box(box), self.deadline)

    def with_deadline(self, deadline: float) -> "Problem":
        return Problem(self.dataset, self.objective, self.count_bias, self.box, deadline)

    def remaining(self) -> float | None:
        """Seconds left (at least 1 ms), None without a deadline."""
        return None if math.isinf(self.deadline) else max(self.deadline - time.monotonic(), 1e-3)

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline
