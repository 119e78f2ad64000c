"""``neuralab.nn.utils``: gradient clipping, parameter vectors, the L1 penalty (Lecture 9),
parametrizations (``parametrize``, ``parametrizations``), the hook-based weight and spectral
norms, batch-norm fusion and ``stateless.functional_call``."""

from neuralab.nn.utils import fusion, parametrizations, parametrize, stateless  # noqa: F401
from neuralab.nn.utils.clip_grad import *  # noqa: F403
from neuralab.nn.utils.clip_grad import __all__ as _clip_grad_all
from neuralab.nn.utils.fusion import *  # noqa: F403
from neuralab.nn.utils.fusion import __all__ as _fusion_all
from neuralab.nn.utils.hook_norms import *  # noqa: F403
from neuralab.nn.utils.hook_norms import __all__ as _hook_norms_all

__all__ = list(_clip_grad_all) + list(_fusion_all) + list(_hook_norms_all)
