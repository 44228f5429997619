"""The region's self-contained HTML page: numbers per joint model beside the ceiling, LD across
section boundaries by distance (figure embedded as a data URI), per boundary, and provenance."""

from __future__ import annotations

import html
import itertools
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vae_genomics.common.io import atomic_write_text
from vae_genomics.evaluation.boundary_ld import CEILING
from vae_genomics.report.html import esc, figures_html, key_value_table, num, page, table
from vae_genomics.report.track import boundary_track

#: Targets of a region (fractions of the real-vs-real ceiling, and privacy loss).
TARGETS = {"boundary_ld_r": 0.9, "coverage_pca": 0.95, "coverage_hamming": 0.95}
MAX_PRIVACY_LOSS = 0.02


def _r2_by_distance(
    centres: list[float], curves: list[tuple[str, list, str]], ylabel: str, title: str, path: Path
) -> Path:
    """Mean r² by distance (kb, log scale): real held-out first (black), then ``(label, values,
    line style)`` per set; saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vae_genomics.report.figures import save_figure

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    (label, values, _), *rest = curves
    ax.plot(centres, values, "k-o", lw=2, label=label)
    for label, values, style in rest:
        ax.plot(centres, values, style, marker=".", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("distance between the sites of a pair (kb, bin centre)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.set_title(title)
    save_figure(fig, path)
    return path


def _ld_figure(metrics: Mapping[str, Any], path: Path) -> Path:
    """LD across section boundaries by distance: held-out, the ceiling and each set."""
    ld = metrics["boundary_ld"]
    centres = [(a + b) / 2 / 1000 for a, b in itertools.pairwise(ld["bins"])]
    curves = [("real held-out", ld["reference"]["mean_r2_by_bin"], "")]
    curves += [(name, stats["mean_r2_by_bin"], "--" if name == CEILING else "-")
               for name, stats in ld["sets"].items()]  # fmt: skip
    return _r2_by_distance(centres, curves, "mean r² of pairs across a section boundary",
                           "LD across section boundaries", path)  # fmt: skip


def _decay_figure(metrics: Mapping[str, Any], path: Path) -> Path | None:
    """LD decay over the whole region: mean r² of site pairs by distance (every pair, not only
    those across a boundary), real held-out, the ceiling and each set (the realism panel's bins)."""
    realism = metrics.get("realism")
    if not realism or "ld_decay" not in realism.get("ceiling", {}):
        return None  # a page written before the region's realism panel
    ceiling = realism["ceiling"]["ld_decay"]
    centres = [max((a + b) / 2, 1.0) / 1000 for a, b in itertools.pairwise(ceiling["edges"])]
    curves = [("real held-out", ceiling["heldout"], ""), (CEILING, ceiling["set"], "--")]
    curves += [(name, panel["ld_decay"]["set"], "-") for name, panel in realism["sets"].items()]
    return _r2_by_distance(centres, curves, "mean r² of site pairs", "LD decay over the region",
                           path)  # fmt: skip


def _summary_table(metrics: Mapping[str, Any]) -> str:
    summary = metrics["summary"]
    header = ["set", "boundary LD r", "÷ ceiling", "mean boundary r²", "coverage PCA",
              "÷ ceiling", "coverage Hamming", "÷ ceiling", "AATS", "privacy loss",
              "± SD (subset draws)", "exact training copies", "LD decay MAE",
              f"boundaries ≥ {TARGETS['boundary_ld_r']} × ceiling (ceiling's row: a second real sample)",
              "SFS 1–10: largest |rel. error|"]  # fmt: skip
    common = any("boundary_ld_r_common" in row for row in summary.values())  # rare sites kept
    if common:
        header[3:3] = ["boundary LD r, sites with MAF ≥ 1%", "÷ ceiling"]
    rows = []
    for name, row in summary.items():
        cells = [f"<th>{html.escape(name)}</th>"]
        for key in ("boundary_ld_r", "coverage_pca", "coverage_hamming"):
            frac = row.get(f"{key}_fraction")
            short = frac is not None and name != CEILING and frac < TARGETS[key]
            cells.append(num(row[key]))
            if key == "boundary_ld_r":
                cells.append(num(frac, "trip" if short else ""))
                if common:
                    cells.append(num(row.get("boundary_ld_r_common")))
                    cells.append(num(row.get("boundary_ld_r_common_fraction")))
                cells.append(num(row["mean_boundary_r2"]))
            else:
                cells.append(num(frac, "trip" if short else ""))
        loss = row.get("privacy_loss")
        cells += [
            num(row.get("aats")),
            num(loss, "trip" if loss is not None and loss > MAX_PRIVACY_LOSS else ""),
            num(row.get("privacy_loss_sd")),
            num(row.get("exact_copy_fraction")),
            num(row.get("ld_decay_mae")),
            num(row.get("boundaries_at_target")),
            num(row.get("sfs_max_relative_error")),
        ]
        rows.append(cells)
    return table(header, rows)


def _boundary_table(metrics: Mapping[str, Any]) -> str:
    ld = metrics["boundary_ld"]
    bounds = metrics["region"]["boundaries"]
    names = list(ld["sets"])
    joint = metrics["sampling"]["joint"]
    track = metrics.get("boundary_track", {})
    ratio = track.get("sets", {}).get(joint, {}).get("ratio")
    second = (track.get("reference") or {}).get("ratio")
    target = track.get("target", TARGETS["boundary_ld_r"])
    rows = []
    for i, b in enumerate(bounds):
        cells = [f"<th id='b-{i}'>{b:,}</th>"]
        cells += [num(ld["sets"][n]["boundary_ld_r_by_boundary"][i]) for n in names]
        if ratio is not None:
            short = ratio[i] is not None and ratio[i] < target
            cells.append(num(ratio[i], "trip" if short else ""))
        if second is not None:
            cells.append(num(second[i]))
        rows.append(cells)
    extra = [f"{joint} ÷ ceiling"] if ratio is not None else []
    extra += ["second real sample ÷ ceiling"] if second is not None else []
    return table(["boundary (first site after it)", *names, *extra], rows)


def _along_region(metrics: Mapping[str, Any], section_track: str) -> str:
    """The region along its bp span: the sections' verdicts (when given), the boundary LD ratio at
    every boundary, and the worst boundaries with links to their rows."""
    region, joint = metrics["region"], metrics["sampling"]["joint"]
    track = metrics.get("boundary_track")
    if not track or joint not in track["sets"]:
        return section_track
    mine, target = track["sets"][joint], track["target"]
    ceiling = metrics["boundary_ld"]["sets"][CEILING]["boundary_ld_r_by_boundary"]
    bounds = region["boundaries"]
    svg = boundary_track(bounds, mine["ratio"], ceiling, region["start"], region["end"], target)
    defined = sum(r is not None for r in mine["ratio"])
    share = mine["at_target"]
    line = (
        f"<p>{esc(joint)}: {round((share or 0) * defined)} of {defined} boundaries "
        f"({(share or 0):.0%}) keep ≥ {target:g} × the ceiling's boundary LD r.{_noise(track)}</p>"
        if defined
        else "<p>No boundary has pairs defined in both sets.</p>"
    )
    sections = region["sections"]
    worst = "".join(
        f"<li><a href='#b-{i}'>{bounds[i]:,} bp</a> ({esc(sections[i])} | "
        f"{esc(sections[i + 1])}): {mine['ratio'][i]:.3f} × the ceiling's</li>"
        for i in mine["worst"]
        if mine["ratio"][i] is not None and mine["ratio"][i] < target
    )
    return (
        section_track + svg + line
        + (f"<p>Worst boundaries (below {target:g}):</p><ul>{worst}</ul>" if worst else "")
    )  # fmt: skip


def _noise(track: Mapping[str, Any]) -> str:
    """The same share for a second sample of real training haplotypes (a perfect generator)."""
    ref = track.get("reference")
    if not ref or ref.get("at_target") is None:
        return ""
    return (
        f" A second sample of real training haplotypes, as large, keeps it at "
        f"{ref['at_target']:.0%} of the boundaries: both r are estimates, and that share is what "
        "a perfect generator reaches on this cohort."
    )


def _sfs_table(metrics: Mapping[str, Any]) -> str:
    """Expected sites per ALT count (1..10) at the common size, real and each set."""
    sfs = metrics.get("sfs")
    if not sfs:
        return ""
    first = next(iter(sfs.values()))
    rows = [["<th>real held-out</th>", *(num(v, digits=5) for v in first["real"]), "—", "—"]]
    for name, row in sfs.items():
        cells = [num(v, digits=5) for v in row["synthetic"]]
        pooled = num(row.get("total_relative_error"))  # absent from pages drawn before it
        rows.append([f"<th>{esc(name)}</th>", *cells, num(row["max_abs_relative_error"]), pooled])
    header = ["expected sites with k ALT copies", *(str(k) for k in first["copies"]),
              "largest |relative error|", "relative error, bins pooled"]  # fmt: skip
    return (
        "<h2>Rare variants: site frequency spectrum</h2><p class='note'>Sites by ALT copies among "
        f"{first['sample_size']:,} haplotypes (each set projected to the smaller size, "
        "hypergeometric, as in dadi/moments).</p>" + table(header, rows)
    )


def _bin_table(metrics: Mapping[str, Any]) -> str:
    ld = metrics["boundary_ld"]
    edges = ld["bins"]
    labels = [f"{a / 1000:g}–{b / 1000:g} kb" for a, b in itertools.pairwise(edges)]
    rows = [["<th>real held-out</th>", *(num(v) for v in ld["reference"]["mean_r2_by_bin"])]]
    rows += [
        [f"<th>{html.escape(n)}</th>", *(num(v) for v in s["mean_r2_by_bin"])]
        for n, s in ld["sets"].items()
    ]
    return table(["mean r² across boundaries", *labels], rows)


def _pca_note(metrics: Mapping[str, Any]) -> str:
    """Which sites the region's PCA used (coverage in PCA space), when the panel recorded it."""
    used = metrics["panel"].get("settings", {}).get("pca_sites")
    if used is None:
        return ""
    return (
        f" Coverage in PCA space: a PCA of {used:,} of the region's polymorphic sites, evenly "
        "spaced (thinned when there are more); Hamming space: every site."
    )


def write_region_page(
    path: str | Path,
    metrics: Mapping[str, Any],
    index_link: str | None = None,
    overwrite: bool = True,
    section_track: str = "",
) -> Path:
    """Write the region page (one self-contained HTML file) and return its path.

    Args:
        path: Output ``index.html``.
        metrics: From :func:`vae_genomics.evaluation.region.evaluate_region`, plus ``region`` and
            ``sampling`` (:func:`vae_genomics.commands.sample_region.run_region`).
        index_link: Relative link to the runs index (none when None).
        overwrite: Replace an existing page (else the final rename is exclusive).
        section_track: SVG of the sections' verdicts along the region
            (:func:`vae_genomics.report.track.chromosome_track`), or empty.
    """
    path = Path(path)
    region, sampling = metrics["region"], metrics["sampling"]
    with tempfile.TemporaryDirectory() as tmp:
        figure = figures_html(
            [
                (
                    _ld_figure(metrics, Path(tmp) / "ld.png"),
                    "Mean r² of site pairs that straddle a section boundary, by distance, in the "
                    "real held-out haplotypes (black), a same-size sample of real training "
                    "haplotypes (the ceiling, dashed) and each joint model's samples.",
                )
            ]
        )
        decay = _decay_figure(metrics, Path(tmp) / "decay.png")
        decay_html = (
            figures_html([(decay, "Mean r² of site pairs by distance over the whole region (the "
                           "realism panel's LD decay; its error is the table's LD-decay column): "
                           "real held-out (black), the ceiling (dashed) and each joint model.")])
            if decay else ""
        )  # fmt: skip
    back = f"<p><a href='{esc(index_link)}'>← runs index</a></p>" if index_link else ""
    body = (
        back + "<p class='note'>"
        f"{len(region['sections'])} sections, {region['n_sites']:,} sites, "
        f"{region['n_train']:,} training / {region['n_validation']:,} held-out haplotypes (the same "
        f"in every section). The VCF <code>{esc(sampling['vcf'])}</code> holds {sampling['n']:,} "
        f"haplotypes from the <b>{esc(sampling['joint'])}</b> model (seed {sampling['seed']}). "
        f"Every set below is compared with {metrics['n_reference']:,} held-out haplotypes, at "
        "that size. Boundary LD r: Pearson r between the set's and the held-out r² over site pairs "
        f"across a boundary within {metrics['boundary_ld']['max_distance'] / 1000:g} kb "
        f"({metrics['boundary_ld']['n_pairs']:,} pairs). Targets: boundary LD r ≥ "
        f"{TARGETS['boundary_ld_r']} × ceiling, coverage ≥ {TARGETS['coverage_pca']} × ceiling, "
        f"privacy loss ≤ {MAX_PRIVACY_LOSS} (shortfalls shaded). AATS, privacy loss (AATS against "
        "held-out minus against training, Yale et al. 2020), exact copies of a training haplotype "
        "and the LD-decay error are those of the realism panel, every set at one size."
        + _pca_note(metrics) + "</p>"
        "<h2>Region panel</h2>" + _summary_table(metrics) + decay_html
        + "<h2>Along the region</h2>" + _along_region(metrics, section_track)
        + "<h2>LD across section boundaries</h2>"
        + figure + _bin_table(metrics) + "<h3>Boundary LD r per boundary</h3>"
        + _boundary_table(metrics) + _sfs_table(metrics) + "<h2>Sections</h2>"
        + table(["section", "run"], [[esc(s), esc(r)] for s, r in
                                     zip(region["sections"], region["section_runs"], strict=True)])
        + "<h2>Sampling</h2>"
        + key_value_table({
            "codes fitted on": sampling["source"],
            "largest number of components": sampling.get("max_components"),
            "mixture components (mosaic: neighbours)": sampling["components"],
            "mosaic neighbours per switch": sampling.get("neighbours"),
            "fit seconds": sampling["fit_seconds"],
        })
    )  # fmt: skip
    title = f"region {region['contig']}:{region['start']:,}-{region['end']:,}"
    atomic_write_text(path, page(title, body), overwrite)
    return path
