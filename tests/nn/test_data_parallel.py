"""nn.DataParallel and nn.SyncBatchNorm on one process against torch's (CPU, no process group):
DataParallel delegates and prefixes its state dict with 'module.'; SyncBatchNorm is batch norm
over (N, C, *) inputs (outputs, gradients, running statistics over several steps, evaluation),
and convert_sync_batchnorm swaps every batch norm while sharing its tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


def test_data_parallel_wraps_the_module():
    model, tmodel = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    dp, tdp = nn.DataParallel(model, device_ids=[0]), torch.nn.DataParallel(tmodel)
    assert dp.module is model and dp.device_ids == [] and dp.dim == 0
    assert repr(dp) == repr(tdp)
    assert list(dp.state_dict()) == list(tdp.state_dict()) == ["module.weight", "module.bias"]
    tdp.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in dp.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(dp(nl.tensor(x)).numpy(), tdp(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6)
    assert [p for p in dp.parameters()] == [model.weight, model.bias]
    with pytest.raises(TypeError, match="must be a neuralab Module"):
        nn.DataParallel(lambda x: x)


@pytest.mark.parametrize(("shape", "kw"), [
    ((4, 3), {}), ((3, 3, 4), {"momentum": None}), ((2, 3, 2, 3, 2), {"affine": False}),
    ((2, 3, 3, 2), {"track_running_stats": False, "eps": 1e-3}),
])
def test_sync_batch_norm_matches_torch(shape, kw):
    rng = np.random.default_rng(0)
    ours, theirs = nn.SyncBatchNorm(3, **kw), torch.nn.SyncBatchNorm(3, **kw)
    assert repr(ours) == repr(nn.BatchNorm1d(3, **kw)).replace("BatchNorm1d", "SyncBatchNorm")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.double()
    ours.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    for step in range(3):
        if step == 2:
            ours.eval()
            theirs.eval()
        x = rng.standard_normal(shape) * 2 + 1
        xo, xt = nl.tensor(x, dtype=nl.float64, requires_grad=True), torch.tensor(
            x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
        g = rng.standard_normal(shape)
        (yo * nl.tensor(g, dtype=nl.float64)).sum().backward()
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-9)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-7, err_msg=k)
    named = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named[n].grad.numpy(), rtol=1e-7, atol=1e-9)


def test_sync_batch_norm_errors():
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        nn.SyncBatchNorm(3)(nl.randn(3))
    with pytest.raises(ValueError, match="has 4 channels"):
        nn.SyncBatchNorm(3)(nl.randn(2, 4))


def test_convert_sync_batchnorm():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, momentum=0.2)))
    tnet = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                               torch.nn.ReLU(), torch.nn.Sequential(
                                   torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2, momentum=0.2)))
    net[1].eval()
    bn_weight, bn_mean = net[1].weight, net[1].running_mean
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    tout = torch.nn.SyncBatchNorm.convert_sync_batchnorm(tnet)
    assert [type(m).__name__ for m in out.modules()] == \
        [type(m).__name__ for m in tout.modules()]
    assert list(out.state_dict()) == list(tout.state_dict())
    assert out[1].weight is bn_weight and out[1].running_mean is bn_mean
    assert not out[1].training and out[3][1].momentum == 0.2
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(5))
    assert type(single) is nn.SyncBatchNorm and single.num_features == 5
