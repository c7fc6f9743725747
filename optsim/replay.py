"""Feed a given gradient sequence through an optimizer: :func:`replay`."""

from __future__ import annotations

import numpy as np

from ._components import ParameterError, ParameterTypeError
from ._roles import Optimizer, Schedule
from .problems.replay import Replay

__all__ = ["replay"]


def replay(optimizer, grads, x0=None, schedule=None, *, losses=None, record=("params",)):
    """The parameter trajectory an optimizer produces from a fixed gradient sequence.

    The gradients are replayed open loop: update ``k`` (0-based) receives ``grads[k]``
    whatever the parameters are, as when the gradients recorded from a real training run
    are fed to another update rule, or when a torch optimizer is stepped with ``p.grad``
    set by hand.  This runs one trajectory per sequence of the
    :class:`~optsim.problems.replay.Replay` problem through the ordinary engine; use that
    problem with :func:`optsim.sweep` to replay the same gradients over a grid of
    hyperparameters.

    Parameters
    ----------
    optimizer : Optimizer
        The update rule (with its hyperparameters).
    grads : array, shape (T, d) or (R, T, d)
        The gradient sequence, or R sequences replayed independently.
    x0 : array of d numbers, optional
        The starting point (default zeros).
    schedule : Schedule, optional
        Learning-rate schedule (default constant).
    losses : array, shape (T,) or (R, T), optional
        The loss observed at each update, seen by loss-monitoring schedules
        (:class:`~optsim.schedules.ReduceOnPlateau`); default zeros.
    record : sequence of str
        Quantities to return; ``("params",)`` (default) returns the array below, anything
        else the whole :class:`xarray.Dataset` of :func:`optsim.sweep` (dimensions
        ``sequence``, ``replicate``, ``step``, ...).

    Returns
    -------
    numpy.ndarray
        The parameters before the first and after every update: shape (T + 1, d) for a
        (T, d) ``grads``, (R, T + 1, d) for a (R, T, d) one.  Row ``k + 1`` is the
        result of update ``k``.
    """
    from .sweep import sweep

    if not isinstance(optimizer, Optimizer):
        raise ParameterError(f"replay: optimizer must be an optsim optimizer, got {optimizer!r}")
    if schedule is not None and not isinstance(schedule, Schedule):
        raise ParameterError(f"replay: schedule must be an optsim schedule, got {schedule!r}")
    try:
        g = np.asarray(grads)
    except (TypeError, ValueError):
        raise ParameterError("replay: grads must be an array of shape (T, d) or (R, T, d), got a ragged sequence") from None
    if g.dtype.kind == "O":
        try:
            g = g.astype(float)
        except (TypeError, ValueError, OverflowError):
            pass
    if g.dtype.kind not in "iuf":
        hint = " (complex: pass the real part explicitly if that is meant)" if g.dtype.kind == "c" else ""
        raise ParameterTypeError(f"replay: grads must hold real numbers, got dtype {g.dtype}{hint}")
    g = g.astype(float)
    if g.ndim not in (2, 3) or 0 in g.shape:
        raise ParameterError(f"replay: grads must have shape (T, d) or (R, T, d), got {g.shape}")
    batched = g.ndim == 3
    if isinstance(record, str):
        record = (record,)
    problem = Replay(grads=g, x0=x0, losses=losses)
    R, T = problem.sequences, problem.n_updates()
    ds = sweep(
        problem,
        optimizer,
        schedule=schedule,
        grid={"sequence": list(range(R))},
        steps=T,
        record_every=1,
        record=tuple(record),
        diverge_factor=np.inf,
    )
    if tuple(record) != ("params",):
        return ds
    out = ds["params"].transpose("sequence", "replicate", "step", "param").values[:, 0]
    return np.ascontiguousarray(out if batched else out[0])
