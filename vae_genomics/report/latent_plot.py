"""The latent figures: the latent space, the activity per dimension and the latent traversals.

The latent space shows the posterior means of held-out haplotypes, coloured by population.

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

from vae_genomics.report.figures import REAL_GREY, bp_axis
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


def latent_activity(
    activity: Sequence[float],
    kl_per_dim: Sequence[float],
    title: str,
    threshold: float = 0.01,
) -> plt.Figure:
    """Per-dimension activity (log scale, with the active-unit threshold) and KL, as bars.

    Args:
        activity: ``Var_x E_q[z_j]`` per dimension, shape (L,).
        kl_per_dim: Mean KL per dimension, nats per haplotype, shape (L,).
        title: Figure title (include the section name).
        threshold: Activity above which a dimension is active.
    """
    activity = np.asarray(activity, dtype=float)
    kl = np.asarray(kl_per_dim, dtype=float)
    dims = np.arange(1, len(activity) + 1)
    active = activity > threshold
    colours = np.where(active, "tab:blue", "0.7")
    fig, axes = plt.subplots(
        1, 2, figsize=(max(9.0, 0.45 * len(dims) + 6), 4.0), layout="constrained"
    )
    ax = axes[0]
    ax.bar(dims, np.maximum(activity, 1e-6), color=colours)
    ax.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"active above {threshold:g}")
    ax.set_yscale("log")
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("activity  Var_x E_q[z_j]  (log scale)")
    ax.set_title(f"activity: {int(active.sum())} of {len(dims)} dimensions active", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.bar(dims, kl, color=colours)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("KL(q(z_j|x) || N(0,1))  (nats/haplotype)")
    ax.set_title(f"KL per dimension (total {kl.sum():.2f} nats); grey = inactive", fontsize=10)
    for ax in axes:
        ax.set_xticks(dims)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title, fontsize=12)
    return fig


def latent_traversals(
    traversals: Mapping[str, object],
    title: str,
    pca_real: np.ndarray | None = None,
    pca_paths: np.ndarray | None = None,
    activity: Sequence[float] | None = None,
    kl_per_dim: Sequence[float] | None = None,
    positions: np.ndarray | None = None,
) -> plt.Figure:
    """One row per traversed dimension: change of the decoded ALT probabilities, and the PCA path.

    Args:
        traversals: From :func:`vae_genomics.evaluation.summary.latent_traversals`: ``values``
            (steps,), ``dims`` (0-based), ``centre_probabilities`` (n_variants,) and
            ``probabilities`` (dims, steps, n_variants).
        title: Figure title (include the section name).
        pca_real: PCA coordinates of real held-out haplotypes (grey background of the paths).
        pca_paths: PCA coordinates of the traversal's decoded probabilities, (dims, steps, >= 2).
        activity: Activity per dimension (for row titles).
        kl_per_dim: KL per dimension (for row titles).
        positions: bp position of each variant (x axis in bp; variant index when None).
    """
    dims = list(traversals["dims"])
    values = np.asarray(traversals["values"])
    if not dims:
        fig, ax = plt.subplots(figsize=(8, 2.2), layout="constrained")
        ax.text(0.5, 0.5, "No active latent dimension: nothing to traverse (posterior collapse).",
                ha="center", va="center", fontsize=11)  # fmt: skip
        ax.set_axis_off()
        fig.suptitle(title, fontsize=12)
        return fig
    probs = np.asarray(traversals["probabilities"], dtype=float)
    delta = probs - np.asarray(traversals["centre_probabilities"], dtype=float)[None, None, :]
    limit = max(float(np.abs(delta).max()), 0.05)
    with_paths = pca_real is not None and pca_paths is not None
    fig = plt.figure(
        figsize=(14 if with_paths else 11, 1.9 * len(dims) + 1.6), layout="constrained"
    )
    grid = fig.add_gridspec(len(dims), 2 if with_paths else 1,
                            width_ratios=[3.4, 1] if with_paths else [1])  # fmt: skip
    image, heat_axes = None, []
    for row, d in enumerate(dims):
        ax = fig.add_subplot(grid[row, 0])
        heat_axes.append(ax)
        image = ax.imshow(
            delta[row], aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
            interpolation="nearest", origin="lower",
            extent=(0.5, delta.shape[2] + 0.5, values[0], values[-1]),
        )  # fmt: skip
        heading = f"z{d + 1}"
        if activity is not None and kl_per_dim is not None:
            heading += f" (activity {activity[d]:.2f}, KL {kl_per_dim[d]:.2f} nats)"
        ax.set_title(heading, fontsize=9, loc="left")
        ax.set_ylabel(f"z{d + 1} value")
        if positions is not None:
            bp_axis(ax.xaxis, positions, offset=1.0)
        if row == len(dims) - 1:
            ax.set_xlabel(
                "variant (index in section)" if positions is None
                else "position (bp; variants drawn evenly spaced)"
            )  # fmt: skip
        else:
            ax.tick_params(labelbottom=False)
        if with_paths:
            _traversal_path(fig.add_subplot(grid[row, 1]), pca_real, pca_paths[row], values, row)
    fig.suptitle(
        f"{title}\nlatent traversals: one dimension set to [-2, 2] prior sds, the others at the "
        "mean code; colour = decoded ALT probability minus that at the mean code",
        fontsize=11,
    )
    if image is not None:
        fig.colorbar(image, ax=heat_axes, label="Δ P(ALT)", shrink=0.5, location="right")
    return fig


def _traversal_path(
    ax2: plt.Axes, pca_real: np.ndarray, path: np.ndarray, values: np.ndarray, row: int
) -> None:
    """Draw one traversal's decoded path in PC1–PC2 over the real held-out haplotypes.

    Args:
        ax2: The row's right-hand axes.
        pca_real: PCA coordinates of real held-out haplotypes.
        path: PCA coordinates of the traversal's decoded probabilities, (steps, >= 2).
        values: The traversed values (colour of each step).
        row: The row (the first gets the title and legend).
    """
    ax2.scatter(pca_real[:, 0], pca_real[:, 1], s=6, c=REAL_GREY, alpha=0.5, lw=0,
                label="real held-out")  # fmt: skip
    ax2.plot(path[:, 0], path[:, 1], c="0.2", lw=1)
    ax2.scatter(path[:, 0], path[:, 1], c=values, cmap="coolwarm", s=22, edgecolors="k",
                linewidths=0.4, zorder=3, label="decoded, z from -2 (blue) to 2 (red)")  # fmt: skip
    ax2.set_xlabel("PC1", fontsize=8)
    ax2.set_ylabel("PC2", fontsize=8)
    ax2.tick_params(labelsize=7)
    if row == 0:
        ax2.set_title("decoded path in PC1–PC2", fontsize=9)
        ax2.legend(fontsize=6, loc="best", framealpha=0.85)
