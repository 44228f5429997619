#!/usr/bin/env python
"""Budget level × cohort: how many sections `sample` would release under each privacy budget.

Reads each section's stored evaluation (``metrics.json``; the numbers the privacy gate checks,
vae_genomics/commands/privacy_gate.py) and counts, per level, the sections whose default
generator meets the budget, those where only the prior (the other scored generator) does, and the
mean excess of the default generator's privacy loss and distance-attack AUC over the reference.

Usage:
    python -m experiments.budget_table --runs LABEL=RUNS_DIR[:RUN_NAME] [--runs ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from vae_genomics.config.budget import LEVELS, parse_budget
from vae_genomics.evaluation.budget import check_budget


def _metrics(runs_dir: Path, run_name: str) -> list[dict]:
    found = sorted(runs_dir.glob(f"*/{run_name}/metrics.json"))
    return [json.loads(path.read_text()) for path in found]


def rows(label: str, runs_dir: Path, run_name: str) -> list[dict]:
    """One row per level for the runs ``runs_dir/*/run_name``."""
    metrics = _metrics(runs_dir, run_name)
    out = []
    for level in LEVELS:
        budget = parse_budget(level)
        default = prior_only = 0
        for m in metrics:
            realism = m["evaluation"]["realism"]
            sets, ceiling, n_train = realism["sets"], realism["ceiling"], m["n_train"]
            ok = check_budget(sets["generated_samples"], ceiling, budget, n_train)["meets"]
            prior = check_budget(sets["prior_samples"], ceiling, budget, n_train)["meets"]
            default += ok is True
            prior_only += ok is not True and prior is True
        out.append({"cohort": label, "level": level, "sections": len(metrics),
                    "default meets": default, "only the prior meets": prior_only})  # fmt: skip
    loss = [m["evaluation"]["realism"]["sets"]["generated_samples"]["privacy_loss"]
            - m["evaluation"]["realism"]["ceiling"]["privacy_loss"] for m in metrics]  # fmt: skip
    auc = [m["evaluation"]["realism"]["sets"]["generated_samples"].get("distance_attack_auc", np.nan)
           - m["evaluation"]["realism"]["ceiling"].get("distance_attack_auc", np.nan)
           for m in metrics]  # fmt: skip
    for row in out:
        row["default's loss excess (median, max)"] = f"{np.median(loss):.3f}, {np.max(loss):.3f}"
        row["default's AUC excess (median, max)"] = f"{np.nanmedian(auc):.3f}, {np.nanmax(auc):.3f}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", action="append", required=True, help="LABEL=RUNS_DIR[:RUN]")
    args = parser.parse_args(argv)
    table = []
    for item in args.runs:
        label, _, rest = item.partition("=")
        path, _, run_name = rest.partition(":")
        table += rows(label, Path(path), run_name or "latest")
    keys = list(table[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + " --- |" * len(keys))
    for row in table:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
