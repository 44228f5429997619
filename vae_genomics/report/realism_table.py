"""The report's realism and privacy table: each generated set's panel beside the real-vs-real ceiling."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from vae_genomics.report.html import num, table
from vae_genomics.report.labels import SET_SHORT

_Getter = Callable[[Mapping[str, Any]], Any]


def _degrees(counts: Mapping[str, int]) -> str:
    """``"duplicate / first / second"`` pair counts of a panel's KING kinship."""
    return " / ".join(str(counts[k]) for k in ("duplicate", "first", "second"))


#: Rows: (label, getter from a panel, name of the verdict check that uses it, or None).
ROWS: tuple[tuple[str, _Getter, str | None], ...] = (
    ("AATS vs held-out (0.5 = indistinguishable)", lambda p: p["aats_heldout"], None),
    ("AATS vs training subset", lambda p: p["aats_train"], None),
    ("privacy loss (AATS held-out − AATS train)", lambda p: p["privacy_loss"], "privacy_loss"),
    ("privacy loss: SD over subset draws", lambda p: p.get("privacy_loss_sd"), None),
    ("exact training copies (fraction)", lambda p: p["exact_copy_fraction"], "exact_copy_fraction"),
    ("held-out: exact training copies", lambda p: p["heldout_exact_copy_fraction"], None),
    ("distance to nearest training haplotype, median", lambda p: p["nn_train"]["q50"], None),
    (
        "held-out: distance to nearest training, median",
        lambda p: p["heldout_nn_train"]["q50"],
        None,
    ),
    (
        "distance attack: AUC, training vs held-out (0.5 = none)",
        lambda p: p["distance_attack_auc"],
        None,
    ),
    ("distance attack: AUC, SD over subset draws", lambda p: p.get("distance_attack_auc_sd"), None),
    ("distance attack: TPR at 1% FPR", lambda p: p["distance_attack_tpr_at_1pct_fpr"], None),
    ("nearer training than 99% of held-out (fraction)", lambda p: p["nn_flag_fraction"], None),
    (
        "held-out: nearer training than 99% of held-out",
        lambda p: p["heldout_nn_flag_fraction"],
        None,
    ),
    (
        "KING relatives of training individuals: dup. / 1st / 2nd",
        lambda p: _degrees(p["kinship_train"]),
        None,
    ),
    (
        "held-out: KING relatives of training individuals",
        lambda p: _degrees(p["heldout_kinship_train"]),
        None,
    ),
    ("KING: individual pairs compared (each)", lambda p: p["kinship_pairs"], None),
    ("LD decay: mean |Δ r²| over bp bins", lambda p: p["ld_decay"]["mae"], None),
    ("site frequency spectrum: TV distance", lambda p: p["sfs"]["tv_distance"], None),
    (
        "sites at 1–10 ALT copies: relative error vs held-out, pooled",
        lambda p: p["sfs"]["rare"]["total_relative_error"],
        None,
    ),
    (
        "sites at 1–10 ALT copies: largest |relative error| of a bin",
        lambda p: p["sfs"]["rare"]["max_abs_relative_error"],
        None,
    ),
    ("pairwise Hamming distances: Wasserstein", lambda p: p["pairwise"]["wasserstein"], None),
    ("pairwise Hamming distance, mean", lambda p: p["pairwise"]["mean_set"], None),
)


def _get(get: _Getter, panel: Mapping[str, Any]) -> Any:
    try:
        return get(panel)
    except (KeyError, TypeError):
        return None


def realism_section(summary: Mapping[str, Any]) -> str:
    """HTML of the realism and privacy panel (empty for runs evaluated before it existed).

    Args:
        summary: The evaluation summary (``metrics.json``'s ``evaluation``) with ``realism``
            (``ceiling`` and ``sets``) and ``modeseek`` (for the privacy checks' thresholds).
    """
    realism = summary.get("realism")
    if not realism:
        return ""
    sets = realism["sets"]
    verdicts = (summary.get("modeseek") or {}).get("sets") or {}
    header = ["number", "ceiling (real training subset)", *(SET_SHORT.get(n, n) for n in sets)]
    rows = []
    for label, get, check in ROWS:
        row = [f"<th>{html.escape(label)}</th>", num(_get(get, realism["ceiling"]))]
        for name, panel in sets.items():
            checks = ((verdicts.get(name) or {}).get("verdict") or {}).get("checks") or []
            found = next((c for c in checks if c["name"] == check), None)
            if found is None or found["threshold"] is None:
                row.append(num(_get(get, panel)))
            else:
                tip = f"limit {found['threshold']:.4g}"
                row.append(num(_get(get, panel), "trip" if found["tripped"] else "", tip))
        rows.append(row)
    generator = (summary.get("generator") or {}).get("name", "—")
    n = realism["ceiling"].get("n")
    return (
        "<h2 id='realism'>Realism and privacy</h2><p class='note'>Generated sets (generated "
        f"samples: generator <code>{html.escape(str(generator))}</code>) scored against {n} "
        "held-out haplotypes and a training subset of the same size, beside a real training "
        "subset scored the same way against the other training haplotypes (the ceiling). AATS: "
        "nearest-neighbour adversarial accuracy in Hamming distance (Yale et al. 2020); privacy "
        "loss: AATS against held-out minus AATS against training, about 0 for real data, high "
        "when the set sits closer to the training haplotypes than to unseen ones. Shaded: a "
        "privacy check that tripped (hover for its limit). Distance attack: membership "
        "inference scoring a haplotype by minus its distance to the nearest generated one, "
        "training against as many held-out haplotypes (AUC 0.5: no better than chance); nearer "
        "training: generated haplotypes nearer their nearest training haplotype than the 1st "
        "percentile of half the held-out set (the other half is the held-out row); KING: "
        "individuals of consecutive haplotype pairs, pairs with training individuals at each "
        "KING-robust degree (Manichaikul et al. 2010), held-out individuals compared the same "
        "way as the reference. LD decay: mean r² in bp-distance bins; spectrum: folded, doubling "
        "allele-count bins.</p>" + table(header, rows)
    )
