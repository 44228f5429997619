#!/usr/bin/env python
"""Per-population table of a region sample: the issue's targets, each beside its reference.

Merges ``<out>.populations.json`` (written by ``sample --runs ... --populations``: coverage,
boundary LD and privacy loss over the region, each beside the population's own ceiling) with
``evaluate RUN --synthetic <out>.vcf.gz --populations <out>.populations.tsv`` of each section
(classifier agreement, allele-frequency correlation and F_ST against the population's held-out
haplotypes, each beside training-vs-held-out), averaged over the sections. A column passes
(``*``) when it meets the target of the ancestry issue.

Usage:
    python -m experiments.population_table --region OUT.populations.json --sections EVAL.json ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def section_numbers(files: list[Path]) -> dict[str, dict[str, float]]:
    """Per population, the sections' mean of each number (synthetic and reference)."""
    out: dict[str, dict[str, list[float]]] = {}
    for path in files:
        groups = json.loads(path.read_text())["populations"]["groups"]
        for name, g in groups.items():
            if "classifier" not in g:
                continue
            row = out.setdefault(name, {})
            for key, (a, b) in {
                "cls": ("classifier", "synthetic"), "cls_ref": ("classifier", "heldout"),
                "af": ("af_correlation", "synthetic"), "af_ref": ("af_correlation", "reference"),
                "fst": ("fst", "synthetic"), "fst_ref": ("fst", "reference"),
            }.items():  # fmt: skip
                row.setdefault(key, []).append(g[a][b])
    return {name: {k: _mean(v) for k, v in row.items()} for name, row in out.items()}


def missed(checks: dict[str, bool]) -> str:
    """``; missed: a, b`` for the targets not met, or nothing."""
    names = [k for k, ok in checks.items() if not ok]
    return f"; missed: {', '.join(names)}" if names else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", type=Path, required=True)
    parser.add_argument("--sections", type=Path, nargs="+", required=True)
    args = parser.parse_args(argv)
    region = json.loads(args.region.read_text())
    sections = section_numbers(args.sections)
    cols = ("population", "train haps", "classifier (held-out)", "AF r ÷ ceiling",
            "F_ST syn (train)", "cov PCA ×", "cov Ham ×", "boundary LD ×",
            "privacy loss (ceiling)", "targets met")  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + " --- |" * len(cols))
    passes = []
    for name, r in region.items():
        if "synthetic" not in r:
            continue
        syn, ceil, s = r["synthetic"], r["ceiling"], sections.get(name, {})
        checks = {
            "classifier": s.get("cls", np.nan) >= s.get("cls_ref", np.nan) - 0.02,
            "AF": s.get("af", np.nan) >= 0.98 * s.get("af_ref", np.nan),
            "F_ST": s.get("fst", np.nan) <= 1.5 * max(s.get("fst_ref", np.nan), 0.0) + 1e-3,
            "coverage": min(syn["coverage_pca_fraction"], syn["coverage_hamming_fraction"]) >= 0.95,
            "boundary LD": syn["boundary_ld_r_fraction"] >= 0.9,
            "privacy": syn["privacy_loss"] <= ceil["privacy_loss"] + 0.02,
        }
        met = [k for k, ok in checks.items() if ok]
        passes.append(len(met))
        print(
            f"| {name} | {r['n_train']} | {s.get('cls', np.nan):.2f} ({s.get('cls_ref', np.nan):.2f})"
            f" | {s.get('af', np.nan) / s.get('af_ref', np.nan):.3f}"
            f" | {s.get('fst', np.nan):.4f} ({s.get('fst_ref', np.nan):.4f})"
            f" | {syn['coverage_pca_fraction']:.3f} | {syn['coverage_hamming_fraction']:.3f}"
            f" | {syn['boundary_ld_r_fraction']:.3f}"
            f" | {syn['privacy_loss']:.3f} ({ceil['privacy_loss']:.3f})"
            f" | {len(met)}/6{missed(checks)} |"
        )
    print(f"\n{sum(p == 6 for p in passes)} of {len(passes)} populations meet all six targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
