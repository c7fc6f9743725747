"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay."""

import dataclasses

from .adam import ADAM_PARAMS, Adam

__all__ = ["AdamW"]

_DEFAULTS = {"weight_decay": 1e-2, "decoupled_weight_decay": True}


class AdamW(Adam):
    r"""Adam with decoupled weight decay, in PyTorch's form by default (``torch.optim.AdamW``).

    With :math:`\eta_t` the scheduled ``lr``, :math:`\eta_0` the base ``lr`` and
    :math:`\lambda` = ``weight_decay`` (default 1e-2, as PyTorch):

    .. math::

        x &\leftarrow x\,(1 - s_t \lambda), \qquad
        s_t = \eta_t \ (\text{decay\_scaling='lr'}) \quad\text{or}\quad
        s_t = \eta_t/\eta_0 \ (\text{'multiplier'}) \\
        x_t &= x - \eta_t\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with the moments of :class:`~optsim.optimizers.Adam` taken from the gradient without
    the decay term.

    - ``decay_scaling='lr'`` (default): the decay is multiplied by the scheduled lr,
      applied before the moments: ``torch.optim.AdamW`` (wd 1e-2), ``optax.adamw``
      (:math:`x - \eta_t(u + \lambda x)`, algebraically the same; its default wd is 1e-4)
      and Keras ``AdamW`` (:math:`x - \eta_t\lambda x` before the step; default wd 0.004, with
      ``eps_mode='sqrt_v'`` and eps 1e-7).
    - ``decay_scaling='multiplier'``: Loshchilov & Hutter's Algorithm 2,
      :math:`x_t = x_{t-1} - \eta_t/\eta_0\,(\eta_0 \hat m_t/(\sqrt{\hat v_t}+\epsilon) + \lambda x_{t-1})`,
      where the schedule multiplier (not the lr) scales the decay: :math:`\lambda` is the
      decay per step at the base rate whatever :math:`\eta_0` is (at constant lr the
      parameters shrink by :math:`\lambda` per step, not by :math:`\eta\lambda`).

    Every other option of :class:`~optsim.optimizers.Adam` (``amsgrad``, ``amsgrad_mode``,
    ``eps_mode``, bias corrections, ``maximize``) is available; ``decoupled_weight_decay=False``
    turns it back into Adam with L2.  ``eff_lr`` as in Adam.

    References: Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
    """

    name = "adamw"
    params = tuple(dataclasses.replace(p, default=_DEFAULTS[p.name]) if p.name in _DEFAULTS else p
                   for p in ADAM_PARAMS)
