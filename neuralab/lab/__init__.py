"""The experiment framework: how a claim of the course is declared, run, judged and reported.

* :mod:`.experiment`: ``Experiment`` (claim, configuration, ``run``, ``verdict``), ``Verdict``,
  ``Comparison`` (with the noise a run can resolve, ``error_rate_noise``, ``paired_seeds``,
  ``paired_rows``)
  and ``judge``;
* :mod:`.runner`: ``run(experiment)`` into a run directory, and the ``RunContext`` an
  experiment records its figures, tables, notes and metrics with;
* :mod:`.report`: ``report.md`` and ``report.html`` from a run directory;
* :mod:`.curriculum`: the sessions of the course in order, with their experiments' names.

The experiments themselves are :mod:`neuralab.experiments`, one thin script each.
"""

from neuralab.lab.curriculum import SESSIONS, Session, planned_names, sessions_with
from neuralab.lab.experiment import (
                                     CONTRADICTED,
                                     NOT_SHOWN,
                                     SUPPORTED,
                                     Comparison,
                                     Experiment,
                                     Verdict,
                                     error_rate_noise,
                                     judge,
                                     paired_rows,
                                     paired_seeds,
)
from neuralab.lab.report import render_report
from neuralab.lab.runner import RunContext, parse_overrides, run

__all__ = ["CONTRADICTED", "NOT_SHOWN", "SUPPORTED", "SESSIONS", "Comparison", "Experiment",
           "RunContext", "Session", "Verdict", "error_rate_noise", "judge", "paired_rows",
           "paired_seeds", "parse_overrides", "planned_names", "render_report", "run",
           "sessions_with"]
