"""Samplers: posterior reconstructions, prior samples, and a Gaussian mixture on the aggregate posterior.

Every sampler returns decoder *probabilities* and what is drawn from them, so the report can state
which one it shows:

- ``probabilities``: sigmoid of the decoder logits, in (0, 1);
- ``samples``: independent Bernoulli draws from those probabilities, 0/1;
- ``threshold``: calls at 0.5 (``p >= 0.5`` is ALT), 0/1 (posterior reconstructions only).

The mixture sampler (``seeds/004``, section 2.1) fits a Gaussian mixture to the aggregate posterior
q(z) = mean_x q(z|x) of the training haplotypes and decodes draws from it instead of from N(0, I):
the decoder only ever saw codes from the encoder, so where q(z) differs from the prior, prior samples
land in regions the decoder never learnt ("holes"). Randomness comes from numpy generators made
from a seed, so a seed reproduces the samples.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
from scipy.special import expit
from sklearn.mixture import GaussianMixture

from vae_genomics.generate.prior import model_prior
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

log = logging.getLogger(__name__)

Seed = int | np.random.Generator | None


def decode_logits(model: HaplotypeVAE, z: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decoder logits for latent codes ``z`` (n, latent_dim): float32, shape (n, n_variants)."""
    z = np.asarray(z, dtype=np.float32)
    out = np.empty((len(z), model.n_variants), dtype=np.float32)
    for start in range(0, len(z), batch_size):
        out[start : start + batch_size] = model.decode(
            z[start : start + batch_size], training=False
        )
    return out


def decode_probabilities(model: HaplotypeVAE, z: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decoder probabilities for latent codes.

    Args:
        model: Trained model.
        z: Latent codes, shape (n, latent_dim).
        batch_size: Rows per forward pass.

    Returns:
        float32 array in (0, 1), shape (n, n_variants).
    """
    return expit(decode_logits(model, z, batch_size).astype(np.float64)).astype(np.float32)


def bernoulli_draws(probabilities: np.ndarray, seed: Seed = 0) -> np.ndarray:
    """Independent Bernoulli draws, float32 0/1 of the same shape as ``probabilities``."""
    rng = np.random.default_rng(seed)
    return (rng.random(np.shape(probabilities)) < probabilities).astype(np.float32)


def posterior_reconstructions(
    model: HaplotypeVAE, x: np.ndarray, seed: Seed = 0, batch_size: int = 1024
) -> dict[str, np.ndarray]:
    """Reconstructions of ``x`` from the posterior mean.

    Args:
        model: Trained model.
        x: Haplotypes, shape (n, n_variants).
        seed: Seed or generator of the Bernoulli draws.
        batch_size: Rows per forward pass.

    Returns:
        ``latent`` (posterior means, (n, latent_dim)), ``probabilities``, ``samples`` and
        ``threshold``, each float32 of shape (n, n_variants).
    """
    mean, _ = encode(model, x, batch_size)
    probabilities = decode_probabilities(model, mean, batch_size)
    return {
        "latent": mean,
        "probabilities": probabilities,
        "samples": bernoulli_draws(probabilities, seed),
        "threshold": (probabilities >= 0.5).astype(np.float32),
    }


def decode_latent(
    model: HaplotypeVAE, z: np.ndarray, seed: Seed = 0, batch_size: int = 1024
) -> dict[str, np.ndarray]:
    """Decode codes ``z`` (n, latent_dim): ``latent``, ``probabilities`` and ``samples``."""
    probabilities = decode_probabilities(model, z, batch_size)
    return {
        "latent": np.asarray(z, dtype=np.float32),
        "probabilities": probabilities,
        "samples": bernoulli_draws(probabilities, seed),
    }


def sample_prior(
    model: HaplotypeVAE, n: int, seed: Seed = 0, batch_size: int = 1024
) -> dict[str, np.ndarray]:
    """Generate ``n`` haplotypes from the model's prior (N(0, I) or its learned mixture), decoded
    (see :func:`decode_latent`)."""
    rng = np.random.default_rng(seed)
    z = model_prior(model).sample(n, rng)
    return decode_latent(model, z, rng, batch_size)


class AggregatePosteriorGMM:
    """Gaussian mixture fitted to the aggregate posterior of training haplotypes (scikit-learn style).

    Args:
        n_components: Number of mixture components; ``None`` chooses it over
            ``1..max_components`` by ``criterion``.
        max_components: Largest number tried when choosing.
        criterion: ``bic`` (lowest BIC on the fit points) or ``heldout`` (highest mean
            log-likelihood of a held-out fifth of the points under a mixture fitted to the other
            four fifths; the chosen number is then refitted on all points).
        source: Fit on ``samples`` (draws z ~ q(z|x), the aggregate posterior itself) or on the
            posterior ``means`` (ignores the posterior spread, so it is narrower than q(z)).
        draws_per_haplotype: Draws per haplotype when ``source="samples"``.
        covariance_type: ``full`` or ``diag``.
        reg_covar: Added to the covariance diagonals (numerical floor).
        n_init: Initialisations per fit (the best is kept).
        random_state: Seed of the posterior draws and the mixture fits.

    Attributes:
        n_components_: Components of the fitted mixture.
        bic_: BIC of each candidate number of components (only when chosen by BIC), ``{k: bic}``.
        heldout_loglik_: Mean held-out log-likelihood per candidate (only ``criterion="heldout"``),
            nats per code, ``{k: value}``.
        gmm_: The fitted :class:`sklearn.mixture.GaussianMixture`.
        weights_: Mixture weights, shape (n_components_,).
        means_: Component means, shape (n_components_, latent_dim).
        covariances_: Full covariance matrices, shape (n_components_, latent_dim, latent_dim).
        n_fit_points_: Number of latent points the mixture was fitted on.
    """

    def __init__(
        self,
        n_components: int | None = None,
        max_components: int = 8,
        source: Literal["samples", "means"] = "samples",
        criterion: Literal["bic", "heldout"] = "bic",
        draws_per_haplotype: int = 1,
        covariance_type: Literal["full", "diag"] = "full",
        reg_covar: float = 1e-6,
        n_init: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.max_components = max_components
        self.source = source
        self.criterion = criterion
        self.draws_per_haplotype = draws_per_haplotype
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.n_init = n_init
        self.random_state = random_state

    def _points(self, mean: np.ndarray, log_var: np.ndarray | None) -> np.ndarray:
        mean = np.asarray(mean, dtype=np.float64)
        if self.source == "means":
            return mean
        if self.source != "samples":
            raise ValueError(f"source must be 'samples' or 'means', got {self.source!r}")
        if log_var is None:
            raise ValueError("source='samples' needs the posterior log-variances (log_var)")
        rng = np.random.default_rng(self.random_state)
        std = np.exp(0.5 * np.asarray(log_var, dtype=np.float64))
        eps = rng.standard_normal((self.draws_per_haplotype, *mean.shape))
        return (mean[None] + std[None] * eps).reshape(-1, mean.shape[1])

    def _fit_one(self, points: np.ndarray, k: int) -> GaussianMixture:
        from threadpoolctl import threadpool_limits

        # latent_dim x latent_dim algebra and a k-means start: one BLAS and one OpenMP thread are
        # faster (threads on busy cores spin-wait; 60x slower on a loaded 2-core machine and
        # another 7x from OpenMP, BENCHMARKS.md)
        with threadpool_limits(limits=1):
            return GaussianMixture(
                n_components=k,
                covariance_type=self.covariance_type,
                reg_covar=self.reg_covar,
                n_init=self.n_init,
                random_state=self.random_state,
            ).fit(points)

    def fit(self, mean: np.ndarray, log_var: np.ndarray | None = None) -> AggregatePosteriorGMM:
        """Fit on the posteriors of training haplotypes.

        Args:
            mean: Posterior means, shape (n, latent_dim).
            log_var: Posterior log-variances, shape (n, latent_dim) (needed for ``samples``).

        Returns:
            self.
        """
        points = self._points(mean, log_var)
        if self.n_components is not None:
            self.gmm_ = self._fit_one(points, self.n_components)
        elif self.criterion == "heldout" and len(points) >= 10:
            rng = np.random.default_rng(self.random_state)
            order = rng.permutation(len(points))
            cut = len(points) // 5
            fit_points, test_points = points[order[cut:]], points[order[:cut]]
            candidates = range(1, min(self.max_components, len(fit_points)) + 1)
            self.heldout_loglik_ = {
                k: float(self._fit_one(fit_points, k).score(test_points)) for k in candidates
            }
            best = max(self.heldout_loglik_, key=self.heldout_loglik_.get)
            self.gmm_ = self._fit_one(points, best)
            log.info("aggregate-posterior GMM: held-out likelihood chose %d components", best)
        else:
            if self.criterion not in ("bic", "heldout"):
                raise ValueError(f"criterion must be 'bic' or 'heldout', got {self.criterion!r}")
            candidates = range(1, min(self.max_components, len(points)) + 1)
            fits = {k: self._fit_one(points, k) for k in candidates}
            self.bic_ = {k: float(gmm.bic(points)) for k, gmm in fits.items()}
            self.gmm_ = fits[min(self.bic_, key=self.bic_.get)]
            log.info("aggregate-posterior GMM: BIC chose %d components", self.gmm_.n_components)
        self.n_components_ = int(self.gmm_.n_components)
        self.n_fit_points_ = len(points)
        self.weights_ = self.gmm_.weights_
        self.means_ = self.gmm_.means_
        cov = self.gmm_.covariances_
        self.covariances_ = cov if cov.ndim == 3 else np.stack([np.diag(c) for c in cov])
        return self

    def sample(self, n: int, seed: Seed = 0) -> np.ndarray:
        """Draw ``n`` latent codes, shape (n, latent_dim), float64, in random component order."""
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(n, self.weights_ / self.weights_.sum())
        chol = np.linalg.cholesky(self.covariances_)
        parts = [
            self.means_[c] + rng.standard_normal((m, self.means_.shape[1])) @ chol[c].T
            for c, m in enumerate(counts)
        ]
        return np.concatenate(parts)[rng.permutation(n)]

    def score_samples(self, z: np.ndarray) -> np.ndarray:
        """Log density of codes under the mixture, shape (n,), nats."""
        return self.gmm_.score_samples(np.asarray(z, dtype=np.float64))


def sample_gmm(
    model: HaplotypeVAE,
    gmm: AggregatePosteriorGMM,
    n: int,
    seed: Seed = 0,
    batch_size: int = 1024,
) -> dict[str, np.ndarray]:
    """Generate ``n`` haplotypes from a fitted aggregate-posterior mixture (see :func:`decode_latent`)."""
    rng = np.random.default_rng(seed)
    return decode_latent(model, gmm.sample(n, rng), rng, batch_size)
