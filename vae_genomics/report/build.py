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
from vae_genomics.config.budget import DEFAULT_LEVEL
from vae_genomics.evaluation.result import Evaluation
from vae_genomics.report.html import (
    config_block,
    contents,
    figures_html,
    history_table,
    key_value_table,
    num,
    page,
    provenance,
    summary_box,
    table,
)
from vae_genomics.report.realism_table import realism_section
from vae_genomics.report.section_figures import draw_section_figures
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
    figures: bool = True,
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
        figures: Draw the figures (``report.figures``); without them the page says how to.

    Returns:
        Path of ``index.html``.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = (
        draw_section_figures(
            out_dir, evaluation, title, history, metrics, ld_window, positions, groups, dpi, svg
        )
        if figures
        else []
    )
    figure_seconds = time.perf_counter() - started
    body = provenance(header, index_link) + _page_body(
        evaluation.summary, drawn, summary, config, history, metrics, figure_seconds
    )
    index = out_dir / "index.html"
    atomic_write_text(index, page(title, body))
    if figures:
        log.info("report figures drawn in %.1f s", figure_seconds)
    return index


#: The figures section of a page drawn with ``report.figures: false``.
NO_FIGURES = (
    "<p class='note'>Figures were not drawn (<code>report.figures: false</code>). Draw them with "
    "<code>vae-genomics report RUN</code>.</p>"
)


def _page_body(
    s: Mapping[str, Any],
    figures: list[tuple[Path, str]],
    summary: Mapping[str, Any],
    config: Mapping[str, Any],
    history: Mapping[str, list[float]],
    metrics: Mapping[str, Any] | None,
    figure_seconds: float,
) -> str:
    """The page under its provenance line: contents, summary, tables, figures, history, config.

    Args:
        s: The evaluation's summary.
        figures: Each figure's path and caption, in page order.
        summary: Headline numbers of the model table.
        config: Resolved configuration.
        history: Per-epoch numbers.
        metrics: The run's ``metrics.json``, or None.
        figure_seconds: Seconds the figures took.

    Returns:
        The HTML.
    """
    modeseek = s["modeseek"]
    n_pcs = int(modeseek["settings"]["n_pcs"])
    section = (metrics or {}).get("section", {}).get("name", "SECTION")
    max_epochs = (config.get("training") or {}).get("epochs")
    privacy = (config.get("generation") or {}).get("privacy", DEFAULT_LEVEL)
    return (
        contents(figures, summary=bool(metrics))
        + (summary_box(metrics, section, max_epochs, privacy) if metrics else "")
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
        f"<h2 id='figures'>Figures</h2>{figures_html(figures) if figures else NO_FIGURES}"
        f"<h2 id='history'>History</h2>{history_table(history)}"
        f"<h2 id='configuration'>Configuration</h2>{config_block(config)}"
        f"<p class='note'>Evaluation took {sum(s['seconds'].values()):.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in s['seconds'].items())}); figures "
        f"{figure_seconds:.1f} s. Mode-seeking checks on PC1–PC{n_pcs}.</p>"
    )
