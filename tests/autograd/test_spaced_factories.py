"""linspace and logspace against PyTorch."""

import numpy as np
import pytest
import torch

import neuralab as nl


@pytest.mark.parametrize(("start", "end", "steps"), [(0, 1, 5), (-2, 3, 7), (1, 1, 3), (2, -1, 4),
                                                     (0, 1, 1), (0, 1, 0)])
def test_linspace_and_logspace_match_pytorch(start, end, steps):
    np.testing.assert_allclose(nl.linspace(start, end, steps).numpy(),
                               torch.linspace(start, end, steps).numpy(), rtol=1e-6, atol=1e-7)
    assert nl.linspace(start, end, steps).dtype == np.float32
    np.testing.assert_allclose(nl.logspace(start, end, steps).numpy(),
                               torch.logspace(start, end, steps).numpy(), rtol=1e-5)
    np.testing.assert_allclose(nl.logspace(start, end, steps, base=2, dtype=np.float64).numpy(),
                               torch.logspace(start, end, steps, base=2,
                                              dtype=torch.float64).numpy(), rtol=1e-12)


def test_negative_steps_are_refused():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        nl.logspace(0, 1, -1)
