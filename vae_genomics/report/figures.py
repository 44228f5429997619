"""Figures (matplotlib, Agg backend): PNG at a readable size, labelled axes, legends, section titles."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from vae_genomics.io import atomic_write_bytes

#: What each reconstruction mode shows, for legends and captions.
RECONSTRUCTION_LABELS = {
    "probabilities": "decoder probabilities at the posterior mean",
    "samples": "Bernoulli samples from the decoder at the posterior mean",
    "threshold": "calls thresholded at 0.5 at the posterior mean",
}


def save_figure(fig: plt.Figure, path: Path, dpi: int = 110) -> None:
    """Write ``fig`` as PNG atomically and close it."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def pca_overlay(
    real: np.ndarray,
    other: np.ndarray,
    explained: np.ndarray,
    title: str,
    other_label: str,
    real_label: str = "real held-out haplotypes",
) -> plt.Figure:
    """Before/after PCA overlay: real haplotypes in grey, decoded or generated ones in red.

    Args:
        real: PCA coordinates of real haplotypes, shape (n_real, n_components >= 2).
        other: PCA coordinates of the decoded/generated set, shape (n_other, n_components).
        explained: Explained variance ratio of each component (of the PCA fitted on real training
            haplotypes), shape (n_components,).
        title: Figure title (include the section name).
        other_label: Legend text of the red set (say what it shows).
        real_label: Legend text of the grey set.

    Returns:
        The figure: one panel per component pair (PC1–PC2, PC3–PC4 when available).
    """
    n_comp = real.shape[1]
    pairs = [(0, 1)] + ([(2, 3)] if n_comp >= 4 else [])
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.2 * len(pairs), 5.6), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs, strict=True):
        ax.scatter(real[:, i], real[:, j], s=14, c="0.6", alpha=0.7, label=real_label, lw=0)
        ax.scatter(other[:, i], other[:, j], s=10, c="tab:red", alpha=0.6, label=other_label, lw=0)
        ax.set_xlabel(f"PC{i + 1} ({100 * explained[i]:.1f}% of variance)")
        ax.set_ylabel(f"PC{j + 1} ({100 * explained[j]:.1f}% of variance)")
        ax.set_title(f"PC{i + 1} vs PC{j + 1}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="best", fontsize=8, framealpha=0.9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def training_curves(history: dict[str, list[float]], title: str) -> plt.Figure:
    """Reconstruction, KL and total objective per epoch, training and validation."""
    panels = [("loss", "objective (nats/haplotype)"), ("reconstruction", "reconstruction NLL"),
              ("kl", "KL (nats/haplotype)")]  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 4.2))
    for ax, (key, label) in zip(axes, panels, strict=True):
        epochs = np.arange(1, len(history.get(key, [])) + 1)
        if key in history:
            ax.plot(epochs, history[key], label="training")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
