"""AMSGrad (Reddi, Kale & Kumar 2018) in the forms PyTorch, Keras, optax and the paper use."""

from numba import njit

from .._components import Param, param_layout
from .._roles import Optimizer
from ._common import no_init
from .adam import ADAM_SLOTS, adam_eff, adam_update

__all__ = ["AMSGrad", "AMSGRAD_FORMS"]

AMSGRAD_FORMS = ("torch", "keras", "optax", "paper")

AMSGRAD_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the denominator", low=0.0),
    Param("weight_decay", 0.0, "L2 (coupled) or decoupled decay coefficient", low=0.0),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
    Param("decoupled_weight_decay", False, "decay x by lr*wd before the step", kind="bool"),
    Param("form", "torch", "where the max is taken and what is bias-corrected", kind="choice",
          choices=AMSGRAD_FORMS),
)

H = param_layout(AMSGRAD_PARAMS, "AMSGradParams")


@njit(cache=True, inline="always")
def _form(hp):
    """(bias_correction_m, bias_correction_v, eps_mode, ams code) of the ``form``."""
    form = int(hp[H.form])
    if form == 0:  # torch: max of raw v, eps on sqrt(v_hat)
        return True, True, 0, 1
    elif form == 1:  # Keras: max of raw v, eps on the uncorrected sqrt(v)
        return True, True, 1, 1
    elif form == 2:  # optax: max of v_hat
        return True, True, 0, 2
    else:  # the paper's Algorithm 2: no bias correction at all
        return False, False, 0, 1


@njit(cache=True)
def amsgrad_step(x, g, S, sc, t, lr, hp):
    bc_m, bc_v, eps_mode, ams = _form(hp)
    adam_update(x, g, S, t, lr, hp[H.lr], hp[H.beta1], hp[H.beta2], hp[H.eps], hp[H.weight_decay],
                hp[H.maximize] != 0.0, bc_m, bc_v, eps_mode, ams, hp[H.decoupled_weight_decay] != 0.0, 0)


@njit(cache=True)
def amsgrad_eff_lr(S, sc, t, lr, hp, out):
    bc_m, bc_v, eps_mode, ams = _form(hp)
    adam_eff(S, t, lr, hp[H.beta1], hp[H.beta2], hp[H.eps], bc_m, bc_v, eps_mode, ams, out)


class AMSGrad(Optimizer):
    r"""AMSGrad: Adam that divides by the running maximum of the second moment.

    With :math:`m_t, v_t` the moments of Adam (:class:`~optsim.optimizers.Adam`),
    :math:`\eta_t` the scheduled ``lr``, :math:`\epsilon` = ``eps``, ``form`` picks where
    the maximum is taken and what is bias-corrected:

    - ``'torch'`` (``torch.optim.Adam(amsgrad=True)``):
      :math:`\tilde v_t = \max(\tilde v_{t-1}, v_t)`,
      :math:`x_t = x_{t-1} - \eta_t \hat m_t / (\sqrt{\tilde v_t/(1-\beta_2^t)} + \epsilon)`
      (the max of the *raw* v, divided by the current correction).
    - ``'keras'`` (``keras.optimizers.Adam(amsgrad=True)``): the same max, with eps on the
      uncorrected :math:`\sqrt{\tilde v_t}` (:math:`\hat\epsilon`, Keras's ``epsilon``).
    - ``'optax'`` (``optax.amsgrad``): :math:`\tilde v_t = \max(\tilde v_{t-1}, \hat v_t)`,
      the max of the *bias-corrected* v, and
      :math:`x_t = x_{t-1} - \eta_t \hat m_t/(\sqrt{\tilde v_t} + \epsilon)`.  It differs from
      torch whenever v decreases while :math:`1-\beta_2^t` is still growing.
    - ``'paper'`` (Reddi et al. 2018, Algorithm 2, as lecture 002 writes it):
      :math:`\tilde v_t = \max(\tilde v_{t-1}, v_t)` and
      :math:`x_t = x_{t-1} - \eta_t m_t/(\sqrt{\tilde v_t} + \epsilon)`, with no bias correction
      of either moment (the paper has :math:`\epsilon = 0` and :math:`\eta_t = \eta/\sqrt t`,
      a schedule; its analysis also decays :math:`\beta_1`).

    ``weight_decay`` is coupled L2 (:math:`g + \lambda x`, torch) unless
    ``decoupled_weight_decay`` (:math:`x \leftarrow x(1-\eta_t\lambda)` first, torch AdamW).
    The same maths is :class:`~optsim.optimizers.Adam` with ``amsgrad=True`` and
    ``amsgrad_mode``.  State: Adam's (``m``, ``v``, ``v_max`` = the running max).
    ``eff_lr``: the step is ``eff_lr * m``.

    Reference: Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018.
    """

    name = "amsgrad"
    params = AMSGRAD_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": amsgrad_step, "eff_lr": amsgrad_eff_lr}
    slots = 3
    elementwise = True
    slot_names = ADAM_SLOTS
    momentum_param = "beta1"
