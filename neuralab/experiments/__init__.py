"""The course's experiments, one module each: lecture, claim, config, run, report."""
