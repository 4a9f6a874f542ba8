"""The proof in parallel (issue 11 item 3): every size's work (cached tuples in row slices, the
split search in root-branch slices, each with its span test, sign test and LPs) run by joblib
workers meets the same supports in the same order, so the certificate is the serial one; the same
code runs on a dask.distributed cluster through joblib's backend. The network fits are cut into
fixed chunks of starts, so they are the serial fits too."""

import os
import time

import joblib
import numpy as np
import pytest

from sparsest.exact import exhaustive
from sparsest.exact.certify import certify
from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import search_exhaustive
from sparsest.exact.milp import default_box
from sparsest.exact.probe import fit_width
from sparsest.exact.shipping import Shipment
from sparsest.exact.warmup import start_workers
from sparsest.core.recheck import recheck
from sparsest.exact.splits import SplitConstraints
from sparsest.exact.exhaustive import SPAN_RTOL
from sparsest.errors import SparsestError
from sparsest.generators import planted_instance

pytestmark = pytest.mark.slow  # fuzzing / a dask cluster: in make test, not make test-fast


def _summary(result):
    """The certificate, and the work of every size searched in full (the last size stops at its
    first feasible support serially, after the whole size in parallel)."""
    return (result.status, result.lower_bound, result.upper_bound, result.blocks,
            [(level.tuples, level.span_pruned, level.lps) for level in result.levels[:-1]])


def test_slices_of_the_root_branches_partition_the_search():
    data = planted_instance(2, 9, 3, 500)
    dictionary = BlockDictionary(data)
    constraints = SplitConstraints(dictionary.patterns, data.X_tilde, data.y, SPAN_RTOL * data.y_scale)
    for m in (2, 3):
        whole = [(prefix, list(last)) for prefix, last in constraints.groups(m, float("inf"))]
        n = constraints.root_branches(m)
        edges = [0, n // 3, n // 2, n]
        pieces = [(prefix, list(last)) for a, b in zip(edges, edges[1:])
                  for prefix, last in constraints.groups(m, float("inf"), (a, b))]
        assert pieces == whole, m


@pytest.mark.parametrize("case, objectives", [((2, 12, 3, 501), ("neurons", "parameters")),
                                              ((3, 9, 3, 502), ("neurons",))])
def test_two_workers_give_the_serial_certificate(case, objectives):
    dictionary = BlockDictionary(planted_instance(*case))
    for objective in objectives:
        serial = search_exhaustive(dictionary, objective=objective, time_limit=120)
        parallel = search_exhaustive(dictionary, objective=objective, time_limit=120, jobs=2)
        assert serial.status == "optimal" and _summary(parallel) == _summary(serial), (case, objective)
        assert np.allclose(parallel.network(dictionary.dataset.X), serial.network(dictionary.dataset.X))


def test_the_same_code_runs_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    dictionary = BlockDictionary(planted_instance(2, 12, 3, 501))
    serial = search_exhaustive(dictionary, time_limit=120)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            on_dask = search_exhaustive(dictionary, time_limit=120, jobs=2)
    assert _summary(on_dask) == _summary(serial)


def test_bad_jobs_are_refused():
    dictionary = BlockDictionary(planted_instance(2, 6, 2, 503))
    for jobs in (0, -2, 1.5, True):
        with pytest.raises(SparsestError, match="jobs"):
            search_exhaustive(dictionary, jobs=jobs)


def _same_work(serial, parallel):
    """The LPs of every size are the serial ones (the last size: up to its first feasible support),
    and the tuples met and span-pruned at every size searched in full."""
    assert [level.lps for level in parallel.levels] == [level.lps for level in serial.levels]
    assert [(level.tuples, level.span_pruned) for level in parallel.levels[:-1]] == \
        [(level.tuples, level.span_pruned) for level in serial.levels[:-1]]


@pytest.mark.parametrize("case", [(2, 12, 3, 601), (2, 15, 3, 602), (3, 10, 3, 603), (2, 10, 2, 604)])
def test_every_chunk_in_order_gives_the_serial_support(case, monkeypatch):
    """Cached tuples cut into many small row slices (PARALLEL_MIN_ROWS = 1): the size that finds a
    feasible support reads the chunks in order and keeps the serial support, network and LP count."""
    monkeypatch.setattr(exhaustive, "PARALLEL_MIN_ROWS", 1)
    dictionary = BlockDictionary(planted_instance(*case))
    serial = search_exhaustive(dictionary, time_limit=120, probe=False)
    parallel = search_exhaustive(dictionary, time_limit=120, jobs=2, probe=False)
    assert serial.status == "optimal" and serial.found_by == "enumeration"
    assert _summary(parallel)[:4] == _summary(serial)[:4], case
    _same_work(serial, parallel)
    assert np.array_equal(parallel.network(dictionary.dataset.X), serial.network(dictionary.dataset.X))


@pytest.mark.parametrize("case", [(2, 8, 2, 612), (2, 10, 2, 614)])
def test_parameters_in_parallel_give_the_serial_certificate(case):
    dictionary = BlockDictionary(planted_instance(*case))
    box = default_box(dictionary.dataset)
    serial = search_exhaustive(dictionary, objective="parameters", box=box, time_limit=120)
    parallel = search_exhaustive(dictionary, objective="parameters", box=box, time_limit=120, jobs=2)
    assert serial.status == "optimal"
    assert _summary(parallel)[:4] == _summary(serial)[:4], case
    assert np.array_equal(parallel.network(dictionary.dataset.X), serial.network(dictionary.dataset.X))


@pytest.mark.parametrize("objective, case", [("neurons", (2, 12, 3, 621)), ("neurons", (3, 10, 3, 622)),
                                             ("parameters", (2, 12, 3, 501))])
def test_certify_with_two_jobs_is_the_serial_certificate(objective, case):
    """The whole of certify (first incumbent, fits, search, MILP when needed): same status and
    bounds, and a network of the same size. (Under a time limit the serial search's probe takes
    turns with its enumeration by the clock, so the two may meet different optimal supports, or
    the same one fitted from another LP state.)"""
    data = planted_instance(*case)
    serial = certify(data, objective=objective, time_limit=60)
    parallel = certify(data, objective=objective, time_limit=60, jobs=2)
    assert serial.status == "optimal"
    assert (parallel.status, parallel.lower_bound, parallel.upper_bound, parallel.method) == \
        (serial.status, serial.lower_bound, serial.upper_bound, serial.method)
    assert (parallel.neurons, parallel.parameters, parallel.recheck.interpolates) == \
        (serial.neurons, serial.parameters, True)


def test_an_undecided_lp_stops_the_bound_as_serially(monkeypatch):
    """Some supports' LPs (a fixed rule on the blocks, not on the order) are reported undecided;
    threads share the patch. The lower bound stops at the first size with one, as serially."""
    real = exhaustive._FeasibilityLP.feasible

    def doubtful(self, blocks, mask):
        if len(blocks) == 2 and sum(blocks) % 3 == 0:
            return "undecided"
        return real(self, blocks, mask)

    monkeypatch.setattr(exhaustive._FeasibilityLP, "feasible", doubtful)
    monkeypatch.setattr(exhaustive, "PARALLEL_MIN_ROWS", 1)
    dictionary = BlockDictionary(planted_instance(3, 10, 3, 603))  # 46 LPs at size 2, optimum 3
    serial = search_exhaustive(dictionary, time_limit=120)
    with joblib.parallel_backend("threading"):
        parallel = search_exhaustive(dictionary, time_limit=120, jobs=2)
    assert serial.status == "undecided" and serial.lower_bound == 2 and serial.upper_bound == 3
    assert _summary(parallel)[:4] == _summary(serial)[:4]
    _same_work(serial, parallel)


def test_a_parallel_search_stopped_by_its_time_limit_states_only_proven_bounds():
    """A 3-D size whose split search meets millions of class sets (see test_exhaustive): the
    workers read the clock and stop; the bound is one of the serial search's proven sizes."""
    dictionary = BlockDictionary(planted_instance(3, 15, 4, 8102))
    box = default_box(dictionary.dataset)
    result = search_exhaustive(dictionary, box=box, time_limit=3.0, probe=False, jobs=2)
    assert result.status == "time_limit" and result.network is None
    assert result.lower_bound <= 4
    assert [level.size for level in result.levels] == list(range(len(result.levels)))
    # parameters: many small LPs per chunk, each chunk handed out with the time then left
    # (2-D N = 9 width 2 is now proven within 3 s: the column-set test rules its sizes out whole)
    dictionary = BlockDictionary(planted_instance(2, 12, 3, 613))
    result = search_exhaustive(dictionary, objective="parameters", box=default_box(dictionary.dataset),
                               time_limit=3.0, jobs=2)
    assert result.status == "time_limit" and result.network is None
    assert result.lower_bound <= 3 * 2  # the planted network: 3 neurons with 2 path weights each


def test_fits_in_chunks_on_workers_are_the_serial_fits():
    data = planted_instance(2, 15, 3, 631)
    affine = BlockDictionary(data).affine_design()
    serial = fit_width(data.X_tilde, data.y, affine, 3, 300, 20, np.random.default_rng(7))
    parallel = fit_width(data.X_tilde, data.y, affine, 3, 300, 20, np.random.default_rng(7), jobs=2)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a, b)


def _read(shipment):
    return shipment.get(), os.getpid()


def test_a_shipment_is_read_by_the_workers_and_removed():
    payload = {"rows": np.arange(10)}
    shipment = Shipment(payload)
    try:
        results = joblib.Parallel(n_jobs=2)(joblib.delayed(_read)(shipment) for _ in range(4))
    finally:
        shipment.close()
    assert all(np.array_equal(got["rows"], payload["rows"]) for got, _ in results)
    assert any(pid != os.getpid() for _, pid in results)
    assert shipment._path is None


@pytest.mark.parametrize("case", [(2, 12, 4, 3), (2, 20, 5, 13), (3, 9, 3, 502)])
def test_interleaved_workers_give_the_serial_bounds(case):
    """With interleave each chunk probes on its worker and the first support found in any chunk
    ends the size (the others are told to stop): the bounds are still the plain serial search's."""
    dictionary = BlockDictionary(planted_instance(*case))
    serial = search_exhaustive(dictionary, time_limit=120)
    parallel = search_exhaustive(dictionary, time_limit=120, jobs=2, interleave=True)
    assert serial.status == "optimal"
    assert (parallel.status, parallel.lower_bound, parallel.upper_bound) == ("optimal", serial.lower_bound,
                                                                             serial.upper_bound), case
    check = recheck(parallel.network, dictionary.dataset)
    assert check.interpolates and check.neurons == serial.upper_bound


def _stopped_after(shipment, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if shipment.stopped():
            return True
        time.sleep(0.01)
    return False


def test_a_shipment_stop_flag_reaches_running_workers():
    shipment = Shipment({"rows": np.arange(3)})
    try:
        assert not shipment.stopped()
        results = joblib.Parallel(n_jobs=2, return_as="generator")(
            joblib.delayed(_stopped_after)(shipment, 30) for _ in range(2))
        shipment.stop()
        assert list(results) == [True, True]
    finally:
        shipment.close()
    assert not shipment.stopped()


def test_the_worker_pool_warmed_up_in_the_background_is_the_one_joblib_uses():
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True, kill_workers=True)  # fresh workers, none of this package loaded
    assert start_workers(1) is None
    with joblib.parallel_config(backend="threading"):
        assert start_workers(2) is None  # not a pool of processes to start
    thread = start_workers(2)
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    # (a lambda travels by value: loading it imports nothing in the worker)
    loaded = lambda: (__import__("os").getpid(),  # noqa: E731
                      {"sparsest.exact.exhaustive", "sparsest.exact.probe"} <= set(__import__("sys").modules))
    results = joblib.Parallel(n_jobs=2)(joblib.delayed(loaded)() for _ in range(8))
    assert all(pid != os.getpid() and loaded for pid, loaded in results)
