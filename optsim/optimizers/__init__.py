"""Update rules.  Each is a validated set of hyperparameters (PyTorch's names and
defaults) over jitted ``init``/``step``/``eff_lr`` functions; see :mod:`optsim._roles`."""

from .._roles import Optimizer
from .adabelief import AdaBelief
from .adabound import AdaBound
from .adafactor import Adafactor
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .ademamix import AdEMAMix
from .adamax import Adamax
from .adamw import AdamW
from .adan import Adan
from .adopt import ADOPT
from .cautious import Cautious
from .dadaptation import DAdaptAdam, DAdaptSGD
from .dog import DoG, DoWG
from .amsgrad import AMSGrad
from .lamb import LAMB
from .laprop import LaProp
from .lars import LARS
from .lion import Lion
from .mars import MARS, MARSExact
from .maxprop import MaxProp
from .muon import Muon
from .nadam import NAdam
from .nag import NAG
from .novograd import NovoGrad
from .prodigy import Prodigy
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sam import SAM
from .schedulefree import ScheduleFreeAdamW, ScheduleFreeSGD
from .sgd import SGD
from .spam import SPAM
from .soap import SOAP
from .sophia import Sophia
from .swats import SWATS
from .yogi import Yogi

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
    "ADOPT",
    "AdaBelief",
    "Yogi",
    "LaProp",
    "Adan",
    "Rprop",
    "NovoGrad",
    "LAMB",
    "LARS",
    "ScheduleFreeSGD",
    "ScheduleFreeAdamW",
    "DAdaptSGD",
    "DAdaptAdam",
    "DoG",
    "DoWG",
    "MARS",
    "MARSExact",
    "SPAM",
    "Cautious",
    "Adafactor",
    "SOAP",
    "Sophia",
]
