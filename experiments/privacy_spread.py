#!/usr/bin/env python
"""How much the privacy loss of a run's default generator moves from one draw to the next.

For each seed the generator is refitted and draws a set as large as the held-out one; the set is
scored with one subset draw (``privacy_repeats=1``) and with the panel's default number of draws.
Prints the mean and standard deviation over seeds of both, and the ceiling's; then the same for the
first seed's set alone, scored with each seed's subsampling (the panel's own noise; its single draws
over five times as many seeds, so that their spread is well estimated).

Usage:
    python -m experiments.privacy_spread runs/<section>/<run> [--seeds 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vae_genomics.evaluation.realism import PRIVACY_REPEATS, realism_ceiling, realism_panel
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.models.inference import encode
from vae_genomics.run.load import load_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a finished run directory")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 0 .. N-1")
    args = parser.parse_args(argv)
    run = load_run(args.run)
    x = run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    mean, log_var = encode(run.model, x_train)
    rows: dict[str, list[float]] = {}
    first = None
    for seed in range(args.seeds):
        gen = make_generator(DEFAULT_GENERATOR, run.config.evaluation.gmm_max_components)
        gen.fit_posteriors(run.model, x_train, mean, log_var, seed)
        samples = gen.sample(run.model, len(x_val), seed=seed)["samples"]
        first = samples if first is None else first
        for repeats in (1, PRIVACY_REPEATS):
            panel = realism_panel(samples, x_train, x_val, seed=seed, privacy_repeats=repeats)
            rows.setdefault(f"{DEFAULT_GENERATOR}, {repeats} draw(s)", []).append(
                panel["privacy_loss"]
            )
            ceiling = realism_ceiling(x_train, x_val, seed=seed, privacy_repeats=repeats)
            rows.setdefault(f"ceiling, {repeats} draw(s)", []).append(ceiling["privacy_loss"])
            panel_seeds = range(seed * PRIVACY_REPEATS, (seed + 1) * PRIVACY_REPEATS)
            for panel_seed in panel_seeds if repeats == 1 else [seed]:
                one = realism_panel(first, x_train, x_val, seed=panel_seed, privacy_repeats=repeats)
                rows.setdefault(f"seed 0's set, {repeats} draw(s)", []).append(one["privacy_loss"])
    print(f"{args.run}: privacy loss over {args.seeds} seeds")
    for name, values in rows.items():
        v = np.array(values)
        print(
            f"  {name:45s} n {len(v):3d}  mean {v.mean():+.4f}  sd {v.std(ddof=1):.4f}  "
            f"range {v.min():+.3f}..{v.max():+.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
