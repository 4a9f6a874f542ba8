"""Typed records of a comparison: what the workers of ``compare.py`` return and what ``report.py``
and ``plots.py`` read, as attributes. JSON exists only at the edges (:meth:`RunRecord.to_json`,
:meth:`ExactRecord.to_json`, written by ``report.py``); networks stay
:class:`sparsest.core.network.Network` objects throughout, so none is ever re-parsed.

* :class:`Outcome` — one network a run ended with (trained, or polished), judged on the data.
* :class:`RunRecord` — one training or convex run of the sweep, with its two outcomes.
* :class:`ExactRecord` — the certificate of one instance (or the error that stopped it).

The records compare by identity (``eq=False``: their networks hold arrays); compare them through
``to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sparsest.core.network import Network
from sparsest.training.options import CONVEX_METHODS

if TYPE_CHECKING:  # the workers build records from these; importing them here would load torch
    from sparsest.exact.certify import Certificate
    from sparsest.training.convex import ConvexResult
    from sparsest.training.extract import Polish
    from sparsest.training.trainer import TrainResult


def max_path_weight(network: Network | None) -> float | None:
    """max_kj |v_k w_kj| of ``network`` (0 for no neuron, None for no network): what the box
    ||v_k w_k||_inf <= R of docs/math.md §3 bounds."""
    if network is None:
        return None
    if network.width == 0:
        return 0.0
    return float(np.max(np.abs(network.path_weights())))


@dataclass(frozen=True, eq=False)
class Outcome:
    """One network of a run, judged on the data: ``interpolates`` (docs/math.md §6 tolerance), its
    ``neurons`` and ``parameters`` (§2 counts; None when there is no network) and the ``network``."""

    interpolates: bool
    neurons: int | None
    parameters: int | None
    network: Network | None = None

    def count(self, objective: str) -> int | None:
        """The count a certificate's ``objective`` names: ``"neurons"`` or ``"parameters"``."""
        return self.neurons if objective == "neurons" else self.parameters

    @property
    def max_path_weight(self) -> float | None:
        """max_kj |v_k w_kj| of the network (see :func:`max_path_weight`)."""
        return max_path_weight(self.network)

    @classmethod
    def of_polish(cls, polish: Polish) -> Outcome:
        """The outcome of an exact LP polish (sparsest.training.extract.polish): its re-check, or a
        non-interpolating outcome without counts when the LP was infeasible."""
        check = polish.check
        if check is None:
            return cls(False, None, None, None)
        return cls(bool(check.interpolates), check.neurons, check.parameters, polish.network)

    def to_json(self) -> dict:
        return {"interpolates": self.interpolates, "neurons": self.neurons, "parameters": self.parameters,
                "network": None if self.network is None else self.network.to_json()}


@dataclass(frozen=True, eq=False)
class RunRecord:
    """One run of the sweep: (method, p, seed) on ``instance``.

    trained : the merged network the training left (convex methods: the solver's network);
    polished : the exact LP on its support, None when the run was not polished;
    max_abs_residual : of the trained network (None without one); seconds : the whole run;
    polish_seconds : of the polish LPs alone (None: not measured);
    neurons_raw, parameters_raw, fit, steps, stopped : the trainer's (None where the method has none;
        ``fit`` is "error" for a failed task);
    history : the trainer's rows (step, lambda, mse, max_abs_residual, neurons_raw, neurons), empty
        for the convex methods and failed tasks;
    error : the one-line message of a task that raised (its outcome then does not interpolate);
    hit, hit_polished : whether that stage interpolates at the certified optimum's count (None: no
        proven optimum or no such stage), set by ``compare.judge``;
    result : the trainer's TrainResult or the convex solver's ConvexResult (None for a failed task
        or a record built by hand): the source of :meth:`to_json`.
    """

    instance: str
    method: str
    p: float | None
    seed: int | None
    trained: Outcome
    polished: Outcome | None = None
    max_abs_residual: float | None = None
    seconds: float = 0.0
    polish_seconds: float | None = None
    neurons_raw: int | None = None
    parameters_raw: int | None = None
    fit: str | None = None
    steps: int | None = None
    stopped: str | None = None
    history: tuple[dict, ...] = ()
    error: str | None = None
    hit: bool | None = None
    hit_polished: bool | None = None
    result: TrainResult | ConvexResult | None = field(default=None, repr=False)

    @classmethod
    def of_training(cls, result: TrainResult, p: float | None) -> RunRecord:
        """The record of an LpTrainer run; ``p`` is the sweep's (None for a method without p: the
        trainer reports its own default p even when its method ignores it)."""
        return cls(
            instance=result.instance, method=result.method, p=p, seed=result.seed,
            trained=Outcome(bool(result.interpolates), result.neurons, result.parameters, result.network),
            polished=None if result.polished is None else Outcome.of_polish(result.polished),
            max_abs_residual=result.max_abs_residual, seconds=result.seconds,
            polish_seconds=result.polish_seconds, neurons_raw=result.neurons_raw,
            parameters_raw=result.parameters_raw, fit=result.fit, steps=result.steps, stopped=result.stopped,
            history=tuple(result.history), result=result)

    @classmethod
    def of_convex(cls, result: ConvexResult, instance: str, p: float | None, seed: int | None) -> RunRecord:
        """The record of a convex solve on the block dictionary (never polished: it is already exact)."""
        check = result.check
        trained = Outcome(bool(check and check.interpolates), None if check is None else check.neurons,
                          None if check is None else check.parameters, result.network)
        return cls(instance=instance, method=result.method, p=p, seed=seed, trained=trained,
                   max_abs_residual=None if check is None else check.max_abs_residual,
                   seconds=result.seconds, stopped=result.stopped, result=result)

    @classmethod
    def failed(cls, instance: str, method: str, p: float | None, seed: int | None, error: str,
               seconds: float) -> RunRecord:
        """A task that raised ``error``: no network, does not interpolate (a failure, docs/math.md §5)."""
        return cls(instance=instance, method=method, p=p, seed=seed, trained=Outcome(False, None, None),
                   seconds=seconds, fit="error", error=error)

    def to_json(self) -> dict:
        """The run's object in results.json: the trainer's (``train --json``) or convex solver's
        object with the sweep's ``p`` (and, for the convex methods, ``seed``); for a record without
        a result, its own fields; then ``hit`` and ``hit_polished``."""
        if self.result is not None and self.method in CONVEX_METHODS:
            out = self.result.to_json(self.instance)
            out["p"], out["seed"] = self.p, self.seed
        elif self.result is not None:
            out = self.result.to_json()
            out["p"] = self.p
        else:
            out = {"instance": self.instance, "method": self.method, "p": self.p, "seed": self.seed,
                   "error": self.error, "interpolates": self.trained.interpolates, "fit": self.fit,
                   "neurons": self.trained.neurons, "parameters": self.trained.parameters,
                   "max_abs_residual": self.max_abs_residual, "seconds": self.seconds,
                   "polished": None if self.polished is None else self.polished.to_json(),
                   "network": None if self.trained.network is None else self.trained.network.to_json(),
                   "history": [dict(row) for row in self.history]}
        out["hit"], out["hit_polished"] = self.hit, self.hit_polished
        return out


@dataclass(frozen=True, eq=False)
class ExactRecord:
    """The certificate of one instance, as the comparison reads it.

    objective : "neurons" or "parameters"; status : the certificate's ("optimal", "time_limit",
    "infeasible", "unverified") or "error"; lower_bound, upper_bound : on the objective;
    neurons, parameters, network : the certified network and its §2 counts (None without one);
    box : the box R it assumed (None: none); method : the certifier's method ("certify" for an
    error); seconds : its time, to the millisecond as ``certify --json`` states it;
    assumptions : the bound behind it; error : the one-line message of a certifier that raised;
    certificate : the :class:`sparsest.exact.certify.Certificate` (None for an error or a record
    built by hand), the source of :meth:`to_json`.
    """

    instance: str
    objective: str
    status: str
    lower_bound: int | None = None
    upper_bound: int | None = None
    neurons: int | None = None
    parameters: int | None = None
    network: Network | None = None
    box: float | None = None
    method: str = "certify"
    seconds: float = 0.0
    assumptions: dict | None = None
    error: str | None = None
    certificate: Certificate | None = field(default=None, repr=False)

    def count(self, objective: str) -> int | None:
        """The certified network's count that ``objective`` names ("neurons" or "parameters")."""
        return self.neurons if objective == "neurons" else self.parameters

    @classmethod
    def of_certificate(cls, certificate: Certificate) -> ExactRecord:
        return cls(
            instance=certificate.instance, objective=certificate.objective, status=certificate.status,
            lower_bound=certificate.lower_bound, upper_bound=certificate.upper_bound,
            neurons=certificate.neurons, parameters=certificate.parameters, network=certificate.network,
            box=certificate.box, method=certificate.method, seconds=round(certificate.seconds, 3),
            assumptions=certificate.assumptions, certificate=certificate)

    @classmethod
    def failed(cls, instance: str, objective: str, box: float | None, error: str, seconds: float) -> ExactRecord:
        """A certifier that raised ``error``: status "error", no bound."""
        return cls(instance=instance, objective=objective, status="error", box=box, seconds=seconds, error=error)

    def to_json(self) -> dict:
        """The ``certify --json`` object; for a record without a certificate, its own fields."""
        if self.certificate is not None:
            return self.certificate.to_json()
        return {"instance": self.instance, "objective": self.objective, "status": self.status, "error": self.error,
                "lower_bound": self.lower_bound, "upper_bound": self.upper_bound, "neurons": self.neurons,
                "parameters": self.parameters,
                "network": None if self.network is None else self.network.to_json(),
                "box": self.box, "seconds": self.seconds, "method": self.method}
