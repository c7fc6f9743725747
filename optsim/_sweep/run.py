"""Running a plan: in one call, or in chunks kept in a store and run locally or on Dask; the memory guard."""

from __future__ import annotations

from .._budget import MemoryLimitError, _available_memory, _gib  # noqa: F401 - re-exported

__all__ = ["MemoryLimitError", "run_chunked", "run_plan", "check_memory"]


def run_chunked(plan, store=None, client=None, threads=None, chunk_size=None, progress=False, reducer=None):
    """Run the chunks of ``plan`` not yet in ``store``, locally or on a Dask ``client``.

    Finished chunks are written to ``store`` as they complete; returns the flat outputs
    (with a ``reducer``: chunks of whole cells, reduced over replicates as they finish, and
    the per-cell statistics).
    """
    from ..store import SweepInterrupted, auto_chunk_size, missing_chunks

    target = plan if reducer is None else reducer
    fit = (lambda n: n) if reducer is None else reducer.chunk_size
    out = target.allocate()
    done = store.load_into(target, out) if store is not None else []

    def keep(gi, start, stop, part):
        if store is not None:
            store.write(gi, start, stop, part)
        target.scatter(out, gi, start, stop, part)

    n_done = sum(stop - start for _, start, stop in done)
    try:
        if client is None:
            todo = missing_chunks(plan, done, fit(chunk_size or auto_chunk_size(plan)))
            plan.run(progress=progress, on_chunk=store.write if store is not None else None,
                     threads=threads, ranges=todo, out=out, done=n_done, reducer=reducer)
        else:
            from .. import distributed as dist

            c, close = dist.connect(client)
            try:
                size = chunk_size
                if size is None:
                    spread = -(-plan.n_traj // (4 * dist.total_threads(c)))  # keep every core busy
                    size = max(1, min(auto_chunk_size(plan), spread))
                todo = missing_chunks(plan, done, fit(size))
                dist.run_chunks(c, plan, todo, keep, progress=progress, reducer=reducer)
            finally:
                close()
    except KeyboardInterrupt:
        if store is None:
            raise
        saved = len(store.finished())
        raise SweepInterrupted(
            f"interrupted; {saved} finished chunks are kept in {store.path}. Run the same sweep "
            f"again with resume=True (optsim sweep ... --out-dir {store.path} --resume) to compute "
            f"only the rest."
        ) from None
    return out


def run_plan(plan, threads=None, chunk_size=None, progress=False):
    """Run every trajectory of ``plan`` on ``threads`` cores (default: numba's thread count)."""
    return plan.run(chunk_size=chunk_size, progress=progress, threads=threads)


def check_memory(plan, max_memory=None, reducer=None, chunk_size=None):
    """Refuse, before allocating, a sweep whose results would not fit in memory.

    With a ``reducer`` the need is the per-cell statistics plus one chunk of raw outputs
    per running chunk.  The error proposes the ways out, with their sizes.
    """
    from ..reduce import Reducer
    from ..store import auto_chunk_size

    def chunk_bytes(red):
        size = red.chunk_size(chunk_size or auto_chunk_size(plan))
        return 2 * plan.output_bytes(min(size, plan.n_traj))  # the raw chunk and its reduction

    if reducer is None:
        need = plan.output_bytes() + plan.input_bytes()
    else:
        need = reducer.output_bytes() + chunk_bytes(reducer) + plan.input_bytes()
    limit = max_memory
    if limit is None:
        avail = _available_memory()
        limit = None if avail is None else int(0.8 * avail)
    if limit is not None and need > limit:
        R = plan.rec_steps.shape[0]
        what = (f"({plan.n_traj} trajectories x {R} recorded steps x {len(plan.record)} recorded "
                f"quantities, dimension {plan.dim})")
        if reducer is not None:
            raise MemoryLimitError(
                f"even reduced over replicates this sweep needs about {_gib(need)} {what}, more than "
                f"the {_gib(limit)} allowed. Record less often (a larger record_every, or "
                f"record_steps=[...]), fewer quantities, fewer statistics, or a smaller chunk_size."
            )
        proposals = []
        for stats in (("mean", "quantiles"), ("mean",)):
            red = Reducer(plan, plan.replicates, stats)
            proposals.append((stats, red.output_bytes() + chunk_bytes(red) + plan.input_bytes()))
        offer = "; ".join(f"reduce={tuple(st)!r} needs about {_gib(b)}" for st, b in proposals)
        raise MemoryLimitError(
            f"this sweep needs about {_gib(need)} for its results {what}, more than the "
            f"{_gib(limit)} allowed. Ways out: reduce over replicates on the fly and keep only "
            f"statistics ({offer}); record less often (a larger record_every, or "
            f"record_steps=[...]); record fewer quantities (record=('loss',)); keep only the "
            f"summaries (record=(), with thresholds=[...] for steps-to-threshold); or split the "
            f"grid into several sweeps, each with its own out_dir=... (finished chunks stream to "
            f"disk there and the sweep can be resumed; only its assembled result must fit)."
        )
    return need
