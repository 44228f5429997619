"""Pure loss functions of the objective, written with ``keras.ops`` (units: nats).

Shapes: ``x`` and ``logits`` are (batch, n_variants); ``mean`` and ``log_var`` are (batch, latent_dim).
"""

from __future__ import annotations

from keras import ops

#: Bound on the encoder's log-variance, applied smoothly (``L * tanh(raw / L)``): exp(±10) is far
#: beyond any useful posterior variance, and unbounded log-variances overflow to inf/NaN.
LOG_VAR_LIMIT = 10.0


def bernoulli_nll(x, logits):
    """Bernoulli negative log-likelihood, summed over variants.

    ``-log p(x | logits) = sum_j softplus(l_j) - x_j * l_j`` (the sigmoid cross-entropy with logits,
    computed stably). Summed, not averaged, over variants: a mean would silently multiply the KL
    weight by the number of variants.

    Args:
        x: Observed alleles in {0, 1} (any numeric dtype), shape (batch, n_variants).
        logits: Decoder logits, shape (batch, n_variants).

    Returns:
        Nats per haplotype, shape (batch,).
    """
    x = ops.cast(x, logits.dtype)
    return ops.sum(ops.softplus(logits) - x * logits, axis=-1)


def gaussian_kl(mean, log_var):
    """Analytic KL(N(mean, exp(log_var)) || N(0, 1)) per latent dimension.

    ``0.5 * (exp(log_var) + mean**2 - 1 - log_var)``.

    Args:
        mean: Posterior means, shape (batch, latent_dim).
        log_var: Posterior log-variances, shape (batch, latent_dim).

    Returns:
        Nats, shape (batch, latent_dim).
    """
    return 0.5 * (ops.exp(log_var) + ops.square(mean) - 1.0 - log_var)


def diagonal_log_density(z, mean, log_var):
    """log N(z_d; mean_d, exp(log_var_d)) per dimension, nats, shape of ``z`` (broadcasting)."""
    return -0.5 * (_LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var))


def mixture_log_density(z, logits, means, log_vars):
    """log of a diagonal Gaussian mixture density, summed over dimensions.

    ``log sum_k softmax(logits)_k prod_d N(z_d; m_kd, exp(v_kd))``.

    Args:
        z: Codes, shape (batch, L).
        logits: Unnormalised log weights, shape (K,).
        means: Component means, shape (K, L).
        log_vars: Component log-variances, shape (K, L).

    Returns:
        Nats, shape (batch,).
    """
    per_k = ops.sum(diagonal_log_density(z[:, None, :], means[None], log_vars[None]), axis=-1)
    return ops.logsumexp(per_k + ops.log_softmax(logits)[None, :], axis=-1)


def mixture_marginal_log_density(z, logits, means, log_vars):
    """log of each dimension's marginal of the mixture, ``log sum_k pi_k N(z_d; m_kd, exp(v_kd))``.

    Shapes as :func:`mixture_log_density`; returns nats, shape (batch, L).
    """
    per_kd = diagonal_log_density(z[:, None, :], means[None], log_vars[None])
    return ops.logsumexp(per_kd + ops.log_softmax(logits)[None, :, None], axis=1)


def bound_log_var(raw):
    """Smoothly bound a raw log-variance to (-LOG_VAR_LIMIT, LOG_VAR_LIMIT)."""
    return LOG_VAR_LIMIT * ops.tanh(raw / LOG_VAR_LIMIT)


def gaussian_nll(x, mean, log_sigma):
    """Gaussian negative log-likelihood with one global standard deviation, summed over variants.

    ``sum_j (x_j - m_j)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2``.

    Args:
        x: Observed alleles, shape (batch, n_variants).
        mean: Decoder means (probabilities), shape (batch, n_variants).
        log_sigma: Scalar log standard deviation (fixed, learned, or the batch optimum).

    Returns:
        Nats per haplotype, shape (batch,).
    """
    x = ops.cast(x, mean.dtype)
    n = ops.cast(ops.shape(x)[-1], mean.dtype)
    squared = ops.sum(ops.square(x - mean), axis=-1)
    return 0.5 * squared * ops.exp(-2.0 * log_sigma) + n * (log_sigma + 0.5 * _LOG_2PI)


def optimal_log_sigma(x, mean, min_variance: float = 1e-6):
    """log of σ* with σ*² = mean squared error over the batch and variants (Rybkin et al. 2021).

    It maximises the Gaussian likelihood for fixed decoder means; the gradient through σ* is zero at
    the optimum, so it is returned without a stop-gradient.
    """
    x = ops.cast(x, mean.dtype)
    return 0.5 * ops.log(ops.maximum(ops.mean(ops.square(x - mean)), min_variance))


def reencode_squared_error(z, mean_reencoded):
    """Squared distance between a code and the re-encoding of its reconstruction, per dimension.

    ``||z - mu(x_hat)||^2 / L`` (neighbour-embedding VAE, squared-error variant).

    Args:
        z: Latent codes of the inputs, shape (batch, L).
        mean_reencoded: Posterior means of the reconstructions, shape (batch, L).

    Returns:
        shape (batch,).
    """
    return ops.mean(ops.square(z - mean_reencoded), axis=-1)


def reencode_log_prob(z, mean_reencoded, log_var_reencoded, cap: float):
    """Capped negative log-probability of a code under the re-encoded posterior.

    ``sum_j max(c, -log N(z_j; mu_j(x_hat), sigma_j^2(x_hat)))`` (neighbour-embedding VAE,
    log-probability variant). Dimensions already more likely than ``exp(-c)`` contribute the constant
    ``c`` and no gradient, which stops the posterior variances from shrinking without bound.

    Args:
        z: Latent codes of the inputs, shape (batch, L).
        mean_reencoded: Posterior means of the reconstructions, shape (batch, L).
        log_var_reencoded: Posterior log-variances of the reconstructions, shape (batch, L).
        cap: The cap c in nats.

    Returns:
        Nats, shape (batch,).
    """
    nll = 0.5 * (
        _LOG_2PI + log_var_reencoded + ops.square(z - mean_reencoded) * ops.exp(-log_var_reencoded)
    )
    return ops.sum(ops.maximum(nll, cap), axis=-1)


_LOG_2PI = 1.8378770664093453  # log(2 pi)
