"""Minibatch sampling from a problem's dataset."""

import numpy as np
from numba import njit

from .._components import ParameterError, Param, layout, param_layout
from .._rng import randint
from .._roles import Noise

__all__ = ["Minibatch"]


MINIBATCH_PARAMS = (
    Param("batch_size", 32, "examples per minibatch", kind="int", low=1),
    Param("with_replacement", False, "sample with replacement (else epochs without)", kind="bool"),
)
MINIBATCH_NP = param_layout(MINIBATCH_PARAMS)
MINIBATCH_STATE = layout(("position", "epochs"), "MinibatchState")
"""A sampler's state row ``mbs``: examples already served this epoch, epochs started."""


@njit(cache=True)
def minibatch_sample(idx, perm, mbs, npar, rng):
    """Fill ``idx[:nb]`` with the next minibatch's example indices; return ``nb``.

    ``perm`` holds the current epoch's permutation of range(n), ``mbs`` the position in
    it (examples already served this epoch) and the number of epochs started
    (:data:`MINIBATCH_STATE`).
    """
    n = perm.shape[0]
    B = int(npar[MINIBATCH_NP.batch_size])
    if B > n:  # prepare() refuses this; a safeguard for gridded values only
        B = n
    if B < 1:
        B = 1
    if npar[MINIBATCH_NP.with_replacement] != 0.0:  # with replacement: B independent uniform indices
        for k in range(B):
            idx[k] = randint(rng, n)
        return B
    pos = int(mbs[MINIBATCH_STATE.position])
    if pos == 0 or pos >= n:
        # a new epoch: shuffle the previous order in place (Fisher-Yates, from the end)
        for i in range(n - 1, 0, -1):
            j = randint(rng, i + 1)
            tmp = perm[i]
            perm[i] = perm[j]
            perm[j] = tmp
        pos = 0
        mbs[MINIBATCH_STATE.epochs] += 1.0
    nb = min(B, n - pos)
    for k in range(nb):
        idx[k] = perm[pos + k]
    mbs[MINIBATCH_STATE.position] = pos + nb
    return nb


@njit(cache=True)
def minibatch_apply(g, x, t, npar, ndata, rng):
    pass  # the engine calls the problem's batch gradient instead


class Minibatch(Noise):
    r"""Minibatch gradients: :math:`\tilde g = \frac{1}{|I_t|} \sum_{k \in I_t} \nabla f_k(x)`.

    The observed gradient and loss are the problem's ``batch_value_and_grad`` over the
    example indices :math:`I_t` of step :math:`t` (an unbiased estimate of the full-batch
    gradient in both modes), drawn from the batch stream of each trajectory:

    ``with_replacement=True``
        :math:`I_t` is :math:`B` = ``batch_size`` indices drawn uniformly with replacement
        from :math:`\{0, \dots, n-1\}`, independently at every step.
    ``with_replacement=False`` (default)
        epochs, as PyTorch's ``DataLoader(shuffle=True, drop_last=False)``: at the start
        of each epoch the example order is reshuffled (a Fisher–Yates shuffle of the
        previous order, which is again uniform), and consecutive batches of :math:`B`
        examples are served from it; when :math:`B` does not divide :math:`n` the last
        batch of an epoch has the :math:`n \bmod B` remaining examples.  Every example is
        visited exactly once per epoch.

    Minibatch sampling must be the first noise model; further noise models act on the
    minibatch gradient.  ``batch_size`` must not exceed the number of examples.

    Memory: each running trajectory keeps its own order of the :math:`n` examples,
    :math:`8n` bytes (without replacement the order is the epoch's state), for each of the
    trajectories a thread advances together.
    """

    name = "minibatch"
    kind = "minibatch"
    params = MINIBATCH_PARAMS
    kernels = {"sample": minibatch_sample, "apply": minibatch_apply}

    def prepare(self, problem):
        n = problem.n_samples()
        if n is None:
            raise ParameterError(f"Minibatch: {type(problem).__name__} has no dataset to sample minibatches from")
        if self.batch_size > n:
            raise ParameterError(
                f"Minibatch: batch_size={self.batch_size} is larger than the {n} examples of "
                f"{type(problem).__name__}; batch_size must be an integer in [1, {n}]"
            )
        return (np.zeros(0),)
