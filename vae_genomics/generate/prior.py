"""The model's prior p(z) in numpy: the standard normal or the Gaussian mixture learned with it.

A prior is held as a :class:`PriorMixture` (weights (K,), means (K, L), log-variances (K, L));
N(0, I) is the one-component case. The samplers draw codes from it and the importance-weighted
likelihood evaluates log p(z) with it, so a model trained with ``objective.prior.kind: mog`` is
sampled and scored under the prior it was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from vae_genomics.models.vae import HaplotypeVAE

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class PriorMixture:
    """A diagonal Gaussian mixture over codes.

    Attributes:
        weights: Mixing weights, shape (K,), summing to 1.
        means: Component means, shape (K, L).
        log_vars: Component log-variances, shape (K, L).
    """

    weights: np.ndarray
    means: np.ndarray
    log_vars: np.ndarray

    @classmethod
    def standard_normal(cls, latent_dim: int) -> PriorMixture:
        """N(0, I) in ``latent_dim`` dimensions (one component)."""
        zeros = np.zeros((1, latent_dim))
        return cls(np.ones(1), zeros, zeros.copy())

    @property
    def is_standard_normal(self) -> bool:
        """True for N(0, I) (one component at 0 with unit variances)."""
        return len(self.weights) == 1 and not self.means.any() and not self.log_vars.any()

    @property
    def latent_dim(self) -> int:
        return int(self.means.shape[1])

    def _component_log_densities(self, z: np.ndarray) -> np.ndarray:
        """log N(z_d; m_kd, exp(v_kd)) for codes (..., L), shape (..., K, L)."""
        z = np.asarray(z, dtype=np.float64)[..., None, :]
        return -0.5 * (_LOG_2PI + self.log_vars + (z - self.means) ** 2 * np.exp(-self.log_vars))

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """log p(z) in nats for codes ``z`` of shape (..., L); returns shape (...)."""
        per_k = self._component_log_densities(z).sum(axis=-1)
        return logsumexp(per_k + np.log(self.weights), axis=-1)

    def marginal_log_density(self, z: np.ndarray) -> np.ndarray:
        """log of each dimension's marginal density at ``z`` (..., L); returns shape (..., L)."""
        per_kd = self._component_log_densities(z)
        return logsumexp(per_kd + np.log(self.weights)[:, None], axis=-2)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` codes, shape (n, L): a component by weight, then a draw from it (one component
        draws no index, so N(0, I) uses the generator as ``rng.standard_normal`` does)."""
        k = np.zeros(n, dtype=int)
        if len(self.weights) > 1:
            k = rng.choice(len(self.weights), size=n, p=self.weights)
        eps = rng.standard_normal((n, self.latent_dim))
        return self.means[k] + np.exp(0.5 * self.log_vars[k]) * eps


def model_prior(model: HaplotypeVAE) -> PriorMixture:
    """The prior a :class:`~vae_genomics.models.vae.HaplotypeVAE` was trained with.

    Any other model with a ``latent_dim`` (e.g. a baseline VAE scored by the same importance-weighted
    bound) and no ``prior_parameters`` method is taken to have the N(0, I) prior.
    """
    getter = getattr(model, "prior_parameters", None)
    params = getter() if callable(getter) else None
    if params is None:
        return PriorMixture.standard_normal(model.latent_dim)
    logits, means, log_vars = (np.asarray(p, dtype=np.float64) for p in params)
    weights = np.exp(logits - logsumexp(logits))
    return PriorMixture(weights / weights.sum(), means, log_vars)
