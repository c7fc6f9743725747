"""Adam (Kingma & Ba 2015) with every convention that changes its numbers one option away.

The update itself is :func:`adam_update`, a jitted function with explicit arguments that the
other members of the family (:mod:`.adamw`, :mod:`.amsgrad`) call with their own settings.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import MOMENTS, adam_moments, no_init

__all__ = ["Adam", "EPS_MODES", "AMSGRAD_MODES", "DECAY_SCALINGS", "adam_update", "adam_eff"]

EPS_MODES = ("sqrt_vhat", "sqrt_v", "inside")
AMSGRAD_MODES = ("max_v", "max_vhat")
DECAY_SCALINGS = ("lr", "multiplier")

ADAM_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the denominator", low=0.0),
    Param("weight_decay", 0.0, "L2 (coupled) or decoupled decay coefficient", low=0.0),
    Param("amsgrad", False, "divide by the running max of v", kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("bias_correction_m", True, "divide m by 1 - beta1^t", kind="bool"),
    Param("bias_correction_v", True, "divide v by 1 - beta2^t", kind="bool"),
    Param("eps_mode", "sqrt_vhat", "where eps goes", kind="choice", choices=EPS_MODES),
    Param("decoupled_weight_decay", False, "AdamW-style decay", kind="bool"),
    Param("amsgrad_mode", "max_v", "AMSGrad's max: of the raw v (torch, Keras) or of v_hat (optax)",
          kind="choice", choices=AMSGRAD_MODES),
    Param("decay_scaling", "lr", "decoupled decay times lr (torch, optax, Keras) or times the "
          "schedule multiplier lr/base_lr (Loshchilov & Hutter)", kind="choice", choices=DECAY_SCALINGS),
)
ADAM_SLOTS = ("m", "v", "v_max")

H = param_layout(ADAM_PARAMS, "AdamParams")
M = layout(ADAM_SLOTS, "AdamSlots")
assert (M.m, M.v) == (MOMENTS.m, MOMENTS.v)  # the rows adam_moments updates


@njit(cache=True, inline="always")
def _corrections(t, beta1, beta2, bc_m, bc_v):
    bc1 = 1.0 - beta1 ** float(t) if bc_m else 1.0
    bc2 = 1.0 - beta2 ** float(t) if bc_v else 1.0
    return bc1, bc2


@njit(cache=True, inline="always")
def _adam_denominator(vv, bc2, sqrt_bc2, eps, eps_mode):
    """The denominator from the raw (uncorrected) second moment ``vv``."""
    if eps_mode == 0:  # PyTorch / optax: eps added to sqrt(v_hat)
        return math.sqrt(vv) / sqrt_bc2 + eps
    elif eps_mode == 1:  # Keras / the paper's efficient form: eps on the uncorrected sqrt(v)
        return (math.sqrt(vv) + eps) / sqrt_bc2
    else:  # inside the square root, as lecture 000 writes it
        return math.sqrt(vv / bc2 + eps)


@njit(cache=True, inline="always")
def _vhat_denominator(vh, sqrt_bc2, eps, eps_mode):
    """The denominator from an already bias-corrected second moment ``vh`` (optax's AMSGrad)."""
    if eps_mode == 0:
        return math.sqrt(vh) + eps
    elif eps_mode == 1:
        return math.sqrt(vh) + eps / sqrt_bc2
    else:
        return math.sqrt(vh + eps)


@njit(cache=True)
def adam_update(x, g, S, t, lr, base_lr, beta1, beta2, eps, wd, maximize, bc_m, bc_v, eps_mode, ams,
                decoupled, decay_scaling):
    """One Adam step in place.  ``ams``: 0 plain, 1 max of raw v (torch/Keras), 2 max of v_hat
    (optax).  ``decay_scaling``: 0 decoupled decay times lr, 1 times the schedule multiplier
    lr / base_lr (Loshchilov & Hutter).  State: the rows ``ADAM_SLOTS``, m, v and the running
    max."""
    bc1, bc2 = _corrections(t, beta1, beta2, bc_m, bc_v)
    sqrt_bc2 = math.sqrt(bc2)
    step_size = lr / bc1
    if decay_scaling == 0:
        shrink = 1.0 - lr * wd
    else:
        shrink = 1.0 - (lr / base_lr) * wd
    if not maximize and wd == 0.0 and ams == 0 and eps_mode == 0:
        # the common case as a loop without branches, which the compiler vectorizes
        # (the same operations in the same order as the general loop below)
        for i in range(x.shape[0]):
            gi = g[i]
            m, v = adam_moments(S, i, gi, beta1, beta2)
            x[i] = x[i] - step_size * m / (math.sqrt(v) / sqrt_bc2 + eps)
        return
    if not maximize and wd == 0.0 and ams == 1 and eps_mode == 0:
        # AMSGrad's common case (PyTorch's form), likewise without branches
        for i in range(x.shape[0]):
            gi = g[i]
            m, v = adam_moments(S, i, gi, beta1, beta2)
            vv = max(S[M.v_max, i], v)
            S[M.v_max, i] = vv
            x[i] = x[i] - step_size * m / (math.sqrt(vv) / sqrt_bc2 + eps)
        return
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decoupled:
                x[i] = x[i] * shrink
            else:
                gi = gi + wd * x[i]
        m, v = adam_moments(S, i, gi, beta1, beta2)
        if ams == 1:
            vv = max(S[M.v_max, i], v)  # PyTorch / Keras: the max of the raw v
            S[M.v_max, i] = vv
            den = _adam_denominator(vv, bc2, sqrt_bc2, eps, eps_mode)
        elif ams == 2:
            vh = max(S[M.v_max, i], v / bc2)  # optax: the max of the bias-corrected v
            S[M.v_max, i] = vh
            den = _vhat_denominator(vh, sqrt_bc2, eps, eps_mode)
        else:
            den = _adam_denominator(v, bc2, sqrt_bc2, eps, eps_mode)
        x[i] = x[i] - step_size * m / den


@njit(cache=True)
def adam_eff(S, t, lr, beta1, beta2, eps, bc_m, bc_v, eps_mode, ams, out):
    """lr / ((1 - beta1^t) * denominator): the last step was ``out * m``."""
    bc1, bc2 = _corrections(max(t, 1), beta1, beta2, bc_m, bc_v)
    sqrt_bc2 = math.sqrt(bc2)
    for i in range(out.shape[0]):
        if ams == 2:
            den = _vhat_denominator(S[M.v_max, i], sqrt_bc2, eps, eps_mode)
        else:
            vv = S[M.v_max, i] if ams == 1 else S[M.v, i]
            den = _adam_denominator(vv, bc2, sqrt_bc2, eps, eps_mode)
        out[i] = lr / bc1 / den


@njit(cache=True, inline="always")
def _ams_code(hp):
    if hp[H.amsgrad] == 0.0:
        return 0
    return 1 + int(hp[H.amsgrad_mode])


@njit(cache=True)
def adam_step(x, g, S, sc, t, lr, hp):
    adam_update(x, g, S, t, lr, hp[H.lr], hp[H.beta1], hp[H.beta2], hp[H.eps], hp[H.weight_decay],
                hp[H.maximize] != 0.0, hp[H.bias_correction_m] != 0.0, hp[H.bias_correction_v] != 0.0,
                int(hp[H.eps_mode]), _ams_code(hp), hp[H.decoupled_weight_decay] != 0.0,
                int(hp[H.decay_scaling]))


@njit(cache=True)
def adam_eff_lr(S, sc, t, lr, hp, out):
    adam_eff(S, t, lr, hp[H.beta1], hp[H.beta2], hp[H.eps], hp[H.bias_correction_m] != 0.0,
             hp[H.bias_correction_v] != 0.0, int(hp[H.eps_mode]), _ams_code(hp), out)


class Adam(Optimizer):
    r"""Adam, in PyTorch's form by default (``torch.optim.Adam``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``, ``beta2``
    (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t) \\
        x_t &= x_{t-1} - \eta_t\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Options (each matches a reference):

    - ``bias_correction_m``, ``bias_correction_v`` (or ``bias_correction`` for both):
      divide by :math:`1-\beta^t`; off gives RMSProp with momentum, whose first step
      is :math:`\eta/\sqrt{1-\beta_2}` for :math:`\beta_1 = 0` (Kingma & Ba 2015, §3).
    - ``eps_mode``: ``'sqrt_vhat'`` (PyTorch, optax), ``'sqrt_v'`` (Keras; the paper's
      "efficient" form with :math:`\hat\epsilon` on the uncorrected :math:`\sqrt{v_t}`),
      ``'inside'`` (:math:`\sqrt{\hat v_t + \epsilon}`, as lecture 000 writes it).
    - ``amsgrad`` with ``amsgrad_mode``: ``'max_v'`` divides by
      :math:`\sqrt{\max_{s \le t} v_s / (1-\beta_2^t)}` (PyTorch's and Keras's max of the raw
      v, divided by the *current* correction); ``'max_vhat'`` by
      :math:`\sqrt{\max_{s\le t} \hat v_s}` (``optax.amsgrad``'s default).  With both bias
      corrections off the two agree and give Reddi et al.'s Algorithm 2 (see :class:`AMSGrad`).
    - ``weight_decay`` with ``decoupled_weight_decay``: coupled L2 :math:`g + \lambda x` in
      the gradient (PyTorch ``Adam``) or :math:`x \leftarrow x(1-\eta_t\lambda)` before the
      moments (PyTorch ``AdamW``, optax ``adamw``, Keras's ``weight_decay``);
      ``decay_scaling='multiplier'`` uses :math:`x \leftarrow x(1-(\eta_t/\eta_0)\lambda)`
      instead, the schedule multiplier of Loshchilov & Hutter's Algorithm 2 (see :class:`AdamW`).
    - ``maximize``: negate the gradient first.

    State (``slot_names``): ``m``, ``v``, ``v_max`` = the running max (of v or of :math:`\hat v`).
    ``eff_lr`` is :math:`\eta_t / ((1-\beta_1^t)\,\mathrm{denominator})`: the step is
    ``eff_lr * m``.

    References: Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015;
    Reddi et al., *On the Convergence of Adam and Beyond*, ICLR 2018 (AMSGrad);
    Loshchilov & Hutter, ICLR 2019 (decoupled weight decay).

    .. warning:: Keras's epsilon default is 1e-7 and it uses ``eps_mode='sqrt_v'``;
       PyTorch and optax use 1e-8 and ``'sqrt_vhat'``.  They differ at early steps.
    """

    name = "adam"
    params = ADAM_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    broadcast_aliases = {"bias_correction": ("bias_correction_m", "bias_correction_v")}
    kernels = {"init": no_init, "step": adam_step, "eff_lr": adam_eff_lr}
    slots = 3
    elementwise = True
    slot_names = ADAM_SLOTS
    momentum_param = "beta1"
