"""Warmup-stable-decay (WSD, "trapezoidal") schedules (Hägele et al. 2024).

``k`` is the number of updates already applied (0 for the first update), the
``opt.step(); sched.step()`` count of ``torch.optim.lr_scheduler.LambdaLR`` through which
the reference implementations apply their factor.
"""

import math

from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Schedule

__all__ = ["WSD"]

SHAPES = ("linear", "cosine", "1-sqrt", "1-square")

WSD_PARAMS = (
    Param("total_steps", 1000, "updates N of the whole schedule (the decay ends at N)", kind="int", low=1),
    Param("warmup_steps", 0, "updates W of the warm-up", kind="int", low=0),
    Param("decay_fraction", 0.1, "fraction of N in the decay, D = floor(fraction N) (authors' fract_decay)",
          low=0.0, high=1.0),
    Param("decay_steps", None, "updates D of the decay (overrides decay_fraction)", kind="int", low=0,
          none_ok=True),
    Param("shape", "linear", "shape of the decay", kind="choice", choices=SHAPES),
    Param("final_factor", 0.0, "factor f the decay ends at (final_lr_factor, min_lr_ratio)", low=0.0),
    Param("warmup_start", 0.0, "factor s the warm-up starts from (authors: 1/init_div_factor)", low=0.0),
    Param("warmup_shape", "linear", "shape of the warm-up (transformers)", kind="choice",
          choices=("linear", "cosine", "1-sqrt")),
    Param("cycles", 0.5, "cosine decay: periods over D, 0.5 a half cosine (transformers num_cycles)", low=0.0,
          low_open=True, high=0.5),
    Param("convention", "paper", "paper (f in every shape) or pytorch_optimizer (f in cosine only)",
          kind="choice", choices=("paper", "pytorch_optimizer")),
)
WSD_SP = param_layout(WSD_PARAMS)


@njit(cache=True)
def wsd_factor(k, sp):
    """The WSD factor of update ``k`` (the rate is the base value times this)."""
    N = sp[WSD_SP.total_steps]
    W = sp[WSD_SP.warmup_steps]
    D = sp[WSD_SP.decay_steps]
    if D != D:  # None: the authors' int(fract_decay * n_iterations)
        D = math.floor(sp[WSD_SP.decay_fraction] * N)
    f = sp[WSD_SP.final_factor]
    if k < W:
        p = k / W
        wshape = sp[WSD_SP.warmup_shape]
        if wshape == 0.0:
            r = p
        elif wshape == 1.0:
            r = 0.5 * (1.0 - math.cos(math.pi * p))
        else:
            r = 1.0 - math.sqrt(1.0 - p)
        s = sp[WSD_SP.warmup_start]
        return r * (1.0 - s) + s
    if k < N - D:
        return 1.0
    if k >= N:
        return f
    p = (k - (N - D)) / D
    shape = sp[WSD_SP.shape]
    if shape == 0.0:
        r = 1.0 - p
    elif shape == 1.0:
        r = 0.5 * (1.0 + math.cos(math.pi * 2.0 * sp[WSD_SP.cycles] * p))
    elif shape == 2.0:
        r = 1.0 - math.sqrt(p)
    else:
        r = 1.0 - p * p
    if sp[WSD_SP.convention] != 0.0 and shape != 1.0:
        return r  # pytorch_optimizer: the non-cosine shapes decay to 0 whatever f is
    return r * (1.0 - f) + f


@njit(cache=True)
def wsd_value(k, base_lr, sp, ss, loss):
    return base_lr * wsd_factor(k, sp)


class WSD(Schedule):
    r"""Warmup-stable-decay (Hägele et al. 2024): a warm-up, a long constant phase at the base
    value and a short decay (cool-down) at the end, in one of four shapes.

    .. math::

        \eta_k = \eta \cdot \begin{cases}
            s + (1 - s)\, w(k/W) & k < W \\
            1 & W \le k < N - D \\
            f + (1 - f)\, r\!\left(\frac{k - (N - D)}{D}\right) & N - D \le k < N \\
            f & k \ge N
        \end{cases}

    with :math:`N` = ``total_steps``, :math:`W` = ``warmup_steps``, :math:`D` = ``decay_steps``
    (default :math:`\lfloor \phi N \rfloor`, :math:`\phi` = ``decay_fraction``, as the
    authors' ``int(fract_decay * n_iterations)``), :math:`f` = ``final_factor``, :math:`s` =
    ``warmup_start`` and :math:`k` the number of updates already applied.  The decay shape
    :math:`r(p)` (``shape``) is ``linear`` :math:`1 - p`, ``cosine``
    :math:`\tfrac12(1 + \cos 2\pi c\, p)` (:math:`c` = ``cycles``, 0.5: a half cosine),
    ``1-sqrt`` :math:`1 - \sqrt p` (the paper's best) or ``1-square`` :math:`1 - p^2`; the
    warm-up :math:`w(p)` (``warmup_shape``) is ``linear`` :math:`p`, ``cosine``
    :math:`\tfrac12(1 - \cos \pi p)` or ``1-sqrt`` :math:`1 - \sqrt{1 - p}`.

    This is the factor the authors' ``wsd_schedule`` (epfml/schedules-and-scaling, with
    :math:`s` = ``1/init_div_factor``, 0.01 there) and ``transformers.get_wsd_schedule(W,
    D, N, min_lr_ratio=f)`` (with :math:`s = f`, its stable phase :math:`N - W - D`) hand to
    ``torch.optim.lr_scheduler.LambdaLR``: the rate is the base value (the optimizer's
    ``lr``, or the value of any scheduled hyperparameter) times it.
    ``convention="pytorch_optimizer"`` is ``pytorch_optimizer.get_wsd_schedule``: its
    ``linear``, ``1-sqrt`` and ``1-square`` decays ignore :math:`f` and reach 0 at
    :math:`k = N`, where the rate jumps to :math:`f` (only its cosine decays to :math:`f`);
    its warm-up starts from 0 (:math:`s = 0`).

    References: A. Hägele, E. Bakouch, A. Kosson, L. Ben Allal, L. Von Werra, M. Jaggi,
    "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations", NeurIPS
    2024; S. Hu et al., "MiniCPM: Unveiling the Potential of Small Language Models with
    Scalable Training Strategies", 2024 (the name WSD).
    """

    name = "wsd"
    params = WSD_PARAMS
    kernels = {"value": wsd_value}

    def _validate(self):
        D = self.decay_steps if self.decay_steps is not None else math.floor(self.decay_fraction * self.total_steps)
        if D > self.total_steps:
            raise ParameterError(f"WSD: decay_steps={D} is not allowed; it must be at most total_steps="
                                 f"{self.total_steps}")
        if self.warmup_steps > self.total_steps - D:
            raise ParameterError(f"WSD: warmup_steps={self.warmup_steps} is not allowed; the warm-up must end "
                                 f"before the decay starts at total_steps - decay_steps = {self.total_steps - D}")
