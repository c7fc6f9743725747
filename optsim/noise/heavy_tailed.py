"""Heavy-tailed additive gradient noise: Student-t and symmetric alpha-stable."""

from numba import njit

from .._components import Param, param_layout
from .._rng import student_t, symmetric_stable
from .._roles import Noise

__all__ = ["StudentT", "AlphaStable"]


STUDENT_T_PARAMS = (
    Param("nu", 3.0, "degrees of freedom", low=0.0, low_open=True),
    Param("scale", 1.0, "scale s of each coordinate", low=0.0),
)
STUDENT_T_NP = param_layout(STUDENT_T_PARAMS)


@njit(cache=True)
def student_t_apply(g, x, t, npar, ndata, rng):
    nu = npar[STUDENT_T_NP.nu]
    scale = npar[STUDENT_T_NP.scale]
    for i in range(g.shape[0]):
        g[i] += scale * student_t(rng, nu)


ALPHA_STABLE_PARAMS = (
    Param("alpha", 1.8, "tail index (2: Gaussian with variance 2, 1: Cauchy)", low=0.0, high=2.0, low_open=True),
    Param("scale", 1.0, "scale s of each coordinate", low=0.0),
)
ALPHA_STABLE_NP = param_layout(ALPHA_STABLE_PARAMS)


@njit(cache=True)
def alpha_stable_apply(g, x, t, npar, ndata, rng):
    alpha = npar[ALPHA_STABLE_NP.alpha]
    scale = npar[ALPHA_STABLE_NP.scale]
    for i in range(g.shape[0]):
        g[i] += scale * symmetric_stable(rng, alpha)


class StudentT(Noise):
    r"""Additive Student-t noise, :math:`\tilde g_i = g_i + s\,T_i`, :math:`T_i \sim t_\nu` i.i.d.

    :math:`s` = ``scale``, :math:`\nu` = ``nu`` > 0 degrees of freedom.  The tails decay
    like :math:`|x|^{-(\nu+1)}`: moments of order :math:`\ge \nu` are infinite, so the
    variance :math:`s^2 \nu/(\nu-2)` exists only for :math:`\nu > 2` (and the mean only for
    :math:`\nu > 1`).  :math:`\nu \to \infty` gives Gaussian noise of standard deviation
    :math:`s`; :math:`\nu = 1` is Cauchy.  A common finite-sample stand-in for the
    heavy-tailed gradient noise reported by Şimşekli, Sagun & Gürbüzbalaban (ICML 2019).

    Draws: Bailey's polar method, one draw per coordinate per step, coordinates in order.
    """

    name = "student_t"
    params = STUDENT_T_PARAMS
    kernels = {"apply": student_t_apply}


class AlphaStable(Noise):
    r"""Additive symmetric alpha-stable noise, :math:`\tilde g_i = g_i + s\,S_i`, :math:`S_i \sim S_\alpha(1, 0, 0)` i.i.d.

    :math:`S_\alpha(1, 0, 0)` is the standard symmetric stable law with characteristic
    function :math:`E e^{iuS} = e^{-|u|^\alpha}`, :math:`0 < \alpha \le 2`; :math:`s` =
    ``scale`` multiplies it (so :math:`s\,S` has characteristic function
    :math:`e^{-s^\alpha |u|^\alpha}`).  Tails decay like :math:`|x|^{-(\alpha+1)}`: for
    :math:`\alpha < 2` the variance is infinite, for :math:`\alpha \le 1` so is the mean.
    Special cases: :math:`\alpha = 1` is the standard Cauchy law and :math:`\alpha = 2` is
    Gaussian **with variance 2** (:math:`e^{-u^2}`), i.e. ``AlphaStable(alpha=2, scale=s)``
    matches ``Gaussian(sigma=s * sqrt(2))`` in distribution.

    Source: Şimşekli, Sagun & Gürbüzbalaban, "A Tail-Index Analysis of Stochastic
    Gradient Noise in Deep Neural Networks" (ICML 2019), who model minibatch gradient
    noise as symmetric alpha-stable and SGD as a Lévy-driven SDE.

    Draws: Chambers–Mallows–Stuck, one draw per coordinate per step, coordinates in order.
    """

    name = "alpha_stable"
    params = ALPHA_STABLE_PARAMS
    kernels = {"apply": alpha_stable_apply}
