"""The comparison harness: the certified optimum of each instance beside every training run.

For each instance, :func:`compare` certifies the sparsest interpolant (``sparsest.exact.certify``) and
runs every (method, p, seed) of the sweep; p matters only for the l^p methods, the other methods
run once per seed (and the deterministic convex ones once). :func:`summarize` condenses the runs
per (method, p). No files and no printing here: ``report.py`` writes, ``plots.py`` draws.

docs/math.md §5: a run that does not interpolate has no sparsity worth comparing. Counts (median, best)
are taken over the interpolating runs only, and a run is a *hit* only when it interpolates and
its count equals the certified optimum. Each run is judged twice: as trained (the merged network
the training left) and polished (the exact LP on its support, when the trainer ran it).

Runs are independent tasks executed with joblib (``jobs``, ``backend``); every task is seeded and
the results are kept in the order of the plan, so the numbers do not depend on ``jobs`` or on the
backend (torch runs single-threaded in every task for the same reason). Each task returns a typed
record (``records.py``: :class:`RunRecord`, :class:`ExactRecord`); JSON is made only when a
comparison is written (:meth:`Comparison.to_json`).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import joblib

from sparsest.comparison.records import ExactRecord, Outcome, RunRecord
from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.exact.problem import OBJECTIVES
from sparsest.training.options import CONVEX_METHODS


@dataclass(frozen=True)
class MethodInfo:
    """How a method is swept: ``uses_p`` (one run per p) and ``seeded`` (one run per seed)."""

    uses_p: bool
    seeded: bool
    description: str


#: The methods ``compare`` knows, in their default display order.
METHODS: dict[str, MethodInfo] = {
    "lp": MethodInfo(True, True, "l^p path-norm training, proximal reweighted-l1 step (docs/math.md §5)"),
    "lp-smooth": MethodInfo(True, True, "l^p path-norm training, smoothed penalty"),
    "l1-path": MethodInfo(False, True, "l^1 path-norm training"),
    "weight-decay": MethodInfo(False, True, "weight decay (squared l2 of all weights)"),
    "none": MethodInfo(False, True, "no regularisation"),
    "convex-l1": MethodInfo(False, False, "minimum l1 path norm over the block dictionary (one LP)"),
    "convex-reweighted": MethodInfo(True, False, "reweighted l1 for l^p over the block dictionary (LPs)"),
}

DEFAULT_METHODS = ("lp", "weight-decay", "none")
DEFAULT_PS = (0.4, 0.7, 1.0)


@dataclass(frozen=True)
class RunSpec:
    """One planned run: instance index, method, p (None when the method has no p), seed (None
    when the method is deterministic)."""

    instance: int
    method: str
    p: float | None
    seed: int | None


@dataclass(frozen=True)
class SummaryRow:
    """The runs of one (method, p) on one instance, at one stage: ``"trained"`` (the merged
    trained network) or ``"polished"`` (the exact LP on its support, sparsest.training.extract.polish).

    runs : number of runs; interpolating : how many interpolate (docs/math.md §6 tolerance);
    interpolation_rate = interpolating / runs;
    hits : interpolating runs whose count (of the certificate's objective) equals the certified
        optimum; hit_rate = hits / runs, None when the certificate does not prove an optimum;
    below_bound : interpolating runs inside the certificate's box R (if any) with a count below
        the certified lower bound — impossible if both sides are right, so any nonzero value flags
        a bug or a tolerance mismatch (outside the box the bound does not apply);
    outside_box : interpolating runs whose network leaves the certificate's box R;
    median_/best_neurons, median_/best_parameters : over the interpolating runs (None if none);
    median_seconds : over all runs: of the whole training run (``"trained"``), of the polish LPs
        alone (``"polished"``; None when the runs do not say how long their polish took).
    """

    method: str
    p: float | None
    stage: str
    runs: int
    interpolating: int
    interpolation_rate: float
    hits: int | None
    hit_rate: float | None
    below_bound: int
    outside_box: int
    median_neurons: float | None
    best_neurons: int | None
    median_parameters: float | None
    best_parameters: int | None
    median_seconds: float | None

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class InstanceComparison:
    """One instance: its data, its certificate (``exact``), its runs in plan order, and the
    summary per (method, p)."""

    name: str
    dataset: Dataset
    exact: ExactRecord
    runs: tuple[RunRecord, ...]
    summary: tuple[SummaryRow, ...]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "exact": self.exact.to_json(),
            "runs": [run.to_json() for run in self.runs],
            "summary": [row.to_json() for row in self.summary],
        }


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: one :class:`InstanceComparison` per instance, and the
    settings that produced them (``settings``, JSON-ready)."""

    instances: tuple[InstanceComparison, ...]
    settings: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """``{"settings": {...}, "instances": [{"name", "exact", "runs", "summary"}]}``."""
        return {"settings": self.settings, "instances": [inst.to_json() for inst in self.instances]}


# ---------------------------------------------------------------------- planning
def check_options(methods: Sequence[str], ps: Sequence[float], seeds: int, jobs: int,
                  time_limit: float) -> None:
    """Raise :class:`SparsestError` (one line) unless the sweep options make sense."""
    if not methods:
        raise SparsestError("no methods given")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SparsestError(f"unknown method(s) {', '.join(map(repr, unknown))}; "
                            f"choose from {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise SparsestError("a method is listed twice")
    if any(METHODS[m].uses_p for m in methods) and not ps:
        raise SparsestError("no p given for the l^p methods")
    for p in ps:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not (0.0 < float(p) <= 1.0):
            raise SparsestError(f"p = {p!r} is outside (0, 1]")
    if len(set(map(float, ps))) != len(ps):
        raise SparsestError("a value of p is listed twice")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise SparsestError(f"--seeds must be a positive integer, got {seeds!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise SparsestError(f"--jobs must be a positive integer or -1 (all cores), got {jobs!r}")
    if not (isinstance(time_limit, (int, float)) and math.isfinite(time_limit) and time_limit > 0):
        raise SparsestError(f"--time-limit must be a positive number of seconds, got {time_limit!r}")


def check_backend(backend: str | None, jobs: int) -> None:
    """Raise :class:`SparsestError` unless joblib can run ``jobs`` workers on ``backend`` (a
    registered name: "loky", "threading", ..., or "dask"/"ray" once registered, see docs/scaling.md)."""
    if backend is None:
        return
    try:
        with joblib.parallel_config(backend=backend, n_jobs=jobs):
            pass
    except (ValueError, ImportError) as err:
        raise SparsestError(f"--backend {backend}: {str(err).splitlines()[0]}") from None


def check_train_options(datasets: Sequence[Dataset], methods: Sequence[str], train_options: dict) -> None:
    """Raise :class:`SparsestError` before anything runs unless ``LpTrainer`` accepts
    ``train_options`` for every method and dataset (its own validation, without training)."""
    from sparsest.training.trainer import LpTrainer

    for key in ("method", "seed", "p"):
        if key in train_options:
            raise SparsestError(f"train option {key!r} is set by the sweep itself; leave it out")
    for method in methods:
        if method in CONVEX_METHODS:
            continue
        try:
            trainer = LpTrainer(method=method, **train_options)
        except TypeError:
            raise SparsestError(f"unknown trainer option among {', '.join(sorted(train_options))}") from None
        for dataset in datasets:
            trainer.resolved_settings(dataset)  # the trainer's own checks (one-line SparsestError)


def check_sizes(datasets: Sequence[Dataset], objective: str, count_bias: bool) -> None:
    """Raise :class:`SparsestError` (one line) before anything runs for an instance the certifier
    would refuse: outside the 1-D closed form's domain, the exact search enumerates up to
    2 sum_k C(N-1, k) activation sets (docs/math.md §3), at most
    :data:`sparsest.exact.patterns.DEFAULT_MAX_PATTERNS`."""
    from sparsest.exact.patterns import DEFAULT_MAX_PATTERNS, pattern_count_bound

    for ds in datasets:
        closed_form = ds.dim == 1 and ds.skip and (objective == "neurons" or not count_bias)
        bound = pattern_count_bound(ds.n_points, ds.dim)
        if not closed_form and bound > DEFAULT_MAX_PATTERNS:
            raise SparsestError(
                f"{ds.name}: N={ds.n_points}, d={ds.dim} has up to {bound} activation sets, more than the "
                f"certifier enumerates ({DEFAULT_MAX_PATTERNS}); compare needs a certificate per instance: "
                "use a smaller instance (or sparsest train, which needs none)")


def _with_history_every(train_options: dict) -> dict:
    """Ask the trainer for about 100 history rows per run (for the training-curve figures), in
    multiples of the 100 steps at which it checks, unless the caller chose ``history_every``."""
    from sparsest.training.trainer import CHECK_EVERY, CONTINUATION_STEPS, PAPER_STEPS

    if "history_every" not in train_options:
        paper = train_options.get("schedule") == "paper"
        steps = train_options.get("steps") or (PAPER_STEPS if paper else CONTINUATION_STEPS)
        train_options["history_every"] = max(1, steps // (100 * CHECK_EVERY)) * CHECK_EVERY
    return train_options


def plan_runs(n_instances: int, methods: Sequence[str], ps: Sequence[float], seeds: int) -> tuple[RunSpec, ...]:
    """Every run of the sweep, ordered by instance, method (as given), p (as given), seed 0..seeds-1.

    An l^p method runs once per (p, seed); a seeded method without p once per seed; a
    deterministic one once."""
    plan = []
    for inst in range(n_instances):
        for method in methods:
            info = METHODS[method]
            for p in (ps if info.uses_p else (None,)):
                for seed in (range(seeds) if info.seeded else (None,)):
                    plan.append(RunSpec(inst, method, None if p is None else float(p), seed))
    return tuple(plan)


def group_label(method: str, p: float | None, stage: str = "trained") -> str:
    """How a (method, p) group is named in tables and figures: "lp p=0.4", "weight-decay",
    "lp p=0.4 +polish" (the polished stage)."""
    label = method if p is None else f"{method} p={p:g}"
    return label if stage == "trained" else f"{label} +polish"


# ---------------------------------------------------------------------- summary
def proven_optimum(exact: ExactRecord | None) -> int | None:
    """The certified optimum of ``exact``, or None when its gap is open (or there is none)."""
    if exact is None or exact.status != "optimal":
        return None
    if exact.lower_bound is None or exact.upper_bound is None or exact.lower_bound != exact.upper_bound:
        return None
    return int(exact.upper_bound)


def stage_outcome(run: RunRecord, stage: str = "trained") -> Outcome | None:
    """The run's trained network (``"trained"``) or the exact LP polish on its support
    (``"polished"``; None when the run was not polished)."""
    return run.trained if stage == "trained" else run.polished


def inside_box(outcome: Outcome, exact: ExactRecord | None) -> bool:
    """Whether a stage's network lies in the certificate's box R (True when there is no box):
    a certified bound only speaks about networks inside it."""
    box = None if exact is None else exact.box
    weight = outcome.max_path_weight
    return box is None or weight is None or weight <= box * (1 + 1e-9)


def is_hit(run: RunRecord, exact: ExactRecord | None, stage: str = "trained") -> bool | None:
    """True when the run (at ``stage``) interpolates and its count of the certificate's objective
    equals the certified optimum; None when there is no proven optimum or no such stage."""
    optimum = proven_optimum(exact)
    outcome = stage_outcome(run, stage)
    if optimum is None or outcome is None:
        return None
    return outcome.interpolates and outcome.count(exact.objective) == optimum


def judge(run: RunRecord, exact: ExactRecord | None) -> RunRecord:
    """The run with ``hit`` and ``hit_polished`` judged against ``exact`` (:func:`is_hit`)."""
    return replace(run, hit=is_hit(run, exact), hit_polished=is_hit(run, exact, "polished"))


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def summarize(runs: Iterable[RunRecord], exact: ExactRecord | None) -> tuple[SummaryRow, ...]:
    """One :class:`SummaryRow` per (method, p) and stage, groups in order of first appearance in
    ``runs``; the ``"polished"`` row follows the ``"trained"`` one when some run of the group has a
    polish.

    ``exact`` is the certificate (its ``objective``, ``status``, bounds and ``box`` are read) or None.
    """
    groups: dict[tuple, list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.method, run.p), []).append(run)
    rows = []
    for (method, p), members in groups.items():
        rows.append(_summary_row(method, p, "trained", members, exact))
        if any(stage_outcome(r, "polished") is not None for r in members):
            rows.append(_summary_row(method, p, "polished", members, exact))
    return tuple(rows)


def _summary_row(method: str, p: float | None, stage: str, members: list[RunRecord],
                 exact: ExactRecord | None) -> SummaryRow:
    optimum = proven_optimum(exact)
    lower = None if exact is None else exact.lower_bound
    objective = None if exact is None else exact.objective
    outcomes = [stage_outcome(r, stage) for r in members]
    good = [o for o in outcomes if o is not None and o.interpolates]
    hits = None if optimum is None else sum(1 for o in good if o.count(objective) == optimum)
    below = 0 if lower is None or objective is None else \
        sum(1 for o in good if o.count(objective) < lower and inside_box(o, exact))
    return SummaryRow(
        method=method,
        p=p,
        stage=stage,
        runs=len(members),
        interpolating=len(good),
        interpolation_rate=len(good) / len(members),
        hits=hits,
        hit_rate=None if hits is None else hits / len(members),
        below_bound=below,
        outside_box=sum(1 for o in good if not inside_box(o, exact)),
        median_neurons=_median([o.neurons for o in good]),
        best_neurons=min((o.neurons for o in good), default=None),
        median_parameters=_median([o.parameters for o in good]),
        best_parameters=min((o.parameters for o in good), default=None),
        median_seconds=_median([r.seconds for r in members]) if stage == "trained"
        else _median([r.polish_seconds for r in members if r.polish_seconds is not None]),
    )


# ---------------------------------------------------------------------- execution
def _certify_task(dataset: Dataset, objective: str, time_limit: float, box: float | None,
                  count_bias: bool) -> ExactRecord:
    from sparsest.exact.certify import certify

    return ExactRecord.of_certificate(
        certify(dataset, objective=objective, count_bias=count_bias, box=box, time_limit=time_limit))


def _train_task(dataset: Dataset, spec: RunSpec, train_options: dict) -> RunRecord:
    from sparsest.training.trainer import LpTrainer

    options = dict(train_options)
    if spec.p is not None:
        options["p"] = spec.p
    return RunRecord.of_training(LpTrainer(method=spec.method, seed=spec.seed, **options).fit(dataset).result_, spec.p)


def _convex_task(dataset: Dataset, spec: RunSpec, train_options: dict) -> RunRecord:
    from sparsest.training.convex import min_l1_path, reweighted_l1

    if train_options.get("skip") is not None:
        dataset = dataset.with_options(skip=train_options["skip"])
    count_bias = bool(train_options.get("count_bias", False))
    if spec.method == "convex-l1":
        result = min_l1_path(dataset, count_bias=count_bias)
    else:
        result = reweighted_l1(dataset, p=spec.p, count_bias=count_bias)
    return RunRecord.of_convex(result, dataset.name, spec.p, spec.seed)


def _execute(task: tuple) -> ExactRecord | RunRecord:
    """Run one task. Options were checked before the sweep, so an error here is the method's own
    failure on this instance (a solver error, memory): it is recorded as a failed result with its
    message, and the rest of the sweep goes on."""
    kind, *arguments = task
    started = time.perf_counter()
    try:
        if kind == "certify":
            return _certify_task(*arguments)
        return _convex_task(*arguments) if arguments[1].method in CONVEX_METHODS else _train_task(*arguments)
    except Exception as err:  # noqa: BLE001 - reported in the result, never hidden
        message = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
        seconds = time.perf_counter() - started
        if kind == "certify":
            return ExactRecord.failed(arguments[0].name, arguments[1], arguments[3], message, seconds)
        spec = arguments[1]
        return RunRecord.failed(arguments[0].name, spec.method, spec.p, spec.seed, message, seconds)


def compare(
    datasets: Sequence[Dataset],
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    ps: Sequence[float] = DEFAULT_PS,
    seeds: int = 3,
    objective: str = "neurons",
    time_limit: float = 60.0,
    box: float | None = None,
    train_options: dict | None = None,
    jobs: int = 1,
    backend: str | None = None,
    progress: bool = False,
) -> Comparison:
    """Certify every dataset (``objective``, ``time_limit`` seconds, ``box`` R of docs/math.md §3, biases
    counted when ``train_options["count_bias"]``) and run the sweep of :func:`plan_runs`;
    ``train_options`` go to every ``LpTrainer`` (width, lam, steps, lr, skip, count_bias, ...).

    Tasks run through joblib with ``jobs`` workers on ``backend`` (None: joblib's default, or
    whatever an enclosing ``joblib.parallel_config`` chose, e.g. "dask" or "ray"); the result is
    the same for every ``jobs`` and backend. ``progress`` shows a tqdm bar on stderr.
    Raises :class:`SparsestError` before anything runs when an option is out of range.
    """
    methods, ps = tuple(methods), tuple(ps)
    check_options(methods, ps, seeds, jobs, time_limit)
    check_backend(backend, jobs)
    if objective not in OBJECTIVES:
        raise SparsestError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    if not datasets:
        raise SparsestError("no instances given")
    names = [ds.name for ds in datasets]
    repeated = next((n for n in names if names.count(n) > 1), None)
    if repeated is not None:
        raise SparsestError(f"two instances are named {repeated!r}: give each a distinct name")
    train_options = _with_history_every(dict(train_options or {}))
    check_train_options(datasets, methods, train_options)
    check_sizes(datasets, objective, bool(train_options.get("count_bias", False)))
    plan = plan_runs(len(datasets), methods, ps, seeds)
    count_bias = bool(train_options.get("count_bias", False))  # the certificate counts what training penalises
    tasks = [("certify", ds, objective, float(time_limit), box, count_bias) for ds in datasets]
    tasks += [("train", datasets[spec.instance], spec, train_options) for spec in plan]
    results = _run_tasks(tasks, jobs=jobs, backend=backend, progress=progress)
    exacts, runs = results[:len(datasets)], results[len(datasets):]
    instances = []
    for index, dataset in enumerate(datasets):
        own = tuple(judge(run, exacts[index]) for spec, run in zip(plan, runs) if spec.instance == index)
        instances.append(InstanceComparison(dataset.name, dataset, exacts[index], own,
                                            summarize(own, exacts[index])))
    settings = {
        "methods": list(methods), "ps": [float(p) for p in ps], "seeds": seeds,
        "objective": objective, "time_limit": float(time_limit), "box": box,
        "train_options": train_options,
    }
    return Comparison(tuple(instances), settings)


def _run_tasks(tasks: list[tuple], *, jobs: int, backend: str | None,
               progress: bool) -> list[ExactRecord | RunRecord]:
    """Run the tasks with joblib, results in task order, torch single-threaded throughout."""
    from tqdm import tqdm
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = {"n_jobs": jobs} if backend is None else {"backend": backend, "n_jobs": jobs}
        with joblib.parallel_config(**config):
            stream = joblib.Parallel(return_as="generator")(joblib.delayed(_execute)(t) for t in tasks)
            bar = tqdm(stream, total=len(tasks), desc="runs", unit="run", disable=not progress,
                       leave=False, dynamic_ncols=True)
            return list(bar)
    finally:
        torch.set_num_threads(threads)
