"""Specs of pixel_shuffle, pixel_unshuffle and channel_shuffle: 3- to 5-d inputs, factors 1 to 3,
one group, one channel per group."""

import torch.nn.functional as TF

import neuralab as nl
from tests.ops.specs import OpSpec


def _spec(name, arg, shapes):
    return OpSpec(name, lambda x: getattr(nl, name)(x, arg),
                  lambda x: getattr(TF, name)(x, arg), [(s,) for s in shapes],
                  tags=(f"factor={arg}",))


SPECS = [
    _spec("pixel_shuffle", 2, [(1, 8, 2, 3), (4, 3, 2)]),
    _spec("pixel_shuffle", 3, [(2, 1, 9, 2, 2), (9, 1, 2)]),
    _spec("pixel_shuffle", 1, [(2, 3, 2, 2)]),
    _spec("pixel_unshuffle", 2, [(1, 2, 4, 6), (2, 1, 3, 2, 4)]),
    _spec("pixel_unshuffle", 3, [(2, 3, 6)]),
    _spec("channel_shuffle", 2, [(2, 6, 3), (1, 4, 2, 2)]),
    _spec("channel_shuffle", 3, [(2, 6, 1, 2, 2)]),
    _spec("channel_shuffle", 4, [(1, 4, 3)]),
    _spec("channel_shuffle", 1, [(2, 3, 2)]),
]
