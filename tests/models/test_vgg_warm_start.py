"""VGG deepening (Simonyan & Zisserman, Sec. 3.1): a deep net initialised from a shallow one."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab.models import create
from neuralab.models.vgg import stages, warm_start


def test_warm_start_copies_corresponding_layers():
    def small_vgg(**options):
        return create("vgg_small", **options)

    shallow = small_vgg(width=0.125, image_size=16, depth="A", hidden=16)
    deep = small_vgg(width=0.125, image_size=16, depth="D", hidden=16)
    untouched = {name: conv.weight.array.copy() for stage in stages(deep)
                 for name, conv in stage[1:]}
    copied = warm_start(deep, shallow)
    assert len(copied) == 11
    for d_stage, s_stage in zip(stages(deep), stages(shallow)):
        for (_, d), (_, s) in zip(d_stage, s_stage):
            np.testing.assert_array_equal(d.weight.array, s.weight.array)
        for name, conv in d_stage[len(s_stage):]:  # the new layers keep their random weights
            np.testing.assert_array_equal(conv.weight.array, untouched[name])
    np.testing.assert_array_equal(deep.classifier[0].weight.array,
                                  shallow.classifier[0].weight.array)
    with pytest.raises(ValueError, match="widths"):
        warm_start(small_vgg(width=0.25, image_size=16, depth="D", hidden=16), shallow)
    with pytest.raises(ValueError, match="fewer convolutions"):
        warm_start(shallow, deep)  # arguments swapped
