#!/usr/bin/env python
"""generator_table.py over several seeds: mean of each column, ± standard deviation of AATS and
privacy loss (each seed refits the code sources, draws and subsamples the panel).

Usage:
    python -m experiments.generator_seeds --run example=runs/<section>/<run> [--run ...]
        --generators aggregate:1.5/temperature:0.5 aggregate:1.5/temperature:0.5/guard
        [--seeds 4] [--json rows.json] [--max-components 32]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from experiments.generator_table import score_run

KEYS = ("cov PCA", "cov Ham", "VR PC1", "VR PC2", "VR PC3", "VR PC4", "LD r", "AATS",
        "privacy loss", "copies", "IW-NLL")  # fmt: skip
SPREAD = ("AATS", "privacy loss")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR (repeatable)")
    parser.add_argument("--generators", nargs="+", required=True)
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0 .. N-1")
    parser.add_argument("--json", type=Path, help="write every seed's rows here")
    parser.add_argument("--max-components", type=int, help="largest mixture (gmm sources)")
    args = parser.parse_args(argv)
    rows: dict[tuple[str, str], list[dict]] = {}
    for item in args.run:
        label, _, path = item.partition("=")
        for seed in range(args.seeds):
            for row in score_run(label, Path(path), args.generators, seed, args.max_components):
                rows.setdefault((label, row["generator"]), []).append(row)
    print("| cohort | generator | " + " | ".join(KEYS) + " |")
    print("|" + " --- |" * (len(KEYS) + 2))
    for (label, name), found in rows.items():
        cells = []
        for key in KEYS:
            v = np.array([r[key] for r in found], dtype=float)
            spread = f" ± {v.std(ddof=1):.3f}" if key in SPREAD and len(v) > 1 else ""
            cells.append(f"{v.mean():.3f}{spread}")
        print(f"| {label} | {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({f"{a}|{b}": r for (a, b), r in rows.items()}, indent=1))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
