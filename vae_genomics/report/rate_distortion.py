"""The KL-weight sweep's rate–distortion figure and its HTML page."""

from __future__ import annotations

import html
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

_VERDICT_COLOURS = {"ok": "tab:green", "mode-seeking": "tab:orange", "collapsed": "tab:red"}


def rate_distortion_figure(
    table: pd.DataFrame, best_elbo: int, recommended: int | None, title: str
) -> plt.Figure:
    """Held-out distortion against rate, one point per sweep point, labelled by β.

    Args:
        table: Sweep results with ``rate``, ``distortion``, ``neg_elbo``, ``point`` and
            ``verdict_generated`` (nats per haplotype).
        best_elbo: Row index of the held-out-ELBO-optimal point.
        recommended: Row index of the recommended point (``None`` if no point qualified).
        title: Figure title (include the section name).

    Returns:
        The figure, with dashed lines of constant −ELBO (rate + distortion).
    """
    fig, ax = plt.subplots(figsize=(7.5, 6))
    rate, distortion = table["rate"].to_numpy(float), table["distortion"].to_numpy(float)
    for verdict, colour in _VERDICT_COLOURS.items():
        mask = (table["verdict_generated"].fillna("ok") == verdict).to_numpy()
        if mask.any():
            ax.scatter(rate[mask], distortion[mask], s=50, c=colour, zorder=3,
                       label=f"generated samples: {verdict}")  # fmt: skip
    for i, name in enumerate(table["point"]):
        ax.annotate(name, (rate[i], distortion[i]), textcoords="offset points", xytext=(6, 5),
                    fontsize=8)  # fmt: skip
    ax.scatter(rate[best_elbo], distortion[best_elbo], s=260, marker="*", facecolors="none",
               edgecolors="black", zorder=4, label="best held-out -ELBO")  # fmt: skip
    if recommended is not None:
        ax.scatter(rate[recommended], distortion[recommended], s=300, facecolors="none",
                   edgecolors="tab:blue", linewidths=2.5, zorder=4, label="recommended")  # fmt: skip
    span = np.linspace(0, max(rate.max(), 1e-3) * 1.1, 50)
    for level in np.quantile(table["neg_elbo"].to_numpy(float), [0.0, 0.5, 1.0]):
        ax.plot(span, level - span, ls="--", lw=0.8, c="0.7")
    ax.set_xlim(left=min(0, rate.min()) - 0.5)
    pad = 0.05 * (distortion.max() - distortion.min() + 1)
    ax.set_ylim(distortion.min() - pad, distortion.max() + pad)
    ax.set_xlabel("rate: held-out KL (nats per haplotype)")
    ax.set_ylabel("distortion: held-out reconstruction NLL (nats per haplotype)")
    ax.set_title(f"{title}\n(dashed: constant -ELBO = rate + distortion)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def sweep_page(
    title: str, table: pd.DataFrame, reasons: dict[str, str], figure_uri: str, note: str
) -> str:
    """Self-contained HTML page of a sweep (figure embedded as a data URI).

    Args:
        title: Page title.
        table: Results, one row per point.
        reasons: Why each point won or lost.
        figure_uri: ``data:image/png;base64,...`` of the rate–distortion figure.
        note: The recommendation in one sentence.
    """
    columns = ["point", "beta", "reencode_weight", "rate", "distortion", "neg_elbo", "iw_nll",
               "active_units", "mi", "coverage_reconstruction", "coverage_generated",
               "verdict_reconstruction", "verdict_generated"]  # fmt: skip
    columns = [c for c in columns if c in table.columns and table[c].notna().any()]

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in [*columns, "why"])
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(row[c])}</td>" for c in columns)
        + f"<td>{html.escape(reasons.get(row['point'], ''))}</td></tr>"
        for _, row in table.iterrows()
    )  # fmt: skip
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 7px}"
        "th{background:#eee}img{max-width:100%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p><b>{html.escape(note)}</b></p>"
        f"<img src='{figure_uri}' alt='rate-distortion curve'>"
        f"<h2>Points (held-out numbers, nats per haplotype)</h2><table><tr>{head}</tr>{rows}</table>"
        "<p>Rule: eligible points did not diverge, keep at least the required active units, and "
        "neither their Bernoulli-sampled reconstructions nor their generated (aggregate-posterior "
        "mixture) samples are judged mode-seeking or collapsed; the best held-out -ELBO among "
        "them is recommended, ties to the larger beta.</p></body></html>"
    )
