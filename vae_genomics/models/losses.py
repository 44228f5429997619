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


def bound_log_var(raw):
    """Smoothly bound a raw log-variance to (-LOG_VAR_LIMIT, LOG_VAR_LIMIT)."""
    return LOG_VAR_LIMIT * ops.tanh(raw / LOG_VAR_LIMIT)
