#!/usr/bin/env python
"""The privacy loss and distance-attack AUC of a run's default generator at several set sizes.

The panel of the report (`realism_panel` beside `realism_ceiling`, on the run's held-out
haplotypes) computed with sets of n haplotypes instead of the held-out set's size, 3 subset draws
each: how much of a leak a number measured at one size shows at another.

Usage:
    python -m experiments.set_size_privacy RUN_DIR 200,400,1000 [GENERATOR]
"""

from __future__ import annotations

import sys

import numpy as np

from vae_genomics.evaluation.realism import realism_ceiling, realism_panel
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.run.load import load_run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    run = load_run(argv[0])
    sizes = [int(s) for s in argv[1].split(",")]
    name = argv[2] if len(argv) > 2 else DEFAULT_GENERATOR
    x = run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    gen = make_generator(name).fit(run.model, x_train, seed=0)
    synthetic = gen.sample(run.model, max(sizes), seed=1)["samples"]
    print("| n | privacy-loss excess | distance-attack AUC excess |\n| --- | --- | --- |")
    for n in sizes:
        rows = []
        for seed in range(3):
            p = realism_panel(synthetic, x_train, x_val, seed=seed, size=n)
            c = realism_ceiling(x_train, x_val, seed=seed, size=n)
            rows.append((p["privacy_loss"] - c["privacy_loss"],
                         p["distance_attack_auc"] - c["distance_attack_auc"]))  # fmt: skip
        r = np.array(rows)
        print(f"| {n} | {r[:, 0].mean():+.3f} ± {r[:, 0].std():.3f} | "
              f"{r[:, 1].mean():+.3f} ± {r[:, 1].std():.3f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
