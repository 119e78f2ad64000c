"""Specs of conv2d: strides, paddings ('same', 'valid', pairs), dilation, groups, bias or not."""

import warnings

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _torch_conv2d(*args, **kw):
    with warnings.catch_warnings():  # PyTorch warns that 'same' with even kernels copies
        warnings.simplefilter("ignore", UserWarning)
        return TF.conv2d(*args, **kw)


def _spec(shapes, bias=True, **kw):
    """A conv2d spec whose fn and ref call the op with the same keyword arguments."""
    if bias:
        fn = lambda x, w, b: nl.conv2d(x, w, b, **kw)  # noqa: E731
        ref = lambda x, w, b: _torch_conv2d(x, w, b, **kw)  # noqa: E731
    else:
        shapes = [s[:2] for s in shapes]
        fn = lambda x, w: nl.conv2d(x, w, **kw)  # noqa: E731
        ref = lambda x, w: _torch_conv2d(x, w, **kw)  # noqa: E731
    return OpSpec("conv2d", fn, ref, shapes, tags=(str(kw),))


SPECS = [
    # x (N, C, H, W), w (O, C/g, kh, kw), b (O,)
    _spec([((2, 3, 6, 7), (4, 3, 3, 3), (4,)), ((1, 1, 5, 5), (2, 1, 5, 5), (2,))]),
    _spec([((2, 2, 6, 5), (3, 2, 3, 2), (3,))], bias=False, padding=1),
    _spec([((2, 3, 7, 8), (2, 3, 3, 3), (2,))], stride=2, padding=1),
    _spec([((1, 2, 9, 7), (3, 2, 2, 3), (3,))], stride=(2, 3), padding=(2, 1)),
    _spec([((2, 2, 8, 8), (2, 2, 3, 3), (2,))], dilation=2, padding=2),
    _spec([((1, 2, 9, 9), (3, 2, 3, 2), (3,))], stride=2, dilation=(2, 1)),
    _spec([((2, 4, 6, 6), (6, 2, 3, 3), (6,))], groups=2, padding=1),
    _spec([((1, 4, 7, 7), (4, 1, 3, 3), (4,))], bias=False, groups=4, stride=2),
    _spec([((2, 3, 6, 5), (4, 3, 3, 3), (4,)), ((1, 2, 6, 6), (2, 2, 2, 4), (2,))],
          padding="same"),
    _spec([((1, 2, 7, 6), (3, 2, 2, 2), (3,))], padding="same", dilation=2),
    _spec([((2, 2, 5, 6), (3, 2, 3, 3), (3,))], bias=False, padding="valid"),
    _spec([((1, 2, 4, 4), (3, 2, 1, 1), (3,))], padding=3),
    # 1x1 without padding or stride (Inception's reductions: one matrix product per pass)
    _spec([((2, 5, 4, 6), (3, 5, 1, 1), (3,)), ((3, 1, 2, 2), (4, 1, 1, 1), (4,))]),
    _spec([((2, 4, 3, 3), (6, 4, 1, 1), (6,))], bias=False),
    # few input channels, many output channels (a stride-2 layer that doubles them)
    _spec([((2, 2, 9, 8), (8, 2, 3, 3), (8,))], stride=2, padding=(1, 2), dilation=(1, 2)),
    _spec([((1, 1, 6, 6), (6, 1, 2, 2), (6,))], padding="same"),
    _spec([((2, 3, 7, 7), (12, 3, 3, 3), (12,))], bias=False, padding=1),
]


def _variant(name, shapes, bias=True, **kw):
    """A spec of conv1d / conv_transpose1d / conv_transpose2d with the same keyword arguments."""
    ours, theirs = getattr(nl, name), getattr(TF, name)
    if bias:
        fn = lambda x, w, b: ours(x, w, b, **kw)  # noqa: E731
        ref = lambda x, w, b: theirs(x, w, b, **kw)  # noqa: E731
    else:
        shapes = [s[:2] for s in shapes]
        fn = lambda x, w: ours(x, w, **kw)  # noqa: E731
        ref = lambda x, w: theirs(x, w, **kw)  # noqa: E731
    return OpSpec(name, fn, ref, shapes, tags=(str(kw),))


SPECS += [
    # conv1d: x (N, C, L), w (O, C/g, k)
    _variant("conv1d", [((2, 3, 9), (4, 3, 3), (4,)), ((1, 1, 5), (2, 1, 5), (2,))]),
    _variant("conv1d", [((2, 4, 10), (6, 2, 3), (6,))], stride=2, padding=1, groups=2),
    _variant("conv1d", [((1, 2, 9), (3, 2, 2), (3,))], bias=False, padding="same", dilation=2),
    # transposed: x (N, C_in, ...), w (C_in, C_out/g, ...), b (C_out,)
    _variant("conv_transpose1d", [((2, 3, 5), (3, 2, 3), (2,))], stride=2, padding=1,
             output_padding=1),
    _variant("conv_transpose1d", [((1, 4, 6), (4, 3, 2), (6,))], bias=False, groups=2,
             dilation=2),
    _variant("conv_transpose2d", [((2, 3, 4, 5), (3, 2, 3, 3), (2,)),
                                  ((1, 1, 3, 3), (1, 2, 2, 2), (2,))]),
    _variant("conv_transpose2d", [((2, 3, 4, 4), (3, 4, 3, 3), (4,))], stride=2, padding=1,
             output_padding=1),
    _variant("conv_transpose2d", [((1, 4, 3, 5), (4, 3, 3, 2), (6,))], stride=(2, 3),
             padding=(1, 0), groups=2),
    _variant("conv_transpose2d", [((2, 2, 4, 4), (2, 3, 3, 3), (3,))], bias=False,
             dilation=2, padding=2, stride=2, output_padding=(1, 0)),
]
