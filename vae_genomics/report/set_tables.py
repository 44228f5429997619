"""The set-statistics part of a section's report: verdict table, numbers beside the ceiling,
coverage by population, and the note on how verdicts are decided.

Each function takes the ``mode_seeking_report`` mapping (:mod:`vae_genomics.evaluation.modeseek`) and
returns an HTML fragment.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from vae_genomics.report.html import badge, num, table
from vae_genomics.report.labels import SET_LABELS, SET_SHORT

CEILING = "ceiling: real training haplotypes"

#: Rows of the numbers table: (label, getter from a set's stats, name of the verdict check).
_Getter = Callable[[Mapping[str, Any]], Any]


def _number_rows(n_pcs: int) -> list[tuple[str, _Getter, str | None]]:
    def pc(i: int) -> _Getter:
        return lambda s: s["variance_ratio"][i] if i < len(s["variance_ratio"]) else None

    def nested(a: str, b: str) -> _Getter:
        return lambda s: s[a][b]

    rows: list[tuple[str, _Getter, str | None]] = [
        (f"variance ratio PC{i + 1}", pc(i), f"variance_ratio_pc{i + 1}") for i in range(n_pcs)
    ]
    rows += [
        (f"max variance ratio, PC1–PC{n_pcs}",
         lambda s: max((v for v in s["variance_ratio"][:n_pcs] if v is not None), default=None),
         "max_variance_ratio"),
        (f"total variance ratio, PC1–PC{n_pcs}", lambda s: s["total_variance_ratio"], None),
        ("site variance ratio, all variants", lambda s: s["site_variance_ratio"],
         "site_variance_ratio"),
    ]  # fmt: skip
    for space, label in (("pca", "PCA space"), ("hamming", "Hamming space")):
        for key in ("precision", "recall", "density", "coverage"):
            check = f"coverage_{space}" if key == "coverage" else None
            rows.append((f"{key} ({label})", nested(f"prdc_{space}", key), check))
    rows += [
        ("allele frequency: Pearson r", nested("allele_frequency", "pearson_r"), None),
        ("allele frequency: RMSE", nested("allele_frequency", "rmse"), None),
        ("allele frequency: max |difference|", nested("allele_frequency", "max_abs_diff"), None),
        ("LD r²: Pearson r", nested("ld", "pearson_r"), None),
        ("LD r²: RMSE", nested("ld", "rmse"), None),
        ("LD r²: mean, real held-out", nested("ld", "mean_r2_reference"), None),
        ("LD r²: mean, this set", nested("ld", "mean_r2_candidate"), None),
        ("LD pairs compared", nested("ld", "n_pairs"), None),
    ]
    return rows


def verdict_table(modeseek: Mapping[str, Any]) -> str:
    """One row per set: its verdict, the number that decided it and its threshold, coverage and
    precision; the ceiling last."""
    ceiling = modeseek["ceiling"]
    rows = []
    for name, stats in modeseek["sets"].items():
        v = stats["verdict"]
        also = [t for t in v["tripped"] if t != v["tripped_by"]]
        rows.append([
            f"<th>{html.escape(SET_SHORT.get(name, name))}</th>",
            html.escape(SET_LABELS.get(name, name)),
            badge(v["verdict"]),
            html.escape(v["tripped_by"] or "—"),
            num(v["value"]),
            num(v["threshold"]),
            html.escape(", ".join(also) or "—"),
            num(stats["prdc_pca"]["coverage"], digits=3),
            num(stats["prdc_hamming"]["coverage"], digits=3),
            num(stats["prdc_pca"]["precision"], digits=3),
            num(stats["prdc_hamming"]["precision"], digits=3),
        ])  # fmt: skip
    rows.append([
        f"<th>{html.escape(CEILING)}</th>",
        "real training vs real held-out haplotypes (what a perfect generator scores)",
        "", "", "", "", "",
        num(ceiling["prdc_pca"]["coverage"], digits=3),
        num(ceiling["prdc_hamming"]["coverage"], digits=3),
        num(ceiling["prdc_pca"]["precision"], digits=3),
        num(ceiling["prdc_hamming"]["precision"], digits=3),
    ])  # fmt: skip
    return table(
        ["set", "what it is", "verdict", "deciding number", "value", "threshold",
         "also tripped", "coverage (PCA)", "coverage (Hamming)", "precision (PCA)",
         "precision (Hamming)"],
        rows,
    )  # fmt: skip


def numbers_table(modeseek: Mapping[str, Any]) -> str:
    """Every set statistic (rows) for the ceiling and each set (columns); a number that tripped its
    verdict check is marked, with the threshold as its tooltip."""
    n_pcs = int(modeseek["settings"]["n_pcs"])
    sets = modeseek["sets"]
    header = ["number", "ceiling (train vs held-out)", *(SET_SHORT.get(n, n) for n in sets)]
    rows = []
    for label, get, check in _number_rows(n_pcs):
        row = [f"<th>{html.escape(label)}</th>", num(_safe(get, modeseek["ceiling"]))]
        for stats in sets.values():
            value = _safe(get, stats)
            found = next((c for c in stats["verdict"]["checks"] if c["name"] == check), None)
            if found is None:
                row.append(num(value))
            else:
                tip = (
                    f"threshold {found['threshold']:.4g}" if found["threshold"] is not None else ""
                )
                row.append(num(value, "trip" if found["tripped"] else "", tip))
        rows.append(row)
    return table(header, rows)


def _safe(get: _Getter, stats: Mapping[str, Any]) -> Any:
    try:
        return get(stats)
    except (KeyError, IndexError, TypeError):
        return None


def population_table(modeseek: Mapping[str, Any]) -> str:
    """PCA-space coverage of each population's held-out haplotypes per set (empty without
    population labels)."""
    sets = modeseek["sets"]
    by_set = {n: s.get("coverage_by_population") for n, s in sets.items()}
    if not any(by_set.values()):
        return ""
    pops = sorted({p for cov in by_set.values() if cov for p in cov})
    rows = []
    for pop in pops:
        n = next(cov[pop]["n"] for cov in by_set.values() if cov and pop in cov)
        row = [f"<th>{html.escape(pop)}</th>", num(n)]
        row += [num(cov[pop]["coverage"] if cov and pop in cov else None, digits=3)
                for cov in by_set.values()]  # fmt: skip
        rows.append(row)
    return (
        "<h3>Coverage (PCA space) of each population's held-out haplotypes</h3>"
        "<p class='note'>The fraction of a population's held-out haplotypes that have a point of "
        "the set within their k-NN radius: a set on the densest modes leaves whole populations "
        "uncovered. The count-weighted mean over populations is the set's coverage (PCA).</p>"
        + table(["population", "held-out haplotypes", *(SET_SHORT.get(n, n) for n in sets)], rows)
    )


def thresholds_note(modeseek: Mapping[str, Any]) -> str:
    """The note under the verdict table: each verdict's rule with the thresholds in use."""
    t = modeseek["thresholds"]
    s = modeseek["settings"]
    return (
        "<p class='note'>Each set is compared with the "
        f"{s['n_reference']} held-out real haplotypes (PCA fitted on the real training haplotypes "
        f"only; k = {s['k']} nearest neighbours; LD over pairs up to {s['ld_max_offset']} SNPs "
        f"apart). <b>collapsed</b>: the largest variance ratio over PC1–PC{s['n_pcs']}, or the "
        f"site variance ratio, is below {t['collapse_variance_ratio']:g} (evaluation.verdict."
        "collapse_variance_ratio). <b>off-distribution</b>: precision (PCA space, or Hamming space "
        "for 0/1 sets) below "
        f"{t.get('min_precision_fraction', 0.7):g} × the ceiling's (min_precision_fraction): many "
        "points lie where no real haplotype does (over-dispersed or noisy sets, variance ratios "
        "at or above 1). <b>mode-seeking</b>: a per-PC variance ratio below "
        f"{t['min_variance_fraction']:g} × the ceiling's (capped at 1; min_variance_fraction), or "
        f"a coverage (PCA or Hamming space) below {t['min_coverage_fraction']:g} × the ceiling's "
        "(min_coverage_fraction). <b>copies-training-data</b> (generated sets): privacy loss above "
        f"{t.get('max_privacy_loss', 0.1):g} (max_privacy_loss), or exact training copies more "
        f"than {t.get('max_copy_excess', 0.1):g} above the held-out haplotypes' own fraction "
        "(max_copy_excess). The first that applies, in that order; otherwise <b>ok</b>. The "
        "deciding number is the check of that verdict furthest past its threshold. The section's "
        "headline verdict is the worse of the Bernoulli-drawn reconstructions' and the generated "
        "samples' (prior samples are advisory). The Hamming distance from decoder probabilities "
        "is the expected distance of a draw from them, so uncertain probabilities can have a low "
        "Hamming coverage without any mode-seeking in PCA space; "
        f"the ceiling's PCA numbers are {s['ceiling_pca']} (measured in a PCA that did not see the "
        "ceiling sample). Allele-frequency and LD agreement are shown, not judged.</p>"
    )
