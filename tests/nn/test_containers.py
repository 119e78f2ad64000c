"""nn.ParameterList, nn.ParameterDict, nn.Buffer, nn.Container and nn.Identity against their
torch.nn twins: registration, state-dict keys, plain tensors made Parameters, the list and dict
API, reprs, optimizer visibility, and the messages of bad input."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


def _same_repr(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "neuralab.")


def test_parameter_list_matches_torch():
    a, b = np.ones((2, 3), np.float32), np.zeros(3, np.float32)
    ours = nn.ParameterList([nn.Parameter(nl.tensor(a)), nl.tensor(b)])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a)), torch.tensor(b)])
    assert isinstance(ours[1], nn.Parameter) and ours[1].requires_grad
    ours.append("x")
    theirs.append("x")
    ours += [nl.ones(4)]
    theirs += [torch.ones(4)]
    ours.extend([nl.zeros(1, 1)])
    theirs.extend([torch.zeros(1, 1)])
    assert len(ours) == len(theirs) == 5
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "3", "4"]
    _same_repr(ours, theirs)
    assert ours[-1].shape == tuple(theirs[-1].shape) and ours[2] == theirs[2] == "x"
    sliced, tsliced = ours[1:4:2], theirs[1:4:2]
    assert type(sliced) is nn.ParameterList and sliced[0] is ours[1]
    assert list(sliced.state_dict()) == list(tsliced.state_dict())
    ours[0] = nl.full((2,), 3.0)
    theirs[0] = torch.full((2,), 3.0)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours[0].shape == (2,) and isinstance(ours[0], nn.Parameter)
    assert [type(p).__name__ for p in ours] == [type(p).__name__ for p in theirs]


def test_parameter_list_in_a_module_trains():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList(nl.ones(3) * (i + 1) for i in range(3))

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x.sum()

    net = Net()
    assert list(net.state_dict()) == ["ws.0", "ws.1", "ws.2"]
    opt = nl.optim.SGD(net.parameters(), lr=0.1)
    net(nl.ones(3)).backward()
    opt.step()
    np.testing.assert_allclose(net.ws[0].numpy(), 1 - 0.1 * 6)
    sd = net.state_dict()
    fresh = Net()
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh.ws[0].numpy(), net.ws[0].numpy())


def test_parameter_list_errors():
    pl = nn.ParameterList([nl.ones(2)])
    with pytest.raises(IndexError, match="out of range"):
        pl[3]
    with pytest.raises(TypeError, match="iterable"):
        pl.extend(nl.ones(2))
    with pytest.raises(TypeError, match="integers or slices"):
        pl["0"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(nl.ones(2))
    assert repr(nn.ParameterList()) == repr(torch.nn.ParameterList())


def test_parameter_dict_matches_torch():
    a = np.arange(2, dtype=np.float32)
    # a plain dict is added in sorted key order, an OrderedDict in its own order (as torch)
    ours = nn.ParameterDict({"b": nl.tensor(a), "a": nn.Parameter(nl.zeros(1, 2))})
    theirs = torch.nn.ParameterDict({"b": torch.tensor(a),
                                     "a": torch.nn.Parameter(torch.zeros(1, 2))})
    assert list(ours.keys()) == list(theirs.keys()) == ["a", "b"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _same_repr(ours, theirs)
    assert isinstance(ours["b"], nn.Parameter) and ours["b"].requires_grad
    ours.update(OrderedDict([("z", nl.ones(1)), ("c", nl.ones(2))]))
    theirs.update(OrderedDict([("z", torch.ones(1)), ("c", torch.ones(2))]))
    ours.update([("y", nl.ones(3))])
    theirs.update([("y", torch.ones(3))])
    assert list(ours) == list(theirs) == ["a", "b", "z", "c", "y"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.pop("z").shape == (1,) and theirs.pop("z").shape == (1,)
    assert ours.setdefault("d", nl.ones(5)).shape == (5,)
    theirs.setdefault("d", torch.ones(5))
    assert ours.setdefault("a") is ours["a"]
    k, v = ours.popitem()
    tk, tv = theirs.popitem()
    assert k == tk == "d" and v.shape == tuple(tv.shape)
    assert "a" in ours and "z" not in ours and ours.get("z") is None
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(reversed(ours)) == list(reversed(theirs))
    fk, tfk = ours.fromkeys(["p", "q"], nl.ones(2)), theirs.fromkeys(["p", "q"], torch.ones(2))
    assert list(fk.state_dict()) == list(tfk.state_dict())
    merged, tmerged = ours | fk, theirs | tfk
    assert list(merged.state_dict()) == list(tmerged.state_dict())
    ours |= fk
    theirs |= tfk
    assert list(ours) == list(theirs)
    assert [k for k, _ in ours.items()] == list(ours.keys())
    assert len(list(ours.values())) == len(ours) == len(theirs)
    copy = ours.copy()
    assert copy["a"] is ours["a"]
    del ours["a"]
    del theirs["a"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []


def test_parameter_dict_errors():
    pd = nn.ParameterDict()
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = nl.ones(1)
    with pytest.raises(KeyError, match="no key 'x'"):
        pd["x"]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        pd.update([("a", nl.ones(1), 3)])
    with pytest.raises(TypeError, match="iterable of key/value pairs"):
        pd.update(3)
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        pd["keys"] = nl.ones(1)
    with pytest.raises(KeyError, match="without '.'"):
        pd["a.b"] = nl.ones(1)
    with pytest.raises(RuntimeError, match="should not be called"):
        pd()


def test_buffer_registers_on_assignment():
    for lib in (nn, torch.nn):
        m = lib.Module()
        t = nl.ones(2) if lib is nn else torch.ones(2)
        m.x = lib.Buffer(t, persistent=False)
        m.y = lib.Buffer(t[:1] * 2)
        m.z = t  # a plain tensor is not registered
        assert isinstance(m.x, lib.Buffer) and not isinstance(t, lib.Buffer)
        assert [n for n, _ in m.named_buffers()] == ["x", "y"]
        assert list(m.state_dict()) == ["y"]
        assert list(m.parameters()) == []
    b = nn.Buffer(nl.ones(3))
    assert type(b) is nl.Tensor and b.persistent and not b.requires_grad
    assert nn.Buffer().shape == (0,)
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Buffer([1.0, 2.0])


def test_container_and_identity():
    with pytest.warns(FutureWarning, match="deprecated"):
        c = nn.Container(a=nn.Linear(2, 3), b=nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tc = torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.ReLU())
    assert list(c.state_dict()) == list(tc.state_dict())
    assert repr(c) == repr(tc)
    ident, tident = nn.Identity(54, unused="x"), torch.nn.Identity(54, unused="x")
    x = nl.randn(2, 3)
    assert ident(x) is x
    assert repr(ident) == repr(tident) == "Identity()"
    assert list(ident.state_dict()) == list(tident.state_dict()) == []
