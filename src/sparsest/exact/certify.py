"""Choose an exact method, run it, and build the certificate of the sparsest interpolant.

Methods (``method``):

* ``"closed-form"``: the O(N log N) construction of docs/math.md §4 (:mod:`sparsest.exact.closed_form`). Valid for
  1-D data with the skip term, for neurons, and for parameters without biases (in 1-D each neuron
  has one path weight, so both counts coincide). With a box R it is used only when its network fits
  inside the box (then the unboxed optimum is attained inside it).
* ``"milp"``: the big-M MILP of docs/math.md §3 (:func:`sparsest.exact.milp.solve_milp`).
* ``"exhaustive"``: the M-free support search of docs/math.md §3 (:func:`sparsest.exact.exhaustive.search_exhaustive`),
  with the box when one is given, without any bound otherwise.
* ``"auto"``: the closed form where it is valid; otherwise, in this order (shares of the time
  left: :data:`AUTO_QUICK_SHARE`, :data:`AUTO_FIT_SHARE`, :data:`AUTO_EXHAUSTIVE_SHARE`):
  a first incumbent inside the box (parameters: the neuron certificate's network pruned coordinate
  by coordinate; else the projection support interpolant, :mod:`sparsest.exact.incumbents`);
  for neurons a first exhaustive pass over the small sizes and seeded network fits from the size
  it reached; the exhaustive search below the best incumbent (``upper``); in both passes the
  probe's fits take turns with the enumeration (:func:`search_exhaustive`'s ``interleave``, no
  size probed first: on the infeasible sizes below the optimum a probe is lost time); then, if it did not
  finish, the MILP for the rest, given the search's lower bound (a row objective >= lower, so an
  incumbent meeting it ends the MILP) and the best incumbent as its start. Every engine solves
  the same problem (the same box R), so their bounds combine, and the certificate carries the
  best re-checked network any of them met. ``method`` in the result names the engines that
  proved ("exhaustive" or "exhaustive+milp").

Whatever the method, the network of the certificate is re-checked here
(:func:`sparsest.core.recheck.recheck`), and ``neurons`` / ``parameters`` are the re-check's counts. The
status is "optimal" only when lower_bound == upper_bound and the network interpolates.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.exact.coordinates import coordinate_search
from sparsest.exact.exhaustive import BLAS_THREADS, SearchCache, search_exhaustive
from sparsest.exact.incumbents import fitted_interpolant, projection_support_interpolant, prune_coordinates
from sparsest.exact.milp import SOLVERS, big_m, solve_milp
from sparsest.core.network import Network
from sparsest.exact.patterns import DEFAULT_MAX_PATTERNS
from sparsest.exact.progress import Progress
from sparsest.exact.warmup import start_workers
from sparsest.exact.problem import Problem, box_touched, settle
from sparsest.exact.closed_form import sparsest_interpolant
from sparsest.core.recheck import Recheck, recheck

METHODS = ("auto", "closed-form", "milp", "exhaustive")
#: ``method="auto"``, neurons: shares of the remaining time for the first exhaustive pass (the
#: small sizes) and for the network fits above its lower bound; then (both objectives) the share of
#: the main exhaustive search, below the best incumbent; the MILP gets the rest. The first pass
#: usually ends at its limit inside the first hard size, which the main search then starts again,
#: and it lasts as long with any ``jobs``: kept short (1.2 s of a 120 s limit; 0.05 gave the same
#: serial times on development instances and a 1.52x speed-up on 2 cores where 0.01 gave 1.77x).
#: It runs in this process whatever ``jobs`` (its bounds are the serial ones), while the worker
#: pool starts (:mod:`sparsest.exact.warmup`): on workers, their start-up took most of its time.
AUTO_QUICK_SHARE, AUTO_FIT_SHARE, AUTO_EXHAUSTIVE_SHARE = 0.01, 0.3, 0.85


@dataclass(frozen=True)
class Certificate:
    """The answer to "what is the sparsest interpolant of this data, and is it proven?".

    status : "optimal" (lower_bound == upper_bound, a re-checked interpolating network),
        "time_limit" (both bounds as far as they got), "infeasible" (no interpolant within the
        box), or "unverified" (a solver finished but no network it returned passed the re-check, or
        an LP below the upper bound was neither solved nor proven infeasible by HiGHS: the bounds
        stand, optimality is not claimed).
    lower_bound, upper_bound : bounds on the objective (neurons, or parameters with ``count_bias``
        counting biases); upper_bound is the re-checked count of ``network``.
    neurons, parameters : docs/math.md §2 counts of ``network`` recomputed by :func:`sparsest.core.recheck.recheck`.
    assumptions : the bound behind the certificate (closed form, proven 1-D slope bound, box R or
        none), the network options, tolerances and the solvers' own status text.
    recheck : the full re-check (exact residual, activation sets).
    """

    instance: str
    n_points: int
    dim: int
    objective: str
    count_bias: bool
    method: str
    status: str
    lower_bound: int | None
    upper_bound: int | None
    network: Network | None
    recheck: Recheck | None
    seconds: float
    assumptions: dict
    solver: str | None = None
    box: float | None = None
    box_touched: bool | None = None
    nodes: int | None = None
    n_lps: int | None = None
    n_patterns: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def neurons(self) -> int | None:
        return None if self.recheck is None else self.recheck.neurons

    @property
    def parameters(self) -> int | None:
        return None if self.recheck is None else self.recheck.parameters

    @property
    def max_abs_residual(self) -> float | None:
        return None if self.recheck is None else self.recheck.max_abs_residual

    @property
    def gap(self) -> int | None:
        """upper_bound - lower_bound (an integer), None without both."""
        if self.lower_bound is None or self.upper_bound is None:
            return None
        return self.upper_bound - self.lower_bound

    def to_json(self) -> dict:
        """The ``certify --json`` object of the issue's contract, plus solver details."""
        return {
            "instance": self.instance,
            "n_points": self.n_points,
            "dim": self.dim,
            "objective": self.objective,
            "method": self.method,
            "status": self.status,
            "neurons": self.neurons,
            "parameters": self.parameters,
            "lower_bound": self.lower_bound,
            "upper_bound": self.upper_bound,
            "max_abs_residual": self.max_abs_residual,
            "seconds": round(self.seconds, 3),
            "assumptions": self.assumptions,
            "network": None if self.network is None else self.network.to_json(),
            "gap": self.gap,
            "count_bias": self.count_bias,
            "solver": self.solver,
            "box": self.box,
            "box_touched": self.box_touched,
            "nodes": self.nodes,
            "n_lps": self.n_lps,
            "n_patterns": self.n_patterns,
            "recheck": None if self.recheck is None else self.recheck.to_json(),
            "notes": list(self.notes),
        }


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")  # (the fits' and LPs' products too)
def certify(dataset: Dataset, *, method: str = "auto", objective: str = "neurons", count_bias: bool = False,
            box: float | None = None, time_limit: float | None = 60.0, solver: str = "highs",
            start: Network | None = None, max_patterns: int = DEFAULT_MAX_PATTERNS, jobs: int = 1) -> Certificate:
    """Certify the sparsest interpolant of ``dataset`` (docs/math.md §2-4) and return a :class:`Certificate`.

    ``objective``: "neurons" or "parameters" (path weights v_k w_kj; with ``count_bias`` also
    v_k b_k). ``box``: R of |v_k w_kj| <= R (multivariate default: :func:`sparsest.exact.milp.default_box`;
    never needed by the 1-D closed form). ``time_limit`` (seconds, None: none) covers the whole
    call; the activation-set enumeration, which cannot be interrupted, counts against it. ``solver``: the MILP backend ("highs" or
    "cbc"). ``start``: a feasible network for the MILP. ``max_patterns``: refuse data whose
    activation-set bound exceeds it. ``jobs``: joblib workers for the exhaustive search and the
    network fits (1: serial, -1: one per core; same certificate, see
    :func:`sparsest.exact.exhaustive.search_exhaustive`).
    Bad input raises :class:`SparsestError`.
    """
    _check_options(dataset, method, solver, start, max_patterns)
    problem = Problem.of(dataset, objective=objective, count_bias=count_bias, box=box, time_limit=time_limit)
    closed_form_valid = dataset.dim == 1 and dataset.skip and (objective == "neurons" or not count_bias)
    if method == "closed-form" and not closed_form_valid:
        raise SparsestError(
            "the closed form needs 1-D data with the skip term (and, for parameters, no bias count); "
            f"this instance has d={dataset.dim}{'' if dataset.skip else ', no skip term'}"
            f"{', count_bias' if count_bias and objective == 'parameters' else ''}: use --method milp or exhaustive"
        )
    if method in ("closed-form", "auto") and closed_form_valid:
        certificate = _closed_form(problem)
        if certificate is not None:
            return certificate
        if method == "closed-form":
            raise SparsestError(f"the closed-form network leaves the box R = {box:g}; use --method milp")
    dictionary = BlockDictionary(dataset, max_patterns=max_patterns)
    if method == "milp":
        return _from_milp(problem, dictionary, solver, start)
    if method == "exhaustive":
        return _from_exhaustive(problem, dictionary, jobs)
    progress = Progress(objective, time_limit)
    # neurons: the worker pool starts while the first incumbent and the quick pass run here
    warming = start_workers(jobs) if objective == "neurons" else None
    try:
        return _auto(problem, dictionary, solver, start, progress, jobs, warming)
    finally:
        progress.close()
        if warming is not None:
            warming.join()  # (no joblib call may overlap it)


# ---------------------------------------------------------------------- option checks
def _check_options(dataset, method, solver, start, max_patterns):
    """The options of certify that are not part of the :class:`Problem` (which checks its own)."""
    if not isinstance(dataset, Dataset):
        raise SparsestError(f"certify needs a Dataset, got {type(dataset).__name__}")
    for name, value, allowed in (("method", method, METHODS), ("solver", solver, SOLVERS)):
        if value not in allowed:
            raise SparsestError(f"unknown {name} {value!r}; use one of {', '.join(allowed)}")
    if isinstance(max_patterns, bool) or not isinstance(max_patterns, (int, np.integer)) or max_patterns < 1:
        raise SparsestError(f"max_patterns must be a positive integer, got {max_patterns!r}")
    if start is not None:
        if not isinstance(start, Network):
            raise SparsestError(f"the start must be a Network, got {type(start).__name__}")
        if start.dim != dataset.dim:
            raise SparsestError(f"the start network has input dimension {start.dim}, the data has {dataset.dim}")


# ---------------------------------------------------------------------- the methods
def _tolerances(dataset: Dataset) -> dict:
    return {"interpolation": dataset.interpolation_tol, "counting": dataset.count_tol}


def _options(problem: Problem) -> dict:
    return {"skip": problem.dataset.skip, "output_bias": problem.dataset.output_bias,
            "count_bias": problem.count_bias}


def _closed_form(problem: Problem) -> Certificate | None:
    """The docs/math.md §4 certificate, or None when a box is given and the network leaves it."""
    dataset, box = problem.dataset, problem.box
    result = sparsest_interpolant(dataset)
    network = result.network
    if box is not None and network.width and np.max(np.abs(network.path_weights())) > box:
        return None
    check = recheck(network, dataset, count_bias=problem.count_bias, sorted_pass=result.sorted_pass)
    value = problem.count(check)
    proven = check.interpolates and value == result.lower_bound
    notes = dataset.notices + result.notes
    if value < result.lower_bound:
        # The bound is proven for the data as written (every nonzero slope change counts); the
        # re-check counts at the counting tolerance. A count below the bound is not an upper bound
        # of the same problem, so none is claimed.
        notes = notes + (f"the float64 network has {value} neurons above the counting tolerance, fewer than the "
                         f"{result.lower_bound} proven for the data as written: not an upper bound of that "
                         f"problem, so none is stated",)
        value = None
    assumptions = {
        **_options(problem),
        "bound": "closed-form",
        "why": result.why,
        "box": box,
        "tolerances": {**_tolerances(dataset), "collinearity": result.collinear_tol or "exact"},
        "problem": result.problem, "exact_neurons": result.exact_knots,
        "solver_status": "closed form",
    }
    return Certificate(
        instance=dataset.name, n_points=dataset.n_points, dim=dataset.dim, objective=problem.objective,
        count_bias=problem.count_bias, method="closed-form", status="optimal" if proven else "unverified",
        lower_bound=result.lower_bound, upper_bound=value, network=network, recheck=check,
        seconds=problem.elapsed(), assumptions=assumptions, box=box,
        box_touched=None if box is None else False, notes=notes,
    )


def _milp_assumptions(problem: Problem, bounds, solver_status: str) -> dict:
    return {
        **_options(problem),
        "bound": bounds.kind,
        "box": bounds.box,
        "weight_bound": bounds.weight,
        "why": bounds.reason,
        "tolerances": {**_tolerances(problem.dataset), "mip_rel_gap": 0.0, "mip_abs_gap": 0.999,
                       "lower_bound": "ceil(dual bound - 1e-6)"},
        "solver_status": solver_status,
    }


def _from_milp(problem: Problem, dictionary, solver, start) -> Certificate:
    result = solve_milp(dictionary, objective=problem.objective, count_bias=problem.count_bias, box=problem.box,
                        time_limit=problem.remaining(), solver=solver, start=start)
    return _certificate(problem.with_box(result.box), "milp", result.status, result.lower_bound, result.network,
                        _milp_assumptions(problem, result.bounds, result.solver_status),
                        solver=solver, nodes=result.nodes,
                        n_patterns=len(dictionary.patterns), notes=result.notes)


def _exhaustive_assumptions(problem: Problem, text) -> dict:
    box = problem.box
    return {
        **_options(problem),
        "bound": "box" if box is not None else "none",
        "box": box,
        "why": "M-free: every support smaller than the lower bound is LP-infeasible (docs/math.md §3)"
               + (f"; box |v_k w_kj| <= R = {box:g} (all-points bias <= R (1 + max||x||_1))" if box is not None else ""),
        "tolerances": {**_tolerances(problem.dataset), "support_lp_feasibility": 1e-10},
        "solver_status": text,
    }


def _from_exhaustive(problem: Problem, dictionary, jobs) -> Certificate:
    result = search_exhaustive(dictionary, objective=problem.objective, count_bias=problem.count_bias,
                               box=problem.box, time_limit=problem.remaining(), jobs=jobs)
    text = f"exhaustive: {result.status} after {result.n_lps} LPs"
    return _certificate(problem, "exhaustive", result.status, result.lower_bound, result.network,
                        _exhaustive_assumptions(problem, text),
                        n_lps=result.n_lps, n_patterns=len(dictionary.patterns))


def _auto(problem: Problem, dictionary, solver, start, progress: Progress, jobs: int,
          warming: threading.Thread | None = None) -> Certificate:
    """Incumbents, the exhaustive search below the best of them, then the MILP above the search's
    lower bound (module docstring). The best re-checked network seen is kept. ``warming``: the
    thread starting the worker pool (:func:`sparsest.exact.warmup.start_workers`), joined before
    the first stage that uses the workers."""
    # Both engines get the same bounds (box R; or none under the proven 1-D slope bound, where the
    # exhaustive search runs M-free), so their lower bounds are bounds of the same problem.
    bounds = big_m(problem.dataset, objective=problem.objective, count_bias=problem.count_bias, box=problem.box)
    problem = problem.with_box(bounds.box)
    objective, count_bias, deadline = problem.objective, problem.count_bias, problem.deadline
    n_patterns = len(dictionary.patterns)
    seen = _Incumbents(problem, progress)
    progress.update(stage="first incumbent")
    seen.add(_first_incumbent(problem, dictionary, jobs), "incumbent")
    coordinates = _coordinate_levels(problem, dictionary, seen.count, progress)
    known, coordinate_text = 0, ""
    if coordinates is not None:
        seen.add(coordinates.network, "coordinate search")
        known, coordinate_text = coordinates.lower_bound, _coordinate_text(coordinates)
        if seen.count is not None and known >= seen.count:
            return _certificate(problem, "exhaustive", "optimal", known, seen.network,
                                _exhaustive_assumptions(problem, coordinate_text), n_lps=coordinates.lps,
                                n_patterns=n_patterns)

    cache = SearchCache()  # the main search reuses the first pass's set-up and completed sizes

    def search(share: float, lower: int, workers: int):
        progress.update(stage="exhaustive search")
        result = search_exhaustive(dictionary, objective=objective, count_bias=count_bias, box=problem.box,
                                   time_limit=problem.remaining(share), upper=seen.count, jobs=workers,
                                   probe=False, interleave=True, known_lower=lower, cache=cache,
                                   on_level=lambda lower: progress.update(lower=lower))
        seen.add(result.network, "exhaustive")
        return result

    def proven(result) -> Certificate:
        text = coordinate_text + f"exhaustive: {result.status} after {result.n_lps} LPs (lower bound {result.lower_bound})"
        return _certificate(problem, "exhaustive", "optimal", result.lower_bound, seen.network,
                            _exhaustive_assumptions(problem, text), n_lps=n_lps, n_patterns=n_patterns)

    n_lps = 0 if coordinates is None else coordinates.lps
    if objective == "neurons":
        # the small sizes first (usually seconds), then network fits from the size they reach
        quick = search(AUTO_QUICK_SHARE, lower=known, workers=1)  # (here, while the pool starts)
        n_lps += quick.n_lps
        if quick.status == "optimal":
            return proven(quick)
        progress.update(stage="network fits")
        if warming is not None:
            warming.join()
        fit_deadline = min(deadline, time.monotonic() + (problem.remaining(AUTO_FIT_SHARE) or math.inf))
        seen.add(fitted_interpolant(dictionary, quick.lower_bound, seen.count, box=problem.box,
                                    deadline=fit_deadline, jobs=jobs), "fit")
        if seen.count == quick.lower_bound:
            return proven(quick)
        known = quick.lower_bound  # (the main search starts there)
    main = search(AUTO_EXHAUSTIVE_SHARE, lower=known, workers=jobs)
    n_lps += main.n_lps
    if main.status == "optimal":
        return proven(main)
    searched = coordinate_text + f"exhaustive: {main.status} after {main.n_lps} LPs (lower bound {main.lower_bound})"
    progress.update(stage="MILP")
    result = solve_milp(dictionary, objective=objective, count_bias=count_bias, bounds=bounds, solver=solver,
                        time_limit=problem.remaining(), start=start if start is not None else seen.network,
                        lower=main.lower_bound)
    seen.add(result.network, "milp")
    assumptions = _milp_assumptions(problem, bounds, f"{searched}; {result.solver_status}")
    assumptions["why"] += "; the lower bound combines the exhaustive search's and the MILP's"
    status = "unverified" if result.status == "infeasible" else result.status  # cannot be, above a proven lower bound
    if status == "unverified" and result.network is None and seen.network is not None:
        status = "time_limit"  # the MILP found nothing to check; the bounds below still stand
    return _certificate(problem.with_box(result.box), "exhaustive+milp", status, result.lower_bound,
                        seen.network, assumptions, solver=solver, nodes=result.nodes,
                        n_lps=n_lps, n_patterns=n_patterns, notes=result.notes)


#: Share of the remaining time the neuron search behind a parameter incumbent may take.
NEURON_SEED_SHARE = 0.1
#: Share of the remaining time the coordinate-sparse search of small parameter counts may take.
COORDINATE_SHARE = 0.5


def _coordinate_levels(problem: Problem, dictionary, upper: int | None, progress: Progress):
    """Parameters without counted biases: the sizes ruled out by coordinate-sparse neurons
    (:func:`sparsest.exact.coordinates.coordinate_search`, docs/math.md §3.7); None otherwise."""
    if problem.objective != "parameters" or problem.count_bias:
        return None
    progress.update(stage="coordinate search")
    share = problem.remaining(COORDINATE_SHARE)
    deadline = min(problem.deadline, time.monotonic() + share) if share is not None else problem.deadline
    result = coordinate_search(dictionary, box=problem.box, upper=upper, deadline=deadline)
    progress.update(lower=result.lower_bound)
    return result


def _coordinate_text(result) -> str:
    return (f"coordinate search: sizes below {result.lower_bound} ruled out ({result.supports} supports, "
            f"{result.span_pruned} by the span test, {result.lps} LPs; stopped: {result.stopped}); ")


def _first_incumbent(problem: Problem, dictionary, jobs: int = 1) -> Network | None:
    """An interpolant inside the box before any search (docs/math.md §3), None when none fits.

    Parameters: the neuron certificate's network (a short exhaustive neuron search), pruned
    coordinate by coordinate with the support LP (that search on ``jobs`` workers). Otherwise, or when that search finds nothing in
    its share: the projection support interpolant (pruned block by block, then by coordinates).
    """
    objective, count_bias, box, deadline = problem.objective, problem.count_bias, problem.box, problem.deadline
    network = None
    if objective == "parameters":
        neurons = search_exhaustive(dictionary, objective="neurons", box=box,
                                    time_limit=problem.remaining(NEURON_SEED_SHARE), jobs=jobs)
        network = neurons.network
    if network is None:
        network = projection_support_interpolant(dictionary, box=box, deadline=deadline)
    if network is not None and objective == "parameters":
        network = prune_coordinates(dictionary, network, count_bias=count_bias, box=box, deadline=deadline)
    return network


class _Incumbents:
    """The best re-checked interpolant seen so far (lowest count of the objective)."""

    def __init__(self, problem: Problem, progress: Progress):
        self.problem, self.progress = problem, progress
        self.network: Network | None = None
        self.count: int | None = None
        self.source: str | None = None

    def add(self, network: Network | None, source: str) -> None:
        if network is None:
            return
        check = recheck(network, self.problem.dataset, count_bias=self.problem.count_bias, exact=False)
        if not check.interpolates:
            return
        count = self.problem.count(check)
        if self.count is None or count < self.count:
            self.network, self.count, self.source = network, count, source
            self.progress.update(upper=count)


def _certificate(problem: Problem, method, status, lower, network, assumptions, *,
                 solver=None, nodes=None, n_lps=None, n_patterns=None, notes=()) -> Certificate:
    """Re-check ``network`` and state only what it and ``lower`` support (for ``problem``, whose box
    is the one the engine used)."""
    dataset, box = problem.dataset, problem.box
    notes = list(dataset.notices) + list(notes)
    if status == "undecided":
        notes.append(f"HiGHS did not decide some support LP of size {lower}: that size is not ruled out")
    check = upper = None
    if network is not None:
        check = recheck(network, dataset, count_bias=problem.count_bias)
        if check.interpolates:
            upper = problem.count(check)
        else:
            notes.append(f"the network misses the data by {check.max_abs_residual:.3g} > "
                         f"{check.tolerance:.3g}: it bounds nothing")
    status, lower = settle(status, lower, upper, notes)
    touched = box_touched(network, box)
    return Certificate(
        instance=dataset.name, n_points=dataset.n_points, dim=dataset.dim, objective=problem.objective,
        count_bias=problem.count_bias, method=method, status=status, lower_bound=lower, upper_bound=upper,
        network=network, recheck=check, seconds=problem.elapsed(), assumptions=assumptions,
        solver=solver, box=box, box_touched=touched, nodes=nodes, n_lps=n_lps, n_patterns=n_patterns,
        notes=tuple(notes),
    )
