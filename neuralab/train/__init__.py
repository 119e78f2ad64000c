"""Training: the loop, metrics, checkpoints and run directories.

Example:
    >>> from neuralab.train import fit
    >>> result = fit(model, train_loader, val_loader, test_loader, optimizer=opt, epochs=10,
    ...              run_dir="runs/mlp")
"""

from neuralab.train import callbacks, checkpoint, metrics  # noqa: F401
from neuralab.train.callbacks import (
    BestWeights,
    DivergenceStop,
    Evaluator,
    LambdaCallback,
    LossRecorder,
    StepEvaluator,
    StepLimit,
    StepRecorder,
)
from neuralab.train.checkpoint import load_state_dict, save_state_dict
from neuralab.train.loop import (
    Callback,
    EarlyStopping,
    FitResult,
    Trainer,
    TrainingDiverged,
    fit,
)
from neuralab.train.metrics import accuracy
from neuralab.train.restore import load_model
from neuralab.train.rundir import read_metrics

__all__ = [
    "BestWeights", "Callback", "DivergenceStop", "EarlyStopping", "Evaluator", "FitResult",
    "LambdaCallback", "LossRecorder", "StepEvaluator", "StepLimit", "StepRecorder", "Trainer",
    "TrainingDiverged", "accuracy", "callbacks", "checkpoint", "fit", "load_model",
    "load_state_dict", "metrics", "read_metrics", "save_state_dict",
]
