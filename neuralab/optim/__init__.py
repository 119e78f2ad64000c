"""``neuralab.optim``: the optimizers of Lecture 7 with torch.optim's names and hyperparameters.

``SGD`` (with momentum and Nesterov), ``Adagrad``, ``Adadelta``, ``RMSprop``, ``Adam`` and
``AdamW`` update the parameters in place from their ``.grad``; ``lr_scheduler`` changes the
learning rate over training.
"""

from neuralab.optim import lr_scheduler
from neuralab.optim.adadelta import Adadelta
from neuralab.optim.adagrad import Adagrad
from neuralab.optim.adam import Adam
from neuralab.optim.adamw import AdamW
from neuralab.optim.optimizer import Optimizer
from neuralab.optim.rmsprop import RMSprop
from neuralab.optim.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
