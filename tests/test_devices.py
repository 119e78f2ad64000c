"""Devices on a CPU-only library: PyTorch's device API, the CPU everywhere, one clear GPU error."""

import numpy as np
import pytest
import torch

import neuralab as nl

GPU_MESSAGE = "neuralab runs on the CPU"


def test_device_objects_behave_like_torch():
    for spec in ("cpu", "cpu:0"):
        ours, theirs = nl.device(spec), torch.device(spec)
        assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
        assert ours.type == theirs.type == "cpu" and ours.index == theirs.index
    assert nl.device("cpu", 0) == nl.device("cpu:0") and nl.device("cpu") == "cpu"
    assert nl.device(nl.device("cpu")) == nl.device("cpu")
    assert len({nl.device("cpu"), nl.device("cpu")}) == 1
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
        nl.device("gpu")


def test_tensors_live_on_the_cpu():
    x = nl.ones(2)
    assert x.device == nl.device("cpu") and str(x.device) == "cpu" and not x.is_cuda
    assert x.to("cpu") is x and x.cpu() is x and x.to(nl.device("cpu")) is x
    y = x.to("cpu", nl.float64)
    assert y.dtype == nl.float64 and y.device.type == "cpu"
    assert x.to(device="cpu", dtype=nl.int64).dtype == nl.int64
    assert x.to(nl.zeros(1, dtype=nl.float16)).dtype == nl.float16
    assert x.to("cpu", non_blocking=True) is x


@pytest.mark.parametrize("call", [
    lambda: nl.device("cuda"), lambda: nl.device("cuda:0"), lambda: nl.device("mps"),
    lambda: nl.ones(2).cuda(), lambda: nl.ones(2).to("cuda"), lambda: nl.ones(2).to(0),
    lambda: nl.ones(2, device="cuda"), lambda: nl.zeros(2, device="cuda:1"),
    lambda: nl.nn.Linear(2, 2).cuda(), lambda: nl.nn.Linear(2, 2).to("cuda"),
    lambda: nl.cuda.current_device(), lambda: nl.tensor([1.0], device="mps"),
])
def test_asking_for_a_gpu_is_one_clear_error(call):
    with pytest.raises(RuntimeError, match=GPU_MESSAGE) as err:
        call()
    assert "cuda.is_available()" in str(err.value)


def test_availability_queries():
    assert nl.cuda.is_available() is False and nl.cuda.device_count() == 0
    assert nl.backends.mps.is_available() is False and nl.backends.mps.is_built() is False
    nl.cuda.manual_seed(0)
    nl.cuda.manual_seed_all(0)
    nl.backends.cudnn.benchmark = True
    nl.backends.cudnn.deterministic = True
    device = nl.device("cuda" if nl.cuda.is_available() else "cpu")
    assert nl.randn(2, 3, device=device).device == device


FACTORIES = [
    lambda d: nl.tensor([1.0], device=d), lambda d: nl.zeros(2, device=d),
    lambda d: nl.ones(2, device=d), lambda d: nl.empty(2, device=d),
    lambda d: nl.full((2,), 1.0, device=d), lambda d: nl.rand(2, device=d),
    lambda d: nl.randn(2, device=d), lambda d: nl.randint(0, 3, (2,), device=d),
    lambda d: nl.randperm(3, device=d), lambda d: nl.arange(3, device=d),
    lambda d: nl.linspace(0, 1, 3, device=d), lambda d: nl.eye(2, device=d),
    lambda d: nl.zeros_like(nl.ones(2), device=d), lambda d: nl.ones_like(nl.ones(2), device=d),
    lambda d: nl.rand_like(nl.ones(2), device=d), lambda d: nl.randn_like(nl.ones(2), device=d),
    lambda d: nl.full_like(nl.ones(2), 3, device=d), lambda d: nl.empty_like(nl.ones(2), device=d),
    lambda d: nl.Tensor([1.0], device=d), lambda d: nl.ones(2).new_zeros(3, device=d),
    lambda d: nl.ones(2).new_tensor([1.0], device=d), lambda d: nl.as_tensor([1.0], device=d),
]


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_factory_takes_device(factory):
    for d in ("cpu", nl.device("cpu"), "cpu:0", None):
        assert factory(d).device.type == "cpu"
    with pytest.raises(RuntimeError, match=GPU_MESSAGE):
        factory("cuda")


def test_module_to_device_and_dtype():
    model = nl.nn.Sequential(nl.nn.Linear(3, 2), nl.nn.BatchNorm1d(2))
    weight = model[0].weight
    assert model.to("cpu") is model and model.cpu() is model
    model.to(nl.device("cpu"), nl.float64)
    assert model[0].weight is weight and weight.dtype == nl.float64
    assert model[1].running_mean.dtype == nl.float64
    model.to(dtype=nl.float32)
    assert weight.dtype == nl.float32
    out = model(nl.randn(4, 3, device="cpu"))
    assert out.device == nl.device("cpu")
    with pytest.raises(TypeError, match="floating point dtypes"):
        model.to(nl.int64)
    np.testing.assert_array_equal(model.to(nl.zeros(1, dtype=nl.float64))[0].weight.dtype,
                                  np.float64)


def test_the_accelerator_queries_of_newer_pytorch_programs_pick_the_cpu():
    # pytorch/examples' MNIST and the "Learning PyTorch with Examples" scripts choose so:
    use_accel = nl.accelerator.is_available()
    device = nl.accelerator.current_accelerator() if use_accel else nl.device("cpu")
    assert not use_accel and nl.accelerator.device_count() == 0 and device == nl.device("cpu")
    assert nl.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match=GPU_MESSAGE):
        nl.accelerator.current_device_index()


def test_set_default_device_accepts_only_the_cpu():
    for d in ("cpu", nl.device("cpu"), None):
        nl.set_default_device(d)
        assert nl.get_default_device() == nl.device("cpu")
        assert nl.zeros(2).device == nl.device("cpu")
    with pytest.raises(RuntimeError, match=GPU_MESSAGE):
        nl.set_default_device("cuda")
