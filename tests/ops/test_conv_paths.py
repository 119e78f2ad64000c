"""conv2d's fast paths, forced: each memory layout, the blocked / chunked GEMMs and the shifted
path must give the reference kernel's (the lecture's im2col code) values and gradients, and
PyTorch's, on every conv2d spec and on the shapes they specialise for (the specs' small shapes
alone would only reach the paths the size heuristics pick for them)."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import parallel
from neuralab.kernels import conv as fast_conv
from tests.ops import test_ops  # the module, so that its tests are not collected twice

CONV_CASES = [(spec, case) for spec, case, kernel_set in test_ops.CASES
              if spec.name == "conv2d" and kernel_set == "fast"]
CONV_IDS = [name.removesuffix("-fast") for name, (spec, _, kernel_set)
            in zip(test_ops.IDS, test_ops.CASES) if spec.name == "conv2d" and kernel_set == "fast"]

TINY_BLOCKS = {"block_bytes": 1, "gemm_chunk_bytes": 1, "gemm_min_columns": 3,
               "keep_cols_bytes": 0}
VARIANTS = {
    "batch-last": {"layout": "batch_last"},
    "channels-last": {"layout": "channels_last"},
    # One image row per block, GEMMs cut into chunks of a few columns, patch matrices rebuilt.
    "batch-last-tiny-blocks": {"layout": "batch_last", **TINY_BLOCKS},
    "channels-last-tiny-blocks": {"layout": "channels_last", **TINY_BLOCKS},
    # Every stride-1 layer without im2col (shifted row products), one image per block.
    "shifted": {"layout": "channels_last", "shifted_channels": (1, 1 << 30)},
    "shifted-one-image-blocks": {"layout": "channels_last", "shifted_channels": (1, 1 << 30),
                                 "shifted_block_bytes": 1},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("spec", "case"), CONV_CASES, ids=CONV_IDS)
def test_conv2d_path_matches_pytorch_and_reference(spec, case, variant):
    arrays = test_ops.make_inputs(spec, case)
    with fast_conv.options(**VARIANTS[variant]):
        test_ops.matches_pytorch(spec, case, strided=True)
        test_ops.fast_matches_reference(spec.fn, arrays, tuple(range(len(arrays))))


@pytest.mark.parametrize("variant", ["batch-last", "batch-last-tiny-blocks",
                                     "channels-last-tiny-blocks"])
@pytest.mark.parametrize(("spec", "case"), CONV_CASES, ids=CONV_IDS)
def test_conv2d_path_with_three_threads_matches_reference(spec, case, variant):
    """Blocks, chunks of columns, rows of X_colᵀ and channels of x̄ shared between threads."""
    arrays = test_ops.make_inputs(spec, case)
    nl.set_num_threads(3)  # the conftest fixture restores the default
    with fast_conv.options(**VARIANTS[variant], batch_last_threads=None), \
            parallel.options(split_flops=1):
        test_ops.fast_matches_reference(spec.fn, arrays, tuple(range(len(arrays))))


def test_batch_last_layers_stay_in_one_thread_by_default(monkeypatch):
    """ConvOptions.batch_last_threads (1) caps every loop of the batch-last layout; None lifts
    the cap to get_num_threads()."""
    seen = []
    real = fast_conv.run_chunks

    def spy(n_items, work, max_threads=None):
        seen.append(max_threads)
        return real(n_items, work, max_threads)

    monkeypatch.setattr(fast_conv, "run_chunks", spy)
    nl.set_num_threads(2)
    x = nl.Tensor(np.random.default_rng(0).standard_normal((8, 1, 12, 12)), dtype=nl.float32,
                  requires_grad=True)
    w = nl.Tensor(np.ones((4, 1, 5, 5)), dtype=nl.float32, requires_grad=True)
    with fast_conv.options(layout="batch_last", gemm_min_columns=8, gemm_chunk_bytes=1):
        nl.conv2d(x, w).sum().backward()
        assert seen and all(m == 1 for m in seen), seen
        seen.clear()
        with fast_conv.options(batch_last_threads=None), parallel.options(split_flops=1):
            nl.conv2d(x, w).sum().backward()
        assert seen and not all(m == 1 for m in seen), seen


# The layers the fast kernel specialises for, at their real channel counts, in the layout a
# previous fast convolution hands on (an NCHW view of NHWC memory) and in C order.
LAYERS = {
    "lenet-conv1": ((8, 1, 32, 32), (6, 1, 5, 5), {}),
    "lenet-conv2": ((8, 6, 14, 14), (16, 6, 5, 5), {}),
    "resnet-stem": ((4, 3, 16, 16), (16, 3, 3, 3), {"padding": 1}),
    "resnet-stage1": ((4, 16, 16, 16), (16, 16, 3, 3), {"padding": 1}),
    "resnet-down": ((4, 16, 16, 16), (32, 16, 3, 3), {"padding": 1, "stride": 2}),
    "resnet-stage2": ((2, 32, 8, 8), (32, 32, 3, 3), {"padding": 1}),
    "grouped": ((2, 8, 9, 9), (8, 2, 3, 3), {"padding": 1, "groups": 4}),
}


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_fast_conv2d_matches_reference_on_real_layers(layer, layout):
    x_shape, w_shape, kw = LAYERS[layer]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    if layout == "nhwc":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    w, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    test_ops.fast_matches_reference(lambda x, w, b: nl.conv2d(x, w, b, **kw), [x, w, b],
                                    (0, 1, 2))


def test_conv_options_reject_unknown_fields():
    with pytest.raises(TypeError, match="no field"):
        fast_conv.set_options(blocks=1)
    with pytest.raises(ValueError, match="layout"):
        fast_conv.set_options(layout="nchw")
    with pytest.raises(ValueError, match="batch_last_threads"):
        fast_conv.set_options(batch_last_threads=0)
    assert fast_conv.get_options() == fast_conv.ConvOptions()
