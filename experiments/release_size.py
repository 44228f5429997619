#!/usr/bin/env python
"""The distance attack on a release, by its size: what `sample --n N` hands an attacker.

For each finished run: the default generator (as `sample` draws it) draws N haplotypes; every
training haplotype (member) and held-out haplotype (non-member) is scored by minus its distance
to the nearest released one (:mod:`vae_genomics.evaluation.release_attack`), at doubling prefixes
of the release. Printed per section: the report's own check before drawing (`standard`,
`lenient`: the numbers measured on a set as large as the held-out one), the attack's AUC at each
size, and the largest size within each budget's AUC limit (:func:`check_release`, the check
`sample` now makes after drawing).

Usage:
    python -m experiments.release_size --runs LABEL=RUNS_DIR:RUN_NAME [--runs ...] --n 16000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vae_genomics.commands.sample import draw_haplotypes
from vae_genomics.config.budget import parse_budget
from vae_genomics.evaluation.budget import check_budget, check_release
from vae_genomics.evaluation.release_attack import release_attack
from vae_genomics.run.load import load_run

LEVELS = ("standard", "lenient")


def section_row(label: str, run_dir: Path, n: int) -> dict:
    """One section's row: the report's check, the AUC by size, the largest size within."""
    run = load_run(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    realism = metrics["evaluation"]["realism"]
    x = run.data.matrix.haplotypes
    released = draw_haplotypes(run, n, None, seed=1)
    attack = release_attack(released, x[run.train_rows], x[run.val_rows])
    row = {"cohort": label, "section": run.data.section.name, "n_train": len(run.train_rows)}
    for level in LEVELS:
        budget = parse_budget(level)
        pre = check_budget(realism["sets"]["generated_samples"], realism["ceiling"], budget,
                           len(run.train_rows))["meets"]  # fmt: skip
        release = check_release(attack, budget, len(run.train_rows))
        row[f"report meets {level}"] = pre
        row[f"largest N within {level}"] = release["largest_within"]
    row["auc"] = {r["n"]: r["auc"] for r in attack["by_size"]}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", action="append", required=True, help="LABEL=RUNS_DIR:RUN_NAME")
    parser.add_argument("--n", type=int, default=16000)
    args = parser.parse_args(argv)
    rows = []
    for spec in args.runs:
        label, _, rest = spec.partition("=")
        runs_dir, _, name = rest.rpartition(":")
        for run_dir in sorted(Path(runs_dir).glob(f"*/{name}")):
            if (run_dir / "metrics.json").is_file():
                rows.append(section_row(label, run_dir, args.n))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    sizes = sorted({k for r in rows for k in r["auc"]})
    head = ["cohort", "section", "n_train", *(f"report meets {lv}" for lv in LEVELS),
            *(f"AUC at {k}" for k in sizes), *(f"largest N within {lv}" for lv in LEVELS)]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["cohort"], r["section"], r["n_train"],
                 *(r[f"report meets {lv}"] for lv in LEVELS),
                 *(f"{r['auc'][k]:.3f}" if k in r["auc"] else "" for k in sizes),
                 *(r[f"largest N within {lv}"] or "none" for lv in LEVELS)]  # fmt: skip
        print("| " + " | ".join(str(c) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
