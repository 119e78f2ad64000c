"""Specs of conv3d and conv_transpose3d: strides, paddings ('same', 'valid', triples), dilation,
groups, output_padding, bias or not, unbatched input."""

import warnings

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _spec(name, shapes, bias=True, **kw):
    """A spec whose fn and ref call the op with the same keyword arguments."""
    ours, theirs = getattr(nl, name), getattr(TF, name)

    def ref(*args):
        with warnings.catch_warnings():  # PyTorch warns that 'same' with even kernels copies
            warnings.simplefilter("ignore", UserWarning)
            return theirs(*args, **kw)

    if not bias:
        shapes = [s[:2] for s in shapes]
    return OpSpec(name, lambda *args: ours(*args, **kw), ref, shapes, tags=(str(kw),))


SPECS = [
    # x (N, C, D, H, W), w (O, C/g, kd, kh, kw), b (O,)
    _spec("conv3d", [((2, 2, 4, 3, 5), (3, 2, 2, 2, 3), (3,)), ((2, 3, 3, 2), (2, 2, 2, 1, 2),
                                                              (2,))]),
    _spec("conv3d", [((1, 2, 5, 4, 5), (2, 2, 3, 2, 2), (2,))], stride=(2, 1, 2),
          padding=(1, 0, 1)),
    _spec("conv3d", [((1, 4, 4, 5, 3), (4, 2, 2, 3, 1), (4,))], bias=False, groups=2,
          dilation=(2, 1, 1), padding=1),
    _spec("conv3d", [((1, 2, 3, 4, 4), (2, 2, 2, 3, 2), (2,))], padding="same"),
    _spec("conv3d", [((1, 2, 4, 4, 3), (3, 2, 2, 2, 2), (3,))], padding="valid", stride=2),
    # transposed: x (N, C_in, D, H, W), w (C_in, C_out/g, kd, kh, kw), b (C_out,)
    _spec("conv_transpose3d", [((2, 2, 2, 3, 2), (2, 3, 2, 2, 2), (3,)),
                               ((2, 2, 2, 2), (2, 1, 2, 1, 2), (1,))]),
    _spec("conv_transpose3d", [((1, 2, 2, 3, 2), (2, 2, 3, 2, 2), (2,))], stride=(2, 1, 2),
          padding=(1, 0, 0), output_padding=(1, 0, 1)),
    _spec("conv_transpose3d", [((1, 4, 2, 2, 3), (4, 1, 2, 2, 2), (2,))], bias=False, groups=2,
          dilation=(1, 2, 1), stride=2, output_padding=(1, 1, 0)),
]
