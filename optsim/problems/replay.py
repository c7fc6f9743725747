"""Replay a recorded gradient sequence: an open-loop "problem" whose gradient at update
``t`` is the ``t``-th stored gradient, whatever the parameters are."""

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Problem

__all__ = ["Replay"]


REPLAY_PARAMS = (
    Param("grads", ((0.0,),), "gradient sequence(s): (T, d), or (R, T, d) stacked as (R*T, d)",
          kind="array", dynamic=False),
    Param("sequences", 1, "number R of stacked sequences in grads", kind="int", low=1, dynamic=False),
    Param("losses", None, "observed loss per update, (T,) or (R, T) (default 0)", kind="array",
          dynamic=False, none_ok=True),
    Param("x0", None, "starting point (default zeros)", kind="array", dynamic=False, none_ok=True),
    Param("sequence", 0, "which of the R sequences this trajectory replays", kind="int", low=0),
)
REPLAY_PP = param_layout(REPLAY_PARAMS)


@njit(cache=True)
def replay_value_and_grad(x, g, t, pp, data, rng):
    G = data[0]
    L = data[1]
    s = int(pp[REPLAY_PP.sequence])
    if t < G.shape[1]:
        for i in range(x.shape[0]):
            g[i] = G[s, t, i]
        return L[s, t]
    for i in range(x.shape[0]):
        g[i] = 0.0
    return 0.0


@njit(cache=True)
def replay_objective(x, pp, data):
    return 0.0


class Replay(Problem):
    r"""Feed a fixed gradient sequence to the optimizer (open loop).

    The gradient observed at update :math:`k` (0-based: the :math:`k`-th call, so the
    first update sees ``grads[0]``) is ``grads[k]``, independent of the parameters; past
    the end of the sequence it is zero.  ``grads`` is a (T, d) array or a batch of
    sequences (R, T, d); the dynamic parameter ``sequence`` picks the one a trajectory
    replays, so a sweep over ``grid={"sequence": range(R)}`` (optionally times a grid over
    ``lr`` or any other hyperparameter) replays them all.  Noise models still apply on
    top of the replayed gradients.

    There is no objective: the recorded ``loss`` is 0.  ``losses`` (shape (T,) or (R, T),
    default zeros) is the loss *observed* at each update, the value a loss-monitoring
    schedule (:class:`~optsim.schedules.ReduceOnPlateau`) sees.  ``x0`` is the starting
    point (default zeros).  Optimizers that evaluate the gradient at a look-ahead point
    get the same replayed gradient.

    Memory: the gradient sequences, :math:`8 R T d` bytes, shared by every trajectory.
    """

    name = "replay"
    params = REPLAY_PARAMS
    kernels = {"value_and_grad": replay_value_and_grad, "objective": replay_objective}

    def __init__(self, **kwargs):
        g = kwargs.get("grads")
        if g is not None:
            try:
                arr = np.asarray(g, dtype=float)
            except (TypeError, ValueError):
                arr = None
            if arr is not None and arr.ndim == 3:
                if "sequences" in kwargs and kwargs["sequences"] != arr.shape[0]:
                    raise ParameterError(
                        f"Replay: grads has {arr.shape[0]} sequences but sequences={kwargs['sequences']}"
                    )
                kwargs["grads"] = arr.reshape(arr.shape[0] * arr.shape[1], arr.shape[2])
                kwargs["sequences"] = arr.shape[0]
            elif arr is not None and arr.ndim == 1:
                kwargs["grads"] = arr.reshape(-1, 1)
        super().__init__(**kwargs)

    def _validate(self):
        G = self.grads
        R = self.sequences
        if G.ndim != 2 or G.shape[0] % R != 0:
            raise ParameterError(
                f"Replay: grads must be (T, d) or (R, T, d) with R = sequences = {R}, got shape {G.shape}"
            )
        T = G.shape[0] // R
        if self.losses is not None and self.losses.size != R * T:
            raise ParameterError(
                f"Replay: losses must have one entry per update ({T}) per sequence ({R}), got shape {self.losses.shape}"
            )
        if self.x0 is not None and self.x0.shape != (G.shape[1],):
            raise ParameterError(f"Replay: x0 must have {G.shape[1]} entries, got shape {self.x0.shape}")
        if self.sequence >= R:
            raise ParameterError(f"Replay: sequence={self.sequence} is out of range (there are {R} sequences)")

    def n_updates(self):
        """The length T of each gradient sequence."""
        return self.grads.shape[0] // self.sequences

    def dimension(self):
        return self.grads.shape[1]

    def start_point(self):
        return np.zeros(self.dimension()) if self.x0 is None else self.x0.copy()

    def data_bytes(self):
        R, T, d = self.sequences, self.n_updates(), self.dimension()
        return 8 * (R * T * d + R * T)  # the gradients (a copy where they are not contiguous), the losses

    def data(self):
        R, T, d = self.sequences, self.n_updates(), self.dimension()
        G = np.ascontiguousarray(self.grads.reshape(R, T, d))
        L = np.zeros((R, T)) if self.losses is None else np.ascontiguousarray(self.losses.reshape(R, T))
        return (G, L)
