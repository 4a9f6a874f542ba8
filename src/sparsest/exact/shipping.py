"""Hand one large, read-only object to joblib workers once per worker process, not once per task.

The exhaustive search sends its whole state (dictionary, pruner, split constraints: tens of MB on
3-D data) with every chunk of a level. Pickled into each task, that costs about 50 ms a task on
the 2-core machine, as much as a small level's work. A :class:`Shipment` on a local process backend
(loky, multiprocessing) is written once to a file (in /dev/shm when there is one) and its tasks
carry only the file's name and a token; each worker process reads it on first use and keeps the
latest one. Elsewhere (threads: the object itself; dask and other backends, whose workers may run
on other machines: pickled into each task, as before) nothing changes. Workers must treat the
object as read-only (copy what they change): a cached copy serves every later task of the token.

A shipment also carries a stop flag (a file beside it): :meth:`stop` raises it, and tasks on this
machine (processes or threads) see it through :meth:`stopped`, so that the tasks still running
can end early once a result has made them useless. Tasks on other machines do not see it.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import uuid

#: In a worker process: token -> the object of the latest shipment read there.
_RECEIVED: dict[str, object] = {}
#: joblib backends whose workers are processes of this machine.
_LOCAL_PROCESS_BACKENDS = ("LokyBackend", "MultiprocessingBackend")


class Shipment:
    """``obj`` for the tasks of one joblib run: pass the shipment, call :meth:`get` in the task,
    and :meth:`close` it once the run is over (it removes the file)."""

    def __init__(self, obj: object):
        self.token = uuid.uuid4().hex
        self._obj, self._path = obj, None
        directory = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self._stop_path = os.path.join(directory or tempfile.gettempdir(), f"sparsest-{self.token}.stop")
        if _local_processes():
            fd, self._path = tempfile.mkstemp(prefix="sparsest-", suffix=".pkl", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def __getstate__(self) -> dict:
        if self._path is None:
            return dict(self.__dict__)
        return {"token": self.token, "_obj": None, "_path": self._path, "_stop_path": self._stop_path}

    def stop(self) -> None:
        """Raise the stop flag (see :meth:`stopped`)."""
        with open(self._stop_path, "w"):
            pass

    def stopped(self) -> bool:
        """Whether :meth:`stop` was called (always False on a machine without the flag's file)."""
        return os.path.exists(self._stop_path)

    def get(self) -> object:
        """The object: here, itself; in a worker, read from the file once and then kept."""
        if self._obj is not None:
            return self._obj
        if self.token not in _RECEIVED:
            with open(self._path, "rb") as handle:
                obj = pickle.load(handle)
            _RECEIVED.clear()  # only the latest: an older shipment's tasks are over
            _RECEIVED[self.token] = obj
        return _RECEIVED[self.token]

    def close(self) -> None:
        """Remove the files (after the last task has read the shipment)."""
        for path in (self._path, self._stop_path):
            if path is not None:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        self._path = None


def _local_processes() -> bool:
    """Whether the active joblib backend runs its workers as processes of this machine."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return type(backend).__name__ in _LOCAL_PROCESS_BACKENDS
