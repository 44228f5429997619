"""Figures (matplotlib, Agg backend): PNG at a readable size, labelled axes, legends, section titles.

Every function takes numbers and arrays that ``evaluation`` computed and returns a figure; nothing
here computes a statistic the report states as a number (the LD heatmaps compute the r² matrices
they draw, the allele-frequency scatter the frequencies it plots).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from vae_genomics.common.io import atomic_write_bytes
from vae_genomics.report.palette import population_styles

#: Colour of real haplotypes without population labels, and of decoded/generated ones.
REAL_GREY = "0.6"
OTHER_RED = "tab:red"


def save_figure(
    fig: plt.Figure, path: Path, dpi: int = 150, svg: bool = False, refuse_link: bool = False
) -> None:
    """Write ``fig`` as PNG (and, with ``svg``, an SVG beside it) atomically and close it.

    With ``refuse_link`` a symbolic link at the file's place is refused (``RunError``), not replaced.
    """
    # a figure with a layout engine already fits its canvas; "tight" would draw it twice
    tight = None if fig.get_layout_engine() is not None else "tight"
    formats = [("png", Path(path))] + ([("svg", Path(path).with_suffix(".svg"))] if svg else [])
    for kind, target in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=kind, dpi=dpi, bbox_inches=tight)
        atomic_write_bytes(target, buffer.getvalue(), refuse_link=refuse_link)
    plt.close(fig)


def bp_axis(axis: matplotlib.axis.Axis, positions: np.ndarray, offset: float = 0.0) -> None:
    """Label a variant-index axis with bp positions (variant ``i`` drawn at ``i + offset``)."""
    positions = np.asarray(positions)

    def label(value: float, _: int) -> str:
        i = round(value - offset)
        return f"{positions[i]:,}" if 0 <= i < len(positions) else ""

    axis.set_major_locator(matplotlib.ticker.MaxNLocator(5, integer=True))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(label))


def _limits(arrays: Sequence[np.ndarray], pad: float = 0.04) -> tuple[float, float]:
    values = np.concatenate([np.ravel(a) for a in arrays if np.size(a)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def _scatter_real(
    ax: plt.Axes,
    coords: np.ndarray,
    i: int,
    j: int,
    populations: np.ndarray | None,
    label: str,
    groups: Mapping[str, str] | None = None,
) -> None:
    """Real points: grey, or one style per population (:mod:`~vae_genomics.report.palette`)."""
    if populations is None:
        ax.scatter(coords[:, i], coords[:, j], s=14, c=REAL_GREY, alpha=0.7, lw=0, label=label)
        return
    for pop, style in population_styles(populations, groups).items():
        mask = populations == pop
        ax.scatter(
            coords[mask, i], coords[mask, j], s=14, alpha=0.55, lw=0, color=style.colour,
            marker=style.marker, label=f"{style.label} (n={mask.sum()})",
        )  # fmt: skip


def pca_overlays(
    real: np.ndarray,
    sets: Mapping[str, np.ndarray],
    explained: np.ndarray,
    title: str,
    populations: np.ndarray | None = None,
    panel_titles: Mapping[str, str] | None = None,
    real_label: str = "real held-out",
    groups: Mapping[str, str] | None = None,
) -> plt.Figure:
    """Before/after PCA overlays: one row per set, columns PC1–PC2 and PC3–PC4.

    Real held-out haplotypes are grey (or coloured by population when ``populations`` is given);
    each row's set is drawn over them in red. Axis limits are shared down each column, so the
    spread of every set can be compared with the real one by eye.

    Args:
        real: PCA coordinates of the real held-out haplotypes, shape (n, n_components >= 2).
        sets: Legend label → coordinates of a decoded/generated set, shape (m, n_components).
        explained: Explained variance ratio per component (PCA fitted on real training haplotypes).
        title: Figure title (include the section name).
        populations: Population label of each real point, shape (n,), or None.
        panel_titles: Legend label → row title (e.g. the verdict); default: the label.
        real_label: Legend text of the real points.
        groups: Population → superpopulation (colours grouped by it), or None.

    Returns:
        The figure (one legend for all panels).
    """
    n_comp = real.shape[1]
    pairs = [(0, 1)] + ([(2, 3)] if n_comp >= 4 else [])
    rows = max(1, len(sets))
    fig, axes = plt.subplots(
        rows,
        len(pairs),
        figsize=(6.0 * len(pairs), 4.6 * rows),
        squeeze=False,
        layout="constrained",
    )
    everything = [real, *sets.values()]
    for col, (i, j) in enumerate(pairs):
        xlim = _limits([a[:, i] for a in everything])
        ylim = _limits([a[:, j] for a in everything])
        for row, (label, coords) in enumerate(sets.items()):
            ax = axes[row][col]
            _scatter_real(ax, real, i, j, populations, real_label, groups)
            ax.scatter(coords[:, i], coords[:, j], s=9, c=OTHER_RED, alpha=0.6, lw=0,
                       label="decoded / generated set")  # fmt: skip
            ax.set_xlim(xlim)
            ax.set_ylim(ylim)
            ax.set_xlabel(f"PC{i + 1} ({100 * explained[i]:.1f}% of variance)")
            ax.set_ylabel(f"PC{j + 1} ({100 * explained[j]:.1f}% of variance)")
            heading = (panel_titles or {}).get(label, label)
            ax.set_title(f"{heading}\nPC{i + 1} vs PC{j + 1}", fontsize=10)
            ax.grid(alpha=0.3)
    handles, texts = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles, texts, loc="outside lower center", fontsize=7, markerscale=1.5,
        ncol=min(5, len(texts)), title=f"{real_label}; red: the set named above each panel",
        title_fontsize=8,
    )  # fmt: skip
    fig.suptitle(title, fontsize=12)
    return fig


def allele_frequency_scatter(
    real: np.ndarray,
    sets: Mapping[str, np.ndarray],
    title: str,
    annotations: Mapping[str, str] | None = None,
) -> plt.Figure:
    """ALT allele frequency per variant: real held-out (x) against each set (y), one panel per set.

    Args:
        real: Real held-out haplotypes, shape (n, n_variants).
        sets: Label → haplotypes or probabilities, shape (m, n_variants).
        title: Figure title (include the section name).
        annotations: Label → text drawn in the panel (e.g. r and RMSE).
    """
    p = np.asarray(real, dtype=float).mean(axis=0)
    cols = min(3, len(sets))
    rows = -(-len(sets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.4 * rows), squeeze=False,
                             layout="constrained")  # fmt: skip
    for ax, (label, x) in zip(axes.flat, sets.items(), strict=False):
        q = np.asarray(x, dtype=float).mean(axis=0)
        ax.plot([0, 1], [0, 1], c="0.4", lw=1, ls="--", label="y = x")
        ax.scatter(p, q, s=5, alpha=0.5, c=OTHER_RED, lw=0, label="variants")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("ALT frequency, real held-out")
        ax.set_ylabel("ALT frequency in the set")
        ax.set_title(label, fontsize=9)
        if annotations and label in annotations:
            ax.text(0.03, 0.97, annotations[label], transform=ax.transAxes, va="top", fontsize=8,
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})  # fmt: skip
        ax.legend(loc="lower right", fontsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(sets) :]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=12)
    return fig


def r2_matrix(x: np.ndarray) -> np.ndarray:
    """r² between every pair of columns of ``x`` (n, v), shape (v, v); NaN where a site is constant."""
    x = np.asarray(x, dtype=float)
    centred = x - x.mean(axis=0)
    sd = np.sqrt((centred**2).mean(axis=0))
    ok = sd > 1e-12
    z = np.where(ok, centred / np.where(ok, sd, 1.0), 0.0)
    r = (z.T @ z) / len(x)
    r2 = np.minimum(r**2, 1.0)
    r2[~ok, :] = np.nan
    r2[:, ~ok] = np.nan
    return r2


def ld_window(n_variants: int, width: int) -> slice:
    """Columns of a window of ``width`` variants at the centre of the section."""
    width = min(width, n_variants)
    start = (n_variants - width) // 2
    return slice(start, start + width)


def ld_heatmaps(
    real: np.ndarray,
    sets: Mapping[str, np.ndarray],
    title: str,
    window: slice,
    annotations: Mapping[str, str] | None = None,
    positions: np.ndarray | None = None,
) -> plt.Figure:
    """LD (r²) heatmaps: below the diagonal real held-out, above it the set, one panel per set.

    Args:
        real: Real held-out haplotypes, shape (n, n_variants).
        sets: Label → haplotypes or probabilities, shape (m, n_variants).
        title: Figure title (include the section name).
        window: Columns drawn (see :func:`ld_window`).
        annotations: Label → text added to the panel title (e.g. the LD agreement).
        positions: bp position of each variant of the section (axes in bp; index when None).
    """
    real_r2 = r2_matrix(np.asarray(real)[:, window])
    lower = np.tril(np.ones_like(real_r2, dtype=bool), k=-1)
    cols = min(3, len(sets))
    rows = -(-len(sets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, 4.8 * rows), squeeze=False,
                             layout="constrained")  # fmt: skip
    image = None
    first = window.start or 0
    extent = (first - 0.5, first + real_r2.shape[0] - 0.5, first + real_r2.shape[0] - 0.5,
              first - 0.5)  # fmt: skip
    for ax, (label, x) in zip(axes.flat, sets.items(), strict=False):
        combined = np.where(lower, real_r2, r2_matrix(np.asarray(x)[:, window]))
        np.fill_diagonal(combined, np.nan)
        image = ax.imshow(combined, cmap="magma_r", vmin=0, vmax=1, interpolation="nearest",
                          extent=extent)  # fmt: skip
        heading = label + (
            f"\n{annotations[label]}" if annotations and label in annotations else ""
        )
        ax.set_title(heading, fontsize=9)
        unit = "variant (index in section)" if positions is None else "position (bp)"
        ax.set_xlabel(unit, fontsize=8)
        ax.set_ylabel(unit, fontsize=8)
        if positions is not None:
            bp_axis(ax.xaxis, positions)
            bp_axis(ax.yaxis, positions)
            ax.tick_params(labelsize=7)
        ax.text(0.03, 0.03, "real held-out", transform=ax.transAxes, fontsize=8, va="bottom",
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})  # fmt: skip
        ax.text(0.97, 0.97, "this set", transform=ax.transAxes, fontsize=8, va="top", ha="right",
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})  # fmt: skip
    for ax in list(axes.flat)[len(sets) :]:
        ax.set_axis_off()
    fig.suptitle(f"{title}\nLD r²: lower triangle real held-out, upper triangle the set "
                 "(white: a constant site)", fontsize=11)  # fmt: skip
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), label="r²", shrink=0.6)
    return fig
