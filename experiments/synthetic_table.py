#!/usr/bin/env python
"""Tables of synthetic sets against their ceilings, per section and rule, or per region page.

Sections: each ``LABEL=GLOB`` names the ``evaluate RUN --synthetic X.vcf.gz --out X.json`` outputs
of one rule (one file per section and seed); rows are the seeds' means per section, then the
means over sections: coverage in PCA and Hamming space and LD r as fractions of the ceiling's,
the privacy-loss and distance-attack AUC excesses over the ceiling's, the LD-decay MAE, and the
sites at 1-10 ALT copies pooled (relative error against the held-out haplotypes; per seed).

Regions: ``--regions`` reads region pages' ``region.json`` (``sample --runs ... --out X``
writes ``X.json``) and prints the drawn set's row against the ceiling's.

Usage:
    python -m experiments.synthetic_table 'before=t_*_old.json' 'after=t_*_new.json'
    python -m experiments.synthetic_table --regions region_s42.json region_s1.json
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import numpy as np

CEILING = "real training (ceiling)"


def section_row(path: Path) -> tuple[str, dict[str, float]]:
    """The numbers of one ``evaluate --synthetic`` output: (section, {column: value})."""
    out = json.loads(path.read_text())
    ms, realism = out["modeseek"], out["realism"]
    fraction = {
        key: ms["set"][a][b] / ms["ceiling"][a][b]
        for key, (a, b) in {
            "cov_pca": ("prdc_pca", "coverage"),
            "cov_ham": ("prdc_hamming", "coverage"),
            "ld_r": ("ld", "pearson_r"),
        }.items()
    }
    s, c = realism["set"], realism["ceiling"]
    return out["section"], fraction | {
        "loss": s["privacy_loss"] - c["privacy_loss"],
        "auc": s["distance_attack_auc"] - c["distance_attack_auc"],
        "mae": s["ld_decay"]["mae"],
        "sfs": s["sfs"]["rare"]["total_relative_error"],
        "ceiling_sfs": c["sfs"]["rare"]["total_relative_error"],
    }


def _line(name: str, label: str, m: dict[str, float], seeds: str = "") -> str:
    return (
        f"| {name} | {label} | {m['cov_pca']:.3f} | {m['cov_ham']:.3f} | {m['ld_r']:.3f} | "
        f"{m['loss']:+.3f} | {m['auc']:+.3f} | {m['mae']:.4f} | {100 * m['sfs']:+.1f}%{seeds} | "
        f"{100 * m['ceiling_sfs']:+.1f}% |"
    )


def section_table(groups: list[str]) -> list[str]:
    """Markdown rows for ``LABEL=GLOB`` groups of evaluate outputs."""
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for group in groups:
        label, _, pattern = group.partition("=")
        paths = sorted(glob.glob(pattern))
        if not label or not paths:
            sys.exit(f"{group!r}: expected LABEL=GLOB matching evaluate outputs")
        for path in paths:
            section, numbers = section_row(Path(path))
            rows.setdefault((section, label), []).append(numbers)
    lines = [
        "| section | rule | coverage PCA × | coverage Hamming × | LD r × | privacy-loss excess "
        "| AUC excess | LD-decay MAE | sites at 1–10 copies, pooled (per seed) | ceiling |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_label: dict[str, list[dict[str, float]]] = {}
    for (section, label), draws in sorted(rows.items()):
        mean = {key: float(np.mean([d[key] for d in draws])) for key in draws[0]}
        by_label.setdefault(label, []).append(mean)
        seeds = " (" + ", ".join(f"{100 * d['sfs']:+.1f}" for d in draws) + ")"
        lines.append(_line(section, label, mean, seeds))
    for label, means in by_label.items():
        overall = {key: float(np.mean([m[key] for m in means])) for key in means[0]}
        lines.append(_line("mean", label, overall))
    return lines


def region_table(pages: list[str]) -> list[str]:
    """Markdown rows for region pages (``region.json``): the drawn set against the ceiling."""
    lines = [
        "| page | coverage PCA × | coverage Hamming × | boundary LD × | over common sites | "
        "privacy-loss excess | LD-decay MAE | sites at 1–10 copies, pooled | ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page in pages:
        out = json.loads(Path(page).read_text())
        summary = out["summary"]
        name = next(key for key in summary if key != CEILING)
        m, c = summary[name], summary[CEILING]
        common = m.get("boundary_ld_r_common_fraction")
        lines.append(
            f"| {page} ({name}) | {m['coverage_pca_fraction']:.3f} | "
            f"{m['coverage_hamming_fraction']:.3f} | {m['boundary_ld_r_fraction']:.3f} | "
            f"{'—' if common is None else f'{common:.3f}'} | "
            f"{m['privacy_loss'] - c['privacy_loss']:+.3f} | {m['ld_decay_mae']:.4f} | "
            f"{100 * out['sfs'][name]['total_relative_error']:+.1f}% | "
            f"{100 * out['sfs'][CEILING]['total_relative_error']:+.1f}% |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="LABEL=GLOB groups, or region.json files")
    parser.add_argument("--regions", action="store_true", help="the inputs are region pages")
    args = parser.parse_args(argv)
    lines = region_table(args.inputs) if args.regions else section_table(args.inputs)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
