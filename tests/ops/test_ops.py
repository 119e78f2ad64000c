"""The op-specification table turned into tests: float64 gradchecks and PyTorch comparisons."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import ops
from tests.ops.specs import ALL_SPECS, OpSpec

# The ops whose Function dispatches to a kernel set (neuralab.kernels): their specs run with both
# sets, the reference (the lecture's code, the oracle) and the fast kernels. Every other op has
# one implementation, the same in both sets, and runs once.
DISPATCHED = {
    "add", "relu", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "cross_entropy",
    "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn_sequence", "lstm_sequence",
    "gru_sequence",
}
CASES = [(spec, i, kernel_set) for spec in ALL_SPECS for i in range(len(spec.shapes))
         for kernel_set in (("fast", "reference") if spec.name in DISPATCHED else ("fast",))]
IDS = [f"{spec.name}-{i}-{'x'.join(map(str, spec.shapes[i]))}-{kernel_set}"
       for spec, i, kernel_set in CASES]


def make_inputs(spec: OpSpec, case: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = spec.shapes[case]
    if spec.make is not None:
        return [np.asarray(a) for a in spec.make(rng, shapes)]
    return [np.asarray(rng.uniform(spec.low, spec.high, size=s)) for s in shapes]


def grad_indices(spec: OpSpec, arrays: list[np.ndarray]) -> tuple[int, ...]:
    if spec.grad_inputs is not None:
        return spec.grad_inputs
    return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a strided view (every other element of a wider buffer)."""
    if a.ndim == 0:
        return a
    wide = np.empty(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    view = wide[..., ::2]
    view[...] = a
    return view


def as_outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def test_every_exported_op_has_a_spec():
    covered = {spec.name for spec in ALL_SPECS}
    missing = sorted((set(ops.__all__) | {"norm"}) - covered)  # nl.norm: see ops/reduce.py
    assert not missing, f"ops without a spec in tests/ops/specs: {missing}"


def test_dispatched_ops_have_specs():
    assert DISPATCHED <= {spec.name for spec in ALL_SPECS}


@pytest.mark.parametrize(("spec", "case", "kernel_set"), CASES, ids=IDS)
def test_gradcheck(spec: OpSpec, case: int, kernel_set: str):
    if not spec.gradcheck:
        pytest.skip(f"{spec.name} has no gradient to check")
    arrays = make_inputs(spec, case)
    wanted = grad_indices(spec, arrays)
    inputs = [
        nl.tensor(a, dtype=np.float64 if a.dtype.kind == "f" else None, requires_grad=i in wanted)
        for i, a in enumerate(arrays)
    ]
    with nl.use_kernels(kernel_set):
        assert nl.gradcheck(spec.fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize(("spec", "case", "kernel_set"), CASES, ids=IDS)
def test_matches_pytorch(spec: OpSpec, case: int, kernel_set: str, strided: bool):
    with nl.use_kernels(kernel_set):
        matches_pytorch(spec, case, strided)


def matches_pytorch(spec: OpSpec, case: int, strided: bool) -> None:
    """Values and every input gradient of the op against PyTorch's, with the active kernel set."""
    if spec.ref is None:
        assert spec.no_ref_reason, f"{spec.name}: a spec without a reference must say why"
        pytest.skip(spec.no_ref_reason)
    arrays = make_inputs(spec, case)
    wanted = grad_indices(spec, arrays)
    ours = [
        nl.Tensor(noncontiguous(a) if strided else a,
                  dtype=a.dtype if a.dtype.kind == "f" else None, requires_grad=i in wanted)
        for i, a in enumerate(arrays)
    ]
    theirs = [torch.tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
    out_ours = as_outputs(spec.fn(*ours))
    out_theirs = as_outputs(spec.ref(*theirs))
    assert len(out_ours) == len(out_theirs)
    for o, t in zip(out_ours, out_theirs):
        assert o.shape == tuple(t.shape), f"{spec.name}: shape {o.shape} vs torch {tuple(t.shape)}"
        torch_dtype = np.dtype(str(t.dtype).removeprefix("torch."))
        assert o.dtype == torch_dtype, f"{spec.name}: dtype {o.dtype} vs torch {torch_dtype}"
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=spec.rtol, atol=spec.atol)
    if not wanted:
        return
    rng = np.random.default_rng(1)
    projections = [rng.standard_normal(o.shape) for o in out_ours]
    loss_ours = sum((o * nl.tensor(v, dtype=o.dtype)).sum() for o, v in zip(out_ours, projections)
                    if o.requires_grad)
    loss_theirs = sum((t * torch.tensor(v, dtype=t.dtype)).sum()
                      for t, v in zip(out_theirs, projections) if t.requires_grad)
    loss_ours.backward()
    loss_theirs.backward()
    for i in wanted:
        expected = theirs[i].grad
        if expected is not None and expected._is_zerotensor():  # sgn's gradient, for one
            expected = torch.zeros(expected.shape, dtype=expected.dtype)
        got = ours[i].grad
        if expected is None:
            assert got is None or not np.any(got.numpy())
            continue
        assert got is not None, f"{spec.name}: no gradient for input {i}"
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=spec.rtol, atol=spec.atol,
                                   err_msg=f"{spec.name}: gradient of input {i}")


def fast_matches_reference(fn, arrays: list[np.ndarray], wanted: tuple[int, ...],
                           rtol: float = 1e-9, atol: float = 1e-10) -> None:
    """The fast kernels give the reference kernels' values and input gradients on ``fn(*inputs)``.

    The arrays keep their memory layout (a view of NHWC memory stays one), so a test can reach
    the layouts a fast kernel specialises for.
    """
    results = {}
    for kernel_set in ("reference", "fast"):
        inputs = [nl.Tensor(a, dtype=np.float64 if a.dtype.kind == "f" else None,
                            requires_grad=i in wanted) for i, a in enumerate(arrays)]
        with nl.use_kernels(kernel_set):
            outs = as_outputs(fn(*inputs))
            rng = np.random.default_rng(1)
            loss = sum((o * nl.tensor(rng.standard_normal(o.shape), dtype=o.dtype)).sum()
                       for o in outs if o.requires_grad)
            if wanted:
                loss.backward()
        results[kernel_set] = ([o.numpy() for o in outs],
                               [inputs[i].grad.numpy() for i in wanted])
    (ref_out, ref_grads), (fast_out, fast_grads) = results["reference"], results["fast"]
    for r, f in zip(ref_out, fast_out):
        np.testing.assert_allclose(f, r, rtol=rtol, atol=atol, err_msg="output")
    for i, r, f in zip(wanted, ref_grads, fast_grads):
        np.testing.assert_allclose(f, r, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
