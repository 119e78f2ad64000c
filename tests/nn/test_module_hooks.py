"""Module hooks as PyTorch's: full backward hooks and pre-hooks (grad_input, grad_output,
replacements), forward hooks with_kwargs and always_call; compared with torch.nn in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn


class _Scale:
    """A module taking (x, factor, scale=...) in both libraries."""

    @staticmethod
    def make(lib):
        class Scaled(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(3, 2).double()

            def forward(self, x, factor, scale=1.0):
                return self.fc(x) * factor * scale, x.sum()

        return Scaled()


def _pair():
    ours, theirs = _Scale.make(nl), _Scale.make(torch)
    for name, p in theirs.named_parameters():
        ours.get_parameter(name).array[...] = p.detach().numpy()
    return ours, theirs


def _run(lib, module, x, double_grad_input):
    log = []

    def pre(m, grad_output):
        log.append(("pre", [None if g is None else np.asarray(g.detach()) for g in grad_output]))

    def hook(m, grad_input, grad_output):
        log.append(("full", [None if g is None else np.asarray(g.detach()) for g in grad_input],
                    [None if g is None else np.asarray(g.detach()) for g in grad_output]))
        if double_grad_input:
            return tuple(None if g is None else g * 2 for g in grad_input)

    handles = [module.register_full_backward_pre_hook(pre),
               module.register_full_backward_hook(hook)]
    xt = lib.tensor(x, dtype=lib.float64, requires_grad=True)
    out, total = module(xt * 1.0, 3.0, scale=0.5)
    (out * lib.tensor(np.arange(8.0).reshape(4, 2), dtype=lib.float64)).sum().backward()
    for h in handles:
        h.remove()
    calls = len(log)
    out, _ = module(xt * 1.0, 3.0)
    out.sum().backward()
    assert len(log) == calls  # removed
    return log, np.asarray(xt.grad.detach()), np.asarray(module.fc.weight.grad.detach())


@pytest.mark.parametrize("double_grad_input", [False, True])
def test_full_backward_hooks_see_and_replace_gradients_as_torch(double_grad_input):
    x = np.random.default_rng(0).normal(size=(4, 3))
    ours, theirs = _pair()
    log_o, gx_o, gw_o = _run(nl, ours, x, double_grad_input)
    log_t, gx_t, gw_t = _run(torch, theirs, x, double_grad_input)
    assert [e[0] for e in log_o] == [e[0] for e in log_t] == ["pre", "full"]
    # grad_output: one per Tensor output (the unused sum gets zeros in neuralab, None in torch)
    np.testing.assert_allclose(log_o[0][1][0], log_t[0][1][0])
    # grad_input: one per positional argument, None for the float
    assert len(log_o[1][1]) == len(log_t[1][1]) == 2 and log_o[1][1][1] is log_t[1][1][1] is None
    np.testing.assert_allclose(log_o[1][1][0], log_t[1][1][0])
    np.testing.assert_allclose(gx_o, gx_t)
    np.testing.assert_allclose(gw_o, gw_t)


def test_backward_hook_when_no_input_requires_grad_and_pre_hook_replacement():
    for lib in (nl, torch):
        layer = lib.nn.Linear(2, 2)
        seen = []
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
        layer.register_full_backward_hook(
            lambda m, gi, go, seen=seen: seen.append((gi, float(go[0].sum()))))
        with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                          "computed with respect to module outputs"):
            layer(lib.ones(3, 2)).sum().backward()
        assert seen == [((None,), 0.0)]
        assert float(layer.weight.grad.abs().sum()) == 0.0


def test_backward_hook_returning_the_wrong_count_is_an_error():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    x = nl.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward hook returned an invalid number of "
                       "grad_input, got 2, but expected 1"):
        layer(x).sum().backward()


def test_forward_hooks_with_kwargs_and_always_call():
    for lib in (nl, torch):
        module = _Scale.make(lib)
        seen = []

        def pre(m, args, kwargs):
            return args, {**kwargs, "scale": 0.0}

        module.register_forward_pre_hook(pre, with_kwargs=True)
        module.register_forward_hook(lambda m, a, k, out, seen=seen: seen.append(sorted(k)),
                                     with_kwargs=True)
        out, _ = module(lib.ones(1, 3, dtype=lib.float64), 2.0, scale=5.0)
        assert float(out.detach().abs().sum()) == 0.0 and seen == [["scale"]]

        failing = lib.nn.Linear(2, 2)
        calls = []
        failing.register_forward_hook(lambda m, a, out, calls=calls: calls.append(out),
                                      always_call=True)
        with pytest.raises((RuntimeError, ValueError)):
            failing(lib.ones(3, 5))  # wrong width: forward raises, the hook still runs
        assert calls == [None]
