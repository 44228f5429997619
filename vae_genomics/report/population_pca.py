"""A region sampled by population, in PCA space: real held-out haplotypes of each requested group
beside that group's synthetic ones, one colour per group, on axes fitted to the real training
haplotypes (``sample --region ... --populations``: ``<out>.populations.png``)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from vae_genomics.common.io import atomic_write_bytes
from vae_genomics.report.palette import population_styles


def population_pca_figure(
    x_train: np.ndarray,
    real: Mapping[str, np.ndarray],
    synthetic: Mapping[str, np.ndarray],
    path: str | Path,
    overwrite: bool = True,
    max_points: int = 1000,
) -> Path:
    """Two PCA panels on one scale: the held-out real haplotypes of each group (left) and the
    group's synthetic haplotypes (right), each group in its own colour.

    Args:
        x_train: Real training haplotypes over the region (the PCA's fit), (n_train, n_sites).
        real: Group → its held-out real haplotypes, (n_g, n_sites).
        synthetic: Group → its synthetic haplotypes, (m_g, n_sites).
        path: The PNG to write.
        overwrite: Replace an existing file (else the final rename is exclusive).
        max_points: Most points drawn per group and panel (the first ones).

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vae_genomics.evaluation.pca import HaplotypePCA

    pca = HaplotypePCA(n_components=2, random_state=0).fit(x_train)
    styles = population_styles(list(synthetic))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True,
                             layout="constrained")  # fmt: skip
    for ax, sets, title in ((axes[0], real, "real held-out"), (axes[1], synthetic, "synthetic")):
        for name, x in sets.items():
            pcs = pca.transform(np.asarray(x)[:max_points])
            style = styles[name]
            ax.scatter(pcs[:, 0], pcs[:, 1], s=6, alpha=0.5, color=style.colour,
                       marker=style.marker, label=f"{name} ({len(x):,})")  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("PC1 (real training haplotypes)")
        ax.legend(fontsize=8, markerscale=2)
    axes[0].set_ylabel("PC2")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130)
    plt.close(fig)
    atomic_write_bytes(Path(path), buffer.getvalue(), overwrite=overwrite, refuse_link=True)
    return Path(path)
