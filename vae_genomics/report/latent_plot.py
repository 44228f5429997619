"""The latent-space figure: posterior means of held-out haplotypes, coloured by population.

Left: the two most active latent dimensions as they are. Right: a 2-D PCA of all active
dimensions (plain PCA of the means, centred; not the haplotype PCA of the other figures), so
structure spread over more than two dimensions shows. One legend for the whole figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from vae_genomics.report.palette import population_styles


def _pca2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First two principal-component scores of ``x`` (n, d) and their explained-variance ratios."""
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s**2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    scores = centred @ vt[:2].T
    if scores.shape[1] < 2:
        scores = np.column_stack([scores, np.zeros(len(x))])
        ratio = np.append(ratio, 0.0)
    return scores, ratio[:2]


def latent_scatter(
    means: np.ndarray,
    activity: Sequence[float],
    active: Sequence[bool],
    title: str,
    populations: np.ndarray | None = None,
    groups: Mapping[str, str] | None = None,
) -> plt.Figure:
    """Posterior means in the two most active dimensions and in a PCA of the active ones.

    Args:
        means: Posterior means, shape (n, latent_dim).
        activity: Activity per dimension, shape (latent_dim,).
        active: Whether each dimension is active, shape (latent_dim,).
        title: Figure title (include the section name).
        populations: Population label per row, shape (n,), or ``None`` (one colour).
        groups: Population → superpopulation (colours grouped by it), or ``None``.
    """
    means = np.asarray(means, dtype=float)
    order = [int(d) for d in np.argsort(-np.asarray(activity, dtype=float))]
    on = [d for d in order if active[d]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.4), layout="constrained")
    if not on:
        for ax in axes:
            ax.text(0.5, 0.5, "no active latent dimension\n(posterior collapse)", ha="center",
                    va="center", fontsize=11)  # fmt: skip
            ax.set_axis_off()
        fig.suptitle(title, fontsize=12)
        return fig
    pair = (on + [d for d in order if d not in on])[:2]
    left = (
        means[:, pair]
        if len(pair) == 2
        else np.column_stack([means[:, pair[0]], np.zeros(len(means))])
    )
    right, ratio = _pca2(means[:, on])
    labels = np.asarray(populations).astype(str) if populations is not None else None
    styles = population_styles(labels, groups) if labels is not None else {}
    for ax, coords in zip(axes, (left, right), strict=True):
        if labels is None:
            ax.scatter(coords[:, 0], coords[:, 1], s=12, c="#0072B2", alpha=0.6, lw=0)
        else:
            for pop, style in styles.items():
                mask = labels == pop
                ax.scatter(coords[mask, 0], coords[mask, 1], s=16, color=style.colour,
                           marker=style.marker, alpha=0.75, lw=0.2, edgecolors="k",
                           label=f"{style.label} (n={int(mask.sum())})")  # fmt: skip
        ax.grid(alpha=0.3)
    names = [f"z{d + 1}" + ("" if active[d] else " (inactive)") for d in pair]
    axes[0].set_xlabel(f"{names[0]} posterior mean (activity {activity[pair[0]]:.2f})")
    if len(pair) == 2:
        axes[0].set_ylabel(f"{names[1]} posterior mean (activity {activity[pair[1]]:.2f})")
    axes[0].set_title("the two most active latent dimensions", fontsize=10)
    axes[1].set_xlabel(f"latent PC1 ({100 * ratio[0]:.0f}% of the active dimensions' variance)")
    axes[1].set_ylabel(f"latent PC2 ({100 * ratio[1]:.0f}%)")
    axes[1].set_title(f"PCA of the {len(on)} active dimensions", fontsize=10)
    if styles:
        handles, texts = axes[0].get_legend_handles_labels()
        fig.legend(handles, texts, loc="outside right upper", fontsize=7, markerscale=1.3,
                   ncol=1 if len(styles) <= 14 else 2, title="population")  # fmt: skip
    fig.suptitle(f"{title}\nposterior means of held-out haplotypes", fontsize=12)
    return fig
