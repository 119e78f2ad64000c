"""The course's experiments, one module each: claim, configuration, runs, figure, verdict.

Each module declares ``EXPERIMENT = Experiment(...)`` (:mod:`neuralab.experiments.base`, which
lists the modules); ``neuralab run NAME [--quick] [--out DIR] [key=value ...]`` runs one into a
run directory with its figures, ``results.json`` and a report (:mod:`.runner`, :mod:`.report`).
A new experiment copies the shape of a short one (``xor``) and joins its session in
:mod:`neuralab.experiments.curriculum`.
"""

from neuralab.experiments.base import Experiment, Verdict, experiments, get  # noqa: F401
