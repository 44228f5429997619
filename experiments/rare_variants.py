#!/usr/bin/env python
"""The same sections trained at two site filters (e.g. MAF >= 1% and MAC >= 3), side by side.

For every section present under both runs directories, reads each run's ``metrics.json`` and
prints: sites kept, fit seconds and epochs, held-out IW-NLL (nats per haplotype and per site,
with the LD head), the default generator's coverage (PCA, Hamming) and LD r beside the ceiling,
the SFS at 1-10 copies (total-variation distance of the generated set's projected SFS from the
held-out one, and the ceiling's), the privacy loss and distance-attack AUC excess over the real
reference, and the headline verdict.

Usage:
    python -m experiments.rare_variants --a maf1=RUNS_A:RUN --b mac3=RUNS_B:RUN
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KEYS = ("sites", "fit s", "epochs", "IW-NLL", "IW-NLL/site", "cov PCA ×", "cov Ham ×", "LD r",
        "SFS TV", "SFS TV ceiling", "loss excess", "AUC excess", "verdict")  # fmt: skip


def _spec(text: str) -> tuple[str, Path, str]:
    label, _, rest = text.partition("=")
    path, _, run = rest.partition(":")
    return label, Path(path), run or "latest"


def row(metrics: dict) -> dict:
    """The table's numbers of one run (module docstring)."""
    e = metrics["evaluation"]
    ms, realism = e["modeseek"], e["realism"]
    gen, ceil = ms["sets"]["generated_samples"], ms["ceiling"]
    panel, ref = realism["sets"]["generated_samples"], realism["ceiling"]
    sites = metrics["filters"]["kept"]
    nll = e["iw_nll"].get("nll_ld_head") or e["iw_nll"]["nll"]
    return {
        "sites": sites,
        "fit s": round(metrics["train_seconds"]),
        "epochs": metrics["epochs_run"],
        "IW-NLL": f"{nll:.1f}",
        "IW-NLL/site": f"{nll / sites:.4f}",
        "cov PCA ×": f"{gen['prdc_pca']['coverage'] / ceil['prdc_pca']['coverage']:.3f}",
        "cov Ham ×": f"{gen['prdc_hamming']['coverage'] / ceil['prdc_hamming']['coverage']:.3f}",
        "LD r": f"{gen['ld']['pearson_r']:.3f}",
        "SFS TV": f"{panel['sfs']['tv_distance']:.3f}",
        "SFS TV ceiling": f"{ref['sfs']['tv_distance']:.3f}" if "sfs" in ref else "–",
        "loss excess": f"{panel['privacy_loss'] - ref['privacy_loss']:+.3f}",
        "AUC excess": f"{panel['distance_attack_auc'] - ref['distance_attack_auc']:+.3f}",
        "verdict": e["headline"]["verdict"] + "/" + e["verdicts"]["generated_samples"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--a", required=True, help="LABEL=RUNS_DIR:RUN")
    parser.add_argument("--b", required=True, help="LABEL=RUNS_DIR:RUN")
    args = parser.parse_args(argv)
    (la, da, ra), (lb, db, rb) = _spec(args.a), _spec(args.b)
    print("| section | filter | " + " | ".join(KEYS) + " |")
    print("|" + " --- |" * (len(KEYS) + 2))
    for path in sorted(db.glob(f"*/{rb}/metrics.json")):
        section = path.parent.parent.name
        other = da / section / ra / "metrics.json"
        if not other.is_file():
            continue
        for label, file in ((la, other), (lb, path)):
            r = row(json.loads(file.read_text()))
            print(f"| {section} | {label} | " + " | ".join(str(r[k]) for k in KEYS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
