"""Specs of F.unfold (im2col) and F.fold (col2im)."""

import torch.nn.functional as TF

import neuralab.nn.functional as F
from tests.ops.specs import OpSpec


def _unfold(shapes, **kw):
    return OpSpec("unfold", lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), shapes)


def _fold(shapes, **kw):
    return OpSpec("fold", lambda x: F.fold(x, **kw), lambda x: TF.fold(x, **kw), shapes)


SPECS = [
    _unfold([((2, 3, 5, 4),), ((1, 1, 2, 2),), ((3, 4, 4),)], kernel_size=2),
    _unfold([((1, 2, 6, 5),)], kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=2),
    _unfold([((1, 2, 4, 4),)], kernel_size=3, padding=(0, 1), stride=(1, 2)),
    _fold([((2, 12, 12),), ((12, 12),)], output_size=(4, 5), kernel_size=2),
    _fold([((1, 12, 9),)], output_size=(6, 5), kernel_size=(3, 2), dilation=(1, 2), padding=1,
          stride=2),
]
