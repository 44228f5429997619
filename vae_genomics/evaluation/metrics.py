"""Held-out objective and latent statistics of a trained model (numpy in, numbers out)."""

from __future__ import annotations

import numpy as np

from vae_genomics.models.vae import HaplotypeVAE


def heldout_objective(
    model: HaplotypeVAE,
    x: np.ndarray,
    n_samples: int = 8,
    batch_size: int = 1024,
    seed: int | np.random.Generator = 0,
) -> dict[str, float | list[float]]:
    """The training objective on held-out haplotypes, averaged over posterior samples.

    The posterior draws come from a Keras generator of their own, created from ``seed`` for this
    call, not from the model's noise generator: that one's state is wherever earlier draws left
    it (the training steps before, an earlier evaluation, or its initial state in a model loaded
    from ``model.keras``, which does not keep it), so the same model would give other numbers
    depending on what ran before. The model's generator is not advanced.

    Args:
        model: Trained model.
        x: Held-out haplotypes, shape (n, n_variants).
        n_samples: Posterior samples per haplotype for the reconstruction term.
        batch_size: Rows per forward pass.
        seed: Seed of the posterior draws (or a numpy generator to take one from).

    Returns:
        Nats per haplotype: ``loss`` (reconstruction + beta * KL), ``neg_elbo`` (reconstruction + KL),
        ``reconstruction`` (distortion), ``kl`` (rate), ``kl_weight`` and ``kl_per_dim`` (list, L).
    """
    import keras

    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**31 - 1))
    noise = keras.random.SeedGenerator(int(seed))
    rec_total, kl_total, kl_dim_total = 0.0, 0.0, np.zeros(model.latent_dim)
    for i in range(0, len(x), batch_size):
        batch = x[i : i + batch_size]
        for _ in range(n_samples):
            terms = model.objective(batch, training=False, noise=noise)
            # objective() returns batch means: weight by the batch size. The KL is analytic (the
            # same every sample) under N(0, I) and a one-draw estimate under a learned prior.
            weight = len(batch) / n_samples
            rec_total += float(terms["reconstruction"]) * weight
            kl_total += float(terms["kl"]) * weight
            kl_dim_total += np.asarray(terms["kl_per_dim"], dtype=np.float64) * weight
    n = len(x)
    kl_per_dim = kl_dim_total / n
    rec, kl, beta = rec_total / n, kl_total / n, float(model.kl_weight.numpy())
    return {
        "loss": rec + beta * kl,
        "neg_elbo": rec + kl,
        "reconstruction": rec,
        "kl": kl,
        "kl_weight": beta,
        "kl_per_dim": kl_per_dim.tolist(),
    }


def active_units(mean: np.ndarray, threshold: float = 0.01) -> tuple[int, np.ndarray]:
    """Active units (Burda et al. 2016): dimensions whose posterior mean varies across data.

    Args:
        mean: Posterior means E_q[z | x], shape (n, latent_dim).
        threshold: Activity ``Cov_x(E_q[z_j])`` above which a dimension counts as active.

    Returns:
        ``(count, activity)`` with activity of shape (latent_dim,).
    """
    activity = np.var(np.asarray(mean, dtype=np.float64), axis=0)
    return int((activity > threshold).sum()), activity
