"""Adam (Kingma & Ba 2015) with every convention that changes its numbers one option away."""

import math

from numba import njit

from .._components import Param
from .._roles import Optimizer

__all__ = ["Adam", "EPS_MODES"]

EPS_MODES = ("sqrt_vhat", "sqrt_v", "inside")


@njit(cache=True)
def adam_init(x, S, sc, hp):
    pass


@njit(cache=True, inline="always")
def _adam_corrections(t, hp):
    beta1 = hp[1]
    beta2 = hp[2]
    bc1 = 1.0 - beta1**t if hp[7] != 0.0 else 1.0
    bc2 = 1.0 - beta2**t if hp[8] != 0.0 else 1.0
    return bc1, bc2


@njit(cache=True, inline="always")
def _adam_denominator(vv, bc2, sqrt_bc2, eps, eps_mode):
    if eps_mode == 0:  # PyTorch / optax: eps added to sqrt(v_hat)
        return math.sqrt(vv) / sqrt_bc2 + eps
    elif eps_mode == 1:  # Keras / the paper's efficient form: eps on the uncorrected sqrt(v)
        return (math.sqrt(vv) + eps) / sqrt_bc2
    else:  # inside the square root, as lecture 000 writes it
        return math.sqrt(vv / bc2 + eps)


@njit(cache=True)
def adam_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[1]
    beta2 = hp[2]
    eps = hp[3]
    wd = hp[4]
    amsgrad = hp[5] != 0.0
    maximize = hp[6] != 0.0
    eps_mode = int(hp[9])
    decoupled = hp[10] != 0.0
    bc1, bc2 = _adam_corrections(t, hp)
    sqrt_bc2 = math.sqrt(bc2)
    step_size = lr / bc1
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            if decoupled:
                x[i] = x[i] * (1.0 - lr * wd)
            else:
                gi = gi + wd * x[i]
        m = beta1 * S[0, i] + (1.0 - beta1) * gi
        v = beta2 * S[1, i] + (1.0 - beta2) * gi * gi
        S[0, i] = m
        S[1, i] = v
        if amsgrad:
            vv = max(S[2, i], v)  # PyTorch: the max of the raw v
            S[2, i] = vv
        else:
            vv = v
        x[i] = x[i] - step_size * m / _adam_denominator(vv, bc2, sqrt_bc2, eps, eps_mode)


@njit(cache=True)
def adam_eff_lr(S, sc, t, lr, hp, out):
    eps = hp[3]
    amsgrad = hp[5] != 0.0
    eps_mode = int(hp[9])
    bc1, bc2 = _adam_corrections(max(t, 1), hp)
    sqrt_bc2 = math.sqrt(bc2)
    for i in range(out.shape[0]):
        vv = S[2, i] if amsgrad else S[1, i]
        out[i] = lr / bc1 / _adam_denominator(vv, bc2, sqrt_bc2, eps, eps_mode)


class Adam(Optimizer):
    r"""Adam, in PyTorch's form by default (``torch.optim.Adam``).

    With :math:`\eta` = ``lr``, :math:`\beta_1, \beta_2` = ``beta1``, ``beta2`` (or
    ``betas``), :math:`\epsilon` = ``eps``:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t) \\
        x_t &= x_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Options (each matches a reference):

    - ``bias_correction_m``, ``bias_correction_v`` (or ``bias_correction`` for both):
      divide by :math:`1-\beta^t`; off gives RMSProp with momentum, whose first step
      is :math:`\eta/\sqrt{1-\beta_2}` for :math:`\beta_1 = 0` (Kingma & Ba 2015, §3).
    - ``eps_mode``: ``'sqrt_vhat'`` (PyTorch, optax), ``'sqrt_v'`` (Keras; the paper's
      "efficient" form with :math:`\hat\epsilon` on the uncorrected :math:`\sqrt{v_t}`),
      ``'inside'`` (:math:`\sqrt{\hat v_t + \epsilon}`, as lecture 000 writes it).
    - ``amsgrad``: divide by :math:`\max_{s \le t} v_s` (PyTorch's max of the raw v).
    - ``weight_decay`` with ``decoupled_weight_decay``: coupled L2 in the gradient
      (PyTorch ``Adam``) or :math:`x \leftarrow x(1-\eta\lambda)` before the step
      (PyTorch ``AdamW``).
    - ``maximize``: negate the gradient first.

    State: ``S[0]`` = m, ``S[1]`` = v, ``S[2]`` = max v (AMSGrad).

    References: Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015;
    Reddi et al., *On the Convergence of Adam and Beyond*, ICLR 2018 (AMSGrad);
    Loshchilov & Hutter, ICLR 2019 (decoupled weight decay).

    .. warning:: Keras's epsilon default is 1e-7 and it uses ``eps_mode='sqrt_v'``;
       PyTorch and optax use 1e-8 and ``'sqrt_vhat'``.  They differ at early steps.
    """

    name = "adam"
    params = (
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
    )
    aliases = {"betas": ("beta1", "beta2")}
    broadcast_aliases = {"bias_correction": ("bias_correction_m", "bias_correction_v")}
    kernels = {"init": adam_init, "step": adam_step, "eff_lr": adam_eff_lr}
    slots = 3
    slot_names = ("m", "v", "v_max")
    momentum_param = "beta1"
