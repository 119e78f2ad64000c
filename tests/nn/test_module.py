"""Module API: registration, traversal, modes, state dicts (against PyTorch's keys), dtype
conversion, hooks, containers and printing."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.register_buffer("running_mean", nl.zeros(3))
        self.register_buffer("scratch", nl.zeros(2), persistent=False)
        self.register_buffer("num_batches_tracked", nl.tensor(0))

    def forward(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), Block())
        self.heads = nn.ModuleList([nn.Linear(3, 2), nn.Linear(3, 1, bias=False)])
        self.extra = nn.ModuleDict({"proj": nn.Linear(2, 2)})
        self.scale = nn.Parameter(nl.ones(1))

    def forward(self, x):
        h = self.features(x)
        return self.heads[0](h) * self.scale


class TBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.register_buffer("running_mean", torch.zeros(3))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.register_buffer("num_batches_tracked", torch.tensor(0))


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), TBlock())
        self.heads = torch.nn.ModuleList([torch.nn.Linear(3, 2), torch.nn.Linear(3, 1, bias=False)])
        self.extra = torch.nn.ModuleDict({"proj": torch.nn.Linear(2, 2)})
        self.scale = torch.nn.Parameter(torch.ones(1))


# --------------------------------------------------------------------------- registration


def test_parameters_buffers_and_modules_are_registered_like_pytorch():
    ours, theirs = Net(), TNet()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.parameters(recurse=False))) == 1


def test_state_dict_keys_match_pytorch_for_sequential_and_ordered_dict():
    ours = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 10))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict(fc1=nn.Linear(2, 3), act=nn.Tanh(), fc2=nn.Linear(3, 1)))
    assert list(named.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert named.fc1 is named[0] and isinstance(named[1], nn.Tanh)


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    tied = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    tied[1].weight = tied[0].weight
    assert len(list(tied.parameters())) == 3
    assert len(list(tied.named_parameters(remove_duplicate=False))) == 4


def test_assignment_rules_and_errors():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="Parameter or None"):
        m.weight = nl.zeros(2, 3)
    m.bias = None
    assert m.bias is None and "bias" not in dict(m.named_parameters())
    m.extra = nn.Parameter(nl.zeros(1))
    assert "extra" in dict(m.named_parameters())
    del m.extra
    assert "extra" not in dict(m.named_parameters())
    m.register_buffer("buf", nl.ones(2))
    m.buf = nl.zeros(2)  # a Tensor replaces a buffer
    assert m.state_dict()["buf"].tolist() == [0, 0]
    with pytest.raises(TypeError, match="buffer 'buf'"):
        m.buf = 3.0

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(nl.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Early()
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        _ = m.nothing
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_train_eval_zero_grad_apply_and_requires_grad():
    model = Net()
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="bool"):
        model.train("no")

    out = model(nl.randn(2, 5)).sum()
    out.backward()
    grads = [p for p in model.parameters() if p.grad is not None]
    assert grads
    model.zero_grad(set_to_none=False)
    assert all(not np.any(p.grad.numpy()) for p in grads)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())

    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 5
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_parameter_keeps_array_dtype_and_shares_tensor_memory():
    p = nn.Parameter(np.zeros(3))
    assert p.dtype == np.float64 and p.requires_grad and isinstance(p, nl.Tensor)
    t = nl.zeros(2)
    q = nn.Parameter(t, requires_grad=False)
    q.array[0] = 5
    assert t.numpy()[0] == 5 and not q.requires_grad
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert type(q * 2) is nl.Tensor  # results of ops are plain tensors


def test_get_submodule_and_parameter():
    model = Net()
    assert model.get_submodule("features.2.fc") is model.features[2].fc
    assert model.get_parameter("features.0.weight") is model.features[0].weight
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        model.get_submodule("features.nope")


# --------------------------------------------------------------------------- state dicts


def test_load_state_dict_from_pytorch_reproduces_its_outputs():
    theirs = TNet()
    ours = Net()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    with torch.no_grad():
        t = theirs.heads[0](theirs.features[2].fc(torch.relu(theirs.features[0](
            torch.tensor(x))))) * theirs.scale
    np.testing.assert_allclose(ours(nl.tensor(x)).numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_round_trip_copies_and_keeps_parameter_objects():
    a, b = Net(), Net()
    sd = a.state_dict()
    # Tensors, as PyTorch's (v.clone(), v.size(), v.numel() work), that need no gradient
    assert all(isinstance(v, nl.Tensor) and not v.requires_grad for v in sd.values())
    sd_before = {k: v.clone() for k, v in sd.items()}
    a.features[0].weight.array += 1  # a later update must not change the saved copy
    np.testing.assert_array_equal(sd["features.0.weight"], sd_before["features.0.weight"])
    weight = b.features[0].weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.features[0].weight is weight
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
    assert b.state_dict()["features.2.num_batches_tracked"].dtype == np.int64


def test_load_state_dict_strict_errors_and_non_strict():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    sd = model.state_dict()
    del sd["2.bias"]
    sd["3.weight"] = np.zeros((1, 2))
    with pytest.raises(RuntimeError) as err:
        model.load_state_dict(sd)
    assert '"3.weight"' in str(err.value) and '"2.bias"' in str(err.value)
    assert "Missing key" in str(err.value) and "Unexpected key" in str(err.value)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["3.weight"]

    bad = model.state_dict()
    bad["0.weight"] = np.zeros((4, 3))
    with pytest.raises(RuntimeError, match=r"0\.weight.*\(4, 3\).*\(2, 3\)"):
        model.load_state_dict(bad, strict=False)
    with pytest.raises(TypeError, match="dict"):
        model.load_state_dict([1, 2])


def test_to_double_converts_in_place():
    model = Net()
    params = list(model.parameters())
    model(nl.randn(2, 5)).sum().backward()
    assert model.double() is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert all(p.grad.dtype == np.float64 for p in model.parameters() if p.grad is not None)
    block = model.features[2]
    assert block.running_mean.dtype == np.float64
    assert block.num_batches_tracked.dtype == np.int64  # integer buffers are left alone
    assert model(nl.tensor(np.ones((2, 5)), dtype=np.float64)).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.to("cpu") is model
    with pytest.raises(RuntimeError, match="CPU"):
        model.to("cuda")


def test_copy_and_pickle_keep_structure():
    model = Net()
    clone = copy.deepcopy(model)
    assert clone.features[0].weight is not model.features[0].weight
    np.testing.assert_array_equal(clone.features[0].weight.numpy(),
                                  model.features[0].weight.numpy())
    restored = pickle.loads(pickle.dumps(model))
    assert list(restored.state_dict()) == list(model.state_dict())
    assert isinstance(restored.scale, nn.Parameter)
    x = nl.randn(2, 5)
    np.testing.assert_array_equal(restored(x).numpy(), model(x).numpy())


# --------------------------------------------------------------------------- hooks


def test_forward_hooks_and_pre_hooks():
    layer = nn.Linear(3, 2)
    x = nl.randn(4, 3)
    calls = []
    h1 = layer.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 0,))
    h2 = layer.register_forward_hook(lambda m, args, out: calls.append(("post", out.shape)))
    out = layer(x)
    assert calls == ["pre", ("post", (4, 2))]
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(layer.bias.numpy(), (4, 2)))
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is harmless
    calls.clear()
    np.testing.assert_allclose(layer(x).numpy(), (x.numpy() @ layer.weight.numpy().T
                                                  + layer.bias.numpy()), rtol=1e-6)
    assert calls == []
    h3 = layer.register_forward_hook(lambda m, args, out: out * 2)
    np.testing.assert_allclose(layer(x).numpy(), 2 * (x.numpy() @ layer.weight.numpy().T
                                                      + layer.bias.numpy()), rtol=1e-6)
    h3.remove()
    order = []
    layer.register_forward_hook(lambda *a: order.append(1))
    layer.register_forward_hook(lambda *a: order.append(0), prepend=True)
    layer(x)
    assert order == [0, 1]
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_hook(3)


def test_hooks_record_every_layer_of_a_sequential():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    shapes = {}
    handles = [m.register_forward_hook(lambda m, a, o, n=name: shapes.__setitem__(n, o.shape))
               for name, m in model.named_children()]
    model(nl.randn(5, 4))
    assert shapes == {"0": (5, 3), "1": (5, 3), "2": (5, 2)}
    for h in handles:
        h.remove()
    assert all(not m._forward_hooks for m in model.modules())


# --------------------------------------------------------------------------- containers


def test_sequential_indexing_slicing_and_append():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    x = nl.randn(2, 4)
    np.testing.assert_allclose(model[2](head(x)).numpy(), model(x).numpy())
    model.append(nn.Sigmoid())
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert isinstance(model[3], nn.Sigmoid)
    model[1] = nn.Tanh()
    assert isinstance(model[1], nn.Tanh)
    del model[3]
    assert len(model) == 3
    del model[0]  # the rest is renumbered, as in PyTorch
    assert [n for n, _ in model.named_children()] == ["0", "1"]
    assert isinstance(model[0], nn.Tanh)
    model.append(nn.ReLU())
    assert len(model) == 3 and isinstance(model[2], nn.ReLU)
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    assert isinstance(layers[0], nn.Tanh) and isinstance(layers[-1], nn.ReLU)
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 3
    layers += [nn.Identity()]
    assert len(layers) == 5
    with pytest.raises(NotImplementedError, match="iterate"):
        layers(1)

    d = nn.ModuleDict({"a": nn.Linear(2, 2)})
    d["b"] = nn.ReLU()
    assert list(d) == ["a", "b"] and "a" in d and len(d) == 2
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(d.pop("b"), nn.ReLU) and list(d.keys()) == ["a"]
    with pytest.raises(KeyError, match="no module 'z'"):
        d["z"]


def test_identity_and_flatten_match_pytorch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for args in [(), (0,), (1, 2), (2, -1)]:
        ours = nn.Flatten(*args)(nl.tensor(x))
        theirs = torch.nn.Flatten(*args)(torch.tensor(x))
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    t = nl.tensor(x)
    assert nn.Identity(3, k=1)(t) is t


# --------------------------------------------------------------------------- printing


def test_repr_matches_pytorch():
    ours = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10),
                         nn.Flatten(), nn.Softmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                 torch.nn.Dropout(0.2), torch.nn.Linear(256, 10),
                                 torch.nn.Flatten(), torch.nn.Softmax(dim=1))
    assert repr(ours) == repr(theirs)
    nested_ours = nn.Sequential(OrderedDict(body=nn.Sequential(nn.Linear(2, 3, bias=False),
                                                               nn.LeakyReLU(0.2)),
                                            head=nn.ModuleList([nn.Tanh(), nn.ELU()])))
    nested_theirs = torch.nn.Sequential(OrderedDict(
        body=torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False), torch.nn.LeakyReLU(0.2)),
        head=torch.nn.ModuleList([torch.nn.Tanh(), torch.nn.ELU()])))
    assert repr(nested_ours) == repr(nested_theirs)
    for ours_m, theirs_m in [(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
                             (nn.MSELoss(), torch.nn.MSELoss()),
                             (nn.GELU(), torch.nn.GELU()), (nn.Identity(), torch.nn.Identity()),
                             (nn.Dropout2d(0.1), torch.nn.Dropout2d(0.1))]:
        assert repr(ours_m) == repr(theirs_m)
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"  # says non-defaults
    assert repr(nn.Parameter(nl.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_state_dict_values_are_tensors_with_torchs_methods_and_keep_vars():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    sd = model.state_dict()
    best = {k: v.clone() for k, v in sd.items()}  # the usual early-stopping snapshot
    assert sd["0.weight"].size() == (2, 3) and sd["0.weight"].numel() == 6
    assert sd["1.num_batches_tracked"].dtype == nl.int64 and sd["1.num_batches_tracked"].dim() == 0
    # read by torch directly (DLPack), as torch.Tensor values are
    ref = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ref.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    np.testing.assert_array_equal(ref[0].weight.detach().numpy(), sd["0.weight"].numpy())
    live = model.state_dict(keep_vars=True)
    assert live["0.weight"] is model[0].weight and live["0.weight"].requires_grad
    assert live["1.running_mean"] is model[1].running_mean
    assert list(model.state_dict(prefix="net.")) == ["net." + k for k in sd]
    model.load_state_dict(best)
