"""``neuralab.optim``: the optimizers of Lecture 7 with torch.optim's names and hyperparameters.

``SGD`` (with momentum and Nesterov), ``Adagrad``, ``Adadelta``, ``RMSprop``, ``Adam`` and
``AdamW`` update the parameters in place from their ``.grad``; ``lr_scheduler`` changes the
learning rate over training. ``NAdam``, ``RAdam``, ``Adamax``, ``ASGD``, ``Rprop`` and ``LBFGS``
(which takes a closure) complete torch.optim's set.
"""

from neuralab.optim import lr_scheduler
from neuralab.optim.adadelta import Adadelta
from neuralab.optim.adagrad import Adagrad
from neuralab.optim.adam import Adam
from neuralab.optim.adamax import Adamax
from neuralab.optim.adamw import AdamW
from neuralab.optim.asgd import ASGD
from neuralab.optim.lbfgs import LBFGS
from neuralab.optim.nadam import NAdam
from neuralab.optim.optimizer import Optimizer
from neuralab.optim.radam import RAdam
from neuralab.optim.rmsprop import RMSprop
from neuralab.optim.rprop import Rprop
from neuralab.optim.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
__all__ += ["ASGD", "LBFGS", "NAdam", "RAdam", "Adamax", "Rprop"]
