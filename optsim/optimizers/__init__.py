"""Update rules.  Each is a validated set of hyperparameters (PyTorch's names and
defaults) over jitted ``init``/``step``/``eff_lr`` functions; see :mod:`optsim._roles`."""

from .._roles import Optimizer
from .adam import Adam
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]
