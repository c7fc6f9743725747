"""Running a sweep's chunks as Dask tasks (``optsim.sweep(..., client=...)``).

The plan (hyperparameter rows, keys and components, no compiled kernels) is sent once to
every worker; each chunk is one task that runs :meth:`Plan.run_range` on one core (the
kernels release the GIL, so a worker with T threads runs T chunks at once).  Kernels are
compiled, or loaded from ``$OPTSIM_CACHE_DIR``, once per worker process.  Results come
back as tasks finish and are handed to the caller, which writes them to the chunk store.

Dask is an optional dependency: ``pip install "optsim[dask]"``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import uuid
import warnings

from ._components import OptsimError

__all__ = ["connect", "run_chunks", "total_threads", "default_client", "current_client"]

_DEFAULT = contextvars.ContextVar("optsim_default_client", default=None)


@contextlib.contextmanager
def default_client(client):
    """Run every ``optsim.sweep`` in the block on ``client`` (unless a sweep names its own).

    ``client`` is as for ``sweep(client=...)``; a ``"local:N"`` cluster is started once for
    the whole block and closed at its end.  Yields the ``Client``.
    """
    c, close = connect(client)
    token = _DEFAULT.set(c)
    try:
        yield c
    finally:
        _DEFAULT.reset(token)
        close()


def current_client():
    """The client set by :func:`default_client`, or None."""
    return _DEFAULT.get()


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise OptsimError(
            "client=... needs Dask distributed, which is not installed; "
            'install it with: pip install "optsim[dask]"  (or: pip install "dask[distributed]")'
        ) from None
    return distributed


#: seconds to wait for a scheduler at an address before giving up (one line, not a traceback)
CONNECT_TIMEOUT = 5


def connect(client):
    """(Client, close) for a Client, a scheduler address ("tcp://host:port") or "local:N".

    ``close()`` shuts down only what this function started.
    """
    distributed = _import_distributed()
    if isinstance(client, distributed.Client):
        return client, lambda: None
    if not isinstance(client, str):
        raise OptsimError(
            f"client must be a dask.distributed.Client, a scheduler address such as "
            f"'tcp://host:8786', or 'local:N', got {client!r}"
        )
    if client.startswith("local:"):
        try:
            n = int(client.split(":", 1)[1])
            if n < 1:
                raise ValueError
        except ValueError:
            raise OptsimError(f"client={client!r}: write local:N with N >= 1 worker processes") from None
        cores = os.cpu_count() or 1
        with warnings.catch_warnings():  # another cluster's HTTP port: it picks a free one
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=max(1, cores // n), processes=True,
                host="127.0.0.1", dashboard_address=None,
            )
        c = distributed.Client(cluster)

        def close():
            c.close()
            cluster.close()

        return c, close
    try:
        c = distributed.Client(client, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())
        raise OptsimError(f"client={client!r}: no Dask scheduler could be reached there within "
                          f"{CONNECT_TIMEOUT} s ({type(exc).__name__}: {reason})") from None
    return c, c.close


def total_threads(client):
    """Threads over all workers of the cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def _run_chunk(plan, gi, start, stop, reducer=None):
    """One task: trajectories start:stop of group gi, on one core of this worker (reduced over
    replicates on the worker when a reducer is given, so only the statistics travel)."""
    part = plan.run_range(gi, start, stop, threads=1)
    return part if reducer is None else reducer.reduce(gi, start, stop, part)


def run_chunks(client, plan, chunks, on_result, progress=False, retries=3, reducer=None):
    """Run ``chunks`` [(group, start, stop)] on the cluster; call ``on_result(gi, start, stop, part)``
    in the calling process as each finishes (in completion order).

    Tasks of a worker that dies are rerun elsewhere by the scheduler; a task that raises is
    retried ``retries`` times.  On KeyboardInterrupt the remaining tasks are cancelled.
    """
    distributed = _import_distributed()
    if not chunks:
        return
    plan_future = client.scatter(plan, broadcast=True, hash=False)
    reducer_future = None if reducer is None else client.scatter(reducer, broadcast=True, hash=False)
    tag = uuid.uuid4().hex[:8]
    futures = {}
    for gi, start, stop in chunks:
        f = client.submit(_run_chunk, plan_future, gi, start, stop, reducer_future, retries=retries, pure=False,
                          key=f"optsim-chunk-{tag}-{gi}-{start}-{stop}")
        futures[f.key] = (f, (gi, start, stop))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(chunks), unit="chunk", desc="chunks", smoothing=0.1)
    try:
        for f, part in distributed.as_completed([f for f, _ in futures.values()], with_results=True):
            gi, start, stop = futures.pop(f.key)[1]
            on_result(gi, start, stop, part)
            f.release()
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if futures:  # interrupted or failed: do not leave work running on the cluster
            client.cancel([f for f, _ in futures.values()])
        client.cancel([plan_future] + ([reducer_future] if reducer_future is not None else []))
