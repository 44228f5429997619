"""The report's calibration: each operating point's realism and privacy on the calibration split,
the budget, and the point chosen (:mod:`vae_genomics.evaluation.calibration`)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from vae_genomics.report.html import num, table


def _excess(point: Mapping[str, Any], name: str) -> str:
    """``excess + spread / limit`` of one number of a point's check."""
    c = (point.get("check") or {}).get(name)
    if not c:
        return "—"
    return f"{c['excess']:+.3f} + {c['margin']:.3f} (limit +{c['limit']:g})"


def calibration_section(summary: Mapping[str, Any]) -> str:
    """HTML of the calibration table (empty for a run without a calibration split).

    Args:
        summary: The evaluation summary (``metrics.json``'s ``evaluation``) with ``calibration``.
    """
    cal = summary.get("calibration")
    if not cal:
        return ""
    chosen = cal.get("chosen")
    header = ["generator", "coverage (Hamming) ÷ reference", "privacy loss ± SD",
              "distance-attack AUC ± SD", "loss: excess + spread", "AUC: excess + spread",
              "meets the budget"]  # fmt: skip
    rows = []
    for p in cal["points"]:
        mark = " ← chosen" if p["generator"] == chosen else ""
        meets = (p.get("check") or {}).get("meets")
        rows.append([
            f"<th><code>{html.escape(p['generator'])}</code>{mark}</th>",
            num(p.get("coverage_fraction")),
            f"{num(p.get('privacy_loss'))} ± {num(p.get('privacy_loss_sd'))}",
            f"{num(p.get('distance_attack_auc'))} ± {num(p.get('distance_attack_auc_sd'))}",
            _excess(p, "loss"),
            _excess(p, "auc"),
            "yes" if meets is True else "no",
        ])  # fmt: skip
    ref = (cal["points"][0].get("reference") or {}) if cal["points"] else {}
    outcome = (
        f"<code>{html.escape(chosen)}</code> is the most realistic point inside the budget: "
        "`vae-genomics sample` draws it, and the tables above score it on the held-out set"
        if chosen
        else "no point meets the budget on the calibration split: the default generator is kept "
        "and scored above, and `vae-genomics sample` releases the section only if its held-out "
        "numbers meet the budget (docs/privacy.md says what lowers the leak)"
    )
    return (
        "<h2 id='calibration'>Calibration to the privacy budget</h2><p class='note'>"
        f"Budget <code>{html.escape(str(cal['budget'].get('name')))}</code>. Each operating "
        f"point drew as many haplotypes as the {cal['n_calibration']} training haplotypes kept "
        "out of training (never the held-out set), scored there as the panel above scores the "
        "held-out set; the real reference (training haplotypes scored the same way) has privacy "
        f"loss {num(ref.get('privacy_loss'))} and distance-attack AUC "
        f"{num(ref.get('distance_attack_auc'))}. A point meets the budget when each excess plus "
        f"its spread is within the limit. {outcome}.</p>" + table(header, rows)
    )


def calibration_figure(summary: Mapping[str, Any], title: str) -> Any | None:
    """Realism against privacy over the calibration's points: coverage fraction against the
    privacy-loss excess, the budget's limit as a line, the chosen point ringed; None without a
    calibration."""
    cal = summary.get("calibration")
    if not cal or not cal.get("points"):
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    limit = None
    for p in cal["points"]:
        c = (p.get("check") or {}).get("loss")
        if not c or p.get("coverage_fraction") is None:
            continue
        limit = c["limit"]
        x, y = c["excess"], p["coverage_fraction"]
        ax.errorbar(x, y, xerr=c["margin"], fmt="o", color="tab:red", capsize=3)
        if p["generator"] == cal.get("chosen"):
            ax.plot(x, y, "o", ms=14, mfc="none", mec="black")
        ax.annotate(p["generator"], (x, y), textcoords="offset points", xytext=(6, 4),
                    fontsize=7)  # fmt: skip
    if limit is not None:
        ax.axvline(limit, color="grey", ls="--", label=f"budget: excess ≤ {limit:g}")
        ax.legend(loc="lower left", fontsize=8)
    ax.set_xlabel("privacy loss − real reference's (bar: spread added by the check)")
    ax.set_ylabel("coverage (Hamming) ÷ reference")
    ax.set_title(f"{title}\ncalibration: realism against privacy", fontsize=9)
    fig.tight_layout()
    return fig
