"""The options of the exact problem, checked one way everywhere, and the honest verdict on it.

:func:`check_box` is the one test of a box R (docs/math.md §3), shared with the claims and the
convex solvers; :func:`check_objective` and :func:`check_time_limit` likewise fail with one clear
:class:`~sparsest.errors.SparsestError`. :func:`settle` and :func:`box_touched` turn an engine's
status, bounds and re-checked network into what a result may claim (certify and the MILP).
:class:`Problem` holds one call's validated options and its clock, passed down by certify.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from dataclasses import dataclass

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError

#: The exact objectives of docs/math.md §2.
OBJECTIVES = ("neurons", "parameters")
#: A path weight within this relative distance of the box R counts as touching it.
BOX_TOUCH_RTOL = 1e-6


def box_touched(network, box: float | None) -> bool | None:
    """Whether a path weight of ``network`` reaches R (1 - BOX_TOUCH_RTOL): a larger R might do
    better. None without a box, a network, or a neuron."""
    if box is None or network is None or not network.width:
        return None
    return bool(np.max(np.abs(network.path_weights())) >= box * (1 - BOX_TOUCH_RTOL))


def settle(status: str, lower: int | None, upper: int | None, notes: list[str]) -> tuple[str, int | None]:
    """The honest (status, lower bound) from an engine's status, its proven lower bound and the
    re-checked count ``upper`` of its network (None: no interpolating network); notes are appended.

    "infeasible" has no lower bound; a lower bound above a re-checked count is a contradiction:
    "unverified", with the lower bound shown at that count;
    "optimal" needs lower == upper (else "unverified"); "time_limit" or "undecided" with
    lower == upper is "optimal"; "undecided" otherwise is "unverified"."""
    if status == "infeasible":
        return status, None
    if upper is not None and lower is not None and lower > upper:
        # The bound is for exact interpolation (LP verdicts), the witness is counted at tolerances:
        # when they contradict, neither is trusted as a proof of optimality.
        notes.append(f"the proven bound {lower} exceeds the re-checked witness of {upper}: a numerical "
                     f"contradiction, so no optimality is claimed")
        return "unverified", upper
    if status == "optimal" and (upper is None or lower != upper):
        notes.append("the engine reported optimal, but its bound does not meet a re-checked count")
        return "unverified", lower
    if status in ("time_limit", "undecided") and upper is not None and lower == upper:
        return "optimal", lower  # the re-checked network meets the proven lower bound
    return ("unverified" if status == "undecided" else status), lower


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


def check_count_bias(count_bias) -> bool:
    if not isinstance(count_bias, bool):
        raise SparsestError(f"count_bias must be true or false, got {count_bias!r}")
    return count_bias


@dataclass(frozen=True)
class Problem:
    """One exact problem, validated once (in the spirit of cvxpy's Problem): the fewest
    ``objective`` (docs/math.md §2; parameters with biases when ``count_bias``) over interpolants of
    ``dataset`` inside the box |v_k w_kj| <= R = ``box`` (None: no box), to be answered before
    ``deadline`` (a time.monotonic() instant; inf: no limit) by a call that started at ``t0``."""

    dataset: Dataset
    objective: str
    count_bias: bool
    box: float | None
    deadline: float
    t0: float

    @classmethod
    def of(cls, dataset: Dataset, *, objective: str = "neurons", count_bias: bool = False,
           box: float | None = None, time_limit: float | None = None) -> Problem:
        """Check every option (one SparsestError line each) and start the clock."""
        t0 = time.monotonic()
        limit = check_time_limit(time_limit)
        return cls(dataset, check_objective(objective), check_count_bias(count_bias), check_box(box),
                   math.inf if limit is None else t0 + limit, t0)

    def with_box(self, box: float | None) -> Problem:
        """The same problem inside the box R = ``box`` (e.g. the default box of the MILP's bounds)."""
        return dataclasses.replace(self, box=check_box(box))

    def remaining(self, share: float = 1.0) -> float | None:
        """``share`` of the seconds left (None: no deadline; never below 1 ms)."""
        return None if math.isinf(self.deadline) else max((self.deadline - time.monotonic()) * share, 1e-3)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def count(self, check) -> int:
        """The objective's count of a :class:`~sparsest.core.recheck.Recheck`."""
        return check.neurons if self.objective == "neurons" else check.parameters
