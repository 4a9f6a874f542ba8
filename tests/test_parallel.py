"""The proof in parallel (issue 11 item 3): the split search of each size cut into root-branch
slices run by joblib workers meets the same supports in the same order, so the certificate is the
serial one; the same code runs on a dask.distributed cluster through joblib's backend."""

import joblib
import numpy as np
import pytest

from sparsest.exact.dictionary import BlockDictionary
from sparsest.exact.exhaustive import search_exhaustive
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
