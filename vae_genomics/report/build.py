"""Assemble one section's report from a trained model and its real haplotypes.

Takes arrays and a model, writes PNG figures and ``index.html`` into the directory it is given.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.evaluation.metrics import reconstruct
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.io import atomic_write_text
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.report.figures import (
    RECONSTRUCTION_LABELS,
    pca_overlay,
    save_figure,
    training_curves,
)
from vae_genomics.report.html import render_report

log = logging.getLogger(__name__)


def reconstruction_set(
    model: HaplotypeVAE, x: np.ndarray, mode: str, rng: np.random.Generator
) -> np.ndarray:
    """Reconstructions of ``x`` (n, n_variants) at the posterior mean, as the report shows them.

    Args:
        model: Trained model.
        x: Real haplotypes.
        mode: ``probabilities`` (decoder output), ``samples`` (Bernoulli draws from it) or
            ``threshold`` (calls at 0.5).
        rng: Random generator for ``samples``.

    Returns:
        float32 array, shape (n, n_variants).
    """
    probs = reconstruct(model, x)
    if mode == "probabilities":
        return probs
    if mode == "samples":
        return (rng.random(probs.shape) < probs).astype(np.float32)
    if mode == "threshold":
        return (probs >= 0.5).astype(np.float32)
    raise ValueError(f"unknown reconstruction mode {mode!r}")


def write_section_report(
    out_dir: Path,
    title: str,
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_val: np.ndarray,
    history: dict[str, list[float]],
    summary: dict[str, Any],
    config: dict[str, Any],
    reconstruction: str = "probabilities",
    n_components: int = 4,
    seed: int = 0,
) -> Path:
    """Write the PCA overlay, training curves and ``index.html`` of one section's run.

    Args:
        out_dir: Directory to write into (created).
        title: Title prefix, e.g. ``section 22_1-99 · run 20261122-101500``.
        model: Trained model.
        x_train: Real training haplotypes (the PCA is fitted on these only).
        x_val: Real held-out haplotypes (grey), reconstructed by the model (red).
        history: Per-epoch numbers as Keras returns them.
        summary: Numbers shown at the top of the page.
        config: Resolved configuration, shown at the end.
        reconstruction: What the red dots show (see :func:`reconstruction_set`).
        n_components: Principal components to fit.
        seed: Seed for Bernoulli sampling.

    Returns:
        Path of ``index.html``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pca = HaplotypePCA(n_components=n_components).fit(x_train)
    recon = reconstruction_set(model, x_val, reconstruction, np.random.default_rng(seed))
    what = RECONSTRUCTION_LABELS[reconstruction]
    fig = pca_overlay(
        pca.transform(x_val),
        pca.transform(recon),
        pca.explained_variance_ratio_,
        title=f"{title}\nPCA fitted on real training haplotypes",
        other_label=f"reconstructions ({what})",
    )
    overlay_png = out_dir / "pca_overlay.png"
    save_figure(fig, overlay_png)
    curves_png = out_dir / "training_curves.png"
    save_figure(training_curves(history, title), curves_png)
    page = render_report(
        title,
        summary,
        [
            (
                overlay_png,
                f"Held-out real haplotypes (grey) and their reconstructions (red: {what}).",
            ),
            (curves_png, "Objective, reconstruction and KL per epoch (nats per haplotype)."),
        ],
        config,
    )
    index = out_dir / "index.html"
    atomic_write_text(index, page)
    log.debug("report written to %s", index)
    return index
