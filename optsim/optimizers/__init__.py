"""Update rules.  Each is a validated set of hyperparameters (PyTorch's names and
defaults) over jitted ``init``/``step``/``eff_lr`` functions; see :mod:`optsim._roles`."""

from .._roles import Optimizer
from .adabound import AdaBound
from .adafactor import Adafactor
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .ademamix import AdEMAMix
from .adamax import Adamax
from .adamw import AdamW
from .amsgrad import AMSGrad
from .lion import Lion
from .maxprop import MaxProp
from .muon import Muon
from .nadam import NAdam
from .nag import NAG
from .prodigy import Prodigy
from .radam import RAdam
from .rmsprop import RMSprop
from .sam import SAM
from .sgd import SGD
from .soap import SOAP
from .sophia import Sophia
from .swats import SWATS

__all__ = [
    "Optimizer",
    "SGD",
    "NAG",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "AMSGrad",
    "Adamax",
    "MaxProp",
    "NAdam",
    "RAdam",
    "AdaBound",
    "SWATS",
    "Lion",
    "AdEMAMix",
    "Prodigy",
    "SAM",
    "Muon",
    "Adafactor",
    "SOAP",
    "Sophia",
]
