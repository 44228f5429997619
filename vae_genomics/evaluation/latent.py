"""How the latent space is used: per-dimension activity and KL, mutual information, re-encoding error.

Definitions (nats; q(z|x) = N(mean, exp(log_var)) diagonal, p(z) = N(0, I), L latent dimensions):

- activity of dimension j: ``Var_x(E_q[z_j | x])`` over haplotypes; active when above 0.01
  (Burda et al. 2016).
- KL of dimension j: batch mean of the analytic KL(q(z_j|x) || N(0, 1)).
- mutual information ``I_q(x; z) = E_x E_q(z|x)[log q(z|x) - log q(z)]`` with the aggregate posterior
  q(z) approximated by the mixture of the batch's posteriors (Hoffman & Johnson 2016; He et al. 2019).
  Equivalently ``E_x[KL(q(z|x) || p(z))] - KL(q(z) || p(z))``; the second term is returned as
  ``aggregate_kl``, the gap between rate and information that harms prior sampling.
- re-encoding error ``||mu(x) - mu(x_hat)||² / L`` with x_hat the decoder *probabilities* at the
  posterior mean (deterministic, no sampling): the neighbour-embedding VAE's squared-error re-encoding
  term, evaluated at the mean rather than at a posterior draw so it is reproducible (a draw is an
  option; see :func:`reencoding_error`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from vae_genomics.evaluation.metrics import active_units
from vae_genomics.generate.prior import PriorMixture
from vae_genomics.generate.samplers import decode_probabilities
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

_LOG_2PI = float(np.log(2.0 * np.pi))

#: Default minibatch size of the mutual-information estimate (its upper bound is log of it).
MI_BATCH_SIZE = 2048


def latent_statistics(
    mean: np.ndarray,
    log_var: np.ndarray,
    threshold: float = 0.01,
    prior: PriorMixture | None = None,
    seed: int = 0,
) -> dict[str, int | float | list]:
    """Per-dimension activity and KL, and the active-unit count.

    Args:
        mean: Posterior means, shape (n, latent_dim).
        log_var: Posterior log-variances, shape (n, latent_dim).
        threshold: Activity above which a dimension is active.
        prior: The model's prior (default N(0, I): the analytic KL). A learned mixture gives
            one-draw Monte Carlo estimates: ``kl`` is E[log q(z|x) - log p(z)] and ``kl_per_dim``
            each dimension's KL from the prior's marginal there (these do not sum to ``kl``).
        seed: Seed of the draws for a learned prior.

    Returns:
        ``active_units`` (int), ``activity`` (list, L), ``active`` (list of bool, L),
        ``kl_per_dim`` (list, L; nats per haplotype) and ``kl`` (nats per haplotype).
    """
    mean = np.asarray(mean, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    count, activity = active_units(mean, threshold)
    if prior is None or prior.is_standard_normal:
        kl_per_dim = (0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var)).mean(axis=0)
        kl = float(kl_per_dim.sum())
    else:
        eps = np.random.default_rng(seed).standard_normal(mean.shape)
        z = mean + np.exp(0.5 * log_var) * eps
        log_q = -0.5 * (eps**2 + log_var + _LOG_2PI)
        kl_per_dim = (log_q - prior.marginal_log_density(z)).mean(axis=0)
        kl = float((log_q.sum(axis=1) - prior.log_density(z)).mean())
    return {
        "active_units": count,
        "activity": activity.tolist(),
        "active": (activity > threshold).tolist(),
        "kl_per_dim": kl_per_dim.tolist(),
        "kl": kl,
    }


def _log_q_matrix(z: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """log N(z_i; mean_j, diag exp(log_var_j)) for all i, j, shape (len(z), len(mean)).

    Expanded into matrix products so no (i, j, L) array is formed.
    """
    w = np.exp(-log_var)
    const = (mean**2 * w).sum(axis=1) + log_var.sum(axis=1) + mean.shape[1] * _LOG_2PI
    quad = (z**2) @ w.T - 2.0 * z @ (mean * w).T + const[None, :]
    return -0.5 * quad


def _mi_batch(
    mean: np.ndarray, log_var: np.ndarray, rng: np.random.Generator, chunk_size: int
) -> np.ndarray:
    """Per-haplotype terms log q(z_i|x_i) - log q(z_i) of one batch, shape (b,)."""
    b = len(mean)
    eps = rng.standard_normal(mean.shape)
    z = mean + np.exp(0.5 * log_var) * eps
    log_q_own = -0.5 * np.sum(eps**2 + log_var + _LOG_2PI, axis=1)
    log_q_agg = np.empty(b)
    for start in range(0, b, chunk_size):
        stop = min(start + chunk_size, b)
        m = _log_q_matrix(z[start:stop], mean, log_var)
        rows = np.arange(stop - start)
        # the own-component term exactly as in the numerator, so each term is <= log b
        m[rows, start + rows] = log_q_own[start:stop]
        log_q_agg[start:stop] = logsumexp(m, axis=1) - np.log(b)
    return log_q_own - log_q_agg


def mutual_information(
    mean: np.ndarray,
    log_var: np.ndarray,
    batch_size: int = MI_BATCH_SIZE,
    seed: int | np.random.Generator | None = 0,
    chunk_size: int = 512,
) -> dict[str, float | int]:
    """Minibatch estimate of I_q(x; z) (module docstring), one posterior draw per haplotype.

    Haplotypes are shuffled and split into ``max(1, n // batch_size)`` near-equal batches (each of at
    least ``batch_size`` rows when n allows); in a batch of b rows, q(z) is the mixture of its b
    posteriors, so each term, and the estimate, is at most log b. Large batches reduce the downward
    bias of the estimate when the true information approaches log b.

    Args:
        mean: Posterior means, shape (n, latent_dim).
        log_var: Posterior log-variances, shape (n, latent_dim).
        batch_size: Minimum rows per batch of the aggregate-posterior mixture.
        seed: Seed or generator of the shuffle and the posterior draws.
        chunk_size: Rows per chunk of each batch's (b, b) log-density matrix.

    Returns:
        ``mi`` (nats), ``upper_bound`` (mean over haplotypes of log of their batch size; mi <= it),
        ``aggregate_kl`` (mean analytic KL(q(z|x) || p(z)) minus ``mi``, an estimate of
        KL(q(z) || p(z))), ``kl`` (that mean analytic KL) and ``n_batches``.
    """
    mean = np.asarray(mean, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    rng = np.random.default_rng(seed)
    n = len(mean)
    batches = np.array_split(rng.permutation(n), max(1, n // batch_size))
    terms = np.concatenate([_mi_batch(mean[i], log_var[i], rng, chunk_size) for i in batches])
    upper = float(sum(len(i) * np.log(len(i)) for i in batches) / n)
    mi = float(terms.mean())
    kl = float((0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var)).sum(axis=1).mean())
    return {
        "mi": mi,
        "upper_bound": upper,
        "aggregate_kl": kl - mi,
        "kl": kl,
        "n_batches": len(batches),
    }


def reencoding_error(
    model: HaplotypeVAE,
    x: np.ndarray,
    from_sample: bool = False,
    seed: int | np.random.Generator | None = 0,
    batch_size: int = 1024,
) -> dict[str, float | list | np.ndarray]:
    """Re-encoding error ``||c(x) - mu(x_hat)||² / L``, x_hat the decoder probabilities at c(x).

    By default ``c(x) = mu(x)``, the posterior mean (deterministic). A collapsed dimension then
    contributes about 0, since both means sit at the prior's. With ``from_sample=True``, ``c(x)`` is a
    posterior draw z ~ q(z|x), as in the neighbour-embedding VAE's squared-error loss; collapsed
    dimensions then contribute about their posterior variance (about 1), which is why that paper
    reads a high re-encoding error as a sign of collapse.

    Args:
        model: Trained model.
        x: Haplotypes, shape (n, n_variants).
        from_sample: Re-encode from a posterior draw instead of the posterior mean.
        seed: Seed or generator of the posterior draw (``from_sample`` only).
        batch_size: Rows per forward pass.

    Returns:
        ``mean`` (over haplotypes and dimensions; squared latent units), ``per_dim`` (list, L: mean
        squared difference of each dimension) and ``per_haplotype`` (n,).
    """
    mu, log_var = encode(model, x, batch_size)
    code = mu.astype(np.float64)
    if from_sample:
        rng = np.random.default_rng(seed)
        code = code + np.exp(0.5 * log_var.astype(np.float64)) * rng.standard_normal(code.shape)
    x_hat = decode_probabilities(model, code, batch_size)
    mu_hat, _ = encode(model, x_hat, batch_size)
    err = (code - mu_hat.astype(np.float64)) ** 2
    return {
        "mean": float(err.mean()),
        "per_dim": err.mean(axis=0).tolist(),
        "per_haplotype": err.mean(axis=1),
    }
