"""Reduce the learning rate when the trajectory's own loss stops improving."""

import numpy as np
from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Schedule

__all__ = ["ReduceOnPlateau"]


PLATEAU_PARAMS = (
    Param("factor", 0.1, "multiplier of the rate at a reduction", low=0.0, high=1.0, low_open=True,
          high_open=True),
    Param("patience", 10, "epochs without improvement tolerated", kind="int", low=0, step_count=True),
    Param("threshold", 1e-4, "least improvement that counts", low=0.0),
    Param("threshold_mode", "rel", "relative or absolute threshold", kind="choice",
          choices=("rel", "abs")),
    Param("cooldown", 0, "epochs after a reduction during which bad epochs are ignored",
          kind="int", low=0, step_count=True),
    Param("min_lr", 0.0, "lowest rate (absolute)", low=0.0),
    Param("eps", 1e-8, "smallest change of the rate that is applied", low=0.0),
    Param("interval", 1, "updates per epoch (the scheduler is stepped every interval updates)",
          kind="int", low=1, step_count=True),
    Param("metric", "last", "loss at the epoch boundary or mean over the epoch", kind="choice",
          choices=("last", "mean")),
)
PLATEAU_SP = param_layout(PLATEAU_PARAMS)
PLATEAU_SS = layout(("lr", "best", "bad_epochs", "cooldown_left", "loss_sum", "losses_summed"),
                    "PlateauState")
"""A plateau schedule's state row: the current rate, the best metric so far, the count of bad
epochs, the cooldown epochs left, and the sum and count of the losses seen this epoch."""


@njit(cache=True)
def _plateau_step(metric, sp, ss):
    """One ``ReduceLROnPlateau.step(metric)`` on the state ``ss``."""
    factor = sp[PLATEAU_SP.factor]
    patience = sp[PLATEAU_SP.patience]
    threshold = sp[PLATEAU_SP.threshold]
    rel = sp[PLATEAU_SP.threshold_mode] == 0.0
    cooldown = sp[PLATEAU_SP.cooldown]
    min_lr = sp[PLATEAU_SP.min_lr]
    eps = sp[PLATEAU_SP.eps]
    best = ss[PLATEAU_SS.best]
    if rel:
        better = metric < best * (1.0 - threshold)
    else:
        better = metric < best - threshold
    if better:
        ss[PLATEAU_SS.best] = metric
        ss[PLATEAU_SS.bad_epochs] = 0.0
    else:
        ss[PLATEAU_SS.bad_epochs] += 1.0
    if ss[PLATEAU_SS.cooldown_left] > 0.0:  # in cooldown: count down, ignore bad epochs
        ss[PLATEAU_SS.cooldown_left] -= 1.0
        ss[PLATEAU_SS.bad_epochs] = 0.0
    if ss[PLATEAU_SS.bad_epochs] > patience:
        old = ss[PLATEAU_SS.lr]
        new = max(old * factor, min_lr)
        if old - new > eps:
            ss[PLATEAU_SS.lr] = new
        ss[PLATEAU_SS.cooldown_left] = cooldown
        ss[PLATEAU_SS.bad_epochs] = 0.0


@njit(cache=True)
def plateau_value(k, base_lr, sp, ss, loss):
    interval = int(sp[PLATEAU_SP.interval])
    if k == 0:
        ss[PLATEAU_SS.lr] = base_lr
        ss[PLATEAU_SS.best] = np.inf
        ss[PLATEAU_SS.bad_epochs] = 0.0
        ss[PLATEAU_SS.cooldown_left] = 0.0
        ss[PLATEAU_SS.loss_sum] = 0.0
        ss[PLATEAU_SS.losses_summed] = 0.0
    elif k % interval == 0:
        if sp[PLATEAU_SP.metric] == 0.0:
            metric = loss
        else:
            metric = ss[PLATEAU_SS.loss_sum] / ss[PLATEAU_SS.losses_summed]
        _plateau_step(metric, sp, ss)
        ss[PLATEAU_SS.loss_sum] = 0.0
        ss[PLATEAU_SS.losses_summed] = 0.0
    ss[PLATEAU_SS.loss_sum] += loss
    ss[PLATEAU_SS.losses_summed] += 1.0
    return ss[PLATEAU_SS.lr]


class ReduceOnPlateau(Schedule):
    r"""Multiply the rate by ``factor`` when the loss has not improved for a while.

    ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (mode ``"min"``), per trajectory:
    every ``interval`` updates (at :math:`k = I, 2I, \dots`, with :math:`k` the number of
    updates already applied) the scheduler is stepped once with a metric :math:`L`:

    * :math:`L` improves on the best so far if :math:`L < L_{\text{best}}(1 - \theta)`
      (``threshold_mode="rel"``) or :math:`L < L_{\text{best}} - \theta` (``"abs"``);
      otherwise the count of bad epochs grows by one;
    * during ``cooldown`` epochs after a reduction bad epochs are not counted;
    * once the count exceeds ``patience`` the rate becomes
      :math:`\max(\eta\,\text{factor}, \eta_{\min})` (only if that lowers it by more than
      ``eps``), the cooldown starts and the count restarts.

    The new rate applies from update :math:`k` on.  torch steps this scheduler once per
    *epoch* with a *validation* metric; here it monitors the loss the trajectory observes
    at its own updates (the problem's loss at the current point, a minibatch loss under
    minibatch sampling): ``metric="last"`` uses the loss seen at update :math:`k` (the
    loss after :math:`k` updates, like an end-of-epoch evaluation), ``metric="mean"`` the
    mean of the losses seen at updates :math:`k - I, \dots, k - 1` (like a training loss
    averaged over the epoch).  Lecture notes commonly use ``factor=0.5``; torch's default
    is 0.1.  ``min_lr`` is absolute.
    """

    name = "plateau"
    params = PLATEAU_PARAMS
    kernels = {"value": plateau_value}
    state_size = len(PLATEAU_SS)
    watches_loss = True

