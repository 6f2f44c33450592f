"""Run one function over the y-slabs of a tilt series: threads or a dask.distributed cluster.

``run_slabs(task, sources, bounds, ...)`` calls ``task(y0, y1, *slabs)`` for every slab
``[y0, y1)``, where each ``slab`` is rows ``y0:y1`` of one source (a numpy array or a dask
array, the tilt series' ``(angle, y, x)``), and hands each result to ``sink(y0, y1,
result)`` in the calling thread as soon as it is done (in any order). At most
``workers + 1`` slabs are in flight, so memory stays at one slab's working set per
worker plus the results waiting for the sink.

* Threads (default): a thread pool of ``workers`` threads (1 by default: the numba
  kernels already use every core inside a slab). A dask source is computed slab by slab
  with dask's synchronous scheduler inside the worker thread.
* A ``dask.distributed`` scheduler address (``"tcp://host:8786"``) or ``Client``: each
  slab is a task on the cluster. numpy slabs are sent with the task (only that slab);
  dask slabs are read on the worker (the lazy readers of :mod:`napari_atomtomo.io.lazy`
  pickle as a file name and a row range, not as data).
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass

import numpy as np

__all__ = ["run_slabs", "slab_bounds", "Scheduler", "open_scheduler", "Whole"]


def slab_bounds(n_y: int, height: int) -> list[tuple[int, int]]:
    """``[(y0, y1), ...]`` covering ``range(n_y)`` with slabs of ``height`` rows."""
    if int(height) != height or height < 1:
        raise ValueError(f"chunks (slab height) must be a whole number of rows ≥ 1, got {height!r}")
    return [(y0, min(y0 + int(height), n_y)) for y0 in range(0, n_y, int(height))]


def _rows(source, y0: int, y1: int) -> np.ndarray:
    """Rows ``y0:y1`` of an ``(angle, y, x)`` source (an array, a dask array or one boxed
    in :class:`_Lazy`) as a float32 numpy array.
    """
    if isinstance(source, _Lazy):
        source = source.array
    part = source[:, y0:y1, :]
    if hasattr(part, "compute"):
        part = part.compute(scheduler="sync")
    return np.ascontiguousarray(part, dtype=np.float32)


class _Lazy:
    """A dask source in a plain box, so that a cluster pickles it instead of computing it."""

    def __init__(self, array):
        self.array = array


class Whole:
    """A source handed to every task whole (the task reads the rows it needs, e.g. a slab
    widened by a halo); a numpy one is sent to a cluster once, not once per slab.
    """

    def __init__(self, array):
        self.array = array


_WHOLE = "__atomtomo_whole__"


def _call(task, y0, y1, sources):
    """``task(y0, y1, *rows)``; numpy sources already cut to the slab pass through."""
    slabs = []
    for s in sources:
        if isinstance(s, tuple) and len(s) == 2 and s[0] == _WHOLE:
            slabs.append(s[1])
            continue
        if isinstance(s, _Lazy):
            s = s.array
        if isinstance(s, np.ndarray) and s.shape[1] == y1 - y0:
            slabs.append(s)
        else:
            slabs.append(_rows(s, y0, y1))
    return task(y0, y1, *slabs)


@dataclass
class Scheduler:
    """Where slabs run: ``kind`` is ``"threads"`` or ``"distributed"`` (``address``)."""

    kind: str
    workers: int
    client: object = None
    address: str | None = None
    owned: bool = False

    def describe(self) -> str:
        if self.kind == "threads":
            return f"threads ({self.workers} slab{'s' if self.workers > 1 else ''} at a time)"
        return f"dask.distributed at {self.address} ({self.workers} workers)"

    def close(self) -> None:
        if self.owned and self.client is not None:
            self.client.close()


def open_scheduler(scheduler=None, workers: int | None = None) -> Scheduler:
    """A :class:`Scheduler` from ``None`` (threads), an address string or a ``Client``."""
    if scheduler is None:
        n = 1 if workers is None else int(workers)
        if n < 1:
            raise ValueError(f"workers must be ≥ 1, got {workers!r}")
        return Scheduler("threads", n)
    from distributed import Client

    if isinstance(scheduler, Client):
        client, owned = scheduler, False
    elif isinstance(scheduler, str):
        try:
            client, owned = Client(scheduler, timeout="20s"), True
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot connect to the dask scheduler at {scheduler} "
                             f"({type(exc).__name__}: {exc})") from None
    else:
        raise ValueError(f"scheduler must be an address such as tcp://host:8786 or a "
                         f"dask.distributed Client, got {type(scheduler).__name__}")
    try:
        n = len(client.scheduler_info(n_workers=-1)["workers"]) or 1
    except BaseException:
        if owned:  # never leave a connection we opened behind
            client.close()
        raise
    return Scheduler("distributed", n, client, client.scheduler.address, owned)


def run_slabs(task, sources, bounds, sink, *, scheduler: Scheduler,
              progress=None) -> None:
    """Run ``task`` over ``bounds`` and feed ``sink``; ``progress(done, total)`` after each.

    ``task`` must be a module-level function (it is pickled for a cluster). The first
    error cancels the slabs not yet started and is raised here.
    """
    total = len(bounds)
    todo = list(bounds)
    done = 0
    limit = scheduler.workers + 1
    if scheduler.kind == "threads":
        with cf.ThreadPoolExecutor(scheduler.workers, thread_name_prefix="atomtomo-slab") as ex:
            running = {}
            try:
                while todo or running:
                    while todo and len(running) < limit:
                        y0, y1 = todo.pop(0)
                        args = [(_WHOLE, s.array) if isinstance(s, Whole) else
                                s if not isinstance(s, np.ndarray) else s[:, y0:y1, :]
                                for s in sources]
                        running[ex.submit(_call, task, y0, y1, args)] = (y0, y1)
                    finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                    for fut in finished:
                        y0, y1 = running.pop(fut)
                        sink(y0, y1, fut.result())
                        done += 1
                        if progress is not None:
                            progress(done, total)
            finally:
                for fut in running:
                    fut.cancel()
        return
    from distributed import as_completed

    client = scheduler.client
    whole = {}  # unique keys (hash=False): a second run on the same array must not race the
    for i, s in enumerate(sources):  # release of the first run's copy
        if isinstance(s, Whole):
            a = s.array
            whole[i] = (_WHOLE, client.scatter(a, broadcast=True, hash=False) if isinstance(a, np.ndarray)
                        else _Lazy(a))

    def submit(y0, y1):
        args = []
        for i, s in enumerate(sources):
            if i in whole:
                args.append(whole[i])
            elif isinstance(s, np.ndarray):  # send this slab only, never the whole array
                args.append(np.ascontiguousarray(s[:, y0:y1, :], dtype=np.float32))
            else:
                args.append(_Lazy(s))
        return client.submit(_call, task, y0, y1, args, pure=False)

    first = [todo.pop(0) for _ in range(min(limit, len(todo)))]
    futures = {submit(*b): b for b in first}
    seq = as_completed(list(futures))
    try:
        for fut in seq:
            y0, y1 = futures.pop(fut)
            result = fut.result()
            fut.release()
            sink(y0, y1, result)
            done += 1
            if progress is not None:
                progress(done, total)
            if todo:
                b = todo.pop(0)
                new = submit(*b)
                futures[new] = b
                seq.add(new)
    finally:
        for fut in futures:
            fut.cancel()
