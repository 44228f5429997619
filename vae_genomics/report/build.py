"""Assemble one section's report from an :class:`~vae_genomics.evaluation.summary.Evaluation`.

Takes what ``evaluation`` computed, writes PNG figures and one self-contained ``index.html`` into the
directory it is given: the verdicts and the number that tripped each, the numbers of every set beside
the real-train vs real-held-out ceiling, the latent diagnostics, the figures, the per-epoch history
and the resolved configuration.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.common.io import atomic_write_text
from vae_genomics.evaluation.result import Evaluation
from vae_genomics.report import figures as figs
from vae_genomics.report.curves import training_curves
from vae_genomics.report.html import (
    config_block,
    contents,
    esc,
    figures_html,
    history_table,
    key_value_table,
    num,
    page,
    provenance,
    summary_box,
    table,
)
from vae_genomics.report.labels import SET_SHORT
from vae_genomics.report.latent_plot import latent_scatter
from vae_genomics.report.realism_table import realism_section
from vae_genomics.report.set_tables import (
    numbers_table,
    population_table,
    thresholds_note,
    verdict_table,
)

log = logging.getLogger(__name__)

#: File names of the figures, in page order.
FIGURES = (
    "pca_overlay.png",
    "latent_space.png",
    "latent_activity.png",
    "latent_traversals.png",
    "training_curves.png",
    "allele_frequencies.png",
    "ld_heatmaps.png",
)


def _latent_table(summary: Mapping[str, Any]) -> str:
    lat = summary["latent"]
    re = summary["reencoding"]
    rows = [
        [f"<th>z{d + 1}</th>", num(lat["activity"][d]), html.escape(fmt_bool(lat["active"][d])),
         num(lat["kl_per_dim"][d]), num(re["per_dim"][d]), num(re["sample_per_dim"][d])]
        for d in range(len(lat["activity"]))
    ]  # fmt: skip
    return table(
        ["dimension", "activity Var_x E[z_j|x]", "active", "KL (nats)",
         "re-encoding error, from mean", "re-encoding error, from a draw"],
        rows,
    )  # fmt: skip


def fmt_bool(value: Any) -> str:
    """yes/no for booleans."""
    return "yes" if value else "no"


def _model_note(summary: Mapping[str, Any]) -> str:
    mi = summary["mutual_information"]
    iw = summary["iw_nll"]
    return (
        "<p class='note'>Nats per haplotype. −ELBO = reconstruction (distortion) + KL (rate), "
        f"averaged over {summary['settings']['elbo_samples']} posterior samples per held-out "
        f"haplotype. IW-NLL: importance-weighted bound with K = {iw['n_samples']} (≤ −ELBO; the "
        "gap is how loose the ELBO is; with the LD head: the same bound with the default "
        "generator's head, fitted on the training haplotypes, as the decoder's likelihood). "
        "Mutual information I_q over all haplotypes, at most "
        f"log(batch) = {mi['upper_bound']:.2f}; aggregate KL = KL(q(z) ‖ p(z)) ≈ rate − I_q, the "
        "mismatch between the aggregate posterior and the prior that prior sampling suffers "
        "from. Re-encoding error: ‖μ(x) − μ(x̂)‖²/L with x̂ the decoder probabilities.</p>"
    )


def write_section_report(
    out_dir: Path,
    title: str,
    evaluation: Evaluation,
    history: Mapping[str, list[float]],
    summary: Mapping[str, Any],
    config: Mapping[str, Any],
    ld_window: int = 100,
    *,
    metrics: Mapping[str, Any] | None = None,
    positions: np.ndarray | None = None,
    groups: Mapping[str, str] | None = None,
    header: str = "",
    index_link: str | None = None,
    dpi: int = 150,
    svg: bool = False,
) -> Path:
    """Write the figures and ``index.html`` of one section's run.

    The page opens with a header (``header``: version, date, command; a link back to the index
    across sections), a table of contents, a summary in plain sentences (one per verdict, and
    where β came from) and a "what to do next" box mapping each finding to a command
    (:mod:`~vae_genomics.report.advice`); then verdicts, numbers, figures, history, configuration.

    Args:
        out_dir: Directory to write into (created).
        title: Title prefix, e.g. ``section 22_1-99 · run 20261122-101500``; in every figure.
        evaluation: What :func:`~vae_genomics.evaluation.summary.evaluate_model` returned.
        history: Per-epoch numbers as Keras returns them.
        summary: Headline numbers shown in the model table (label → value).
        config: Resolved configuration, shown at the end.
        ld_window: Variants drawn in the LD heatmaps (a window at the section's centre).
        metrics: The run's ``metrics.json`` (summary and advice; none without it).
        positions: bp position of each variant (axes of traversals and LD heatmaps).
        groups: Population → superpopulation (population colours grouped by it).
        header: Provenance line under the title.
        index_link: Relative link to the index across sections.
        dpi: PNG resolution.
        svg: Also write each figure as SVG beside the PNG.

    Returns:
        Path of ``index.html``.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = evaluation.summary
    modeseek = s["modeseek"]
    lat = s["latent"]
    pca = evaluation.pca
    n_pcs = int(modeseek["settings"]["n_pcs"])
    ceiling_label = "ceiling: real training haplotypes (a sample)"
    labelled = {ceiling_label: evaluation.ceiling}
    labelled.update({SET_SHORT[n]: x for n, x in evaluation.sets.items()})
    heads = {ceiling_label: ceiling_label}
    for name, stats in modeseek["sets"].items():
        v = stats["verdict"]
        why = f" — {v['tripped_by']} = {v['value']:.3g}" if v["tripped_by"] else ""
        heads[SET_SHORT[name]] = (
            f"{SET_SHORT[name]}: {v['verdict']}{why}\ncoverage PCA {stats['prdc_pca']['coverage']:.2f}"
            f" (ceiling {modeseek['ceiling']['prdc_pca']['coverage']:.2f})"
        )
    real = pca.transform(evaluation.heldout)
    coords = {label: pca.transform(x) for label, x in labelled.items()}
    pops = evaluation.heldout_populations
    real_label = "real held-out" + (", by population" if pops is not None else "")
    figures: list[tuple[Path, str]] = []

    def save(fig: Any, name: str, caption: str) -> None:
        figs.save_figure(fig, out_dir / name, dpi=dpi, svg=svg)
        figures.append((out_dir / name, caption))

    save(
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
    save(
        latent_scatter(evaluation.heldout_latent, lat["activity"], lat["active"], title, pops,
                       groups),
        "latent_space.png",
        "Posterior means of the held-out haplotypes"
        + (", coloured by population" + (" (hue: superpopulation)" if groups else "")
           if pops is not None else "")
        + ". Left: the two most active latent dimensions; right: a PCA of all active dimensions. "
        "Populations that separate here are what the code has learnt to tell apart.",
    )  # fmt: skip
    save(
        figs.latent_activity(lat["activity"], lat["kl_per_dim"], title),
        "latent_activity.png",
        "Per latent dimension, on the held-out haplotypes: activity Var_x E_q[z_j|x] (active "
        "above 0.01, log scale) and mean KL to the prior (nats). Grey bars: inactive dimensions.",
    )
    trav = evaluation.traversals
    paths = None
    if trav.get("dims"):
        probs = np.asarray(trav["probabilities"])
        paths = pca.transform(probs.reshape(-1, probs.shape[-1])).reshape(
            probs.shape[0], probs.shape[1], -1
        )
    save(
        figs.latent_traversals(
            trav, title, real, paths, lat["activity"], lat["kl_per_dim"], positions
        ),
        "latent_traversals.png",
        "Latent traversals of the most active dimensions (up to evaluation.traversal_dims): one "
        "dimension set to values over ±2 prior standard deviations, the others at the mean code "
        "of the training haplotypes. Left: change of the decoded ALT probability of every variant "
        "relative to the mean code. Right: where the decoded probabilities project in PC1–PC2.",
    )
    save(
        training_curves(history, title, (metrics or {}).get("best_epoch")),
        "training_curves.png",
        "Per epoch: objective, reconstruction and KL (nats per haplotype, training and "
        "validation), the KL weight β(t), active units on the held-out set, and the re-encoding "
        "term when it is on; the dotted line is the best epoch, whose weights were kept. A number "
        "that never changed is named in the title instead of drawn; log scale where the first "
        "epochs dwarf the rest.",
    )
    ceiling_stats = {ceiling_label: modeseek["ceiling"]}
    ceiling_stats.update({SET_SHORT[n]: st for n, st in modeseek["sets"].items()})
    af_notes = {
        label: f"r = {_f(st['allele_frequency']['pearson_r'])}\n"
        f"RMSE = {_f(st['allele_frequency']['rmse'])}"
        for label, st in ceiling_stats.items()
    }
    save(
        figs.allele_frequency_scatter(evaluation.heldout, labelled, title, af_notes),
        "allele_frequencies.png",
        "ALT allele frequency of every variant: real held-out haplotypes (x) against each set "
        "(y; for decoder probabilities the mean probability). Points off the diagonal are "
        "frequencies the set does not reproduce; thresholded calls lose rare alleles.",
    )
    window = figs.ld_window(evaluation.heldout.shape[1], ld_window)
    ld_notes = {label: f"LD agreement r = {_f(st['ld']['pearson_r'])}" for label, st in
                ceiling_stats.items()}  # fmt: skip
    save(
        figs.ld_heatmaps(evaluation.heldout, labelled, title, window, ld_notes, positions),
        "ld_heatmaps.png",
        f"Linkage disequilibrium (r²) over variants {window.start + 1}–{window.stop} of the "
        "section: below the diagonal the real held-out haplotypes, above it each set. The "
        "agreement numbers are over all pairs up to evaluation.ld_max_offset SNPs apart.",
    )
    figure_seconds = time.perf_counter() - started
    section = (metrics or {}).get("section", {}).get("name", "SECTION")
    max_epochs = (config.get("training") or {}).get("epochs")
    body = (
        provenance(header, index_link)
        + contents(figures, summary=bool(metrics))
        + (summary_box(metrics, section, max_epochs) if metrics else "")
        + "<p class='note'>Is the decoded and generated data spread like the real haplotypes, or "
        "piled onto their densest modes? Each set below is compared with held-out real "
        "haplotypes, beside the same numbers for real training haplotypes (the ceiling).</p>"
        f"<h2 id='verdicts'>Verdicts</h2>{verdict_table(modeseek)}{thresholds_note(modeseek)}"
        f"<h2 id='model'>Model</h2>{key_value_table(summary)}{_model_note(s)}"
        f"<h2 id='numbers'>Numbers per set</h2><p class='note'>Shaded: a check that tripped (hover for its "
        "threshold). Variance ratios: a set's variance along each PC over the held-out set's "
        f"(1 = same spread). Precision/recall/density/coverage: Naeem et al. 2020.</p>"
        f"{numbers_table(modeseek)}{population_table(modeseek)}"
        f"{realism_section(s)}"
        f"<h2 id='latent'>Latent dimensions</h2>{_latent_table(s)}"
        f"<h2 id='figures'>Figures</h2>{figures_html(figures)}"
        f"<h2 id='history'>History</h2>{history_table(history)}"
        f"<h2 id='configuration'>Configuration</h2>{config_block(config)}"
        f"<p class='note'>Evaluation took {sum(s['seconds'].values()):.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in s['seconds'].items())}); figures "
        f"{figure_seconds:.1f} s. Mode-seeking checks on PC1–PC{n_pcs}.</p>"
    )
    index = out_dir / "index.html"
    atomic_write_text(index, page(title, body))
    log.info("report figures drawn in %.1f s", figure_seconds)
    return index


def _f(value: Any) -> str:
    return esc(value) if value is None else f"{value:.3f}"
