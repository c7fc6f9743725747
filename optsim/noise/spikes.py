"""Rare large gradients ("spikes") added on top of the gradient."""

from numba import njit

from .._components import Param, param_layout
from .._rng import randint, uniform
from .._roles import Noise

__all__ = ["Spikes"]

MODES = ("sign", "coordinate", "scale")


SPIKES_PARAMS = (
    Param("p", 0.01, "probability of a spike at each step", low=0.0, high=1.0),
    Param("magnitude", 10.0, "size m of a spike (a factor in mode 'scale')", low=0.0),
    Param("mode", "sign", "how a spike changes the gradient", kind="choice", choices=MODES),
)
SPIKES_NP = param_layout(SPIKES_PARAMS)


@njit(cache=True)
def spikes_apply(g, x, t, npar, ndata, rng):
    p = npar[SPIKES_NP.p]
    magnitude = npar[SPIKES_NP.magnitude]
    mode = int(npar[SPIKES_NP.mode])
    # One uniform every step, spike or not, so that the spike times of a replicate do
    # not depend on the mode or the magnitude.
    if uniform(rng) >= p:
        return
    d = g.shape[0]
    if mode == 0:  # sign: +-magnitude on every coordinate
        for i in range(d):
            if uniform(rng) < 0.5:
                g[i] += magnitude
            else:
                g[i] -= magnitude
    elif mode == 1:  # coordinate: +-magnitude on one uniformly chosen coordinate
        j = randint(rng, d)
        if uniform(rng) < 0.5:
            g[j] += magnitude
        else:
            g[j] -= magnitude
    else:  # scale: the whole gradient blown up by the factor magnitude
        for i in range(d):
            g[i] = g[i] * magnitude


class Spikes(Noise):
    r"""Rare large gradients: with probability ``p`` per step, a spike is added to the gradient.

    Each step draws :math:`U \sim U[0, 1)`; when :math:`U < p` (independently from step to
    step, so spikes arrive as a Bernoulli process with mean gap :math:`1/p`) the gradient
    is changed according to ``mode``, with :math:`m` = ``magnitude``:

    ``"sign"`` (default)
        :math:`\tilde g_i = g_i + m\,\epsilon_i` with independent random signs
        :math:`\epsilon_i = \pm 1` on every coordinate: a dense spike of norm
        :math:`m\sqrt d` that hits every coordinate's second-moment estimate equally.
    ``"coordinate"``
        :math:`\tilde g_J = g_J + m\,\epsilon` on one coordinate :math:`J` drawn uniformly,
        the rest unchanged: a sparse spike (rare features, embedding rows).
    ``"scale"``
        :math:`\tilde g = m\,g`: a gradient explosion along the current gradient
        direction (``magnitude=0`` drops the step's gradient).

    The spike has mean zero in the first two modes, so the observed gradient stays
    unbiased.  This isolates the effect of rare large gradients on adaptive methods: a
    spike of size :math:`m` inflates Adam's second-moment estimate to about
    :math:`(1-\beta_2) m^2`, which decays like :math:`\beta_2^k` and suppresses the
    effective step for :math:`\sim 1/(1-\beta_2)` steps (the memory of ``beta2``), while
    SGD takes one large step and forgets it.

    Draw order per step: the uniform :math:`U`; then, only on a spike, one uniform per
    coordinate for the signs (``"sign"``), or ``randint(d)`` then one uniform for the
    sign (``"coordinate"``), or nothing (``"scale"``).
    """

    name = "spikes"
    params = SPIKES_PARAMS
    kernels = {"apply": spikes_apply}
