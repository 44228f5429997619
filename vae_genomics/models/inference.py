"""A trained model's forward passes in batches: posterior parameters and reconstructions (numpy out)."""

from __future__ import annotations

import numpy as np

from vae_genomics.models.vae import HaplotypeVAE


def encode(
    model: HaplotypeVAE, x: np.ndarray, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances.

    Args:
        model: Trained model.
        x: Haplotypes, shape (n, n_variants), int8 or float.
        batch_size: Rows per forward pass.

    Returns:
        ``(mean, log_var)``, each float32 of shape (n, latent_dim).
    """
    means, log_vars = [], []
    for i in range(0, len(x), batch_size):
        m, lv = model.encode(x[i : i + batch_size], training=False)
        means.append(np.asarray(m))
        log_vars.append(np.asarray(lv))
    return np.concatenate(means), np.concatenate(log_vars)


def reconstruct(model: HaplotypeVAE, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decoder probabilities at the posterior mean, shape (n, n_variants), float32 in (0, 1)."""
    out = []
    for i in range(0, len(x), batch_size):
        logits = np.asarray(model(x[i : i + batch_size], training=False), dtype=np.float64)
        out.append((1.0 / (1.0 + np.exp(-logits))).astype(np.float32))
    return np.concatenate(out)
