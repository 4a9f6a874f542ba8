"""Start joblib's worker processes in the background while this process works alone.

A loky worker pool is started on first use and then reused by every later joblib call with the
same ``n_jobs``. Starting it (processes, imports of numpy, HiGHS and this package) costs about
half a second of the 2-core machine, which the first parallel stage of a certify call would
otherwise wait for. :func:`start_workers` starts the pool from a thread, so that the serial
stages before it (the first incumbent, the quick search pass) run meanwhile; the caller
:meth:`~threading.Thread.join` s the thread before its first joblib call, so that no two joblib
calls ever run at once.
"""

from __future__ import annotations

import threading


def start_workers(jobs: int) -> threading.Thread | None:
    """Start the loky pool of ``jobs`` workers (joblib's n_jobs) from a thread; the thread, or
    None when there is nothing to start (``jobs`` == 1, or an active backend other than loky,
    whose workers are not a reusable pool of this machine)."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if jobs == 1 or type(backend).__name__ != "LokyBackend":
        return None
    thread = threading.Thread(target=_spawn, args=(jobs,), name="sparsest-warmup", daemon=True)
    thread.start()
    return thread


def _spawn(jobs: int) -> None:
    from joblib import Parallel, delayed, effective_n_jobs

    Parallel(n_jobs=jobs)(delayed(_ready)() for _ in range(effective_n_jobs(jobs)))


def _ready() -> None:
    """In a worker: import what its tasks will need."""
    import sparsest.exact.exhaustive  # noqa: F401  (and with it numpy, highspy, the dictionary)
    import sparsest.exact.probe  # noqa: F401
