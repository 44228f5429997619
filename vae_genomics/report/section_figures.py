"""The figures of one section's report, drawn from an :class:`~vae_genomics.evaluation.result.Evaluation`.

:func:`draw_section_figures` writes each PNG (and SVG when asked) and returns the paths with their
captions in page order; :mod:`~vae_genomics.report.build` puts them on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.evaluation.result import Evaluation
from vae_genomics.report import figures as figs
from vae_genomics.report.curves import training_curves
from vae_genomics.report.html import esc
from vae_genomics.report.labels import SET_SHORT
from vae_genomics.report.latent_plot import latent_activity, latent_scatter, latent_traversals


def draw_section_figures(
    out_dir: Path,
    evaluation: Evaluation,
    title: str,
    history: Mapping[str, list[float]],
    metrics: Mapping[str, Any] | None,
    ld_window: int,
    positions: np.ndarray | None,
    groups: Mapping[str, str] | None,
    dpi: int,
    svg: bool,
) -> list[tuple[Path, str]]:
    """Draw every figure of a section's report into ``out_dir``, in page order.

    Args:
        out_dir: Directory to write into (it exists).
        evaluation: The section's evaluation.
        title: Title prefix, in every figure.
        history: Per-epoch numbers as Keras returns them.
        metrics: The run's ``metrics.json`` (its best epoch), or None.
        ld_window: Variants drawn in the LD heatmaps.
        positions: bp position of each variant, or None.
        groups: Population → superpopulation, or None.
        dpi: PNG resolution.
        svg: Also write each figure as SVG.

    Returns:
        Each figure's path and caption.
    """
    figures = _FigureWriter(out_dir, dpi, svg, evaluation, title)
    labelled = {CEILING_LABEL: evaluation.ceiling}
    labelled.update({SET_SHORT[n]: x for n, x in evaluation.sets.items()})
    real = evaluation.pca.transform(evaluation.heldout)
    _draw_pca_overlays(figures, labelled, real, groups)
    _draw_latent_figures(figures, real, groups, positions)
    figures.save(
        training_curves(history, title, (metrics or {}).get("best_epoch")),
        "training_curves.png",
        "Per epoch: objective, reconstruction and KL (nats per haplotype, training and "
        "validation), the KL weight β(t), active units on the held-out set, and the re-encoding "
        "term when it is on; the dotted line is the best epoch, whose weights were kept. A number "
        "that never changed is named in the title instead of drawn; log scale where the first "
        "epochs dwarf the rest.",
    )
    _draw_allele_figures(figures, labelled, ld_window, positions)
    return figures.written


#: Label of the sample of real training haplotypes drawn beside the sets.
CEILING_LABEL = "ceiling: real training haplotypes (a sample)"


@dataclass
class _FigureWriter:
    """Saves a section's figures (of ``evaluation``, titled ``title``) with their captions, in page order."""

    out_dir: Path
    dpi: int
    svg: bool
    evaluation: Evaluation
    title: str
    written: list[tuple[Path, str]] = field(default_factory=list)

    def save(self, fig: Any, name: str, caption: str) -> None:
        """Save ``fig`` as ``name`` (and SVG when asked) and record its caption.

        Args:
            fig: Matplotlib figure.
            name: File name in the directory.
            caption: Its caption on the page.
        """
        figs.save_figure(fig, self.out_dir / name, dpi=self.dpi, svg=self.svg)
        self.written.append((self.out_dir / name, caption))


def _overlay_heads(modeseek: Mapping[str, Any]) -> dict[str, str]:
    """Panel title of each set of the PCA overlays: its verdict, why, and its coverage.

    Args:
        modeseek: The summary's ``modeseek``.

    Returns:
        Label → panel title, the ceiling first.
    """
    heads = {CEILING_LABEL: CEILING_LABEL}
    for name, stats in modeseek["sets"].items():
        v = stats["verdict"]
        why = f" — {v['tripped_by']} = {v['value']:.3g}" if v["tripped_by"] else ""
        heads[SET_SHORT[name]] = (
            f"{SET_SHORT[name]}: {v['verdict']}{why}\ncoverage PCA {stats['prdc_pca']['coverage']:.2f}"
            f" (ceiling {modeseek['ceiling']['prdc_pca']['coverage']:.2f})"
        )
    return heads


def _draw_pca_overlays(
    figures: _FigureWriter,
    labelled: Mapping[str, np.ndarray],
    real: np.ndarray,
    groups: Mapping[str, str] | None,
) -> None:
    """Draw the PCA overlays of every set on the real held-out haplotypes.

    Args:
        figures: Where the figure goes (with the evaluation and the title prefix).
        labelled: Label → haplotypes, the ceiling sample first.
        real: The held-out haplotypes in PCA coordinates.
        groups: Population → superpopulation, or None.
    """
    evaluation, title = figures.evaluation, figures.title
    pca = evaluation.pca
    coords = {label: pca.transform(x) for label, x in labelled.items()}
    pops = evaluation.heldout_populations
    real_label = "real held-out" + (", by population" if pops is not None else "")
    heads = _overlay_heads(evaluation.summary["modeseek"])
    figures.save(
        figs.pca_overlays(real, coords, pca.explained_variance_ratio_,
                          f"{title}\nPCA fitted on real training haplotypes", pops, heads,
                          real_label, groups),
        "pca_overlay.png",
        "PCA overlays, PC1–PC2 (left) and PC3–PC4 (right). Real held-out haplotypes in grey"
        + (" (coloured by population)" if pops is not None else "")
        + ", each set in red: first a sample of the real training haplotypes (what a perfect "
        "generator looks like), then the reconstructions of the held-out haplotypes from the "
        "posterior mean (decoder probabilities, Bernoulli draws from them, calls at 0.5), then "
        "haplotypes generated from the prior and from the aggregate-posterior mixture (Bernoulli "
        "draws). Red piling onto the densest grey modes is mode-seeking.",
    )  # fmt: skip


def _draw_latent_figures(
    figures: _FigureWriter,
    real: np.ndarray,
    groups: Mapping[str, str] | None,
    positions: np.ndarray | None,
) -> None:
    """Draw the latent space, the activity per dimension and the latent traversals.

    Args:
        figures: Where the figures go.
        real: The held-out haplotypes in PCA coordinates.
        groups: Population → superpopulation, or None.
        positions: bp position of each variant, or None.
    """
    evaluation, title = figures.evaluation, figures.title
    lat = evaluation.summary["latent"]
    pops = evaluation.heldout_populations
    figures.save(
        latent_scatter(evaluation.heldout_latent, lat["activity"], lat["active"], title, pops,
                       groups),
        "latent_space.png",
        "Posterior means of the held-out haplotypes"
        + (", coloured by population" + (" (hue: superpopulation)" if groups else "")
           if pops is not None else "")
        + ". Left: the two most active latent dimensions; right: a PCA of all active dimensions. "
        "Populations that separate here are what the code has learnt to tell apart.",
    )  # fmt: skip
    figures.save(
        latent_activity(lat["activity"], lat["kl_per_dim"], title),
        "latent_activity.png",
        "Per latent dimension, on the held-out haplotypes: activity Var_x E_q[z_j|x] (active "
        "above 0.01, log scale) and mean KL to the prior (nats). Grey bars: inactive dimensions.",
    )
    trav = evaluation.traversals
    paths = None
    if trav.get("dims"):
        probs = np.asarray(trav["probabilities"])
        paths = evaluation.pca.transform(probs.reshape(-1, probs.shape[-1])).reshape(
            probs.shape[0], probs.shape[1], -1
        )
    figures.save(
        latent_traversals(trav, title, real, paths, lat["activity"], lat["kl_per_dim"], positions),
        "latent_traversals.png",
        "Latent traversals of the most active dimensions (up to evaluation.traversal_dims): one "
        "dimension set to values over ±2 prior standard deviations, the others at the mean code "
        "of the training haplotypes. Left: change of the decoded ALT probability of every variant "
        "relative to the mean code. Right: where the decoded probabilities project in PC1–PC2.",
    )


def _draw_allele_figures(
    figures: _FigureWriter,
    labelled: Mapping[str, np.ndarray],
    ld_window: int,
    positions: np.ndarray | None,
) -> None:
    """Draw the allele-frequency scatter and the LD heatmaps of every set.

    Args:
        figures: Where the figures go.
        labelled: Label → haplotypes, the ceiling sample first.
        ld_window: Variants drawn in the LD heatmaps.
        positions: bp position of each variant, or None.
    """
    evaluation, title = figures.evaluation, figures.title
    modeseek = evaluation.summary["modeseek"]
    ceiling_stats = {CEILING_LABEL: modeseek["ceiling"]}
    ceiling_stats.update({SET_SHORT[n]: st for n, st in modeseek["sets"].items()})
    af_notes = {
        label: f"r = {_f(st['allele_frequency']['pearson_r'])}\n"
        f"RMSE = {_f(st['allele_frequency']['rmse'])}"
        for label, st in ceiling_stats.items()
    }
    figures.save(
        figs.allele_frequency_scatter(evaluation.heldout, labelled, title, af_notes),
        "allele_frequencies.png",
        "ALT allele frequency of every variant: real held-out haplotypes (x) against each set "
        "(y; for decoder probabilities the mean probability). Points off the diagonal are "
        "frequencies the set does not reproduce; thresholded calls lose rare alleles.",
    )
    window = figs.ld_window(evaluation.heldout.shape[1], ld_window)
    ld_notes = {label: f"LD agreement r = {_f(st['ld']['pearson_r'])}" for label, st in
                ceiling_stats.items()}  # fmt: skip
    figures.save(
        figs.ld_heatmaps(evaluation.heldout, labelled, title, window, ld_notes, positions),
        "ld_heatmaps.png",
        f"Linkage disequilibrium (r²) over variants {window.start + 1}–{window.stop} of the "
        "section: below the diagonal the real held-out haplotypes, above it each set. The "
        "agreement numbers are over all pairs up to evaluation.ld_max_offset SNPs apart.",
    )


def _f(value: Any) -> str:
    return esc(value) if value is None else f"{value:.3f}"
