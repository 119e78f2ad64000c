"""Probability distributions with PyTorch's names (``torch.distributions``): the families that
policies, variational autoencoders and mixture models use, built on neuralab's differentiable
ops so that ``log_prob``, ``entropy``, ``rsample`` and ``kl_divergence`` give gradients with
respect to the parameters.

    import neuralab as nl
    from neuralab.distributions import Normal, Categorical, kl_divergence

    pi = Categorical(logits=policy(state))
    action = pi.sample()
    loss = -(pi.log_prob(action) * advantage).mean()      # REINFORCE

    q = Normal(mu, sigma)
    z = q.rsample()                                         # x = μ + σε: gradient to μ, σ
    kl = kl_divergence(q, Normal(0.0, 1.0)).sum()          # the VAE's regulariser

Draws come from neuralab's generator, so ``nl.manual_seed`` makes them repeat.
"""

from neuralab.distributions import constraints
from neuralab.distributions.continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from neuralab.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from neuralab.distributions.distribution import Distribution
from neuralab.distributions.independent import Independent
from neuralab.distributions.kl import kl_divergence, register_kl
from neuralab.distributions.multivariate_normal import MultivariateNormal

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Independent",
    "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints",
    "kl_divergence", "register_kl",
]
