#!/usr/bin/env python
"""Dropout × seed per section: what dropout does to the fit, the realism and the leak.

Reads runs named ``d<DROPOUT>_s<SEED>`` (trained with ``--set model.dropout=D --set seed=S``)
under ``RUNS_DIR/<section>/`` and prints, per section and dropout, the mean ± SD over seeds of:
the held-out −ELBO and IW-NLL with the LD head (nats per haplotype), the likelihood attack's AUC
(training members against held-out non-members, and its reference), the default generator's
coverage in PCA and Hamming space and LD r ÷ the real-vs-real ceiling, its privacy loss and
distance-attack AUC in excess of the real reference, and how many seeds meet the ``standard``
and ``lenient`` budgets (:func:`vae_genomics.evaluation.budget.check_budget`, the check
``sample`` makes).

Usage:
    python -m experiments.dropout_table --runs LABEL=RUNS_DIR [--runs ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from vae_genomics.config.budget import parse_budget
from vae_genomics.evaluation.budget import check_budget

RUN_NAME = re.compile(r"^d(?P<dropout>[0-9.]+)_s(?P<seed>\d+)$")
GENERATED = "generated_samples"


def run_numbers(metrics: dict) -> dict[str, float]:
    """One run's numbers (the columns of the table) from its ``metrics.json``."""
    e = metrics["evaluation"]
    ms, panel = e["modeseek"], e["realism"]
    gen, ceiling = ms["sets"][GENERATED], ms["ceiling"]
    sets, ref = panel["sets"], panel["ceiling"]
    out = {
        "-ELBO": metrics["heldout"]["neg_elbo"],
        "IW-NLL head": e["iw_nll"].get("nll_ld_head", np.nan),
        "LA AUC": e["likelihood_attack"]["auc"],
        "LA ref": e["likelihood_attack"]["reference_auc"],
        "cov PCA x": gen["prdc_pca"]["coverage"] / ceiling["prdc_pca"]["coverage"],
        "cov Ham x": gen["prdc_hamming"]["coverage"] / ceiling["prdc_hamming"]["coverage"],
        "LD r x": gen["ld"]["pearson_r"] / ceiling["ld"]["pearson_r"],
        "loss excess": sets[GENERATED]["privacy_loss"] - ref["privacy_loss"],
        "AUC excess": sets[GENERATED]["distance_attack_auc"] - ref["distance_attack_auc"],
    }
    for level in ("standard", "lenient"):
        check = check_budget(sets[GENERATED], ref, parse_budget(level), metrics["n_train"])
        out[level] = float(check["meets"] is True)
    return out


def table(label: str, runs_dir: Path) -> list[dict]:
    """Rows (section, dropout) with mean ± SD over the seeds found."""
    found: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for path in sorted(runs_dir.glob("*/*/metrics.json")):
        match = RUN_NAME.match(path.parent.name)
        if match:
            key = (path.parent.parent.name, float(match["dropout"]))
            found[key].append(run_numbers(json.loads(path.read_text())))
    rows = []
    for (section, dropout), runs in sorted(found.items()):
        row = {"cohort": label, "section": section, "dropout": dropout, "seeds": len(runs)}
        for column in runs[0]:
            values = np.array([r[column] for r in runs])
            if column in ("standard", "lenient"):
                row[f"meets {column}"] = f"{int(values.sum())}/{len(values)}"
            elif len(values) > 1:
                row[column] = f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"
            else:
                row[column] = f"{values.mean():.3f}"
        rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", action="append", required=True, help="LABEL=RUNS_DIR")
    args = parser.parse_args(argv)
    rows = []
    for spec in args.runs:
        label, _, runs_dir = spec.partition("=")
        rows += table(label, Path(runs_dir))
    if not rows:
        print("no runs named d<DROPOUT>_s<SEED> found", file=sys.stderr)
        return 1
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
